//! The explicit list of checks. One file per family; each check is a `static` [`FnCheck`]
//! with its metadata and its tests beside it. Ids are stable: never rename one.

mod ec2;
mod iam;
mod logging;
mod s3;
#[cfg(test)]
pub(crate) mod test_support;

use crate::context::Context;
use crate::finding::Finding;
use crate::{Check, Metadata};

/// A check made of its metadata and a plain function.
pub struct FnCheck {
    pub metadata: Metadata,
    pub run: fn(&Metadata, &Context<'_>, &mut Vec<Finding>),
}

impl Check for FnCheck {
    fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    fn run(&self, context: &Context<'_>, findings: &mut Vec<Finding>) {
        (self.run)(&self.metadata, context, findings);
    }
}

/// Every check vigil ships, in catalog order.
pub static CHECKS: &[&dyn Check] = &[
    &iam::ROOT_MFA_ENABLED,
    &iam::ROOT_ACCESS_KEYS_ABSENT,
    &iam::USER_CONSOLE_MFA,
    &iam::PASSWORD_POLICY_MINIMUM_LENGTH,
    &s3::BUCKET_NOT_PUBLIC,
    &s3::ACCOUNT_PUBLIC_ACCESS_BLOCK,
    &ec2::SECURITY_GROUP_ADMIN_PORTS_OPEN_TO_WORLD,
    &ec2::DEFAULT_SECURITY_GROUP_RESTRICTS_ALL,
    &ec2::EBS_SNAPSHOT_NOT_PUBLIC,
    &logging::CLOUDTRAIL_MULTI_REGION_ENABLED,
    &logging::KMS_KEY_ROTATION_ENABLED,
    &logging::CONFIG_RECORDER_ENABLED,
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::CHECKS;

    #[test]
    fn check_ids_are_unique_snake_case_and_fully_described() {
        let mut seen = HashSet::new();
        for check in CHECKS {
            let metadata = check.metadata();
            assert!(seen.insert(metadata.id), "duplicate id {}", metadata.id);
            assert!(metadata.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "{}", metadata.id);
            assert!(metadata.id.starts_with(metadata.service), "{} should start with its service", metadata.id);
            for text in [metadata.title, metadata.risk, metadata.remediation.text, metadata.remediation.cli, metadata.remediation.terraform] {
                assert!(!text.trim().is_empty(), "{} has an empty field", metadata.id);
            }
            assert!(!metadata.references.is_empty(), "{} has no reference", metadata.id);
        }
    }
}
