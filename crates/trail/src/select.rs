//! One pass over a record's bytes that finds where it ends and keeps the members a reader
//! selects ([`Fields`]), so that the splitter and the parser do not each read every byte.
//!
//! The reader is deliberately strict: it accepts only what it can prove `serde_json` accepts
//! and reads the same way, and gives up (`None`) on anything else (a key with an escape, a
//! number outside the plain grammar, deep nesting, a string that is not valid UTF-8, a
//! truncated buffer). The caller then hands the record to the splitter and
//! [`Value::parse_fields`], which decide and name the error, so a record read here is always
//! the value `parse_fields` would build, and a malformed one is reported exactly as before.
//!
//! The input is text whose UTF-8 the caller checked once for a whole buffer (rather than
//! for every record or string); strings are scanned eight bytes at a time for a quote, a
//! backslash or a control character, and kept strings without escapes borrow from the input.
//! Member names are looked up in a [`Selector`], the selection compiled into tables by name
//! length.

use std::borrow::Cow;

use serde::Deserialize;

use crate::value::{Fields, Value};

/// Nesting deeper than this is left to `serde_json` (whose own limit is 128).
const MAX_DEPTH: u32 = 100;

/// A record read in one pass: the selected value and the offset just past it.
#[derive(Debug)]
pub(crate) struct Selected<'a> {
    pub value: Value<'a>,
    pub end: usize,
}

/// Reads the object starting at `text[start]` (a `{`) for `selector`. `None` when the reader
/// cannot vouch for the record (see the module comment), and for an object with a top-level
/// `Records` array (a CloudTrail envelope, not a record: the splitter splits it): the caller
/// falls back.
pub(crate) fn read_object<'a>(text: &'a str, start: usize, selector: &Selector) -> Option<Selected<'a>> {
    let mut reader = Reader { text, bytes: text.as_bytes(), position: start };
    let value = reader.object(selector, 0, true)?;
    Some(Selected { value, end: reader.position })
}

/// [`Fields`] compiled for lookups by member name: the names of each object, by length.
#[derive(Debug, Clone)]
pub(crate) enum Selector {
    All,
    Members {
        /// `by_length[n]`: the selected names of `n` bytes, with what of each.
        by_length: Vec<Vec<Name>>,
        count: usize,
    },
}

impl Selector {
    pub(crate) fn new(fields: &Fields) -> Selector {
        match fields {
            Fields::All => Selector::All,
            Fields::Members(members) => {
                let longest = members.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
                let mut by_length: Vec<Vec<Name>> = vec![Vec::new(); longest + 1];
                for (name, child) in members {
                    if let Some(names) = by_length.get_mut(name.len()) {
                        names.push(Name { prefix: prefix(name.as_bytes()), bytes: name.as_bytes().into(), selector: Selector::new(child) });
                    }
                }
                Selector::Members { by_length, count: members.len() }
            }
        }
    }

    /// What is selected of the member `name`, if it is.
    fn member(&self, name: &[u8]) -> Option<&Selector> {
        match self {
            Selector::All => Some(self),
            Selector::Members { by_length, .. } => {
                let candidates = by_length.get(name.len())?;
                let name_prefix = prefix(name);
                candidates.iter().find(|member| member.prefix == name_prefix && *member.bytes == *name).map(|member| &member.selector)
            }
        }
    }
}

/// A selected member name; most names that are not it differ in the first eight bytes, which
/// are compared as one word.
#[derive(Debug, Clone)]
pub(crate) struct Name {
    prefix: u64,
    bytes: Box<[u8]>,
    selector: Selector,
}

