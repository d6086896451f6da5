CREATE TABLE IF NOT EXISTS products (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    price_cents INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
-- Money is integer cents: exact, no float drift.
CREATE TABLE IF NOT EXISTS orders (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL,
    product_id   INTEGER NOT NULL REFERENCES products (id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    status       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_user ON orders (user_id);
-- Seed: product 1 exists (the README's example).
INSERT OR IGNORE INTO products (id, name, price_cents, created_at) VALUES
    (1, 'keyboard', 9999,  1700000000),
    (2, 'mouse',    2999,  1700000000),
    (3, 'monitor',  19900, 1700000000);
