//! Your queries on the `orders` table. rzeroctl wrote this file once and never
//! rewrites it: add methods to [`OrdersModel`] below, next to the generated ones in
//! `orders_model_gen.rs` (whose `ORDERS_TABLE` and `ORDERS_ROWS` help write SQL).

use rzero::stores::StoreError;

use super::orders_model_gen::{
    CACHE_ORDERS_ID_PREFIX, CACHE_ORDERS_IDEMPOTENCY_KEY_PREFIX, ORDERS_ROWS, ORDERS_TABLE, Orders,
    OrdersModel,
};
use super::vars;

impl OrdersModel {
    /// Puts `order` in the cache under its id, so the first read after a create is a hit
    /// (the guide's UpdateCache step).
    pub async fn cache(&self, order: &Orders) -> Result<(), StoreError> {
        let key = format!("{CACHE_ORDERS_ID_PREFIX}{}", order.id);
        self.conn.set_cache(&key, order).await
    }

    /// Inserts `data` in a transaction and returns its id, as the generated `insert`
    /// does, but commits only while the caller's deadline leaves time to answer
    /// ([`rzero::stores::sql::Tx::commit`]). A plain INSERT that the deadline cancels has
    /// been sent and commits anyway while the caller is told to retry; this one, cancelled
    /// before its COMMIT, is rolled back.
    pub async fn insert_committed(&self, data: &Orders) -> Result<i64, StoreError> {
        let mut tx = self.conn.db().begin().await?;
        let res = tx
            .query(&format!(
                "INSERT INTO {ORDERS_TABLE} (`user_id`, `product_id`, `amount_cents`, `status`, \
                 `created_at`, `idempotency_key`) VALUES (?, ?, ?, ?, ?, ?)"
            ))
            .bind(data.user_id)
            .bind(data.product_id)
            .bind(data.amount_cents)
            .bind(data.status.as_str())
            .bind(data.created_at)
            .bind(data.idempotency_key.as_deref())
            .execute()
            .await?;
        let id = vars::insert_id(res)?;
        tx.commit().await?;
        // A read before the row existed may have cached "absent" under either key.
        let mut keys = vec![format!("{CACHE_ORDERS_ID_PREFIX}{id}")];
        if let Some(k) = &data.idempotency_key {
            keys.push(format!("{CACHE_ORDERS_IDEMPOTENCY_KEY_PREFIX}{k}"));
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.conn.del_cache(&keys).await;
        Ok(id)
    }

    /// The order created with `idempotency_key`, read from the database itself: after an
    /// insert lost a race on the key, a cached "absent" must not hide the winner's row.
    pub async fn find_by_idempotency_key_uncached(
        &self,
        idempotency_key: &str,
    ) -> Result<Orders, StoreError> {
        self.conn
            .db()
            .query(&format!(
                "SELECT {ORDERS_ROWS} FROM {ORDERS_TABLE} WHERE `idempotency_key` = ? LIMIT 1"
            ))
            .bind(idempotency_key)
            .fetch_one()
            .await
    }
}

impl Orders {
    /// The largest amount one order may carry, in cents (1,000,000.00).
    pub const MAX_AMOUNT_CENTS: i64 = 100_000_000;

    /// `amount` (currency units, as the contract carries it) in exact cents, or why it is
    /// not an amount: at most two decimals, at least one cent (an amount that rounds to
    /// zero cents is refused, not stored as 0), at most [`Self::MAX_AMOUNT_CENTS`].
    pub fn cents(amount: f64) -> Result<i64, String> {
        let max = Self::MAX_AMOUNT_CENTS as f64 / 100.0;
        if !amount.is_finite() || amount <= 0.0 || amount > max {
            return Err(format!("amount must be in (0, {max}], got {amount}"));
        }
        let cents = (amount * 100.0).round();
        if (amount * 100.0 - cents).abs() > 1e-6 {
            return Err(format!(
                "amount must have at most two decimals, got {amount}"
            ));
        }
        if cents < 1.0 {
            return Err(format!("amount must be at least 0.01, got {amount}"));
        }
        Ok(cents as i64)
    }

    /// The amount in currency units, for answers.
    pub fn amount(&self) -> f64 {
        self.amount_cents as f64 / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_cents() {
        assert_eq!(Orders::cents(99.99), Ok(9999));
        assert_eq!(Orders::cents(0.01), Ok(1));
        assert_eq!(Orders::cents(1_000_000.0), Ok(100_000_000));
        for bad in [0.0, -1.0, 0.001, 1e-9, 0.004, 1e7, f64::NAN, f64::INFINITY] {
            assert!(Orders::cents(bad).is_err(), "{bad}");
        }
    }
}
