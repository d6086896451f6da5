//! Property tests of the `.api` front end (the fast pass beside the `api_parse`
//! cargo-fuzz target in `fuzz/`): token soup in the DSL's own words, and random edits of
//! a real file, give an error or a tree, never a panic; and what the formatter writes
//! from a file that parses parses again.

use std::path::Path;

use proptest::prelude::*;

const ORDER_API: &str = include_str!("../../../services/order-api/order.api");

const WORDS: &[&str] = &[
    "syntax",
    "=",
    "\"v1\"",
    "info",
    "(",
    ")",
    "type",
    "{",
    "}",
    "struct",
    "[",
    "]",
    "*",
    "map",
    "string",
    "int64",
    "bool",
    "interface{}",
    "@server",
    "@handler",
    "@doc",
    "service",
    "get",
    "post",
    "/api/:id",
    "returns",
    "import",
    "\"x.api\"",
    "`json:\"a\"`",
    "`json:\"b,optional\"`",
    "`form:\"c,default=1\"`",
    "`path:\"id,range=[1:9]\"`",
    ":",
    ",",
    "prefix",
    "group",
    "jwt",
    "timeout",
    "3s",
    "maxBytes",
    "1024",
    "middleware",
    "\n",
    " ",
    "//c\n",
    "/*c*/",
    "Foo",
    "Bar",
    "-",
    "x-y",
    "\"",
    "`",
    "{}",
    "0",
];

fn check(src: &str) -> Result<(), TestCaseError> {
    if rzeroctl::api::parse("prop.api", src).is_err() {
        return Ok(());
    }
    if let Ok(formatted) = rzeroctl::api::format::format_source("prop.api", src) {
        let again = rzeroctl::api::parse("formatted.api", &formatted);
        prop_assert!(
            again.is_ok(),
            "the formatter's output does not parse: {:?}\n--- input\n{}\n--- output\n{}",
            again.err(),
            src,
            formatted
        );
    }
    let _ = rzeroctl::api::load_checked(Path::new("/nonexistent-rzero-prop/p.api"), Some(src));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn token_soup_never_panics(words in proptest::collection::vec(0..WORDS.len(), 0..80)) {
        let src: String = words.iter().map(|&i| WORDS[i]).collect::<Vec<_>>().join(" ");
        check(&src)?;
    }

    #[test]
    fn edits_of_a_real_file_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, 0..WORDS.len()), 1..6),
    ) {
        let mut src = ORDER_API.to_owned();
        for (at, op, word) in edits {
            let mut i = at.index(src.len().max(1));
            while !src.is_char_boundary(i) {
                i -= 1;
            }
            match op {
                0 => src.insert_str(i, WORDS[word]),
                1 => {
                    let mut end = (i + 1 + word).min(src.len());
                    while !src.is_char_boundary(end) {
                        end += 1;
                    }
                    src.replace_range(i..end, "");
                }
                _ => {
                    let piece = src[i..].chars().take(word + 1).collect::<String>();
                    src.insert_str(i, &piece);
                }
            }
        }
        check(&src)?;
    }
}

#[test]
fn the_real_file_formats_to_a_fixed_point() {
    let once = rzeroctl::api::format::format_source("o.api", ORDER_API).expect("formats");
    let twice = rzeroctl::api::format::format_source("o.api", &once).expect("formats");
    assert_eq!(once, twice);
}
