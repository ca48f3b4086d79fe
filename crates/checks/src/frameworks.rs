//! Compliance frameworks: the requirement ids (with short titles) that checks map to, and the
//! per-requirement compliance summary of a scan.
//!
//! Framework ids (used in each check's `Metadata::frameworks`): `cis-aws-5.0` (CIS AWS
//! Foundations Benchmark v5.0.0), `aws-fsbp` (the controls of Security Hub's Foundational
//! Security Best Practices standard v1.0.0, by Security Hub control id), `aws-securityhub`
//! (Security Hub controls that AWS runs only in its CIS, PCI DSS or NIST standards, such as
//! `IAM.15` or `CloudWatch.1`), `pci-dss-4.0` and `nist-800-53-r5`. A Security Hub control id
//! belongs to exactly one of the two Security Hub tables, so a check cites it once.
//!
//! Every id in a table comes from its source, kept as data beside the crate
//! (`crates/checks/data/*.txt`, each citing its source and review date); the tests below fail
//! when a table lists an id its source lacks, when a CIS recommendation's manual flag differs
//! from the benchmark, and when a citation is not in the reviewed list of citations
//! (`data/reviewed-citations.txt`), so a new citation is a reviewed decision, not a guess.
//! Titles are vigil's own short words. A check may only cite a requirement listed here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::{Finding, Status};
use crate::{CHECKS, Metadata};

/// A compliance framework and its requirements.
#[derive(Debug)]
pub struct Framework {
    /// The id checks use (`cis-aws-5.0`).
    pub id: &'static str,
    /// Short names accepted on the command line (`cis`).
    pub aliases: &'static [&'static str],
    pub name: &'static str,
    pub requirements: &'static [Requirement],
}

/// One requirement (recommendation, control) of a framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub id: &'static str,
    pub title: &'static str,
    /// True when the framework itself says it cannot be assessed automatically (CIS "Manual").
    pub manual: bool,
}

const fn req(id: &'static str, title: &'static str, manual: bool) -> Requirement {
    Requirement { id, title, manual }
}

/// Every framework vigil maps checks to.
pub static FRAMEWORKS: &[Framework] = &[
    Framework { id: "cis-aws-5.0", aliases: &["cis", "cis-aws"], name: "CIS AWS Foundations Benchmark v5.0.0", requirements: CIS_AWS_5_0 },
    Framework { id: "aws-fsbp", aliases: &["fsbp"], name: "AWS Foundational Security Best Practices v1.0.0", requirements: AWS_FSBP },
    Framework {
        id: "aws-securityhub",
        aliases: &["securityhub"],
        name: "AWS Security Hub controls outside the FSBP standard (CIS, PCI DSS and NIST only)",
        requirements: AWS_SECURITYHUB,
    },
    Framework { id: "pci-dss-4.0", aliases: &["pci", "pci-dss"], name: "PCI DSS v4.0", requirements: PCI_DSS_4_0 },
    Framework { id: "nist-800-53-r5", aliases: &["nist", "nist-800-53"], name: "NIST SP 800-53 Revision 5", requirements: NIST_800_53_R5 },
];

/// Finds a framework by id or alias, ignoring case.
pub fn find(name: &str) -> Option<&'static Framework> {
    let name = name.to_ascii_lowercase();
    FRAMEWORKS.iter().find(|framework| framework.id == name || framework.aliases.contains(&name.as_str()))
}

impl Framework {
    pub fn requirement(&self, id: &str) -> Option<&'static Requirement> {
        self.requirements.iter().find(|requirement| requirement.id == id)
    }

    /// True when the check cites a requirement of this framework.
    pub fn maps(&self, metadata: &Metadata) -> bool {
        metadata.frameworks.iter().any(|(framework, _)| *framework == self.id)
    }

    /// Ids of the catalog's checks that cite `requirement`.
    pub fn checks_for(&self, requirement: &str) -> Vec<&'static str> {
        CHECKS
            .iter()
            .map(|check| check.metadata())
            .filter(|metadata| metadata.frameworks.iter().any(|(framework, id)| *framework == self.id && *id == requirement))
            .map(|metadata| metadata.id)
            .collect()
    }

    /// How many requirements at least one check of the catalog covers.
    pub fn covered(&self) -> usize {
        self.requirements.iter().filter(|requirement| !self.checks_for(requirement.id).is_empty()).count()
    }
}

/// The verdict on one requirement after a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequirementStatus {
    /// At least one mapped check failed.
    Fail,
    /// No failure, but at least one mapped check could not read its data.
    Error,
    /// Every finding of every mapped check passed (muted findings are ignored).
    Pass,
    /// Mapped checks ran but found nothing to assess (or every finding was muted).
    NoResources,
    /// The framework marks it manual and no check covers it: a person has to assess it.
    Manual,
    /// No check of the catalog covers it yet.
    NotCovered,
}

impl RequirementStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            RequirementStatus::Fail => "FAIL",
            RequirementStatus::Error => "ERROR",
            RequirementStatus::Pass => "PASS",
            RequirementStatus::NoResources => "NO_RESOURCES",
            RequirementStatus::Manual => "MANUAL",
            RequirementStatus::NotCovered => "NOT_COVERED",
        }
    }
}

/// One row of a compliance summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementSummary {
    pub requirement: &'static str,
    pub title: &'static str,
    pub manual: bool,
    pub checks: Vec<&'static str>,
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub muted: usize,
    pub status: RequirementStatus,
}

/// The per-requirement summary of `findings` for `framework`, in the framework's order.
pub fn summarize(framework: &Framework, findings: &[Finding]) -> Vec<RequirementSummary> {
    let mut by_check: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for finding in findings {
        let counts = by_check.entry(finding.check_id.as_str()).or_default();
        let slot = match finding.status {
            Status::Pass => 0,
            Status::Fail => 1,
            Status::Error => 2,
            Status::Muted => 3,
        };
        counts[slot] += 1;
    }
    summarize_counts(framework, |check| by_check.get(check).copied().unwrap_or_default())
}

/// The same summary from each check's finding counts (pass, fail, error, muted), as a store
/// keeps them.
pub fn summarize_counts(framework: &Framework, counts_of: impl Fn(&str) -> [usize; 4]) -> Vec<RequirementSummary> {
    framework
        .requirements
        .iter()
        .map(|requirement| {
            let checks = framework.checks_for(requirement.id);
            let mut totals = [0usize; 4];
            for check in &checks {
                for (total, count) in totals.iter_mut().zip(counts_of(check)) {
                    *total += count;
                }
            }
            let [pass, fail, error, muted] = totals;
            let status = if checks.is_empty() {
                if requirement.manual { RequirementStatus::Manual } else { RequirementStatus::NotCovered }
            } else if fail > 0 {
                RequirementStatus::Fail
            } else if error > 0 {
                RequirementStatus::Error
            } else if pass > 0 {
                RequirementStatus::Pass
            } else {
                RequirementStatus::NoResources
            };
            RequirementSummary { requirement: requirement.id, title: requirement.title, manual: requirement.manual, checks, pass, fail, error, muted, status }
        })
        .collect()
}

// The tables. Ids follow the source lists in `crates/checks/data/`; titles are short.
// `aws-fsbp` lists the FSBP controls of every service vigil collects (not the whole standard:
// see docs/posture.md for the count).

