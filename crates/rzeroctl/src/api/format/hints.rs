//! Where comments sat in the source, for the few places the syntax tree cannot say.
//!
//! The parser attaches every comment to an item (`leading`, `trailing`, `tail`), which
//! never loses one but moves some: a comment after an opening `{`/`(` becomes the first
//! child's leading comment, and one after `@handler name` becomes the route's. goctl
//! keeps those where they were (`service foo { // foo`), so before printing we look at
//! the tokens and comments again (the lexer is cheap) and move such comments into side
//! tables keyed by the item's position. A comment is only moved when the tree's list
//! and the source agree on it text for text; otherwise it stays where the parser put
//! it, so this step can reorder comments but never drop one.

use std::collections::BTreeMap;

use crate::api::ast::{DataType, Doc, File, Pos, RouteItem, Stmt, StructType};
use crate::api::lexer::{Comment, Lexed, Token, TokenKind};

/// Comments placed by source position, keyed by the position of the item they go with.
#[derive(Debug, Default)]
pub(super) struct Hints {
    /// Comments on the line of an item's opening `{` or `(`, printed after it.
    pub(super) open: BTreeMap<Pos, Vec<String>>,
    /// Single-line block comments printed inline around a declaration's name:
    /// (before the name, after it).
    pub(super) inline: BTreeMap<Pos, (Vec<String>, Vec<String>)>,
    /// Comments printed right before `service name {` (after any `@server` block).
    pub(super) before_service: BTreeMap<Pos, Vec<String>>,
    /// Per route (keyed by the handler's position): comments inside the route.
    pub(super) routes: BTreeMap<Pos, RouteHints>,
}

/// Comments inside one route, by where they were.
#[derive(Debug, Default)]
pub(super) struct RouteHints {
    /// On the `@doc` line, after it.
    pub(super) doc_trailing: Vec<String>,
    /// On their own lines between `@doc` and `@handler`.
    pub(super) after_doc: Vec<String>,
    /// On the `@handler` line, after the name.
    pub(super) handler_trailing: Vec<String>,
    /// Between the `@handler` line and the end of the route: printed before the method.
    pub(super) before_method: Vec<String>,
}

/// Moves comments out of `file` into [`Hints`] using the source's tokens.
pub(super) fn place(file: &mut File, lexed: &Lexed) -> Hints {
    let mut p = Placer {
        toks: &lexed.tokens,
        comments: &lexed.comments,
        hints: Hints::default(),
    };
    for stmt in &mut file.stmts {
        p.stmt(stmt);
    }
    p.hints
}

struct Placer<'a> {
    toks: &'a [Token],
    comments: &'a [Comment],
    hints: Hints,
}

fn texts_eq(a: &[String], b: &[Comment]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| *x == y.text)
}

fn is_inline(c: &str) -> bool {
    c.starts_with("/*") && !c.contains('\n')
}

/// The first struct in a type expression (`[]{...}`, `map[K]{...}`, `*{...}`).
fn struct_of(ty: &mut DataType) -> Option<&mut StructType> {
    match ty {
        DataType::Struct(st) => Some(st),
        DataType::Pointer(t) | DataType::Slice(t) | DataType::Array(_, t) => struct_of(t),
        DataType::Map(_, v) => struct_of(v),
        _ => None,
    }
}

