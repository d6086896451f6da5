//! `CREATE TABLE` statements to [`Table`]s: sqlparser's MySQL dialect does the parsing,
//! this module keeps what a model needs (columns, primary key, unique keys) and checks
//! what a model cannot do without (a primary key, known column types).
//!
//! `CREATE TABLE`, `CREATE INDEX` and seed `INSERT`s are kept for the migrations
//! (`schema.rs`); other statements (`DROP TABLE`, `SET NAMES`, `LOCK TABLES`) are
//! skipped, as goctl skips them, so a schema file ships as it is. Several files make one
//! schema, in migration order: a later file may `ALTER TABLE ... ADD COLUMN` or
//! `CREATE UNIQUE INDEX` on an earlier file's table, and the models are those of the
//! last; other `ALTER TABLE`s are refused (skipping them would make another schema).

use sqlparser::ast::{
    AlterTable, AlterTableOperation, ColumnDef, ColumnOption, CommentDef, CreateTable,
    CreateTableOptions, Expr, IndexColumn, ObjectName, SqlOption, Statement, TableConstraint,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, Tokenizer};

pub(super) use super::source::DdlError;
use super::source::{line_starts, located, source_text};

use super::types::{self, MysqlType};

/// One table, as the generators see it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Table {
    /// The table name, unquoted (the last part of `db.table`).
    pub(super) name: String,
    /// The table's `COMMENT`, if any.
    pub(super) comment: Option<String>,
    /// Columns in table order.
    pub(super) columns: Vec<Column>,
    /// The primary key's columns (indexes into `columns`), in key order.
    pub(super) primary: Vec<usize>,
    /// Each unique key's columns, in declaration order, the primary key left out.
    pub(super) uniques: Vec<Vec<usize>>,
}

/// One column.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Column {
    /// The column name, unquoted.
    pub(super) name: String,
    /// Its type, mapped to Rust.
    pub(super) ty: MysqlType,
    /// `NULL` allowed (primary key columns never are).
    pub(super) nullable: bool,
    /// `AUTO_INCREMENT`.
    pub(super) auto_increment: bool,
    /// The database fills it when the insert leaves it out (`DEFAULT`, or `NULL`able).
    pub(super) has_default: bool,
    /// The column's `COMMENT`, if any.
    pub(super) comment: Option<String>,
}

// === impl Table ===

impl Table {
    /// The auto-increment column, if any.
    pub(super) fn auto_increment(&self) -> Option<&Column> {
        self.columns.iter().find(|c| c.auto_increment)
    }

    /// The columns of `key`.
    pub(super) fn key_columns<'a>(&'a self, key: &'a [usize]) -> impl Iterator<Item = &'a Column> {
        key.iter().map(|&i| &self.columns[i])
    }
}

/// One DDL file, parsed alone (the unit tests' view): its tables for the models, and the statements the migrations
/// carry (`CREATE TABLE`, `CREATE INDEX`, `INSERT`), each with its MySQL text.
#[cfg(test)]
#[derive(Debug)]
pub(super) struct Schema {
    pub(super) tables: Vec<Table>,
    pub(super) statements: Vec<Stmt>,
}

/// One statement the migrations carry.
#[derive(Debug)]
pub(super) struct Stmt {
    pub(super) ast: Statement,
    /// Where it starts in the file.
    pub(super) at: Location,
    /// The statement as written, comments left out (`IF NOT EXISTS` added to a
    /// `CREATE TABLE`), without its `;`.
    pub(super) mysql: String,
}

/// Parses `sql` and returns its tables and statements; errors give the line and column.
///
/// The file is tokenized once and cut at each `;`, so every statement keeps its own
/// text (for the MySQL migration) and its tokens' places (for errors).
#[cfg(test)]
pub(super) fn parse(sql: &str) -> Result<Schema, DdlError> {
    let mut tables = Vec::new();
    let statements = parse_into(sql, &mut tables)?;
    if tables.is_empty() {
        return Err(no_tables());
    }
    Ok(Schema { tables, statements })
}

/// The error when no file had a `CREATE TABLE`.
pub(super) fn no_tables() -> DdlError {
    DdlError::new(
        Location { line: 0, column: 0 },
        "no `CREATE TABLE` statement found; pass the file holding the schema",
    )
}

