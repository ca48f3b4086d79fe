//! The grammar of one SCA rule, as Wazuh documents it:
//!
//! ```text
//! rule     := ["not "] type ":" location [" -> " rest]
//! f:FILES [-> CONTENT]            FILES is a comma-separated list
//! d:DIRS [-> FILESPEC [-> CONTENT]]   FILESPEC is r:REGEX (file names) or a name
//! c:COMMAND [-> CONTENT]
//! p:PROCESS
//! r:KEY [-> VALUE [-> CONTENT]]   Windows registry: never applicable on Linux
//! CONTENT  := minterm (" && " minterm)*
//! minterm  := ["!"] ("r:" REGEX | "n:" REGEX " compare " OP " " NUMBER | LITERAL)
//! ```
//!
//! vigil adds one minterm, `mode:OCTAL`, for file and directory rules: it holds when the file's
//! permission bits share a bit with OCTAL (`mode:0002`: world-writable). Wazuh's format has
//! no way to test permissions without running a command, which `--root` cannot do.

use super::pattern::{Dialect, OsMatch, Pattern};

/// Which policy schema a file follows; it decides the defaults Wazuh applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// Wazuh 4.x (`title`): OS_Regex unless `regex_type: pcre2`; a lone negated minterm holds
    /// when some line does not match; literals compare lines case-insensitively.
    Wazuh4,
    /// Wazuh 5.x (`name`): PCRE2 always; a lone negated minterm holds when no line matches;
    /// literals compare lines exactly (a command's whole output).
    Wazuh5,
}

#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written in the policy (after variable substitution).
    pub text: String,
    /// `not` in front: found and not found swap; not applicable stays.
    pub negated: bool,
    pub target: Target,
}

#[derive(Debug, Clone)]
pub enum Target {
    File { paths: Vec<String>, content: Option<Content> },
    Dir { dirs: Vec<String>, file: Option<FileSpec>, content: Option<Content> },
    Command { command: String, content: Option<Content> },
    Process { name: String },
    Registry { key: String },
}

/// Which files of a directory a `d:` rule looks at.
#[derive(Debug, Clone)]
pub enum FileSpec {
    /// `r:REGEX` on the file name.
    Regex(Pattern),
    /// A plain name: equal to the file name (5.x).
    Name(String),
    /// A plain name as an OS_Match expression (4.x).
    Match(OsMatch),
}

impl FileSpec {
    pub fn matches(&self, file_name: &str) -> Result<bool, String> {
        match self {
            FileSpec::Regex(pattern) => pattern.is_match(file_name.as_bytes()),
            FileSpec::Name(name) => Ok(name == file_name),
            FileSpec::Match(matcher) => Ok(matcher.is_match(file_name)),
        }
    }
}

/// A content test: minterms joined by `&&`, all of which one line must satisfy.
#[derive(Debug, Clone)]
pub struct Content {
    pub minterms: Vec<Minterm>,
    pub generation: Generation,
    /// The content test as written: Wazuh 5.x compares a test that starts with neither `r:`
    /// nor `n:` as one literal, `&&` included.
    pub raw: String,
}

impl Content {
    /// Wazuh 5.x treats a test that does not start with `r:`, `!r:`, `n:` or `!n:` as one
    /// literal compared with whole lines (files) or the whole output (commands).
    pub fn is_whole_literal(&self) -> bool {
        self.generation == Generation::Wazuh5 && !["r:", "!r:", "n:", "!n:", "mode:", "!mode:"].iter().any(|prefix| self.raw.starts_with(prefix))
    }
}