static CIS_AWS_5_0: &[Requirement] = &[
    req("1.1", "Maintain current contact details", true),
    req("1.2", "Ensure security contact information is registered", true),
    req("1.3", "Ensure no root user account access key exists", false),
    req("1.4", "Ensure MFA is enabled for the root user account", false),
    req("1.5", "Ensure hardware MFA is enabled for the root user account", true),
    req("1.6", "Eliminate use of the root user for administrative and daily tasks", true),
    req("1.7", "Ensure IAM password policy requires minimum length of 14 or greater", false),
    req("1.8", "Ensure IAM password policy prevents password reuse", false),
    req("1.9", "Ensure MFA is enabled for all IAM users that have a console password", false),
    req("1.10", "Do not create access keys during initial setup for IAM users with a console password", true),
    req("1.11", "Ensure credentials unused for 45 days or more are disabled", false),
    req("1.12", "Ensure there is only one active access key for any single IAM user", false),
    req("1.13", "Ensure access keys are rotated every 90 days or less", false),
    req("1.14", "Ensure IAM users receive permissions only through groups", false),
    req("1.15", "Ensure IAM policies that allow full *:* administrative privileges are not attached", false),
    req("1.16", "Ensure a support role has been created to manage incidents with AWS Support", false),
    req("1.17", "Ensure IAM instance roles are used for AWS resource access from instances", false),
    req("1.18", "Ensure that all expired SSL/TLS certificates stored in IAM are removed", false),
    req("1.19", "Ensure that IAM External Access Analyzer is enabled for all regions", false),
    req("1.20", "Ensure IAM users are managed centrally via identity federation or AWS Organizations", true),
    req("1.21", "Ensure access to AWSCloudShellFullAccess is restricted", true),
    req("2.1.1", "Ensure S3 bucket policy is set to deny HTTP requests", false),
    req("2.1.2", "Ensure MFA Delete is enabled on S3 buckets", true),
    req("2.1.3", "Ensure all data in Amazon S3 has been discovered, classified, and secured when necessary", true),
    req("2.1.4", "Ensure that S3 is configured with Block Public Access enabled", false),
    req("2.2.1", "Ensure that encryption-at-rest is enabled for RDS instances", false),
    req("2.2.2", "Ensure the Auto Minor Version Upgrade feature is enabled for RDS instances", false),
    req("2.2.3", "Ensure that RDS instances are not publicly accessible", false),
    req("2.2.4", "Ensure Multi-AZ deployments are used for enhanced availability in Amazon RDS", true),
    req("2.3.1", "Ensure that encryption is enabled for EFS file systems", false),
    req("3.1", "Ensure CloudTrail is enabled in all regions", true),
    req("3.2", "Ensure CloudTrail log file validation is enabled", false),
    req("3.3", "Ensure AWS Config is enabled in all regions", false),
    req("3.4", "Ensure that server access logging is enabled on the CloudTrail S3 bucket", true),
    req("3.5", "Ensure CloudTrail logs are encrypted at rest using KMS CMKs", false),
    req("3.6", "Ensure rotation for customer-created symmetric CMKs is enabled", false),
    req("3.7", "Ensure VPC flow logging is enabled in all VPCs", false),
    req("3.8", "Ensure that object-level logging for write events is enabled for S3 buckets", false),
    req("3.9", "Ensure that object-level logging for read events is enabled for S3 buckets", false),
    req("4.1", "Ensure unauthorized API calls are monitored", true),
    req("4.2", "Ensure management console sign-in without MFA is monitored", true),
    req("4.3", "Ensure usage of the root account is monitored", true),
    req("4.4", "Ensure IAM policy changes are monitored", true),
    req("4.5", "Ensure CloudTrail configuration changes are monitored", true),
    req("4.6", "Ensure AWS Management Console authentication failures are monitored", true),
    req("4.7", "Ensure disabling or scheduled deletion of customer created CMKs is monitored", true),
    req("4.8", "Ensure S3 bucket policy changes are monitored", true),
    req("4.9", "Ensure AWS Config configuration changes are monitored", true),
    req("4.10", "Ensure security group changes are monitored", true),
    req("4.11", "Ensure Network Access Control List (NACL) changes are monitored", true),
    req("4.12", "Ensure changes to network gateways are monitored", true),
    req("4.13", "Ensure route table changes are monitored", true),
    req("4.14", "Ensure VPC changes are monitored", true),
    req("4.15", "Ensure AWS Organizations changes are monitored", true),
    req("4.16", "Ensure AWS Security Hub is enabled", false),
    req("5.1.1", "Ensure EBS volume encryption is enabled in all regions", false),
    req("5.1.2", "Ensure CIFS access is restricted to trusted networks", false),
    req("5.2", "Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports", false),
    req("5.3", "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports", false),
    req("5.4", "Ensure no security groups allow ingress from ::/0 to remote server administration ports", false),
    req("5.5", "Ensure the default security group of every VPC restricts all traffic", false),
    req("5.6", "Ensure routing tables for VPC peering are least access", true),
    req("5.7", "Ensure that the EC2 Metadata Service only allows IMDSv2", false),
];

