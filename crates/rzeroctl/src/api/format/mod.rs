//! `.api` pretty-printer in goctl's style (`tools/goctl/pkg/parser/api/format`): tabs,
//! `key: value` aligned in `info`/`@server`/`@doc` blocks, struct fields aligned in
//! columns (name, type, tag) the way goctl's `text/tabwriter` aligns them, one blank
//! line between statements and between routes, `@handler x` on its own line above
//! `method /path (Req) returns (Resp)`.
//!
//! It prints the syntax tree, so every comment the parser kept comes out again (goctl
//! drops comments inside expressions such as `map/*x*/[int]int`; we move them before
//! the item instead). With the source at hand ([`format_source`]) the comments after an
//! opening bracket or a `@handler` name stay on their line, as goctl keeps them; see
//! [`hints`]. Alignment runs, as with goctl's tabwriter, stop at a line that is not a
//! plain field or pair (a comment line, an embedded type, a field with an inline struct),
//! and a column is only padded on lines where another cell follows it.
//!
//! The parser reads goctl's legacy forms into their current form, so printing the tree
//! rewrites them: `title: doc title` becomes `title: "doc title"`, `@doc ("x")` becomes
//! `@doc "x"`, a route-level `@server(handler: X)` becomes `@handler X`, `type X struct
//! {` becomes `type X {`. [`format_checked`] also returns the warnings for what it
//! rewrote.

pub mod command;
mod hints;
#[cfg(test)]
mod tests;

use crate::api::ast::{
    Body, DataType, Doc, Field, File, ImportStmt, KvBlock, Pos, RouteItem, ServiceStmt, Stmt,
    StructType, TypeDecl, TypeStmt, Value,
};
use crate::api::lexer::lex;
use crate::api::parser::{ParseError, Warning, parse};
use hints::Hints;

/// Formats `.api` source text; `file` names it in errors.
pub fn format_source(file: &str, src: &str) -> Result<String, ParseError> {
    format_checked(file, src).map(|(out, _)| out)
}

/// Formats `.api` source text, with the warnings for the legacy forms it rewrote.
pub fn format_checked(file: &str, src: &str) -> Result<(String, Vec<Warning>), ParseError> {
    let mut tree = parse(file, src)?;
    let warnings = std::mem::take(&mut tree.warnings);
    // `parse` succeeded, so lexing does too; without tokens only the hints are lost.
    let hints = match lex(src) {
        Ok(lexed) => hints::place(&mut tree, &lexed),
        Err(_) => Hints::default(),
    };
    Ok((Printer { hints }.file(&tree), warnings))
}

/// Formats a syntax tree without its source: comments go where the tree has them.
pub fn format_file(file: &File) -> String {
    Printer {
        hints: Hints::default(),
    }
    .file(file)
}

struct Printer {
    hints: Hints,
}

/// One output line of an aligned run: its cells, the text after them, and whether it
/// takes part in alignment at all.
struct Row {
    indent: usize,
    cells: Vec<String>,
    rest: String,
    aligned: bool,
}

fn tabs(n: usize) -> String {
    "\t".repeat(n)
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn trailing(t: &Option<String>) -> String {
    t.as_ref().map_or_else(String::new, |c| format!(" {c}"))
}

fn value(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("\"{s}\""),
        Value::Raw(s) => format!("`{s}`"),
        Value::Bare(s) => s.clone(),
    }
}

/// Renders rows, padding each column over runs of consecutive aligned rows that have
/// a cell after it (goctl's tabwriter: the last cell of a line is never padded).
// Columns are walked across rows, so `col` indexes every row's cells.
#[allow(clippy::needless_range_loop)]
fn render_rows(rows: &[Row], out: &mut String) {
    let mut pads: Vec<Vec<usize>> = rows.iter().map(|r| vec![0; r.cells.len()]).collect();
    let max_cols = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    for col in 0..max_cols {
        let mut i = 0;
        while i < rows.len() {
            let has = |r: &Row| r.aligned && r.cells.len() > col + 1;
            if !has(&rows[i]) {
                i += 1;
                continue;
            }
            let mut j = i;
            // A row with a cell after `col` has all earlier cells too, so a run for
            // `col` always sits inside one for `col - 1`, as in tabwriter.
            while j < rows.len() && has(&rows[j]) {
                j += 1;
            }
            let w = rows[i..j]
                .iter()
                .map(|r| width(&r.cells[col]))
                .max()
                .unwrap_or(0);
            for (k, row) in rows.iter().enumerate().take(j).skip(i) {
                pads[k][col] = w + 1 - width(&row.cells[col]);
            }
            i = j;
        }
    }
    for (row, pad) in rows.iter().zip(&pads) {
        out.push_str(&tabs(row.indent));
        for (c, (cell, p)) in row.cells.iter().zip(pad).enumerate() {
            out.push_str(cell);
            if c + 1 < row.cells.len() {
                out.push_str(&" ".repeat((*p).max(1)));
            }
        }
        out.push_str(&row.rest);
        out.push('\n');
    }
}

