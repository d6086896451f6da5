//! MySQL DDL and seed rows in SQLite's dialect, for the embedded default: the same
//! tables, keys and rows, so a service migrates either database from one schema file.
//!
//! | MySQL | SQLite |
//! |---|---|
//! | `id BIGINT ... AUTO_INCREMENT` + `PRIMARY KEY (id)` | `"id" INTEGER PRIMARY KEY AUTOINCREMENT` (only a one-column key can be) |
//! | integer types, `UNSIGNED`, `BOOL`, `YEAR`, `BIT` | `INTEGER` |
//! | `FLOAT`, `DOUBLE`, `REAL` | `REAL` |
//! | `DECIMAL(p,s)`, `NUMERIC` | `TEXT`: the exact decimal text (SQLite's NUMERIC would store `19.90` as a float) |
//! | `CHAR`, `VARCHAR`, `*TEXT`, `ENUM`, `SET`, `JSON`, dates and times | `TEXT` |
//! | `*BLOB`, `BINARY`, `VARBINARY` | `BLOB` |
//! | `KEY name (cols)` | `CREATE INDEX IF NOT EXISTS "<table>_<name>" ON ...` (SQLite's index names are per database) |
//! | `ENGINE=`, `CHARSET=`, `COLLATE`, `COMMENT`, `ON UPDATE`, `FULLTEXT KEY` | left out |
//! | `INSERT IGNORE`, `REPLACE INTO` | `INSERT OR IGNORE`, `INSERT OR REPLACE` |
//! | `ALTER TABLE t ADD COLUMN c ...` | the same, with the column translated |
//! | `DEFAULT NOW()`, `CURRENT_TIMESTAMP(3)` | `DEFAULT CURRENT_TIMESTAMP` |
//!
//! Strings are written again as SQLite reads them (`'` doubled, no backslash escapes),
//! from the values sqlparser read with MySQL's rules. What has no SQLite form (generated
//! columns, `ON DUPLICATE KEY UPDATE`, `INSERT ... SELECT`) is refused with its place.

use sqlparser::ast::{
    AlterTable, AlterTableOperation, ColumnDef, ColumnOption, CreateIndex, CreateTable, Expr,
    IndexColumn, Insert, ObjectName, SetExpr, Statement, TableConstraint, TableObject,
    UnaryOperator, Value,
};

use super::ddl::{DdlError, Stmt};

/// The SQLite statements of `s` (a `CREATE TABLE` may add `CREATE INDEX`es), without `;`.
pub(super) fn translate(s: &Stmt) -> Result<Vec<String>, DdlError> {
    let at = |m: String| DdlError::new(s.at, m);
    match &s.ast {
        Statement::CreateTable(ct) => create_table(ct).map_err(at),
        Statement::CreateIndex(ci) => create_index(ci).map(|i| vec![i]).map_err(at),
        Statement::Insert(ins) => insert(ins).map(|i| vec![i]).map_err(at),
        Statement::AlterTable(alter) => alter_table(alter).map_err(at),
        _ => Ok(Vec::new()),
    }
}

/// `name` as a SQLite identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `s` as a SQLite string literal.
fn string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn last_name(n: &ObjectName) -> String {
    n.0.last()
        .and_then(|p| p.as_ident())
        .map_or_else(|| n.to_string(), |i| i.value.clone())
}

