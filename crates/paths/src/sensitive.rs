//! Which resources hold sensitive data: their tags (a documented list of keys and values that
//! the cloud-aware policy may replace) or ARN patterns the policy names.

use vigil_iam::pattern;
use vigil_model::Tags;

/// The tag keys that mark a resource sensitive by default (compared without case and without
/// `-`, `_`, `:`, `.`, `/` and spaces), with any value but the negative ones of
/// [`NOT_SENSITIVE_VALUES`]. The cloud-aware policy's `sensitive_data_tags` replaces the list.
pub const DEFAULT_SENSITIVE_TAGS: &[&str] = &["sensitive", "sensitivity", "data-classification", "classification", "confidentiality", "pii", "phi", "pci"];

/// Values that say a resource is not sensitive when a rule names only a key.
pub const NOT_SENSITIVE_VALUES: &[&str] =
    &["", "false", "no", "none", "0", "off", "n/a", "na", "public", "low", "unclassified", "nonsensitive", "non-sensitive", "not-sensitive"];

/// One rule: a tag key, and optionally the one value it must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRule {
    key: String,
    value: Option<String>,
    text: String,
}

fn normalize(text: &str) -> String {
    text.chars().filter(|character| !matches!(character, '-' | '_' | ':' | '.' | '/' | ' ')).flat_map(char::to_lowercase).collect()
}

impl TagRule {
    /// `Key` (any value but a negative one) or `Key=Value` (that value, without case).
    pub fn parse(text: &str) -> TagRule {
        match text.split_once('=') {
            Some((key, value)) => TagRule { key: normalize(key), value: Some(value.trim().to_lowercase()), text: text.to_string() },
            None => TagRule { key: normalize(text), value: None, text: text.to_string() },
        }
    }

    /// The tag (`Key=Value`) this rule matches among `tags`, if any.
    pub fn matches(&self, tags: &Tags) -> Option<String> {
        tags.iter().find_map(|(key, value)| {
            if normalize(key) != self.key {
                return None;
            }
            let value_lower = value.trim().to_lowercase();
            let matched = match &self.value {
                Some(expected) => *expected == value_lower,
                None => !NOT_SENSITIVE_VALUES.contains(&value_lower.as_str()),
            };
            matched.then(|| format!("{key}={value}"))
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// What makes data sensitive: tag rules and ARN patterns (`*` and `?` wildcards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sensitivity {
    pub tags: Vec<TagRule>,
    pub arns: Vec<String>,
}

impl Default for Sensitivity {
    fn default() -> Sensitivity {
        Sensitivity { tags: DEFAULT_SENSITIVE_TAGS.iter().map(|key| TagRule::parse(key)).collect(), arns: Vec::new() }
    }
}

impl Sensitivity {
    /// Why a resource is sensitive (`tag data-classification=confidential`, `policy pattern
    /// arn:aws:s3:::payroll*`), or `None`.
    pub fn reason(&self, arn: &str, tags: Option<&Tags>) -> Option<String> {
        if let Some(tags) = tags {
            for rule in &self.tags {
                if let Some(tag) = rule.matches(tags) {
                    return Some(format!("tag {tag}"));
                }
            }
        }
        self.arns.iter().find(|pattern| pattern::Glob::new(pattern).matches(arn)).map(|pattern| format!("policy pattern {pattern}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rules: &[&str], tags: &[(&str, &str)], expected: Option<&str>) {
        let sensitivity = Sensitivity { tags: rules.iter().map(|rule| TagRule::parse(rule)).collect(), arns: Vec::new() };
        let tags: Tags = tags.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
        assert_eq!(sensitivity.reason("arn:aws:s3:::b", Some(&tags)).as_deref(), expected, "{rules:?} {tags:?}");
    }

    #[test]
    fn tags_mark_data_sensitive_by_key_without_case_or_separators_unless_the_value_is_negative() {
        let defaults: Vec<&str> = DEFAULT_SENSITIVE_TAGS.to_vec();
        check(&defaults, &[("DataClassification", "Confidential")], Some("tag DataClassification=Confidential"));
        check(&defaults, &[("data_classification", "restricted")], Some("tag data_classification=restricted"));
        check(&defaults, &[("Sensitive", "true")], Some("tag Sensitive=true"));
        check(&defaults, &[("sensitive", "false")], None);
        check(&defaults, &[("classification", "Public")], None);
        check(&defaults, &[("team", "payroll")], None);
        check(&["owner=payroll"], &[("Owner", "PAYROLL")], Some("tag Owner=PAYROLL"));
        check(&["owner=payroll"], &[("Owner", "web")], None);
    }

    #[test]
    fn policy_patterns_mark_data_sensitive_by_arn() {
        let sensitivity = Sensitivity { tags: Vec::new(), arns: vec!["arn:aws:s3:::payroll-*".to_string()] };
        assert!(sensitivity.reason("arn:aws:s3:::payroll-2026", None).is_some());
        assert!(sensitivity.reason("arn:aws:s3:::web", None).is_none());
    }
}