fn comment_rows(rows: &mut Vec<Row>, comments: &[String], indent: usize) {
    for c in comments {
        rows.push(Row {
            indent,
            cells: vec![c.clone()],
            rest: String::new(),
            aligned: false,
        });
    }
}

impl Printer {
    fn file(&self, f: &File) -> String {
        let mut out = String::new();
        for (i, stmt) in f.stmts.iter().enumerate() {
            if i > 0 {
                let single_import = |s: &Stmt| matches!(s, Stmt::Import(im) if !im.grouped);
                if !(single_import(&f.stmts[i - 1]) && single_import(stmt)) {
                    out.push('\n');
                }
            }
            self.stmt(stmt, &mut out);
        }
        if !f.tail.is_empty() {
            if !f.stmts.is_empty() {
                out.push('\n');
            }
            for c in &f.tail {
                out.push_str(c);
                out.push('\n');
            }
        }
        out
    }

    fn open(&self, key: Pos) -> String {
        self.hints
            .open
            .get(&key)
            .map_or_else(String::new, |c| format!(" {}", c.join(" ")))
    }

    fn lines(out: &mut String, comments: &[String], indent: usize) {
        for c in comments {
            out.push_str(&tabs(indent));
            out.push_str(c);
            out.push('\n');
        }
    }

    fn stmt(&self, stmt: &Stmt, out: &mut String) {
        match stmt {
            Stmt::Syntax(s) => {
                Self::lines(out, &s.comments.leading, 0);
                out.push_str(&format!(
                    "syntax = \"{}\"{}\n",
                    s.version,
                    trailing(&s.comments.trailing)
                ));
            }
            Stmt::Info(b) => {
                Self::lines(out, &b.comments.leading, 0);
                self.kv_block("info", b, 0, &trailing(&b.comments.trailing), out);
            }
            Stmt::Import(i) => self.import(i, out),
            Stmt::Type(t) => self.type_stmt(t, out),
            Stmt::Service(s) => self.service(s, out),
        }
    }

    /// `kw ( pairs )rest`, the pairs' `key:` padded to a column.
    fn kv_block(&self, kw: &str, b: &KvBlock, indent: usize, rest: &str, out: &mut String) {
        if b.pairs.is_empty() && b.tail.is_empty() && !self.hints.open.contains_key(&b.pos) {
            out.push_str(&format!("{}{kw} (){rest}\n", tabs(indent)));
            return;
        }
        out.push_str(&format!("{}{kw} ({}\n", tabs(indent), self.open(b.pos)));
        let mut rows = Vec::new();
        for kv in &b.pairs {
            comment_rows(&mut rows, &kv.comments.leading, indent + 1);
            rows.push(Row {
                indent: indent + 1,
                cells: vec![format!("{}:", kv.key), value(&kv.value)],
                rest: trailing(&kv.comments.trailing),
                aligned: true,
            });
        }
        comment_rows(&mut rows, &b.tail, indent + 1);
        render_rows(&rows, out);
        out.push_str(&format!("{}){rest}\n", tabs(indent)));
    }

    fn import(&self, i: &ImportStmt, out: &mut String) {
        Self::lines(out, &i.comments.leading, 0);
        let end = trailing(&i.comments.trailing);
        if !i.grouped {
            for (path, _, c) in &i.paths {
                Self::lines(out, &c.leading, 0);
                out.push_str(&format!(
                    "import \"{path}\"{}{end}\n",
                    trailing(&c.trailing)
                ));
            }
            return;
        }
        out.push_str(&format!("import ({}\n", self.open(i.pos)));
        for (path, _, c) in &i.paths {
            Self::lines(out, &c.leading, 1);
            out.push_str(&format!("\t\"{path}\"{}\n", trailing(&c.trailing)));
        }
        Self::lines(out, &i.tail, 1);
        out.push_str(&format!("){end}\n"));
    }

    fn type_stmt(&self, t: &TypeStmt, out: &mut String) {
        Self::lines(out, &t.comments.leading, 0);
        if !t.grouped {
            for d in &t.decls {
                Self::lines(out, &d.comments.leading, 0);
                out.push_str("type ");
                out.push_str(&self.decl(d, 0));
                out.push('\n');
            }
            return;
        }
        out.push_str(&format!("type ({}\n", self.open(t.pos)));
        for d in &t.decls {
            Self::lines(out, &d.comments.leading, 1);
            out.push('\t');
            out.push_str(&self.decl(d, 1));
            out.push('\n');
        }
        Self::lines(out, &t.tail, 1);
        out.push_str(&format!("){}\n", trailing(&t.comments.trailing)));
    }

    /// `Name [= ]Type // trailing`, the struct's lines indented under `indent`.
    fn decl(&self, d: &TypeDecl, indent: usize) -> String {
        let (pre, post) = self.hints.inline.get(&d.pos).cloned().unwrap_or_default();
        let mut head: Vec<String> = pre;
        head.push(d.name.clone());
        head.extend(post);
        if d.alias {
            head.push("=".into());
        }
        format!(
            "{} {}{}",
            head.join(" "),
            self.ty(&d.ty, indent, d.pos),
            trailing(&d.comments.trailing)
        )
    }

