-- What processes other than the server (the command line: reader forget,
-- site add, imports) changed, for the server to drop from its caches. The
-- server reads new rows when PRAGMA data_version moves and deletes them.
-- PostgreSQL needs no table: there, changes go by NOTIFY.
CREATE TABLE cache_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
