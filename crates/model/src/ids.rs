//! Newtypes for the identifiers every resource carries: ARNs, account ids and regions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A twelve-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = ArnError;
    fn try_from(value: String) -> Result<Self, ArnError> {
        if value.len() == 12 && value.bytes().all(|byte| byte.is_ascii_digit()) { Ok(AccountId(value)) } else { Err(ArnError::AccountId(value)) }
    }
}

impl FromStr for AccountId {
    type Err = ArnError;
    fn from_str(value: &str) -> Result<Self, ArnError> {
        AccountId::try_from(value.to_string())
    }
}

impl From<AccountId> for String {
    fn from(value: AccountId) -> String {
        value.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// An AWS region name such as `eu-west-1`. Global services are recorded under [`Region::GLOBAL`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    /// The pseudo-region under which global services (IAM, Organizations, S3's bucket list) are recorded.
    pub const GLOBAL: &'static str = "global";

    pub fn new(name: impl Into<String>) -> Region {
        Region(name.into())
    }

    pub fn global() -> Region {
        Region(Self::GLOBAL.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl From<&str> for Region {
    fn from(value: &str) -> Region {
        Region(value.to_string())
    }
}

/// An Amazon Resource Name, kept as the exact string AWS returned plus parsed parts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Arn(String);

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("`{0}` is not an ARN: expected `arn:partition:service:region:account:resource`")]
    Malformed(String),
    #[error("`{0}` is not an AWS account id: expected twelve digits")]
    AccountId(String),
}

impl Arn {
    /// Builds an ARN from its parts; used for resources whose API shape carries no ARN.
    pub fn build(partition: &str, service: &str, region: &str, account: &str, resource: &str) -> Arn {
        Arn(format!("arn:{partition}:{service}:{region}:{account}:{resource}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn parts(&self) -> ArnParts<'_> {
        // The constructor guarantees six colon-separated parts.
        let mut split = self.0.splitn(6, ':');
        let _arn = split.next();
        ArnParts {
            partition: split.next().unwrap_or_default(),
            service: split.next().unwrap_or_default(),
            region: split.next().unwrap_or_default(),
            account: split.next().unwrap_or_default(),
            resource: split.next().unwrap_or_default(),
        }
    }
}

impl TryFrom<String> for Arn {
    type Error = ArnError;
    fn try_from(value: String) -> Result<Self, ArnError> {
        if value.starts_with("arn:") && value.splitn(6, ':').count() == 6 { Ok(Arn(value)) } else { Err(ArnError::Malformed(value)) }
    }
}

impl FromStr for Arn {
    type Err = ArnError;
    fn from_str(value: &str) -> Result<Self, ArnError> {
        Arn::try_from(value.to_string())
    }
}

impl From<Arn> for String {
    fn from(value: Arn) -> String {
        value.0
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts_keep_colons_in_the_resource() {
        let arn: Arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/x:*".parse().unwrap();
        let parts = arn.parts();
        assert_eq!(parts.service, "logs");
        assert_eq!(parts.account, "123456789012");
        assert_eq!(parts.resource, "log-group:/aws/x:*");
    }

    #[test]
    fn malformed_arns_and_account_ids_are_rejected() {
        for bad in ["", "arn:aws:s3", "urn:aws:s3:::b:c", "arn:aws"] {
            assert!(bad.parse::<Arn>().is_err(), "{bad}");
        }
        for bad in ["", "12345678901", "1234567890123", "12345678901a"] {
            assert!(bad.parse::<AccountId>().is_err(), "{bad}");
        }
        assert!("123456789012".parse::<AccountId>().is_ok());
    }
}