#[derive(Debug, Clone)]
pub struct Minterm {
    pub negated: bool,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub enum Test {
    Regex(Pattern),
    Numeric {
        pattern: Pattern,
        op: Comparison,
        value: i64,
    },
    Literal(String),
    /// vigil's extension: permission bits (file and directory rules only).
    Mode(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    NotEqual,
    GreaterOrEqual,
    Greater,
}

impl Comparison {
    fn parse(text: &str, generation: Generation) -> Option<Comparison> {
        Some(match text {
            "<" => Comparison::Less,
            "<=" => Comparison::LessOrEqual,
            "==" => Comparison::Equal,
            "!=" => Comparison::NotEqual,
            ">=" => Comparison::GreaterOrEqual,
            ">" => Comparison::Greater,
            // Forms Wazuh 4.x accepted and 5.x refuses.
            "=" if generation == Generation::Wazuh4 => Comparison::Equal,
            "=>" if generation == Generation::Wazuh4 => Comparison::GreaterOrEqual,
            "=<" if generation == Generation::Wazuh4 => Comparison::LessOrEqual,
            "\\!=" if generation == Generation::Wazuh4 => Comparison::NotEqual,
            _ => return None,
        })
    }

    pub fn holds(self, actual: i64, expected: i64) -> bool {
        match self {
            Comparison::Less => actual < expected,
            Comparison::LessOrEqual => actual <= expected,
            Comparison::Equal => actual == expected,
            Comparison::NotEqual => actual != expected,
            Comparison::GreaterOrEqual => actual >= expected,
            Comparison::Greater => actual > expected,
        }
    }
}

const ARROW: &str = " -> ";

/// Parses one rule. The error says what is wrong with it, for the check's reason.
pub fn parse_rule(text: &str, dialect: Dialect, generation: Generation) -> Result<Rule, String> {
    let trimmed = text.trim_matches([' ', '\t']);
    let (negated, body) = match trimmed.strip_prefix("not ").or_else(|| trimmed.strip_prefix("NOT ")) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, trimmed),
    };
    let (kind, after_kind) = body.split_once(':').ok_or_else(|| "no rule type (`f:`, `d:`, `c:`, `p:` or `r:`)".to_string())?;
    let kind = kind.strip_prefix('!').unwrap_or(kind);
    let (location, rest) = match after_kind.split_once(ARROW) {
        Some((location, rest)) => (location.trim(), Some(rest)),
        None => (after_kind.trim(), None),
    };
    if location.is_empty() {
        return Err("empty location".to_string());
    }
    let list = |location: &str| location.split(',').map(|item| item.trim().to_string()).filter(|item| !item.is_empty()).collect::<Vec<_>>();
    let target = match kind {
        "f" => Target::File { paths: list(location), content: rest.map(|rest| parse_content(rest, dialect, generation)).transpose()? },
        "d" => {
            let (file, content) = match rest {
                None => (None, None),
                Some(rest) => {
                    let (spec, content) = match rest.split_once(ARROW) {
                        Some((spec, content)) => (spec, Some(content)),
                        None => (rest, None),
                    };
                    let spec = match spec.strip_prefix("r:") {
                        Some(regex) => FileSpec::Regex(Pattern::new(regex, dialect)),
                        None if generation == Generation::Wazuh4 => FileSpec::Match(OsMatch::new(spec)),
                        None => FileSpec::Name(spec.to_string()),
                    };
                    (Some(spec), content.map(|content| parse_content(content, dialect, generation)).transpose()?)
                }
            };
            Target::Dir { dirs: list(location), file, content }
        }
        "c" => Target::Command { command: location.to_string(), content: rest.map(|rest| parse_content(rest, dialect, generation)).transpose()? },
        "p" => {
            if rest.is_some() {
                return Err("process rules test existence only (no `->`)".to_string());
            }
            Target::Process { name: location.to_string() }
        }
        "r" => Target::Registry { key: location.to_string() },
        other => return Err(format!("unknown rule type `{other}:`")),
    };
    if let Target::Command { content: Some(content), .. } = &target
        && content.minterms.iter().any(|minterm| matches!(minterm.test, Test::Mode(_)))
    {
        return Err("`mode:` applies to files, not to command output".to_string());
    }
    Ok(Rule { text: trimmed.to_string(), negated, target })
}

