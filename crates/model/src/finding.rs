//! Findings: the result of one check on one resource.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, the highest first: the order in which the console, the reports and the
    /// store's severity rank list them.
    pub const HIGHEST_FIRST: [Severity; 5] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Informational];

    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text.to_ascii_lowercase().as_str() {
            "informational" | "info" => Some(Severity::Informational),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Fail,
    /// The data the check needed was not read; the message names the call and its error.
    Error,
    Muted,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
            Status::Muted => "MUTED",
        }
    }
}

/// The result of one check on one resource.
///
/// A scan of a million resources holds millions of findings, so a finding is kept lean: the
/// strings many findings repeat (check, account, region, resource) are [`SharedStr`]s that
/// [`crate::Context`] interns, the tags are shared, and the evidence is kept as compact JSON
/// text. Serialized, a finding reads exactly as if every field were an owned `String`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub check_id: SharedStr,
    pub check_title: SharedStr,
    pub service: SharedStr,
    pub severity: Severity,
    pub status: Status,
    pub account_id: SharedStr,
    pub region: SharedStr,
    pub resource_arn: SharedStr,
    pub resource_type: SharedStr,
    /// The resource's own id or name.
    pub resource_id: SharedStr,
    #[serde(default, skip_serializing_if = "SharedTags::is_empty")]
    pub resource_tags: SharedTags,
    /// What a person should know, in one sentence.
    pub message: SharedStr,
    /// The configuration values that decided the status (or the failed call for ERROR).
    pub evidence: Evidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_reason: Option<SharedStr>,
}

/// An immutable string shared by reference counting, one pointer wide: findings of the same
/// check, account, region or resource point at one copy. Reads like a `&str` (it derefs to
/// one and compares with `str`, `&str` and `String`) and serializes as a plain string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SharedStr(Arc<Box<str>>);

impl SharedStr {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SharedStr {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), formatter)
    }
}

impl std::fmt::Display for SharedStr {
    /// Honours width, fill and alignment (`{:<46}`), as a `String` does.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.as_str(), formatter)
    }
}

impl From<&str> for SharedStr {
    fn from(text: &str) -> SharedStr {
        SharedStr(Arc::new(Box::from(text)))
    }
}

impl From<String> for SharedStr {
    fn from(text: String) -> SharedStr {
        SharedStr(Arc::new(text.into_boxed_str()))
    }
}

impl From<&String> for SharedStr {
    fn from(text: &String) -> SharedStr {
        SharedStr::from(text.as_str())
    }
}

impl From<SharedStr> for String {
    fn from(text: SharedStr) -> String {
        text.as_str().to_string()
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<SharedStr> for str {
    fn eq(&self, other: &SharedStr) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SharedStr> for &str {
    fn eq(&self, other: &SharedStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for SharedStr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SharedStr, D::Error> {
        String::deserialize(deserializer).map(SharedStr::from)
    }
}

/// A resource's tags, shared by every finding about the resource (no allocation when there are
/// none). Reads like the `BTreeMap` it derefs to and serializes as one.
#[derive(Clone, PartialEq, Default)]
pub struct SharedTags(Option<Arc<BTreeMap<String, String>>>);

static NO_TAGS: BTreeMap<String, String> = BTreeMap::new();

impl SharedTags {
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|tags| tags.is_empty())
    }
}

impl std::ops::Deref for SharedTags {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &BTreeMap<String, String> {
        self.0.as_deref().unwrap_or(&NO_TAGS)
    }
}

impl From<BTreeMap<String, String>> for SharedTags {
    fn from(tags: BTreeMap<String, String>) -> SharedTags {
        if tags.is_empty() { SharedTags(None) } else { SharedTags(Some(Arc::new(tags))) }
    }
}

impl FromIterator<(String, String)> for SharedTags {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> SharedTags {
        SharedTags::from(pairs.into_iter().collect::<BTreeMap<String, String>>())
    }
}

impl std::fmt::Debug for SharedTags {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, formatter)
    }
}

impl Serialize for SharedTags {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SharedTags {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SharedTags, D::Error> {
        BTreeMap::deserialize(deserializer).map(SharedTags::from)
    }
}

/// A finding's evidence, kept as its compact JSON text (a `serde_json::Value` tree costs several
/// times more memory) and shared by the findings whose evidence is the same. Serializes as the
/// JSON it holds; [`Evidence::to_value`] parses it back.
#[derive(Clone)]
pub struct Evidence(Arc<Box<RawValue>>);

impl Evidence {
    /// The compact JSON text, as `serde_json::Value::to_string` would print it.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }

    /// The evidence as a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl From<serde_json::Value> for Evidence {
    fn from(value: serde_json::Value) -> Evidence {
        Evidence::from(&value)
    }
}

impl From<&serde_json::Value> for Evidence {
    fn from(value: &serde_json::Value) -> Evidence {
        // Serializing a `Value` cannot fail (its map keys are strings); `null` is the fallback
        // the type system asks for.
        Evidence(Arc::new(serde_json::value::to_raw_value(value).unwrap_or_default()))
    }
}

impl Evidence {
    /// Evidence from the compact JSON text of a value (`null` if the text is not JSON).
    pub fn from_json_text(text: &str) -> Evidence {
        Evidence(Arc::new(RawValue::from_string(text.to_string()).unwrap_or_default()))
    }
}

impl Default for Evidence {
    fn default() -> Evidence {
        Evidence(Arc::new(Box::default()))
    }
}

impl PartialEq for Evidence {
    fn eq(&self, other: &Evidence) -> bool {
        self.as_json() == other.as_json()
    }
}

impl PartialEq<serde_json::Value> for Evidence {
    fn eq(&self, other: &serde_json::Value) -> bool {
        &self.to_value() == other
    }
}

impl std::fmt::Debug for Evidence {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_json())
    }
}

