//! The regular-expression dialects of Wazuh SCA rules, compiled to one engine (`regex`).
//!
//! - PCRE2 (Wazuh 5.x, and 4.x with `regex_type: pcre2`): caseless, byte-oriented (Wazuh
//!   does not set `PCRE2_UTF`). Constructs that `regex` lacks but that have an exact
//!   equivalent are rewritten (`\h`, `\H`, `\v`, `\V`, `\R`, `\N`, `\Z`, `\Q...\E`, a `{`
//!   that is no quantifier, a `[` inside a class); the ones that have none (backreferences,
//!   lookaround, possessive quantifiers, `\K`) are refused with the construct named, so the
//!   rule becomes "not applicable" rather than being matched approximately.
//! - OS_Regex (Wazuh 4.x's default): `\w` is `[A-Za-z0-9@_-]`, `\s` is a space only, `\p` is
//!   punctuation, `\.` is any character and `.` a literal dot, `*`/`+` apply to backslash
//!   classes only, `|` separates whole alternatives, matching is case-insensitive.
//!   One documented difference: OS_Regex keeps at most four backtracking points, so a few
//!   patterns it gives up on (`\p*\d*\s*\w*:` against `:`) match here.
//! - OS_Match ("sregex", 4.x file names in `d:` rules): case-insensitive substring, `^`, `$`,
//!   `|`, and a leading `!` that negates.

use regex::bytes::{Regex, RegexBuilder};

/// Which regular-expression language a rule's `r:` and `n:` patterns are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Pcre2,
    OsRegex,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Pcre2 => "pcre2",
            Dialect::OsRegex => "osregex",
        }
    }
}

/// A compiled pattern, or why it could not be compiled (reported when a rule uses it).
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    compiled: Result<Regex, String>,
}

impl Pattern {
    pub fn new(source: &str, dialect: Dialect) -> Pattern {
        let translated = match dialect {
            Dialect::Pcre2 => pcre2_to_rust(source),
            Dialect::OsRegex => Ok(os_regex_to_rust(source)),
        };
        let compiled = translated.and_then(|translated| {
            RegexBuilder::new(&translated).unicode(false).case_insensitive(true).size_limit(1 << 22).build().map_err(|error| first_line(&error.to_string()))
        });
        let compiled = compiled.map_err(|error| format!("cannot compile {} pattern `{source}`: {error}", dialect.name()));
        Pattern { source: source.to_string(), compiled }
    }

    /// The compiled expression, or the compile error naming the pattern.
    pub fn regex(&self) -> Result<&Regex, &str> {
        self.compiled.as_ref().map_err(String::as_str)
    }

    /// Does the pattern match anywhere in `line`?
    pub fn is_match(&self, line: &[u8]) -> Result<bool, String> {
        Ok(self.regex().map_err(str::to_string)?.is_match(line))
    }

    /// The first capture group of the first match (the whole match when the pattern has no
    /// group), as `n:` rules read it.
    pub fn capture<'a>(&self, line: &'a [u8]) -> Result<Option<&'a [u8]>, String> {
        let regex = self.regex().map_err(str::to_string)?;
        let Some(captures) = regex.captures(line) else {
            return Ok(None);
        };
        let group = captures.get(1).or_else(|| captures.get(0));
        Ok(group.map(|m| m.as_bytes()))
    }
}

fn first_line(text: &str) -> String {
    text.lines().rfind(|line| !line.trim().is_empty()).unwrap_or(text).trim().to_string()
}

/// A literal byte as a `regex` expression that means exactly that byte, in or out of a class.
fn literal(byte: u8) -> String {
    if byte.is_ascii_alphanumeric() || byte == b' ' { (byte as char).to_string() } else { format!("\\x{byte:02X}") }
}

