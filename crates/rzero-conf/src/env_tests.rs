use super::*;

fn env(k: &str) -> Option<String> {
    match k {
        "HOST" => Some("db.local".into()),
        "EMPTY" => Some(String::new()),
        "TWO_LINES" => Some("a\nb".into()),
        _ => None,
    }
}

fn run(text: &str) -> Result<String, ConfError> {
    expand("t.yaml", text, &env).map(|e| e.text)
}

#[test]
fn expands_set_variables_and_defaults() {
    assert_eq!(run("a: ${HOST}:3306").as_deref(), Ok("a: db.local:3306"));
    assert_eq!(run("a: ${NOPE:-x y}").as_deref(), Ok("a: x y"));
    assert_eq!(run("a: ${NOPE:-}").as_deref(), Ok("a: "));
    assert_eq!(
        run("a: ${EMPTY:-d}").as_deref(),
        Ok("a: "),
        "set but empty is set"
    );
}

#[test]
fn dollars_that_are_not_references_survive() {
    assert_eq!(run("p: a$b$$c$").as_deref(), Ok("p: a$b$c$"));
    assert_eq!(run("p: $${HOST}").as_deref(), Ok("p: ${HOST}"));
    assert_eq!(run("p: ünï ${HOST} ✓").as_deref(), Ok("p: ünï db.local ✓"));
}

#[test]
fn unset_variable_is_an_error_with_its_line() {
    let err = run("a: 1\nb: x ${MISSING}\n").expect_err("unset");
    assert_eq!(
        err.to_string(),
        "t.yaml:2:6: environment variable `MISSING` is not set (set it, or write \
         `${MISSING:-default}` to give a default)"
    );
}

#[test]
fn malformed_references_are_errors() {
    let err = run("a: ${HOST\nb: 1").expect_err("unclosed");
    assert_eq!(
        err.to_string(),
        "t.yaml:1:4: `${` is not closed by `}` on the same line"
    );
    let err = run("a: 1\nb: ü ${}").expect_err("empty");
    assert!(
        err.to_string()
            .starts_with("t.yaml:2:6: `${}`: expected a variable name"),
        "{err}"
    );
    let err = run("a: ${1X}").expect_err("digit");
    assert!(err.to_string().contains("`${1X}`"));
    let err = run("a: ${A-B}").expect_err("dash");
    assert!(err.to_string().contains("`${A-B}`"));
}

#[test]
fn comment_lines_do_not_fail() {
    let text = "# Pass: ${REDIS_PASS}\n  # bad ${ here\na: ${HOST}\n";
    assert_eq!(
        run(text).as_deref(),
        Ok("# Pass: ${REDIS_PASS}\n  # bad ${ here\na: db.local\n")
    );
    assert_eq!(run("# ${HOST}").as_deref(), Ok("# db.local"));
}

#[test]
fn positions_map_back_to_the_file() {
    let text = "a: ${HOST} b: x\nc: $$ ${NOPE:-1}\nd: ${TWO_LINES} e\nf: 1\n";
    let e = expand("t.yaml", text, &env).expect("expands");
    assert_eq!(e.text, "a: db.local b: x\nc: $ 1\nd: a\nb e\nf: 1\n");
    assert_eq!(e.original(1, 2), (1, 2), "before any edit");
    assert_eq!(e.original(1, 4), (1, 4), "start of a replacement");
    assert_eq!(e.original(1, 8), (1, 4), "inside a replacement");
    assert_eq!(e.original(1, 13), (1, 12), "after one on the same line");
    assert_eq!(e.original(2, 6), (2, 7), "a default after `$$`");
    assert_eq!(e.original(2, 7), (2, 17), "end of line after a default");
    assert_eq!(e.original(4, 3), (3, 17), "after a value with a newline");
    assert_eq!(e.original(5, 1), (4, 1), "lines after it");
}
