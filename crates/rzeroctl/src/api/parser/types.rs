//! `type` statements and type expressions (goctl's `parseTypeStmt`, `parseDataType`,
//! `parseElemExpr`).

use super::{PResult, Parser};
use crate::api::ast::{Comments, DataType, Field, StructType, TypeDecl, TypeStmt};
use crate::api::lexer::TokenKind;

/// Words that cannot name a type or a field.
const KEYWORDS: [&str; 6] = ["syntax", "info", "import", "type", "service", "returns"];

impl Parser {
    pub(super) fn type_stmt(&mut self, leading: Vec<String>) -> PResult<TypeStmt> {
        let pos = self.bump().pos;
        let mut stmt = TypeStmt {
            grouped: false,
            decls: Vec::new(),
            pos,
            comments: Comments::default(),
            tail: Vec::new(),
        };
        if self.is_punct('(') {
            self.bump();
            stmt.grouped = true;
            loop {
                let lead = self.leading();
                if self.is_punct(')') {
                    stmt.tail = lead;
                    self.bump();
                    break;
                }
                let decl = self.type_decl(lead, "a type name or `)`")?;
                stmt.decls.push(decl);
            }
            stmt.comments = self.finish(leading);
        } else {
            // A single declaration keeps the statement's comments.
            let decl = self.type_decl(leading, "a type name or `(`")?;
            stmt.decls.push(decl);
        }
        Ok(stmt)
    }

    fn type_decl(&mut self, lead: Vec<String>, what: &str) -> PResult<TypeDecl> {
        let (name, pos) = self.name(what)?;
        let alias = self.is_punct('=');
        if alias {
            self.bump();
        }
        let ty = self.data_type()?;
        Ok(TypeDecl {
            name,
            alias,
            ty,
            pos,
            comments: self.finish(lead),
        })
    }

    /// An identifier that is not a keyword.
    fn name(&mut self, what: &str) -> PResult<(String, crate::api::ast::Pos)> {
        if let TokenKind::Ident(w) = &self.peek().kind
            && KEYWORDS.contains(&w.as_str())
        {
            return Err(self.error_at(
                self.peek().pos,
                format!("expected {what}, found the keyword `{w}`"),
            ));
        }
        self.expect_ident(what)
    }

    pub(super) fn data_type(&mut self) -> PResult<DataType> {
        self.enter()?;
        let r = self.data_type_inner();
        self.leave();
        r
    }

    fn data_type_inner(&mut self) -> PResult<DataType> {
        let what = "a type (a name, `[]T`, `[N]T`, `map[K]V`, `*T`, `interface{}` or `{...}`)";
        match self.peek().kind.clone() {
            TokenKind::Ident(w) if w == "any" => {
                self.bump();
                Ok(DataType::Any)
            }
            // goctl's legacy grammar wrote `type X struct {...}`; still common in the wild.
            TokenKind::Ident(w)
                if w == "struct" && self.peek_at(1).kind == TokenKind::Punct('{') =>
            {
                self.bump();
                self.struct_type().map(DataType::Struct)
            }
            TokenKind::Ident(w) if w == "map" => {
                self.bump();
                self.expect_punct('[')?;
                let key = self.data_type()?;
                self.expect_punct(']')?;
                let value = self.data_type()?;
                Ok(DataType::Map(Box::new(key), Box::new(value)))
            }
            TokenKind::Ident(_) => {
                let (name, pos) = self.name(what)?;
                Ok(DataType::Name(name, pos))
            }
            TokenKind::Interface => {
                self.bump();
                Ok(DataType::Interface)
            }
            TokenKind::Punct('*') => {
                self.bump();
                Ok(DataType::Pointer(Box::new(self.data_type()?)))
            }
            TokenKind::Punct('{') => self.struct_type().map(DataType::Struct),
            TokenKind::Punct('[') => {
                self.bump();
                match self.peek().kind.clone() {
                    TokenKind::Punct(']') => {
                        self.bump();
                        Ok(DataType::Slice(Box::new(self.data_type()?)))
                    }
                    TokenKind::Int(n) => {
                        self.bump();
                        self.expect_punct(']')?;
                        Ok(DataType::Array(n, Box::new(self.data_type()?)))
                    }
                    TokenKind::Ellipsis => {
                        self.bump();
                        self.expect_punct(']')?;
                        Ok(DataType::Array("...".into(), Box::new(self.data_type()?)))
                    }
                    _ => Err(self.expected("`]`, an array length or `...`")),
                }
            }
            _ => Err(self.expected(what)),
        }
    }

    fn struct_type(&mut self) -> PResult<StructType> {
        self.expect_punct('{')?;
        let mut st = StructType::default();
        loop {
            let lead = self.leading();
            if self.is_punct('}') {
                st.tail = lead;
                self.bump();
                return Ok(st);
            }
            let field = self.field(lead)?;
            st.fields.push(field);
        }
    }

    /// goctl's `parseElemExpr`: `*T` and a lone `T` (followed by a tag, a new line or
    /// `}`) are embedded; otherwise `Name[, Name] Type`; then an optional tag.
    fn field(&mut self, lead: Vec<String>) -> PResult<Field> {
        let start = self.peek().clone();
        let mut names = Vec::new();
        let ty = match &start.kind {
            TokenKind::Punct('*') => {
                self.bump();
                let (name, pos) = self.name("an embedded type's name")?;
                let inner = if name == "any" {
                    DataType::Any
                } else {
                    DataType::Name(name, pos)
                };
                DataType::Pointer(Box::new(inner))
            }
            TokenKind::Ident(_) => {
                let (first, pos) = self.name("a field name or `}`")?;
                let next = self.peek();
                let embedded = next.pos.line > start.end_line
                    || matches!(next.kind, TokenKind::Raw(_) | TokenKind::Punct('}'));
                if embedded {
                    if first == "any" {
                        DataType::Any
                    } else {
                        DataType::Name(first, pos)
                    }
                } else {
                    names.push(first);
                    while self.is_punct(',') {
                        self.bump();
                        names.push(self.name("a field name")?.0);
                    }
                    self.data_type()?
                }
            }
            _ => return Err(self.expected("a field name, `*` or `}`")),
        };
        let tag = match &self.peek().kind {
            TokenKind::Raw(s) => {
                let s = s.clone();
                self.bump();
                Some(s)
            }
            TokenKind::Ident(_) | TokenKind::Punct('*') | TokenKind::Punct('}') => None,
            _ => return Err(self.expected("a tag (`json:\"name\"`), the next field or `}`")),
        };
        Ok(Field {
            names,
            ty,
            tag,
            pos: start.pos,
            comments: self.finish(lead),
        })
    }
}
