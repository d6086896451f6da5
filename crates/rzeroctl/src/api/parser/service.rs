//! `service` blocks and their routes (goctl's `parseService`, `parseRouteStmt`,
//! `parsePathExpr`, `parseBodyStmt`), plus the two route forms of goctl's legacy grammar
//! that real files still use (`tools/goctl/api/parser/g4/ApiParser.g4`: `serviceRoute:
//! atDoc? (atServer|atHandler) route` and `atDoc: ATDOC lp='('? ((kvLit+)|STRING)
//! rp=')'?`): `@doc ("text")` and a route-level `@server(handler: Name)`, whose handler
//! `fillRouteAtServer` in `tools/goctl/api/parser/parser.go` takes. Both are read with a
//! warning into the current form (`@doc "text"`, `@handler Name`).

use super::{KvKind, PResult, Parser};
use crate::api::ast::{Body, Comments, Doc, Kv, KvBlock, METHODS, Pos, RouteItem, ServiceStmt};
use crate::api::lexer::TokenKind;

impl Parser<'_> {
    /// `service name { routes }`, after an optional `@server(...)`.
    pub(super) fn service(
        &mut self,
        server: Option<KvBlock>,
        leading: Vec<String>,
    ) -> PResult<ServiceStmt> {
        if !self.is_ident("service") {
            return Err(self.expected("`service` after `@server(...)`"));
        }
        self.bump();
        let (mut name, pos) = self.expect_ident("the service's name")?;
        if self.is_punct('-') {
            self.bump();
            if !self.is_ident("api") {
                return Err(
                    self.expected("`api` (a service name is `name` or `name-api`, as in goctl)")
                );
            }
            self.bump();
            name.push_str("-api");
        }
        self.expect_punct('{')?;
        let mut stmt = ServiceStmt {
            server,
            name,
            pos,
            routes: Vec::new(),
            comments: Comments::default(),
            tail: Vec::new(),
        };
        loop {
            let lead = self.leading();
            if self.is_punct('}') {
                stmt.tail = lead;
                self.bump();
                break;
            }
            stmt.routes.push(self.route(lead)?);
        }
        stmt.comments = self.finish(leading);
        Ok(stmt)
    }

    fn route(&mut self, mut lead: Vec<String>) -> PResult<RouteItem> {
        let doc = if self.peek().kind == TokenKind::AtDoc {
            let at = self.bump().pos;
            Some(self.doc(at)?)
        } else {
            None
        };
        let (handler, handler_pos, server) = match self.peek().kind {
            TokenKind::AtHandler => {
                self.bump();
                let (handler, pos) = self.expect_ident("the handler's name")?;
                (handler, pos, None)
            }
            TokenKind::AtServer => self.route_server(&mut lead)?,
            _ => {
                let what = if doc.is_some() {
                    "`@handler` after `@doc`"
                } else {
                    "`@doc`, `@handler` or `}`"
                };
                return Err(self.expected(what));
            }
        };
        let method = match &self.peek().kind {
            TokenKind::Ident(m) if METHODS.contains(&m.as_str()) => m.clone(),
            _ => {
                return Err(self.expected(&format!(
                    "an HTTP method in lower case ({})",
                    METHODS.join(", ")
                )));
            }
        };
        self.bump();
        let path_pos = self.peek().pos;
        let path = self.route_path()?;
        let mut request = None;
        let mut response = None;
        if self.is_punct('(') {
            request = Some(self.body()?);
        }
        if self.is_ident("returns") {
            self.bump();
            if !self.is_punct('(') {
                return Err(self.expected("`(` after `returns`"));
            }
            response = Some(self.body()?);
        }
        if self.is_punct(';') {
            self.bump();
        }
        if !self.route_ends() {
            return Err(self.expected("`returns`, `@doc`, `@handler` or `}`"));
        }
        Ok(RouteItem {
            doc,
            handler,
            handler_pos,
            server,
            method,
            path,
            path_pos,
            request,
            response,
            comments: self.finish(lead),
        })
    }

    /// `"text"`, `( key: value ... )`, or the legacy `("text")`, after `@doc` at `at`.
    fn doc(&mut self, at: Pos) -> PResult<Doc> {
        let legacy = match (&self.peek_at(1).kind, &self.peek_at(2).kind) {
            (TokenKind::Str(s), TokenKind::Punct(')')) if self.is_punct('(') => Some(s.clone()),
            _ => None,
        };
        if let Some(s) = legacy {
            self.i += 3;
            let s2 = super::kv::shown(&s);
            self.warn(
                at,
                format!(
                    "`@doc (\"{s2}\")` is goctl's legacy form (only GOCTL_EXPERIMENTAL=off \
                     reads it); write `@doc \"{s2}\"` (`rzeroctl api format` does)"
                ),
            );
            return Ok(Doc::Literal(s));
        }
        match &self.peek().kind {
            TokenKind::Str(s) => {
                let s = s.clone();
                self.bump();
                Ok(Doc::Literal(s))
            }
            TokenKind::Punct('(') => Ok(Doc::Group(self.kv_block(at, KvKind::Doc)?)),
            _ => Err(self.expected("a doc string or `(` after `@doc`")),
        }
    }

    /// The legacy route-level `@server(handler: Name ...)`: the handler's name and
    /// where it is, and the block itself when it holds other keys too (they have no
    /// current form, so the formatter keeps the block). With only `handler`, the block's
    /// comments join the route's `lead`.
    fn route_server(&mut self, lead: &mut Vec<String>) -> PResult<(String, Pos, Option<KvBlock>)> {
        let at = self.bump().pos;
        let block = self.kv_block(at, KvKind::Server)?;
        let Some(kv) = block.pairs.iter().find(|kv| kv.key == "handler") else {
            return Err(self.error_at(
                at,
                "a route-level `@server(...)` needs `handler: Name` (or write `@handler Name`)",
            ));
        };
        let name = kv.value.text().to_string();
        let ident = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident {
            return Err(self.error_at(
                kv.pos,
                format!("handler `{name}` is not a name: use letters, digits and `_`"),
            ));
        }
        let pos = kv.pos;
        let others: Vec<&str> = block
            .pairs
            .iter()
            .filter(|kv| kv.key != "handler")
            .map(|kv| kv.key.as_str())
            .collect();
        if others.is_empty() {
            self.warn(
                at,
                format!(
                    "a route-level `@server(handler: {name})` is goctl's legacy form (only \
                     GOCTL_EXPERIMENTAL=off reads it); write `@handler {name}` \
                     (`rzeroctl api format` does)"
                ),
            );
            for kv in block.pairs {
                lead.extend(comments_of(kv));
            }
            lead.extend(block.tail);
            return Ok((name, pos, None));
        }
        self.warn(
            at,
            format!(
                "a route-level `@server(...)` is goctl's legacy form (only \
                 GOCTL_EXPERIMENTAL=off reads it); rzeroctl takes its handler `{name}` and \
                 ignores {}; write `@handler {name}` and move the rest to the service's \
                 `@server`",
                others
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        Ok((name, pos, Some(block)))
    }

    /// The tokens that may follow a route: the next route or the block's end.
    fn route_ends(&self) -> bool {
        matches!(
            self.peek().kind,
            TokenKind::AtDoc | TokenKind::AtHandler | TokenKind::AtServer | TokenKind::Punct('}')
        )
    }

    /// goctl's path: `/` segments, each an optional `:` then words joined by `-`, `.`
    /// or nothing (`/a/b_c/d-e/:f/123/index.html`); a bare `/` is the root.
    fn route_path(&mut self) -> PResult<String> {
        if !self.is_punct('/') {
            return Err(self.expected("a path starting with `/`"));
        }
        let mut path = String::new();
        while self.is_punct('/') {
            self.bump();
            path.push('/');
            if self.is_punct('(')
                || self.is_punct(';')
                || self.is_ident("returns")
                || self.route_ends()
            {
                break;
            }
            if self.is_punct(':') {
                self.bump();
                path.push(':');
            }
            path.push_str(&self.path_word()?);
            loop {
                match &self.peek().kind {
                    TokenKind::Punct(c @ ('-' | '.')) => {
                        path.push(*c);
                        self.bump();
                        path.push_str(&self.path_word()?);
                    }
                    TokenKind::Ident(w) if w != "returns" && self.adjacent() => {
                        path.push_str(w);
                        self.bump();
                    }
                    TokenKind::Int(w) | TokenKind::Duration(w) if self.adjacent() => {
                        path.push_str(w);
                        self.bump();
                    }
                    _ => break,
                }
            }
        }
        if !(self.is_punct('(')
            || self.is_punct(';')
            || self.is_ident("returns")
            || self.route_ends())
        {
            return Err(self.expected("`/`, `(`, `returns` or the next route"));
        }
        Ok(path)
    }

    /// Whether the next token touches the previous one (`2fa` lexes as `2` `fa`).
    fn adjacent(&self) -> bool {
        let (prev, next) = (self.prev(), self.peek());
        next.pos.line == prev.end_line && next.pos.column > prev.pos.column && {
            let width = match &prev.kind {
                TokenKind::Ident(s) | TokenKind::Int(s) | TokenKind::Duration(s) => {
                    s.chars().count() as u32
                }
                _ => 1,
            };
            prev.pos.column + width == next.pos.column
        }
    }

    /// A path segment's word: goctl's `parsePathItem` takes an identifier or a number.
    fn path_word(&mut self) -> PResult<String> {
        match &self.peek().kind {
            TokenKind::Ident(s) | TokenKind::Int(s) | TokenKind::Duration(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => Err(self.expected("a path segment")),
        }
    }

    /// `(Name)`, `(*Name)`, `([]Name)`, `([]*Name)` or `()`.
    fn body(&mut self) -> PResult<Body> {
        let open = self.expect_punct('(')?;
        let mut body = Body {
            slice: false,
            pointer: false,
            name: String::new(),
            pos: open.pos,
        };
        if self.is_punct(')') {
            self.bump();
            return Ok(body);
        }
        if self.is_punct('[') {
            self.bump();
            self.expect_punct(']')?;
            body.slice = true;
        }
        if self.is_punct('*') {
            self.bump();
            body.pointer = true;
        }
        let (name, pos) = self.expect_ident("a type name")?;
        body.name = name;
        body.pos = pos;
        self.expect_punct(')')?;
        Ok(body)
    }
}

/// A pair's comments, leading then trailing.
fn comments_of(kv: Kv) -> Vec<String> {
    let mut out = kv.comments.leading;
    out.extend(kv.comments.trailing);
    out
}
