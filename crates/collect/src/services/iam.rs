//! IAM: users, groups, roles and policies (GetAccountAuthorizationDetails), per-user
//! credentials, the credential report, account summary and password policy, MFA devices,
//! certificates, identity providers and aliases.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::types as sdk;
use futures::StreamExt;
use vigil_model::iam::*;
use vigil_model::{Region, Tags};

use super::{policy_document, time, time_opt};
use crate::GlobalPatch;
use crate::session::{Call, Session};

const GLOBAL: &str = Region::GLOBAL;

fn tags(list: Option<Vec<sdk::Tag>>) -> Tags {
    list.unwrap_or_default().into_iter().map(|tag| (tag.key, tag.value)).collect()
}

fn attached(list: Option<Vec<sdk::AttachedPolicy>>) -> Vec<AttachedPolicy> {
    list.unwrap_or_default()
        .into_iter()
        .map(|policy| AttachedPolicy { policy_name: policy.policy_name, policy_arn: policy.policy_arn.unwrap_or_default() })
        .collect()
}

fn inline(list: Option<Vec<sdk::PolicyDetail>>) -> Vec<InlinePolicy> {
    list.unwrap_or_default()
        .into_iter()
        .map(|policy| InlinePolicy {
            policy_name: policy.policy_name.unwrap_or_default(),
            policy_document: policy.policy_document.as_deref().map(policy_document).unwrap_or_default(),
        })
        .collect()
}

fn boundary(boundary: Option<sdk::AttachedPermissionsBoundary>) -> Option<AttachedPolicy> {
    boundary.and_then(|boundary| boundary.permissions_boundary_arn).map(|policy_arn| AttachedPolicy { policy_name: None, policy_arn })
}

pub async fn collect(session: Arc<Session>, home_region: String) -> GlobalPatch {
    let client = crate::sdk_client!(aws_sdk_iam, session, &home_region);
    let session = session.as_ref();
    // The principals are read concurrently with the account-level settings (neither needs the
    // other's answers), and each user's credentials as soon as the page naming the user came.
    let principals = async {
        let (found, users) = futures::channel::mpsc::unbounded();
        let credentials = users.map(|user| user_credentials(session, &client, user)).buffer_unordered(session.fan_out()).collect::<Vec<User>>();
        let (mut iam, users) = tokio::join!(authorization_details(session, &client, found), credentials);
        iam.users = users;
        iam
    };
    let (
        mut iam,
        credential_report,
        account_summary,
        password_policy,
        virtual_mfa_devices,
        server_certificates,
        saml_providers,
        open_id_connect_providers,
        account_aliases,
    ) = tokio::join!(
        principals,
        credential_report(session, &client),
        account_summary(session, &client),
        password_policy(session, &client),
        virtual_mfa_devices(session, &client),
        server_certificates(session, &client),
        saml_providers(session, &client),
        open_id_connect_providers(session, &client),
        account_aliases(session, &client),
    );
    iam.users.sort_by(|a, b| a.user_name.cmp(&b.user_name));
    for user in &mut iam.users {
        user.password_last_used = credential_report.iter().find(|row| row.arn == user.arn).and_then(|row| row.password_last_used);
    }
    iam.credential_report = credential_report;
    iam.account_summary = account_summary;
    iam.password_policy = password_policy;
    iam.virtual_mfa_devices = virtual_mfa_devices;
    iam.server_certificates = server_certificates;
    iam.saml_providers = saml_providers;
    iam.open_id_connect_providers = open_id_connect_providers;
    iam.account_aliases = account_aliases;
    Box::new(move |inventory| inventory.iam = iam)
}

