//! The record model: one CloudTrail record parsed without copying the strings it can borrow.
//!
//! Records are read once and matched against many rules, so the model is a small JSON tree
//! whose strings borrow from the input buffer when they contain no escapes, and whose objects
//! keep their keys in input order (CloudTrail objects are small: a linear scan beats hashing).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

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

    /// Parses one JSON value keeping only the members `fields` selects: the same tree as
    /// [`Value::parse`] with the members no reader looks at left out. The skipped members are
    /// still checked as JSON (serde's `IgnoredAny`) but build nothing, which is most of the
    /// parse's cost (the tree's allocations and string handling). With [`Fields::All`] this is
    /// [`Value::parse`].
    pub fn parse_fields(bytes: &'a [u8], fields: &Fields) -> Result<Value<'a>, serde_json::Error> {
        if matches!(fields, Fields::All) {
            return Value::parse(bytes);
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                let mut deserializer = serde_json::Deserializer::from_str(text);
                let value = Selected(fields).deserialize(&mut deserializer)?;
                deserializer.end()?;
                Ok(value)
            }
            Err(_) => {
                let mut deserializer = serde_json::Deserializer::from_slice(bytes);
                let value = Selected(fields).deserialize(&mut deserializer)?;
                deserializer.end()?;
                Ok(value)
            }
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

/// The parts of a record its readers look at: a tree of object member names. [`Fields::All`]
/// keeps a whole value; [`Fields::Members`] keeps, of an object (or of each element of an
/// array), only the named members, each with what is needed below it. Scalars are kept as
/// they are wherever they stand, so where a path ends (`Members` with no names) its scalars,
/// and those of its array, are kept while an object there is kept empty: all the field's
/// readers can see of it (they test scalars, and presence: an empty object is present and not
/// null).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Fields {
    /// The whole value.
    #[default]
    All,
    /// Only these members (name, what of it).
    Members(Vec<(String, Fields)>),
}

impl Fields {
    /// Nothing yet (add paths to it).
    pub fn none() -> Fields {
        Fields::Members(Vec::new())
    }

    /// Selects the dotted `path` the way [`Value::path`] and the Sigma field paths read it:
    /// the whole name as one member (a key that itself contains dots), and the chain of its
    /// parts (through objects, and arrays of objects on the way).
    pub fn add_path(&mut self, path: &str) {
        self.add_parts(&[path]);
        let parts: Vec<&str> = path.split('.').collect();
        if parts.len() > 1 {
            self.add_parts(&parts);
        }
    }

    fn add_parts(&mut self, parts: &[&str]) {
        let Fields::Members(members) = self else { return };
        let Some((first, rest)) = parts.split_first() else { return };
        let position = match members.iter().position(|(name, _)| name == first) {
            Some(position) => position,
            None => {
                members.push((first.to_string(), Fields::none()));
                members.len() - 1
            }
        };
        if let Some((_, child)) = members.get_mut(position) {
            child.add_parts(rest);
        }
    }

    /// Everything `self` or `other` selects.
    pub fn merge(&mut self, other: &Fields) {
        match other {
            Fields::All => *self = Fields::All,
            Fields::Members(others) => {
                let Fields::Members(members) = self else { return };
                for (name, fields) in others {
                    match members.iter_mut().find(|(existing, _)| existing == name) {
                        Some((_, existing)) => existing.merge(fields),
                        None => members.push((name.clone(), fields.clone())),
                    }
                }
            }
        }
    }

    fn member(&self, name: &str) -> Option<&Fields> {
        match self {
            Fields::All => Some(self),
            Fields::Members(members) => members.iter().find(|(member, _)| member == name).map(|(_, fields)| fields),
        }
    }
}

/// Parses a value keeping what `Fields` selects.
struct Selected<'f>(&'f Fields);

impl<'de> DeserializeSeed<'de> for Selected<'_> {
    type Value = Value<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value<'de>, D::Error> {
        match self.0 {
            Fields::All => Value::deserialize(deserializer),
            Fields::Members(_) => deserializer.deserialize_any(SelectedVisitor(self.0)),
        }
    }
}

struct SelectedVisitor<'f>(&'f Fields);