static AWS_FSBP: &[Requirement] = &[
    req("Account.1", "Security contact information should be provided for an AWS account", false),
    req("ACM.1", "Imported and ACM-issued certificates should be renewed after a specified time period", false),
    req("ACM.2", "RSA certificates managed by ACM should use a key length of at least 2,048 bits", false),
    req("AutoScaling.1", "Auto Scaling groups associated with a load balancer should use ELB health checks", false),
    req("AutoScaling.2", "Auto Scaling groups should cover multiple Availability Zones", false),
    req("AutoScaling.3", "Auto Scaling group launch configurations should require IMDSv2", false),
    req("AutoScaling.5", "Instances launched by Auto Scaling launch configurations should not have public IP addresses", false),
    req("AutoScaling.6", "Auto Scaling groups should use multiple instance types in multiple Availability Zones", false),
    req("AutoScaling.9", "Auto Scaling groups should use EC2 launch templates", false),
    req("CloudFront.1", "CloudFront distributions should have a default root object configured", false),
    req("CloudFront.3", "CloudFront distributions should require encryption in transit", false),
    req("CloudFront.4", "CloudFront distributions should have origin failover configured", false),
    req("CloudFront.5", "CloudFront distributions should have logging enabled", false),
    req("CloudFront.6", "CloudFront distributions should have WAF enabled", false),
    req("CloudFront.7", "CloudFront distributions should use custom SSL/TLS certificates", false),
    req("CloudFront.8", "CloudFront distributions should use SNI to serve HTTPS requests", false),
    req("CloudFront.9", "CloudFront distributions should encrypt traffic to custom origins", false),
    req("CloudFront.10", "CloudFront distributions should not use deprecated SSL protocols to custom origins", false),
    req("CloudFront.12", "CloudFront distributions should not point to non-existent S3 origins", false),
    req("CloudFront.13", "CloudFront distributions should use origin access control", false),
    req("CloudTrail.1", "CloudTrail should be enabled with at least one multi-Region trail that includes read and write management events", false),
    req("CloudTrail.2", "CloudTrail should have encryption at-rest enabled", false),
    req("CloudTrail.4", "CloudTrail log file validation should be enabled", false),
    req("CloudTrail.5", "CloudTrail trails should be integrated with CloudWatch Logs", false),
    req("Config.1", "AWS Config should be enabled and use the service-linked role for resource recording", false),
    req("DynamoDB.1", "DynamoDB tables should automatically scale capacity with demand", false),
    req("DynamoDB.2", "DynamoDB tables should have point-in-time recovery enabled", false),
    req("DynamoDB.3", "DynamoDB Accelerator (DAX) clusters should be encrypted at rest", false),
    req("DynamoDB.6", "DynamoDB tables should have deletion protection enabled", false),
    req("DynamoDB.7", "DynamoDB Accelerator clusters should be encrypted in transit", false),
    req("EC2.1", "EBS snapshots should not be publicly restorable", false),
    req("EC2.2", "VPC default security groups should not allow inbound or outbound traffic", false),
    req("EC2.3", "Attached EBS volumes should be encrypted at-rest", false),
    req("EC2.4", "Stopped EC2 instances should be removed after a specified time period", false),
    req("EC2.6", "VPC flow logging should be enabled in all VPCs", false),
    req("EC2.7", "EBS default encryption should be enabled", false),
    req("EC2.8", "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)", false),
    req("EC2.9", "EC2 instances should not have a public IPv4 address", false),
    req("EC2.10", "EC2 should be configured to use VPC endpoints created for the EC2 service", false),
    req("EC2.15", "EC2 subnets should not automatically assign public IP addresses", false),
    req("EC2.16", "Unused Network Access Control Lists should be removed", false),
    req("EC2.17", "EC2 instances should not use multiple ENIs", false),
    req("EC2.18", "Security groups should only allow unrestricted incoming traffic for authorized ports", false),
    req("EC2.19", "Security groups should not allow unrestricted access to ports with high risk", false),
    req("EC2.20", "Both VPN tunnels for a Site-to-Site VPN connection should be up", false),
    req("EC2.21", "Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389", false),
    req("EC2.23", "EC2 Transit Gateways should not automatically accept VPC attachment requests", false),
    req("EC2.24", "EC2 paravirtual instance types should not be used", false),
    req("EC2.25", "EC2 launch templates should not assign public IPs to network interfaces", false),
    req("EC2.51", "EC2 Client VPN endpoints should have client connection logging enabled", false),
    req("EC2.55", "VPCs have an interface endpoint for the ECR API", false),
    req("EC2.56", "VPCs have an interface endpoint for the Docker registry", false),
    req("EC2.57", "VPCs have an interface endpoint for Systems Manager", false),
    req("EC2.58", "VPCs have an interface endpoint for Incident Manager Contacts", false),
    req("EC2.60", "VPCs have an interface endpoint for Incident Manager", false),
    req("EC2.170", "EC2 launch templates should use Instance Metadata Service Version 2 (IMDSv2)", false),
    req("EC2.171", "Site-to-Site VPN connections log both tunnels", false),
    req("EC2.172", "EC2 VPC Block Public Access settings should block internet gateway traffic", false),
    req("ECR.1", "ECR private repositories should have image scanning configured", false),
    req("ECR.2", "ECR private repositories should have tag immutability configured", false),
    req("ECR.3", "ECR repositories should have at least one lifecycle policy configured", false),
    req("EFS.1", "EFS should be configured to encrypt file data at rest using AWS KMS", false),
    req("EFS.2", "EFS volumes should be in backup plans", false),
    req("EFS.3", "EFS access points should enforce a root directory", false),
    req("EFS.4", "EFS access points should enforce a user identity", false),
    req("EFS.6", "EFS mount targets should not be associated with subnets that assign public IP addresses on launch", false),
    req("EFS.7", "EFS file systems should have automatic backups enabled", false),
    req("EFS.8", "EFS file systems should be encrypted at rest", false),
    req("ElastiCache.1", "ElastiCache (Redis OSS) clusters should have automatic backups enabled", false),
    req("ElastiCache.2", "ElastiCache clusters should have automatic minor version upgrades enabled", false),
    req("ElastiCache.3", "ElastiCache replication groups should have automatic failover enabled", false),
    req("ElastiCache.4", "ElastiCache replication groups should be encrypted at rest", false),
    req("ElastiCache.5", "ElastiCache replication groups should be encrypted in transit", false),
    req("ElastiCache.6", "ElastiCache (Redis OSS) replication groups of earlier versions should have Redis OSS AUTH enabled", false),
    req("ElastiCache.7", "ElastiCache clusters should not use the default subnet group", false),
    req("ELB.1", "Application Load Balancers should redirect all HTTP requests to HTTPS", false),
    req("ELB.2", "Classic Load Balancers with SSL/HTTPS listeners should use a certificate provided by ACM", false),
    req("ELB.3", "Classic Load Balancer listeners should be configured with HTTPS or TLS termination", false),
    req("ELB.4", "Application Load Balancers should be configured to drop invalid HTTP headers", false),
    req("ELB.5", "Application and Classic Load Balancers logging should be enabled", false),
    req("ELB.6", "Application, Gateway, and Network Load Balancers should have deletion protection enabled", false),
    req("ELB.7", "Classic Load Balancers should have connection draining enabled", false),
    req("ELB.8", "Classic Load Balancers with SSL listeners should use a predefined security policy with a strong configuration", false),
    req("ELB.9", "Classic Load Balancers should have cross-zone load balancing enabled", false),
    req("ELB.10", "Classic Load Balancers should span multiple Availability Zones", false),
    req("ELB.12", "Application Load Balancers should be configured with defensive or strictest desync mitigation mode", false),
    req("ELB.13", "Application, Network and Gateway Load Balancers should span multiple Availability Zones", false),
    req("ELB.14", "Classic Load Balancers should be configured with defensive or strictest desync mitigation mode", false),
    req("ELB.17", "Application and Network Load Balancers with listeners should use recommended security policies", false),
    req("GuardDuty.1", "GuardDuty should be enabled", false),
    req("GuardDuty.5", "GuardDuty EKS Audit Log Monitoring should be enabled", false),
    req("GuardDuty.6", "GuardDuty Lambda Protection should be enabled", false),
    req("GuardDuty.7", "GuardDuty EKS Runtime Monitoring should be enabled", false),
    req("GuardDuty.8", "GuardDuty Malware Protection for EC2 should be enabled", false),
    req("GuardDuty.9", "GuardDuty RDS Protection should be enabled", false),
    req("GuardDuty.10", "GuardDuty S3 Protection should be enabled", false),
    req("GuardDuty.11", "GuardDuty Runtime Monitoring should be enabled", false),
    req("GuardDuty.12", "GuardDuty Runtime Monitoring covers ECS on Fargate", false),
    req("GuardDuty.13", "GuardDuty Runtime Monitoring covers EC2 instances", false),
    req("IAM.1", "IAM policies should not allow full * administrative privileges", false),
    req("IAM.2", "IAM users should not have IAM policies attached", false),
    req("IAM.3", "IAM users' access keys should be rotated every 90 days or less", false),
    req("IAM.4", "IAM root user access key should not exist", false),
    req("IAM.5", "MFA should be enabled for all IAM users that have a console password", false),
    req("IAM.6", "Hardware MFA should be enabled for the root user", false),
    req("IAM.7", "Password policies for IAM users should have strong configurations", false),
    req("IAM.8", "Unused IAM user credentials should be removed", false),
    req("IAM.21", "IAM customer managed policies should not allow wildcard actions for services", false),
    req("Kinesis.1", "Kinesis streams should be encrypted at rest", false),
    req("Kinesis.3", "Kinesis streams should have an adequate data retention period", false),
    req("KMS.1", "IAM customer managed policies should not allow decryption actions on all KMS keys", false),
    req("KMS.2", "IAM principals should not have IAM inline policies that allow decryption actions on all KMS keys", false),
    req("KMS.3", "AWS KMS keys should not be deleted unintentionally", false),
    req("KMS.5", "KMS keys should not be publicly accessible", false),
    req("Lambda.1", "Lambda function policies should prohibit public access", false),
    req("Lambda.2", "Lambda functions should use supported runtimes", false),
    req("Lambda.5", "VPC Lambda functions should operate in multiple Availability Zones", false),
    req("RDS.1", "RDS snapshots should be private", false),
    req("RDS.2", "RDS DB instances should prohibit public access, as determined by the PubliclyAccessible configuration", false),
    req("RDS.3", "RDS DB instances should have encryption at-rest enabled", false),
    req("RDS.4", "RDS cluster snapshots and database snapshots should be encrypted at rest", false),
    req("RDS.5", "RDS DB instances should be configured with multiple Availability Zones", false),
    req("RDS.6", "Enhanced monitoring should be configured for RDS DB instances", false),
    req("RDS.7", "RDS clusters should have deletion protection enabled", false),
    req("RDS.8", "RDS DB instances should have deletion protection enabled", false),
    req("RDS.9", "RDS DB instances should publish logs to CloudWatch Logs", false),
    req("RDS.10", "IAM authentication should be configured for RDS instances", false),
    req("RDS.11", "RDS instances should have automatic backups enabled", false),
    req("RDS.12", "IAM authentication should be configured for RDS clusters", false),
    req("RDS.13", "RDS automatic minor version upgrades should be enabled", false),
    req("RDS.14", "Aurora clusters should have backtracking enabled", false),
    req("RDS.15", "RDS DB clusters should be configured for multiple Availability Zones", false),
    req("RDS.16", "Aurora DB clusters should be configured to copy tags to DB snapshots", false),
    req("RDS.17", "RDS DB instances should be configured to copy tags to snapshots", false),
    req("RDS.19", "Existing RDS event notification subscriptions should be configured for critical cluster events", false),
    req("RDS.20", "Existing RDS event notification subscriptions should be configured for critical database instance events", false),
    req("RDS.21", "An RDS event notifications subscription should be configured for critical database parameter group events", false),
    req("RDS.22", "An RDS event notifications subscription should be configured for critical database security group events", false),
    req("RDS.23", "RDS instances should not use a database engine default port", false),
    req("RDS.24", "RDS database clusters should use a custom administrator username", false),
    req("RDS.25", "RDS database instances should use a custom administrator username", false),
    req("RDS.27", "RDS DB clusters should be encrypted at rest", false),
    req("RDS.34", "Aurora MySQL clusters send audit logs to CloudWatch Logs", false),
    req("RDS.35", "RDS DB clusters should have automatic minor version upgrade enabled", false),
    req("RDS.36", "RDS for PostgreSQL instances send logs to CloudWatch Logs", false),
    req("RDS.37", "Aurora PostgreSQL clusters send logs to CloudWatch Logs", false),
    req("RDS.38", "RDS for PostgreSQL instances require TLS connections", false),
    req("RDS.39", "RDS for MySQL instances require TLS connections", false),
    req("RDS.40", "RDS for SQL Server instances send logs to CloudWatch Logs", false),
    req("Redshift.1", "Redshift clusters should prohibit public access", false),
    req("Redshift.2", "Connections to Redshift clusters should be encrypted in transit", false),
    req("Redshift.3", "Redshift clusters should have automatic snapshots enabled", false),
    req("Redshift.4", "Redshift clusters should have audit logging enabled", false),
    req("Redshift.6", "Redshift should have automatic upgrades to major versions enabled", false),
    req("Redshift.7", "Redshift clusters should use enhanced VPC routing", false),
    req("Redshift.8", "Redshift clusters should not use the default Admin username", false),
    req("Redshift.9", "Redshift clusters should not use the default database name", false),
    req("Redshift.10", "Redshift clusters should be encrypted at rest", false),
    req("Redshift.15", "Redshift cluster ports are not open to the internet", false),
    req("Route53.2", "Route 53 public hosted zones should log DNS queries", false),
    req("S3.1", "S3 general purpose buckets should have block public access settings enabled", false),
    req("S3.2", "S3 general purpose buckets should block public read access", false),
    req("S3.3", "S3 general purpose buckets should block public write access", false),
    req("S3.5", "S3 general purpose buckets should require requests to use SSL", false),
    req("S3.6", "S3 general purpose bucket policies should restrict access to other AWS accounts", false),
    req("S3.8", "S3 general purpose buckets should block public access", false),
    req("S3.9", "S3 general purpose buckets should have server access logging enabled", false),
    req("S3.12", "ACLs should not be used to manage user access to S3 general purpose buckets", false),
    req("S3.13", "S3 general purpose buckets should have lifecycle configurations", false),
    req("S3.19", "S3 access points should have block public access settings enabled", false),
    req("S3.24", "S3 Multi-Region Access Points should have block public access settings enabled", false),
    req("SecretsManager.1", "Secrets Manager secrets should have automatic rotation enabled", false),
    req("SecretsManager.2", "Secrets Manager secrets configured with automatic rotation should rotate successfully", false),
    req("SecretsManager.3", "Remove unused Secrets Manager secrets", false),
    req("SecretsManager.4", "Secrets Manager secrets should be rotated within a specified number of days", false),
    req("SNS.4", "SNS topic access policies should not allow public access", false),
    req("SQS.1", "Amazon SQS queues should be encrypted at rest", false),
    req("SQS.3", "SQS queue access policies should not allow public access", false),
    req("SSM.1", "EC2 instances should be managed by AWS Systems Manager", false),
    req("SSM.2", "Instances managed by Systems Manager comply with their patch baseline", false),
    req("SSM.3", "Instances managed by Systems Manager comply with their associations", false),
    req("SSM.4", "SSM documents are not shared publicly", false),
];

