//! Durations in config files, as go-zero writes them and as people write them.
//!
//! go-zero's `Timeout: 3000` is milliseconds; Go's duration strings (`"500ms"`, `"5s"`,
//! `"1m"`, `"1.5s"`, `"1h30m"`), which go-zero reads for `time.Duration` fields, are
//! accepted too. Values are written back as milliseconds. Use with
//! `#[serde(with = "rzero_conf::duration")]` (or `rzero_conf::duration::option` for an
//! `Option<Duration>`).

use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};

/// Writes a duration as whole milliseconds.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Reads milliseconds (`3000`) or a string with a unit (`"3s"`).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(DurationVisitor)
}

/// The same for `Option<Duration>`; `null` or an absent key is `None` (with `default`).
pub mod option {
    use super::*;

    /// Writes `None` as null and `Some` as milliseconds.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    /// Reads null, milliseconds or a string with a unit.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(deserialize_with = "super::deserialize")] Duration);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a duration: milliseconds (3000) or a number with a unit (500ms, 5s, 1m, 2h)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        parse(&v.to_string()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!(
                "expected a duration that is not negative, found {v}"
            ))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        from_millis(v, &v.to_string()).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).map_err(E::custom)
    }
}

/// Parses a bare number of milliseconds (`"3000"`, go-zero's integer form) or Go's
/// `time.ParseDuration` form, which go-zero accepts for `time.Duration` fields: a number
/// and a unit, repeated (`"250ms"`, `"5s"`, `"1.5m"`, `"1h30m"`, `"100us"`).
pub fn parse(text: &str) -> Result<Duration, String> {
    let expected =
        || format!("expected a duration such as 3000 (ms), 500ms, 5s, 1m or 2h, found {text:?}");
    let t = text.trim();
    let number_end = |s: &str| {
        s.find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len())
    };
    if t.is_empty() {
        return Err(expected());
    }
    // Summed in whole nanoseconds, so that `9802593685ms` is exactly that (a sum of
    // floats was off in the last digits); only a fraction goes through a float.
    let mut nanos: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let (number, after) = rest.split_at(number_end(rest));
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            // Only a bare number has no unit: `3000` is go-zero's milliseconds.
            "" if rest.len() == t.len() => 1_000_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "us" | "µs" | "μs" => 1_000,
            "ns" => 1,
            _ => return Err(expected()),
        };
        let part = match number.parse::<u64>() {
            Ok(whole) => u128::from(whole).saturating_mul(unit_nanos),
            Err(_) => {
                let n: f64 = number.parse().map_err(|_| expected())?;
                // Finite and not negative (the text has only digits and dots); a huge
                // one saturates and is refused below.
                let scaled = (n * unit_nanos as f64).round();
                if scaled >= u128::MAX as f64 {
                    u128::MAX
                } else {
                    scaled as u128
                }
            }
        };
        nanos = nanos.saturating_add(part);
        rest = after;
    }
    if nanos > MAX_MILLIS as u128 * 1_000_000 {
        return Err(format!(
            "{text:?} is longer than a year: expected a timeout or interval"
        ));
    }
    let nanos = u64::try_from(nanos).map_err(|_| expected())?;
    Ok(Duration::from_nanos(nanos))
}

/// The one conversion every form goes through, so that none can panic: a negative,
/// non-finite or huge number (`1e30` would make `Duration::from_secs_f64` panic, and a
/// deadline of `now + u64::MAX ms` overflows `Instant`) is an error naming `text`.
fn from_millis(millis: f64, text: &str) -> Result<Duration, String> {
    if millis.is_nan() || millis < 0.0 {
        return Err(format!(
            "expected a duration that is not negative, found {text}"
        ));
    }
    // A year is far more than any timeout; beyond it a typo is likelier than intent.
    if !millis.is_finite() || millis > MAX_MILLIS {
        return Err(format!(
            "{text:?} is longer than a year: expected a timeout or interval"
        ));
    }
    Duration::try_from_secs_f64(millis / 1000.0).map_err(|e| format!("{text:?}: {e}"))
}

/// The longest duration a config may give: a year, in milliseconds.
const MAX_MILLIS: f64 = 365.0 * 24.0 * 3_600_000.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_bare_milliseconds() {
        assert_eq!(parse("3000"), Ok(Duration::from_secs(3)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse(" 2m "), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1m0.5s"), Ok(Duration::from_millis(60_500)));
        assert_eq!(parse("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "", "s", "5 days", "-1s", "1e400", "5sec", "NaN", "1s5", "1..2s", "5 s",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("9999h").unwrap_err().contains("longer than a year"));
    }

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct T {
        #[serde(with = "super")]
        #[allow(dead_code)]
        t: Duration,
    }

    /// `Timeout: 1e30` used to panic in `Duration::from_secs_f64`.
    #[test]
    fn huge_or_negative_numbers_are_errors_not_panics() {
        for (yaml, says) in [
            ("t: 1e30", "longer than a year"),
            ("t: 18446744073709551615", "longer than a year"),
            ("t: -5", "not negative"),
            ("t: -1.5", "not negative"),
            ("t: .nan", "not negative"),
            ("t: .inf", "longer than a year"),
        ] {
            let err = crate::Loader::new()
                .load_str::<T>("a.yaml", yaml)
                .expect_err(yaml)
                .to_string();
            assert!(err.contains(says), "{yaml}: {err}");
        }
        let ok: T = crate::Loader::new()
            .load_str("a.yaml", "t: 1.5")
            .expect("1.5 ms");
        assert_eq!(ok.t, Duration::from_micros(1500));
    }
}