    /// A type expression; a struct spans lines, its `}` at `indent`.
    fn ty(&self, t: &DataType, indent: usize, key: Pos) -> String {
        match t {
            DataType::Name(n, _) => n.clone(),
            DataType::Any => "any".into(),
            DataType::Interface => "interface{}".into(),
            DataType::Pointer(t) => format!("*{}", self.ty(t, indent, key)),
            DataType::Slice(t) => format!("[]{}", self.ty(t, indent, key)),
            DataType::Array(n, t) => format!("[{n}]{}", self.ty(t, indent, key)),
            DataType::Map(k, v) => format!(
                "map[{}]{}",
                self.ty(k, indent, key),
                self.ty(v, indent, key)
            ),
            DataType::Struct(st) => self.struct_body(st, indent, key),
        }
    }

    fn struct_body(&self, st: &StructType, indent: usize, key: Pos) -> String {
        if st.fields.is_empty() && st.tail.is_empty() && !self.hints.open.contains_key(&key) {
            return "{}".into();
        }
        let mut out = format!("{{{}\n", self.open(key));
        let mut rows = Vec::new();
        for f in &st.fields {
            comment_rows(&mut rows, &f.comments.leading, indent + 1);
            rows.push(self.field(f, indent + 1));
        }
        comment_rows(&mut rows, &st.tail, indent + 1);
        render_rows(&rows, &mut out);
        out.push_str(&tabs(indent));
        out.push('}');
        out
    }

    fn field(&self, f: &Field, indent: usize) -> Row {
        let tag = f.tag.as_ref().map(|t| format!("`{t}`"));
        let end = trailing(&f.comments.trailing);
        let ty = self.ty(&f.ty, indent, f.pos);
        if f.names.is_empty() || ty.contains('\n') {
            let head = if f.names.is_empty() {
                String::new()
            } else {
                let names = f.names.join(", ");
                let inline = self
                    .hints
                    .inline
                    .get(&f.pos)
                    .map(|(_, post)| post.join(" "));
                match inline.filter(|s| !s.is_empty()) {
                    Some(c) => format!("{names} {c} "),
                    None => format!("{names} "),
                }
            };
            let tag = tag.map_or_else(String::new, |t| format!(" {t}"));
            return Row {
                indent,
                cells: vec![format!("{head}{ty}{tag}{end}")],
                rest: String::new(),
                aligned: false,
            };
        }
        let mut cells = vec![f.names.join(", "), ty];
        cells.extend(tag);
        Row {
            indent,
            cells,
            rest: end,
            aligned: true,
        }
    }

    fn service(&self, s: &ServiceStmt, out: &mut String) {
        Self::lines(out, &s.comments.leading, 0);
        if let Some(server) = &s.server {
            self.kv_block("@server", server, 0, "", out);
        }
        if let Some(before) = self.hints.before_service.get(&s.pos) {
            Self::lines(out, before, 0);
        }
        let end = trailing(&s.comments.trailing);
        if s.routes.is_empty() && s.tail.is_empty() && !self.hints.open.contains_key(&s.pos) {
            out.push_str(&format!("service {} {{}}{end}\n", s.name));
            return;
        }
        out.push_str(&format!("service {} {{{}\n", s.name, self.open(s.pos)));
        for (i, r) in s.routes.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            self.route(r, out);
        }
        Self::lines(out, &s.tail, 1);
        out.push_str(&format!("}}{end}\n"));
    }

    fn route(&self, r: &RouteItem, out: &mut String) {
        let h = self.hints.routes.get(&r.handler_pos);
        let list =
            |f: fn(&hints::RouteHints) -> &Vec<String>| h.map_or(&[][..], |h| f(h).as_slice());
        let join = |c: &[String]| {
            if c.is_empty() {
                String::new()
            } else {
                format!(" {}", c.join(" "))
            }
        };
        Self::lines(out, &r.comments.leading, 1);
        let doc_end = join(list(|h| &h.doc_trailing));
        match &r.doc {
            Some(Doc::Literal(s)) => out.push_str(&format!("\t@doc \"{s}\"{doc_end}\n")),
            Some(Doc::Group(b)) => self.kv_block("@doc", b, 1, &doc_end, out),
            None => {}
        }
        Self::lines(out, list(|h| &h.after_doc), 1);
        match &r.server {
            // A legacy route-level `@server` with keys that have no current form.
            Some(b) => self.kv_block("@server", b, 1, "", out),
            None => out.push_str(&format!(
                "\t@handler {}{}\n",
                r.handler,
                join(list(|h| &h.handler_trailing))
            )),
        }
        Self::lines(out, list(|h| &h.before_method), 1);
        let body = |b: &Option<Body>| {
            b.as_ref()
                .filter(|b| !b.name.is_empty())
                .map(|b| format!("({})", b.render()))
        };
        let mut line = format!("\t{} {}", r.method, r.path);
        if let Some(req) = body(&r.request) {
            line.push_str(&format!(" {req}"));
        }
        if let Some(resp) = body(&r.response) {
            line.push_str(&format!(" returns {resp}"));
        }
        out.push_str(&line);
        out.push_str(&trailing(&r.comments.trailing));
        out.push('\n');
    }
}
