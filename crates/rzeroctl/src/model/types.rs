//! MySQL column types to Rust types, within what rzero-stores can decode.
//!
//! rzero-stores runs on sqlx's `Any` driver, which decodes only integers (`SMALLINT`,
//! `INT`, `BIGINT`), floats, text and blobs: a row holding a `TINYINT`, `MEDIUMINT`,
//! `DECIMAL`, `DATETIME`, `YEAR`, `BIT` or MySQL `JSON` column fails to decode as a
//! whole. The generated `SELECT`s therefore read such columns through a `CAST` to a type
//! `Any` decodes (`CAST(x AS SIGNED)` for the integers, `CAST(x AS CHAR)` for exact
//! numbers, times and JSON) under the column's own name, and writes bind the same Rust
//! type, which MySQL converts back on its side. Money stays exact: a `DECIMAL` is its
//! decimal text, never a float.
//!
//! | MySQL | Rust | read as |
//! |---|---|---|
//! | `BOOL`, `BOOLEAN` | `bool` | `CAST(x AS SIGNED)`, non-zero is true |
//! | `TINYINT [UNSIGNED]`, `YEAR` | `i16` | `CAST(x AS SIGNED)` |
//! | `SMALLINT` | `i16` | itself |
//! | `SMALLINT UNSIGNED`, `MEDIUMINT [UNSIGNED]` | `i32` | `CAST(x AS SIGNED)` |
//! | `INT`, `INTEGER` | `i32` | itself |
//! | `INT UNSIGNED` | `i64` | `CAST(x AS SIGNED)` |
//! | `BIGINT [UNSIGNED]` | `i64` | itself (`Any` has no `u64`: unsigned values above `i64::MAX` do not fit) |
//! | `BIT(n)` | `i64` | `CAST(x AS UNSIGNED)` |
//! | `FLOAT` | `f32` | itself |
//! | `DOUBLE`, `REAL` | `f64` | itself |
//! | `DECIMAL`, `NUMERIC` | `String` (e.g. `"12.50"`) | `CAST(x AS CHAR)` |
//! | `DATE`, `DATETIME`, `TIMESTAMP`, `TIME` | `String` (`"2024-01-31 12:00:00"`) | `CAST(x AS CHAR)` |
//! | `JSON` | `String` | `CAST(x AS CHAR)` |
//! | `CHAR`, `VARCHAR`, `*TEXT`, `ENUM`, `SET` | `String` | itself |
//! | `*BLOB` | `Vec<u8>` | itself |
//!
//! A nullable column is `Option<T>`. `BINARY`/`VARBINARY` are refused (`Any` reads them as
//! UTF-8 text and fails on other bytes), as are spatial and unknown types.

use sqlparser::ast::DataType;

/// A column's type: its Rust type and how the `SELECT` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MysqlType {
    /// The Rust type of a non-null value.
    pub(super) rust: RustType,
    /// `CAST(col AS <cast>)` in the `SELECT` list, when `Any` cannot decode the column.
    pub(super) cast: Option<&'static str>,
}

/// The Rust types models use: exactly those sqlx's `Any` driver binds and decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RustType {
    Bool,
    I16,
    I32,
    I64,
    F32,
    F64,
    String,
    Bytes,
}

// === impl MysqlType ===

impl MysqlType {
    const fn new(rust: RustType, cast: Option<&'static str>) -> Self {
        MysqlType { rust, cast }
    }

    /// An integer type (what `AUTO_INCREMENT` needs).
    pub(super) fn is_integer(&self) -> bool {
        matches!(self.rust, RustType::I16 | RustType::I32 | RustType::I64)
    }
}

// === impl RustType ===

impl RustType {
    /// The type of a struct field holding a non-null value.
    pub(super) fn name(self) -> &'static str {
        match self {
            RustType::Bool => "bool",
            RustType::I16 => "i16",
            RustType::I32 => "i32",
            RustType::I64 => "i64",
            RustType::F32 => "f32",
            RustType::F64 => "f64",
            RustType::String => "String",
            RustType::Bytes => "Vec<u8>",
        }
    }

    /// The type of a method parameter: borrowed where the field owns.
    pub(super) fn param(self) -> &'static str {
        match self {
            RustType::String => "&str",
            RustType::Bytes => "&[u8]",
            other => other.name(),
        }
    }

    /// `Copy` types are bound and passed by value.
    pub(super) fn is_copy(self) -> bool {
        !matches!(self, RustType::String | RustType::Bytes)
    }
}

/// Maps a column type; the error says what is supported.
pub(super) fn map(ty: &DataType) -> Result<MysqlType, String> {
    use RustType as R;
    let printed = ty.to_string().to_ascii_uppercase();
    let base: String = printed
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let unsigned = printed.contains("UNSIGNED");
    const SIGNED: Option<&str> = Some("SIGNED");
    const CHAR: Option<&str> = Some("CHAR");
    let t = MysqlType::new;
    Ok(match base.as_str() {
        "BOOL" | "BOOLEAN" => t(R::Bool, SIGNED),
        "TINYINT" | "INT1" | "YEAR" => t(R::I16, SIGNED),
        "SMALLINT" | "INT2" if !unsigned => t(R::I16, None),
        "SMALLINT" | "INT2" | "MEDIUMINT" | "INT3" => t(R::I32, SIGNED),
        "INT" | "INTEGER" | "INT4" if !unsigned => t(R::I32, None),
        "INT" | "INTEGER" | "INT4" => t(R::I64, SIGNED),
        "BIGINT" | "INT8" => t(R::I64, None),
        "BIT" => t(R::I64, Some("UNSIGNED")),
        "FLOAT" | "FLOAT4" => t(R::F32, None),
        "DOUBLE" | "REAL" | "FLOAT8" => t(R::F64, None),
        "DECIMAL" | "NUMERIC" | "DEC" | "FIXED" => t(R::String, CHAR),
        "DATE" | "DATETIME" | "TIMESTAMP" | "TIME" | "JSON" => t(R::String, CHAR),
        "CHAR" | "CHARACTER" | "VARCHAR" | "NCHAR" | "NVARCHAR" | "TINYTEXT" | "TEXT"
        | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET" => t(R::String, None),
        "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => t(R::Bytes, None),
        "BINARY" | "VARBINARY" => {
            return Err(format!(
                "type `{printed}` is not supported: rzero-stores (sqlx's Any driver) reads it \
                 as UTF-8 text; use BLOB for bytes, or CHAR/VARCHAR for text such as UUIDs"
            ));
        }
        _ => {
            return Err(format!(
                "type `{printed}` is not supported; use an integer, FLOAT/DOUBLE, DECIMAL, \
                 CHAR/VARCHAR/TEXT, ENUM/SET, DATE/DATETIME/TIMESTAMP/TIME, JSON or BLOB type"
            ));
        }
    })
}