/// Parses one of several files of a schema: its `CREATE TABLE`s join `tables`, its
/// `ALTER TABLE ... ADD COLUMN`s and `CREATE UNIQUE INDEX`es change the tables of this
/// file or of an earlier one (so a file per migration gives the models of the last).
pub(super) fn parse_into(sql: &str, tables: &mut Vec<Table>) -> Result<Vec<Stmt>, DdlError> {
    let dialect = MySqlDialect {};
    let start = Location { line: 1, column: 1 };
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| located(&e.to_string(), start))?;
    let lines = line_starts(sql);
    let mut statements = Vec::new();
    for chunk in tokens.split(|t| t.token == Token::SemiColon) {
        let Some(first) = chunk.iter().position(|t| !is_trivia(&t.token)) else {
            continue;
        };
        let last = chunk
            .iter()
            .rposition(|t| !is_trivia(&t.token))
            .unwrap_or(first);
        let chunk = &chunk[first..=last];
        let at = chunk[0].span.start;
        let mut parser = Parser::new(&dialect).with_tokens_with_locations(chunk.to_vec());
        let ast = parser.parse_statement().map_err(|e| match e {
            ParserError::RecursionLimitExceeded => DdlError::new(
                at,
                "the SQL nests too deeply to parse; is it a schema file?",
            ),
            ParserError::TokenizerError(m) | ParserError::ParserError(m) => located(&m, at),
        })?;
        if let Some(extra) = chunk_rest(&mut parser) {
            return Err(DdlError::new(extra, "expected `;` before this"));
        }
        let here = |e: String| DdlError::new(at, e);
        let carried = match &ast {
            Statement::CreateTable(ct) => {
                let t = table(ct).map_err(here)?;
                if tables.iter().any(|o| o.name.eq_ignore_ascii_case(&t.name)) {
                    return Err(here(format!("table `{}` is created twice", t.name)));
                }
                tables.push(t);
                true
            }
            Statement::CreateIndex(ci) => {
                if ci.unique {
                    let name = last_ident(&ci.table_name);
                    let t = known(tables, &name).map_err(here)?;
                    let k = key(t, &ci.columns).map_err(here)?;
                    add_unique(t, k);
                }
                true
            }
            Statement::AlterTable(alter) => {
                alter_table(tables, alter).map_err(here)?;
                true
            }
            Statement::Insert(_) => true,
            _ => false,
        };
        if carried {
            let if_not_exists = matches!(&ast, Statement::CreateTable(ct) if !ct.if_not_exists);
            let mysql = source_text(sql, &lines, chunk, if_not_exists);
            statements.push(Stmt { ast, at, mysql });
        }
    }
    Ok(statements)
}

fn last_ident(n: &ObjectName) -> String {
    n.0.last()
        .and_then(|p| p.as_ident())
        .map_or_else(|| n.to_string(), |i| i.value.clone())
}

/// The table `name` created earlier, to change.
fn known<'a>(tables: &'a mut [Table], name: &str) -> Result<&'a mut Table, String> {
    tables
        .iter_mut()
        .find(|t| t.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            format!(
                "table `{name}` is not created before this statement; pass the file that \
                 creates it first (--src in migration order)"
            )
        })
}

/// A unique key, unless the primary key or an existing unique key is the same.
fn add_unique(t: &mut Table, k: Vec<usize>) {
    if k != t.primary && !t.uniques.contains(&k) {
        t.uniques.push(k);
    }
}

