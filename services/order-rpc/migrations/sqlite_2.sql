-- A create may carry an Idempotency-Key: a retry with the same key finds the first order
-- (NULL keys never collide, so creates without one are unaffected).
ALTER TABLE orders ADD COLUMN idempotency_key TEXT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS orders_idempotency ON orders (idempotency_key);
