-- nexsuj site schema, SQLite dialect (keep in step with ../postgres/0001_init.sql).
-- Every integer is 64-bit; flags are 0/1 integers so both databases read them the same way.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    nick        TEXT    NOT NULL,
    nick_key    TEXT    NOT NULL UNIQUE,
    email       TEXT    NOT NULL UNIQUE,
    pwd_hash    TEXT    NOT NULL,
    sex         BIGINT  NOT NULL DEFAULT 0,
    passkey     TEXT    NOT NULL UNIQUE,
    is_admin    BIGINT  NOT NULL DEFAULT 0,
    disabled    BIGINT  NOT NULL DEFAULT 0,
    uploaded    BIGINT  NOT NULL DEFAULT 0,
    downloaded  BIGINT  NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE signup_codes (
    email       TEXT    PRIMARY KEY,
    code        TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL,
    tries       BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE torrents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    info_hash     TEXT    NOT NULL UNIQUE,
    info          BLOB    NOT NULL,
    name          TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    labels        TEXT    NOT NULL,
    description   TEXT    NOT NULL,
    search        TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    file_count    BIGINT  NOT NULL,
    files         TEXT    NOT NULL,
    uploader_id   BIGINT  NOT NULL REFERENCES users(id),
    created_at    BIGINT  NOT NULL,
    freeleech     BIGINT  NOT NULL DEFAULT 0,
    double_upload BIGINT  NOT NULL DEFAULT 0,
    seeders       BIGINT  NOT NULL DEFAULT 0,
    leechers      BIGINT  NOT NULL DEFAULT 0,
    completed     BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX torrents_created ON torrents(created_at);
CREATE INDEX torrents_size ON torrents(size);
CREATE INDEX torrents_seeders ON torrents(seeders);
CREATE INDEX torrents_category ON torrents(category);

CREATE TABLE user_torrents (
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
);
CREATE INDEX user_torrents_torrent ON user_torrents(torrent_id, state);

CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
