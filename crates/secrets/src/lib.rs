//! One detector for secrets and personal data in text, shared by the host module (`vigil host
//! secrets`, the agent), the posture checks (EC2 user data, launch templates, Lambda
//! environments, ECS task definitions) and the S3 sampler. Pure: text in, findings out, no
//! I/O, so every user gets the same answer.
//!
//! A candidate found by a pattern is kept only when it passes the kind's validation: the AWS
//! access key id's structure (prefix and base-32 alphabet; AWS's documented `...EXAMPLE` keys
//! are refused), Luhn for card numbers, mod 97 for IBANs, the check letter of Spanish DNI/NIE
//! numbers, a decodable header for JWTs, a key body for private keys, and for free-form
//! secrets (AWS secret keys, passwords in configuration) an entropy floor and a list of
//! placeholders (`changeme`, `${VAR}`, `<password>`...). A finding never carries the secret:
//! only its kind, position and a redacted form.

use std::sync::OnceLock;

use base64::Engine;
use regex::Regex;
use serde::Serialize;

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    AwsAccessKeyId,
    AwsSecretAccessKey,
    PrivateKey,
    GithubToken,
    SlackToken,
    SlackWebhook,
    StripeSecretKey,
    GoogleApiKey,
    Jwt,
    PasswordInConfig,
    PasswordInUrl,
    CardNumber,
    Iban,
    SpanishNationalId,
    UsSocialSecurityNumber,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AwsAccessKeyId => "aws_access_key_id",
            Kind::AwsSecretAccessKey => "aws_secret_access_key",
            Kind::PrivateKey => "private_key",
            Kind::GithubToken => "github_token",
            Kind::SlackToken => "slack_token",
            Kind::SlackWebhook => "slack_webhook",
            Kind::StripeSecretKey => "stripe_secret_key",
            Kind::GoogleApiKey => "google_api_key",
            Kind::Jwt => "jwt",
            Kind::PasswordInConfig => "password_in_config",
            Kind::PasswordInUrl => "password_in_url",
            Kind::CardNumber => "card_number",
            Kind::Iban => "iban",
            Kind::SpanishNationalId => "spanish_national_id",
            Kind::UsSocialSecurityNumber => "us_social_security_number",
        }
    }

    /// Personal data rather than a credential.
    pub fn is_personal_data(self) -> bool {
        matches!(self, Kind::CardNumber | Kind::Iban | Kind::SpanishNationalId | Kind::UsSocialSecurityNumber)
    }

    pub fn parse(text: &str) -> Option<Kind> {
        ALL_KINDS.iter().copied().find(|kind| kind.as_str() == text)
    }
}

pub const ALL_KINDS: &[Kind] = &[
    Kind::AwsAccessKeyId,
    Kind::AwsSecretAccessKey,
    Kind::PrivateKey,
    Kind::GithubToken,
    Kind::SlackToken,
    Kind::SlackWebhook,
    Kind::StripeSecretKey,
    Kind::GoogleApiKey,
    Kind::Jwt,
    Kind::PasswordInConfig,
    Kind::PasswordInUrl,
    Kind::CardNumber,
    Kind::Iban,
    Kind::SpanishNationalId,
    Kind::UsSocialSecurityNumber,
];

/// One finding: where (1-based line and column, in characters of the text given) and a
/// redacted form (a few characters at most of the secret, the rest masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub line: usize,
    pub column: usize,
    pub redacted: String,
}

struct Detector {
    kind: Kind,
    regex: Regex,
    /// The capture group holding the secret (0: the whole match).
    group: usize,
    validate: fn(&str, &str) -> bool,
}

