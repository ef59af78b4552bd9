-- Indexes a bulk import dropped to load an empty comments table quickly,
-- with the statement that recreates each: the import rebuilds them when it
-- ends, and opening the database rebuilds any left behind by an import
-- that crashed, so a database is never left without them for long.
CREATE TABLE deferred_indexes (
    name       TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    definition TEXT NOT NULL
);
