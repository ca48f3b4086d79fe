//! Whether a resource-based policy lets anyone in: the one definition of "public" that every
//! policy check, `vigil iam external` and the console use.
//!
//! A statement is public when the engine allows a request that an arbitrary caller makes: an
//! anonymous caller, an IAM user of an account the policy does not name, or that user through
//! its own VPC endpoint; over TLS; from an address the policy does not name. The keys AWS sets
//! from who the caller is and where the request comes from ([`CALLER_KEYS`]) take those
//! arbitrary values or are absent; every other key (a referer, a user agent, tags, prefixes,
//! MFA) is the caller's to choose, so a condition on it goes the caller's way. Hence
//! `aws:SecureTransport` does not narrow a grant, while a specific `aws:PrincipalAccount`, the
//! owner's `aws:SourceAccount`, `aws:SourceArn` or `aws:PrincipalOrgID`, an `aws:SourceVpc`
//! or `aws:SourceVpce`, and `aws:SourceIp` ranges do. The policy's Deny statements take part
//! in every decision, so a Deny that keeps strangers out makes the grant non-public, and so do
//! the Deny statements of the organization's resource control policies (RCPs) when the owner's
//! are known ([`Resource::rcps`]).

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::condition::{Condition, Operator};
use crate::evaluate::{rcps_deny, resource_policy_verdict};
use crate::policy::{Effect, Policy, PrincipalType, Statement};
use crate::request::{Context, Request};

/// The resource a policy belongs to, and who owns it.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    pub arn: &'a str,
    /// The owner's account id.
    pub account: &'a str,
    /// The owner's organization, when known.
    pub organization: Option<&'a str>,
    pub partition: &'a str,
    /// The RCPs of the owner's account, one list per level from the root (empty when the
    /// account belongs to no organization or they were not read: the caller says which).
    pub rcps: &'a [Vec<&'a Policy>],
    /// The organization's management account, whose resources RCPs do not restrict.
    pub management_account: Option<&'a str>,
}

impl Resource<'_> {
    /// Whether `request` is admitted by the resource policy's verdict and not denied by the
    /// owner's RCPs.
    fn lets_in(&self, request: &Request, policy: &Policy, statement: usize) -> bool {
        let verdict = resource_policy_verdict(request, policy);
        !verdict.denied && verdict.allowed_by.contains(&statement) && !rcps_deny(request, self.rcps, self.management_account)
    }
}

/// What a request-context key tells about the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    /// Who the caller is, or for which resource a service calls: account, ARN, organization.
    Identity,
    /// Where the request comes from: address, VPC, VPC endpoint.
    Network,
}

/// The request-context keys AWS sets from the caller itself (lower-cased), which no caller can
/// choose. Every other key is the caller's to choose.
pub const CALLER_KEYS: &[(&str, Aspect)] = &[
    ("aws:principalaccount", Aspect::Identity),
    ("aws:principalarn", Aspect::Identity),
    ("aws:principalorgid", Aspect::Identity),
    ("aws:principalorgpaths", Aspect::Identity),
    ("aws:principaltype", Aspect::Identity),
    ("aws:principalisawsservice", Aspect::Identity),
    ("aws:principalservicename", Aspect::Identity),
    ("aws:principalservicenameslist", Aspect::Identity),
    ("kms:calleraccount", Aspect::Identity),
    ("aws:sourceaccount", Aspect::Identity),
    ("aws:sourcearn", Aspect::Identity),
    ("aws:sourceowner", Aspect::Identity),
    ("aws:sourceorgid", Aspect::Identity),
    ("aws:sourceorgpaths", Aspect::Identity),
    ("aws:calledvia", Aspect::Identity),
    ("aws:calledviafirst", Aspect::Identity),
    ("aws:calledvialast", Aspect::Identity),
    ("aws:viaawsservice", Aspect::Identity),
    ("aws:sourceip", Aspect::Network),
    ("aws:sourcevpc", Aspect::Network),
    ("aws:sourcevpce", Aspect::Network),
    ("aws:sourcevpcarn", Aspect::Network),
];

