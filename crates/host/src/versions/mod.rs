//! Version ordering exactly as the package managers order versions: dpkg (deb-version(7):
//! epoch, upstream, revision; `~` before everything, letters before other symbols), rpm
//! (`rpmvercmp` on epoch, version and release, with `~` and `^`) and apk (apk-tools' token
//! comparison: digits, letters, `_alpha`..`_rc` before a release and `_cvs`..`_p` after it,
//! `-rN` revisions). Property tests compare dpkg's and rpm's orderings with the real tools
//! (`dpkg --compare-versions`, `rpm.vercmp`) on generated and real pairs.

use std::cmp::Ordering;

/// Which package manager's rules order the versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Dpkg,
    Rpm,
    Apk,
}

/// Compares two versions under a scheme.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Ordering {
    match scheme {
        Scheme::Dpkg => dpkg_compare(a, b),
        Scheme::Rpm => rpm_compare_evr(a, b),
        Scheme::Apk => apk_compare(a, b),
    }
}

// ---------------------------------------------------------------------------------------
// dpkg

/// A Debian version split into epoch, upstream version and revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebianVersion<'a> {
    pub epoch: u64,
    pub upstream: &'a str,
    pub revision: &'a str,
}

/// Splits a Debian version the way dpkg's `parseversion` does: the epoch before the first
/// `:` (0 when absent), the revision after the last `-` (empty when absent).
pub fn parse_debian(version: &str) -> DebianVersion<'_> {
    let version = version.trim();
    let (epoch, rest) = match version.split_once(':') {
        Some((epoch, rest)) if !epoch.is_empty() && epoch.bytes().all(|byte| byte.is_ascii_digit()) => (epoch.parse::<u64>().unwrap_or(u64::MAX), rest),
        _ => (0, version),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((upstream, revision)) => (upstream, revision),
        None => (rest, ""),
    };
    DebianVersion { epoch, upstream, revision }
}

/// dpkg's ordering of two versions (`dpkg --compare-versions`).
pub fn dpkg_compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (parse_debian(a), parse_debian(b));
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream.as_bytes(), b.upstream.as_bytes()))
        .then_with(|| verrevcmp(a.revision.as_bytes(), b.revision.as_bytes()))
}

/// The weight of a character in a non-digit part: `~` first (even before the end), then the
/// end, then letters, then every other character.
fn dpkg_order(byte: Option<u8>) -> i32 {
    match byte {
        None => 0,
        Some(byte) if byte.is_ascii_digit() => 0,
        Some(byte) if byte.is_ascii_alphabetic() => i32::from(byte),
        Some(b'~') => -1,
        Some(byte) => i32::from(byte) + 256,
    }
}

fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        // Non-digit prefixes, character by character.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ac, bc) = (dpkg_order(a.get(i).copied()), dpkg_order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        // Digit runs, numerically, without leading zeros.
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_difference = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_difference == Ordering::Equal {
                first_difference = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_difference != Ordering::Equal {
            return first_difference;
        }
    }
    Ordering::Equal
}

// ---------------------------------------------------------------------------------------
// rpm

/// An RPM `[epoch:]version[-release]`, split as rpm's `rpmverParse` splits it: the epoch is
/// the leading digits before `:`, the release follows the last `-` after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmEvr<'a> {
    pub epoch: Option<&'a str>,
    pub version: &'a str,
    pub release: Option<&'a str>,
}

pub fn parse_rpm_evr(evr: &str) -> RpmEvr<'_> {
    let digits = evr.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = if evr.as_bytes().get(digits) == Some(&b':') {
        let epoch = &evr[..digits];
        (Some(if epoch.is_empty() { "0" } else { epoch }), &evr[digits + 1..])
    } else {
        (None, evr)
    };
    match rest.rsplit_once('-') {
        Some((version, release)) => RpmEvr { epoch, version, release: Some(release) },
        None => RpmEvr { epoch, version: rest, release: None },
    }
}