fn create_table(ct: &CreateTable) -> Result<Vec<String>, String> {
    let table = last_name(&ct.name);
    let auto: Vec<&ColumnDef> = ct.columns.iter().filter(|c| is_auto(c)).collect();
    // The table-level primary key, when AUTO_INCREMENT makes it a column's.
    let mut absorbed = false;
    if let [col] = auto[..] {
        let column_pk = col
            .options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)));
        let table_pk = ct.constraints.iter().find_map(|k| match k {
            TableConstraint::PrimaryKey(p) => Some(&p.columns),
            _ => None,
        });
        match table_pk {
            Some(cols) if !column_pk => {
                let names = key_names(cols)?;
                if names.len() != 1 || !names[0].eq_ignore_ascii_case(&col.name.value) {
                    return Err(format!(
                        "table `{table}`: AUTO_INCREMENT `{}` is not the whole primary key; \
                         SQLite only numbers a one-column INTEGER PRIMARY KEY",
                        col.name.value
                    ));
                }
                absorbed = true;
            }
            None if !column_pk => {
                return Err(format!(
                    "table `{table}`: AUTO_INCREMENT `{}` is not the primary key; SQLite only \
                     numbers a one-column INTEGER PRIMARY KEY",
                    col.name.value
                ));
            }
            _ => {}
        }
    }
    let mut parts = Vec::new();
    for c in &ct.columns {
        parts.push(column(&table, c, absorbed)?);
    }
    let mut indexes = Vec::new();
    for k in &ct.constraints {
        match k {
            TableConstraint::PrimaryKey(_) if absorbed => {}
            TableConstraint::PrimaryKey(p) => {
                parts.push(format!("PRIMARY KEY ({})", key_list(&p.columns)?));
            }
            TableConstraint::Unique(u) => {
                parts.push(format!("UNIQUE ({})", key_list(&u.columns)?));
            }
            TableConstraint::ForeignKey(f) => {
                let cols: Vec<String> = f.columns.iter().map(|c| quote(&c.value)).collect();
                let refs: Vec<String> =
                    f.referred_columns.iter().map(|c| quote(&c.value)).collect();
                let mut fk = format!(
                    "FOREIGN KEY ({}) REFERENCES {} ({})",
                    cols.join(", "),
                    quote(&last_name(&f.foreign_table)),
                    refs.join(", ")
                );
                if let Some(a) = &f.on_delete {
                    fk.push_str(&format!(" ON DELETE {a}"));
                }
                if let Some(a) = &f.on_update {
                    fk.push_str(&format!(" ON UPDATE {a}"));
                }
                parts.push(fk);
            }
            TableConstraint::Check(c) => parts.push(format!("CHECK ({})", c.expr)),
            TableConstraint::Index(i) => {
                let name = i.name.as_ref().map_or_else(
                    || key_names(&i.columns).map(|n| n.join("_")),
                    |n| Ok(n.value.clone()),
                )?;
                indexes.push(format!(
                    "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                    quote(&index_name(&table, &name)),
                    quote(&table),
                    key_list(&i.columns)?
                ));
            }
            // A full-text or spatial index has no SQLite form; queries still work, unindexed.
            TableConstraint::FulltextOrSpatial(_) => {}
            other => {
                return Err(format!(
                    "table `{table}`: the constraint `{other}` has no SQLite translation"
                ));
            }
        }
    }
    let mut out = vec![format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  {}\n)",
        quote(&table),
        parts.join(",\n  ")
    )];
    out.extend(indexes);
    Ok(out)
}

fn is_auto(c: &ColumnDef) -> bool {
    c.options.iter().any(|o| {
        matches!(&o.option, ColumnOption::DialectSpecific(ts)
            if ts.iter().any(|t| t.to_string().eq_ignore_ascii_case("AUTO_INCREMENT")))
    })
}

/// SQLite's index names are per database, MySQL's per table: the table's name goes first.
fn index_name(table: &str, name: &str) -> String {
    if name
        .to_ascii_lowercase()
        .starts_with(&format!("{}_", table.to_ascii_lowercase()))
    {
        name.to_owned()
    } else {
        format!("{table}_{name}")
    }
}