impl Placer<'_> {
    fn token_index(&self, pos: Pos) -> Option<usize> {
        let i = self.toks.partition_point(|t| t.pos < pos);
        (self.toks.get(i)?.pos == pos).then_some(i)
    }

    /// Comments strictly between two positions.
    fn between(&self, a: Pos, b: Pos) -> &[Comment] {
        let lo = self.comments.partition_point(|c| c.pos <= a);
        let hi = self.comments.partition_point(|c| c.pos < b).max(lo);
        &self.comments[lo..hi]
    }

    /// Splits the open-line comments of the bracket `open` after `item` off the front of
    /// `first` (the first child's leading comments, or the block's tail). Returns the
    /// comments that were before the bracket (with their positions) and sets the hint.
    fn open(&mut self, item: Pos, open: char, first: &mut Vec<String>) -> Vec<(String, Pos)> {
        let start = self.toks.partition_point(|t| t.pos <= item);
        let Some(oi) =
            (start..self.toks.len()).find(|&i| self.toks[i].kind == TokenKind::Punct(open))
        else {
            return Vec::new();
        };
        let (bracket, next) = (&self.toks[oi], self.toks.get(oi + 1).map(|t| t.pos));
        let after = self.between(
            bracket.pos,
            next.unwrap_or(Pos {
                line: u32::MAX,
                column: 0,
            }),
        );
        let same: Vec<&Comment> = after
            .iter()
            .take_while(|c| c.pos.line == bracket.end_line)
            .collect();
        let Some(head) = same.first() else {
            return Vec::new();
        };
        let k = self.comments.partition_point(|c| c.pos < head.pos);
        for idx in 0..=first.len().saturating_sub(same.len()).min(k) {
            let mid = first.get(idx..idx + same.len());
            let mid_ok = mid.is_some_and(|m| m.iter().zip(&same).all(|(x, y)| *x == y.text));
            if mid_ok && texts_eq(&first[..idx], &self.comments[k - idx..k]) {
                let before: Vec<(String, Pos)> = self.comments[k - idx..k]
                    .iter()
                    .map(|c| (c.text.clone(), c.pos))
                    .collect();
                let opened: Vec<String> = first.drain(..idx + same.len()).skip(idx).collect();
                self.hints.open.insert(item, opened);
                return before;
            }
        }
        Vec::new()
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        match stmt {
            Stmt::Syntax(_) => {}
            Stmt::Info(b) => {
                let first = b
                    .pairs
                    .first_mut()
                    .map_or(&mut b.tail, |kv| &mut kv.comments.leading);
                let before = self.open(b.pos, '(', first);
                b.comments.leading.extend(before.into_iter().map(|c| c.0));
            }
            Stmt::Import(i) if i.grouped => {
                let first = i
                    .paths
                    .first_mut()
                    .map_or(&mut i.tail, |p| &mut p.2.leading);
                let before = self.open(i.pos, '(', first);
                i.comments.leading.extend(before.into_iter().map(|c| c.0));
            }
            Stmt::Import(_) => {}
            Stmt::Type(t) => {
                if t.grouped {
                    let first = t
                        .decls
                        .first_mut()
                        .map_or(&mut t.tail, |d| &mut d.comments.leading);
                    let before = self.open(t.pos, '(', first);
                    t.comments.leading.extend(before.into_iter().map(|c| c.0));
                }
                for d in &mut t.decls {
                    let before = self.structs(d.pos, &mut d.ty);
                    if before.iter().all(|c| is_inline(&c.0)) {
                        let (pre, post): (Vec<_>, Vec<_>) =
                            before.into_iter().partition(|c| c.1 < d.pos);
                        if !pre.is_empty() || !post.is_empty() {
                            let strip =
                                |v: Vec<(String, Pos)>| v.into_iter().map(|c| c.0).collect();
                            self.hints.inline.insert(d.pos, (strip(pre), strip(post)));
                        }
                    } else {
                        d.comments.leading.extend(before.into_iter().map(|c| c.0));
                    }
                }
            }
            Stmt::Service(s) => {
                if let Some(server) = &mut s.server {
                    let first = server
                        .pairs
                        .first_mut()
                        .map_or(&mut server.tail, |kv| &mut kv.comments.leading);
                    let before = self.open(server.pos, '(', first);
                    s.comments.leading.extend(before.into_iter().map(|c| c.0));
                }
                let first = s
                    .routes
                    .first_mut()
                    .map_or(&mut s.tail, |r| &mut r.comments.leading);
                let before = self.open(s.pos, '{', first);
                if !before.is_empty() {
                    self.hints
                        .before_service
                        .insert(s.pos, before.into_iter().map(|c| c.0).collect());
                }
                for r in &mut s.routes {
                    self.route(r);
                }
            }
        }
    }

    /// Open-line comments of the struct in `ty` (and of every struct nested in it);
    /// returns the comments that sat between the item's start and its `{`.
    fn structs(&mut self, item: Pos, ty: &mut DataType) -> Vec<(String, Pos)> {
        let Some(st) = struct_of(ty) else {
            return Vec::new();
        };
        let first = st
            .fields
            .first_mut()
            .map_or(&mut st.tail, |f| &mut f.comments.leading);
        let before = self.open(item, '{', first);
        for f in &mut st.fields {
            let inner = self.structs(f.pos, &mut f.ty);
            if !inner.is_empty() && inner.iter().all(|c| is_inline(&c.0)) {
                let post = inner.into_iter().map(|c| c.0).collect();
                self.hints.inline.insert(f.pos, (Vec::new(), post));
            } else {
                f.comments.leading.extend(inner.into_iter().map(|c| c.0));
            }
        }
        before
    }

    fn route(&mut self, r: &mut RouteItem) {
        if let Some(Doc::Group(b)) = &mut r.doc {
            let first = b
                .pairs
                .first_mut()
                .map_or(&mut b.tail, |kv| &mut kv.comments.leading);
            let before = self.open(b.pos, '(', first);
            r.comments.leading.extend(before.into_iter().map(|c| c.0));
        }
        let Some(hi) = self.token_index(r.handler_pos) else {
            return;
        };
        // A legacy `@server(handler: X)` route keeps its comments where the parser put them.
        let Some(at_handler) = hi
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .filter(|t| t.kind == TokenKind::AtHandler)
        else {
            return;
        };
        // The route's last token: the one before the next route or the closing `}`.
        let Some(end) = (hi + 1..self.toks.len()).find(|&i| {
            self.toks[i].pos > r.path_pos
                && matches!(
                    self.toks[i].kind,
                    TokenKind::AtDoc
                        | TokenKind::AtHandler
                        | TokenKind::AtServer
                        | TokenKind::Punct('}')
                        | TokenKind::Eof
                )
        }) else {
            return;
        };
        let last = &self.toks[end - 1];
        let (from, doc_line) = match &r.doc {
            // Inside a `@doc (...)` the block keeps its comments; start after its `)`.
            Some(Doc::Group(_)) => {
                let close = &self.toks[hi.saturating_sub(2)];
                (close.pos, Some(close.end_line))
            }
            Some(Doc::Literal(_)) => {
                let close = &self.toks[hi.saturating_sub(2)];
                let at_doc = self.toks[..hi]
                    .iter()
                    .rev()
                    .find(|t| t.kind == TokenKind::AtDoc);
                (at_doc.map_or(close.pos, |t| t.pos), Some(close.end_line))
            }
            None => (at_handler.pos, None),
        };
        let inside = self.between(from, last.pos);
        let lead = &mut r.comments.leading;
        if inside.is_empty()
            || lead.len() < inside.len()
            || !texts_eq(&lead[lead.len() - inside.len()..], inside)
        {
            return;
        }
        lead.truncate(lead.len() - inside.len());
        let handler_line = self.toks[hi].end_line;
        let method_pos = self.toks.get(hi + 1).map_or(r.path_pos, |t| t.pos);
        let mut h = RouteHints::default();
        for c in inside {
            let text = c.text.clone();
            if c.pos < at_handler.pos {
                if Some(c.pos.line) == doc_line {
                    h.doc_trailing.push(text);
                } else {
                    h.after_doc.push(text);
                }
            } else if c.pos < method_pos && c.pos.line == handler_line {
                h.handler_trailing.push(text);
            } else {
                h.before_method.push(text);
            }
        }
        self.hints.routes.insert(r.handler_pos, h);
    }
}
