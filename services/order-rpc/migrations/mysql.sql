CREATE TABLE IF NOT EXISTS products (
    id          BIGINT      NOT NULL PRIMARY KEY,
    name        VARCHAR(64) NOT NULL,
    price_cents BIGINT      NOT NULL,
    created_at  BIGINT      NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
-- Money is integer cents: exact, no float drift.
CREATE TABLE IF NOT EXISTS orders (
    id           BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id      BIGINT      NOT NULL,
    product_id   BIGINT      NOT NULL,
    amount_cents BIGINT      NOT NULL,
    status       VARCHAR(16) NOT NULL,
    created_at   BIGINT      NOT NULL,
    KEY orders_user (user_id),
    CONSTRAINT orders_amount CHECK (amount_cents > 0),
    CONSTRAINT orders_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
-- Seed: product 1 exists (the README's example).
INSERT IGNORE INTO products (id, name, price_cents, created_at) VALUES
    (1, 'keyboard', 9999,  1700000000),
    (2, 'mouse',    2999,  1700000000),
    (3, 'monitor',  19900, 1700000000);
