//! What the store keeps of an inventory: one item per resource (its configuration as JSON
//! bytes, tags, lifecycle state), and the scope a scan read completely, which decides what
//! may be recorded as deleted.

use std::collections::BTreeSet;

use vigil_model::Inventory;
use vigil_model::resource::ResourceData;
use vigil_model::volatile;

use crate::ResourceState;

/// One resource as the store records it.
#[derive(Debug, Clone)]
pub struct Item {
    pub arn: String,
    pub resource_type: &'static str,
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    /// The resource's own name where it has one besides its id (`ResourceRef::name`).
    pub name: String,
    /// The value of its `Name` tag (empty when none).
    pub name_tag: String,
    /// The tags as a JSON object (`{}` when none).
    pub tags: String,
    /// The configuration, compact JSON, without its volatile fields (`vigil_model::volatile`).
    pub config: Vec<u8>,
    pub state: ResourceState,
}

/// Every resource of an inventory, as items.
pub fn items(inventory: &Inventory) -> Vec<Item> {
    let account = inventory.account_id().to_string();
    inventory.resources().into_iter().map(|resource| item(&account, resource)).collect()
}

/// One resource of account `account` as an item (a scan turns its resources into items one at
/// a time, so that it never holds all their configurations).
pub fn item(account: &str, resource: vigil_model::ResourceRef<'_>) -> Item {
    Item {
        state: state_of(&resource.data),
        config: configuration(&resource),
        tags: resource.tags.and_then(|tags| serde_json::to_string(tags).ok()).unwrap_or_else(|| "{}".to_string()),
        name: resource.name().to_string(),
        name_tag: resource.tags.and_then(|tags| tags.get("Name")).cloned().unwrap_or_default(),
        resource_id: resource.id.to_string(),
        region: resource.region.to_string(),
        account_id: account.to_string(),
        resource_type: resource.resource_type,
        arn: resource.arn,
    }
}

/// The configuration the store keeps: the resource's JSON without its volatile fields, so a
/// last-used time or a delivery time never makes a version.
fn configuration(resource: &vigil_model::ResourceRef<'_>) -> Vec<u8> {
    if !volatile::has_volatile_fields(resource.resource_type) {
        return resource.data.to_json_bytes();
    }
    let mut value = resource.data.to_json();
    volatile::remove_volatile_fields(resource.resource_type, &mut value);
    serde_json::to_vec(&value).unwrap_or_else(|_| b"null".to_vec())
}

/// The lifecycle state a resource's own configuration implies (instances only, today).
pub fn state_of(data: &ResourceData<'_>) -> ResourceState {
    match data {
        ResourceData::Instance(instance) => match instance.state.name.as_str() {
            "stopping" | "stopped" => ResourceState::Stopped,
            "shutting-down" | "terminated" => ResourceState::Terminated,
            _ => ResourceState::Active,
        },
        _ => ResourceState::Active,
    }
}

/// The service (as the coverage ledger names it) whose listing returns a resource type.
pub fn ledger_service(resource_type: &str) -> Option<&'static str> {
    let namespace = resource_type.strip_prefix("AWS::")?.split("::").next()?;
    Some(match namespace {
        "IAM" => "iam",
        "S3" => "s3",
        "EC2" => "ec2",
        "CloudTrail" => "cloudtrail",
        "Logs" => "logs",
        "CloudWatch" => "cloudwatch",
        "SNS" => "sns",
        "KMS" => "kms",
        "Config" => "config",
        "ElasticLoadBalancing" => "elb",
        "ElasticLoadBalancingV2" => "elbv2",
        "RDS" => "rds",
        "Redshift" => "redshift",
        "ElastiCache" => "elasticache",
        "DynamoDB" => "dynamodb",
        "AutoScaling" => "autoscaling",
        "CertificateManager" => "acm",
        "SQS" => "sqs",
        "Kinesis" => "kinesis",
        "SES" => "sesv2",
        "Lambda" => "lambda",
        "GuardDuty" => "guardduty",
        "SecurityHub" => "securityhub",
        "SecretsManager" => "secretsmanager",
        "ECR" => "ecr",
        "CloudFront" => "cloudfront",
        "Route53" => "route53",
        "Route53Domains" => "route53domains",
        _ => return None,
    })
}

