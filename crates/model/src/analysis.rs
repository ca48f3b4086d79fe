//! The exposure and IAM analyses of a scan, as types: the assess pipeline writes them, the
//! store keeps them with the scan (`kind` and the JSON of the result) and the console reads
//! them back into the same types, so writer and reader cannot drift apart on a field name.
//!
//! The JSON of each type is the stored form (and the console API's `detail`): fields are only
//! ever added, with serde defaults, so older stores keep reading.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A kind of analysis result, as the store names it.
pub trait AnalysisKind: Serialize + DeserializeOwned {
    /// The store's `kind` column: `exposure`, `admin`, `escalation`, `external`, `access` or
    /// `access-skipped`.
    const KIND: &'static str;
}

/// One hop on the path from the internet to an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hop {
    /// `address`, `internet-gateway`, `route-table`, `nacl-inbound`, `nacl-outbound`,
    /// `security-group`, `load-balancer`, `listener`, `target-group`, `database`, `interface`
    /// or `instance`.
    pub kind: String,
    pub id: String,
    pub detail: String,
    /// False on the hop that drops the traffic (always the last one).
    pub allowed: bool,
}

/// One internet-exposed endpoint, protocol and set of ports with the sources allowed to use
/// them, and the path one packet takes (as `vigil reach --format json` prints it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Exposure {
    pub region: String,
    /// The instance id, load balancer ARN, DB instance identifier... the engine reports.
    pub resource_id: String,
    /// `instance`, `network-interface`, `application-load-balancer`, `network-load-balancer`,
    /// `classic-load-balancer` or `db-instance`.
    pub resource_type: String,
    pub interface_id: Option<String>,
    /// The public IP, or the DNS name of a balancer or database.
    pub address: String,
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `all`, or `other` (then `ports` are protocol numbers).
    pub protocol: String,
    /// Inclusive ranges; for ICMP, ranges of ICMP types.
    pub ports: Vec<[u16; 2]>,
    pub sources: Vec<String>,
    /// `direct`, or the load balancer's ARN (or Classic name) the traffic comes through.
    pub via: String,
    pub path: Vec<Hop>,
}

/// One step of an escalation path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Step {
    pub from: String,
    /// The principal gained (the same principal for a step that grants itself more).
    pub to: String,
    /// The method's name, such as `iam:PassRole + ec2:RunInstances`.
    pub method: String,
    /// The resource the method acts on.
    pub resource: String,
    /// The technique's id in the catalog (pathfinding.cloud's where it has one: `ec2-001`).
    /// This and the next two are absent from steps stored before the catalog existed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub technique: String,
    /// `self-escalation`, `principal-access`, `new-passrole`, `existing-passrole`, `modify-then-act`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub category: String,
    /// Every permission the step uses and the resource each was decided on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<Permission>,
}

/// A permission an escalation step uses: the action and the resource it was decided on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Permission {
    pub action: String,
    pub resource: String,
}

/// An admin-equivalent principal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Admin {
    pub principal: String,
    /// `user` or `role`.
    pub kind: String,
    /// `full` (allowed everything) or `self-grant` (can give itself any permission).
    pub reason: String,
    /// For `self-grant`: how (the step that grants; see `steps` when restrictions must be
    /// lifted first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<Step>,
    /// For `self-grant`: every step, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// The account of the principal (absent from analyses stored before it was recorded).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
}

/// A path from a principal to an admin-equivalent one (or to a named resource).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EscalationPath {
    pub principal: String,
    /// `user` or `role`.
    pub kind: String,
    /// The principal the path ends at: an admin-equivalent principal, or (with a resource
    /// target) one that can use the resource.
    pub admin: String,
    pub steps: Vec<Step>,
    /// `admin`, or the resource's ARN (absent from paths stored before targets existed).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// The account of the starting principal (absent from paths stored before it was recorded).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
}

/// A resource (or role) reachable from outside the account through a policy statement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExternalAccess {
    pub resource: String,
    pub service: String,
    pub kind: String,
    pub region: String,
    /// `public`, `network-restricted`, `cross-account` or `federated`.
    pub exposure: String,
    /// Who: `*`, account ids, organization ids, identity providers.
    pub principals: Vec<String>,
    pub actions: Vec<String>,
    /// With an action catalog: the access levels granted (`List`, `Read`, `Write`,
    /// `Permissions management`, `Tagging`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub access_levels: Vec<String>,
    /// The conditions that narrow the access, as written.
    pub narrowed_by: Vec<String>,
    /// The statement's position in its policy.
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Who of the account may do the action that stands for reading a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Access {
    /// Such as `s3:GetObject`.
    pub action: String,
    /// The resource the request names (`arn:aws:s3:::bucket/*` for a bucket).
    pub resource: String,
    pub principals: Vec<AccessGrant>,
}

