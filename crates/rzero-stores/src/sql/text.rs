//! What a span may say about a statement: its operation, its table, and its text with
//! the values left out.
//!
//! Statements are meant to carry values as bind parameters (`?`), which never reach the
//! span. Literals written into the SQL itself are replaced by `?` as well (strings,
//! numbers, hex), as the DB conventions ask of `db.query.text` when it is not
//! parameterized. The operation is the first keyword; the table is the name after
//! `FROM`, `INTO`, `UPDATE` or `TABLE`. This is a scanner, not a parser: a statement it
//! cannot read gets no `db.collection.name`, never an error.

/// The parts of a statement that go on its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Summary {
    /// `SELECT`, `INSERT`, ... (upper case), if the statement starts with a word.
    pub(crate) operation: Option<String>,
    /// The first table named, without quotes.
    pub(crate) collection: Option<String>,
    /// The text with literals replaced by `?`.
    pub(crate) text: String,
}

/// Reads `sql` once.
pub(crate) fn summarize(sql: &str) -> Summary {
    let text = sanitize(sql);
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let operation = words
        .first()
        .filter(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
        .map(|w| w.to_ascii_uppercase());
    let collection = operation.as_deref().and_then(|op| table(op, &words));
    Summary {
        operation,
        collection,
        text,
    }
}

fn table(op: &str, words: &[&str]) -> Option<String> {
    let after = |kw: &str| {
        let i = words.iter().position(|w| w.eq_ignore_ascii_case(kw))?;
        let mut rest = words[i + 1..].iter();
        let mut name = rest.next()?;
        // CREATE TABLE IF NOT EXISTS t / DROP TABLE IF EXISTS t
        if name.eq_ignore_ascii_case("IF") {
            name = rest
                .find(|w| w.eq_ignore_ascii_case("EXISTS"))
                .and(rest.next())?;
        }
        Some(*name)
    };
    let name = match op {
        "SELECT" | "DELETE" => after("FROM"),
        "INSERT" | "REPLACE" => after("INTO"),
        "UPDATE" => after("UPDATE"),
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => after("TABLE"),
        _ => None,
    }?;
    let name: String = name
        .chars()
        .filter(|c| !matches!(c, '`' | '"' | '[' | ']'))
        .collect();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$');
    valid.then_some(name)
}

/// Replaces string, number and hex literals with `?`.
pub(crate) fn sanitize(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut prev_word = false; // the previous char belongs to an identifier
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // A string literal: '' and \' escape a quote inside it.
                while let Some(n) = chars.next() {
                    match n {
                        '\\' => {
                            chars.next();
                        }
                        '\'' if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        '\'' => break,
                        _ => {}
                    }
                }
                out.push('?');
                prev_word = false;
            }
            c if c.is_ascii_digit() && !prev_word => {
                while chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '.')
                {
                    chars.next();
                }
                out.push('?');
                prev_word = false;
            }
            c => {
                prev_word = c.is_alphanumeric() || c == '_' || c == '$' || c == '`';
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_left_out_of_the_text() {
        assert_eq!(
            sanitize(
                "SELECT * FROM t2 WHERE name = 'O''Brien' AND id = 42 AND x = 0xFF AND f = 1.5"
            ),
            "SELECT * FROM t2 WHERE name = ? AND id = ? AND x = ? AND f = ?"
        );
        assert_eq!(
            sanitize("UPDATE t SET a = 'x\\'y' WHERE id = ?"),
            "UPDATE t SET a = ? WHERE id = ?"
        );
    }

    #[test]
    fn operation_and_table_are_found() {
        let s = summarize("select id from `orders` where id = ?");
        assert_eq!(s.operation.as_deref(), Some("SELECT"));
        assert_eq!(s.collection.as_deref(), Some("orders"));
        let s = summarize("INSERT INTO shop.orders(user_id) VALUES (?)");
        assert_eq!(s.collection.as_deref(), Some("shop.orders"));
        let s = summarize("CREATE TABLE IF NOT EXISTS users (id BIGINT)");
        assert_eq!(s.operation.as_deref(), Some("CREATE"));
        assert_eq!(s.collection.as_deref(), Some("users"));
        let s = summarize("UPDATE users SET name = ? WHERE id = ?");
        assert_eq!(s.collection.as_deref(), Some("users"));
        assert_eq!(summarize("  ").operation, None);
    }
}