/// Reads the principals and policies; each user is also sent to `found` as its page arrives.
async fn authorization_details(session: &Session, client: &Client, found: futures::channel::mpsc::UnboundedSender<User>) -> Iam {
    let mut iam = Iam::default();
    // Each policy with its versions' documents as read, parsed once the unused AWS managed
    // policies are dropped (below): most of the reply's bytes are documents nobody here uses.
    let mut policies: Vec<(ManagedPolicy, Vec<Option<String>>)> = Vec::new();
    let call = Call::new("iam", GLOBAL, "GetAccountAuthorizationDetails");
    let request = client
        .get_account_authorization_details()
        .filter(sdk::EntityType::User)
        .filter(sdk::EntityType::Group)
        .filter(sdk::EntityType::Role)
        .filter(sdk::EntityType::LocalManagedPolicy)
        .filter(sdk::EntityType::AwsManagedPolicy);
    crate::for_each_page!(session, call, request.into_paginator().send(), |page| {
        let users = iam.users.len();
        iam.users.extend(page.user_detail_list.unwrap_or_default().into_iter().map(|user| User {
            user_name: user.user_name.unwrap_or_default(),
            user_id: user.user_id.unwrap_or_default(),
            arn: user.arn.unwrap_or_default(),
            path: user.path.unwrap_or_default(),
            create_date: time_opt(user.create_date.as_ref()),
            group_list: user.group_list.unwrap_or_default(),
            attached_managed_policies: attached(user.attached_managed_policies),
            user_policy_list: inline(user.user_policy_list),
            permissions_boundary: boundary(user.permissions_boundary),
            tags: tags(user.tags),
            ..User::default()
        }));
        for user in &iam.users[users..] {
            // The receiver lives as long as the paging (both are joined in `collect`).
            let _ = found.unbounded_send(user.clone());
        }
        iam.groups.extend(page.group_detail_list.unwrap_or_default().into_iter().map(|group| Group {
            group_name: group.group_name.unwrap_or_default(),
            group_id: group.group_id.unwrap_or_default(),
            arn: group.arn.unwrap_or_default(),
            path: group.path.unwrap_or_default(),
            create_date: time_opt(group.create_date.as_ref()),
            attached_managed_policies: attached(group.attached_managed_policies),
            group_policy_list: inline(group.group_policy_list),
        }));
        iam.roles.extend(page.role_detail_list.unwrap_or_default().into_iter().map(|role| {
            Role {
                role_name: role.role_name.unwrap_or_default(),
                role_id: role.role_id.unwrap_or_default(),
                arn: role.arn.unwrap_or_default(),
                path: role.path.unwrap_or_default(),
                create_date: time_opt(role.create_date.as_ref()),
                description: None,
                max_session_duration: None,
                assume_role_policy_document: role.assume_role_policy_document.as_deref().map(policy_document),
                attached_managed_policies: attached(role.attached_managed_policies),
                role_policy_list: inline(role.role_policy_list),
                permissions_boundary: boundary(role.permissions_boundary),
                instance_profile_list: role
                    .instance_profile_list
                    .unwrap_or_default()
                    .into_iter()
                    .map(|profile| InstanceProfile {
                        instance_profile_name: profile.instance_profile_name,
                        instance_profile_id: profile.instance_profile_id,
                        arn: profile.arn,
                    })
                    .collect(),
                role_last_used: role
                    .role_last_used
                    .map(|last_used| RoleLastUsed { last_used_date: time_opt(last_used.last_used_date.as_ref()), region: last_used.region }),
                tags: tags(role.tags),
            }
        }));
        policies.extend(page.policies.unwrap_or_default().into_iter().map(|policy| {
            let mut texts = Vec::new();
            let policy = ManagedPolicy {
                policy_name: policy.policy_name.unwrap_or_default(),
                policy_id: policy.policy_id.unwrap_or_default(),
                arn: policy.arn.unwrap_or_default(),
                path: policy.path.unwrap_or_default(),
                default_version_id: policy.default_version_id,
                attachment_count: policy.attachment_count,
                permissions_boundary_usage_count: policy.permissions_boundary_usage_count,
                is_attachable: policy.is_attachable,
                description: policy.description,
                create_date: time_opt(policy.create_date.as_ref()),
                update_date: time_opt(policy.update_date.as_ref()),
                policy_version_list: policy
                    .policy_version_list
                    .unwrap_or_default()
                    .into_iter()
                    .map(|version| {
                        texts.push(version.document);
                        PolicyVersion {
                            version_id: version.version_id.unwrap_or_default(),
                            is_default_version: version.is_default_version,
                            create_date: time_opt(version.create_date.as_ref()),
                            document: serde_json::Value::Null,
                        }
                    })
                    .collect(),
            };
            (policy, texts)
        }));
    });
    // AWS managed policies nobody here uses say nothing about this account. Whether one is used
    // is read from the principals themselves (any page may hold them), not only from the
    // policy's attachment count, which some endpoints leave at zero.
    let used: std::collections::HashSet<String> = iam
        .users
        .iter()
        .flat_map(|user| user.attached_managed_policies.iter().chain(user.permissions_boundary.iter()))
        .chain(iam.groups.iter().flat_map(|group| group.attached_managed_policies.iter()))
        .chain(iam.roles.iter().flat_map(|role| role.attached_managed_policies.iter().chain(role.permissions_boundary.iter())))
        .map(|policy| policy.policy_arn.clone())
        .collect();
    iam.policies = policies
        .into_iter()
        .filter(|(policy, _)| {
            !policy.is_aws_managed()
                || used.contains(&policy.arn)
                || policy.attachment_count.unwrap_or(0) > 0
                || policy.permissions_boundary_usage_count.unwrap_or(0) > 0
        })
        .map(|(mut policy, texts)| {
            for (version, document) in policy.policy_version_list.iter_mut().zip(texts) {
                version.document = document.as_deref().map(policy_document).unwrap_or_default();
            }
            policy
        })
        .collect();
    iam
}

