use super::*;

#[test]
fn columns_pad_only_where_a_cell_follows() {
    let src =
        "type T {\nA int `json:\"a\"`\nBb string\nCcc int64 `json:\"c\"` // c\n// x\nD, E bool\n}";
    assert_eq!(
        format_source("t.api", src).unwrap(),
        "type T {\n\tA   int `json:\"a\"`\n\tBb  string\n\tCcc int64 `json:\"c\"` // c\n\t// x\n\tD, E bool\n}\n"
    );
}

#[test]
fn open_line_comments_stay_after_the_bracket() {
    let src = "service a {// x\n@handler h // y\n// z\nget /p\n}";
    let want = "service a { // x\n\t@handler h // y\n\t// z\n\tget /p\n}\n";
    assert_eq!(format_source("t.api", src).unwrap(), want);
    // Without the source, the same comments are kept where the tree has them.
    let tree = parse("t.api", src).unwrap();
    let plain = format_file(&tree);
    assert!(plain.contains("// x") && plain.contains("// y") && plain.contains("// z"));
}

#[test]
fn errors_carry_the_position() {
    let e = format_source("t.api", "type A {\n\tB [\n}").unwrap_err();
    assert_eq!(e.to_string(), format!("t.api:{}: {}", e.pos, e.message));
    assert_eq!(e.pos.line, 3);
}
