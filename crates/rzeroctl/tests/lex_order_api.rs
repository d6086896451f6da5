//! The guide's `order.api` (tests/data/order.api, copied from
//! /work/shared/seed/go-zero-otlp-guide.zh.md, "API 定义文件 (order.api)") lexes.
//! Parser tests will replace this once the parser exists.

use rzeroctl::api::lexer::{TokenKind, lex};

#[test]
fn order_api_lexes() {
    let src = include_str!("data/order.api");
    let toks = lex(src).expect("order.api lexes");
    assert_eq!(
        toks.first().map(|t| &t.kind),
        Some(&TokenKind::Ident("syntax".into()))
    );
    let handler = toks
        .iter()
        .find(|t| t.kind == TokenKind::Ident("@handler".into()))
        .expect("has @handler");
    assert_eq!((handler.line, handler.column), (41, 5));
}
