//! `service` blocks and their routes (goctl's `parseService`, `parseRouteStmt`,
//! `parsePathExpr`, `parseBodyStmt`).

use super::{KvKind, PResult, Parser};
use crate::api::ast::{Body, Comments, Doc, KvBlock, METHODS, RouteItem, ServiceStmt};
use crate::api::lexer::TokenKind;

impl Parser {
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

    fn route(&mut self, lead: Vec<String>) -> PResult<RouteItem> {
        let doc = if self.peek().kind == TokenKind::AtDoc {
            let at = self.bump().pos;
            Some(match &self.peek().kind {
                TokenKind::Str(s) => {
                    let s = s.clone();
                    self.bump();
                    Doc::Literal(s)
                }
                TokenKind::Punct('(') => Doc::Group(self.kv_block(at, KvKind::Doc)?),
                _ => return Err(self.expected("a doc string or `(` after `@doc`")),
            })
        } else {
            None
        };
        if self.peek().kind != TokenKind::AtHandler {
            let what = if doc.is_some() {
                "`@handler` after `@doc`"
            } else {
                "`@doc`, `@handler` or `}`"
            };
            return Err(self.expected(what));
        }
        self.bump();
        let (handler, handler_pos) = self.expect_ident("the handler's name")?;
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
            method,
            path,
            path_pos,
            request,
            response,
            comments: self.finish(lead),
        })
    }

    /// The tokens that may follow a route: the next route or the block's end.
    fn route_ends(&self) -> bool {
        matches!(
            self.peek().kind,
            TokenKind::AtDoc | TokenKind::AtHandler | TokenKind::Punct('}')
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
