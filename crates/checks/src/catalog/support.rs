//! Helpers shared by the check families: resource iteration with per-region listing coverage,
//! policy-statement inspection, port and CIDR arithmetic, and ages.

use serde_json::{Value, json};
use vigil_model::resource::ResourceRef;
use vigil_model::{Region, Timestamp};

use crate::context::{Context, Needs, Subject, Unread};
use crate::{Finding, Metadata};

pub(crate) const GLOBAL: &str = Region::GLOBAL;

/// The regional part of the inventory for `region`, when that region was scanned.
pub(crate) fn regional<'a>(context: &Context<'a>, region: &str) -> Option<&'a vigil_model::inventory::RegionalInventory> {
    let inventory: &'a vigil_model::Inventory = context.inventory;
    inventory.regional.iter().find(|(name, _)| name.as_str() == region).map(|(_, regional)| regional)
}

/// Every resource of one CloudFormation type (from the context's per-type index).
pub(crate) fn resources_of<'c, 'a>(context: &'c Context<'a>, resource_type: &str) -> Vec<&'c ResourceRef<'a>> {
    context.resources_of_type(resource_type).collect()
}

/// The subject for a listing in `region`: the account for global services, else the account in the region.
fn listing_subject(context: &Context<'_>, region: &str) -> Subject {
    if region == GLOBAL { context.account_subject() } else { context.region_subject(region) }
}

/// Pushes one ERROR for the listing in `region` when it was not read; true when it was.
pub(crate) fn listing_read(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, service: &str, region: &str, operation: &str) -> bool {
    match context.require(&[Needs::call(service, region, operation)]) {
        Ok(()) => true,
        Err(unread) => {
            findings.push(context.unread(metadata, &listing_subject(context, region), unread));
            false
        }
    }
}

/// The scanned regions whose listing `operation` was read; pushes one ERROR for every other one,
/// since the resources there are unknown.
pub(crate) fn listed_regions(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>, service: &str, operation: &str) -> Vec<String> {
    let mut listed = Vec::new();
    for region in &context.inventory.regions {
        if listing_read(metadata, context, findings, service, region.as_str(), operation) {
            listed.push(region.as_str().to_string());
        }
    }
    listed
}

/// The listing call a family of resources comes from, and whether it is made once (global) or per region.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listing {
    pub service: &'static str,
    pub operation: &'static str,
    pub global: bool,
}

impl Listing {
    pub(crate) const fn global(service: &'static str, operation: &'static str) -> Listing {
        Listing { service, operation, global: true }
    }

    pub(crate) const fn regional(service: &'static str, operation: &'static str) -> Listing {
        Listing { service, operation, global: false }
    }
}

/// Calls `assess` for every resource of `resource_type` whose listing was read, after pushing
/// one ERROR per region (or for the account, for global listings) whose listing failed.
pub(crate) fn assess_resources<'a>(
    metadata: &Metadata,
    context: &Context<'a>,
    findings: &mut Vec<Finding>,
    resource_type: &str,
    listing: Listing,
    mut assess: impl FnMut(&ResourceRef<'a>, Subject, &mut Vec<Finding>),
) {
    let listed: Vec<String> = if listing.global {
        if !listing_read(metadata, context, findings, listing.service, GLOBAL, listing.operation) {
            return;
        }
        Vec::new()
    } else {
        listed_regions(metadata, context, findings, listing.service, listing.operation)
    };
    for resource in resources_of(context, resource_type) {
        if listing.global || listed.iter().any(|region| region == resource.region) {
            assess(resource, Subject::from(resource), findings);
        }
    }
}

/// An ERROR finding with a reason that is not a ledger failure (e.g. data AWS did not return).
pub(crate) fn cannot_decide(metadata: &Metadata, context: &Context<'_>, subject: &Subject, message: String, evidence: Value) -> Finding {
    context.unread(metadata, subject, Unread { message, evidence })
}

/// Whole days from `then` to the assessment time (negative in the future).
pub(crate) fn days_since(context: &Context<'_>, then: &Timestamp) -> i64 {
    (context.now - *then).num_days()
}

/// A string or an array of strings, as policy elements are written.
pub(crate) fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The statements of a policy document (a single statement object counts as one).
pub(crate) fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(statements)) => statements.iter().collect(),
        Some(statement @ Value::Object(_)) => vec![statement],
        _ => Vec::new(),
    }
}

/// True when a statement's principal is everyone (`"*"` or `{"AWS": "*"}`).
pub(crate) fn principal_is_everyone(statement: &Value) -> bool {
    match statement.get("Principal") {
        Some(Value::String(text)) => text == "*",
        Some(Value::Object(map)) => strings(map.get("AWS")).contains(&"*"),
        _ => false,
    }
}

