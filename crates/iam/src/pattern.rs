//! Wildcard patterns (`*`, `?`) for actions, ARNs and `...Like` operators, matched in
//! O(pattern × text) time at worst, with no backtracking blow-up on hostile patterns.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    Char(char),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    tokens: Vec<Token>,
    /// True when the pattern has no wildcard, so that matching is a plain comparison.
    literal: Option<String>,
}

impl Glob {
    /// Compiles `text`, where `*` and `?` are wildcards.
    pub fn new(text: &str) -> Glob {
        Glob::from_tokens(text.chars().map(|character| match character {
            '*' => Token::Star,
            '?' => Token::One,
            other => Token::Char(other),
        }))
    }

    /// Builds a pattern from tokens (literal characters that came from policy variables or
    /// `${*}` escapes are `Token::Char`).
    pub fn from_tokens(tokens: impl IntoIterator<Item = Token>) -> Glob {
        let mut compact: Vec<Token> = Vec::new();
        for token in tokens {
            // Consecutive stars are one star; collapsing them keeps matching quadratic at worst.
            if token == Token::Star && compact.last() == Some(&Token::Star) {
                continue;
            }
            compact.push(token);
        }
        let literal = compact
            .iter()
            .map(|token| match token {
                Token::Char(character) => Some(*character),
                _ => None,
            })
            .collect::<Option<String>>();
        Glob { tokens: compact, literal }
    }

    /// Lower-cases the literal characters, for case-insensitive matching against lower-cased text.
    pub fn to_lowercase(&self) -> Glob {
        Glob::from_tokens(self.tokens.iter().flat_map(|token| match token {
            Token::Char(character) => character.to_lowercase().map(Token::Char).collect::<Vec<_>>(),
            other => vec![*other],
        }))
    }

    pub fn is_match_all(&self) -> bool {
        self.tokens == [Token::Star]
    }

    /// True when the whole of `text` matches the pattern.
    pub fn matches(&self, text: &str) -> bool {
        if let Some(literal) = &self.literal {
            return literal == text;
        }
        if self.is_match_all() {
            return true;
        }
        if text.is_ascii() {
            // The common case: index bytes directly, no allocation.
            return matches_tokens(&self.tokens, text.as_bytes(), |byte: &u8| char::from(*byte));
        }
        let text: Vec<char> = text.chars().collect();
        matches_tokens(&self.tokens, &text, |character: &char| *character)
    }
}

impl Glob {
    /// A text that starts with `prefix` and that the pattern matches, with `filler` standing
    /// for what a `*` after the prefix covers (and `x` for a `?`): the name an attacker would
    /// choose for a new resource that a policy's pattern admits. `None` when no text with that
    /// prefix matches.
    pub fn witness_after(&self, prefix: &str, filler: &str) -> Option<String> {
        // The positions in the pattern reachable after reading the prefix (an NFA walk: a star
        // may stay where it is or be passed over).
        let closure = |positions: &mut Vec<usize>| {
            let mut index = 0;
            while index < positions.len() {
                let position = positions[index];
                if self.tokens.get(position) == Some(&Token::Star) && !positions.contains(&(position + 1)) {
                    positions.push(position + 1);
                }
                index += 1;
            }
        };
        let mut positions = vec![0usize];
        closure(&mut positions);
        for character in prefix.chars() {
            let mut next = Vec::new();
            for position in &positions {
                match self.tokens.get(*position) {
                    Some(Token::Star) => next.push(*position),
                    Some(Token::One) => next.push(position + 1),
                    Some(Token::Char(expected)) if *expected == character => next.push(position + 1),
                    _ => {}
                }
            }
            next.sort_unstable();
            next.dedup();
            closure(&mut next);
            if next.is_empty() {
                return None;
            }
            positions = next;
        }
        // Complete from the earliest reachable position (a star there is filled, which keeps the
        // name readable); a name must not be empty.
        positions.sort_unstable();
        for start in positions {
            let mut suffix = String::new();
            let mut filled = false;
            for token in self.tokens.get(start..).unwrap_or_default() {
                match token {
                    Token::Char(character) => suffix.push(*character),
                    Token::One => suffix.push('x'),
                    Token::Star if !filled => {
                        suffix.push_str(filler);
                        filled = true;
                    }
                    Token::Star => {}
                }
            }
            if !suffix.is_empty() {
                return Some(format!("{prefix}{suffix}"));
            }
        }
        None
    }
}

/// The classic two-pointer wildcard match: on a mismatch it resumes after the last star,
/// one text position later. Each star restarts at most `text.len()` times, and only the last
/// star is ever resumed, so the work is bounded by `tokens.len() × text.len()`.
fn matches_tokens<T>(tokens: &[Token], text: &[T], to_char: impl Fn(&T) -> char) -> bool {
    let (mut token_index, mut text_index) = (0usize, 0usize);
    let mut resume: Option<(usize, usize)> = None;
    while text_index < text.len() {
        match tokens.get(token_index) {
            Some(Token::Star) => {
                resume = Some((token_index, text_index));
                token_index += 1;
                continue;
            }
            Some(Token::One) => {
                token_index += 1;
                text_index += 1;
                continue;
            }
            Some(Token::Char(character)) if text.get(text_index).map(&to_char) == Some(*character) => {
                token_index += 1;
                text_index += 1;
                continue;
            }
            _ => {}
        }
        match resume {
            Some((star_index, star_text)) => {
                token_index = star_index + 1;
                text_index = star_text + 1;
                resume = Some((star_index, star_text + 1));
            }
            None => return false,
        }
    }
    tokens.get(token_index..).is_some_and(|rest| rest.iter().all(|token| *token == Token::Star))
}