/// The callers a grant is tried with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// An unsigned request from the internet.
    Anonymous,
    /// An IAM user of an account the policy does not name, from the internet.
    Stranger,
    /// The same user, through a VPC endpoint in its own VPC.
    StrangerViaEndpoint,
    /// An IAM user of the owner's account (for the TLS test: a Deny must hold for everyone).
    Insider,
}

/// The arbitrary values a probe uses, chosen so that nothing in the policy names them.
#[derive(Clone)]
struct Probe<'a> {
    resource: Resource<'a>,
    /// An account id the policy does not mention.
    stranger: String,
    /// An address outside every range the policy names (other than `/0`).
    address: String,
}

impl<'a> Probe<'a> {
    fn new(policy: &Policy, resource: Resource<'a>) -> Probe<'a> {
        let texts = policy_texts(policy);
        let stranger = (0..1000u32)
            .map(|number| format!("{number:012}"))
            .find(|candidate| candidate != resource.account && !texts.iter().any(|text| text.contains(candidate.as_str())))
            .unwrap_or_else(|| "000000000000".to_string());
        let ranges: Vec<IpNet> = policy
            .statements
            .iter()
            .flat_map(|statement| statement.conditions.iter())
            .filter(|condition| matches!(condition.operator, Operator::IpAddress | Operator::NotIpAddress))
            .flat_map(|condition| condition.values.iter())
            .filter_map(|value| value.text.trim().parse::<IpNet>().ok().or_else(|| value.text.trim().parse::<IpAddr>().ok().map(IpNet::from)))
            .filter(|range| range.prefix_len() > 0)
            .collect();
        let address = ["203.0.113.77", "198.51.100.77", "192.0.2.77", "100.64.0.77", "8.8.4.4", "1.1.1.1", "9.9.9.9", "240.0.0.77"]
            .into_iter()
            .find(|candidate| candidate.parse::<IpAddr>().is_ok_and(|address| !ranges.iter().any(|range| range.contains(&address))))
            .unwrap_or("203.0.113.77")
            .to_string();
        Probe { resource, stranger, address }
    }

    /// The request `caller` makes for `action` on `arn`, with the caller keys of the `free`
    /// aspects left to the caller too.
    fn request(&self, caller: Caller, action: &str, arn: &str, secure: bool, free: &[Aspect]) -> Request {
        let partition = self.resource.partition;
        let (principal, account) = match caller {
            Caller::Anonymous => ("*".to_string(), None),
            Caller::Stranger | Caller::StrangerViaEndpoint => {
                (format!("arn:{partition}:iam::{}:user/vigil-probe", self.stranger), Some(self.stranger.as_str()))
            }
            Caller::Insider => (format!("arn:{partition}:iam::{}:user/vigil-probe", self.resource.account), Some(self.resource.account)),
        };
        let organization = match caller {
            Caller::Anonymous => None,
            Caller::Stranger | Caller::StrangerViaEndpoint => Some("o-vigilprobe00"),
            Caller::Insider => self.resource.organization,
        };
        let via_endpoint = caller == Caller::StrangerViaEndpoint;
        let mut values: Vec<(&str, String)> = vec![
            ("aws:principaltype", if caller == Caller::Anonymous { "Anonymous" } else { "User" }.to_string()),
            ("aws:principalisawsservice", "false".to_string()),
            ("aws:viaawsservice", "false".to_string()),
        ];
        if let Some(account) = account {
            values.push(("aws:principalaccount", account.to_string()));
            values.push(("aws:principalarn", principal.clone()));
            values.push(("kms:calleraccount", account.to_string()));
        }
        if let Some(organization) = organization {
            values.push(("aws:principalorgid", organization.to_string()));
            values.push(("aws:principalorgpaths", format!("{organization}/r-vigilprobe/ou-vigilprobe/")));
        }
        if via_endpoint {
            values.push(("aws:sourcevpc", "vpc-0vigilprobe00000".to_string()));
            values.push(("aws:sourcevpce", "vpce-0vigilprobe0000".to_string()));
        } else {
            values.push(("aws:sourceip", self.address.clone()));
        }
        // Keys of the caller that this caller does not carry are pinned absent; those of a
        // free aspect are left to the caller whatever it carries.
        let is_free = |key: &str| CALLER_KEYS.iter().any(|(caller_key, aspect)| *caller_key == key && free.contains(aspect));
        let absent: Vec<&str> = CALLER_KEYS.iter().map(|(key, _)| *key).filter(|key| !is_free(key) && !values.iter().any(|(set, _)| set == key)).collect();
        let mut context = Context::chosen_by_caller(&absent);
        context.insert("aws:SecureTransport", vec![secure.to_string()]);
        if let Some(organization) = self.resource.organization {
            context.insert("aws:ResourceOrgID", vec![organization.to_string()]);
        }
        for (key, value) in values.into_iter().filter(|(key, _)| !is_free(key)) {
            context.insert(key, vec![value]);
        }
        let mut request = Request::new(&principal, action, arn, Some(self.resource.account.to_string()), context);
        // `Request::new` names the caller's user; a caller picks its own user name, and a free
        // identity leaves the account and ARN to the caller too.
        request.context.remove("aws:username");
        if free.contains(&Aspect::Identity) {
            request.context.remove("aws:PrincipalArn");
            request.context.remove("aws:PrincipalAccount");
        }
        request
    }
}

/// Every literal text of a policy (principals and condition values), to pick probe values
/// nothing in it names.
fn policy_texts(policy: &Policy) -> Vec<&str> {
    let mut texts = Vec::new();
    for statement in &policy.statements {
        texts.extend(statement.principal.iter().flat_map(|block| block.entries.iter().map(|entry| entry.value.as_str())));
        texts.extend(statement.conditions.iter().flat_map(|condition| condition.values.iter().map(|value| value.text.as_str())));
    }
    texts
}

/// A concrete name a wildcard pattern matches: wildcards and policy variables become text.
fn instance_of(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut rest = pattern;
    while let Some(character) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("${")
            && let Some(end) = after.find('}')
        {
            out.push_str("vigil-probe");
            rest = after.get(end + 1..).unwrap_or_default();
            continue;
        }
        match character {
            '*' => out.push_str("VigilProbe"),
            '?' => out.push('x'),
            other => out.push(other),
        }
        rest = rest.get(character.len_utf8()..).unwrap_or_default();
    }
    out
}

