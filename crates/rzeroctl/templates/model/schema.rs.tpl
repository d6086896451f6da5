//! The schema and seed rows of {% for m in migrations %}`{{ m.file | comment }}`{% if not loop.last %}, {% endif %}{% endfor %} as migrations, one per DDL
//! file in the order given to rzeroctl, for MySQL/MariaDB (the statements as written,
//! `IF NOT EXISTS` added to `CREATE TABLE`) and SQLite (translated: `AUTOINCREMENT`,
//! `INTEGER`, exact `DECIMAL`s as text, `KEY`s as `CREATE INDEX`, `INSERT OR IGNORE`).
//! Where the service opens its pool:
//!
//! ```text
//! db.migrate(&model::schema::migrations(db.system())).await?;
//! ```
//!
//! sqlx's migrator records each version it applied and refuses one whose text changed:
//! add a new DDL file for a change to a schema already deployed.
// A service that migrates another way leaves this unused.
#![allow(dead_code)]

use rzero::stores::sql::{DbSystem, Migration, Migrations};
{% for m in migrations %}

/// `{{ m.file | comment }}` for MySQL and MariaDB.
pub const {{ m.id }}_MYSQL: &str = concat!(
{% for s in m.mysql %}
    {{ s }},
{% endfor %}
);

/// `{{ m.file | comment }}` for SQLite.
pub const {{ m.id }}_SQLITE: &str = concat!(
{% for s in m.sqlite %}
    {{ s }},
{% endfor %}
);
{% endfor %}

/// Every migration, in the SQL of `system` (MySQL's for anything but SQLite).
pub fn migrations(system: DbSystem) -> Migrations {
    let sqlite = matches!(system, DbSystem::Sqlite);
    Migrations::new([
{% for m in migrations %}
        Migration::new(
            {{ m.version }},
            {{ m.description }},
            if sqlite { {{ m.id }}_SQLITE } else { {{ m.id }}_MYSQL },
        ),
{% endfor %}
    ])
}
