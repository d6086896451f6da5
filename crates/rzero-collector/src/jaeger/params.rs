//! The query parameters of Jaeger's `/api/traces` and `/api/dependencies`, parsed as
//! Jaeger's query service parses them (`cmd/query/app/query_parser.go`): `start`/`end` in
//! Unix microseconds, `minDuration`/`maxDuration` as Go durations (`1.5ms`, `2s`,
//! `1m30s`), `tags` a JSON map and `tag` a repeated `key:value`, `endTs` in milliseconds
//! and `lookback` in milliseconds.

use std::collections::BTreeMap;

/// A Go duration (`time.ParseDuration`) in nanoseconds. Hand-written: Go's syntax
/// (fractions, several units, `µs`) is not what the Rust duration crates take.
pub(crate) fn go_duration(s: &str) -> Result<u64, String> {
    let bad = || format!("`{s}` is not a duration: expected e.g. 300ms, 1.5s, 2m or 1h30m");
    let rest = s.strip_prefix('+').unwrap_or(s);
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() || rest.starts_with('-') {
        return Err(bad());
    }
    let mut total = 0f64;
    let mut rest = rest;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += number * nanos;
        rest = &rest[unit_end..];
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(total as u64)
}

/// The tags to match: `tag=k:v` (repeated) and `tags={"k":"v"}` (repeated), merged.
///
/// Jaeger takes only string values in `tags`; this also takes numbers and booleans
/// (`{"error":true}`, `{"http.response.status_code":500}`) as their text, since older
/// Grafana versions sent logfmt's parse of `error=true` unconverted, and scripts write
/// JSON numbers. Objects, arrays and null are refused.
pub(crate) fn tags(simple: &[String], json: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for t in simple {
        match t.split_once(':') {
            Some((k, v)) => {
                out.insert(k.to_owned(), v.to_owned());
            }
            None => {
                return Err(format!(
                    "malformed 'tag' parameter, expecting key:value, received: {t}"
                ));
            }
        }
    }
    for j in json {
        let malformed = |e: String| {
            format!(
                "malformed 'tags' parameter, cannot unmarshal JSON: {e} (expected {{\"key\":\"value\"}})"
            )
        };
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(j).map_err(|e| malformed(e.to_string()))?;
        for (k, v) in map {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                other => {
                    return Err(malformed(format!(
                        "the value of `{k}` is {other}, not text"
                    )));
                }
            };
            out.insert(k, text);
        }
    }
    Ok(out)
}

/// An integer parameter, or the error Jaeger gives.
pub(crate) fn int(name: &str, v: &str) -> Result<i64, String> {
    v.parse()
        .map_err(|_| format!("unable to parse param '{name}': `{v}` is not an integer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("0"), Ok(0));
        assert_eq!(go_duration("300ms"), Ok(300_000_000));
        assert_eq!(go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(go_duration("250us"), Ok(250_000));
        assert_eq!(go_duration("250µs"), Ok(250_000));
        assert_eq!(go_duration("+2ns"), Ok(2));
        for bad in ["", "5", "ms", "-1s", "1d", "1.2.3s", "1e9s"] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_in_both_forms() {
        let t = tags(
            &["http.route:/api/v1/orders".into(), "url:http://x:1".into()],
            &[r#"{"error":"true"}"#.into()],
        )
        .expect("parses");
        assert_eq!(t["http.route"], "/api/v1/orders");
        assert_eq!(t["url"], "http://x:1", "split at the first colon");
        assert_eq!(t["error"], "true");
        assert!(tags(&["nocolon".into()], &[]).is_err());
        let e = tags(&[], &["{not json".into()]).expect_err("bad json");
        assert!(e.contains("'tags'"), "{e}");
        // What Grafana sends for `error=true status=500` when logfmt's types get through.
        let t = tags(
            &[],
            &[r#"{"error":true,"http.response.status_code":500}"#.into()],
        )
        .expect("scalars");
        assert_eq!(t["error"], "true");
        assert_eq!(t["http.response.status_code"], "500");
        let e = tags(&[], &[r#"{"k":{"nested":1}}"#.into()]).expect_err("object");
        assert!(e.contains("`k`"), "{e}");
        assert!(tags(&[], &[r#"{"k":null}"#.into()]).is_err());
    }
}