/// One principal allowed in an [`Access`] result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessGrant {
    pub principal: String,
    /// `user` or `role`.
    pub kind: String,
    /// The statements that allow it, as `POLICY#STATEMENT`.
    pub allowed_by: Vec<String>,
}

/// Who-can-access was not computed for the account (too many decisions), and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessSkipped {
    pub reason: String,
}

/// One attack path from the internet (or a principal) to an admin-equivalent principal or to
/// sensitive data, as `vigil paths --format json` prints it (a contract: `source`, `target`,
/// `hops` with `from`/`to`/`via`, `score`, `cut`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttackPath {
    /// `internet`, or the ARN of the principal the path starts from.
    pub source: String,
    /// The ARN of the sensitive resource, or of the admin-equivalent principal reached.
    pub target: String,
    /// `admin` or `sensitive-data`.
    pub target_kind: String,
    pub hops: Vec<PathHop>,
    /// Likelihood (percent) × impact (1 to 10) / 10: 0 to 100.
    pub score: u32,
    /// How likely the path is to be walked, in percent: the way in, weakened by each hop.
    pub likelihood: u32,
    /// What reaching the target is worth, 1 to 10.
    pub impact: u32,
    /// Why the score is what it is, one reason per factor.
    pub reasons: Vec<String>,
    /// The changes of the minimal cut that break this path.
    pub cut: Vec<CutChange>,
}

/// One hop of an attack path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PathHop {
    /// `internet`, or an ARN.
    pub from: String,
    pub to: String,
    /// What lets the hop happen: the security group rule, the instance profile, the technique,
    /// the statement that allows the access.
    pub via: String,
    /// `network`, `runs-as`, `escalation` or `access`.
    pub kind: String,
}

/// One change that breaks attack paths, with the `vigil fix` check id that fixes it where a
/// fixer exists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(default)]
pub struct CutChange {
    /// `security-group-rule`, `instance-profile`, `function-url`, `policy-statement`,
    /// `trust-statement` or `escalation-permission`.
    pub kind: String,
    /// The ARN of what changes (the security group, the instance, the role...).
    pub resource: String,
    /// The change in words: `revoke tcp 22-22 from 0.0.0.0/0 on sg-0123`.
    pub change: String,
    /// The `vigil fix` check id whose fixer makes this change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// How many of the reported paths this change breaks.
    pub breaks: usize,
}

impl AnalysisKind for AttackPath {
    const KIND: &'static str = "attack-path";
}

impl AnalysisKind for Exposure {
    const KIND: &'static str = "exposure";
}
impl AnalysisKind for Admin {
    const KIND: &'static str = "admin";
}
impl AnalysisKind for EscalationPath {
    const KIND: &'static str = "escalation";
}
impl AnalysisKind for ExternalAccess {
    const KIND: &'static str = "external";
}
impl AnalysisKind for Access {
    const KIND: &'static str = "access";
}
impl AnalysisKind for AccessSkipped {
    const KIND: &'static str = "access-skipped";
}

/// One result of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnalysisResult {
    Exposure(Exposure),
    Admin(Admin),
    Escalation(EscalationPath),
    External(ExternalAccess),
    Access(Access),
    AccessSkipped(AccessSkipped),
    AttackPath(AttackPath),
}