/// Rewrites a PCRE2 pattern into `regex` syntax with the same meaning, or names the construct
/// that has no equivalent.
pub fn pcre2_to_rust(source: &str) -> Result<String, String> {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len() + 8);
    let mut index = 0;
    let mut in_class = false;
    let mut class_start = 0usize;
    while index < bytes.len() {
        let byte = bytes[index];
        match byte {
            b'\\' => {
                let Some(&next) = bytes.get(index + 1) else {
                    return Err("pattern ends with a lone backslash".to_string());
                };
                index += 2;
                match next {
                    b'Q' => {
                        // Literal text up to \E (or the end).
                        let rest = &source[index..];
                        let end = rest.find("\\E").unwrap_or(rest.len());
                        for &quoted in &rest.as_bytes()[..end] {
                            out.push_str(&literal(quoted));
                        }
                        index += end + if end < rest.len() { 2 } else { 0 };
                    }
                    b'E' => {}
                    b'h' if in_class => out.push_str("\\t\\x20\\xA0"),
                    b'h' => out.push_str("[\\t\\x20\\xA0]"),
                    b'H' if !in_class => out.push_str("[^\\t\\x20\\xA0]"),
                    b'v' if in_class => out.push_str("\\n\\x0B\\x0C\\r\\x85"),
                    b'v' => out.push_str("[\\n\\x0B\\x0C\\r\\x85]"),
                    b'V' if !in_class => out.push_str("[^\\n\\x0B\\x0C\\r\\x85]"),
                    b'R' if !in_class => out.push_str("(?:\\r\\n|[\\n\\x0B\\x0C\\r\\x85])"),
                    b'N' if !in_class => out.push_str("[^\\n]"),
                    b'Z' if !in_class => out.push_str("(?:\\n?\\z)"),
                    b'z' | b'A' | b'b' | b'B' if !in_class => {
                        out.push('\\');
                        out.push(next as char);
                    }
                    b'd' | b'D' | b'w' | b'W' | b's' | b'S' | b'n' | b'r' | b't' | b'f' => {
                        out.push('\\');
                        out.push(next as char);
                    }
                    b'e' => out.push_str("\\x1B"),
                    b'a' => out.push_str("\\x07"),
                    b'x' => {
                        // \xHH or \x{H...}
                        out.push_str("\\x");
                        if bytes.get(index) == Some(&b'{') {
                            let close = source[index..].find('}').ok_or("unterminated `\\x{`")?;
                            out.push_str(&source[index..=index + close]);
                            index += close + 1;
                        } else {
                            let digits: String = source[index..].chars().take_while(char::is_ascii_hexdigit).take(2).collect();
                            index += digits.len();
                            out.push_str(&format!("{:0>2}", if digits.is_empty() { "0" } else { &digits }));
                        }
                    }
                    b'0' => out.push_str("\\x00"),
                    b'1'..=b'9' => return Err(format!("backreference `\\{}` is not supported", next as char)),
                    b'K' | b'G' | b'X' | b'C' | b'g' | b'k' | b'p' | b'P' | b'H' | b'V' | b'R' | b'N' | b'Z' | b'z' | b'A' | b'b' | b'B' => {
                        return Err(format!("`\\{}` is not supported here", next as char));
                    }
                    other if other.is_ascii_alphanumeric() => return Err(format!("unknown escape `\\{}`", other as char)),
                    other => out.push_str(&literal(other)),
                }
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                out.push('[');
                index += 1;
                if bytes.get(index) == Some(&b'^') {
                    out.push('^');
                    index += 1;
                }
                class_start = index;
                // A `]` first in a class is a literal.
                if bytes.get(index) == Some(&b']') {
                    out.push_str("\\x5D");
                    index += 1;
                }
                continue;
            }
            b'[' if in_class => {
                // A POSIX class `[:alpha:]` stays; any other `[` is a literal in PCRE2.
                if bytes.get(index + 1) == Some(&b':')
                    && let Some(end) = source[index..].find(":]")
                {
                    out.push_str(&source[index..index + end + 2]);
                    index += end + 2;
                    continue;
                }
                out.push_str("\\x5B");
            }
            b']' if in_class => {
                in_class = false;
                let _ = class_start;
                out.push(']');
            }
            b'&' | b'~' if in_class => out.push_str(&literal(byte)),
            b'-' if in_class && bytes.get(index + 1) == Some(&b'-') => out.push_str("\\x2D"),
            b'(' if !in_class && bytes.get(index + 1) == Some(&b'?') => {
                let rest = &source[index + 2..];
                if rest.starts_with('=') || rest.starts_with('!') || rest.starts_with("<=") || rest.starts_with("<!") {
                    return Err("lookaround `(?=`, `(?!`, `(?<=`, `(?<!` is not supported".to_string());
                }
                if rest.starts_with('>') || rest.starts_with('|') {
                    return Err("atomic and branch-reset groups are not supported".to_string());
                }
                out.push('(');
            }
            b'{' if !in_class => {
                let rest = &source[index..];
                let quantifier_end = rest.find('}').filter(|&end| {
                    let inner = &rest[1..end];
                    let mut parts = inner.splitn(2, ',');
                    let low = parts.next().unwrap_or("");
                    let high = parts.next();
                    !low.is_empty() && low.bytes().all(|b| b.is_ascii_digit()) && high.is_none_or(|high| high.bytes().all(|b| b.is_ascii_digit()))
                });
                match quantifier_end {
                    Some(end) => {
                        out.push_str(&rest[..=end]);
                        index += end + 1;
                        if matches!(bytes.get(index), Some(b'+')) {
                            return Err("possessive quantifiers are not supported".to_string());
                        }
                        continue;
                    }
                    None => out.push_str("\\x7B"),
                }
            }
            b'}' if !in_class => out.push_str("\\x7D"),
            b'*' | b'+' | b'?' if !in_class => {
                out.push(byte as char);
                if bytes.get(index + 1) == Some(&b'+') {
                    return Err("possessive quantifiers are not supported".to_string());
                }
                if byte != b'?' && bytes.get(index + 1) == Some(&b'?') {
                    out.push('?');
                    index += 1;
                }
            }
            _ if byte >= 0x80 => {
                // Non-ASCII bytes match themselves (byte-oriented, as PCRE2 without UTF).
                out.push_str(&format!("\\x{byte:02X}"));
            }
            _ => out.push(byte as char),
        }
        index += 1;
    }
    if in_class {
        return Err("missing `]` closing a character class".to_string());
    }
    Ok(out)
}

