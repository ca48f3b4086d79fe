//! IAM, STS and Organizations data, shaped like GetAccountAuthorizationDetails and friends.
//!
//! Policy documents are stored decoded (IAM returns them URL-encoded) as JSON values, exactly
//! as written by their authors; `vigil-iam` parses them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Tags, Timestamp};

/// Everything IAM in the account (IAM is global).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Iam {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub roles: Vec<Role>,
    /// Customer managed policies, and the AWS managed policies attached to something.
    pub policies: Vec<ManagedPolicy>,
    /// GenerateCredentialReport + GetCredentialReport, one row per user (and `<root_account>`).
    pub credential_report: Vec<CredentialReportRow>,
    /// GetAccountSummary's SummaryMap (e.g. `AccountMFAEnabled`, `AccountAccessKeysPresent`).
    pub account_summary: BTreeMap<String, i64>,
    /// GetAccountPasswordPolicy; `None` with a `NoSuchEntity` ledger entry means no policy.
    pub password_policy: Option<PasswordPolicy>,
    pub virtual_mfa_devices: Vec<VirtualMfaDevice>,
    pub server_certificates: Vec<ServerCertificate>,
    pub saml_providers: Vec<SamlProvider>,
    pub open_id_connect_providers: Vec<OpenIdConnectProvider>,
    pub account_aliases: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct User {
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    pub path: String,
    pub create_date: Option<Timestamp>,
    pub password_last_used: Option<Timestamp>,
    pub group_list: Vec<String>,
    pub attached_managed_policies: Vec<AttachedPolicy>,
    pub user_policy_list: Vec<InlinePolicy>,
    pub permissions_boundary: Option<AttachedPolicy>,
    /// GetLoginProfile: present when the user has a console password.
    pub login_profile: Option<LoginProfile>,
    /// ListMFADevices.
    pub mfa_devices: Vec<MfaDevice>,
    /// ListAccessKeys + GetAccessKeyLastUsed.
    pub access_keys: Vec<AccessKey>,
    /// ListSSHPublicKeys.
    pub ssh_public_keys: Vec<SshPublicKey>,
    /// ListSigningCertificates.
    pub signing_certificates: Vec<SigningCertificate>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Group {
    pub group_name: String,
    pub group_id: String,
    pub arn: String,
    pub path: String,
    pub create_date: Option<Timestamp>,
    pub attached_managed_policies: Vec<AttachedPolicy>,
    pub group_policy_list: Vec<InlinePolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Role {
    pub role_name: String,
    pub role_id: String,
    pub arn: String,
    pub path: String,
    pub create_date: Option<Timestamp>,
    pub description: Option<String>,
    pub max_session_duration: Option<i32>,
    /// The trust policy.
    pub assume_role_policy_document: Option<serde_json::Value>,
    pub attached_managed_policies: Vec<AttachedPolicy>,
    pub role_policy_list: Vec<InlinePolicy>,
    pub permissions_boundary: Option<AttachedPolicy>,
    pub instance_profile_list: Vec<InstanceProfile>,
    pub role_last_used: Option<RoleLastUsed>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RoleLastUsed {
    pub last_used_date: Option<Timestamp>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceProfile {
    pub instance_profile_name: String,
    pub instance_profile_id: String,
    pub arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AttachedPolicy {
    pub policy_name: Option<String>,
    pub policy_arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: serde_json::Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ManagedPolicy {
    pub policy_name: String,
    pub policy_id: String,
    pub arn: String,
    pub path: String,
    pub default_version_id: Option<String>,
    pub attachment_count: Option<i32>,
    pub permissions_boundary_usage_count: Option<i32>,
    pub is_attachable: bool,
    pub description: Option<String>,
    pub create_date: Option<Timestamp>,
    pub update_date: Option<Timestamp>,
    pub policy_version_list: Vec<PolicyVersion>,
}

impl ManagedPolicy {
    /// True for policies AWS owns (`arn:aws:iam::aws:policy/...`).
    pub fn is_aws_managed(&self) -> bool {
        self.arn.contains(":iam::aws:policy/")
    }

    /// The document of the default version.
    pub fn default_document(&self) -> Option<&serde_json::Value> {
        self.policy_version_list.iter().find(|version| version.is_default_version).map(|version| &version.document)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PolicyVersion {
    pub version_id: String,
    pub is_default_version: bool,
    pub create_date: Option<Timestamp>,
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoginProfile {
    pub create_date: Option<Timestamp>,
    pub password_reset_required: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MfaDevice {
    pub serial_number: String,
    pub enable_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AccessKey {
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub create_date: Option<Timestamp>,
    pub last_used: Option<AccessKeyLastUsed>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AccessKeyLastUsed {
    pub last_used_date: Option<Timestamp>,
    pub service_name: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SshPublicKey {
    pub ssh_public_key_id: String,
    pub status: String,
    pub upload_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SigningCertificate {
    pub certificate_id: String,
    pub status: String,
    pub upload_date: Option<Timestamp>,
    /// Parsed from the certificate body's notAfter, when it could be parsed.
    pub expiration: Option<Timestamp>,
}

/// One row of the credential report. Dates that AWS reports as `N/A`, `no_information` or
/// `not_supported` are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CredentialReportRow {
    pub user: String,
    pub arn: String,
    pub user_creation_time: Option<Timestamp>,
    pub password_enabled: bool,
    pub password_last_used: Option<Timestamp>,
    pub password_last_changed: Option<Timestamp>,
    pub password_next_rotation: Option<Timestamp>,
    pub mfa_active: bool,
    pub access_key_1_active: bool,
    pub access_key_1_last_rotated: Option<Timestamp>,
    pub access_key_1_last_used_date: Option<Timestamp>,
    pub access_key_2_active: bool,
    pub access_key_2_last_rotated: Option<Timestamp>,
    pub access_key_2_last_used_date: Option<Timestamp>,
    pub cert_1_active: bool,
    pub cert_2_active: bool,
}

impl CredentialReportRow {
    pub fn is_root(&self) -> bool {
        self.user == "<root_account>"
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PasswordPolicy {
    pub minimum_password_length: Option<i32>,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    pub expire_passwords: bool,
    pub max_password_age: Option<i32>,
    pub password_reuse_prevention: Option<i32>,
    pub hard_expiry: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VirtualMfaDevice {
    pub serial_number: String,
    /// The ARN of the user the device is assigned to (`arn:aws:iam::ACCOUNT:root` for root).
    pub user_arn: Option<String>,
    pub enable_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServerCertificate {
    pub server_certificate_name: String,
    pub server_certificate_id: String,
    pub arn: String,
    pub path: String,
    pub upload_date: Option<Timestamp>,
    pub expiration: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SamlProvider {
    pub arn: String,
    pub valid_until: Option<Timestamp>,
    pub create_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OpenIdConnectProvider {
    pub arn: String,
    pub url: Option<String>,
    pub client_id_list: Vec<String>,
    pub thumbprint_list: Vec<String>,
}
