//! A deliberately simple Sigma interpreter over YAML and `serde_json` values, used only by the
//! tests as the oracle the compiled matcher must agree with.

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

pub fn rule_matches(rule: &Yaml, event: &Json) -> bool {
    let Some(Yaml::Mapping(detection)) = rule.get("detection") else { return false };
    let mut names = Vec::new();
    let mut bodies = Vec::new();
    let mut condition = String::new();
    for (key, value) in detection {
        let key = key.as_str().unwrap_or_default().to_string();
        if key == "condition" {
            condition = value.as_str().unwrap_or_default().to_string();
        } else {
            names.push(key);
            bodies.push(value.clone());
        }
    }
    let Ok(expr) = super::condition::parse(&condition, &names) else { return false };
    expr.evaluate(&mut |index| search(&bodies[index], event))
}

fn search(body: &Yaml, event: &Json) -> bool {
    match body {
        Yaml::Mapping(map) => map.iter().all(|(key, values)| entry(key.as_str().unwrap_or_default(), values, event)),
        Yaml::Sequence(items) if items.iter().all(|item| item.is_mapping()) => items.iter().any(|item| search(item, event)),
        Yaml::Sequence(items) => items.iter().any(|item| {
            let needle = scalar_text(item).to_lowercase();
            strings(event).iter().any(|text| text.to_lowercase().contains(&needle))
        }),
        _ => false,
    }
}

fn strings(value: &Json) -> Vec<String> {
    match value {
        Json::Object(map) => map.values().flat_map(strings).collect(),
        Json::Array(items) => items.iter().flat_map(strings).collect(),
        Json::Null => Vec::new(),
        Json::String(text) => vec![text.clone()],
        other => vec![other.to_string()],
    }
}

fn scalar_text(value: &Yaml) -> String {
    match value {
        Yaml::String(text) => text.clone(),
        Yaml::Number(number) => number.to_string(),
        Yaml::Bool(flag) => flag.to_string(),
        _ => String::new(),
    }
}

fn leaves(event: &Json, field: &str) -> Vec<Json> {
    fn walk(value: &Json, parts: &[&str], out: &mut Vec<Json>) {
        match (parts.split_first(), value) {
            (None, Json::Array(items)) => out.extend(items.iter().cloned()),
            (None, other) => out.push(other.clone()),
            (Some(_), Json::Array(items)) => items.iter().for_each(|item| walk(item, parts, out)),
            (Some((first, rest)), Json::Object(map)) => {
                if let Some(child) = map.get(*first) {
                    walk(child, rest, out)
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    let parts: Vec<&str> = field.split('.').collect();
    walk(event, &parts, &mut out);
    out
}

fn leaf_text(value: &Json) -> Option<String> {
    match value {
        Json::String(text) => Some(text.clone()),
        Json::Number(number) => Some(number.to_string()),
        Json::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn entry(key: &str, values: &Yaml, event: &Json) -> bool {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let modifiers: Vec<&str> = parts.collect();
    let values: Vec<Yaml> = match values {
        Yaml::Sequence(items) => items.clone(),
        other => vec![other.clone()],
    };
    let found = leaves(event, field);
    let one = |value: &Yaml| -> bool {
        if value.is_null() {
            return found.iter().all(Json::is_null);
        }
        if modifiers.contains(&"exists") {
            return value.as_bool() == Some(found.iter().any(|leaf| !leaf.is_null()));
        }
        let cased = modifiers.contains(&"cased");
        found.iter().any(|leaf| {
            if let Yaml::Bool(flag) = value {
                return leaf.as_bool() == Some(*flag) || leaf.as_str().is_some_and(|text| text.eq_ignore_ascii_case(&flag.to_string()));
            }
            if let (Yaml::Number(number), false) = (value, modifiers.iter().any(|modifier| ["contains", "startswith", "endswith"].contains(modifier))) {
                let wanted = number.as_f64();
                return leaf.as_f64().or_else(|| leaf.as_str().and_then(|text| text.trim().parse().ok())) == wanted;
            }
            let Some(text) = leaf_text(leaf) else { return false };
            let pattern = scalar_text(value);
            if modifiers.contains(&"re") {
                return regex::Regex::new(&pattern).is_ok_and(|regex| regex.is_match(&text));
            }
            let any_before = modifiers.contains(&"contains") || modifiers.contains(&"endswith");
            let any_after = modifiers.contains(&"contains") || modifiers.contains(&"startswith");
            if cased {
                glob_match(&pattern, &text, any_before, any_after)
            } else {
                glob_match(&pattern.to_lowercase(), &text.to_lowercase(), any_before, any_after)
            }
        })
    };
    if modifiers.contains(&"all") { values.iter().all(one) } else { values.iter().any(one) }
}

/// `*` any run, `?` one character, `\*` `\?` `\\` literal; another backslash is literal.
fn glob_match(pattern: &str, text: &str, any_before: bool, any_after: bool) -> bool {
    #[derive(PartialEq)]
    enum Piece {
        Char(char),
        Any,
        One,
    }
    let mut pieces = Vec::new();
    if any_before {
        pieces.push(Piece::Any);
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        match chars[index] {
            '\\' if matches!(chars.get(index + 1), Some('*' | '?' | '\\')) => {
                pieces.push(Piece::Char(chars[index + 1]));
                index += 2;
                continue;
            }
            '*' => pieces.push(Piece::Any),
            '?' => pieces.push(Piece::One),
            other => pieces.push(Piece::Char(other)),
        }
        index += 1;
    }
    if any_after {
        pieces.push(Piece::Any);
    }
    fn go(pieces: &[Piece], text: &[char]) -> bool {
        match pieces.split_first() {
            None => text.is_empty(),
            Some((Piece::Any, rest)) => (0..=text.len()).any(|skip| go(rest, &text[skip..])),
            Some((Piece::One, rest)) => !text.is_empty() && go(rest, &text[1..]),
            Some((Piece::Char(wanted), rest)) => text.first() == Some(wanted) && go(rest, &text[1..]),
        }
    }
    let text: Vec<char> = text.chars().collect();
    go(&pieces, &text)
}
