//! Laying out generated code as rustfmt would, so that `cargo fmt` in the user's crate
//! changes nothing: the few rules (width 100, call width 60, chain breaking) that the
//! shapes rzeroctl emits run into. The golden tests run `rustfmt --check` on the output.

use super::naming;

/// rustfmt's `max_width`: the generated code stays within it where rustfmt would.
const MAX_WIDTH: usize = 100;

/// rustfmt's `fn_call_width`: longer argument lists go one a line.
const CALL_WIDTH: usize = 60;

/// Whether `line` fits rustfmt's width.
pub(super) fn fits(line: &str) -> bool {
    line.chars().count() <= MAX_WIDTH
}

/// `{indent}{prefix}format!("{fmt}", args){suffix}` laid out as rustfmt lays it out:
/// on one line when it fits (and the argument lists fit rustfmt's `fn_call_width`),
/// else after `let x =` when that fits, else the macro's arguments on their own lines.
/// `suffix` follows the macro's `)`: `keys.push(format!(..));`, `vec![format!(..)];`.
pub(super) fn format_stmt(
    indent: usize,
    prefix: &str,
    fmt: &str,
    args: &[String],
    suffix: &str,
) -> String {
    let pad = " ".repeat(indent);
    let inner = std::iter::once(format!("\"{fmt}\""))
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(", ");
    let call = format!("format!({inner})");
    // A lone string literal may run past the call width; a list of arguments may not,
    // nor may the macro call when it is itself an argument (`push(..)`, `vec![..]`).
    let nested = prefix.ends_with('(') || prefix.ends_with('[');
    let narrow =
        args.is_empty() || (inner.len() <= CALL_WIDTH && (!nested || call.len() <= CALL_WIDTH));
    let one = format!("{pad}{prefix}{call}{suffix}");
    if narrow && fits(&one) {
        return format!("{one}\n");
    }
    if let Some(binding) = prefix.strip_suffix(" = ") {
        let rhs = format!("{pad}    {call}{suffix}");
        if narrow && fits(&rhs) {
            return format!("{pad}{binding} =\n{rhs}\n");
        }
    }
    let mut o = format!("{pad}{prefix}format!(\n{pad}    \"{fmt}\"");
    if !args.is_empty() {
        o.push_str(&format!(",\n{pad}    {}", args.join(", ")));
    }
    o.push_str(&format!("\n{pad}){suffix}\n"));
    o
}

/// `{pad}pub(super) const NAME: &str = "value";`, broken after `=` when too long.
pub(super) fn const_str(name: &str, value: &str) -> String {
    let one = format!("pub(super) const {name}: &str = {};", naming::lit(value));
    let broken = format!("    {};", naming::lit(value));
    if fits(&one) || !fits(&broken) {
        format!("{one}\n")
    } else {
        format!("pub(super) const {name}: &str =\n{broken}\n")
    }
}

/// `    pub async fn name(&self, params) -> ret {`, one parameter a line when too long.
pub(super) fn signature(head: &str, params: &[String], ret: &str) -> String {
    let one = format!("    {head}({}) -> {ret} {{", params.join(", "));
    if fits(&one) {
        return format!("{one}\n");
    }
    let mut o = format!("    {head}(\n");
    for p in params {
        o.push_str(&format!("        {p},\n"));
    }
    o.push_str(&format!("    ) -> {ret} {{\n"));
    o
}

/// A method chain broken one call a line, as rustfmt breaks long chains; a head
/// shorter than an indent (`db`) keeps the first call on its line.
pub(super) fn chain(head: &str, indent: usize, calls: &[String]) -> String {
    let pad = " ".repeat(indent + 4);
    let mut o = head.to_owned();
    for (n, c) in calls.iter().enumerate() {
        if n > 0 || head.len() >= 4 {
            o.push('\n');
            o.push_str(&pad);
        }
        o.push('.');
        o.push_str(c);
    }
    o
}

/// `query("sql")`, a `bind(..)` per value, then `tail`.
pub(super) fn statement(sql: &str, binds: &[String], tail: &[&str]) -> Vec<String> {
    let mut calls = vec![format!("query({})", naming::lit(sql))];
    calls.extend(binds.iter().map(|b| format!("bind({b})")));
    calls.extend(tail.iter().map(|t| (*t).to_owned()));
    calls
}

/// `db.query(..)...` inside a `CachedConn` closure, the closure at `indent`.
pub(super) fn closure(indent: usize, calls: &[String]) -> String {
    let pad = " ".repeat(indent);
    format!(
        "|db| async move {{\n{pad}    {}\n{pad}}}",
        chain("db", indent + 4, calls)
    )
}
