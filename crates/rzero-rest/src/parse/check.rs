//! The checks go-zero's tags express: `range=[a:b]` and `options=a|b|c`.

use std::fmt;

use crate::error::Error;

/// A field that is wrong, and why; answers 400 `{"code":400,"msg":"field `x`: why"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the client sends it.
    pub field: String,
    /// What is wrong with it.
    pub msg: String,
}

impl FieldError {
    /// `field` is wrong because `msg`.
    pub fn new(field: impl Into<String>, msg: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            msg: msg.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.msg)
        } else {
            write!(f, "field `{}`: {}", self.field, self.msg)
        }
    }
}

impl std::error::Error for FieldError {}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::bad_request(e.to_string())
    }
}

/// `value` must lie in `spec`, go-zero's range syntax: `[1:100]`, `(0:100]`, `[0:]`,
/// `(:10)`; brackets include the bound, parentheses exclude it, an empty bound is open.
pub fn range(field: &str, value: impl Into<f64>, spec: &str) -> Result<(), FieldError> {
    let value = value.into();
    let bad_spec = || {
        FieldError::new(
            field,
            format!("the range {spec:?} in its definition is not valid"),
        )
    };
    let spec = spec.trim();
    let (lo_incl, rest) = match spec.chars().next() {
        Some('[') => (true, &spec[1..]),
        Some('(') => (false, &spec[1..]),
        _ => return Err(bad_spec()),
    };
    let (hi_incl, inner) = match rest.chars().last() {
        Some(']') => (true, &rest[..rest.len() - 1]),
        Some(')') => (false, &rest[..rest.len() - 1]),
        _ => return Err(bad_spec()),
    };
    let (lo, hi) = inner.split_once(':').ok_or_else(bad_spec)?;
    let bound = |s: &str| -> Result<Option<f64>, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse().map(Some).map_err(|_| bad_spec())
        }
    };
    let (lo, hi) = (bound(lo)?, bound(hi)?);
    let above = lo.is_none_or(|lo| if lo_incl { value >= lo } else { value > lo });
    let below = hi.is_none_or(|hi| if hi_incl { value <= hi } else { value < hi });
    if above && below && !value.is_nan() {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("must be in {spec}, got {value}"),
        ))
    }
}

/// `value` must be one of `allowed` (go-zero's `options=a|b|c`).
pub fn options(field: &str, value: &str, allowed: &[&str]) -> Result<(), FieldError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("must be one of {}, got {value:?}", allowed.join("|")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_go_zero_brackets() {
        assert!(range("a", 1, "[1:10]").is_ok());
        assert!(range("a", 1, "(1:10]").is_err());
        assert!(range("a", 10, "[1:10)").is_err());
        assert!(range("a", 1e9, "[0:]").is_ok());
        assert!(range("a", -1, "(:0)").is_ok());
        assert!(range("a", 0.5, "(0:1000000]").is_ok());
        let e = range("amount", 0, "(0:1000000]").expect_err("0 excluded");
        assert_eq!(
            e.to_string(),
            "field `amount`: must be in (0:1000000], got 0"
        );
        for bad in ["", "1:2", "[1;2]", "[a:b]", "[1:2"] {
            assert!(range("a", 1, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_list_what_is_allowed() {
        assert!(options("s", "paid", &["created", "paid"]).is_ok());
        let e = options("s", "lost", &["created", "paid"]).expect_err("not listed");
        assert_eq!(
            e.to_string(),
            "field `s`: must be one of created|paid, got \"lost\""
        );
    }
}
