-- order-rpc's tables as they are after every migration (migrations/), for
-- `rzeroctl model mysql ddl --src model/order.sql --dir src/model --cache`.
CREATE TABLE products (
    id          BIGINT      NOT NULL PRIMARY KEY,
    name        VARCHAR(64) NOT NULL,
    price_cents BIGINT      NOT NULL,
    created_at  BIGINT      NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Money is integer cents: exact, no float drift.
CREATE TABLE orders (
    id              BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id         BIGINT      NOT NULL,
    product_id      BIGINT      NOT NULL,
    amount_cents    BIGINT      NOT NULL,
    status          VARCHAR(16) NOT NULL,
    created_at      BIGINT      NOT NULL,
    idempotency_key VARCHAR(64) NULL,
    KEY orders_user (user_id),
    UNIQUE KEY orders_idempotency (idempotency_key),
    CONSTRAINT orders_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
