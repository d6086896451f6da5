//! The JSON body as a list of top-level fields, read in one pass with duplicate keys
//! refused at every depth.
//!
//! `serde_json::Value` keeps the last of two equal keys without a word, so a body
//! `{"amount": 1, "amount": 1000000}` would pass whatever a proxy or a log in front of
//! the gateway checked on the first one. Each object's keys go into a hash set as they are
//! read: linear in the body, not quadratic in its keys (the ~1 MiB body of ~78k keys that
//! used to take seconds; see `benches/parse_keys.rs`). Nesting is bounded by serde_json's
//! recursion limit (128), size by `MaxBytes`.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The top-level object's fields in body order; an error says what is wrong and where.
pub(super) fn object_fields(bytes: &[u8]) -> Result<Vec<(String, Value)>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let fields = de
        .deserialize_any(TopLevel)
        .and_then(|fields| de.end().map(|()| fields))
        .map_err(|e| e.to_string())?;
    fields.ok_or_else(|| "body must be a JSON object".to_owned())
}

/// Visits the body: `Some(fields)` for an object, `None` for any other JSON value.
struct TopLevel;

impl<'de> Visitor<'de> for TopLevel {
    type Value = Option<Vec<(String, Value)>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(duplicate(&key));
            }
            out.push((key, map.next_value_seed(Strict)?));
        }
        Ok(Some(out))
    }

    // Any other JSON value is read (so that a syntax error is still reported as one)
    // and then refused by the caller.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element_seed(Strict)?.is_some() {}
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

fn duplicate<E: de::Error>(key: &str) -> E {
    E::custom(format!("duplicate key `{key}`: send each field once"))
}

/// A `serde_json::Value` whose objects must not repeat a key.
#[derive(Clone, Copy)]
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(duplicate(&key));
            }
            let value = map.next_value_seed(Strict)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never hands a non-finite float; `Null` keeps this total anyway.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_in_body_order() {
        let f = object_fields(br#"{"b": 1, "a": {"x": [1, 2]}}"#).expect("parses");
        assert_eq!(f[0].0, "b");
        assert_eq!(f[1], ("a".into(), serde_json::json!({"x": [1, 2]})));
    }

    #[test]
    fn duplicate_keys_are_named_at_any_depth() {
        let e = object_fields(br#"{"amount": 1, "amount": 2}"#).expect_err("dup");
        assert!(e.contains("duplicate key `amount`"), "{e}");
        let e = object_fields(br#"{"a": [{"k": 1, "k": 2}]}"#).expect_err("nested dup");
        assert!(e.contains("duplicate key `k`"), "{e}");
    }

    #[test]
    fn non_objects_and_trailing_bytes_are_refused() {
        assert_eq!(
            object_fields(b"[1, 2]").expect_err("array"),
            "body must be a JSON object"
        );
        assert!(
            object_fields(b"{} x")
                .expect_err("trailing")
                .contains("trailing")
        );
        assert!(object_fields(b"{\"a\":").is_err());
    }
}