fn detectors() -> &'static [Detector] {
    static DETECTORS: OnceLock<Vec<Detector>> = OnceLock::new();
    DETECTORS.get_or_init(|| {
        let build = |kind: Kind, pattern: &str, group: usize, validate: fn(&str, &str) -> bool| Regex::new(pattern).ok().map(|regex| Detector { kind, regex, group, validate });
        [
            build(Kind::AwsAccessKeyId, r"\b((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z2-7]{16})\b", 1, valid_aws_key_id),
            build(
                Kind::AwsSecretAccessKey,
                r#"(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key|SecretAccessKey)["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
                1,
                valid_aws_secret,
            ),
            build(Kind::PrivateKey, r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----", 0, |_, _| true),
            build(Kind::GithubToken, r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b", 1, |secret, _| entropy(secret) >= 3.5),
            build(Kind::SlackToken, r"\b(xox[baprs]-[0-9]{10,13}-[0-9]{10,13}(?:-[0-9]{10,13})?-[A-Za-z0-9]{24,34})\b", 1, |_, _| true),
            build(Kind::SlackWebhook, r"(https://hooks\.slack\.com/services/T[A-Z0-9]{8,11}/B[A-Z0-9]{8,11}/[A-Za-z0-9]{24})\b", 1, |_, _| true),
            build(Kind::StripeSecretKey, r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,99})\b", 1, |secret, _| entropy(secret) >= 3.5),
            build(Kind::GoogleApiKey, r"\b(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)", 1, |secret, _| entropy(secret) >= 3.5),
            build(Kind::Jwt, r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})", 1, valid_jwt),
            build(
                Kind::PasswordInUrl,
                r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^/\s:@'\x22]{1,64}:([^/\s:@'\x22]{3,128})@[A-Za-z0-9.\-\[]",
                1,
                |secret, _| !is_placeholder(secret),
            ),
            build(
                Kind::PasswordInConfig,
                r#"(?i)(?:^|[^A-Za-z0-9])((?:[A-Za-z0-9]+[_.\-])*(?:password|passwd|pwd|passphrase|secret|secret_?key|api_?key|apikey|access_?token|auth_?token|private_?token|client_?secret|db_?pass))["']?\s*(?::=|=>|[:=])\s*(?:"([^"\r\n]{1,200})"|'([^'\r\n]{1,200})'|([^\s"'#;,]{1,200}))"#,
                0,
                |_, _| true,
            ),
            build(Kind::CardNumber, r"(?:^|[^0-9A-Za-z_.\-])((?:[0-9][ \-]?){12,18}[0-9])(?:[^0-9A-Za-z_\-]|$)", 1, valid_card),
            build(Kind::Iban, r"\b([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)\b", 1, valid_iban),
            build(Kind::SpanishNationalId, r"\b([0-9]{8}-?[A-Z]|[XYZ]-?[0-9]{7}-?[A-Z])\b", 1, valid_spanish_id),
            build(Kind::UsSocialSecurityNumber, r"(?i)\b(?:ssn|social[ _-]?security(?:[ _-]?(?:number|no))?)\b[^0-9\n]{0,20}([0-9]{3}-[0-9]{2}-[0-9]{4})\b", 1, valid_ssn),
        ]
        .into_iter()
        .flatten()
        .collect()
    })
}