/// Security Hub controls outside the FSBP standard (those AWS runs only for its CIS, PCI DSS or
/// NIST standards) that vigil's checks assess. Ids follow `data/securityhub-controls.txt`.
static AWS_SECURITYHUB: &[Requirement] = &[
    req("Account.2", "AWS accounts should be part of an AWS Organizations organization", false),
    req("CloudTrail.3", "At least one CloudTrail trail should be enabled", false),
    req("CloudTrail.6", "The S3 bucket used to store CloudTrail logs should not be publicly accessible", false),
    req("CloudTrail.7", "S3 bucket access logging should be enabled on the CloudTrail S3 bucket", false),
    req("CloudWatch.1", "log metric filter and alarm should exist for usage of the root user", false),
    req("CloudWatch.2", "log metric filter and alarm should exist for unauthorized API calls", false),
    req("CloudWatch.3", "log metric filter and alarm should exist for Management Console sign-in without MFA", false),
    req("CloudWatch.4", "log metric filter and alarm should exist for IAM policy changes", false),
    req("CloudWatch.5", "log metric filter and alarm should exist for CloudTrail configuration changes", false),
    req("CloudWatch.6", "log metric filter and alarm should exist for Management Console authentication failures", false),
    req("CloudWatch.7", "log metric filter and alarm should exist for disabling or scheduled deletion of customer managed keys", false),
    req("CloudWatch.8", "log metric filter and alarm should exist for S3 bucket policy changes", false),
    req("CloudWatch.9", "log metric filter and alarm should exist for AWS Config configuration changes", false),
    req("CloudWatch.10", "log metric filter and alarm should exist for security group changes", false),
    req("CloudWatch.11", "log metric filter and alarm should exist for changes to Network Access Control Lists", false),
    req("CloudWatch.12", "log metric filter and alarm should exist for changes to network gateways", false),
    req("CloudWatch.13", "log metric filter and alarm should exist for route table changes", false),
    req("CloudWatch.14", "log metric filter and alarm should exist for VPC changes", false),
    req("CloudWatch.15", "CloudWatch alarms should have specified actions configured", false),
    req("CloudWatch.16", "CloudWatch log groups should be retained for a specified time period", false),
    req("CloudWatch.17", "CloudWatch alarm actions should be activated", false),
    req("DynamoDB.4", "DynamoDB tables should be present in a backup plan", false),
    req("EC2.12", "Unused EC2 Elastic IP addresses should be removed", false),
    req("EC2.13", "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22", false),
    req("EC2.14", "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 3389", false),
    req("EC2.28", "EBS volumes should be covered by a backup plan", false),
    req("EC2.53", "EC2 security groups should not allow ingress from 0.0.0.0/0 to remote server administration ports", false),
    req("EC2.54", "EC2 security groups should not allow ingress from ::/0 to remote server administration ports", false),
    req("ECR.5", "ECR repositories should be encrypted with customer managed KMS keys", false),
    req("ELB.16", "Application Load Balancers should be associated with an AWS WAF web ACL", false),
    req("IAM.9", "MFA should be enabled for the root user", false),
    req("IAM.10", "Password policies for IAM users should have strong configurations (PCI DSS)", false),
    req("IAM.11", "Ensure IAM password policy requires at least one uppercase letter", false),
    req("IAM.12", "Ensure IAM password policy requires at least one lowercase letter", false),
    req("IAM.13", "Ensure IAM password policy requires at least one symbol", false),
    req("IAM.14", "Ensure IAM password policy requires at least one number", false),
    req("IAM.15", "Ensure IAM password policy requires minimum password length of 14 or greater", false),
    req("IAM.16", "Ensure IAM password policy prevents password reuse", false),
    req("IAM.17", "Ensure IAM password policy expires passwords within 90 days or less", false),
    req("IAM.18", "Ensure a support role has been created to manage incidents with AWS Support", false),
    req("IAM.19", "MFA should be enabled for all IAM users", false),
    req("IAM.22", "IAM user credentials unused for 45 days should be removed", false),
    req("IAM.26", "Expired SSL/TLS certificates managed in IAM should be removed", false),
    req("IAM.27", "IAM identities should not have the AWSCloudShellFullAccess policy attached", false),
    req("IAM.28", "IAM Access Analyzer external access analyzer should be enabled", false),
    req("KMS.4", "AWS KMS key rotation should be enabled", false),
    req("Lambda.3", "Lambda functions should be in a VPC", false),
    req("RDS.26", "RDS DB instances should be protected by a backup plan", false),
    req("S3.7", "S3 general purpose buckets should use cross-Region replication", false),
    req("S3.10", "S3 general purpose buckets with versioning enabled should have lifecycle configurations", false),
    req("S3.11", "S3 general purpose buckets should have event notifications enabled", false),
    req("S3.14", "S3 general purpose buckets should have versioning enabled", false),
    req("S3.15", "S3 general purpose buckets should have Object Lock enabled", false),
    req("S3.17", "S3 general purpose buckets should be encrypted at rest with AWS KMS keys", false),
    req("S3.20", "S3 general purpose buckets should have MFA delete enabled", false),
    req("S3.22", "S3 general purpose buckets should log object-level write events", false),
    req("S3.23", "S3 general purpose buckets should log object-level read events", false),
    req("SNS.1", "SNS topics should be encrypted at-rest using AWS KMS", false),
];