fn column(table: &str, c: &ColumnDef, absorbed: bool) -> Result<String, String> {
    let name = &c.name.value;
    let auto = is_auto(c);
    let ty = sqlite_type(&c.data_type.to_string())
        .map_err(|e| format!("table `{table}`, column `{name}`: {e}"))?;
    let mut out = format!("{} {ty}", quote(name));
    if auto && absorbed {
        out.push_str(" PRIMARY KEY AUTOINCREMENT");
    }
    for o in &c.options {
        match &o.option {
            ColumnOption::NotNull => out.push_str(" NOT NULL"),
            ColumnOption::Null => {}
            ColumnOption::Default(e) => {
                out.push_str(" DEFAULT ");
                out.push_str(&default_expr(e));
            }
            ColumnOption::PrimaryKey(_) if auto => out.push_str(" PRIMARY KEY AUTOINCREMENT"),
            ColumnOption::PrimaryKey(_) => out.push_str(" PRIMARY KEY"),
            ColumnOption::Unique(_) => out.push_str(" UNIQUE"),
            ColumnOption::Check(k) => out.push_str(&format!(" CHECK ({})", k.expr)),
            ColumnOption::ForeignKey(f) => {
                let refs: Vec<String> =
                    f.referred_columns.iter().map(|c| quote(&c.value)).collect();
                out.push_str(&format!(
                    " REFERENCES {}",
                    quote(&last_name(&f.foreign_table))
                ));
                if !refs.is_empty() {
                    out.push_str(&format!(" ({})", refs.join(", ")));
                }
            }
            ColumnOption::DialectSpecific(_)
            | ColumnOption::CharacterSet(_)
            | ColumnOption::Collation(_)
            | ColumnOption::Comment(_)
            | ColumnOption::OnUpdate(_) => {}
            other => {
                return Err(format!(
                    "table `{table}`, column `{name}`: `{other}` has no SQLite translation"
                ));
            }
        }
    }
    Ok(out)
}

/// A MySQL column type's SQLite type; the model's own checks (`types.rs`) already
/// refused what a model cannot read.
fn sqlite_type(printed: &str) -> Result<&'static str, String> {
    let upper = printed.to_ascii_uppercase();
    let base: String = upper
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Ok(match base.as_str() {
        "BOOL" | "BOOLEAN" | "TINYINT" | "INT1" | "YEAR" | "SMALLINT" | "INT2" | "MEDIUMINT"
        | "INT3" | "INT" | "INTEGER" | "INT4" | "BIGINT" | "INT8" | "BIT" => "INTEGER",
        "FLOAT" | "FLOAT4" | "DOUBLE" | "REAL" | "FLOAT8" => "REAL",
        // Exact: the decimal text as written, never a float.
        "DECIMAL" | "NUMERIC" | "DEC" | "FIXED" => "TEXT",
        "DATE" | "DATETIME" | "TIMESTAMP" | "TIME" | "JSON" | "CHAR" | "CHARACTER" | "VARCHAR"
        | "NCHAR" | "NVARCHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM"
        | "SET" => "TEXT",
        "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" => "BLOB",
        _ => return Err(format!("type `{upper}` has no SQLite translation")),
    })
}

/// A value as SQLite reads it: strings re-quoted, booleans as 0/1, the rest printed.
fn value(e: &Expr) -> String {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => string(s),
            Value::Boolean(b) => u8::from(*b).to_string(),
            Value::Null => "NULL".into(),
            _ => e.to_string(),
        },
        _ => e.to_string(),
    }
}

/// A column default: SQLite takes literals and `CURRENT_*` bare, other expressions in
/// parentheses.
fn default_expr(e: &Expr) -> String {
    let name = match e {
        Expr::Function(f) => Some(f.name.to_string()),
        Expr::Identifier(i) => Some(i.value.clone()),
        _ => None,
    };
    if let Some(n) = name {
        match n.to_ascii_uppercase().as_str() {
            "CURRENT_TIMESTAMP" | "NOW" | "LOCALTIMESTAMP" | "LOCALTIME" => {
                return "CURRENT_TIMESTAMP".into();
            }
            "CURRENT_DATE" | "CURDATE" => return "CURRENT_DATE".into(),
            "CURRENT_TIME" | "CURTIME" => return "CURRENT_TIME".into(),
            _ => {}
        }
    }
    match e {
        Expr::Value(_) => value(e),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } if matches!(**expr, Expr::Value(_)) => e.to_string(),
        _ => format!("({})", value(e)),
    }
}

/// Column names of a key (`name(10)` prefix parts count as `name`).
fn key_names(parts: &[IndexColumn]) -> Result<Vec<String>, String> {
    parts
        .iter()
        .map(|p| match &p.column.expr {
            Expr::Identifier(i) => Ok(i.value.clone()),
            Expr::CompoundIdentifier(is) => {
                Ok(is.last().map(|i| i.value.clone()).unwrap_or_default())
            }
            Expr::Function(f) => Ok(last_name(&f.name)),
            other => Err(format!(
                "key part `{other}` is an expression; SQLite keys here are on columns"
            )),
        })
        .collect()
}

