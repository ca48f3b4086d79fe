//! The one table from the API operations fixes call or read to the IAM actions that allow
//! them, and the least-privilege policy a set of calls needs (`vigil fix --print-policy`).
//!
//! Most IAM actions are `prefix:Operation`; the exceptions (S3's bucket and account
//! settings, S3 Control) are spelled out here, once. `vigil-apply` has a test that it can
//! send every write operation of this table.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Whether an operation reads or changes the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// One operation: the service and operation as the SDK and the ledger name them, and the
/// IAM action that allows it.
#[derive(Debug)]
pub struct Operation {
    pub service: &'static str,
    pub operation: &'static str,
    pub action: &'static str,
    pub access: Access,
}

const fn write(service: &'static str, operation: &'static str, action: &'static str) -> Operation {
    Operation { service, operation, action, access: Access::Write }
}

const fn read(service: &'static str, operation: &'static str, action: &'static str) -> Operation {
    Operation { service, operation, action, access: Access::Read }
}

/// Every operation a fix may call, and every read a fix's verification depends on.
pub static OPERATIONS: &[Operation] = &[
    // EC2 and VPC.
    write("ec2", "RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"),
    write("ec2", "AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupIngress"),
    write("ec2", "RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress"),
    write("ec2", "AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupEgress"),
    write("ec2", "ModifySnapshotAttribute", "ec2:ModifySnapshotAttribute"),
    write("ec2", "EnableEbsEncryptionByDefault", "ec2:EnableEbsEncryptionByDefault"),
    write("ec2", "DisableEbsEncryptionByDefault", "ec2:DisableEbsEncryptionByDefault"),
    write("ec2", "ModifyInstanceMetadataOptions", "ec2:ModifyInstanceMetadataOptions"),
    write("ec2", "CreateLaunchTemplateVersion", "ec2:CreateLaunchTemplateVersion"),
    write("ec2", "ModifyLaunchTemplate", "ec2:ModifyLaunchTemplate"),
    write("ec2", "ModifySubnetAttribute", "ec2:ModifySubnetAttribute"),
    write("ec2", "CreateNetworkAclEntry", "ec2:CreateNetworkAclEntry"),
    write("ec2", "DeleteNetworkAclEntry", "ec2:DeleteNetworkAclEntry"),
    write("ec2", "CreateFlowLogs", "ec2:CreateFlowLogs"),
    write("ec2", "DeleteFlowLogs", "ec2:DeleteFlowLogs"),
    read("ec2", "DescribeSecurityGroups", "ec2:DescribeSecurityGroups"),
    read("ec2", "DescribeSnapshots", "ec2:DescribeSnapshots"),
    read("ec2", "DescribeSnapshotAttribute", "ec2:DescribeSnapshotAttribute"),
    read("ec2", "GetEbsEncryptionByDefault", "ec2:GetEbsEncryptionByDefault"),
    read("ec2", "DescribeInstances", "ec2:DescribeInstances"),
    read("ec2", "DescribeLaunchTemplates", "ec2:DescribeLaunchTemplates"),
    read("ec2", "DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplateVersions"),
    read("ec2", "DescribeSubnets", "ec2:DescribeSubnets"),
    read("ec2", "DescribeNetworkAcls", "ec2:DescribeNetworkAcls"),
    read("ec2", "DescribeFlowLogs", "ec2:DescribeFlowLogs"),
    read("ec2", "DescribeVpcs", "ec2:DescribeVpcs"),
    // S3 and S3 Control: the IAM actions differ from the operation names.
    write("s3", "PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    write("s3", "DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    write("s3control", "PutPublicAccessBlock", "s3:PutAccountPublicAccessBlock"),
    write("s3control", "DeletePublicAccessBlock", "s3:PutAccountPublicAccessBlock"),
    write("s3", "PutBucketAcl", "s3:PutBucketAcl"),
    write("s3", "PutBucketPolicy", "s3:PutBucketPolicy"),
    write("s3", "DeleteBucketPolicy", "s3:DeleteBucketPolicy"),
    write("s3", "PutBucketEncryption", "s3:PutEncryptionConfiguration"),
    write("s3", "DeleteBucketEncryption", "s3:PutEncryptionConfiguration"),
    write("s3", "PutBucketOwnershipControls", "s3:PutBucketOwnershipControls"),
    write("s3", "DeleteBucketOwnershipControls", "s3:PutBucketOwnershipControls"),
    read("s3", "ListBuckets", "s3:ListAllMyBuckets"),
    read("s3", "GetBucketLocation", "s3:GetBucketLocation"),
    read("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    read("s3control", "GetPublicAccessBlock", "s3:GetAccountPublicAccessBlock"),
    read("s3", "GetBucketAcl", "s3:GetBucketAcl"),
    read("s3", "GetBucketPolicy", "s3:GetBucketPolicy"),
    read("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    read("s3", "GetBucketOwnershipControls", "s3:GetBucketOwnershipControls"),
    // IAM.
    write("iam", "UpdateAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy"),
    write("iam", "DeleteAccountPasswordPolicy", "iam:DeleteAccountPasswordPolicy"),
    write("iam", "UpdateAccessKey", "iam:UpdateAccessKey"),
    read("iam", "GetAccountPasswordPolicy", "iam:GetAccountPasswordPolicy"),
    read("iam", "GetAccountAuthorizationDetails", "iam:GetAccountAuthorizationDetails"),
    read("iam", "ListAccessKeys", "iam:ListAccessKeys"),
    // CloudTrail.
    write("cloudtrail", "UpdateTrail", "cloudtrail:UpdateTrail"),
    read("cloudtrail", "DescribeTrails", "cloudtrail:DescribeTrails"),
    // KMS.
    write("kms", "EnableKeyRotation", "kms:EnableKeyRotation"),
    write("kms", "DisableKeyRotation", "kms:DisableKeyRotation"),
    write("kms", "PutKeyPolicy", "kms:PutKeyPolicy"),
    read("kms", "ListKeys", "kms:ListKeys"),
    read("kms", "DescribeKey", "kms:DescribeKey"),
    read("kms", "GetKeyRotationStatus", "kms:GetKeyRotationStatus"),
    read("kms", "GetKeyPolicy", "kms:GetKeyPolicy"),
    // CloudWatch Logs.
    write("logs", "PutRetentionPolicy", "logs:PutRetentionPolicy"),
    write("logs", "DeleteRetentionPolicy", "logs:DeleteRetentionPolicy"),
    read("logs", "DescribeLogGroups", "logs:DescribeLogGroups"),
    // GuardDuty and Security Hub.
    write("guardduty", "CreateDetector", "guardduty:CreateDetector"),
    write("guardduty", "UpdateDetector", "guardduty:UpdateDetector"),
    write("guardduty", "DeleteDetector", "guardduty:DeleteDetector"),
    read("guardduty", "ListDetectors", "guardduty:ListDetectors"),
    read("guardduty", "GetDetector", "guardduty:GetDetector"),
    write("securityhub", "EnableSecurityHub", "securityhub:EnableSecurityHub"),
    write("securityhub", "DisableSecurityHub", "securityhub:DisableSecurityHub"),
    read("securityhub", "DescribeHub", "securityhub:DescribeHub"),
    // RDS.
    write("rds", "ModifyDBInstance", "rds:ModifyDBInstance"),
    write("rds", "ModifyDBSnapshotAttribute", "rds:ModifyDBSnapshotAttribute"),
    write("rds", "ModifyDBClusterSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute"),
    read("rds", "DescribeDBInstances", "rds:DescribeDBInstances"),
    read("rds", "DescribeDBSnapshots", "rds:DescribeDBSnapshots"),
    read("rds", "DescribeDBClusterSnapshots", "rds:DescribeDBClusterSnapshots"),
    read("rds", "DescribeDBSnapshotAttributes", "rds:DescribeDBSnapshotAttributes"),
    read("rds", "DescribeDBClusterSnapshotAttributes", "rds:DescribeDBClusterSnapshotAttributes"),
    // DynamoDB.
    write("dynamodb", "UpdateTable", "dynamodb:UpdateTable"),
    write("dynamodb", "UpdateContinuousBackups", "dynamodb:UpdateContinuousBackups"),
    read("dynamodb", "ListTables", "dynamodb:ListTables"),
    read("dynamodb", "DescribeTable", "dynamodb:DescribeTable"),
    read("dynamodb", "DescribeContinuousBackups", "dynamodb:DescribeContinuousBackups"),
    // SQS, SNS, Secrets Manager, ECR.
    write("sqs", "SetQueueAttributes", "sqs:SetQueueAttributes"),
    read("sqs", "ListQueues", "sqs:ListQueues"),
    read("sqs", "GetQueueAttributes", "sqs:GetQueueAttributes"),
    write("sns", "SetTopicAttributes", "sns:SetTopicAttributes"),
    read("sns", "ListTopics", "sns:ListTopics"),
    read("sns", "GetTopicAttributes", "sns:GetTopicAttributes"),
    write("secretsmanager", "PutResourcePolicy", "secretsmanager:PutResourcePolicy"),
    write("secretsmanager", "DeleteResourcePolicy", "secretsmanager:DeleteResourcePolicy"),
    read("secretsmanager", "ListSecrets", "secretsmanager:ListSecrets"),
    read("secretsmanager", "GetResourcePolicy", "secretsmanager:GetResourcePolicy"),
    write("ecr", "SetRepositoryPolicy", "ecr:SetRepositoryPolicy"),
    write("ecr", "DeleteRepositoryPolicy", "ecr:DeleteRepositoryPolicy"),
    write("ecr", "PutImageScanningConfiguration", "ecr:PutImageScanningConfiguration"),
    write("ecr", "PutImageTagMutability", "ecr:PutImageTagMutability"),
    read("ecr", "DescribeRepositories", "ecr:DescribeRepositories"),
    read("ecr", "GetRepositoryPolicy", "ecr:GetRepositoryPolicy"),
];

/// The table's row for an operation.
pub fn operation(service: &str, operation: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|row| row.service == service && row.operation == operation)
}

/// The IAM action that allows an operation (`None` for an operation outside the table).
pub fn iam_action(service: &str, name: &str) -> Option<&'static str> {
    operation(service, name).map(|row| row.action)
}

/// A least-privilege identity policy for these operations (`service:Operation` names): one
/// statement with the write actions and one with the reads, on every resource (`*`): scope
/// `Resource` further to the ARNs the plan names where the action allows it.
pub fn policy_document<'a>(operations: impl IntoIterator<Item = &'a str>) -> Result<Value, String> {
    let mut actions: BTreeMap<Access, Vec<&'static str>> = BTreeMap::new();
    for name in operations {
        let (service, operation) = name.split_once(':').ok_or_else(|| format!("`{name}` is not service:Operation"))?;
        let row = self::operation(service, operation).ok_or_else(|| format!("no IAM action is known for `{name}`"))?;
        actions.entry(row.access).or_default().push(row.action);
    }
    let mut statements = Vec::new();
    for (access, sid) in [(Access::Write, "VigilFixChanges"), (Access::Read, "VigilFixReads")] {
        let Some(mut list) = actions.remove(&access) else { continue };
        list.sort_unstable();
        list.dedup();
        statements.push(json!({ "Sid": sid, "Effect": "Allow", "Action": list, "Resource": "*" }));
    }
    Ok(json!({ "Version": "2012-10-17", "Statement": statements }))
}

