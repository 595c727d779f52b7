-- nexsuj site schema, PostgreSQL dialect, step 2 (keep in step with ../sqlite/0002_catalogue_search.sql):
-- indexed search, maintained catalogue counts, and cheaper accounting flushes.

-- Search: the searched text (and the category, so that a filtered search and its count stay
-- in this table) in a table of its own, so that the flush's counts updates of torrents (which
-- cannot be HOT: seeders is indexed) never rewrite its trigram index.
CREATE TABLE torrent_search (
    torrent_id  BIGINT  PRIMARY KEY REFERENCES torrents(id) ON DELETE CASCADE,
    category    TEXT    NOT NULL,
    search      TEXT    NOT NULL
);
INSERT INTO torrent_search (torrent_id, category, search) SELECT id, category, search FROM torrents;

-- A trigram index (pg_trgm, trusted since PostgreSQL 13: a database owner may create it)
-- serves LIKE '%word%' for words of three characters or more. The extension goes into
-- public unless it is there already (in whatever schema), so that every site sharing the
-- database finds it. Without it the site still works, by scanning torrent_search.
DO $$
DECLARE
    ext_schema TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION pg_trgm WITH SCHEMA public;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'pg_trgm could not be installed (%): searches will scan torrent_search', SQLERRM;
            RETURN;
        END;
    END IF;
    SELECT n.nspname INTO ext_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX torrent_search_trgm ON torrent_search USING gin (search %I.gin_trgm_ops)', ext_schema);
END
$$;

-- Torrents per category, so that browsing never counts the whole catalogue.
CREATE TABLE torrent_counts (
    category  TEXT    PRIMARY KEY,
    n         BIGINT  NOT NULL
);
INSERT INTO torrent_counts (category, n) SELECT category, COUNT(*) FROM torrents GROUP BY category;

-- Inserts and deletes are handled per statement (a bulk load updates each count once);
-- an update of search or category, per row (statement triggers cannot name columns, and
-- would see every flush).
CREATE FUNCTION torrents_catalogue_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO torrent_search (torrent_id, category, search) SELECT id, category, search FROM new_rows;
    INSERT INTO torrent_counts (category, n) SELECT category, COUNT(*) FROM new_rows GROUP BY category
        ON CONFLICT (category) DO UPDATE SET n = torrent_counts.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER torrents_catalogue_insert AFTER INSERT ON torrents
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION torrents_catalogue_insert();

CREATE FUNCTION torrents_catalogue_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE torrent_counts c SET n = c.n - d.n
        FROM (SELECT category, COUNT(*) AS n FROM old_rows GROUP BY category) d
        WHERE c.category = d.category;
    RETURN NULL;
END
$$;
CREATE TRIGGER torrents_catalogue_delete AFTER DELETE ON torrents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION torrents_catalogue_delete();

CREATE FUNCTION torrents_catalogue_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE torrent_search SET category = NEW.category, search = NEW.search WHERE torrent_id = NEW.id;
    IF NEW.category IS DISTINCT FROM OLD.category THEN
        UPDATE torrent_counts SET n = n - 1 WHERE category = OLD.category;
        INSERT INTO torrent_counts (category, n) VALUES (NEW.category, 1)
            ON CONFLICT (category) DO UPDATE SET n = torrent_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER torrents_catalogue_update AFTER UPDATE OF search, category ON torrents
    FOR EACH ROW EXECUTE FUNCTION torrents_catalogue_update();

-- user_torrents, rewritten by every flush: room on each page for HOT updates (no index
-- entries written when no indexed column changes), and the torrent index without the peer
-- state, so that a change of state is HOT too.
ALTER TABLE user_torrents SET (fillfactor = 80);
DROP INDEX user_torrents_torrent;
CREATE INDEX user_torrents_torrent ON user_torrents(torrent_id);
