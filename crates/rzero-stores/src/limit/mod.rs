//! Limits shared by every replica, kept in Redis: go-zero's `core/limit`.
//!
//! - [`PeriodLimit`]: at most `quota` requests per key in each `period` (a fixed window:
//!   `INCRBY` and `EXPIRE`), optionally aligned to the wall clock (go-zero's `Align`, for
//!   "5 SMS a day").
//! - [`TokenLimit`]: a token bucket per key, `rate` tokens a second up to `burst`, refilled
//!   by whole seconds as go-zero's is.
//!
//! Each take is one Lua script (go-zero's, see the `.lua` files beside this one) run with
//! `EVALSHA`, and `EVAL` once when Redis has not seen the script yet (after a restart or a
//! `SCRIPT FLUSH`). Each is one traced command of [`RedisStore`], bounded by its timeout:
//! a hung Redis costs a request at most that. What to do when Redis fails (let the request
//! through or refuse it) is the caller's decision; these types only report the error.

mod period;
mod token;

pub use period::{PeriodLimit, PeriodTake, Quota};
pub use token::{TokenLimit, TokenTake};

use redis::Script;

use crate::error::StoreError;
use crate::redis::RedisStore;

/// Runs `script` on `keys` and `args`: `EVALSHA`, then `EVAL` when the script is not loaded.
async fn run_script<T: redis::FromRedisValue>(
    store: &RedisStore,
    script: &Script,
    source: &str,
    keys: &[&str],
    args: &[String],
) -> Result<T, StoreError> {
    let mut cmd = redis::cmd("EVALSHA");
    cmd.arg(script.get_hash())
        .arg(keys.len())
        .arg(keys)
        .arg(args);
    match store.query(&cmd).await {
        Err(StoreError::Query(m)) if m.to_ascii_uppercase().contains("NOSCRIPT") => {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(source).arg(keys.len()).arg(keys).arg(args);
            store.query(&cmd).await
        }
        other => other,
    }
}