/// rpm's ordering of two EVR strings (`rpm.vercmp`): epochs (missing = 0), versions, then
/// releases (missing = empty, which sorts first).
pub fn rpm_compare_evr(a: &str, b: &str) -> Ordering {
    let (a, b) = (parse_rpm_evr(a), parse_rpm_evr(b));
    rpmvercmp(a.epoch.unwrap_or("0"), b.epoch.unwrap_or("0"))
        .then_with(|| rpmvercmp(a.version, b.version))
        .then_with(|| rpmvercmp(a.release.unwrap_or(""), b.release.unwrap_or("")))
}

/// rpm's `rpmvercmp` on one version or release string.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut one, mut two) = (0usize, 0usize);
    let separator = |byte: u8| !byte.is_ascii_alphanumeric() && byte != b'~' && byte != b'^';
    while one < a.len() || two < b.len() {
        while one < a.len() && separator(a[one]) {
            one += 1;
        }
        while two < b.len() && separator(b[two]) {
            two += 1;
        }
        // `~` sorts before everything, even the end.
        if a.get(one) == Some(&b'~') || b.get(two) == Some(&b'~') {
            if a.get(one) != Some(&b'~') {
                return Ordering::Greater;
            }
            if b.get(two) != Some(&b'~') {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }
        // `^` sorts after the end but before anything else.
        if a.get(one) == Some(&b'^') || b.get(two) == Some(&b'^') {
            if one >= a.len() {
                return Ordering::Less;
            }
            if two >= b.len() {
                return Ordering::Greater;
            }
            if a[one] != b'^' {
                return Ordering::Greater;
            }
            if b[two] != b'^' {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }
        if !(one < a.len() && two < b.len()) {
            break;
        }
        let (start_one, start_two) = (one, two);
        let numeric = a[one].is_ascii_digit();
        let class = |byte: u8| if numeric { byte.is_ascii_digit() } else { byte.is_ascii_alphabetic() };
        while one < a.len() && class(a[one]) {
            one += 1;
        }
        while two < b.len() && class(b[two]) {
            two += 1;
        }
        if start_one == one {
            return Ordering::Less; // cannot happen: the segment is not empty
        }
        if start_two == two {
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        let (mut segment_one, mut segment_two) = (&a[start_one..one], &b[start_two..two]);
        if numeric {
            while segment_one.first() == Some(&b'0') {
                segment_one = &segment_one[1..];
            }
            while segment_two.first() == Some(&b'0') {
                segment_two = &segment_two[1..];
            }
            match segment_one.len().cmp(&segment_two.len()) {
                Ordering::Equal => {}
                longer => return longer,
            }
        }
        match segment_one.cmp(segment_two) {
            Ordering::Equal => {}
            different => return different,
        }
    }
    match (one >= a.len(), two >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

// ---------------------------------------------------------------------------------------
// apk

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ApkToken {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    RevisionNumber,
    End,
}

const APK_PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const APK_POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// Reads the separator after a token and decides the next token's kind.
fn apk_next_token(kind: &mut ApkToken, text: &mut &[u8]) {
    let mut next = ApkToken::Invalid;
    match text.first() {
        None | Some(0) => next = ApkToken::End,
        Some(&byte) if matches!(kind, ApkToken::Digit | ApkToken::DigitOrZero) && byte.is_ascii_lowercase() => next = ApkToken::Letter,
        Some(&byte) if *kind == ApkToken::Letter && byte.is_ascii_digit() => next = ApkToken::Digit,
        Some(&byte) if *kind == ApkToken::Suffix && byte.is_ascii_digit() => next = ApkToken::SuffixNumber,
        Some(&byte) => {
            match byte {
                b'.' => next = ApkToken::DigitOrZero,
                b'_' => next = ApkToken::Suffix,
                b'-' if text.get(1) == Some(&b'r') => {
                    next = ApkToken::RevisionNumber;
                    *text = &text[1..];
                }
                _ => {}
            }
            *text = &text[1..];
        }
    }
    if next < *kind {
        let allowed = (next == ApkToken::DigitOrZero && *kind == ApkToken::Digit)
            || (next == ApkToken::Suffix && *kind == ApkToken::SuffixNumber)
            || (next == ApkToken::Digit && *kind == ApkToken::Letter);
        if !allowed {
            next = ApkToken::Invalid;
        }
    }
    *kind = next;
}

/// Reads one token's value and moves to the next token.
fn apk_get_token(kind: &mut ApkToken, text: &mut &[u8]) -> i64 {
    if text.is_empty() {
        *kind = ApkToken::End;
        return 0;
    }
    let mut value: i64 = 0;
    let mut consumed = 0usize;
    let mut next_kind = ApkToken::Invalid;
    match *kind {
        ApkToken::DigitOrZero if text[0] == b'0' => {
            // Leading zeros: the more zeros, the smaller (a fraction-like component).
            while consumed < text.len() && text[consumed] == b'0' {
                consumed += 1;
            }
            next_kind = ApkToken::Digit;
            value = -(consumed as i64);
        }
        ApkToken::DigitOrZero | ApkToken::Digit | ApkToken::SuffixNumber | ApkToken::RevisionNumber => {
            while consumed < text.len() && text[consumed].is_ascii_digit() {
                value = value.saturating_mul(10).saturating_add(i64::from(text[consumed] - b'0'));
                consumed += 1;
            }
        }
        ApkToken::Letter => {
            value = i64::from(text[0]);
            consumed = 1;
        }
        ApkToken::Suffix => {
            if let Some(index) = APK_PRE_SUFFIXES.iter().position(|suffix| text.starts_with(suffix.as_bytes())) {
                value = index as i64 - APK_PRE_SUFFIXES.len() as i64;
                consumed = APK_PRE_SUFFIXES[index].len();
            } else if let Some(index) = APK_POST_SUFFIXES.iter().position(|suffix| text.starts_with(suffix.as_bytes())) {
                value = index as i64;
                consumed = APK_POST_SUFFIXES[index].len();
            } else {
                *kind = ApkToken::Invalid;
                return -1;
            }
        }
        ApkToken::Invalid | ApkToken::End => {
            *kind = ApkToken::Invalid;
            return -1;
        }
    }
    *text = &text[consumed..];
    if text.is_empty() {
        *kind = ApkToken::End;
    } else if next_kind != ApkToken::Invalid {
        *kind = next_kind;
    } else {
        apk_next_token(kind, text);
    }
    value
}

/// apk-tools' ordering of two versions (`apk version -t`).
pub fn apk_compare(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.trim().as_bytes(), b.trim().as_bytes());
    let (mut a_kind, mut b_kind) = (ApkToken::Digit, ApkToken::Digit);
    let (mut a_value, mut b_value) = (0i64, 0i64);
    while a_kind == b_kind && a_kind != ApkToken::End && a_kind != ApkToken::Invalid && a_value == b_value {
        a_value = apk_get_token(&mut a_kind, &mut a);
        b_value = apk_get_token(&mut b_kind, &mut b);
    }
    match a_value.cmp(&b_value) {
        Ordering::Equal => {}
        different => return different,
    }
    if a_kind == b_kind {
        return Ordering::Equal;
    }
    // The longer version is newer unless what follows is a pre-release suffix.
    let mut peek = a_kind;
    if a_kind == ApkToken::Suffix && apk_get_token(&mut peek, &mut a) < 0 {
        return Ordering::Less;
    }
    let mut peek = b_kind;
    if b_kind == ApkToken::Suffix && apk_get_token(&mut peek, &mut b) < 0 {
        return Ordering::Greater;
    }
    match a_kind.cmp(&b_kind) {
        Ordering::Greater => Ordering::Less,
        Ordering::Less => Ordering::Greater,
        Ordering::Equal => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests;
