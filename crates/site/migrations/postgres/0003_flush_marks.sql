-- Every accounting flush inserts its mark in its own transaction, so that a flush whose COMMIT
-- got no reply (the connection dropped) can ask whether it committed: its batch is then
-- neither lost nor counted twice. Marks older than a day are deleted by later flushes.
CREATE TABLE flush_marks (
    id  BIGINT  PRIMARY KEY,
    at  BIGINT  NOT NULL
);
