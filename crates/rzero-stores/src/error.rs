//! One error type for every store, sorted by what the caller should answer.
//!
//! A handler maps [`StoreError`] once: [`NotFound`](StoreError::NotFound) is 404 /
//! NOT_FOUND, [`Conflict`](StoreError::Conflict) is 409 / ALREADY_EXISTS,
//! [`Unavailable`](StoreError::Unavailable) is 503 / UNAVAILABLE (retry later), and
//! [`Query`](StoreError::Query) and [`Config`](StoreError::Config) are bugs to fix (500).
//! The type is `Clone` because single-flight hands one load's result to every waiter.
//! Messages never hold a password: the pool scrubs its own out of every driver message.

use std::fmt;

/// What went wrong with a store operation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The row (or key) does not exist.
    #[error("not found")]
    NotFound,
    /// The write clashes with existing data (a unique key, a foreign key).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store could not be reached in time (down, refused, timed out, pool exhausted);
    /// retrying later may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The statement or its result is wrong (syntax, types, decoding): fix the code.
    #[error("query failed: {0}")]
    Query(String),
    /// The configuration is wrong: fix the config file.
    #[error("bad store config: {0}")]
    Config(String),
}

/// The kind of a [`StoreError`], a low-cardinality name for `error.type` and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// [`StoreError::NotFound`].
    NotFound,
    /// [`StoreError::Conflict`].
    Conflict,
    /// [`StoreError::Unavailable`].
    Unavailable,
    /// [`StoreError::Query`].
    Query,
    /// [`StoreError::Config`].
    Config,
}

// === impl StoreError ===

impl StoreError {
    /// The kind, for matching without the message.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NotFound => ErrorKind::NotFound,
            StoreError::Conflict(_) => ErrorKind::Conflict,
            StoreError::Unavailable(_) => ErrorKind::Unavailable,
            StoreError::Query(_) => ErrorKind::Query,
            StoreError::Config(_) => ErrorKind::Config,
        }
    }

    /// True for [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound)
    }

    /// True for [`StoreError::Unavailable`].
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    /// True for [`StoreError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict(_))
    }

    /// The same error with `secret` replaced by `***` in its message.
    pub(crate) fn scrub(self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        let clean = |m: String| m.replace(secret, "***");
        match self {
            StoreError::NotFound => StoreError::NotFound,
            StoreError::Conflict(m) => StoreError::Conflict(clean(m)),
            StoreError::Unavailable(m) => StoreError::Unavailable(clean(m)),
            StoreError::Query(m) => StoreError::Query(clean(m)),
            StoreError::Config(m) => StoreError::Config(clean(m)),
        }
    }
}

#[cfg(feature = "sql")]
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match e {
            E::RowNotFound => StoreError::NotFound,
            E::Database(db) => match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation
                | sqlx::error::ErrorKind::ForeignKeyViolation => {
                    StoreError::Conflict(db.message().to_owned())
                }
                _ if is_unavailable_code(db.code().as_deref()) => {
                    StoreError::Unavailable(db.to_string())
                }
                _ => StoreError::Query(db.to_string()),
            },
            E::Io(_)
            | E::Tls(_)
            | E::Protocol(_)
            | E::PoolTimedOut
            | E::PoolClosed
            | E::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            E::Configuration(_) => StoreError::Config(e.to_string()),
            E::Migrate(m) => StoreError::Query(format!("migration: {m}")),
            other => StoreError::Query(other.to_string()),
        }
    }
}

/// Server answers that mean "not now" rather than "wrong": MySQL's too many connections
/// (1040), server shutting down (1053), lock wait timeout (1205) and deadlock (1213);
/// SQLite's busy and locked (5, 6).
#[cfg(feature = "sql")]
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(code, Some("1040" | "1053" | "1205" | "1213" | "5" | "6"))
}

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        if e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_cluster_error()
        {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Query(e.to_string())
        }
    }
}

// === impl ErrorKind ===

impl ErrorKind {
    /// The `error.type` value: `not_found`, `conflict`, `unavailable`, `query`, `config`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Query => "query",
            ErrorKind::Config => "config",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_the_secret_from_messages() {
        let e = StoreError::Unavailable("login hunter2 failed".into()).scrub("hunter2");
        assert_eq!(e.to_string(), "store unavailable: login *** failed");
    }

    #[cfg(feature = "sql")]
    #[test]
    fn pool_timeouts_are_unavailable() {
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::from(sqlx::Error::RowNotFound).is_not_found());
    }
}
