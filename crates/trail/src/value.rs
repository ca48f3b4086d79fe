//! The record model: one CloudTrail record parsed without copying the strings it can borrow.
//!
//! Records are read once and matched against many rules, so the model is a small JSON tree
//! whose strings borrow from the input buffer when they contain no escapes, and whose objects
//! keep their keys in input order (CloudTrail objects are small: a linear scan beats hashing).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value borrowing from the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// A JSON number as the parser saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Unsigned(value) => value as f64,
            Number::Signed(value) => value as f64,
            Number::Float(value) => value,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Unsigned(value) => write!(formatter, "{value}"),
            Number::Signed(value) => write!(formatter, "{value}"),
            Number::Float(value) => write!(formatter, "{value}"),
        }
    }
}

impl<'a> Value<'a> {
    /// Parses one JSON value (a record) from `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Value<'a>, serde_json::Error> {
        // Checking the record's UTF-8 once (with the standard library's ASCII fast path) and
        // parsing a `str` is faster than serde_json's check of every string slice; invalid
        // UTF-8 falls back to the slice parser, which names the position.
        match std::str::from_utf8(bytes) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(bytes),
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(members) => members.iter().find(|(name, _)| name == key).map(|(_, value)| value),
            _ => None,
        }
    }

    /// Follows a dotted path (`userIdentity.sessionContext.sessionIssuer.type`) through objects.
    /// A key that itself contains dots is tried whole first.
    pub fn path(&self, path: &str) -> Option<&Value<'a>> {
        if let Some(value) = self.get(path) {
            return Some(value);
        }
        let mut current = self;
        for part in path.split('.') {
            current = current.get(part)?;
        }
        Some(current)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as text when it is a scalar (strings as they are, numbers and booleans
    /// formatted), for matching and display.
    pub fn scalar_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::String(text) => Some(Cow::Borrowed(text)),
            Value::Number(number) => Some(Cow::Owned(number.to_string())),
            Value::Bool(flag) => Some(Cow::Borrowed(if *flag { "true" } else { "false" })),
            _ => None,
        }
    }

    /// The value as a number: numbers, and strings that parse as one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(number) => Some(number.as_f64()),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        }
    }

    /// Converts to an owned `serde_json::Value` (for output).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Number(Number::Unsigned(value)) => serde_json::Value::from(*value),
            Value::Number(Number::Signed(value)) => serde_json::Value::from(*value),
            Value::Number(Number::Float(value)) => serde_json::Number::from_f64(*value).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null),
            Value::String(text) => serde_json::Value::String(text.to_string()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(members) => serde_json::Value::Object(members.iter().map(|(key, value)| (key.to_string(), value.to_json())).collect()),
        }
    }

    /// Builds a value from a `serde_json::Value` (tests and generators).
    pub fn from_json(json: &serde_json::Value) -> Value<'static> {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(flag) => Value::Bool(*flag),
            serde_json::Value::Number(number) => Value::Number(if let Some(value) = number.as_u64() {
                Number::Unsigned(value)
            } else if let Some(value) = number.as_i64() {
                Number::Signed(value)
            } else {
                Number::Float(number.as_f64().unwrap_or(0.0))
            }),
            serde_json::Value::String(text) => Value::String(Cow::Owned(text.clone())),
            serde_json::Value::Array(items) => Value::Array(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(members) => {
                Value::Object(members.iter().map(|(key, value)| (Cow::Owned(key.clone()), Value::from_json(value))).collect())
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(value))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(Number::Unsigned(value)))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(Number::Signed(value)))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value<'de>, E> {
        Ok(Value::Number(Number::Float(value)))
    }
    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(value)))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(value.to_string())))
    }
    fn visit_string<E: de::Error>(self, value: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(value)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).max(8));
        while let Some(key) = map.next_key::<KeyText<'de>>()? {
            let value = map.next_value()?;
            members.push((key.0, value));
        }
        Ok(Value::Object(members))
    }
}

/// An object key, borrowed when possible.
struct KeyText<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for KeyText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyText<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Owned(value.to_string())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utf8_text_and_rejects_invalid_utf8_with_its_position() {
        let value = Value::parse("{\"userAgent\":\"caf\u{e9} \u{1f600}\"}".as_bytes()).unwrap();
        assert_eq!(value.path("userAgent").and_then(Value::as_str), Some("caf\u{e9} \u{1f600}"));
        let error = Value::parse(b"{\"userAgent\":\"a\xff\"}").unwrap_err();
        assert!(error.to_string().contains("column"), "{error}");
    }

    #[test]
    fn parses_borrowed_strings_and_follows_dotted_paths() {
        let text = br#"{"userIdentity":{"sessionContext":{"sessionIssuer":{"type":"Role"}}},"n":3,"esc":"a\"b"}"#;
        let value = Value::parse(text).unwrap();
        assert_eq!(value.path("userIdentity.sessionContext.sessionIssuer.type").and_then(Value::as_str), Some("Role"));
        assert!(matches!(value.path("userIdentity.sessionContext.sessionIssuer.type"), Some(Value::String(Cow::Borrowed(_)))));
        assert_eq!(value.path("esc").and_then(Value::as_str), Some("a\"b"));
        assert_eq!(value.path("n").and_then(Value::scalar_text).as_deref(), Some("3"));
        assert_eq!(value.path("missing.path"), None);
        assert_eq!(value.to_json()["n"], serde_json::json!(3));
    }
}