async fn user_credentials(session: &Session, client: &Client, mut user: User) -> User {
    let name = user.user_name.clone();
    let name = name.as_str();
    let (access_keys, mfa_devices, login_profile, ssh_public_keys, signing_certificates) = tokio::join!(
        async {
            let mut keys = Vec::new();
            let call = Call::new("iam", GLOBAL, "ListAccessKeys").on(name);
            crate::for_each_page!(session, call, client.list_access_keys().user_name(name).into_paginator().send(), |page| {
                keys.extend(page.access_key_metadata.into_iter().map(|key| AccessKey {
                    access_key_id: key.access_key_id.unwrap_or_default(),
                    status: key.status.map(|status| status.as_str().to_string()).unwrap_or_default(),
                    create_date: time_opt(key.create_date.as_ref()),
                    last_used: None,
                }));
            });
            // Each key's last use at once (a user has at most two keys).
            let last_used = futures::future::join_all(keys.iter().map(|key| async move {
                let call = Call::new("iam", GLOBAL, "GetAccessKeyLastUsed").on(&key.access_key_id);
                crate::call!(session, call, client.get_access_key_last_used().access_key_id(&key.access_key_id).send())
                    .and_then(|output| output.access_key_last_used)
                    .map(|last_used| AccessKeyLastUsed {
                        last_used_date: time_opt(last_used.last_used_date.as_ref()),
                        service_name: Some(last_used.service_name).filter(|name| name != "N/A"),
                        region: Some(last_used.region).filter(|region| region != "N/A"),
                    })
            }))
            .await;
            for (key, last_used) in keys.iter_mut().zip(last_used) {
                key.last_used = last_used;
            }
            keys
        },
        async {
            let mut devices = Vec::new();
            let call = Call::new("iam", GLOBAL, "ListMFADevices").on(name);
            crate::for_each_page!(session, call, client.list_mfa_devices().user_name(name).into_paginator().send(), |page| {
                devices.extend(
                    page.mfa_devices.into_iter().map(|device| MfaDevice { serial_number: device.serial_number, enable_date: time(&device.enable_date) }),
                );
            });
            devices
        },
        async {
            let call = Call::new("iam", GLOBAL, "GetLoginProfile").on(name);
            crate::call!(session, call, client.get_login_profile().user_name(name).send())
                .and_then(|output| output.login_profile)
                .map(|profile| LoginProfile { create_date: time(&profile.create_date), password_reset_required: profile.password_reset_required })
        },
        async {
            let mut keys = Vec::new();
            let call = Call::new("iam", GLOBAL, "ListSSHPublicKeys").on(name);
            crate::for_each_page!(session, call, client.list_ssh_public_keys().user_name(name).into_paginator().send(), |page| {
                keys.extend(page.ssh_public_keys.unwrap_or_default().into_iter().map(|key| SshPublicKey {
                    ssh_public_key_id: key.ssh_public_key_id,
                    status: key.status.as_str().to_string(),
                    upload_date: time(&key.upload_date),
                }));
            });
            keys
        },
        async {
            let mut certificates = Vec::new();
            let call = Call::new("iam", GLOBAL, "ListSigningCertificates").on(name);
            crate::for_each_page!(session, call, client.list_signing_certificates().user_name(name).into_paginator().send(), |page| {
                certificates.extend(page.certificates.into_iter().map(|certificate| SigningCertificate {
                    certificate_id: certificate.certificate_id,
                    status: certificate.status.as_str().to_string(),
                    upload_date: time_opt(certificate.upload_date.as_ref()),
                    expiration: None,
                }));
            });
            certificates
        },
    );
    user.access_keys = access_keys;
    user.mfa_devices = mfa_devices;
    user.login_profile = login_profile;
    user.ssh_public_keys = ssh_public_keys;
    user.signing_certificates = signing_certificates;
    user
}