impl<'de> Visitor<'de> for SelectedVisitor<'_> {
    type Value = Value<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value<'de>, E> {
        ValueVisitor.visit_bool(value)
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value<'de>, E> {
        ValueVisitor.visit_u64(value)
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value<'de>, E> {
        ValueVisitor.visit_i64(value)
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value<'de>, E> {
        ValueVisitor.visit_f64(value)
    }
    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Value<'de>, E> {
        ValueVisitor.visit_borrowed_str(value)
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value<'de>, E> {
        ValueVisitor.visit_str(value)
    }
    fn visit_string<E: de::Error>(self, value: String) -> Result<Value<'de>, E> {
        ValueVisitor.visit_string(value)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
        ValueVisitor.visit_unit()
    }
    fn visit_none<E: de::Error>(self) -> Result<Value<'de>, E> {
        ValueVisitor.visit_none()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Selected(self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        // At most the selected members are kept (but for repeated keys).
        let selected = match self.0 {
            Fields::Members(members) => members.len(),
            Fields::All => 8,
        };
        let mut members = Vec::with_capacity(selected.min(32));
        while let Some(key) = map.next_key::<KeyText<'de>>()? {
            match self.0.member(&key.0) {
                Some(fields) => {
                    let value = map.next_value_seed(Selected(fields))?;
                    members.push((key.0, value));
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
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

    #[test]
    fn parsing_for_fields_keeps_the_selected_members_and_still_checks_the_rest() {
        let text = br#"{"eventName":"A","a.b":1,"a":{"b":[{"c":"x","d":"y"},{"c":"z"}],"e":{"f":2}},"noise":{"deep":[1,{"x":"\u00e9"}]},"s":"t"}"#;
        let mut fields = Fields::none();
        fields.add_path("a.b.c");
        fields.add_path("eventName");
        let value = Value::parse_fields(text, &fields).unwrap();
        let expected = serde_json::json!({"eventName": "A", "a": {"b": [{"c": "x"}, {"c": "z"}]}});
        assert_eq!(value.to_json(), expected);
        // The whole dotted name is a member too (as `Value::path` reads it).
        fields.add_path("a.b");
        let value = Value::parse_fields(text, &fields).unwrap();
        assert_eq!(value.to_json(), serde_json::json!({"eventName": "A", "a.b": 1, "a": {"b": [{"c": "x"}, {"c": "z"}]}}));
        // Where a path ends, scalars are kept and objects kept empty (present, not null).
        let mut ends = Fields::none();
        ends.add_path("noise");
        ends.add_path("s");
        ends.add_path("a.e");
        ends.add_path("a.b");
        assert_eq!(Value::parse_fields(text, &ends).unwrap().to_json(), serde_json::json!({"a": {"b": [{}, {}], "e": {}}, "a.b": 1, "noise": {}, "s": "t"}));
        let array = br#"{"l":[1,"x",{"y":2},[3],null]}"#;
        let mut list = Fields::none();
        list.add_path("l");
        assert_eq!(Value::parse_fields(array, &list).unwrap().to_json(), serde_json::json!({"l": [1, "x", {}, [3], null]}));
        // Everything is the full parse; merging selections unions them.
        assert_eq!(Value::parse_fields(text, &Fields::All).unwrap(), Value::parse(text).unwrap());
        let mut merged = Fields::none();
        merged.add_path("s");
        merged.merge(&fields);
        assert_eq!(Value::parse_fields(text, &merged).unwrap().path("s").and_then(Value::as_str), Some("t"));
        // Members that are skipped are still read as JSON: malformed ones fail the record.
        for bad in [
            &br#"{"eventName":"A","noise":{"x":tru}}"#[..],
            br#"{"eventName":"A","noise":"a\qb"}"#,
            br#"{"eventName":"A","noise":[1,}"#,
            br#"{"eventName":"A"} x"#,
        ] {
            assert!(Value::parse_fields(bad, &fields).is_err(), "{}", String::from_utf8_lossy(bad));
            assert!(Value::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // ... as JSON syntax, not as values: the documented edge (docs/trail.md).
        for edge in [&br#"{"eventName":"A","noise":1e400}"#[..], br#"{"eventName":"A","noise":"\ud800"}"#] {
            assert!(Value::parse(edge).is_err(), "{}", String::from_utf8_lossy(edge));
            assert!(Value::parse_fields(edge, &fields).is_ok(), "{}", String::from_utf8_lossy(edge));
        }
    }
}