/// What one inventory read completely: a resource that was known before and is missing now
/// is recorded as deleted only inside this scope. A service counts as read in a region when
/// collection called it there and none of its listing calls (a `List*`/`Describe*` call not
/// about one resource) failed. Global services (IAM, S3, CloudFront, Route 53) count in any
/// region.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub account_id: String,
    /// (service, region) pairs read completely; region `*` for global services.
    read: BTreeSet<(String, String)>,
}

const GLOBAL_SERVICES: &[&str] = &["iam", "s3", "cloudfront", "route53", "route53domains", "organizations"];

impl Scope {
    pub fn of(inventory: &Inventory) -> Scope {
        let mut called: BTreeSet<(String, String)> = BTreeSet::new();
        let mut failed: BTreeSet<(String, String)> = BTreeSet::new();
        for call in &inventory.ledger.calls {
            let region = if GLOBAL_SERVICES.contains(&call.service.as_str()) { "*".to_string() } else { call.region.clone() };
            let key = (call.service.clone(), region);
            let listing = call.target.is_none() && (call.operation.starts_with("List") || call.operation.starts_with("Describe"));
            if listing && !call.outcome.is_read() {
                failed.insert(key.clone());
            }
            called.insert(key);
        }
        Scope { account_id: inventory.account_id().to_string(), read: called.difference(&failed).cloned().collect() }
    }

    /// True when a resource of this type, account and region would have been listed.
    pub fn covers(&self, account_id: &str, resource_type: &str, region: &str) -> bool {
        if account_id != self.account_id {
            return false;
        }
        let Some(service) = ledger_service(resource_type) else {
            return false;
        };
        let region = if GLOBAL_SERVICES.contains(&service) { "*" } else { region };
        self.read.contains(&(service.to_string(), region.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::{AccountInfo, ApiCall, Outcome};

    fn inventory(calls: &[(&str, &str, &str, Option<&str>, bool)]) -> Inventory {
        let account =
            AccountInfo { account_id: "111122223333".parse().unwrap(), partition: "aws".into(), caller_arn: None, caller_user_id: None, organization: None };
        let mut inventory = Inventory::new(account, vec![vigil_model::Region::new("eu-west-1")], chrono::Utc::now());
        for (service, region, operation, target, ok) in calls {
            let outcome = if *ok { Outcome::Ok } else { Outcome::AccessDenied { code: "AccessDenied".into(), message: "no".into() } };
            inventory.ledger.record(ApiCall::new(*service, *region, *operation, target.map(str::to_string), outcome));
        }
        inventory
    }

    #[test]
    fn a_failed_listing_keeps_the_service_out_of_scope_and_a_failed_detail_call_does_not() {
        let scope = Scope::of(&inventory(&[
            ("ec2", "eu-west-1", "DescribeInstances", None, true),
            ("ec2", "eu-west-1", "GetInstanceMetadataDefaults", None, false),
            ("s3", "us-east-1", "ListBuckets", None, true),
            ("s3", "eu-west-1", "GetBucketPolicy", Some("b"), false),
            ("rds", "eu-west-1", "DescribeDBInstances", None, false),
        ]));
        assert!(scope.covers("111122223333", "AWS::EC2::Instance", "eu-west-1"));
        assert!(scope.covers("111122223333", "AWS::S3::Bucket", "ap-southeast-2"));
        assert!(!scope.covers("111122223333", "AWS::RDS::DBInstance", "eu-west-1"));
        assert!(!scope.covers("111122223333", "AWS::EC2::Instance", "us-east-1"), "a region that was not read");
        assert!(!scope.covers("444455556666", "AWS::EC2::Instance", "eu-west-1"), "another account");
        assert!(!scope.covers("111122223333", "AWS::Lambda::Function", "eu-west-1"), "a service that was not collected");
        assert!(!scope.covers("111122223333", "AWS::Made::Up", "eu-west-1"));
    }

    #[test]
    fn every_inventory_resource_type_maps_to_a_ledger_service() {
        let demo = vigil_model::snapshot::from_bytes(include_bytes!("../../cli/demo/example-corp.vigil"), "demo").unwrap();
        for item in items(&demo) {
            assert!(ledger_service(item.resource_type).is_some(), "{} has no ledger service", item.resource_type);
        }
    }
}
