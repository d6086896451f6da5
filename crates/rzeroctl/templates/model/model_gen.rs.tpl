//! The `{{ table | comment }}` table: [`{{ row }}`] rows and [`{{ model }}`]'s queries{% if cache %} through the cache{% endif %}.
//! Add your own queries to `{{ stem }}_model.rs`.
// A model offers every query and a service calls some.
#![allow(dead_code)]

use rzero::stores::StoreError;
{% if cache %}
use rzero::stores::cache::CachedConn;
{% else %}
use rzero::stores::sql::SqlPool;
{% endif %}
use rzero::stores::sqlx::any::AnyRow;
use rzero::stores::sqlx::{self, FromRow, Row};
use serde::{Deserialize, Serialize};

use super::vars;

/// The table, quoted for SQL.
pub(super) const {{ upper }}_TABLE: &str = {{ table_lit }};
/// Every column as the model's `SELECT`s read them, for your own queries.
pub(super) const {{ upper }}_ROWS: &str = {{ rows_lit }};
{% for p in prefixes %}
/// Cache-key prefix of rows by `{{ p.columns | comment }}`.
pub(super) const {{ p.name }}: &str = {{ p.value }};
{% endfor %}

/// A row of `{{ table | comment }}`.
{% if comment %}
///
/// {{ comment | comment }}
{% endif %}
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct {{ row }} {
{% for f in fields %}
    /// {{ f.doc | comment }}
    pub {{ f.name }}: {{ f.ty }},
{% endfor %}
}

/// Queries on `{{ table | comment }}`{% if cache %}, cache-aside: reads through the cache, writes drop the row's keys{% endif %}.
#[derive(Clone, Debug)]
pub struct {{ model }} {
    pub(super) conn: {{ conn }},
}

// === impl {{ row }} ===

impl<'r> FromRow<'r, AnyRow> for {{ row }} {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok({{ row }} {
{% for f in fields %}
            {{ f.name }}: {{ f.decode }},
{% endfor %}
        })
    }
}

// === impl {{ model }} ===

