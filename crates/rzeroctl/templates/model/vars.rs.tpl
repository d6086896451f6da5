//! What the generated models share: reading text columns and insert ids.
// A model without AUTO_INCREMENT reads no insert id.
#![allow(dead_code)]

use rzero::stores::StoreError;
use rzero::stores::sql::ExecResult;
use rzero::stores::sqlx::any::AnyRow;
use rzero::stores::sqlx::{self, Row};

/// A text column. MySQL sends `CHAR`/`VARCHAR` as text but `TEXT`, `JSON` and long
/// `CAST`s as blobs, and sqlx's `Any` driver keeps the difference: both are read here.
pub(super) fn text(row: &AnyRow, column: &str) -> Result<String, sqlx::Error> {
    opt_text(row, column)?.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: "NULL in a NOT NULL column".into(),
    })
}

/// A nullable text column (see [`text`]).
pub(super) fn opt_text(row: &AnyRow, column: &str) -> Result<Option<String>, sqlx::Error> {
    match row.try_get::<Option<String>, _>(column) {
        Err(sqlx::Error::ColumnDecode { .. }) => {
            let bytes: Option<Vec<u8>> = row.try_get(column)?;
            bytes
                .map(String::from_utf8)
                .transpose()
                .map_err(|e| sqlx::Error::ColumnDecode {
                    index: column.to_owned(),
                    source: Box::new(e),
                })
        }
        other => other,
    }
}

/// The id the database gave an inserted row, as its AUTO_INCREMENT column's type.
pub(super) fn insert_id<T: TryFrom<i64>>(res: ExecResult) -> Result<T, StoreError> {
    let id = res
        .last_insert_id
        .ok_or_else(|| StoreError::Query("the insert returned no AUTO_INCREMENT id".into()))?;
    T::try_from(id).map_err(|_| {
        StoreError::Query(format!(
            "AUTO_INCREMENT id {id} does not fit its column's type"
        ))
    })
}
