//! The vigil inventory (typed, serde-serializable, AWS-shaped resources plus the coverage ledger)
//! and the findings checks produce about it.
//!
//! Field names follow AWS's own API shapes (serialized in AWS's PascalCase), so a reader who
//! knows the AWS API recognises every field. This crate does no I/O beyond (de)serializing
//! snapshots and knows nothing of the AWS SDK: `vigil-collect` converts SDK types into these.

pub mod acm;
pub mod analysis;
pub mod autoscaling;
pub mod dynamodb;
pub mod ec2;
pub mod edge;
pub mod elasticache;
pub mod elb;
pub mod finding;
pub mod iam;
pub mod ids;
pub mod inventory;
pub mod lambda;
pub mod ledger;
pub mod messaging;
pub mod monitoring;
pub mod rds;
pub mod redshift;
pub mod resource;
pub mod s3;
pub mod security;
pub mod sensitive;
pub mod snapshot;
pub mod volatile;
pub mod workloads;

pub use finding::{Finding, Severity, Status};
pub use ids::{AccountId, Arn, ArnError, Region};
pub use inventory::{AccountInfo, Inventory, Organization, OrganizationPolicies, RegionalInventory};
pub use ledger::{ApiCall, Ledger, Outcome};
pub use resource::ResourceRef;

/// Tags as AWS returns them, keyed by tag key.
pub type Tags = std::collections::BTreeMap<String, String>;

/// A point in time, always UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