impl {{ model }} {
    /// A model over `conn`.
    pub fn new(conn: {{ conn }}) -> Self {
        Self { conn }
    }
{% set i = q.insert %}

{% if i.auto %}
    /// Inserts `data` and returns the `{{ i.auto.column | comment }}` the database gave it (`data.{{ i.auto.field }}` is not
    /// read); a duplicate key is [`StoreError::Conflict`].
    pub async fn insert(&self, data: &{{ row }}) -> Result<{{ i.auto.ty }}, StoreError> {
{% else %}
    /// Inserts `data`; a duplicate key is [`StoreError::Conflict`].
    pub async fn insert(&self, data: &{{ row }}) -> Result<(), StoreError> {
{% endif %}
{% if cache %}
        let keys = Self::{{ i.keys_fn }}(data);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
{% if i.auto %}
        let res = self
            .conn
{% else %}
        self.conn
{% endif %}
            .exec(&keys, |db| async move {
                db.query({{ i.sql }})
{% for b in i.binds %}
                    .bind({{ b }})
{% endfor %}
                    .execute()
                    .await
            })
            .await?;
{% if i.auto %}
        let {{ i.auto.var }} = vars::insert_id(res)?;
        // A read of the new id before it existed may have cached "absent".
        let key = {{ i.auto.key }};
        self.conn.del_cache(&[&key]).await;
        Ok({{ i.auto.var }})
{% else %}
        Ok(())
{% endif %}
{% else %}
{% if i.auto %}
        let res = self
            .conn
{% else %}
        self.conn
{% endif %}
            .query({{ i.sql }})
{% for b in i.binds %}
            .bind({{ b }})
{% endfor %}
            .execute()
            .await?;
{% if i.auto %}
        vars::insert_id(res)
{% else %}
        Ok(())
{% endif %}
{% endif %}
    }
{% set f = q.find_one %}

    /// The row with primary key {{ f.doc | comment }}; [`StoreError::NotFound`] if none.
    pub async fn find_one(&self, {{ f.params }}) -> Result<{{ row }}, StoreError> {
{% if cache %}
        let key = {{ f.key }};
        self.conn
            .query_row(&key, |db| async move {
                db.query({{ f.sql }})
{% for b in f.binds %}
                    .bind({{ b }})
{% endfor %}
                    .fetch_one()
                    .await
            })
            .await
{% else %}
        self.conn
            .query({{ f.sql }})
{% for b in f.binds %}
            .bind({{ b }})
{% endfor %}
            .fetch_one()
            .await
{% endif %}
    }
{% for u in q.find_by %}

    /// The row with unique key {{ u.doc | comment }}; [`StoreError::NotFound`] if none.
    pub async fn {{ u.name }}(&self, {{ u.params }}) -> Result<{{ row }}, StoreError> {
{% if cache %}
        let key = {{ u.key }};
        let mut loaded = None;
        let slot = &mut loaded;
        let pk: {{ u.pk_type }} = self
            .conn
            .query_row(&key, |db| async move {
                let row: {{ row }} = db.query({{ u.sql }})
{% for b in u.binds %}
                    .bind({{ b }})
{% endfor %}
                    .fetch_one()
                    .await?;
                let pk = {{ u.pk_value }};
                *slot = Some(row);
                Ok(pk)
            })
            .await?;
        match loaded {
            // Read just now: warm the primary key's entry too, as go-zero does.
            Some(row) => {
                let pk_key = {{ u.pk_key }};
                // A cache that is down costs the next read a query, not this one an error.
                let _ = self.conn.set_cache(&pk_key, &row).await;
                Ok(row)
            }
            None => self.find_one({{ u.pk_args }}).await,
        }
{% else %}
        self.conn
            .query({{ u.sql }})
{% for b in u.binds %}
            .bind({{ b }})
{% endfor %}
            .fetch_one()
            .await
{% endif %}
    }
{% endfor %}
{% if q.update %}
{% set u = q.update %}

{% if cache %}
    /// Writes `data` over the row with the same primary key; [`StoreError::NotFound`]
    /// if none.
{% else %}
    /// Writes `data` over the row with the same primary key (a missing row is no
    /// error: MySQL reports it as it reports a row left unchanged).
{% endif %}
    pub async fn update(&self, data: &{{ row }}) -> Result<(), StoreError> {
{% if cache %}
        let old = self.find_one({{ u.pk_args }}).await?;
        let mut keys = Self::cache_keys(&old);
        keys.extend(Self::cache_keys(data));
        keys.sort_unstable();
        keys.dedup();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.conn
            .exec(&keys, |db| async move {
                db.query({{ u.sql }})
{% for b in u.binds %}
                    .bind({{ b }})
{% endfor %}
                    .execute()
                    .await
            })
            .await?;
{% else %}
        self.conn
            .query({{ u.sql }})
{% for b in u.binds %}
            .bind({{ b }})
{% endfor %}
            .execute()
            .await?;
{% endif %}
        Ok(())
    }
{% endif %}
{% set d = q.delete %}

    /// Deletes the row with primary key {{ d.doc | comment }}; [`StoreError::NotFound`] if none.
    pub async fn delete(&self, {{ d.params }}) -> Result<(), StoreError> {
{% if cache %}
        let old = self.find_one({{ d.args }}).await?;
        let keys = Self::cache_keys(&old);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.conn
            .exec(&keys, |db| async move {
                db.query({{ d.sql }})
{% for b in d.binds %}
                    .bind({{ b }})
{% endfor %}
                    .execute()
                    .await
            })
            .await?;
        Ok(())
{% else %}
        let res = self
            .conn
            .query({{ d.sql }})
{% for b in d.binds %}
            .bind({{ b }})
{% endfor %}
            .execute()
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
{% endif %}
    }
{% if cache %}
{% set k = q.keys %}

    /// Every cache key of `data`: its primary key's and its unique keys'.
    fn cache_keys(data: &{{ row }}) -> Vec<String> {
{% if k.uniques %}
        let mut keys = vec![{{ k.pk }}];
        keys.extend(Self::unique_keys(data));
        keys
{% else %}
        vec![{{ k.pk }}]
{% endif %}
    }
{% if k.uniques %}

    /// The cache keys of `data`'s unique keys (a key with a NULL part has none).
    fn unique_keys(data: &{{ row }}) -> Vec<String> {
        let mut keys = Vec::with_capacity({{ k.uniques | length }});
{% for u in k.uniques %}
{% if u.cond %}
        if {{ u.cond }} {
            keys.push({{ u.key }});
        }
{% else %}
        keys.push({{ u.key }});
{% endif %}
{% endfor %}
        keys
    }
{% elif k.empty_unique_fn %}

    /// The cache keys of `data`'s unique keys: it has none.
    fn unique_keys(_data: &{{ row }}) -> Vec<String> {
        Vec::new()
    }
{% endif %}
{% endif %}
}