static PCI_DSS_4_0: &[Requirement] = &[
    req("1.2.1", "Configuration standards for network security controls are defined, implemented, and maintained", false),
    req("1.2.5", "All services, protocols, and ports allowed are identified, approved, and have a defined business need", false),
    req("1.2.7", "Configurations of network security controls are reviewed at least once every six months", false),
    req("1.2.8", "Configuration files for network security controls are secured and kept consistent with active configurations", false),
    req("1.3.1", "Inbound traffic to the cardholder data environment is restricted", false),
    req("1.3.2", "Outbound traffic from the cardholder data environment is restricted", false),
    req("1.3.3", "Network security controls are installed between all wireless networks and the cardholder data environment", false),
    req("1.4.1", "Network security controls are implemented between trusted and untrusted networks", false),
    req("1.4.2", "Inbound traffic from untrusted networks to trusted networks is restricted", false),
    req("1.4.3", "Anti-spoofing measures are implemented to detect and block forged source IP addresses", false),
    req("1.4.4", "System components that store cardholder data are not directly accessible from untrusted networks", false),
    req("1.4.5", "Disclosure of internal IP addresses and routing information is limited to authorized parties", false),
    req("1.5.1", "Security controls are implemented on computing devices that connect to both untrusted networks and the CDE", false),
    req("2.2.1", "Configuration standards are developed, implemented, and maintained", false),
    req("2.2.2", "Vendor default accounts are managed", false),
    req("2.2.4", "Only necessary services, protocols, daemons, and functions are enabled", false),
    req("2.2.5", "Insecure services, protocols, or daemons are justified and secured", false),
    req("2.2.6", "System security parameters are configured to prevent misuse", false),
    req("2.2.7", "All non-console administrative access is encrypted using strong cryptography", false),
    req("3.2.1", "Account data storage is kept to a minimum through retention and disposal policies", false),
    req("3.3.1", "Sensitive authentication data is not retained after authorization", false),
    req("3.4.1", "PAN is masked when displayed", false),
    req("3.5.1", "PAN is rendered unreadable anywhere it is stored", false),
    req("3.5.1.1", "Hashes used to render PAN unreadable are keyed cryptographic hashes", false),
    req("3.5.1.2", "Disk-level or partition-level encryption is used only where appropriate", false),
    req("3.6.1", "Procedures are defined and implemented to protect cryptographic keys against disclosure and misuse", false),
    req("3.6.1.2", "Secret and private keys are stored in secure cryptographic forms", false),
    req("3.7.1", "Key-management policies and procedures cover generation of strong cryptographic keys", false),
    req("3.7.2", "Key-management policies and procedures cover secure distribution of keys", false),
    req("3.7.4", "Key-management policies and procedures cover cryptoperiod-based key changes", false),
    req("3.7.5", "Key-management policies and procedures cover retirement or replacement of keys", false),
    req("4.2.1", "Strong cryptography and security protocols safeguard PAN during transmission over open, public networks", false),
    req("4.2.1.1", "An inventory of trusted keys and certificates is maintained", false),
    req("4.2.2", "PAN is secured with strong cryptography whenever sent via end-user messaging technologies", false),
    req("5.2.1", "An anti-malware solution is deployed on all system components", false),
    req("5.3.4", "Audit logs for the anti-malware solution are enabled and retained", false),
    req("5.4.1", "Processes and automated mechanisms are in place to detect and protect personnel against phishing attacks", false),
    req("6.2.4", "Software engineering techniques prevent or mitigate common software attacks", false),
    req("6.3.1", "Security vulnerabilities are identified and managed", false),
    req("6.3.3", "System components are protected from known vulnerabilities by installing applicable security patches", false),
    req("6.4.1", "Public-facing web applications are protected against attacks", false),
    req("6.4.2", "An automated technical solution detects and prevents web-based attacks for public-facing web applications", false),
    req("6.5.1", "Changes to all system components are managed", false),
    req("6.5.6", "Test data and test accounts are removed before the system goes into production", false),
    req("7.2.1", "An access control model is defined and includes granting access based on need", false),
    req("7.2.2", "Access is assigned based on job classification and function and least privileges", false),
    req("7.2.4", "All user accounts and related access privileges are reviewed at least once every six months", false),
    req("7.2.5", "All application and system accounts and related access privileges are assigned and managed", false),
    req("7.2.5.1", "All access by application and system accounts is reviewed periodically", false),
    req("7.2.6", "All user access to query repositories of stored cardholder data is restricted", false),
    req("7.3.1", "An access control system is in place that restricts access based on need to know", false),
    req("8.2.1", "All users are assigned a unique ID before access is allowed", false),
    req("8.2.2", "Group, shared, or generic IDs are used only when necessary", false),
    req("8.2.4", "Addition, deletion, and modification of user IDs and credentials are authorized and managed", false),
    req("8.2.6", "Inactive user accounts are removed or disabled within 90 days of inactivity", false),
    req("8.2.7", "Accounts used by third parties for remote access are enabled only when needed and monitored", false),
    req("8.2.8", "Idle user sessions require re-authentication after 15 minutes", false),
    req("8.3.1", "All user access is authenticated with at least one authentication factor", false),
    req("8.3.2", "Strong cryptography renders authentication factors unreadable in transmission and storage", false),
    req("8.3.4", "Invalid authentication attempts are limited", false),
    req("8.3.5", "Passwords set for first use or reset are unique and changed on first use", false),
    req("8.3.6", "Passwords meet minimum complexity (at least 12 characters, numeric and alphabetic)", false),
    req("8.3.7", "Individuals cannot reuse any of their last four passwords", false),
    req("8.3.9", "Passwords are changed at least once every 90 days when they are the only factor", false),
    req("8.3.10.1", "Customer passwords are changed every 90 days when they are the only factor", false),
    req("8.4.1", "MFA is implemented for all non-console access into the CDE for personnel with administrative access", false),
    req("8.4.2", "MFA is implemented for all access into the CDE", false),
    req("8.4.3", "MFA is implemented for all remote network access", false),
    req("8.6.1", "Interactive login with system or application accounts is managed", false),
    req("8.6.2", "Passwords for application and system accounts are not hard coded", false),
    req("8.6.3", "Passwords for application and system accounts are protected against misuse and changed periodically", false),
    req("10.2.1", "Audit logs are enabled and active for all system components and cardholder data", false),
    req("10.2.1.1", "Audit logs capture all individual user access to cardholder data", false),
    req("10.2.1.2", "Audit logs capture all actions taken by any individual with administrative access", false),
    req("10.2.1.3", "Audit logs capture all access to audit logs", false),
    req("10.2.1.4", "Audit logs capture all invalid logical access attempts", false),
    req("10.2.1.5", "Audit logs capture all changes to identification and authentication credentials", false),
    req("10.2.1.6", "Audit logs capture initialization, stopping, or pausing of the audit logs", false),
    req("10.2.1.7", "Audit logs capture all creation and deletion of system-level objects", false),
    req("10.2.2", "Audit logs record the details of each auditable event", false),
    req("10.3.1", "Read access to audit log files is limited to those with a job-related need", false),
    req("10.3.2", "Audit log files are protected to prevent modification by individuals", false),
    req("10.3.3", "Audit log files are promptly backed up to a secure, central, internal log server", false),
    req("10.3.4", "File integrity monitoring or change-detection mechanisms are used on audit logs", false),
    req("10.4.1", "Security events and critical system logs are reviewed at least once daily", false),
    req("10.4.1.1", "Automated mechanisms are used to perform audit log reviews", false),
    req("10.4.2", "Logs of all other system components are reviewed periodically", false),
    req("10.5.1", "Audit log history is retained for at least 12 months, with three months immediately available", false),
    req("10.6.3", "Time synchronization settings and data are protected", false),
    req("10.7.1", "Failures of critical security control systems are detected, alerted, and addressed promptly (service providers)", false),
    req("10.7.2", "Failures of critical security control systems are detected, alerted, and addressed promptly", false),
    req("11.3.1", "Internal vulnerability scans are performed at least once every three months", false),
    req("11.4.1", "penetration testing methodology is defined and implemented", false),
    req("11.5.1", "Intrusion-detection or intrusion-prevention techniques detect and prevent intrusions into the network", false),
    req("11.5.2", "change-detection mechanism is deployed to alert on unauthorized modification of critical files", false),
    req("11.6.1", "change- and tamper-detection mechanism is deployed for payment pages", false),
    req("12.3.4", "Hardware and software technologies in use are reviewed at least once every 12 months", false),
    req("12.5.1", "An inventory of system components in scope for PCI DSS is maintained", false),
    req("12.10.1", "An incident response plan exists and is ready to be activated", false),
    req("12.10.5", "The incident response plan includes monitoring and responding to alerts from security monitoring systems", false),
    req("A1.1.2", "Controls ensure that each customer only has permission to access its own cardholder data environment", false),
];

