//! A request to authorize: who (principal), what (action), on what (resource), and the
//! request context (condition keys and their values).

use std::collections::HashMap;

/// The condition keys of a request, looked up case-insensitively (keys are lower-cased).
///
/// A context normally describes one request exactly: a key it lacks is absent. A context
/// built by [`Context::chosen_by_caller`] describes every request some caller could make: a
/// key it neither holds nor pins as absent is the caller's to choose, so a condition on it goes
/// the caller's way (an Allow's condition holds, a Deny's does not). The probes that decide
/// publicity ([`crate::publicity`]) are built this way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    values: HashMap<String, Vec<String>>,
    caller_chooses: bool,
    /// Lower-cased keys the caller cannot set (for a context the caller otherwise chooses).
    absent: Vec<String>,
}

impl Context {
    /// A context where every key not set, and not listed in `absent`, is the caller's to choose.
    pub fn chosen_by_caller(absent: &[&str]) -> Context {
        Context { values: HashMap::new(), caller_chooses: true, absent: absent.iter().map(|key| key.to_lowercase()).collect() }
    }

    /// True when a condition on `key` (lower-cased) is decided by the caller's choice: the
    /// context leaves the key to the caller and does not hold it.
    pub fn chosen(&self, key: &str) -> bool {
        self.caller_chooses && !self.values.contains_key(key) && !self.absent.iter().any(|absent| absent == key)
    }

    /// Removes a key (for example one [`Request::new`] set that the caller may choose).
    pub fn remove(&mut self, key: &str) {
        self.values.remove(&key.to_lowercase());
    }

    pub fn insert(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_lowercase(), values);
    }

    /// Adds a key only when the caller did not set it.
    pub fn insert_default(&mut self, key: &str, value: String) {
        self.values.entry(key.to_lowercase()).or_insert_with(|| vec![value]);
    }

    /// The values of a key (`key` must be lower-cased); `None` when the key is absent.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(key).map(Vec::as_slice)
    }

    /// The value of a single-valued key, as policy variables need.
    pub fn single(&self, key: &str) -> Option<&str> {
        match self.values.get(key).map(Vec::as_slice) {
            Some([value]) => Some(value),
            _ => None,
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

/// What kind of principal makes a request, read from its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// `arn:aws:iam::ACCOUNT:root`.
    Root,
    /// `arn:aws:iam::ACCOUNT:user/path/name`.
    User { name: String },
    /// `arn:aws:iam::ACCOUNT:role/path/name` (a request made "as the role").
    Role { name: String },
    /// `arn:aws:sts::ACCOUNT:assumed-role/name/session`.
    AssumedRole { role_name: String },
    /// `arn:aws:sts::ACCOUNT:federated-user/name`.
    FederatedUser,
    /// A service principal such as `ec2.amazonaws.com`.
    Service,
    /// An anonymous (unsigned) request: `*` or `anonymous`.
    Anonymous,
    /// Any other ARN.
    Other,
}

/// The principal making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub arn: String,
    pub account: Option<String>,
    pub partition: String,
    pub kind: PrincipalKind,
}