/// Scans a text. Findings are in order of position; one span is reported once (the most
/// specific kind wins: a JWT is not also reported as a password value).
pub fn scan(text: &str) -> Vec<Finding> {
    let mut found: Vec<(usize, usize, Kind, String)> = Vec::new(); // (start, end, kind, redacted)
    for detector in detectors() {
        for captures in detector.regex.captures_iter(text) {
            let Some(whole) = captures.get(0) else { continue };
            if detector.kind == Kind::PasswordInConfig {
                if let Some((start, end, redacted)) = password_in_config(&captures) {
                    found.push((start, end, Kind::PasswordInConfig, redacted));
                }
                continue;
            }
            let Some(secret) = captures.get(detector.group) else { continue };
            if detector.kind == Kind::PrivateKey {
                if private_key_has_body(&text[whole.end()..]) {
                    found.push((whole.start(), whole.end(), Kind::PrivateKey, format!("-----BEGIN {}----- [key body redacted]", &captures[1])));
                }
                continue;
            }
            if !(detector.validate)(secret.as_str(), whole.as_str()) {
                continue;
            }
            found.push((secret.start(), secret.end(), detector.kind, redact(detector.kind, secret.as_str())));
        }
    }
    // Keep the first (most specific: detectors are ordered) finding over each span.
    found.sort_by_key(|(start, end, kind, _)| (*start, std::cmp::Reverse(*end), *kind));
    let mut kept: Vec<(usize, usize, Kind, String)> = Vec::new();
    for candidate in found {
        let overlaps = kept.iter().any(|(start, end, _, _)| candidate.0 < *end && *start < candidate.1);
        if overlaps {
            // A password whose value is a known token: keep the token's kind only.
            if let Some(position) =
                kept.iter().position(|(start, end, kind, _)| *kind == Kind::PasswordInConfig && candidate.0 >= *start && candidate.1 <= *end)
            {
                kept[position] = candidate;
            }
            continue;
        }
        kept.push(candidate);
    }
    kept.sort_by_key(|(start, _, _, _)| *start);
    let line_starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(index, _)| index + 1)).collect();
    kept.into_iter()
        .map(|(start, _, kind, redacted)| {
            let line_index = line_starts.partition_point(|&line_start| line_start <= start) - 1;
            let column = text[line_starts[line_index]..start].chars().count() + 1;
            Finding { kind, line: line_index + 1, column, redacted }
        })
        .collect()
}

/// Scans a named value (an environment variable, a tag): the value's own findings, plus a
/// password when the name says secret and the value looks like one.
pub fn scan_named(name: &str, value: &str) -> Vec<Finding> {
    let mut findings = scan(value);
    if findings.is_empty() && secret_name(name) && plausible_password(value) {
        findings.push(Finding { kind: Kind::PasswordInConfig, line: 1, column: 1, redacted: format!("{name}={}", redact(Kind::PasswordInConfig, value)) });
    }
    findings
}

/// Does a variable or key name say it holds a secret?
pub fn secret_name(name: &str) -> bool {
    static NAME: OnceLock<Option<Regex>> = OnceLock::new();
    NAME.get_or_init(|| {
        Regex::new(r"(?i)(password|passwd|pwd|passphrase|secret|api_?key|apikey|access_?token|auth_?token|private_?key|client_?secret|credentials?)").ok()
    })
    .as_ref()
    .is_some_and(|regex| regex.is_match(name))
        && !name.to_ascii_lowercase().contains("_arn")
        && !name.to_ascii_lowercase().ends_with("_name")
        && !name.to_ascii_lowercase().ends_with("_id")
        && !name.to_ascii_lowercase().ends_with("_file")
        && !name.to_ascii_lowercase().ends_with("_path")
}

fn password_in_config(captures: &regex::Captures<'_>) -> Option<(usize, usize, String)> {
    let name = captures.get(1)?;
    let value = captures.get(2).or_else(|| captures.get(3)).or_else(|| captures.get(4))?;
    let lower = name.as_str().to_ascii_lowercase();
    if lower.ends_with("_file")
        || lower.ends_with("_path")
        || lower.ends_with("_name")
        || lower.ends_with("_id")
        || lower.ends_with("_arn")
        || lower.ends_with("_env")
    {
        return None;
    }
    if !plausible_password(value.as_str()) {
        return None;
    }
    Some((value.start(), value.end(), format!("{}={}", name.as_str(), redact(Kind::PasswordInConfig, value.as_str()))))
}

/// A configuration value that is a real password rather than a placeholder, a reference or a
/// word: long enough, not a known placeholder or template, mixed enough.
pub fn plausible_password(value: &str) -> bool {
    let value = value.trim();
    if value.chars().count() < 8 || is_placeholder(value) {
        return false;
    }
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    let class_count = classes.iter().filter(|&&present| present).count();
    class_count >= 2 && entropy(value) >= 2.8
}

fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let templated = ["${", "$(", "{{", "<%", "%(", "#{", "%{", "<", "[", "env:", "ssm:", "secretsmanager:", "arn:", "vault:", "file:", "@"]
        .iter()
        .any(|marker| lower.starts_with(marker))
        || lower.starts_with('$');
    let words = [
        "changeme",
        "change_me",
        "change-me",
        "password",
        "passw0rd",
        "secret",
        "example",
        "placeholder",
        "redacted",
        "xxxxxxxx",
        "********",
        "your_password",
        "yourpassword",
        "your-password",
        "mypassword",
        "notasecret",
        "dummy",
        "sample",
        "none",
        "null",
        "undefined",
        "true",
        "false",
        "required",
        "optional",
        "todo",
        "fixme",
        "replace",
        "insert",
        "fill",
        "....",
    ];
    let wordy = words.iter().any(|word| lower.contains(word));
    let repeated = value.chars().all(|c| value.starts_with(c));
    templated || wordy || repeated
}

/// Shannon entropy in bits per character.
pub fn entropy(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in text.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&count| {
            let p = count as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

fn valid_aws_key_id(key: &str, _: &str) -> bool {
    // AWS documents AKIAIOSFODNN7EXAMPLE-style keys; they are no credentials.
    !key.ends_with("EXAMPLE") && entropy(&key[4..]) >= 3.0
}

fn valid_aws_secret(secret: &str, _: &str) -> bool {
    !secret.contains("EXAMPLE")
        && entropy(secret) >= 4.2
        && secret.chars().any(|c| c.is_ascii_digit() || c == '/' || c == '+')
        && secret.chars().any(|c| c.is_ascii_lowercase())
        && secret.chars().any(|c| c.is_ascii_uppercase())
}

fn valid_jwt(token: &str, _: &str) -> bool {
    let Some(header) = token.split('.').next() else { return false };
    let Ok(decoded) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')) else { return false };
    serde_json::from_slice::<serde_json::Value>(&decoded).is_ok_and(|value| value.get("alg").is_some())
}

/// A PEM private key with a body: at least 64 base64 characters before its END line.
fn private_key_has_body(after_header: &str) -> bool {
    let mut body = 0usize;
    for line in after_header.lines().skip(1).take(200) {
        let line = line.trim().trim_matches(['"', '\'', ',']).trim_end_matches("\\n");
        if line.starts_with("-----END") {
            break;
        }
        if line.contains(':') && body == 0 {
            continue; // Proc-Type:, DEK-Info: headers of encrypted PEM keys
        }
        body += line.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/' || *c == '=').count();
    }
    // A key inlined with literal `\n` sequences (JSON, environment variables).
    if body < 64 {
        let inline = after_header.split("-----END").next().unwrap_or("");
        body = inline.replace("\\n", "").chars().filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/').count();
    }
    body >= 64
}

/// Luhn, a known card network prefix, and not one digit repeated.
fn valid_card(candidate: &str, _: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    // Separators must be regular (groups of 4, or Amex 4-6-5), or absent.
    let groups: Vec<usize> = candidate.split([' ', '-']).map(str::len).collect();
    if groups.len() > 1 && !(groups.iter().take(groups.len() - 1).all(|&length| length == 4) || groups == [4, 6, 5] || groups == [4, 6, 4]) {
        return false;
    }
    if digits.iter().all(|&digit| digit == digits[0]) {
        return false;
    }
    let prefix = |length: usize| digits.iter().take(length).fold(0u32, |value, digit| value * 10 + digit);
    let network = match digits[0] {
        4 => matches!(digits.len(), 13 | 16 | 19),
        5 => (51..=55).contains(&prefix(2)) && digits.len() == 16,
        2 => (2221..=2720).contains(&prefix(4)) && digits.len() == 16,
        3 => {
            (matches!(prefix(2), 34 | 37) && digits.len() == 15)
                || ((3528..=3589).contains(&prefix(4)) && digits.len() >= 16)
                || (matches!(prefix(2), 36 | 38) || (300..=305).contains(&prefix(3))) && digits.len() == 14
        }
        6 => prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)),
        _ => false,
    };
    network && luhn(&digits)
}

