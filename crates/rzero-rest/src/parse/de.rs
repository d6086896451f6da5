//! The deserializer behind [`super::Parsed`]: a map of fields, each either a JSON value
//! from the body or text from the path, query or headers. Text is converted to the type
//! the field asks for (`"42"` to a number, `"true"` to a bool, `"paid"` to an enum), as
//! go-zero converts form values; JSON values are taken as they are, with no coercion.
//!
//! Hand-written because no crate merges the two: serde_urlencoded coerces text but reads
//! only one query string, serde_json reads only JSON.

use serde::de::{self, Deserializer, IntoDeserializer, Visitor};
use serde_json::Value;

/// One field's value.
pub(super) enum Field {
    Json(Value),
    Text(String),
}

impl<'de> IntoDeserializer<'de, serde_json::Error> for Field {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, serde_json::Error> {
    s.trim()
        .parse()
        .map_err(|_| de::Error::custom(format!("invalid value: {s:?} is not {what}")))
}

fn parse_bool(s: &str) -> Result<bool, serde_json::Error> {
    match s.trim() {
        "true" | "1" | "TRUE" | "True" => Ok(true),
        "false" | "0" | "FALSE" | "False" => Ok(false),
        _ => Err(de::Error::custom(format!(
            "invalid value: {s:?} is not a boolean"
        ))),
    }
}

/// Text-or-JSON methods that take no extra arguments.
macro_rules! plain {
    ($($method:ident => |$s:ident, $v:ident| $text:expr;)*) => {$(
        fn $method<V: Visitor<'de>>(self, $v: V) -> Result<V::Value, Self::Error> {
            match self {
                Field::Json(j) => j.$method($v),
                Field::Text($s) => $text,
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for Field {
    type Error = serde_json::Error;

    plain! {
        deserialize_any => |s, v| v.visit_string(s);
        deserialize_bool => |s, v| v.visit_bool(parse_bool(&s)?);
        deserialize_i8 => |s, v| v.visit_i8(parse(&s, "an integer")?);
        deserialize_i16 => |s, v| v.visit_i16(parse(&s, "an integer")?);
        deserialize_i32 => |s, v| v.visit_i32(parse(&s, "an integer")?);
        deserialize_i64 => |s, v| v.visit_i64(parse(&s, "an integer")?);
        deserialize_u8 => |s, v| v.visit_u8(parse(&s, "a non-negative integer")?);
        deserialize_u16 => |s, v| v.visit_u16(parse(&s, "a non-negative integer")?);
        deserialize_u32 => |s, v| v.visit_u32(parse(&s, "a non-negative integer")?);
        deserialize_u64 => |s, v| v.visit_u64(parse(&s, "a non-negative integer")?);
        deserialize_f32 => |s, v| v.visit_f32(parse(&s, "a number")?);
        deserialize_f64 => |s, v| v.visit_f64(parse(&s, "a number")?);
        deserialize_char => |s, v| v.visit_string(s);
        deserialize_str => |s, v| v.visit_string(s);
        deserialize_string => |s, v| v.visit_string(s);
        deserialize_bytes => |s, v| v.visit_string(s);
        deserialize_byte_buf => |s, v| v.visit_string(s);
        deserialize_unit => |_s, v| v.visit_unit();
        deserialize_seq => |s, v| v.visit_seq(de::value::SeqDeserializer::new(std::iter::once(Field::Text(s))));
        deserialize_map => |s, v| v.visit_string(s);
        deserialize_identifier => |s, v| v.visit_string(s);
        deserialize_ignored_any => |_s, v| v.visit_unit();
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self {
            Field::Json(j) => j.deserialize_option(v),
            Field::Text(s) => v.visit_some(Field::Text(s)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        match self {
            Field::Json(j) => j.deserialize_unit_struct(name, v),
            Field::Text(_) => v.visit_unit(),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        match self {
            Field::Json(j) => j.deserialize_newtype_struct(name, v),
            text => v.visit_newtype_struct(text),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, Self::Error> {
        match self {
            Field::Json(j) => j.deserialize_tuple(len, v),
            text => text.deserialize_seq(v),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        match self {
            Field::Json(j) => j.deserialize_tuple_struct(name, len, v),
            text => text.deserialize_seq(v),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        match self {
            Field::Json(j) => j.deserialize_struct(name, fields, v),
            Field::Text(s) => Err(de::Error::custom(format!(
                "invalid value: {s:?} is text, expected an object"
            ))),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        match self {
            Field::Json(j) => j.deserialize_enum(name, variants, v),
            Field::Text(s) => {
                let d: de::value::StringDeserializer<serde_json::Error> = s.into_deserializer();
                d.deserialize_enum(name, variants, v)
            }
        }
    }
}