impl Principal {
    pub fn parse(text: &str) -> Principal {
        let text = text.trim();
        if text == "*" || text.eq_ignore_ascii_case("anonymous") {
            return Principal { arn: text.to_string(), account: None, partition: "aws".into(), kind: PrincipalKind::Anonymous };
        }
        let Some(parts) = crate::pattern::arn_parts(text).filter(|parts| parts[0] == "arn") else {
            let kind = if text.contains('.') { PrincipalKind::Service } else { PrincipalKind::Other };
            let account = (text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())).then(|| text.to_string());
            let kind = if account.is_some() { PrincipalKind::Root } else { kind };
            return Principal { arn: text.to_string(), account, partition: "aws".into(), kind };
        };
        let account = (!parts[4].is_empty()).then(|| parts[4].to_string());
        let resource = parts[5];
        let last = |path: &str| path.rsplit('/').next().unwrap_or_default().to_string();
        let kind = match (parts[2], resource.split_once('/')) {
            ("iam", None) if resource == "root" => PrincipalKind::Root,
            ("iam", Some(("user", path))) => PrincipalKind::User { name: last(path) },
            ("iam", Some(("role", path))) => PrincipalKind::Role { name: last(path) },
            ("sts", Some(("assumed-role", rest))) => PrincipalKind::AssumedRole { role_name: rest.split('/').next().unwrap_or_default().to_string() },
            ("sts", Some(("federated-user", _))) => PrincipalKind::FederatedUser,
            _ => PrincipalKind::Other,
        };
        Principal { arn: text.to_string(), account, partition: parts[1].to_string(), kind }
    }

    /// A service-linked role (path `/aws-service-role/`), or one of its sessions (their ARNs
    /// drop the path, so the name's `AWSServiceRoleFor` prefix, which AWS gives every
    /// service-linked role, tells them apart).
    pub fn is_service_linked_role(&self) -> bool {
        match &self.kind {
            PrincipalKind::Role { name } => self.arn.contains(":role/aws-service-role/") || name.starts_with("AWSServiceRoleFor"),
            PrincipalKind::AssumedRole { role_name } => role_name.starts_with("AWSServiceRoleFor"),
            _ => false,
        }
    }

    /// The ARN of the role behind an assumed-role session (the value of `aws:PrincipalArn`).
    pub fn role_arn(&self) -> Option<String> {
        match &self.kind {
            PrincipalKind::AssumedRole { role_name } => {
                Some(format!("arn:{}:iam::{}:role/{}", self.partition, self.account.as_deref().unwrap_or_default(), role_name))
            }
            PrincipalKind::Role { .. } => Some(self.arn.clone()),
            _ => None,
        }
    }
}

/// One request to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: Principal,
    /// The action as `service:Name`; compared case-insensitively.
    pub action: String,
    pub resource: String,
    /// The account that owns the resource; `None` when unknown (then the principal's account).
    pub resource_account: Option<String>,
    pub context: Context,
}

impl Request {
    /// Builds a request, adding the global keys AWS always sets when the caller did not:
    /// `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
    /// `aws:PrincipalIsAWSService` (signed requests), `aws:PrincipalServiceName` (AWS service
    /// principals), `aws:username` (IAM users) and `aws:ResourceAccount`.
    pub fn new(principal: &str, action: &str, resource: &str, resource_account: Option<String>, mut context: Context) -> Request {
        let principal = Principal::parse(principal);
        match &principal.kind {
            PrincipalKind::Service => {
                context.insert_default("aws:PrincipalIsAWSService", "true".to_string());
                context.insert_default("aws:PrincipalServiceName", principal.arn.clone());
            }
            PrincipalKind::Anonymous => context.insert_default("aws:PrincipalType", "Anonymous".to_string()),
            kind => {
                let root_arn = || format!("arn:{}:iam::{}:root", principal.partition, principal.account.as_deref().unwrap_or_default());
                let arn = match kind {
                    PrincipalKind::Root if !principal.arn.starts_with("arn:") => root_arn(),
                    _ => principal.role_arn().unwrap_or_else(|| principal.arn.clone()),
                };
                context.insert_default("aws:PrincipalArn", arn);
                context.insert_default("aws:PrincipalIsAWSService", "false".to_string());
                let principal_type = match kind {
                    PrincipalKind::Root => Some("Account"),
                    PrincipalKind::User { .. } => Some("User"),
                    PrincipalKind::Role { .. } | PrincipalKind::AssumedRole { .. } => Some("AssumedRole"),
                    PrincipalKind::FederatedUser => Some("FederatedUser"),
                    _ => None,
                };
                if let Some(principal_type) = principal_type {
                    context.insert_default("aws:PrincipalType", principal_type.to_string());
                }
            }
        }
        if let Some(account) = &principal.account {
            context.insert_default("aws:PrincipalAccount", account.clone());
        }
        if let PrincipalKind::User { name } = &principal.kind {
            context.insert_default("aws:username", name.clone());
        }
        let resource_account = resource_account.filter(|account| !account.is_empty()).or_else(|| principal.account.clone());
        if let Some(account) = &resource_account {
            context.insert_default("aws:ResourceAccount", account.clone());
        }
        Request { principal, action: action.to_string(), resource: resource.to_string(), resource_account, context }
    }

    /// True when principal and resource belong to the same account.
    pub fn is_same_account(&self) -> bool {
        self.principal.account.is_some() && self.principal.account == self.resource_account
    }
}