impl PartialOrd for Access {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Access {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_listed_once_with_an_action_of_its_service_family() {
        let mut seen = std::collections::BTreeSet::new();
        for row in OPERATIONS {
            assert!(seen.insert((row.service, row.operation)), "{}:{} is listed twice", row.service, row.operation);
            let prefix = row.action.split(':').next().unwrap_or_default();
            let expected = match row.service {
                "s3control" => "s3",
                other => other,
            };
            assert_eq!(prefix, expected, "{}:{} maps to {}", row.service, row.operation, row.action);
        }
    }

    #[test]
    fn the_policy_names_each_action_once_and_splits_changes_from_reads() {
        let policy =
            policy_document(["s3:PutPublicAccessBlock", "s3:DeletePublicAccessBlock", "s3:GetPublicAccessBlock", "ec2:RevokeSecurityGroupIngress"]).unwrap();
        assert_eq!(policy["Statement"][0]["Action"], json!(["ec2:RevokeSecurityGroupIngress", "s3:PutBucketPublicAccessBlock"]));
        assert_eq!(policy["Statement"][1]["Action"], json!(["s3:GetBucketPublicAccessBlock"]));
        assert!(policy_document(["ec2:TerminateInstances"]).unwrap_err().contains("ec2:TerminateInstances"));
    }
}