fn parse_content(text: &str, dialect: Dialect, generation: Generation) -> Result<Content, String> {
    let mut minterms = Vec::new();
    for raw in text.split(" && ") {
        let (negated, body) = match raw.strip_prefix('!') {
            Some(body) => (true, body),
            None => (false, raw),
        };
        let test = if let Some(regex) = body.strip_prefix("r:") {
            Test::Regex(Pattern::new(regex, dialect))
        } else if let Some(numeric) = body.strip_prefix("n:") {
            let (regex, comparison) = numeric.split_once(" compare ").ok_or_else(|| format!("`n:{numeric}` has no ` compare OP VALUE`"))?;
            let mut words = comparison.split_whitespace();
            let (Some(op), Some(value)) = (words.next(), words.next()) else {
                return Err(format!("`n:{numeric}`: expected `compare OP VALUE`"));
            };
            let op = Comparison::parse(op, generation).ok_or_else(|| format!("`n:{numeric}`: unknown comparison `{op}`"))?;
            let value = parse_leading_integer(value).ok_or_else(|| format!("`n:{numeric}`: `{value}` is not an integer"))?;
            Test::Numeric { pattern: Pattern::new(regex, dialect), op, value }
        } else if let Some(mode) = body.strip_prefix("mode:") {
            let bits = u32::from_str_radix(mode.trim(), 8).map_err(|_| format!("`mode:{mode}` is not an octal mask"))?;
            Test::Mode(bits)
        } else {
            Test::Literal(body.to_string())
        };
        minterms.push(Minterm { negated, test });
    }
    Ok(Content { minterms, generation, raw: text.to_string() })
}

/// An integer read the way C's `strtol`/`std::stoi` read one: leading blanks, a sign, digits,
/// and whatever follows ignored. `None` when there are no digits.
pub fn parse_leading_integer(text: &str) -> Option<i64> {
    let text = text.trim_start();
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    if end == 0 {
        return None;
    }
    digits[..end].parse::<i64>().ok().map(|value| sign * value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Rule {
        parse_rule(text, Dialect::Pcre2, Generation::Wazuh5).unwrap()
    }

    #[test]
    fn rule_forms_from_the_documentation() {
        assert!(matches!(parse("f:/etc/passwd").target, Target::File { ref paths, content: None } if paths == &["/etc/passwd"]));
        assert!(parse("not f:/etc/passwd").negated);
        assert!(matches!(parse("f:/a,/b -> r:x").target, Target::File { ref paths, content: Some(_) } if paths.len() == 2));
        let rule = parse(r"d:/etc/audit/rules.d -> r:.+\.rules$ -> r:^-a && r:always,exit");
        let Target::Dir { dirs, file: Some(FileSpec::Regex(_)), content: Some(content) } = rule.target else { panic!("dir rule") };
        assert_eq!(dirs, ["/etc/audit/rules.d"]);
        assert_eq!(content.minterms.len(), 2);
        let Target::Command { command, content: Some(content) } = parse(r"c:sshd -T -> n:^logingracetime\s(\d+) compare <= 60").target else {
            panic!("command")
        };
        assert_eq!(command, "sshd -T");
        assert!(matches!(content.minterms[0].test, Test::Numeric { op: Comparison::LessOrEqual, value: 60, .. }));
        assert!(matches!(parse("p:sshd").target, Target::Process { .. }));
        assert!(matches!(parse(r"r:HKLM\System -> Value -> 1").target, Target::Registry { .. }));
        let Target::File { content: Some(content), .. } = parse("f:/etc/ssh/sshd_config -> !r:^# && r:Protocol && r:2").target else { panic!("file") };
        assert!(content.minterms[0].negated && !content.minterms[1].negated);
    }

    #[test]
    fn malformed_rules_say_what_is_wrong() {
        for (text, says) in [
            ("x:/etc", "unknown rule type"),
            ("/etc/passwd", "no rule type"),
            ("c:sysctl -a -> n:foo(\\d+) compare", "has no ` compare OP VALUE`"),
            ("c:sysctl -a -> n:foo(\\d+) compare => 1", "unknown comparison `=>`"),
            ("p:sshd -> r:x", "existence only"),
            ("c:ls -> mode:0002", "not to command output"),
        ] {
            let error = parse_rule(text, Dialect::Pcre2, Generation::Wazuh5).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
        // Wazuh 4.x accepted `=>`.
        assert!(parse_rule("c:x -> n:a(\\d+) compare => 1", Dialect::OsRegex, Generation::Wazuh4).is_ok());
    }

    #[test]
    fn integers_are_read_like_strtol() {
        assert_eq!(parse_leading_integer(" 42abc"), Some(42));
        assert_eq!(parse_leading_integer("-7"), Some(-7));
        assert_eq!(parse_leading_integer("abc"), None);
    }
}