/// Splits an ARN into its six colon-separated parts (the last keeps any further colons).
pub fn arn_parts(text: &str) -> Option<[&str; 6]> {
    let mut parts = text.splitn(6, ':');
    let result = [parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?];
    Some(result)
}

/// An ARN pattern as policies write it in `Resource` and `Arn*` conditions: when both sides
/// have six parts, each part is matched on its own, so a wildcard never crosses a colon
/// between parts; otherwise the whole text is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnPattern {
    whole: Glob,
    parts: Option<Vec<Glob>>,
}

impl ArnPattern {
    pub fn from_tokens(tokens: Vec<Token>) -> ArnPattern {
        let mut parts: Vec<Vec<Token>> = vec![Vec::new()];
        for token in &tokens {
            match token {
                Token::Char(':') if parts.len() < 6 => parts.push(Vec::new()),
                other => {
                    if let Some(last) = parts.last_mut() {
                        last.push(*other);
                    }
                }
            }
        }
        let parts = (parts.len() == 6).then(|| parts.into_iter().map(Glob::from_tokens).collect());
        ArnPattern { whole: Glob::from_tokens(tokens), parts }
    }

    pub fn new(text: &str) -> ArnPattern {
        ArnPattern::from_tokens(Glob::new(text).tokens)
    }

    pub fn is_match_all(&self) -> bool {
        self.whole.is_match_all()
    }

    pub fn matches(&self, arn: &str) -> bool {
        if self.whole.is_match_all() {
            return true;
        }
        match (&self.parts, arn_parts(arn)) {
            (Some(patterns), Some(parts)) => patterns.iter().zip(parts.iter()).all(|(pattern, part)| pattern.matches(part)),
            _ => self.whole.matches(arn),
        }
    }

    /// The `Arn*` operators' rule: each of the six parts is compared on its own, so both sides
    /// must have six parts (a lone `*` matches any ARN).
    pub fn matches_strict(&self, arn: &str) -> bool {
        match (&self.parts, arn_parts(arn)) {
            (Some(patterns), Some(parts)) => patterns.iter().zip(parts.iter()).all(|(pattern, part)| pattern.matches(part)),
            (None, Some(_)) => self.whole.is_match_all(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, text: &str, expected: bool) {
        assert_eq!(Glob::new(pattern).matches(text), expected, "{pattern} vs {text}");
    }

    #[test]
    fn wildcards_match_like_aws() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("*", "anything", true),
            ("s3:Get*", "s3:GetObject", true),
            ("s3:Get*", "s3:PutObject", false),
            ("s3:*Object", "s3:GetObject", true),
            ("s3:?etObject", "s3:GetObject", true),
            ("s3:?etObject", "s3:etObject", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("a**", "a", true),
            ("*a", "bba", true),
            ("*a", "bab", false),
        ] {
            check(pattern, text, expected);
        }
    }

    #[test]
    fn hostile_pattern_is_matched_without_blow_up() {
        // With a backtracking matcher this pattern takes exponential time against this text.
        let pattern = format!("{}b", "a*".repeat(200));
        let text = "a".repeat(5000);
        check(&pattern, &text, false);
        let matching = format!("{text}b");
        check(&pattern, &matching, true);
    }

    #[test]
    fn a_witness_starts_with_the_prefix_and_matches_the_pattern() {
        for (pattern, prefix, expected) in [
            ("*", "function:", Some("function:vigil")),
            ("function:app-*", "function:", Some("function:app-vigil")),
            ("function:app-???", "function:", Some("function:app-xxx")),
            ("function:*-prod", "function:", Some("function:vigil-prod")),
            ("function:exact", "function:", Some("function:exact")),
            ("function:", "function:", None),
            ("job/*", "function:", None),
            ("fun*", "function:", Some("function:vigil")),
        ] {
            let glob = Glob::new(pattern);
            let witness = glob.witness_after(prefix, "vigil");
            assert_eq!(witness.as_deref(), expected, "{pattern} after {prefix}");
            if let Some(witness) = witness {
                assert!(glob.matches(&witness), "{pattern} does not match its witness {witness}");
            }
        }
    }

    #[test]
    fn arn_wildcards_stay_within_their_part() {
        let pattern = ArnPattern::new("arn:aws:iam::*:role/admin");
        assert!(pattern.matches("arn:aws:iam::111122223333:role/admin"));
        assert!(!pattern.matches("arn:aws:iam::111122223333:user/x:role/admin"));
        assert!(ArnPattern::new("arn:aws:s3:::bucket/*").matches("arn:aws:s3:::bucket/a:b/c"));
        assert!(ArnPattern::new("*").matches("anything"));
        assert!(!ArnPattern::new("arn:aws:s3:::bucket/*").matches_strict("bucket/x"));
    }
}
