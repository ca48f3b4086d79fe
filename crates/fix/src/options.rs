//! The choices a user makes for the fixes that need one (`vigil fix` options).

/// Choices a fixer needs from the user.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Security group fixes replace the internet-wide source of a flagged rule with this CIDR
    /// instead of only revoking it.
    pub narrow_to: Option<String>,
    /// Where new VPC flow logs go: an S3 bucket ARN or a CloudWatch Logs log group ARN.
    pub flow_log_destination: Option<String>,
    /// The role VPC Flow Logs assumes to write to CloudWatch Logs.
    pub flow_log_role: Option<String>,
}