pub fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, &digit)| {
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 13616: the country's length and mod 97 == 1.
fn valid_iban(candidate: &str, _: &str) -> bool {
    let compact: String = candidate.chars().filter(|c| !c.is_whitespace()).collect();
    let lengths: &[(&str, usize)] = &[
        ("DE", 22),
        ("FR", 27),
        ("ES", 24),
        ("IT", 27),
        ("NL", 18),
        ("BE", 16),
        ("GB", 22),
        ("IE", 22),
        ("PT", 25),
        ("AT", 20),
        ("CH", 21),
        ("SE", 24),
        ("DK", 18),
        ("FI", 18),
        ("NO", 15),
        ("PL", 28),
        ("LU", 20),
        ("CZ", 24),
        ("GR", 27),
    ];
    let Some(&(_, length)) = lengths.iter().find(|(country, _)| compact.starts_with(country)) else { return false };
    if compact.len() != length {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut remainder: u64 = 0;
    for c in rearranged.chars() {
        let value = match c {
            '0'..='9' => u64::from(c as u8 - b'0'),
            'A'..='Z' => u64::from(c as u8 - b'A') + 10,
            _ => return false,
        };
        remainder = if value >= 10 { (remainder * 100 + value) % 97 } else { (remainder * 10 + value) % 97 };
    }
    remainder == 1
}

/// The DNI/NIE check letter: the number mod 23 in `TRWAGMYFPDXBNJZSQVHLCKE`.
fn valid_spanish_id(candidate: &str, _: &str) -> bool {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let compact: String = candidate.chars().filter(|c| *c != '-').collect();
    let (number, letter) = compact.split_at(compact.len() - 1);
    let number = match number.chars().next() {
        Some('X') => format!("0{}", &number[1..]),
        Some('Y') => format!("1{}", &number[1..]),
        Some('Z') => format!("2{}", &number[1..]),
        _ => number.to_string(),
    };
    let Ok(value) = number.parse::<u64>() else { return false };
    if value == 0 {
        return false;
    }
    LETTERS.get((value % 23) as usize).is_some_and(|&expected| letter.as_bytes().first() == Some(&expected))
}

/// SSNs have no check digit: structure only (area not 000, 666 or 9xx; group and serial not
/// zero), and only next to an "SSN" label.
fn valid_ssn(candidate: &str, _: &str) -> bool {
    let parts: Vec<&str> = candidate.split('-').collect();
    let [area, group, serial] = parts.as_slice() else { return false };
    let area_number: u32 = area.parse().unwrap_or(0);
    area_number != 0 && area_number != 666 && area_number < 900 && *group != "00" && *serial != "0000" && candidate != "123-45-6789"
}

/// A redacted form: never more than a quarter of the secret, at most 4 leading and 2 trailing
/// characters (cards: the last 4 digits only; short secrets fully masked).
pub fn redact(kind: Kind, secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let length = chars.len();
    if kind == Kind::CardNumber {
        let digits: Vec<char> = chars.iter().copied().filter(char::is_ascii_digit).collect();
        let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
        return format!("{}{last}", "*".repeat(digits.len().saturating_sub(4)));
    }
    let (lead, tail) = match kind {
        Kind::PasswordInConfig | Kind::PasswordInUrl | Kind::UsSocialSecurityNumber | Kind::SpanishNationalId => (0, 0),
        _ if length >= 16 => (4.min(length / 4), 2.min(length / 8)),
        _ => (0, 0),
    };
    let masked = length - lead - tail;
    let head: String = chars[..lead].iter().collect();
    let end: String = chars[length - tail..].iter().collect();
    // Fully masked values hide their length too.
    let stars = if lead + tail == 0 { 8 } else { masked };
    format!("{head}{}{end}", "*".repeat(stars))
}

#[cfg(test)]
mod tests;