const OS_REGEX_WORD: &str = "A-Za-z0-9@_\\x2D";
const OS_REGEX_PUNCT: &str = "\\x28\\x29\\x2A\\x2B\\x2C\\x2D\\x2E\\x3A\\x3B\\x3C\\x3D\\x3E\\x3F\\x5B\\x5D\\x21\\x22\\x27\\x23\\x24\\x25\\x26\\x7C\\x7B\\x7D";

/// Rewrites an OS_Regex pattern (Wazuh 4.x) into `regex` syntax.
pub fn os_regex_to_rust(source: &str) -> String {
    let alternatives = split_unescaped(source, b'|');
    let translated: Vec<String> = alternatives.iter().map(|alternative| os_regex_alternative(alternative)).collect();
    translated.iter().map(|alternative| format!("(?:{alternative})")).collect::<Vec<_>>().join("|")
}

fn os_regex_alternative(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        match byte {
            b'^' if index == 0 => out.push('^'),
            b'$' if index + 1 == bytes.len() => out.push('$'),
            b'(' => out.push('('),
            b')' => out.push(')'),
            b'\\' if index + 1 < bytes.len() => {
                let next = bytes[index + 1];
                index += 2;
                let class = match next {
                    b'w' => Some(format!("[{OS_REGEX_WORD}]")),
                    b'W' => Some(format!("[^{OS_REGEX_WORD}]")),
                    b'd' => Some("[0-9]".to_string()),
                    b'D' => Some("[^0-9]".to_string()),
                    b's' => Some("\\x20".to_string()),
                    b'S' => Some("[^\\x20]".to_string()),
                    b't' => Some("\\t".to_string()),
                    b'p' => Some(format!("[{OS_REGEX_PUNCT}]")),
                    b'.' => Some("(?s:.)".to_string()),
                    _ => None,
                };
                match class {
                    Some(class) => {
                        out.push_str(&class);
                        if let Some(&quantifier @ (b'*' | b'+')) = bytes.get(index) {
                            out.push(quantifier as char);
                            index += 1;
                        }
                    }
                    None => out.push_str(&literal(next)),
                }
                continue;
            }
            other => out.push_str(&literal(other)),
        }
        index += 1;
    }
    out
}

/// Splits at a separator byte not preceded by a backslash.
fn split_unescaped(source: &str, separator: u8) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = Vec::new();
    let mut escaped = false;
    for &byte in source.as_bytes() {
        if byte == separator && !escaped {
            parts.push(String::from_utf8_lossy(&current).into_owned());
            current.clear();
            continue;
        }
        escaped = byte == b'\\' && !escaped;
        current.push(byte);
    }
    parts.push(String::from_utf8_lossy(&current).into_owned());
    parts
}

/// OS_Match ("sregex"), as Wazuh 4.x matches file names in `d:` rules.
#[derive(Debug, Clone)]
pub struct OsMatch {
    negated: bool,
    alternatives: Vec<(bool, bool, String)>, // (anchored at start, anchored at end, lowercase text)
}