async fn credential_report(session: &Session, client: &Client) -> Vec<CredentialReportRow> {
    // Generating the report is the one non-read call collection makes; AWS needs a few
    // seconds the first time, so poll until it is complete.
    for attempt in 0..20 {
        let call = Call::new("iam", GLOBAL, "GenerateCredentialReport");
        let Some(output) = crate::call!(session, call, client.generate_credential_report().send()) else {
            break;
        };
        if output.state.as_ref().is_some_and(|state| state.as_str() == "COMPLETE") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250 * (attempt + 1).min(8))).await;
    }
    let call = Call::new("iam", GLOBAL, "GetCredentialReport");
    match crate::call!(session, call, client.get_credential_report().send()).and_then(|output| output.content) {
        Some(content) => parse_credential_report(&String::from_utf8_lossy(content.as_ref())),
        None => Vec::new(),
    }
}

fn report_time(value: &str) -> Option<vigil_model::Timestamp> {
    chrono::DateTime::parse_from_rfc3339(value).ok().map(|time| time.with_timezone(&chrono::Utc))
}

/// Parses the credential report CSV by column name, so new columns do not break it.
pub fn parse_credential_report(csv: &str) -> Vec<CredentialReportRow> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else { return Vec::new() };
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let values: Vec<&str> = line.split(',').collect();
            let field = |name: &str| columns.iter().position(|column| *column == name).and_then(|index| values.get(index)).copied().unwrap_or("");
            let flag = |name: &str| field(name).eq_ignore_ascii_case("true");
            let date = |name: &str| report_time(field(name));
            CredentialReportRow {
                user: field("user").to_string(),
                arn: field("arn").to_string(),
                user_creation_time: date("user_creation_time"),
                password_enabled: flag("password_enabled"),
                password_last_used: date("password_last_used"),
                password_last_changed: date("password_last_changed"),
                password_next_rotation: date("password_next_rotation"),
                mfa_active: flag("mfa_active"),
                access_key_1_active: flag("access_key_1_active"),
                access_key_1_last_rotated: date("access_key_1_last_rotated"),
                access_key_1_last_used_date: date("access_key_1_last_used_date"),
                access_key_2_active: flag("access_key_2_active"),
                access_key_2_last_rotated: date("access_key_2_last_rotated"),
                access_key_2_last_used_date: date("access_key_2_last_used_date"),
                cert_1_active: flag("cert_1_active"),
                cert_2_active: flag("cert_2_active"),
            }
        })
        .collect()
}

async fn account_summary(session: &Session, client: &Client) -> std::collections::BTreeMap<String, i64> {
    let call = Call::new("iam", GLOBAL, "GetAccountSummary");
    crate::call!(session, call, client.get_account_summary().send())
        .and_then(|output| output.summary_map)
        .map(|map| map.into_iter().map(|(key, value)| (key.as_str().to_string(), i64::from(value))).collect())
        .unwrap_or_default()
}

async fn password_policy(session: &Session, client: &Client) -> Option<PasswordPolicy> {
    let call = Call::new("iam", GLOBAL, "GetAccountPasswordPolicy");
    crate::call!(session, call, client.get_account_password_policy().send()).and_then(|output| output.password_policy).map(|policy| PasswordPolicy {
        minimum_password_length: policy.minimum_password_length,
        require_symbols: policy.require_symbols,
        require_numbers: policy.require_numbers,
        require_uppercase_characters: policy.require_uppercase_characters,
        require_lowercase_characters: policy.require_lowercase_characters,
        allow_users_to_change_password: policy.allow_users_to_change_password,
        expire_passwords: policy.expire_passwords,
        max_password_age: policy.max_password_age,
        password_reuse_prevention: policy.password_reuse_prevention,
        hard_expiry: policy.hard_expiry,
    })
}