/// The (action, resource) pairs a statement grants, made concrete, at most 64.
fn targets(statement: &Statement, resource: &Resource<'_>) -> Vec<(String, String)> {
    let actions: Vec<String> = if statement.action.negated {
        vec!["vigil-probe:AnyAction".to_string()]
    } else {
        statement.action.patterns.iter().map(|pattern| instance_of(&pattern.text)).collect()
    };
    let resources: Vec<String> = match &statement.resource {
        None => vec![resource.arn.to_string()],
        Some(block) if block.negated => vec![resource.arn.to_string(), format!("{}/vigil-probe", resource.arn)],
        Some(block) => block
            .patterns
            .iter()
            .map(|pattern| match &pattern.compiled {
                Some(compiled) if compiled.matches(resource.arn) => resource.arn.to_string(),
                _ => instance_of(&pattern.text),
            })
            .collect(),
    };
    let mut pairs = Vec::new();
    for action in &actions {
        for arn in &resources {
            if pairs.len() < 64 {
                pairs.push((action.clone(), arn.clone()));
            }
        }
    }
    pairs
}

const STRANGERS: [Caller; 3] = [Caller::Anonymous, Caller::Stranger, Caller::StrangerViaEndpoint];

/// Whether `statement` (an Allow) admits one of the arbitrary callers, with the caller keys of
/// the `free` aspects left to the caller.
fn admits(policy: &Policy, statement: &Statement, probe: &Probe<'_>, free: &[Aspect]) -> bool {
    if statement.effect != Effect::Allow || statement.principal.is_none() {
        return false;
    }
    let targets = targets(statement, &probe.resource);
    STRANGERS
        .iter()
        .any(|caller| targets.iter().any(|(action, arn)| probe.resource.lets_in(&probe.request(*caller, action, arn, true, free), policy, statement.index)))
}

