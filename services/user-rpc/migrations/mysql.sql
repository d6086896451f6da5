CREATE TABLE IF NOT EXISTS users (
    id         BIGINT       NOT NULL PRIMARY KEY,
    name       VARCHAR(64)  NOT NULL,
    status     VARCHAR(16)  NOT NULL,
    created_at BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
-- Seed: user 1 active (the README's example), user 3 inactive.
INSERT IGNORE INTO users (id, name, status, created_at) VALUES
    (1, 'alice', 'active',   1700000000),
    (2, 'bob',   'active',   1700000000),
    (3, 'carol', 'inactive', 1700000000);
