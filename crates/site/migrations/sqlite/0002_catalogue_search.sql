-- nexsuj site schema, SQLite dialect, step 2 (keep in step with ../postgres/0002_catalogue_search.sql):
-- indexed search, maintained catalogue counts, and cheaper accounting flushes.

-- Search: an FTS5 index over torrents.search with the trigram tokenizer, so that a word
-- matches anywhere inside the text (as the LIKE scan it replaces did), found through the index
-- for words of three characters or more. External content: the text stays in torrents only.
-- Triggers keep it in step with every write, whoever makes it.
CREATE VIRTUAL TABLE torrents_fts USING fts5(search, content = 'torrents', content_rowid = 'id', tokenize = 'trigram');
INSERT INTO torrents_fts (torrents_fts) VALUES ('rebuild');

CREATE TRIGGER torrents_fts_insert AFTER INSERT ON torrents BEGIN
    INSERT INTO torrents_fts (rowid, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER torrents_fts_delete AFTER DELETE ON torrents BEGIN
    INSERT INTO torrents_fts (torrents_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;
CREATE TRIGGER torrents_fts_update AFTER UPDATE OF search ON torrents BEGIN
    INSERT INTO torrents_fts (torrents_fts, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO torrents_fts (rowid, search) VALUES (new.id, new.search);
END;

-- Torrents per category, so that browsing never counts the whole catalogue.
CREATE TABLE torrent_counts (
    category  TEXT    PRIMARY KEY,
    n         BIGINT  NOT NULL
);
INSERT INTO torrent_counts (category, n) SELECT category, COUNT(*) FROM torrents GROUP BY category;

CREATE TRIGGER torrent_counts_insert AFTER INSERT ON torrents BEGIN
    INSERT INTO torrent_counts (category, n) VALUES (new.category, 1)
        ON CONFLICT (category) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER torrent_counts_delete AFTER DELETE ON torrents BEGIN
    UPDATE torrent_counts SET n = n - 1 WHERE category = old.category;
END;
CREATE TRIGGER torrent_counts_update AFTER UPDATE OF category ON torrents BEGIN
    UPDATE torrent_counts SET n = n - 1 WHERE category = old.category;
    INSERT INTO torrent_counts (category, n) VALUES (new.category, 1)
        ON CONFLICT (category) DO UPDATE SET n = n + 1;
END;

-- user_torrents, rewritten by every flush: clustered on its key (one B-tree to search and
-- write per row, not a table and a key index), and indexed by torrent without the peer state,
-- so that an upsert changing the state leaves that index alone.
CREATE TABLE user_torrents_new (
    user_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    torrent_id     BIGINT NOT NULL REFERENCES torrents(id) ON DELETE CASCADE,
    uploaded       BIGINT NOT NULL DEFAULT 0,
    downloaded     BIGINT NOT NULL DEFAULT 0,
    real_uploaded  BIGINT NOT NULL DEFAULT 0,
    real_downloaded BIGINT NOT NULL DEFAULT 0,
    snatches       BIGINT NOT NULL DEFAULT 0,
    snatched_at    BIGINT,
    left_bytes     BIGINT NOT NULL DEFAULT 0,
    state          BIGINT NOT NULL DEFAULT 0,
    last_seen      BIGINT NOT NULL,
    PRIMARY KEY (user_id, torrent_id)
) WITHOUT ROWID;
INSERT INTO user_torrents_new (user_id, torrent_id, uploaded, downloaded, real_uploaded, real_downloaded,
        snatches, snatched_at, left_bytes, state, last_seen)
    SELECT user_id, torrent_id, uploaded, downloaded, real_uploaded, real_downloaded,
        snatches, snatched_at, left_bytes, state, last_seen
    FROM user_torrents;
DROP TABLE user_torrents;
ALTER TABLE user_torrents_new RENAME TO user_torrents;
CREATE INDEX user_torrents_torrent ON user_torrents(torrent_id);
