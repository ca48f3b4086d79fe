//! The configuration slices fixes change, one [`Kind`] each, in an explicit list.

pub mod data;
pub mod ec2;
pub mod iam;
pub mod logging;
pub mod policies;
pub mod s3;

use serde_json::Value;
use vigil_model::Inventory;

use crate::iac::Iac;
use crate::{Call, FixError, Target};

/// One slice of one resource's configuration that fixes read, write and turn into calls.
pub struct Kind {
    pub id: &'static str,
    /// What the slice is, for people.
    pub title: &'static str,
    /// The collector service whose read refreshes this slice (`vigil-apply` re-reads it to
    /// check for concurrent changes and to verify a fix).
    pub service: &'static str,
    /// The reads the slice comes from (`service:Operation`, as in the ledger): a re-read must
    /// have them, and `--print-policy` grants them.
    pub reads: &'static [&'static str],
    /// Every operation [`Kind::calls`] may return (`service:Operation`).
    pub writes: &'static [&'static str],
    /// The slice can change what the internet reaches (the exposure engine reruns).
    pub network: bool,
    /// The slice can change IAM decisions (the IAM analyses and CloudTrail usage rerun).
    pub iam: bool,
    /// Fields of the value that [`Kind::normalize`] leaves out (a change and its undo both
    /// move them forward, such as a launch template's latest version number) but that must
    /// not have moved between a plan and its change: the calls were computed from them.
    pub guards: &'static [&'static str],
    /// The slice's current value in an inventory; an error when it was not read.
    pub state: fn(&Inventory, &Target) -> Result<Value, FixError>,
    /// Writes a value of the slice into an inventory (the "inventory with the change applied").
    pub set_state: fn(&mut Inventory, &Target, &Value) -> Result<(), FixError>,
    /// The calls that take the slice from one value to another (a fix, or its inverse).
    pub calls: fn(&Target, &Value, &Value) -> Result<Vec<Call>, FixError>,
    /// The value in the form two readings are compared in (orders and ids AWS assigns are
    /// normalized away): a re-read realizes a plan when both normalize equal.
    pub normalize: fn(&Value) -> Value,
    /// The same change as infrastructure-as-code snippets.
    pub iac: fn(&Target, &Value) -> Iac,
}

impl Kind {
    /// Whether two values of the slice are the same configuration.
    pub fn same(&self, expected: &Value, actual: &Value) -> bool {
        (self.normalize)(expected) == (self.normalize)(actual)
    }

    /// Whether the configuration read just before a change is still the one the change was
    /// planned from: the same configuration, and the same [`Kind::guards`].
    pub fn unchanged(&self, planned: &Value, actual: &Value) -> bool {
        self.same(planned, actual) && self.guards.iter().all(|field| planned.get(field) == actual.get(field))
    }
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Kind").field("id", &self.id).finish()
    }
}

/// The identity normalization.
pub(crate) fn as_is(value: &Value) -> Value {
    value.clone()
}

/// Every kind.
pub static KINDS: &[&Kind] = &[
    &ec2::SECURITY_GROUP_RULES,
    &ec2::SNAPSHOT_PERMISSIONS,
    &ec2::EBS_ENCRYPTION_DEFAULT,
    &ec2::INSTANCE_METADATA,
    &ec2::LAUNCH_TEMPLATE_METADATA,
    &ec2::SUBNET_PUBLIC_IP,
    &ec2::NETWORK_ACL_ENTRIES,
    &ec2::VPC_FLOW_LOGS,
    &s3::BUCKET_PUBLIC_ACCESS_BLOCK,
    &s3::ACCOUNT_PUBLIC_ACCESS_BLOCK,
    &s3::BUCKET_ACCESS,
    &s3::BUCKET_ENCRYPTION,
    &s3::BUCKET_OWNERSHIP,
    &iam::PASSWORD_POLICY,
    &iam::ACCESS_KEYS,
    &logging::TRAIL_SETTINGS,
    &logging::KEY_ROTATION,
    &logging::KEY_POLICY,
    &logging::LOG_GROUP_RETENTION,
    &logging::GUARDDUTY_DETECTORS,
    &logging::SECURITY_HUB,
    &data::DB_INSTANCE_SETTINGS,
    &data::DB_SNAPSHOT_SHARING,
    &data::DYNAMODB_TABLE_SETTINGS,
    &policies::QUEUE_ATTRIBUTES,
    &policies::TOPIC_ATTRIBUTES,
    &policies::SECRET_POLICY,
    &policies::REPOSITORY_SETTINGS,
];

/// A kind by id.
pub fn kind(id: &str) -> Result<&'static Kind, FixError> {
    KINDS.iter().copied().find(|kind| kind.id == id).ok_or_else(|| FixError::UnknownKind(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_unique_ids_and_only_name_operations_of_the_action_table() {
        let mut ids = std::collections::BTreeSet::new();
        for kind in KINDS {
            assert!(ids.insert(kind.id), "kind `{}` is listed twice", kind.id);
            for name in kind.writes.iter().chain(kind.reads) {
                let (service, operation) = name.split_once(':').unwrap();
                let row = crate::actions::operation(service, operation).unwrap_or_else(|| panic!("{} of `{}` is not in actions.rs", name, kind.id));
                let expected = if kind.writes.contains(name) { crate::actions::Access::Write } else { crate::actions::Access::Read };
                assert_eq!(row.access, expected, "{name} of `{}`", kind.id);
            }
        }
    }
}
