//! The syntax tree of one `.api` file, in source order and with its comments, as the
//! formatter needs it. Generators use the resolved [`crate::api::spec`] instead.
//!
//! Comments are attached to the nearest item: the ones before an item (and any inside
//! it) are its `leading` comments, one on the same line after it is its `trailing`
//! comment, and those before a closing `)`/`}` belong to the block. So formatting moves
//! a comment at most to the start of its item and never drops one.

pub use super::lexer::Pos;
use super::parser::Warning;

/// Comments around an item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comments {
    /// Whole comments before the item (and any that were inside it), in order.
    pub leading: Vec<String>,
    /// A comment on the same line after the item.
    pub trailing: Option<String>,
}

/// One parsed `.api` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct File {
    /// Top-level statements in source order.
    pub stmts: Vec<Stmt>,
    /// Comments after the last statement.
    pub tail: Vec<String>,
    /// Legacy forms read (the tree holds their current form), in source order.
    pub warnings: Vec<Warning>,
}

/// A top-level statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stmt {
    /// `syntax = "v1"`.
    Syntax(SyntaxStmt),
    /// `info (...)`.
    Info(KvBlock),
    /// `import "a.api"` or `import ( ... )`.
    Import(ImportStmt),
    /// `type X {...}` or `type ( ... )`.
    Type(TypeStmt),
    /// `@server(...) service name { ... }`.
    Service(ServiceStmt),
}

/// `syntax = "v1"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxStmt {
    /// The version string's content.
    pub version: String,
    /// Where the version string is.
    pub pos: Pos,
    /// Comments.
    pub comments: Comments,
}

/// A value in an `info`, `@server` or `@doc` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `"text"` (content without quotes).
    Str(String),
    /// `` `text` `` (content without backticks).
    Raw(String),
    /// An identifier, path (`/api/v1`, `foo-bar`), list (`A,B`), number or duration,
    /// exactly as written.
    Bare(String),
}

impl Value {
    /// The value's text without quotes.
    pub fn text(&self) -> &str {
        match self {
            Value::Str(s) | Value::Raw(s) | Value::Bare(s) => s,
        }
    }
}

/// `key: value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kv {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Value,
    /// Where the key is.
    pub pos: Pos,
    /// Comments.
    pub comments: Comments,
}

/// `( key: value ... )` after `info`, `@server` or `@doc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvBlock {
    /// The pairs in order.
    pub pairs: Vec<Kv>,
    /// Where the keyword is.
    pub pos: Pos,
    /// Comments around the block.
    pub comments: Comments,
    /// Comments before the closing `)`.
    pub tail: Vec<String>,
}

/// `import "a.api"` or `import ( "a.api" "b.api" )`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportStmt {
    /// Whether it was the grouped form.
    pub grouped: bool,
    /// The paths, each with its position and comments.
    pub paths: Vec<(String, Pos, Comments)>,
    /// Where `import` is.
    pub pos: Pos,
    /// Comments.
    pub comments: Comments,
    /// Comments before the closing `)` of a group.
    pub tail: Vec<String>,
}

/// `type X ...` or `type ( X ... Y ... )`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeStmt {
    /// Whether it was the grouped form.
    pub grouped: bool,
    /// The declarations.
    pub decls: Vec<TypeDecl>,
    /// Where `type` is.
    pub pos: Pos,
    /// Comments.
    pub comments: Comments,
    /// Comments before the closing `)` of a group.
    pub tail: Vec<String>,
}

/// `Name {...}`, `Name int` or `Name = string`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDecl {
    /// The type's name.
    pub name: String,
    /// Whether it was written `Name = T` (an alias).
    pub alias: bool,
    /// The type.
    pub ty: DataType,
    /// Where the name is.
    pub pos: Pos,
    /// Comments.
    pub comments: Comments,
}

/// A type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataType {
    /// A base type (`string`, `int64`, ...) or a declared type's name.
    Name(String, Pos),
    /// `any`.
    Any,
    /// `interface{}`.
    Interface,
    /// `*T`.
    Pointer(Box<DataType>),
    /// `[]T`.
    Slice(Box<DataType>),
    /// `[N]T` or `[...]T` (the length as written).
    Array(String, Box<DataType>),
    /// `map[K]V`.
    Map(Box<DataType>, Box<DataType>),
    /// `{ fields }`.
    Struct(StructType),
}

/// `{ fields }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StructType {
    /// The fields in order.
    pub fields: Vec<Field>,
    /// Comments before the closing `}`.
    pub tail: Vec<String>,
}

/// A struct field: `Name T `tag``, `A, B T`, or an embedded `T` / `*T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The names; empty for an embedded (anonymous) field.
    pub names: Vec<String>,
    /// The type.
    pub ty: DataType,
    /// The tag's content without backticks.
    pub tag: Option<String>,
    /// Where the field starts.
    pub pos: Pos,
    /// Comments.
    pub comments: Comments,
}

/// `@server(...) service name { routes }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStmt {
    /// The `@server` annotations, if any.
    pub server: Option<KvBlock>,
    /// The service's name (`order-api`).
    pub name: String,
    /// Where the name is.
    pub pos: Pos,
    /// The routes.
    pub routes: Vec<RouteItem>,
    /// Comments around the statement.
    pub comments: Comments,
    /// Comments before the closing `}`.
    pub tail: Vec<String>,
}

/// `@doc ...` (either form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doc {
    /// `@doc "text"`.
    Literal(String),
    /// `@doc ( key: value ... )`.
    Group(KvBlock),
}

/// `[@doc ...] @handler name  method /path (Req) returns (Resp)` (or, in goctl's legacy
/// grammar, `@server(handler: name)` instead of `@handler name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteItem {
    /// The `@doc`, if any.
    pub doc: Option<Doc>,
    /// The handler's name.
    pub handler: String,
    /// Where the handler's name is.
    pub handler_pos: Pos,
    /// A legacy route-level `@server(handler: Name ...)` that holds keys besides
    /// `handler`, kept as written (they have no current form); `None` otherwise.
    pub server: Option<KvBlock>,
    /// The HTTP method, lower case as written.
    pub method: String,
    /// The path, e.g. `/orders/:order_id`.
    pub path: String,
    /// Where the path starts.
    pub path_pos: Pos,
    /// The request body type, if any.
    pub request: Option<Body>,
    /// The response body type, if any.
    pub response: Option<Body>,
    /// Comments.
    pub comments: Comments,
}

/// A body type in a route: `Name`, `*Name`, `[]Name` or `[]*Name`; `()` is `name` empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// `[]...`.
    pub slice: bool,
    /// `*...`.
    pub pointer: bool,
    /// The type's name, empty for `()`.
    pub name: String,
    /// Where the name is.
    pub pos: Pos,
}

impl Body {
    /// As written in the route.
    pub fn render(&self) -> String {
        format!(
            "{}{}{}",
            if self.slice { "[]" } else { "" },
            if self.pointer { "*" } else { "" },
            self.name
        )
    }
}

/// The HTTP methods a route may use.
pub const METHODS: [&str; 9] = [
    "get", "head", "post", "put", "patch", "delete", "connect", "options", "trace",
];

/// Go's predeclared types, which need no `type` declaration.
pub const BASE_TYPES: [&str; 21] = [
    "bool",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "float32",
    "float64",
    "complex64",
    "complex128",
    "string",
    "int",
    "uint",
    "uintptr",
    "byte",
    "rune",
    "any",
    "error",
];