fn key_list(parts: &[IndexColumn]) -> Result<String, String> {
    Ok(key_names(parts)?
        .iter()
        .map(|n| quote(n))
        .collect::<Vec<_>>()
        .join(", "))
}

fn create_index(ci: &CreateIndex) -> Result<String, String> {
    let table = last_name(&ci.table_name);
    let name = ci.name.as_ref().map_or_else(
        || key_names(&ci.columns).map(|n| n.join("_")),
        |n| Ok(last_name(n)),
    )?;
    Ok(format!(
        "CREATE {}INDEX IF NOT EXISTS {} ON {} ({})",
        if ci.unique { "UNIQUE " } else { "" },
        quote(&index_name(&table, &name)),
        quote(&table),
        key_list(&ci.columns)?
    ))
}

fn insert(ins: &Insert) -> Result<String, String> {
    let TableObject::TableName(name) = &ins.table else {
        return Err("INSERT into a table function has no SQLite translation".into());
    };
    let table = last_name(name);
    if ins.on.is_some() {
        return Err(format!(
            "INSERT INTO `{table}` ... ON DUPLICATE KEY UPDATE has no SQLite translation here; \
             seed with INSERT IGNORE (or REPLACE INTO)"
        ));
    }
    let rows = match ins.source.as_deref().map(|q| q.body.as_ref()) {
        Some(SetExpr::Values(v)) => &v.rows,
        _ => {
            return Err(format!(
                "INSERT INTO `{table}`: seed rows must be VALUES (...) lists"
            ));
        }
    };
    let verb = if ins.replace_into {
        "INSERT OR REPLACE"
    } else if ins.ignore {
        "INSERT OR IGNORE"
    } else {
        "INSERT"
    };
    let cols: Vec<String> = ins.columns.iter().map(|c| quote(&last_name(c))).collect();
    let cols = if cols.is_empty() {
        String::new()
    } else {
        format!(" ({})", cols.join(", "))
    };
    let rows: Vec<String> = rows
        .iter()
        .map(|r| {
            let vs: Vec<String> = r.content.iter().map(value).collect();
            format!("({})", vs.join(", "))
        })
        .collect();
    Ok(format!(
        "{verb} INTO {}{cols} VALUES\n  {}",
        quote(&table),
        rows.join(",\n  ")
    ))
}

/// `ALTER TABLE t ADD COLUMN ...` (the only `ALTER` the parser lets through); SQLite adds
/// no UNIQUE or PRIMARY KEY column, so a unique one needs a `CREATE UNIQUE INDEX`.
fn alter_table(alter: &AlterTable) -> Result<Vec<String>, String> {
    let table = last_name(&alter.name);
    let mut out = Vec::new();
    for op in &alter.operations {
        if let AlterTableOperation::AddColumn { column_def, .. } = op {
            if column_def.options.iter().any(|o| {
                matches!(
                    o.option,
                    ColumnOption::Unique(_) | ColumnOption::PrimaryKey(_)
                )
            }) {
                return Err(format!(
                    "table `{table}`, column `{}`: SQLite cannot add a UNIQUE column; add the \
                     column, then `CREATE UNIQUE INDEX` on it",
                    column_def.name.value
                ));
            }
            let not_null = column_def
                .options
                .iter()
                .any(|o| matches!(o.option, ColumnOption::NotNull));
            let default = column_def.options.iter().find_map(|o| match &o.option {
                ColumnOption::Default(e) => Some(e),
                _ => None,
            });
            // SQLite fills the rows already there with the default, so it must be a constant.
            match default {
                Some(Expr::Value(_)) => {}
                Some(Expr::UnaryOp { expr, .. }) if matches!(**expr, Expr::Value(_)) => {}
                None if !not_null => {}
                _ => {
                    return Err(format!(
                        "table `{table}`, column `{}`: SQLite adds a column only with a \
                         constant DEFAULT (or none, when it is NULL-able)",
                        column_def.name.value
                    ));
                }
            }
            out.push(format!(
                "ALTER TABLE {} ADD COLUMN {}",
                quote(&table),
                column(&table, column_def, false)?
            ));
        }
    }
    Ok(out)
}