impl std::fmt::Display for Evidence {
    /// The compact JSON, as `serde_json::Value` displays it.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.as_json(), formatter)
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Evidence, D::Error> {
        serde_json::Value::deserialize(deserializer).map(Evidence::from)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn finding(tags: &[(&str, &str)], evidence: serde_json::Value, mute_reason: Option<&str>) -> Finding {
        Finding {
            check_id: "s3_bucket_not_public".into(),
            check_title: "S3 buckets are not public".into(),
            service: "s3".into(),
            severity: Severity::High,
            status: Status::Fail,
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            resource_arn: "arn:aws:s3:::site".into(),
            resource_type: "AWS::S3::Bucket".into(),
            resource_id: "site".into(),
            resource_tags: tags.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
            message: "bucket `site` is public".into(),
            evidence: evidence.into(),
            mute_reason: mute_reason.map(SharedStr::from),
        }
    }

    /// The finding as it was before it was made lean: owned strings and a `Value` of evidence.
    /// The lean finding must serialize exactly like it (outputs and stored findings depend on it).
    #[derive(Serialize)]
    struct OwnedFinding {
        check_id: String,
        check_title: String,
        service: String,
        severity: Severity,
        status: Status,
        account_id: String,
        region: String,
        resource_arn: String,
        resource_type: String,
        resource_id: String,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        resource_tags: BTreeMap<String, String>,
        message: String,
        evidence: serde_json::Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        mute_reason: Option<String>,
    }

    fn owned(tags: &[(&str, &str)], evidence: serde_json::Value, mute_reason: Option<&str>) -> OwnedFinding {
        OwnedFinding {
            check_id: "s3_bucket_not_public".into(),
            check_title: "S3 buckets are not public".into(),
            service: "s3".into(),
            severity: Severity::High,
            status: Status::Fail,
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            resource_arn: "arn:aws:s3:::site".into(),
            resource_type: "AWS::S3::Bucket".into(),
            resource_id: "site".into(),
            resource_tags: tags.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
            message: "bucket `site` is public".into(),
            evidence,
            mute_reason: mute_reason.map(str::to_string),
        }
    }

    /// Tags, evidence and mute reason of one case.
    type Case = (&'static [(&'static str, &'static str)], serde_json::Value, Option<&'static str>);

    #[test]
    fn a_lean_finding_serializes_like_owned_fields() {
        let cases: Vec<Case> = vec![
            (&[], json!({ "PolicyStatus": { "IsPublic": true }, "Grants": [1, "two", null] }), None),
            (&[("env", "prod"), ("owner", "<script>")], json!(null), Some("public website")),
            (&[], json!({ "zeta": 1.5, "alpha": "\"quoted\"\n" }), None),
        ];
        for (tags, evidence, mute_reason) in cases {
            let lean = finding(tags, evidence.clone(), mute_reason);
            let owned = owned(tags, evidence.clone(), mute_reason);
            // Straight to text (the JSON Lines writer and the store).
            assert_eq!(serde_json::to_string(&lean).unwrap(), serde_json::to_string(&owned).unwrap());
            // Through a `Value` (the JSON, OCSF, ASFF and SARIF writers), then pretty.
            let value = serde_json::to_value(&lean).unwrap();
            assert_eq!(value, serde_json::to_value(&owned).unwrap());
            assert_eq!(serde_json::to_string_pretty(&value).unwrap(), serde_json::to_string_pretty(&serde_json::to_value(&owned).unwrap()).unwrap());
            assert_eq!(lean.evidence.to_string(), evidence.to_string());
            assert_eq!(lean.evidence.to_value(), evidence);
            // And back, from text or from a `Value`.
            assert_eq!(serde_json::from_str::<Finding>(&serde_json::to_string(&lean).unwrap()).unwrap(), lean);
            assert_eq!(serde_json::from_value::<Finding>(value).unwrap(), lean);
        }
    }

    #[test]
    fn shared_strings_format_and_compare_like_strings() {
        let text = SharedStr::from("eu-west-1");
        assert_eq!(format!("[{text:<12}]"), format!("[{:<12}]", "eu-west-1"));
        assert_eq!(format!("{text:?}"), format!("{:?}", "eu-west-1"));
        assert_eq!(text, "eu-west-1");
        assert_eq!("eu-west-1", text);
        let owned = String::from("eu-west-1");
        assert_eq!(text, owned);
        // Sorting findings by check id orders them as strings.
        let mut ids = vec![SharedStr::from("b"), SharedStr::from("a"), SharedStr::from("ab")];
        ids.sort();
        assert_eq!(ids, ["a", "ab", "b"]);
    }
}
