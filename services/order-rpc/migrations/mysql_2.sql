-- A create may carry an Idempotency-Key: a retry with the same key finds the first order
-- (NULL keys never collide, so creates without one are unaffected).
ALTER TABLE orders ADD COLUMN idempotency_key VARCHAR(64) NULL;
CREATE UNIQUE INDEX orders_idempotency ON orders (idempotency_key);
