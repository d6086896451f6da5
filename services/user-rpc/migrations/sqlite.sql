CREATE TABLE IF NOT EXISTS users (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at INTEGER NOT NULL
);
-- Seed: user 1 active (the README's example), user 3 inactive.
INSERT OR IGNORE INTO users (id, name, status, created_at) VALUES
    (1, 'alice', 'active',   1700000000),
    (2, 'bob',   'active',   1700000000),
    (3, 'carol', 'inactive', 1700000000);