fn prefix(name: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    for (slot, byte) in word.iter_mut().zip(name) {
        *slot = *byte;
    }
    u64::from_le_bytes(word)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Marks (in each byte's high bit) the bytes of `word` that end a plain run of string bytes:
/// `"`, `\` and control characters. Only the lowest mark is exact (the borrow of a
/// subtraction may mark a byte above a real one), which is the one the caller looks at.
fn special_bytes(word: u64) -> u64 {
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    (quote.wrapping_sub(ONES) & !quote | backslash.wrapping_sub(ONES) & !backslash | word.wrapping_sub(ONES * 0x20) & !word) & HIGH
}

/// A string's content (between its quotes) and whether it holds escapes.
struct StringSpan {
    start: usize,
    end: usize,
    escaped: bool,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.position += 1;
        }
    }

    /// Reads the string whose opening quote is at the position; leaves the position after its
    /// closing quote.
    fn string(&mut self) -> Option<StringSpan> {
        let start = self.position + 1;
        let mut position = start;
        let mut escaped = false;
        loop {
            // Eight bytes at a time to the first byte that needs a look.
            while let Some(chunk) = self.bytes.get(position..position + 8) {
                let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
                let marks = special_bytes(word);
                if marks != 0 {
                    position += (marks.trailing_zeros() / 8) as usize;
                    break;
                }
                position += 8;
            }
            match *self.bytes.get(position)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match *self.bytes.get(position + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => position += 2,
                        b'u' => {
                            let digits = self.bytes.get(position + 2..position + 6)?;
                            if !digits.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            position += 6;
                        }
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                _ => position += 1,
            }
        }
        self.position = position + 1;
        Some(StringSpan { start, end: position, escaped })
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes.get(self.position..self.position + word.len())? == word {
            self.position += word.len();
            Some(())
        } else {
            None
        }
    }

    /// Reads a number of the JSON grammar, returning its text span.
    fn number(&mut self) -> Option<(usize, usize)> {
        let start = self.position;
        if self.peek() == Some(b'-') {
            self.position += 1;
        }
        match self.peek()? {
            b'0' => self.position += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.position += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.position += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.position += 1;
            }
            self.one_or_more_digits()?;
        }
        // A number must be followed by something, or the buffer may have cut it short.
        self.peek()?;
        Some((start, self.position))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.position += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Option<()> {
        if !self.peek()?.is_ascii_digit() {
            return None;
        }
        self.digits();
        Some(())
    }

    /// Checks one value and builds nothing.
    fn skip(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => {
                let depth = next_depth(depth)?;
                if self.open(b'}')? {
                    return Some(());
                }
                loop {
                    if self.peek()? != b'"' {
                        return None;
                    }
                    self.string()?;
                    self.colon()?;
                    self.skip(depth)?;
                    if self.after_member(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                let depth = next_depth(depth)?;
                if self.open(b']')? {
                    return Some(());
                }
                loop {
                    self.skip(depth)?;
                    if self.after_member(b']')? {
                        return Some(());
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    /// After a key: whitespace, a colon, whitespace.
    fn colon(&mut self) -> Option<()> {
        self.skip_whitespace();
        if self.peek()? != b':' {
            return None;
        }
        self.position += 1;
        self.skip_whitespace();
        Some(())
    }

    /// Past an opening `{` or `[` and the whitespace after it: `Some(true)` when the container
    /// closes at once (its `close` consumed), `Some(false)` at its first member or element.
    fn open(&mut self, close: u8) -> Option<bool> {
        self.position += 1;
        self.skip_whitespace();
        if self.peek()? == close {
            self.position += 1;
            return Some(true);
        }
        Some(false)
    }

    /// After a member or element: `Some(true)` at the closing byte, `Some(false)` after a comma
    /// (positioned at the next member or element).
    fn after_member(&mut self, close: u8) -> Option<bool> {
        self.skip_whitespace();
        let byte = self.peek()?;
        self.position += 1;
        if byte == close {
            return Some(true);
        }
        if byte != b',' {
            return None;
        }
        self.skip_whitespace();
        Some(false)
    }

    /// Reads one value keeping what `fields` selects (as `Value::parse_fields` does).
    fn value(&mut self, fields: &Selector, depth: u32) -> Option<Value<'a>> {
        match self.peek()? {
            b'"' => {
                let span = self.string()?;
                self.text(span).map(Value::String)
            }
            b'{' => self.object(fields, depth, false),
            b'[' => {
                let depth = next_depth(depth)?;
                let mut items = Vec::new();
                if self.open(b']')? {
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.value(fields, depth)?);
                    if self.after_member(b']')? {
                        return Some(Value::Array(items));
                    }
                }
            }
            b't' => self.literal(b"true").map(|()| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Value::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Value::Null),
            _ => {
                // Numbers are rare in records: serde_json reads the span, so that integers,
                // negatives and floats come out exactly as in a full parse.
                let (start, end) = self.number()?;
                Value::deserialize(&mut serde_json::Deserializer::from_str(self.text.get(start..end)?)).ok()
            }
        }
    }

    fn object(&mut self, fields: &Selector, depth: u32, top: bool) -> Option<Value<'a>> {
        let depth = next_depth(depth)?;
        if self.peek()? != b'{' {
            return None;
        }
        // At most the selected members are kept (but for repeated keys); 16 keeps the first
        // allocation of a record within the allocator's small sizes.
        let capacity = match fields {
            Selector::Members { count, .. } => (*count).min(16),
            Selector::All => 8,
        };
        let mut members = Vec::with_capacity(capacity);
        if self.open(b'}')? {
            return Some(Value::Object(members));
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            if key.escaped {
                return None;
            }
            let key_bytes = self.bytes.get(key.start..key.end)?;
            self.colon()?;
            if top && key_bytes == b"Records" && self.peek() == Some(b'[') {
                return None;
            }
            match fields.member(key_bytes) {
                Some(child) => {
                    let value = self.value(child, depth)?;
                    members.push((Cow::Borrowed(self.text.get(key.start..key.end)?), value));
                }
                None => self.skip(depth)?,
            }
            if self.after_member(b'}')? {
                return Some(Value::Object(members));
            }
        }
    }

    fn text(&self, span: StringSpan) -> Option<Cow<'a, str>> {
        if span.escaped {
            // With its quotes, so that serde_json decodes the escapes (and rejects lone
            // surrogates) exactly as in a full parse.
            serde_json::from_str::<String>(self.text.get(span.start - 1..span.end + 1)?).ok().map(Cow::Owned)
        } else {
            self.text.get(span.start..span.end).map(Cow::Borrowed)
        }
    }
}

fn next_depth(depth: u32) -> Option<u32> {
    (depth < MAX_DEPTH).then_some(depth + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `read_object` makes of `text`: `Some` only when it is what `parse_fields` makes.
    fn check<'a>(text: &'a str, fields: &Fields) -> Option<Value<'a>> {
        let selected = read_object(text, 0, &Selector::new(fields))?;
        let expected = Value::parse_fields(text.as_bytes().get(..selected.end).unwrap(), fields).expect("read_object accepted what serde_json rejects");
        assert_eq!(selected.value, expected, "{}", text);
        Some(selected.value)
    }

    #[test]
    fn reads_the_selected_members_as_parse_fields_does() {
        let text = "{ \"eventName\" : \"A\", \"a.b\":1,\"a\":{\"b\":[{\"c\":\"x\\\"y\",\"d\":\"y\"},{\"c\":\"z\"}],\"e\":{\"f\":-2.5e3}},\"noise\":{\"deep\":[1,{\"x\":\"\\u00e9\\ud800\"}],\"t\":[true,false,null,0,-0,1.5E+2]},\"s\":\"caf\u{e9} \u{1f600}\",\"n\":[-0,0,18446744073709551615,-9223372036854775808,1e400]}";
        let mut fields = Fields::none();
        for path in ["a.b.c", "eventName", "s", "a.e.f", "missing"] {
            fields.add_path(path);
        }
        assert!(check(text, &fields).is_some());
        // Numbers where they are kept (1e400 is not a number serde_json reads: the fallback decides).
        let mut numbers = Fields::none();
        numbers.add_path("n");
        assert!(check(text, &numbers).is_none());
        let numbers_text = r#"{"n":[-0,0,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809,1.0,2e-3]}"#;
        assert!(check(numbers_text, &numbers).is_some());
        assert!(check(numbers_text, &Fields::All).is_some());
        let mut ends = Fields::none();
        for path in ["noise", "a.e", "a.b", "s"] {
            ends.add_path(path);
        }
        assert!(check(text, &ends).is_some());
        // Escaped strings that are kept come out decoded; a kept lone surrogate is left to serde.
        let mut noise = Fields::none();
        noise.add_path("noise.deep.x");
        assert!(check(text, &noise).is_none());
        assert!(check(r#"{"x":"a\n\u0041\/"}"#, &Fields::All).is_some());
    }

    #[test]
    fn gives_up_on_what_it_cannot_vouch_for() {
        let mut fields = Fields::none();
        fields.add_path("eventName");
        let selector = Selector::new(&fields);
        for text in [
            r#"{"eventName":"A","noise":{"x":tru}}"#,
            r#"{"eventName":"A","noise":"a\qb"}"#,
            r#"{"eventName":"A","noise":[1,}"#,
            r#"{"eventName":"A","noise":"a"#,
            r#"{"eventName":"A","noise":01}"#,
            r#"{"eventName":"A","noise":1.}"#,
            r#"{"eventName":"A","noise":-}"#,
            r#"{"eventName":"A","noise":"tab	here"}"#,
            r#"{"eventName":"A","no\u0069se":1}"#,
            r#"{"eventName":"A","noise":"\u00g0"}"#,
            r#"{"eventName":"A",}"#,
            r#"{"eventName" "A"}"#,
            r#"{"eventName":"A","n":1"#,
        ] {
            assert!(read_object(text, 0, &selector).is_none(), "{text}");
        }
        let deep = format!("{{\"eventName\":\"A\",\"x\":{}1{}}}", "[".repeat(150), "]".repeat(150));
        assert!(read_object(&deep, 0, &selector).is_none());
        // What ends a record is the caller's business; the record itself is read.
        let selected = read_object(r#"{"eventName":"A"} x"#, 0, &selector).unwrap();
        assert_eq!(selected.end, 17);
    }

    #[test]
    fn leaves_envelopes_to_the_splitter() {
        let selector = Selector::new(&Fields::none());
        assert!(read_object(r#"{"x":1,"Records" : [ {"a":1} ]}"#, 0, &selector).is_none());
        assert!(read_object(r#"{"Records":1,"x":{"Records":[]}}"#, 0, &selector).is_some());
    }

    proptest::proptest! {
        /// On any JSON text (and any cut of it), what is read is what `parse_fields` reads.
        #[test]
        fn agrees_with_parse_fields(value in crate::read::tests::json_value(), cut in 0..200usize, paths in proptest::collection::vec("[a-zR\\\\\"]{1,4}(\\.[a-z]{1,2})?", 0..4)) {
            let record = serde_json::json!({"eventName": "x", "v": value, "a": {"b": value}});
            let text = record.to_string();
            let mut fields = Fields::none();
            for path in &paths {
                fields.add_path(path);
            }
            fields.add_path("a.b");
            for fields in [fields, Fields::All] {
                let read = check(&text, &fields);
                // Only escaped keys (and kept escapes serde_json would reject) are given up on.
                proptest::prop_assert!(read.is_some() || text.contains('\\'), "{}", text);
                let cut = cut.min(text.len());
                if let Some(selected) = text.get(..cut).and_then(|cut| read_object(cut, 0, &Selector::new(&fields))) {
                    proptest::prop_assert_eq!(Value::parse_fields(text.as_bytes().get(..selected.end).unwrap(), &fields).unwrap(), selected.value);
                }
            }
        }
    }
}