/// `ALTER TABLE t ADD [COLUMN] ...`: the one change a migration file may make to a table
/// (the others would make the models guess at the schema).
fn alter_table(tables: &mut [Table], alter: &AlterTable) -> Result<(), String> {
    let name = last_ident(&alter.name);
    let t = known(tables, &name)?;
    for op in &alter.operations {
        let AlterTableOperation::AddColumn { column_def, .. } = op else {
            return Err(format!(
                "table `{name}`: only `ALTER TABLE ... ADD COLUMN` is supported (`{op}` is not); \
                 fold other changes into the CREATE TABLE"
            ));
        };
        let c = column(&name, column_def)?;
        if c.auto_increment {
            return Err(format!(
                "table `{name}`, column `{}`: an AUTO_INCREMENT column cannot be added later",
                c.name
            ));
        }
        if t.columns
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&c.name))
        {
            return Err(format!(
                "table `{name}`: column `{}` exists already",
                c.name
            ));
        }
        t.columns.push(c);
        let i = t.columns.len() - 1;
        for o in &column_def.options {
            match &o.option {
                ColumnOption::Unique(_) => add_unique(t, vec![i]),
                ColumnOption::PrimaryKey(_) => {
                    return Err(format!(
                        "table `{name}`: a primary key cannot be added by ALTER TABLE here; \
                         declare it in the CREATE TABLE"
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// What the parser left of a statement: the place of a token after it, if any.
fn chunk_rest(parser: &mut Parser<'_>) -> Option<Location> {
    let next = parser.next_token();
    (next.token != Token::EOF).then_some(next.span.start)
}

fn is_trivia(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

fn table_name(ct: &CreateTable) -> Option<&str> {
    ct.name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.as_str())
}

fn table(ct: &CreateTable) -> Result<Table, String> {
    let name = table_name(ct)
        .map(str::to_owned)
        .ok_or_else(|| format!("table `{}` has no plain name", ct.name))?;
    if ct.like.is_some() || ct.query.is_some() {
        return Err(format!(
            "table `{name}`: `CREATE TABLE ... LIKE/AS` is not supported; spell its columns out"
        ));
    }
    let columns = ct
        .columns
        .iter()
        .map(|c| column(&name, c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut t = Table {
        comment: table_comment(ct),
        name,
        columns,
        primary: Vec::new(),
        uniques: Vec::new(),
    };
    let mut primaries = Vec::new();
    for (i, c) in ct.columns.iter().enumerate() {
        for o in &c.options {
            match &o.option {
                ColumnOption::PrimaryKey(_) => primaries.push(vec![i]),
                ColumnOption::Unique(_) => t.uniques.push(vec![i]),
                _ => {}
            }
        }
    }
    for k in &ct.constraints {
        match k {
            TableConstraint::PrimaryKey(p) => primaries.push(key(&t, &p.columns)?),
            TableConstraint::Unique(u) => t.uniques.push(key(&t, &u.columns)?),
            // Plain indexes and foreign keys make no lookup methods (goctl's neither).
            _ => {}
        }
    }
    t.primary = match primaries.len() {
        1 => primaries.remove(0),
        0 => {
            return Err(format!(
                "table `{}` has no primary key; a model reads, updates and deletes rows by it: \
                 add `PRIMARY KEY (...)`",
                t.name
            ));
        }
        _ => return Err(format!("table `{}` declares its primary key twice", t.name)),
    };
    for &i in &t.primary {
        t.columns[i].nullable = false;
    }
    // A unique key equal to the primary key, or declared twice, adds no lookup.
    let mut seen = vec![t.primary.clone()];
    t.uniques.retain(|u| {
        let fresh = !seen.contains(u);
        seen.push(u.clone());
        fresh
    });
    if t.columns.iter().filter(|c| c.auto_increment).count() > 1 {
        return Err(format!(
            "table `{}` has more than one AUTO_INCREMENT column",
            t.name
        ));
    }
    Ok(t)
}

fn column(table: &str, c: &ColumnDef) -> Result<Column, String> {
    let name = c.name.value.clone();
    let ty =
        types::map(&c.data_type).map_err(|e| format!("table `{table}`, column `{name}`: {e}"))?;
    let mut col = Column {
        name,
        ty,
        nullable: true,
        auto_increment: false,
        has_default: false,
        comment: None,
    };
    for o in &c.options {
        match &o.option {
            ColumnOption::NotNull => col.nullable = false,
            ColumnOption::Null => col.nullable = true,
            ColumnOption::Default(_) | ColumnOption::Generated { .. } => col.has_default = true,
            ColumnOption::Comment(s) => col.comment = Some(s.clone()),
            ColumnOption::DialectSpecific(tokens)
                if tokens
                    .iter()
                    .any(|t| t.to_string().eq_ignore_ascii_case("AUTO_INCREMENT")) =>
            {
                col.auto_increment = true;
            }
            _ => {}
        }
    }
    if col.auto_increment && !col.ty.is_integer() {
        return Err(format!(
            "table `{table}`, column `{}`: AUTO_INCREMENT on a non-integer column",
            col.name
        ));
    }
    col.has_default |= col.nullable || col.auto_increment;
    Ok(col)
}

/// The column indexes of a key; `name(10)` prefix parts count as `name`.
fn key(t: &Table, parts: &[IndexColumn]) -> Result<Vec<usize>, String> {
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        let name = match &p.column.expr {
            Expr::Identifier(i) => i.value.clone(),
            Expr::CompoundIdentifier(is) => is.last().map(|i| i.value.clone()).unwrap_or_default(),
            Expr::Function(f) => f.name.to_string().trim_matches('`').to_owned(),
            other => {
                return Err(format!(
                    "table `{}`: key part `{other}` is an expression; keys on expressions are \
                     not supported",
                    t.name
                ));
            }
        };
        let i = t
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| format!("table `{}`: key names unknown column `{name}`", t.name))?;
        if out.contains(&i) {
            return Err(format!(
                "table `{}`: column `{name}` appears twice in one key",
                t.name
            ));
        }
        out.push(i);
    }
    if out.is_empty() {
        return Err(format!("table `{}`: a key without columns", t.name));
    }
    Ok(out)
}

fn table_comment(ct: &CreateTable) -> Option<String> {
    let options = match &ct.table_options {
        CreateTableOptions::Plain(o)
        | CreateTableOptions::With(o)
        | CreateTableOptions::Options(o)
        | CreateTableOptions::TableProperties(o) => o.as_slice(),
        CreateTableOptions::None => &[],
    };
    let comment = ct.comment.as_ref().or_else(|| {
        options.iter().find_map(|o| match o {
            SqlOption::Comment(c) => Some(c),
            _ => None,
        })
    })?;
    match comment {
        CommentDef::WithEq(s) | CommentDef::WithoutEq(s) => Some(s.clone()),
    }
}