/// True when a statement denies, to everyone, requests that are not over TLS: a `Bool`
/// condition `aws:SecureTransport = false`, or a `NumericLessThan` on `s3:TlsVersion`.
/// `actions` lists the action patterns that count as covering the resource (e.g. `s3:*`).
pub(crate) fn denies_insecure_transport(policy: &Value, actions: &[&str]) -> bool {
    statements(policy).into_iter().any(|statement| {
        let deny = statement.get("Effect").and_then(Value::as_str) == Some("Deny");
        let covers = strings(statement.get("Action")).iter().any(|action| actions.iter().any(|wanted| action.eq_ignore_ascii_case(wanted)));
        let condition = statement.get("Condition");
        let secure_transport_false = condition.and_then(|condition| condition.get("Bool")).and_then(Value::as_object).is_some_and(|map| {
            map.iter().any(|(key, value)| {
                key.eq_ignore_ascii_case("aws:SecureTransport")
                    && match value {
                        Value::Bool(flag) => !flag,
                        other => strings(Some(other)).iter().any(|text| text.eq_ignore_ascii_case("false")),
                    }
            })
        });
        let tls_version = condition
            .and_then(|condition| condition.get("NumericLessThan"))
            .and_then(Value::as_object)
            .is_some_and(|map| map.keys().any(|key| key.eq_ignore_ascii_case("s3:TlsVersion")));
        deny && principal_is_everyone(statement) && covers && (secure_transport_false || tls_version)
    })
}

/// Allow statements that grant every action on every resource (`"Action": "*"`, `"Resource": "*"`).
pub(crate) fn full_admin_statements(policy: &Value) -> Vec<&Value> {
    statements(policy)
        .into_iter()
        .filter(|statement| statement.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .filter(|statement| strings(statement.get("Action")).contains(&"*") && strings(statement.get("Resource")).contains(&"*"))
        .collect()
}

/// A parsed CIDR block: the address as a number, its width (32 or 128) and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: u128,
    width: u8,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = text.trim().split_once('/')?;
        let prefix: u8 = prefix.parse().ok()?;
        let (value, width) = match address.parse::<std::net::IpAddr>().ok()? {
            std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u8),
            std::net::IpAddr::V6(v6) => (u128::from(v6), 128u8),
        };
        (prefix <= width).then_some(Cidr { network: value & Cidr::mask(width, prefix), width, prefix })
    }

    fn mask(width: u8, prefix: u8) -> u128 {
        let all: u128 = if width == 32 { u128::from(u32::MAX) } else { u128::MAX };
        if prefix == 0 { 0 } else { all & !(all >> prefix) }
    }

    /// True when every address of `self` is inside `outer`.
    pub(crate) fn within(&self, outer: &Cidr) -> bool {
        self.width == outer.width && self.prefix >= outer.prefix && (self.network & Cidr::mask(outer.width, outer.prefix)) == outer.network
    }
}

/// True when a CIDR is the whole IPv4 or IPv6 internet.
pub(crate) fn is_world(cidr: &str) -> bool {
    matches!(cidr, "0.0.0.0/0" | "::/0")
}

/// A compact description of a timestamp for messages and evidence.
pub(crate) fn when(timestamp: Option<&Timestamp>) -> Value {
    timestamp.map(|time| json!(time.to_rfc3339())).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_containment_handles_both_families_and_bad_input() {
        let check = |inner: &str, outer: &str| Cidr::parse(inner).zip(Cidr::parse(outer)).is_some_and(|(inner, outer)| inner.within(&outer));
        assert!(check("10.1.2.0/24", "10.0.0.0/8"));
        assert!(check("10.0.0.0/8", "10.0.0.0/8"));
        assert!(!check("0.0.0.0/0", "10.0.0.0/8"));
        assert!(!check("11.0.0.0/8", "10.0.0.0/8"));
        assert!(check("2001:db8::/48", "2001:db8::/32"));
        assert!(!check("::/0", "10.0.0.0/8"));
        assert!(check("1.2.3.4/32", "0.0.0.0/0"));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("garbage").is_none());
    }

    #[test]
    fn insecure_transport_denials_are_recognized_in_their_written_forms() {
        let check = |statement: Value| denies_insecure_transport(&json!({ "Statement": [statement] }), &["s3:*", "*"]);
        assert!(check(json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})));
        assert!(check(json!({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["s3:*"], "Condition": {"Bool": {"aws:SecureTransport": false}}})));
        assert!(check(json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}})));
        assert!(!check(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}})));
        assert!(!check(json!({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})));
        assert!(!check(
            json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
        ));
    }
}