impl OsMatch {
    pub fn new(source: &str) -> OsMatch {
        let (negated, body) = match source.strip_prefix('!') {
            Some(body) => (true, body),
            None => (false, source),
        };
        let alternatives = body
            .split('|')
            .map(|alternative| {
                let start = alternative.starts_with('^');
                let alternative = alternative.strip_prefix('^').unwrap_or(alternative);
                let end = alternative.ends_with('$');
                let alternative = alternative.strip_suffix('$').unwrap_or(alternative);
                (start, end, alternative.to_ascii_lowercase())
            })
            .collect();
        OsMatch { negated, alternatives }
    }

    pub fn is_match(&self, text: &str) -> bool {
        let text = text.to_ascii_lowercase();
        let found = self.alternatives.iter().any(|(start, end, needle)| match (start, end) {
            (true, true) => text == *needle,
            (true, false) => text.starts_with(needle.as_str()),
            (false, true) => text.ends_with(needle.as_str()),
            (false, false) => text.contains(needle.as_str()),
        });
        found != self.negated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(dialect: Dialect, pattern: &str, text: &str) -> bool {
        Pattern::new(pattern, dialect).is_match(text.as_bytes()).unwrap()
    }

    #[test]
    fn pcre2_patterns_from_the_wazuh_policies() {
        let cases: &[(&str, &str, bool)] = &[
            (r"^\s*PermitRootLogin\s+no", "PermitRootLogin no", true),
            (r"^\s*PermitRootLogin\s+no", "permitrootlogin NO", true), // caseless
            (r"^\s*PermitRootLogin\s+no", "#PermitRootLogin no", false),
            (r"^[\w@-]+:[*!+-]:", "daemon:*:19000:0:99999:7:::", true),
            (r"\/sbin\/(auditctl|auditd)\H\*\b", "/sbin/auditctl p+i+n+u+g+s+b+acl+xattrs+sha512", false),
            (r"\/sbin\/(auditctl|auditd)\H*\b", "/sbin/auditctl p+i", true),
            (r"^\s*\t*linux", "\tlinux /vmlinuz root=/dev/sda1", true),
            (r"a{", "xa{", true), // a `{` that is no quantifier is a literal
            (r"a{2}", "xaa", true),
            (r"[[]x", "[x", true), // `[` inside a class is a literal
            (r"\Qa.b\E", "a.b", true),
            (r"\Qa.b\E", "axb", false),
            (r"^\s*maxauthtries\s+4\s*$", "maxauthtries 4", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(matches(Dialect::Pcre2, pattern, text), *expected, "{pattern} against {text}");
        }
    }

    #[test]
    fn pcre2_constructs_without_an_equivalent_are_refused_with_their_name() {
        for (pattern, named) in [(r"(a)\1", "backreference"), (r"a(?=b)", "lookaround"), (r"a++", "possessive"), (r"\Ka", "\\K")] {
            let error = Pattern::new(pattern, Dialect::Pcre2).regex().unwrap_err().to_string();
            assert!(error.contains(named), "{pattern}: {error}");
        }
    }

    #[test]
    fn os_regex_classes_and_quirks() {
        let cases: &[(&str, &str, bool)] = &[
            (r"^\s*PermitRootLogin\s+no", "  permitrootlogin no", true),
            (r"\w+@\w+", "user-a@host_b", true), // \w includes @ - _
            (r"^\s+x", "\tx", false),            // \s is a space only
            (r"\t+x", "\t\tx", true),
            (r"pam_unix.so", "pam_unixXso", false), // `.` is a literal dot
            (r"pam_unix\.so", "pam_unixXso", true), // `\.` is any character
            (r"^root|^admin", "admin:x", true),
            (r"\p+", "*!", true),
            (r"^a$", "a", true),
            (r"maxage=(\d+)", "maxage=30", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(matches(Dialect::OsRegex, pattern, text), *expected, "{pattern} against {text}");
        }
        let captured = Pattern::new(r"maxage=(\d+)", Dialect::OsRegex).capture(b"maxage=30 x").unwrap().unwrap();
        assert_eq!(captured, b"30");
    }

    #[test]
    fn os_match_file_names() {
        assert!(OsMatch::new("^sshd_config$").is_match("SSHD_CONFIG"));
        assert!(OsMatch::new(".conf$|.rules$").is_match("audit.rules"));
        assert!(!OsMatch::new("!.conf").is_match("a.conf"));
        assert!(OsMatch::new("mysql").is_match(".mysql_history"));
    }
}