impl AnalysisResult {
    /// The store's `kind` of this result.
    pub fn kind(&self) -> &'static str {
        match self {
            AnalysisResult::Exposure(_) => Exposure::KIND,
            AnalysisResult::Admin(_) => Admin::KIND,
            AnalysisResult::Escalation(_) => EscalationPath::KIND,
            AnalysisResult::External(_) => ExternalAccess::KIND,
            AnalysisResult::Access(_) => Access::KIND,
            AnalysisResult::AccessSkipped(_) => AccessSkipped::KIND,
            AnalysisResult::AttackPath(_) => AttackPath::KIND,
        }
    }

    /// The stored JSON of the result.
    pub fn to_json(&self) -> String {
        let json = match self {
            AnalysisResult::Exposure(result) => serde_json::to_string(result),
            AnalysisResult::Admin(result) => serde_json::to_string(result),
            AnalysisResult::Escalation(result) => serde_json::to_string(result),
            AnalysisResult::External(result) => serde_json::to_string(result),
            AnalysisResult::Access(result) => serde_json::to_string(result),
            AnalysisResult::AccessSkipped(result) => serde_json::to_string(result),
            AnalysisResult::AttackPath(result) => serde_json::to_string(result),
        };
        // These types have string keys and no fallible serializer: this cannot fail.
        json.unwrap_or_else(|_| "{}".to_string())
    }

    /// A stored result read back: `None` for a kind this vigil does not know.
    pub fn from_json(kind: &str, json: &str) -> Option<Result<AnalysisResult, serde_json::Error>> {
        fn parse<T: AnalysisKind>(json: &str, wrap: fn(T) -> AnalysisResult) -> Result<AnalysisResult, serde_json::Error> {
            serde_json::from_str(json).map(wrap)
        }
        Some(match kind {
            Exposure::KIND => parse(json, AnalysisResult::Exposure),
            Admin::KIND => parse(json, AnalysisResult::Admin),
            EscalationPath::KIND => parse(json, AnalysisResult::Escalation),
            ExternalAccess::KIND => parse(json, AnalysisResult::External),
            Access::KIND => parse(json, AnalysisResult::Access),
            AccessSkipped::KIND => parse(json, AnalysisResult::AccessSkipped),
            AttackPath::KIND => parse(json, AnalysisResult::AttackPath),
            _ => return None,
        })
    }
}

/// One result of an analysis with what it is about: `subject` is the ARN of the resource or
/// principal (so a resource's page finds its results by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub account_id: String,
    pub subject: String,
    pub result: AnalysisResult,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What the console stored before the analyses had types (and `vigil reach --format json`
    /// printed) reads into them and writes back the same.
    #[test]
    fn stored_results_of_every_kind_read_back_into_their_types_and_write_the_same_json() {
        let cases = [
            (
                "exposure",
                json!({ "region": "eu-west-1", "resource_id": "i-1", "resource_type": "instance", "interface_id": null, "address": "203.0.113.7",
                        "protocol": "tcp", "ports": [[22, 22]], "sources": ["0.0.0.0/0"], "via": "direct",
                        "path": [{ "kind": "address", "id": "203.0.113.7", "detail": "public", "allowed": true }] }),
            ),
            ("admin", json!({ "principal": "arn:aws:iam::1:user/a", "kind": "user", "reason": "full" })),
            (
                "admin",
                json!({ "principal": "arn:aws:iam::1:user/a", "kind": "user", "reason": "self-grant",
                        "step": { "from": "a", "to": "a", "method": "iam:PutUserPolicy", "resource": "a" } }),
            ),
            ("escalation", json!({ "principal": "p", "kind": "role", "admin": "q", "steps": [{ "from": "p", "to": "q", "method": "m", "resource": "r" }] })),
            (
                "external",
                json!({ "resource": "arn:aws:s3:::b", "service": "s3", "kind": "bucket", "region": "us-east-1", "exposure": "public",
                        "principals": ["*"], "actions": ["s3:GetObject"], "narrowed_by": [], "statement": 0, "sid": "Public" }),
            ),
            ("access", json!({ "action": "kms:Decrypt", "resource": "k", "principals": [{ "principal": "p", "kind": "role", "allowed_by": ["x#0"] }] })),
            ("access-skipped", json!({ "reason": "too many" })),
            (
                "attack-path",
                json!({ "source": "internet", "target": "arn:aws:s3:::payroll", "target_kind": "sensitive-data",
                        "hops": [{ "from": "internet", "to": "arn:aws:ec2:us-east-1:1:instance/i-1", "via": "sg-1 tcp 22-22 from 0.0.0.0/0", "kind": "network" }],
                        "score": 72, "likelihood": 90, "impact": 8, "reasons": ["ssh open to the world"],
                        "cut": [{ "kind": "security-group-rule", "resource": "arn:aws:ec2:us-east-1:1:security-group/sg-1", "change": "revoke", "fix": "x", "breaks": 1 }] }),
            ),
        ];
        for (kind, stored) in cases {
            let result = AnalysisResult::from_json(kind, &stored.to_string()).unwrap().unwrap();
            assert_eq!(result.kind(), kind);
            let written: serde_json::Value = serde_json::from_str(&result.to_json()).unwrap();
            assert_eq!(written, stored, "{kind}");
        }
        assert!(AnalysisResult::from_json("weather", "{}").is_none());
        assert!(AnalysisResult::from_json("admin", "[1]").unwrap().is_err());
    }
}
