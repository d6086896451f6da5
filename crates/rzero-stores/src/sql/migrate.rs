//! Migrations embedded in the binary, run when the pool opens if the config asks.
//!
//! A service keeps its schema as SQL files and embeds them with `include_str!`, so the
//! binary carries them and a fresh machine needs nothing else. They run through sqlx's
//! migrator (its `_sqlx_migrations` table, checksums, one transaction each), which
//! refuses a changed migration that already ran. MySQL and SQLite speak different DDL:
//! keep one list per [`DbSystem`](crate::sql::DbSystem) and pick with
//! [`SqlPool::system`](crate::sql::SqlPool::system).

use std::borrow::Cow;

use sqlx::migrate::{Migration as SqlxMigration, MigrationType, Migrator};

/// One embedded migration.
#[derive(Clone, Debug)]
pub struct Migration {
    version: i64,
    description: &'static str,
    sql: &'static str,
}

/// An ordered list of migrations.
#[derive(Debug)]
pub struct Migrations {
    pub(crate) migrator: Migrator,
}

// === impl Migration ===

impl Migration {
    /// Migration `version` (applied in ascending order, never reused), described by
    /// `description`, running `sql` (several statements are fine).
    pub const fn new(version: i64, description: &'static str, sql: &'static str) -> Self {
        Migration {
            version,
            description,
            sql,
        }
    }
}

// === impl Migrations ===

impl Migrations {
    /// The migrations in `list`, sorted by version.
    pub fn new(list: impl IntoIterator<Item = Migration>) -> Self {
        let mut all: Vec<SqlxMigration> = list
            .into_iter()
            .map(|m| {
                SqlxMigration::new(
                    m.version,
                    Cow::Borrowed(m.description),
                    MigrationType::Simple,
                    Cow::Borrowed(m.sql),
                    false,
                )
            })
            .collect();
        all.sort_by_key(|m| m.version);
        let mut migrator = Migrator::DEFAULT;
        migrator.migrations = Cow::Owned(all);
        Migrations { migrator }
    }

    /// How many migrations the list holds.
    pub fn len(&self) -> usize {
        self.migrator.migrations.len()
    }

    /// True when the list is empty.
    pub fn is_empty(&self) -> bool {
        self.migrator.migrations.is_empty()
    }
}