/// The indexes of the Allow statements of `policy` that admit an arbitrary caller: the one
/// definition of a public grant (see the module documentation).
pub fn public_statements(policy: &Policy, resource: &Resource<'_>) -> Vec<usize> {
    let probe = Probe::new(policy, *resource);
    policy.statements.iter().filter(|statement| admits(policy, statement, &probe, &[])).map(|statement| statement.index).collect()
}

/// Whether `policy` denies requests made without TLS for `action` on every one of `arns`, to
/// every caller (an IAM user of the owner's account and one of another account). `action` is
/// usually an action nothing but a service-wide wildcard matches (`s3:VigilProbeAnyAction`),
/// which asks for a Deny on every action of the service.
pub fn denies_insecure_transport(policy: &Policy, resource: &Resource<'_>, action: &str, arns: &[&str]) -> bool {
    let probe = Probe::new(policy, *resource);
    [Caller::Insider, Caller::Stranger]
        .iter()
        .all(|caller| arns.iter().all(|arn| resource_policy_verdict(&probe.request(*caller, action, arn, false, &[]), policy).denied))
}

/// How far outside the owner's account an everyone-principal grant reaches, when it is not
/// public: only from some networks, or only for some identities (named in the conditions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Public,
    /// Anyone, from the networks the conditions name.
    Networks,
    /// Callers with the accounts or organizations the conditions name (the owner's removed).
    Identities(BTreeSet<String>),
    /// Nobody outside the owner's account or organization.
    Inside,
}

/// Classifies one Allow statement whose principal is everyone, with the conditions (of the
/// statement, and of the Deny statements that stop the arbitrary caller) that narrow it, as
/// written.
pub fn reach_of(policy: &Policy, statement: &Statement, resource: &Resource<'_>) -> (Reach, Vec<String>) {
    let probe = Probe::new(policy, *resource);
    if admits(policy, statement, &probe, &[]) {
        return (Reach::Public, Vec::new());
    }
    let narrowing = narrowing_conditions(policy, statement, &probe);
    let mut described: Vec<String> = narrowing.iter().map(|condition| describe(condition)).collect();
    if !resource.rcps.is_empty() && admits(policy, statement, &Probe { resource: Resource { rcps: &[], ..*resource }, ..probe.clone() }, &[]) {
        described.push("a Deny statement of the organization's resource control policies (RCPs)".to_string());
    }
    if admits(policy, statement, &probe, &[Aspect::Network]) {
        return (Reach::Networks, described);
    }
    if !admits(policy, statement, &probe, &[Aspect::Network, Aspect::Identity]) {
        return (Reach::Inside, described);
    }
    let mut identities: BTreeSet<String> = BTreeSet::new();
    for condition in &narrowing {
        for value in &condition.values {
            if let Some(identity) = identity_in(&value.text) {
                identities.insert(identity);
            }
        }
    }
    identities.retain(|identity| identity != resource.account && Some(identity.as_str()) != resource.organization);
    if identities.is_empty() { (Reach::Inside, described) } else { (Reach::Identities(identities), described) }
}

/// Whether the principal `principal` (an account id or ARN another statement names) can get
/// the access `statement` grants, whatever else it chooses about the request.
pub fn admits_principal(policy: &Policy, statement: &Statement, resource: &Resource<'_>, principal: &str) -> bool {
    targets(statement, resource).iter().any(|(action, arn)| {
        let mut context = Context::chosen_by_caller(&[]);
        context.insert("aws:SecureTransport", vec!["true".to_string()]);
        let request = Request::new(principal, action, arn, Some(resource.account.to_string()), context);
        resource.lets_in(&request, policy, statement.index)
    })
}