static NIST_800_53_R5: &[Requirement] = &[
    req("AC-2", "Account management", false),
    req("AC-2(1)", "Account management: automated system account management", false),
    req("AC-2(3)", "Account management: disable accounts", false),
    req("AC-2(4)", "Account management: automated audit actions", false),
    req("AC-2(12)", "Account management: account monitoring for atypical usage", false),
    req("AC-3", "Access enforcement", false),
    req("AC-3(7)", "Access enforcement: role-based access control", false),
    req("AC-4", "Information flow enforcement", false),
    req("AC-4(21)", "Information flow enforcement: physical or logical separation of information flows", false),
    req("AC-5", "Separation of duties", false),
    req("AC-6", "Least privilege", false),
    req("AC-6(2)", "Least privilege: non-privileged access for nonsecurity functions", false),
    req("AC-6(5)", "Least privilege: privileged accounts", false),
    req("AC-6(3)", "Least privilege: network access to privileged commands", false),
    req("AC-6(9)", "Least privilege: log use of privileged functions", false),
    req("AC-6(10)", "Least privilege: prohibit non-privileged users from executing privileged functions", false),
    req("AC-7", "Unsuccessful logon attempts", false),
    req("AC-17", "Remote access", false),
    req("AC-17(1)", "Remote access: monitoring and control", false),
    req("AC-17(2)", "Remote access: protection of confidentiality and integrity using encryption", false),
    req("AC-21", "Information sharing", false),
    req("AU-2", "Event logging", false),
    req("AU-3", "Content of audit records", false),
    req("AU-3(1)", "Content of audit records: additional audit information", false),
    req("AU-4", "Audit log storage capacity", false),
    req("AU-4(1)", "Audit log storage capacity: transfer to alternate storage", false),
    req("AU-6", "Audit record review, analysis, and reporting", false),
    req("AU-6(1)", "Audit record review, analysis, and reporting: automated process integration", false),
    req("AU-6(3)", "Audit record review, analysis, and reporting: correlate audit record repositories", false),
    req("AU-6(4)", "Audit record review, analysis, and reporting: central review and analysis", false),
    req("AU-6(5)", "Audit record review, analysis, and reporting: integrated analysis of audit records", false),
    req("AU-8", "Time stamps", false),
    req("AU-9", "Protection of audit information", false),
    req("AU-9(2)", "Protection of audit information: store on separate physical systems or components", false),
    req("AU-9(4)", "Protection of audit information: access by subset of privileged users", false),
    req("AU-9(7)", "Protection of audit information: store on component with different operating system", false),
    req("AU-10", "Non-repudiation", false),
    req("AU-11", "Audit record retention", false),
    req("AU-12", "Audit record generation", false),
    req("AU-12(1)", "Audit record generation: system-wide and time-correlated audit trail", false),
    req("AU-12(3)", "Audit record generation: changes by authorized individuals", false),
    req("AU-12(4)", "Audit record generation: query parameter audits of personally identifiable information", false),
    req("CA-7", "Continuous monitoring", false),
    req("CA-9(1)", "Internal system connections: compliance checks", false),
    req("CM-2", "Baseline configuration", false),
    req("CM-2(2)", "Baseline configuration: automation support for accuracy and currency", false),
    req("CM-3", "Configuration change control", false),
    req("CM-3(6)", "Configuration change control: cryptography management", false),
    req("CM-6", "Configuration settings", false),
    req("CM-6(1)", "Configuration settings: automated management, application, and verification", false),
    req("CM-7", "Least functionality", false),
    req("CM-7(1)", "Least functionality: periodic review", false),
    req("CM-8", "System component inventory", false),
    req("CM-8(1)", "System component inventory: updates during installation and removal", false),
    req("CM-8(2)", "System component inventory: automated maintenance", false),
    req("CM-8(3)", "System component inventory: automated unauthorized component detection", false),
    req("CP-2(5)", "Contingency plan: continue mission and business functions", false),
    req("CP-6(2)", "Alternate storage site: recovery time and recovery point objectives", false),
    req("CP-9", "System backup", false),
    req("CP-10", "System recovery and reconstitution", false),
    req("IA-2", "Identification and authentication (organizational users)", false),
    req("IA-2(1)", "Identification and authentication: multi-factor authentication to privileged accounts", false),
    req("IA-2(2)", "Identification and authentication: multi-factor authentication to non-privileged accounts", false),
    req("IA-2(6)", "Identification and authentication: access to accounts, separate device", false),
    req("IA-2(8)", "Identification and authentication: access to accounts, replay resistant", false),
    req("IA-3", "Device identification and authentication", false),
    req("IA-4", "Identifier management", false),
    req("IA-5", "Authenticator management", false),
    req("IA-5(1)", "Authenticator management: password-based authentication", false),
    req("IA-5(8)", "Authenticator management: multiple system accounts", false),
    req("IR-4", "Incident handling", false),
    req("IR-4(1)", "Incident handling: automated incident handling processes", false),
    req("IR-6(1)", "Incident reporting: automated reporting", false),
    req("RA-3(4)", "Risk assessment: predictive cyber analytics", false),
    req("RA-5", "Vulnerability monitoring and scanning", false),
    req("RA-5(2)", "Vulnerability monitoring and scanning: update vulnerabilities to be scanned", false),
    req("SA-3", "System development life cycle", false),
    req("SA-8", "Security and privacy engineering principles", false),
    req("SA-8(22)", "Security and privacy engineering principles: accountability and traceability", false),
    req("SA-10", "Developer configuration management", false),
    req("SA-11(1)", "Developer testing and evaluation: static code analysis", false),
    req("SA-15(2)", "Development process, standards, and tools: security and privacy tracking tools", false),
    req("SC-5", "Denial-of-service protection", false),
    req("SC-5(2)", "Denial-of-service protection: capacity, bandwidth, and redundancy", false),
    req("SC-7", "Boundary protection", false),
    req("SC-7(3)", "Boundary protection: access points", false),
    req("SC-7(4)", "Boundary protection: external telecommunications services", false),
    req("SC-7(5)", "Boundary protection: deny by default, allow by exception", false),
    req("SC-7(9)", "Boundary protection: restrict threatening outgoing communications traffic", false),
    req("SC-7(11)", "Boundary protection: restrict incoming communications traffic", false),
    req("SC-7(16)", "Boundary protection: prevent discovery of system components", false),
    req("SC-7(20)", "Boundary protection: dynamic isolation and segregation", false),
    req("SC-7(21)", "Boundary protection: isolation of system components", false),
    req("SC-8", "Transmission confidentiality and integrity", false),
    req("SC-8(1)", "Transmission confidentiality and integrity: cryptographic protection", false),
    req("SC-8(2)", "Transmission confidentiality and integrity: pre- and post-transmission handling", false),
    req("SC-12", "Cryptographic key establishment and management", false),
    req("SC-12(2)", "Cryptographic key establishment and management: symmetric keys", false),
    req("SC-12(3)", "Cryptographic key establishment and management: asymmetric keys", false),
    req("SC-13", "Cryptographic protection", false),
    req("SC-17", "Public key infrastructure certificates", false),
    req("SC-23", "Session authenticity", false),
    req("SC-23(3)", "Session authenticity: unique system-generated session identifiers", false),
    req("SC-23(5)", "Session authenticity: allowed certificate authorities", false),
    req("SC-28", "Protection of information at rest", false),
    req("SC-28(1)", "Protection of information at rest: cryptographic protection", false),
    req("SC-36", "Distributed processing and storage", false),
    req("SC-45", "System time synchronization", false),
    req("SI-2", "Flaw remediation", false),
    req("SI-2(2)", "Flaw remediation: automated flaw remediation status", false),
    req("SI-2(5)", "Flaw remediation: automatic software and firmware updates", false),
    req("SI-3", "Malicious code protection", false),
    req("SI-3(8)", "Malicious code protection: detect unauthorized commands", false),
    req("SI-4", "System monitoring", false),
    req("SI-4(1)", "System monitoring: system-wide intrusion detection system", false),
    req("SI-4(2)", "System monitoring: automated tools and mechanisms for real-time analysis", false),
    req("SI-4(4)", "System monitoring: inbound and outbound communications traffic", false),
    req("SI-4(5)", "System monitoring: system-generated alerts", false),
    req("SI-4(12)", "System monitoring: automated organization-generated alerts", false),
    req("SI-4(20)", "System monitoring: privileged users", false),
    req("SI-4(25)", "System monitoring: optimize network traffic analysis", false),
    req("SI-5", "Security alerts, advisories, and directives", false),
    req("SI-7", "Software, firmware, and information integrity", false),
    req("SI-7(1)", "Software, firmware, and information integrity: integrity checks", false),
    req("SI-7(3)", "Software, firmware, and information integrity: centrally managed integrity tools", false),
    req("SI-7(7)", "Software, firmware, and information integrity: integration of detection and response", false),
    req("SI-7(8)", "Software, firmware, and information integrity: auditing capability for significant events", false),
    req("SI-12", "Information management and retention", false),
    req("SI-13(5)", "Predictable failure prevention: failover capability", false),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_framework_requirement_cited_by_a_check_exists_in_the_tables() {
        let mut unknown = Vec::new();
        for check in CHECKS {
            let metadata = check.metadata();
            for (framework_id, requirement) in metadata.frameworks {
                match FRAMEWORKS.iter().find(|framework| framework.id == *framework_id) {
                    None => unknown.push(format!("{}: unknown framework `{framework_id}`", metadata.id)),
                    Some(framework) if framework.requirement(requirement).is_none() => {
                        unknown.push(format!("{}: `{framework_id}` has no requirement `{requirement}`", metadata.id))
                    }
                    Some(_) => {}
                }
            }
        }
        assert!(unknown.is_empty(), "add the requirement to crates/checks/src/frameworks.rs (with its published title) or fix the id:\n{}", unknown.join("\n"));
    }

    #[test]
    fn requirement_ids_are_unique_within_each_framework() {
        for framework in FRAMEWORKS {
            let mut seen = HashSet::new();
            for requirement in framework.requirements {
                assert!(seen.insert(requirement.id), "{} lists {} twice", framework.id, requirement.id);
                assert!(!requirement.title.is_empty());
            }
        }
    }

    /// The lines of a source list in `crates/checks/data/`: (id, rest of the line), comments and
    /// blank lines skipped.
    fn source(text: &'static str) -> Vec<(&'static str, &'static str)> {
        text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).map(|line| line.split_once(' ').unwrap_or((line, ""))).collect()
    }

    const SECURITY_HUB_SOURCE: &str = include_str!("../data/securityhub-controls.txt");
    const CIS_SOURCE: &str = include_str!("../data/cis-aws-5.0.0.txt");
    const PCI_SOURCE: &str = include_str!("../data/pci-dss-4.0.txt");
    const NIST_SOURCE: &str = include_str!("../data/nist-800-53-r5.txt");
    const REVIEWED_CITATIONS: &str = include_str!("../data/reviewed-citations.txt");

    /// The standards Security Hub runs a control in, by control id. AWS spells a few ids with
    /// different case in different places (`AutoScaling.5`, `Autoscaling.5`), so ids compare
    /// without case.
    fn security_hub_standards(id: &str) -> Option<Vec<&'static str>> {
        source(SECURITY_HUB_SOURCE).into_iter().find(|(control, _)| control.eq_ignore_ascii_case(id)).map(|(_, standards)| standards.split(',').collect())
    }

    fn table(id: &str) -> &'static Framework {
        FRAMEWORKS.iter().find(|framework| framework.id == id).unwrap()
    }

    #[test]
    fn every_table_id_is_listed_by_its_source() {
        let mut wrong = Vec::new();
        for requirement in table("aws-fsbp").requirements {
            match security_hub_standards(requirement.id) {
                None => wrong.push(format!("aws-fsbp {}: not a Security Hub control", requirement.id)),
                Some(standards) if !standards.contains(&"fsbp") => {
                    wrong.push(format!("aws-fsbp {}: not in the FSBP standard (only {})", requirement.id, standards.join(", ")))
                }
                Some(_) => {}
            }
        }
        for requirement in table("aws-securityhub").requirements {
            match security_hub_standards(requirement.id) {
                None => wrong.push(format!("aws-securityhub {}: not a Security Hub control", requirement.id)),
                Some(standards) if standards.contains(&"fsbp") => {
                    wrong.push(format!("aws-securityhub {}: an FSBP control, list it in the aws-fsbp table", requirement.id))
                }
                Some(standards) if standards.iter().all(|standard| ["tagging", "retired"].contains(standard)) => {
                    wrong.push(format!("aws-securityhub {}: in no CIS, PCI DSS or NIST standard", requirement.id))
                }
                Some(_) => {}
            }
        }
        let cis = source(CIS_SOURCE);
        for requirement in table("cis-aws-5.0").requirements {
            match cis.iter().find(|(id, _)| *id == requirement.id) {
                None => wrong.push(format!("cis-aws-5.0 {}: not a recommendation of the benchmark", requirement.id)),
                Some((_, status)) if (*status == "manual") != requirement.manual => {
                    wrong.push(format!("cis-aws-5.0 {}: the benchmark marks it {status}", requirement.id))
                }
                Some(_) => {}
            }
        }
        for (framework, text) in [("pci-dss-4.0", PCI_SOURCE), ("nist-800-53-r5", NIST_SOURCE)] {
            let ids = source(text);
            for requirement in table(framework).requirements {
                if !ids.iter().any(|(id, _)| *id == requirement.id) {
                    wrong.push(format!("{framework} {}: not in crates/checks/data ({framework} source list)", requirement.id));
                }
            }
        }
        assert!(wrong.is_empty(), "framework tables hold ids their sources lack:\n{}", wrong.join("\n"));
    }

    #[test]
    fn cis_table_lists_every_recommendation_of_the_benchmark() {
        let cis = table("cis-aws-5.0");
        let missing: Vec<&str> = source(CIS_SOURCE).into_iter().map(|(id, _)| id).filter(|id| cis.requirement(id).is_none()).collect();
        assert!(missing.is_empty(), "CIS v5.0.0 recommendations missing from the table: {missing:?}");
        assert_eq!(cis.requirements.len(), 63);
    }

    /// The FSBP table lists every FSBP control of each service it covers, so coverage counts
    /// the controls vigil does not assess yet instead of hiding them.
    #[test]
    fn fsbp_table_lists_every_fsbp_control_of_the_services_it_covers() {
        let fsbp = table("aws-fsbp");
        let service = |id: &str| id.split('.').next().unwrap_or_default().to_ascii_lowercase();
        let services: HashSet<String> = fsbp.requirements.iter().map(|requirement| service(requirement.id)).collect();
        let missing: Vec<&str> = source(SECURITY_HUB_SOURCE)
            .into_iter()
            .filter(|(id, standards)| standards.split(',').any(|standard| standard == "fsbp") && services.contains(&service(id)))
            .map(|(id, _)| id)
            .filter(|id| !fsbp.requirements.iter().any(|requirement| requirement.id.eq_ignore_ascii_case(id)))
            .collect();
        assert!(missing.is_empty(), "FSBP controls of covered services missing from the aws-fsbp table: {missing:?}");
    }

    /// Every CIS and Security Hub citation of the catalog is one that was reviewed for meaning
    /// (same resource, same condition) and written down in `data/reviewed-citations.txt`; a new
    /// citation fails here until it is reviewed and added. The retired wrong citations stay
    /// rejected: CIS 1.10 (access keys at setup) for admin MFA, FSBP IAM.7 (a whole password
    /// policy, 8 characters by default) for the 14-character check.
    #[test]
    fn every_citation_is_a_reviewed_mapping() {
        let reviewed: HashSet<(&str, &str, &str)> = REVIEWED_CITATIONS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                Some((fields.next()?, fields.next()?, fields.next()?))
            })
            .collect();
        let reviewed_frameworks = ["cis-aws-5.0", "aws-fsbp", "aws-securityhub"];
        let mut cited = HashSet::new();
        for check in CHECKS {
            let metadata = check.metadata();
            for (framework, requirement) in metadata.frameworks {
                if reviewed_frameworks.contains(framework) {
                    cited.insert((metadata.id, *framework, *requirement));
                }
            }
        }
        let mut unreviewed: Vec<String> =
            cited.difference(&reviewed).map(|(check, framework, requirement)| format!("{check} {framework} {requirement}")).collect();
        let mut stale: Vec<String> = reviewed.difference(&cited).map(|(check, framework, requirement)| format!("{check} {framework} {requirement}")).collect();
        unreviewed.sort();
        stale.sort();
        assert!(
            unreviewed.is_empty() && stale.is_empty(),
            "citations not in crates/checks/data/reviewed-citations.txt (review their meaning, then add them):\n{}\nreviewed citations no check makes (remove them):\n{}",
            unreviewed.join("\n"),
            stale.join("\n")
        );
        for wrong in [("iam_admin_user_without_mfa", "cis-aws-5.0", "1.10"), ("iam_password_policy_minimum_length_14", "aws-fsbp", "IAM.7")] {
            assert!(!reviewed.contains(&wrong), "{wrong:?} was reviewed as a wrong meaning");
        }
    }

    #[test]
    fn framework_names_and_aliases_resolve() {
        for (name, expected) in [
            ("cis", "cis-aws-5.0"),
            ("CIS-AWS-5.0", "cis-aws-5.0"),
            ("fsbp", "aws-fsbp"),
            ("aws-fsbp", "aws-fsbp"),
            ("pci", "pci-dss-4.0"),
            ("pci-dss-4.0", "pci-dss-4.0"),
            ("nist", "nist-800-53-r5"),
            ("nist-800-53-r5", "nist-800-53-r5"),
            ("securityhub", "aws-securityhub"),
        ] {
            assert_eq!(find(name).map(|framework| framework.id), Some(expected), "{name}");
        }
        assert!(find("hipaa").is_none());
    }

    #[test]
    fn cis_v5_marks_manual_recommendations() {
        let cis = find("cis").unwrap();
        for (id, manual) in [("1.1", true), ("1.3", false), ("2.2.4", true), ("4.1", true), ("4.16", false), ("5.6", true), ("5.7", false)] {
            assert_eq!(cis.requirement(id).map(|requirement| requirement.manual), Some(manual), "{id}");
        }
    }

    fn finding(check_id: &str, status: Status) -> Finding {
        Finding {
            check_id: check_id.into(),
            check_title: Default::default(),
            service: Default::default(),
            severity: crate::Severity::High,
            status,
            account_id: Default::default(),
            region: Default::default(),
            resource_arn: Default::default(),
            resource_type: Default::default(),
            resource_id: Default::default(),
            resource_tags: Default::default(),
            message: Default::default(),
            evidence: Default::default(),
            mute_reason: None,
        }
    }

    #[test]
    fn summary_counts_findings_per_requirement_and_orders_fail_over_error_over_pass() {
        let cis = find("cis").unwrap();
        let findings = vec![
            finding("iam_root_mfa_enabled", Status::Pass),
            finding("iam_root_access_keys_absent", Status::Error),
            finding("iam_user_console_mfa", Status::Pass),
            finding("iam_user_console_mfa", Status::Fail),
            finding("iam_user_console_mfa", Status::Muted),
        ];
        let summary = summarize(cis, &findings);
        let row = |id: &str| summary.iter().find(|row| row.requirement == id).unwrap().clone();
        assert_eq!(row("1.4").status, RequirementStatus::Pass);
        assert_eq!(row("1.3").status, RequirementStatus::Error);
        let console = row("1.9");
        assert_eq!((console.pass, console.fail, console.muted, console.status), (1, 1, 1, RequirementStatus::Fail));
        assert_eq!(row("2.1.3").status, RequirementStatus::Manual);
        assert_eq!(row("1.7").status, RequirementStatus::NoResources);
        assert_eq!(summary.len(), cis.requirements.len());
    }
}
