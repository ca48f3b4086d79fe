//! The Sigma condition grammar: `and`, `or`, `not`, parentheses, search identifiers,
//! `1 of`/`all of` with a pattern (`selection_*`) or `them`.
//!
//! Precedence, from loosest to tightest: `or`, `and`, `not`. The parser resolves identifiers
//! and patterns against the rule's search names, so an expression only holds search indices.

/// A condition over the rule's searches (by index in the rule's search list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Search(usize),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// At least one of these searches.
    OneOf(Vec<usize>),
    /// Every one of these searches.
    AllOf(Vec<usize>),
}

impl Expr {
    /// Evaluates with `search(index)` telling whether a search matched.
    pub fn evaluate(&self, search: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Expr::Search(index) => search(*index),
            Expr::Not(inner) => !inner.evaluate(search),
            Expr::And(items) => items.iter().all(|item| item.evaluate(search)),
            Expr::Or(items) => items.iter().any(|item| item.evaluate(search)),
            Expr::OneOf(indices) => indices.iter().any(|index| search(*index)),
            Expr::AllOf(indices) => indices.iter().all(|index| search(*index)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    One,
    All,
    Of,
    Them,
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, character)) = chars.peek() {
        if character.is_whitespace() {
            chars.next();
            continue;
        }
        match character {
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            _ if character.is_alphanumeric() || matches!(character, '_' | '*' | '-' | '.' | '?') => {
                let mut end = start;
                while let Some(&(position, next)) = chars.peek() {
                    if next.is_alphanumeric() || matches!(next, '_' | '*' | '-' | '.' | '?') {
                        end = position + next.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let word = &text[start..end];
                tokens.push(match word.to_ascii_lowercase().as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    "1" => Token::One,
                    "all" => Token::All,
                    "of" => Token::Of,
                    "them" => Token::Them,
                    _ => Token::Word(word.to_string()),
                });
            }
            _ => return Err(format!("unexpected `{character}` at offset {start}")),
        }
    }
    Ok(tokens)
}

/// Parses `text` against the search identifiers `names`.
pub fn parse(text: &str, names: &[String]) -> Result<Expr, String> {
    if text.contains('|') {
        return Err("aggregation expressions after `|` (Sigma 1 `count() by`) are not supported; use a correlation rule".to_string());
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, position: 0, names };
    let expr = parser.or()?;
    if parser.position < parser.tokens.len() {
        return Err(format!("unexpected {:?} after a complete condition", parser.tokens[parser.position]));
    }
    Ok(expr)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    position: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.position += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Or(items) })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.position += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::And(items) })
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Token::Not) {
            self.position += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    other => Err(format!("expected `)`, found {}", describe(other.as_ref()))),
                }
            }
            Some(quantifier @ (Token::One | Token::All)) => {
                match self.next() {
                    Some(Token::Of) => {}
                    other => return Err(format!("expected `of` after `1`/`all`, found {}", describe(other.as_ref()))),
                }
                let indices = match self.next() {
                    Some(Token::Them) => (0..self.names.len()).filter(|&index| !self.names[index].starts_with('_')).collect::<Vec<_>>(),
                    Some(Token::Word(pattern)) => self.matching(&pattern),
                    other => return Err(format!("expected a pattern or `them` after `of`, found {}", describe(other.as_ref()))),
                };
                if indices.is_empty() {
                    return Err("`of` pattern matches no search identifier".to_string());
                }
                Ok(if quantifier == Token::One { Expr::OneOf(indices) } else { Expr::AllOf(indices) })
            }
            Some(Token::Word(word)) => {
                if word.contains('*') {
                    return Err(format!("a pattern (`{word}`) needs `1 of` or `all of`"));
                }
                match self.names.iter().position(|name| *name == word) {
                    Some(index) => Ok(Expr::Search(index)),
                    None => Err(format!("unknown search identifier `{word}`")),
                }
            }
            other => Err(format!("expected a search identifier, `not`, `(`, `1 of` or `all of`, found {}", describe(other.as_ref()))),
        }
    }

    fn matching(&self, pattern: &str) -> Vec<usize> {
        (0..self.names.len()).filter(|&index| wildcard_name_match(pattern, &self.names[index])).collect()
    }
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "the end".to_string(),
        Some(Token::Word(word)) => format!("`{word}`"),
        Some(other) => format!("{other:?}").to_lowercase(),
    }
}

/// Matches a search name against a pattern with `*` (any run) and `?` (one character).
fn wildcard_name_match(pattern: &str, name: &str) -> bool {
    fn recurse(pattern: &[char], name: &[char]) -> bool {
        match pattern.split_first() {
            None => name.is_empty(),
            Some(('*', rest)) => (0..=name.len()).any(|skip| recurse(rest, &name[skip..])),
            Some(('?', rest)) => !name.is_empty() && recurse(rest, &name[1..]),
            Some((first, rest)) => name.first() == Some(first) && recurse(rest, &name[1..]),
        }
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    recurse(&pattern, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(condition: &str, expected: Result<&str, &str>) {
        let names: Vec<String> =
            ["selection", "selection_a", "selection_b", "filter_main_x", "filter_other", "_hidden"].iter().map(|name| name.to_string()).collect();
        let got = parse(condition, &names).map(|expr| format!("{expr:?}"));
        match expected {
            Ok(expected) => assert_eq!(got.as_deref(), Ok(expected), "{condition}"),
            Err(expected) => assert!(got.as_ref().is_err_and(|error| error.contains(expected)), "{condition}: {got:?}"),
        }
    }

    #[test]
    fn parses_the_condition_grammar() {
        check("selection", Ok("Search(0)"));
        check("selection and not 1 of filter_main_*", Ok("And([Search(0), Not(OneOf([3]))])"));
        check("selection or selection_a and selection_b", Ok("Or([Search(0), And([Search(1), Search(2)])])"));
        check("(selection or selection_a) and selection_b", Ok("And([Or([Search(0), Search(1)]), Search(2)])"));
        check("not not selection", Ok("Not(Not(Search(0)))"));
        check("all of selection_*", Ok("AllOf([1, 2])"));
        check("1 of filter*", Ok("OneOf([3, 4])"));
        check("1 of them", Ok("OneOf([0, 1, 2, 3, 4])"));
        check("all of them", Ok("AllOf([0, 1, 2, 3, 4])"));
        check("selection AND NOT filter_other", Ok("And([Search(0), Not(Search(4))])"));
        check("1 of selection_? and _hidden", Ok("And([OneOf([1, 2]), Search(5)])"));
    }

    #[test]
    fn rejects_bad_conditions_with_reasons() {
        check("selection and", Err("expected a search identifier"));
        check("nosuch", Err("unknown search identifier `nosuch`"));
        check("(selection", Err("expected `)`"));
        check("selection_*", Err("needs `1 of` or `all of`"));
        check("selection | count() by x > 5", Err("not supported"));
        check("1 of nothing_*", Err("matches no search identifier"));
        check("selection selection_a", Err("unexpected"));
    }
}