/// The conditions that keep the arbitrary stranger out: the statement's own that fail for it,
/// and those of the Deny statements that stop it.
fn narrowing_conditions<'p>(policy: &'p Policy, statement: &'p Statement, probe: &Probe<'_>) -> Vec<&'p Condition> {
    let mut found: Vec<&Condition> = Vec::new();
    for (action, arn) in targets(statement, &probe.resource).iter().take(1) {
        let request = probe.request(Caller::Stranger, action, arn, true, &[]);
        found.extend(statement.conditions.iter().filter(|condition| !condition.evaluate_for(&request.context, true)));
        let verdict = resource_policy_verdict(&request, policy);
        if verdict.denied {
            for deny in policy.statements.iter().filter(|other| other.effect == Effect::Deny) {
                let single = Policy { version: policy.version.clone(), id: None, statements: vec![deny.clone()] };
                if resource_policy_verdict(&request, &single).denied {
                    found.extend(deny.conditions.iter().filter(|condition| condition.evaluate_for(&request.context, false)));
                }
            }
        }
    }
    found
}

/// `StringEquals aws:SourceAccount: {"111122223333"}`, as the external-access report writes it.
fn describe(condition: &Condition) -> String {
    let values: BTreeSet<&str> = condition.values.iter().map(|value| value.text.as_str()).collect();
    format!("{} {}: {:?}", condition.operator_text, condition.key_text, values)
}

/// The account id (12 digits, alone or in an ARN) or organization id (`o-...`, alone or first
/// in an organization path) a condition value names.
fn identity_in(text: &str) -> Option<String> {
    let text = text.trim();
    if text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Some(text.to_string());
    }
    if let Some(parts) = crate::pattern::arn_parts(text).filter(|parts| parts[0] == "arn") {
        let account = parts[4];
        return (account.len() == 12 && account.bytes().all(|byte| byte.is_ascii_digit())).then(|| account.to_string());
    }
    let first = text.split('/').next().unwrap_or_default();
    (first.starts_with("o-") && first.len() > 2 && !first.contains('*')).then(|| first.to_string())
}

