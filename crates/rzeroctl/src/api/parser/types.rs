//! `type` statements and type expressions (goctl's `parseTypeStmt`, `parseDataType`,
//! `parseElemExpr` in `tools/goctl/pkg/parser/api/parser/parser.go`).

use super::{PResult, Parser};
use crate::api::ast::{Comments, DataType, Field, StructType, TypeDecl, TypeStmt};
use crate::api::lexer::TokenKind;

/// Words that cannot name a type, a field or a base type: Go's keywords, exactly the
/// list goctl's `curTokenIsKeyword` refuses (`keywords` in
/// `tools/goctl/pkg/parser/api/token/token.go`). `syntax`, `info`, `service` and
/// `returns` are not among them: goctl takes `type info {}`.
const KEYWORDS: [&str; 25] = [
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
];

impl Parser<'_> {
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
        // goctl's legacy grammar wrote `type X struct {...}` (`typeStruct: structName=ID
        // structToken=ID? '{' field* '}'` in `tools/goctl/api/parser/g4/ApiParser.g4`);
        // its current parser takes `struct` for the Go keyword it is.
        let legacy_struct =
            !alias && self.is_ident("struct") && self.peek_at(1).kind == TokenKind::Punct('{');
        let ty = if legacy_struct {
            let at = self.bump().pos;
            self.warn(
                at,
                format!(
                    "`{name} struct {{` is goctl's legacy form (only GOCTL_EXPERIMENTAL=off \
                     reads it); write `{name} {{` (`rzeroctl api format` does)"
                ),
            );
            self.struct_type().map(DataType::Struct)?
        } else {
            self.data_type()?
        };
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
            // goctl's `TestNestTypeApi` (`tools/goctl/api/gogen/gen_test.go`) wants
            // `XXX struct {}` inside a struct refused: `struct` is a keyword to the
            // current parser, and the legacy one's `checkKeyword` refuses it as the
            // nested type's name.
            TokenKind::Ident(w)
                if w == "struct" && self.peek_at(1).kind == TokenKind::Punct('{') =>
            {
                Err(self.error_at(
                    self.peek().pos,
                    "expected a type, found the keyword `struct`: an inline struct is \
                     written `Name {...}` (goctl refuses `struct` here, in both its grammars)",
                ))
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

    /// goctl's `parseElemExpr`: `*T` and a lone `T` (followed by a tag or a new line)
    /// are embedded; otherwise `Name[, Name] Type`; then an optional tag. So `Base }` on
    /// one line is a field without a type, as in goctl, and `Name` over `string}` is an
    /// embedded `Name` then a field `string` without a type: goctl's parser tests
    /// (`TestParser_Parse_parseTypeStmt_invalid`: `"type  A {Name \n string}"`) want
    /// both refused.
    fn field(&mut self, lead: Vec<String>) -> PResult<Field> {
        let start = self.peek().clone();
        let mut names = Vec::new();
        let ty = match &start.kind {
            TokenKind::Punct('*') => {
                self.bump();
                // goctl checks no keyword here (`parseElemExpr` after `*`).
                let (name, pos) = self.expect_ident("an embedded type's name")?;
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
                let embedded =
                    next.pos.line > start.end_line || matches!(next.kind, TokenKind::Raw(_));
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