async fn virtual_mfa_devices(session: &Session, client: &Client) -> Vec<VirtualMfaDevice> {
    let mut devices = Vec::new();
    let call = Call::new("iam", GLOBAL, "ListVirtualMFADevices");
    crate::for_each_page!(session, call, client.list_virtual_mfa_devices().into_paginator().send(), |page| {
        devices.extend(page.virtual_mfa_devices.into_iter().map(|device| VirtualMfaDevice {
            serial_number: device.serial_number,
            user_arn: device.user.map(|user| user.arn),
            enable_date: time_opt(device.enable_date.as_ref()),
        }));
    });
    devices
}

async fn server_certificates(session: &Session, client: &Client) -> Vec<ServerCertificate> {
    let mut certificates = Vec::new();
    let call = Call::new("iam", GLOBAL, "ListServerCertificates");
    crate::for_each_page!(session, call, client.list_server_certificates().into_paginator().send(), |page| {
        certificates.extend(page.server_certificate_metadata_list.into_iter().map(|certificate| ServerCertificate {
            server_certificate_name: certificate.server_certificate_name,
            server_certificate_id: certificate.server_certificate_id,
            arn: certificate.arn,
            path: certificate.path,
            upload_date: time_opt(certificate.upload_date.as_ref()),
            expiration: time_opt(certificate.expiration.as_ref()),
        }));
    });
    certificates
}

async fn saml_providers(session: &Session, client: &Client) -> Vec<SamlProvider> {
    let call = Call::new("iam", GLOBAL, "ListSAMLProviders");
    crate::call!(session, call, client.list_saml_providers().send())
        .map(|output| output.saml_provider_list.unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .map(|provider| SamlProvider {
            arn: provider.arn.unwrap_or_default(),
            valid_until: time_opt(provider.valid_until.as_ref()),
            create_date: time_opt(provider.create_date.as_ref()),
        })
        .collect()
}

async fn open_id_connect_providers(session: &Session, client: &Client) -> Vec<OpenIdConnectProvider> {
    let call = Call::new("iam", GLOBAL, "ListOpenIDConnectProviders");
    let arns: Vec<String> = crate::call!(session, call, client.list_open_id_connect_providers().send())
        .map(|output| output.open_id_connect_provider_list.unwrap_or_default().into_iter().filter_map(|provider| provider.arn).collect())
        .unwrap_or_default();
    // Every provider at once.
    futures::future::join_all(arns.into_iter().map(|arn| async move {
        let call = Call::new("iam", GLOBAL, "GetOpenIDConnectProvider").on(&arn);
        let details = crate::call!(session, call, client.get_open_id_connect_provider().open_id_connect_provider_arn(&arn).send());
        OpenIdConnectProvider {
            url: details.as_ref().and_then(|details| details.url.clone()),
            client_id_list: details.as_ref().and_then(|details| details.client_id_list.clone()).unwrap_or_default(),
            thumbprint_list: details.and_then(|details| details.thumbprint_list).unwrap_or_default(),
            arn,
        }
    }))
    .await
}

async fn account_aliases(session: &Session, client: &Client) -> Vec<String> {
    let mut aliases = Vec::new();
    let call = Call::new("iam", GLOBAL, "ListAccountAliases");
    crate::for_each_page!(session, call, client.list_account_aliases().into_paginator().send(), |page| {
        aliases.extend(page.account_aliases);
    });
    aliases
}

#[cfg(test)]
mod tests {
    use super::parse_credential_report;

    #[test]
    fn credential_report_rows_parse_by_column_name() {
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,mfa_active,access_key_1_active,access_key_1_last_rotated\n\
                   <root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2024-05-01T10:00:00+00:00,false,true,N/A\n\
                   alice,arn:aws:iam::123456789012:user/alice,2021-01-01T00:00:00+00:00,true,no_information,true,false,N/A\n";
        let rows = parse_credential_report(csv);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_root());
        assert!(rows[0].access_key_1_active);
        assert!(rows[0].password_last_used.is_some());
        assert!(!rows[0].mfa_active);
        assert_eq!(rows[1].user, "alice");
        assert!(rows[1].password_enabled && rows[1].mfa_active);
        assert_eq!(rows[1].password_last_used, None);
        assert_eq!(rows[1].access_key_1_last_rotated, None);
    }

    #[test]
    fn an_empty_or_headerless_report_has_no_rows() {
        assert!(parse_credential_report("").is_empty());
        assert!(parse_credential_report("user,arn\n").is_empty());
    }
}