/// Whether a principal block names everyone (`*`, `{"AWS": "*"}`, or `NotPrincipal`).
pub fn names_everyone(statement: &Statement) -> bool {
    statement.principal.as_ref().is_some_and(|block| {
        block.negated || block.entries.iter().any(|entry| entry.kind == PrincipalType::Everyone || (entry.kind == PrincipalType::Aws && entry.value == "*"))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const OWNER: &str = "111122223333";

    fn resource() -> Resource<'static> {
        Resource { arn: "arn:aws:s3:::bucket", account: OWNER, organization: Some("o-owner"), partition: "aws", rcps: &[], management_account: None }
    }

    fn public(statements: Value) -> bool {
        let policy = Policy::parse(&json!({ "Version": "2012-10-17", "Statement": statements })).unwrap();
        !public_statements(&policy, &resource()).is_empty()
    }

    fn allow(condition: Value) -> Value {
        json!([{ "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*", "Condition": condition }])
    }

    /// AWS's "data perimeter" RCP: no one outside the organization reaches its S3 data
    /// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_examples.html).
    #[test]
    fn an_rcp_keeping_outsiders_out_makes_a_public_grant_not_public_except_in_the_management_account() {
        let bucket = Policy::parse(&json!({ "Version": "2012-10-17", "Statement": allow(json!({})) })).unwrap();
        let perimeter = Policy::parse(&json!({ "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": { "StringNotEqualsIfExists": { "aws:PrincipalOrgID": "o-owner" }, "BoolIfExists": { "aws:PrincipalIsAWSService": "false" } }
        }] }))
        .unwrap();
        let unrelated =
            Policy::parse(&json!({ "Version": "2012-10-17", "Statement": [{ "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*" }] }))
                .unwrap();
        let with = |rcps: &[Vec<&Policy>], management_account: Option<&str>| {
            let owner = Resource { rcps, management_account, ..resource() };
            (!public_statements(&bucket, &owner).is_empty(), reach_of(&bucket, &bucket.statements[0], &owner))
        };
        let (public, _) = with(&[], None);
        assert!(public, "no RCPs: the grant is public");
        let (public, (reach, narrowed_by)) = with(&[vec![], vec![&perimeter]], Some("999999999999"));
        assert!(!public, "the RCP denies every caller outside o-owner");
        assert_eq!(reach, Reach::Inside);
        assert!(narrowed_by.iter().any(|condition| condition.contains("resource control policies")), "{narrowed_by:?}");
        let (public, _) = with(&[vec![&unrelated]], Some("999999999999"));
        assert!(public, "an RCP on another service changes nothing");
        let (public, _) = with(&[vec![&perimeter]], Some(OWNER));
        assert!(public, "RCPs do not restrict the management account's resources");
    }

    #[test]
    fn conditions_the_caller_controls_do_not_narrow_and_those_aws_sets_do() {
        let cases: &[(&str, Value, bool)] = &[
            ("no condition", json!({}), true),
            ("TLS only", json!({ "Bool": { "aws:SecureTransport": "true" } }), true),
            ("referer", json!({ "StringLike": { "aws:Referer": "https://example.com/*" } }), true),
            ("user agent", json!({ "StringEquals": { "aws:UserAgent": "curl" } }), true),
            ("principal tag", json!({ "StringEquals": { "aws:PrincipalTag/team": "a" } }), true),
            ("source vpc", json!({ "StringEquals": { "aws:SourceVpc": "vpc-1" } }), false),
            ("source vpce", json!({ "StringEquals": { "aws:SourceVpce": "vpce-1" } }), false),
            ("owner source account", json!({ "StringEquals": { "aws:SourceAccount": OWNER } }), false),
            ("owner source arn", json!({ "ArnLike": { "aws:SourceArn": "arn:aws:sns:*:111122223333:*" } }), false),
            ("owner organization", json!({ "StringEquals": { "aws:PrincipalOrgID": "o-owner" } }), false),
            ("any organization", json!({ "StringLike": { "aws:PrincipalOrgID": "o-*" } }), true),
            ("specific principal account", json!({ "StringEquals": { "aws:PrincipalAccount": "444455556666" } }), false),
            ("source ip range", json!({ "IpAddress": { "aws:SourceIp": "203.0.113.0/24" } }), false),
            ("source ip everywhere", json!({ "IpAddress": { "aws:SourceIp": "0.0.0.0/0" } }), true),
            ("not from a range", json!({ "NotIpAddress": { "aws:SourceIp": "10.0.0.0/8" } }), true),
            ("source vpc if exists", json!({ "StringEqualsIfExists": { "aws:SourceVpc": "vpc-1" } }), true),
            ("any vpc", json!({ "StringLike": { "aws:SourceVpc": "vpc-*" } }), true),
            ("not the owner account", json!({ "StringNotEquals": { "aws:SourceAccount": OWNER } }), true),
            ("secure transport and owner account", json!({ "Bool": { "aws:SecureTransport": "true" }, "StringEquals": { "aws:SourceAccount": OWNER } }), false),
        ];
        for (name, condition, expected) in cases {
            assert_eq!(public(allow(condition.clone())), *expected, "{name}");
        }
    }

    #[test]
    fn principals_and_deny_statements_decide_with_the_engine() {
        assert!(public(json!([{ "Effect": "Allow", "Principal": { "AWS": "*" }, "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*" }])));
        assert!(public(
            json!([{ "Effect": "Allow", "Principal": { "AWS": ["arn:aws:iam::444455556666:root", "*"] }, "Action": "s3:GetObject", "Resource": "*" }])
        ));
        assert!(public(json!([{ "Effect": "Allow", "NotPrincipal": { "AWS": "arn:aws:iam::444455556666:root" }, "Action": "s3:GetObject", "Resource": "*" }])));
        assert!(!public(json!([{ "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::444455556666:root" }, "Action": "s3:GetObject", "Resource": "*" }])));
        assert!(!public(json!([{ "Effect": "Allow", "Principal": { "Service": "cloudtrail.amazonaws.com" }, "Action": "s3:PutObject", "Resource": "*" }])));
        assert!(!public(json!([{ "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*" }])));
        // A Deny that keeps every stranger out makes the grant non-public.
        assert!(!public(json!([
            { "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*" },
            { "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*", "Condition": { "StringNotEquals": { "aws:SourceVpce": "vpce-1" } } }
        ])));
        // A Deny on part of the grant leaves the rest public.
        assert!(public(json!([
            { "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::bucket/*" },
            { "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*" }
        ])));
        // A Deny whose condition the caller can dodge does not protect.
        assert!(public(json!([
            { "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*" },
            { "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": { "StringEquals": { "aws:UserAgent": "bad" } } }
        ])));
    }

    #[test]
    fn tls_denials_must_cover_every_caller_and_every_resource() {
        let denies = |statements: Value, arns: &[&str]| {
            let policy = Policy::parse(&json!({ "Version": "2012-10-17", "Statement": statements })).unwrap();
            denies_insecure_transport(&policy, &resource(), "s3:VigilProbeAnyAction", arns)
        };
        let both = ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/object"];
        let tls = |principal: Value, action: Value, resources: Value| json!([{ "Effect": "Deny", "Principal": principal, "Action": action, "Resource": resources, "Condition": { "Bool": { "aws:SecureTransport": "false" } } }]);
        assert!(denies(tls(json!("*"), json!("s3:*"), json!(["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"])), &both));
        assert!(denies(tls(json!({ "AWS": "*" }), json!("*"), json!("*")), &both));
        assert!(!denies(tls(json!("*"), json!("s3:GetObject"), json!("*")), &both));
        assert!(!denies(tls(json!("*"), json!("s3:*"), json!("arn:aws:s3:::bucket/*")), &both));
        assert!(!denies(tls(json!({ "AWS": "arn:aws:iam::111122223333:root" }), json!("s3:*"), json!("*")), &both));
        assert!(!denies(
            json!([{ "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": { "Bool": { "aws:SecureTransport": "true" } } }]),
            &both
        ));
        // A TLS version floor does not refuse plain HTTP, where there is no TLS version.
        assert!(!denies(
            json!([{ "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": { "NumericLessThan": { "s3:TlsVersion": "1.2" } } }]),
            &both
        ));
    }

    #[test]
    fn reach_names_networks_or_identities_when_not_public() {
        let reach = |condition: Value| {
            let policy = Policy::parse(&json!({ "Version": "2012-10-17", "Statement": allow(condition) })).unwrap();
            reach_of(&policy, &policy.statements[0], &resource())
        };
        assert_eq!(reach(json!({})).0, Reach::Public);
        assert_eq!(reach(json!({ "IpAddress": { "aws:SourceIp": "203.0.113.0/24" } })).0, Reach::Networks);
        let (partner, narrowed) = reach(json!({ "StringEquals": { "aws:PrincipalAccount": "444455556666" } }));
        assert_eq!(partner, Reach::Identities(BTreeSet::from(["444455556666".to_string()])));
        assert_eq!(narrowed, vec!["StringEquals aws:PrincipalAccount: {\"444455556666\"}".to_string()]);
        assert_eq!(reach(json!({ "StringEquals": { "aws:PrincipalOrgID": "o-owner" } })).0, Reach::Inside);
        assert_eq!(reach(json!({ "StringEquals": { "aws:SourceAccount": OWNER } })).0, Reach::Inside);
    }
}
