//! The fixers: for each check that can be fixed, the kind of configuration it changes, where
//! (the targets of a failing finding) and to what (the desired value). An explicit list.

use serde_json::{Value, json};
use vigil_checks::Finding;
use vigil_model::ec2::{IpPermission, IpRange, Ipv6Range, NetworkAclEntry, PortRange, SecurityGroup};
use vigil_model::iam::{AccessKey, PasswordPolicy};
use vigil_model::s3::{AccessControlPolicy, Grant};
use vigil_model::{Inventory, Region};

use crate::kinds::{Kind, data, ec2, iam, logging, policies, s3};
use crate::options::Options;
use crate::probe::Probe;
use crate::support::{flag, parse, regional, statements, to_value, with_statements};
use crate::{FixError, Target};

/// What a fixer's `desired` sees.
pub struct Desire<'a> {
    pub inventory: &'a Inventory,
    pub finding: &'a Finding,
    pub target: &'a Target,
    /// The slice's current value.
    pub state: &'a Value,
    pub options: &'a Options,
    /// The check's parameters (the cloud-aware policy) for this inventory.
    pub context: &'a vigil_checks::Context<'a>,
    pub(crate) probe: Probe<'a>,
}

/// How one check's failing findings are fixed.
pub struct Fixer {
    pub check_id: &'static str,
    pub kind: &'static Kind,
    /// What the fix does, in one sentence.
    pub summary: &'static str,
    /// Where the change goes, best first (the plan takes the first whose change resolves the
    /// finding).
    pub targets: fn(&Finding, &Inventory) -> Vec<Target>,
    /// The slice's value after the fix.
    pub desired: fn(&Desire<'_>) -> Result<Value, FixError>,
}

impl std::fmt::Debug for Fixer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Fixer").field("check_id", &self.check_id).field("kind", &self.kind.id).finish()
    }
}

/// The finding's own resource as the target.
fn the_resource(kind: &'static Kind) -> impl Fn(&Finding) -> Target {
    move |finding| Target {
        kind: kind.id.to_string(),
        account_id: finding.account_id.to_string(),
        region: finding.region.to_string(),
        id: finding.resource_id.to_string(),
        arn: finding.resource_arn.to_string(),
    }
}

macro_rules! resource_fixer {
    ($name:ident, $check:literal, $kind:expr, $summary:literal, $desired:expr) => {
        pub static $name: Fixer =
            Fixer { check_id: $check, kind: &$kind, summary: $summary, targets: |finding, _| vec![the_resource(&$kind)(finding)], desired: $desired };
    };
}

// ---- EC2 and VPC ----

resource_fixer!(
    SECURITY_GROUP_ADMIN_PORTS,
    "ec2_security_group_admin_ports_open_to_world",
    ec2::SECURITY_GROUP_RULES,
    "Revokes the inbound rules that open SSH or RDP to the internet (or narrows them to --narrow-to CIDR).",
    revoke_flagged_ingress
);
resource_fixer!(
    SECURITY_GROUP_ALL_TRAFFIC,
    "ec2_security_group_no_all_traffic_from_world",
    ec2::SECURITY_GROUP_RULES,
    "Revokes the inbound rules that allow all traffic from the internet (or narrows them to --narrow-to CIDR).",
    revoke_flagged_ingress
);
resource_fixer!(
    SECURITY_GROUP_HIGH_RISK_PORTS,
    "ec2_security_group_high_risk_ports_not_open_to_world",
    ec2::SECURITY_GROUP_RULES,
    "Revokes the inbound rules that open database, file sharing or admin console ports to the internet (or narrows them to --narrow-to CIDR).",
    revoke_flagged_ingress
);
resource_fixer!(
    SECURITY_GROUP_UNAUTHORIZED_PORTS,
    "ec2_security_group_only_authorized_ports_open_to_world",
    ec2::SECURITY_GROUP_RULES,
    "Revokes the inbound rules that open ports other than the authorized ones to the internet (or narrows them to --narrow-to CIDR).",
    revoke_flagged_ingress
);
resource_fixer!(
    DEFAULT_SECURITY_GROUP,
    "ec2_default_security_group_restricts_all",
    ec2::SECURITY_GROUP_RULES,
    "Revokes every inbound and outbound rule of a VPC's default security group.",
    |_| Ok(json!({ "IpPermissions": [], "IpPermissionsEgress": [] }))
);
resource_fixer!(
    EBS_SNAPSHOT_PUBLIC,
    "ec2_ebs_snapshot_not_public",
    ec2::SNAPSHOT_PERMISSIONS,
    "Removes the public create-volume permission of the snapshot (sharing with named accounts stays).",
    |desire| {
        let permissions: Vec<vigil_model::ec2::CreateVolumePermission> =
            parse(desire.state.get("CreateVolumePermissions").unwrap_or(&json!([])), "CreateVolumePermissions")?;
        let place = |inventory: &mut Inventory, parts: &[vigil_model::ec2::CreateVolumePermission]| {
            if let Ok(snapshot) = regional(desire.inventory, &desire.target.region).and_then(|regional| {
                regional.ec2.snapshots.iter().find(|snapshot| snapshot.snapshot_id == desire.target.id).cloned().ok_or(FixError::NotFound(String::new()))
            }) && let Some(regional) = inventory.regional.get_mut(&Region::new(desire.target.region.as_str()))
            {
                regional.ec2.snapshots = vec![vigil_model::ec2::Snapshot { create_volume_permissions: parts.to_vec(), ..snapshot }];
            }
        };
        let flagged = flagged(desire, &permissions, "create-volume permissions", place)?;
        let kept: Vec<_> = permissions.into_iter().enumerate().filter(|(index, _)| !flagged.contains(index)).map(|(_, permission)| permission).collect();
        Ok(json!({ "CreateVolumePermissions": kept }))
    }
);
pub static EBS_ENCRYPTION_BY_DEFAULT: Fixer = Fixer {
    check_id: "ec2_ebs_encryption_by_default",
    kind: &ec2::EBS_ENCRYPTION_DEFAULT,
    summary: "Turns on EBS encryption by default in the region (new volumes only; existing volumes are unchanged).",
    targets: |finding, _| vec![account_target(&ec2::EBS_ENCRYPTION_DEFAULT, finding)],
    desired: |_| Ok(json!({ "EbsEncryptionByDefault": true })),
};
resource_fixer!(
    INSTANCE_IMDSV2,
    "ec2_instance_imdsv2_required",
    ec2::INSTANCE_METADATA,
    "Requires IMDSv2 session tokens on the instance (applications that still use IMDSv1 lose instance metadata and role credentials).",
    |desire| set_field(desire.state, "HttpTokens", json!("required"))
);
resource_fixer!(
    LAUNCH_TEMPLATE_IMDSV2,
    "ec2_launch_template_imdsv2_required",
    ec2::LAUNCH_TEMPLATE_METADATA,
    "Makes a new default version of the launch template that requires IMDSv2 session tokens (a copy of the default version with HttpTokens required; running instances are unchanged).",
    |desire| {
        // The next version number: see `ec2::LAUNCH_TEMPLATE_METADATA` for why it is predicted.
        let latest = desire
            .state
            .get("LatestVersionNumber")
            .and_then(Value::as_i64)
            .ok_or_else(|| FixError::Malformed { what: format!("launch template `{}`", desire.target.id), reason: "no LatestVersionNumber".to_string() })?;
        let options = set_field(desire.state.get("MetadataOptions").unwrap_or(&json!({})), "HttpTokens", json!("required"))?;
        let state = set_field(desire.state, "MetadataOptions", options)?;
        let state = set_field(&state, "LatestVersionNumber", json!(latest + 1))?;
        set_field(&state, "DefaultVersionNumber", json!(latest + 1))
    }
);
resource_fixer!(
    SUBNET_AUTO_PUBLIC_IP,
    "vpc_subnet_no_auto_assign_public_ip",
    ec2::SUBNET_PUBLIC_IP,
    "Stops the subnet from giving new instances a public IPv4 address (running instances keep theirs).",
    |_| Ok(json!({ "MapPublicIpOnLaunch": false }))
);
resource_fixer!(
    NETWORK_ACL_ADMIN_PORTS,
    "ec2_network_acl_admin_ports_not_open_to_world",
    ec2::NETWORK_ACL_ENTRIES,
    "Adds deny entries for SSH and RDP from the internet ahead of the allow entries that admit them.",
    deny_admin_ports_in_acl
);
resource_fixer!(
    VPC_FLOW_LOGS,
    "vpc_flow_logs_enabled",
    ec2::VPC_FLOW_LOGS,
    "Creates a flow log of all traffic for the VPC, delivered to --flow-log-destination.",
    |desire| {
        let destination = desire.options.flow_log_destination.as_deref().ok_or_else(|| {
            FixError::Declined(
                "a flow log needs a destination: pass --flow-log-destination with an S3 bucket ARN (or a log group ARN and --flow-log-role)".to_string(),
            )
        })?;
        let mut log = if destination.starts_with("arn:") && destination.contains(":logs:") {
            let role = desire
                .options
                .flow_log_role
                .as_deref()
                .ok_or_else(|| FixError::Declined("a flow log to CloudWatch Logs needs --flow-log-role (a role VPC Flow Logs may assume)".to_string()))?;
            json!({ "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs", "LogDestination": destination, "DeliverLogsPermissionArn": role })
        } else {
            json!({ "TrafficType": "ALL", "LogDestinationType": "s3", "LogDestination": destination })
        };
        if let Some(map) = log.as_object_mut() {
            map.retain(|_, value| !value.is_null());
        }
        let mut logs = desire.state.get("FlowLogs").and_then(Value::as_array).cloned().unwrap_or_default();
        logs.push(log);
        Ok(json!({ "FlowLogs": logs }))
    }
);

/// The account itself (in the finding's region, for per-region settings).
fn account_target(kind: &'static Kind, finding: &Finding) -> Target {
    Target {
        kind: kind.id.to_string(),
        account_id: finding.account_id.to_string(),
        region: finding.region.to_string(),
        id: finding.account_id.to_string(),
        arn: finding.resource_arn.to_string(),
    }
}

fn revoke_flagged_ingress(desire: &Desire<'_>) -> Result<Value, FixError> {
    let ingress = ec2::atoms(&parse::<Vec<IpPermission>>(desire.state.get("IpPermissions").unwrap_or(&json!([])), "IpPermissions")?);
    let group = regional(desire.inventory, &desire.target.region)?
        .ec2
        .security_groups
        .iter()
        .find(|group| group.group_id == desire.target.id)
        .cloned()
        .ok_or_else(|| FixError::NotFound(format!("security group `{}`", desire.target.id)))?;
    let place = |inventory: &mut Inventory, parts: &[IpPermission]| {
        if let Some(regional) = inventory.regional.get_mut(&Region::new(desire.target.region.as_str())) {
            regional.ec2.security_groups = vec![SecurityGroup { ip_permissions: parts.to_vec(), ip_permissions_egress: Vec::new(), ..group.clone() }];
        }
    };
    let flagged = flagged(desire, &ingress, "inbound rules", place)?;
    let mut kept: Vec<IpPermission> = ingress.iter().enumerate().filter(|(index, _)| !flagged.contains(index)).map(|(_, atom)| atom.clone()).collect();
    if let Some(cidr) = &desire.options.narrow_to {
        let v6 = cidr.contains(':');
        for index in &flagged {
            let Some(atom) = ingress.get(*index) else { continue };
            let narrowed = if v6 && !atom.ipv6_ranges.is_empty() {
                let description = atom.ipv6_ranges.first().and_then(|range| range.description.clone());
                Some(IpPermission { ipv6_ranges: vec![Ipv6Range { cidr_ipv6: cidr.clone(), description }], ..atom.clone() })
            } else if !v6 && !atom.ip_ranges.is_empty() {
                let description = atom.ip_ranges.first().and_then(|range| range.description.clone());
                Some(IpPermission { ip_ranges: vec![IpRange { cidr_ip: cidr.clone(), description }], ..atom.clone() })
            } else {
                None
            };
            if let Some(narrowed) = narrowed.filter(|narrowed| !kept.contains(narrowed)) {
                kept.push(narrowed);
            }
        }
    }
    Ok(
        json!({ "IpPermissions": to_value(&ec2::group_atoms(&kept)), "IpPermissionsEgress": desire.state.get("IpPermissionsEgress").cloned().unwrap_or(json!([])) }),
    )
}

fn deny_admin_ports_in_acl(desire: &Desire<'_>) -> Result<Value, FixError> {
    let mut entries = ec2::acl_entries(desire.state)?;
    let open = desire.finding.evidence.to_value().get("OpenAdminEntries").and_then(Value::as_array).cloned().unwrap_or_default();
    if open.is_empty() {
        return Err(FixError::Declined("the finding names no entry admitting SSH or RDP".to_string()));
    }
    for item in open {
        let (Some(port), Some(source), Some(allow_number)) =
            (item.get("Port").and_then(Value::as_i64), item.get("Source").and_then(Value::as_str), item.get("RuleNumber").and_then(Value::as_i64))
        else {
            continue;
        };
        let used: Vec<i32> = entries.iter().filter(|entry| !entry.egress).map(|entry| entry.rule_number).collect();
        let number =
            (1..allow_number).rev().map(|number| number as i32).find(|number| !used.contains(number)).ok_or_else(|| {
                FixError::Declined(format!("network ACL `{}` has no free rule number below {allow_number} for a deny entry", desire.target.id))
            })?;
        let port = port as i32;
        let v6 = source.contains(':');
        entries.push(NetworkAclEntry {
            rule_number: number,
            protocol: "6".to_string(),
            rule_action: "deny".to_string(),
            egress: false,
            cidr_block: (!v6).then(|| source.to_string()),
            ipv6_cidr_block: v6.then(|| source.to_string()),
            icmp_type_code: None,
            port_range: Some(PortRange { from: Some(port), to: Some(port) }),
        });
    }
    Ok(json!({ "Entries": to_value(&entries) }))
}

// ---- S3 ----

resource_fixer!(
    BUCKET_PUBLIC_ACCESS_BLOCK,
    "s3_bucket_public_access_block_enabled",
    s3::BUCKET_PUBLIC_ACCESS_BLOCK,
    "Turns on all four Block Public Access settings of the bucket.",
    |_| Ok(s3::all_blocked())
);
pub static ACCOUNT_PUBLIC_ACCESS_BLOCK: Fixer = Fixer {
    check_id: "s3_account_public_access_block",
    kind: &s3::ACCOUNT_PUBLIC_ACCESS_BLOCK,
    summary: "Turns on all four Block Public Access settings for the account (every bucket, present and future).",
    targets: |finding, _| vec![Target { region: Region::GLOBAL.to_string(), ..account_target(&s3::ACCOUNT_PUBLIC_ACCESS_BLOCK, finding) }],
    desired: |_| Ok(s3::all_blocked()),
};
resource_fixer!(
    BUCKET_NOT_PUBLIC,
    "s3_bucket_not_public",
    s3::BUCKET_ACCESS,
    "Removes the ACL grants and bucket policy statements that make the bucket public.",
    |desire| {
        let grants = s3::grants(desire.state)?;
        let policy = desire.state.get("Policy").filter(|policy| !policy.is_null()).cloned();
        let policy_statements = policy.as_ref().map(statements).unwrap_or_default();
        let bucket = s3::bucket(desire.inventory, &desire.target.id)?.clone();
        let owner = desire.state.get("Owner").and_then(Value::as_str).map(str::to_string);
        // Parts: every grant, then every statement.
        let parts: Vec<Result<Grant, Value>> = grants.iter().cloned().map(Ok).chain(policy_statements.iter().cloned().map(Err)).collect();
        let place = |inventory: &mut Inventory, chosen: &[Result<Grant, Value>]| {
            let mut probe_bucket = bucket.clone();
            probe_bucket.acl =
                Some(AccessControlPolicy { owner_id: owner.clone(), grants: chosen.iter().filter_map(|part| part.as_ref().ok().cloned()).collect() });
            let chosen_statements: Vec<Value> = chosen.iter().filter_map(|part| part.as_ref().err().cloned()).collect();
            probe_bucket.policy = policy.as_ref().and_then(|policy| with_statements(policy, chosen_statements));
            inventory.s3.buckets = vec![probe_bucket];
        };
        let flagged = flagged(desire, &parts, "grants and policy statements", place)?;
        let kept_grants: Vec<Grant> = grants.iter().enumerate().filter(|(index, _)| !flagged.contains(index)).map(|(_, grant)| grant.clone()).collect();
        let kept_statements: Vec<Value> = policy_statements
            .iter()
            .enumerate()
            .filter(|(index, _)| !flagged.contains(&(index + grants.len())))
            .map(|(_, statement)| statement.clone())
            .collect();
        let new_policy = policy.as_ref().and_then(|policy| with_statements(policy, kept_statements));
        Ok(json!({ "Owner": owner, "Grants": to_value(&kept_grants), "Policy": new_policy }))
    }
);
resource_fixer!(
    BUCKET_SECURE_TRANSPORT,
    "s3_bucket_secure_transport_required",
    s3::BUCKET_ACCESS,
    "Adds a statement to the bucket policy that denies every request not sent over TLS.",
    |desire| {
        let arn = format!("arn:{}:s3:::{}", desire.inventory.partition(), desire.target.id);
        let deny = json!({
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, format!("{arn}/*")],
            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
        });
        let mut new_state = desire.state.clone();
        let policy = desire.state.get("Policy").filter(|policy| !policy.is_null()).cloned().unwrap_or(json!({ "Version": "2012-10-17" }));
        let mut list = statements(&policy);
        list.push(deny);
        if let Some(map) = new_state.as_object_mut() {
            map.insert("Policy".to_string(), with_statements(&policy, list).unwrap_or(Value::Null));
        }
        Ok(new_state)
    }
);
resource_fixer!(
    BUCKET_CROSS_ACCOUNT_CONTROL,
    "s3_bucket_policy_restricts_cross_account_control",
    s3::BUCKET_ACCESS,
    "Removes the bucket policy statements that let other accounts change the bucket's access control or encryption.",
    |desire| {
        let bucket = s3::bucket(desire.inventory, &desire.target.id)?.clone();
        let policy =
            desire.state.get("Policy").filter(|policy| !policy.is_null()).cloned().ok_or_else(|| FixError::Declined("the bucket has no policy".to_string()))?;
        let list = statements(&policy);
        let place = |inventory: &mut Inventory, chosen: &[Value]| {
            inventory.s3.buckets = vec![vigil_model::s3::Bucket { policy: with_statements(&policy, chosen.to_vec()), ..bucket.clone() }];
        };
        let flagged = flagged(desire, &list, "policy statements", place)?;
        let kept: Vec<Value> = list.iter().enumerate().filter(|(index, _)| !flagged.contains(index)).map(|(_, statement)| statement.clone()).collect();
        let mut new_state = desire.state.clone();
        if let Some(map) = new_state.as_object_mut() {
            map.insert("Policy".to_string(), with_statements(&policy, kept).unwrap_or(Value::Null));
        }
        Ok(new_state)
    }
);
resource_fixer!(
    BUCKET_DEFAULT_ENCRYPTION,
    "s3_bucket_default_encryption_enabled",
    s3::BUCKET_ENCRYPTION,
    "Sets default encryption of new objects to SSE-S3 (AES-256).",
    |_| Ok(json!({ "Rules": [{ "SseAlgorithm": "AES256" }] }))
);
resource_fixer!(
    BUCKET_ACLS_DISABLED,
    "s3_bucket_acls_disabled",
    s3::BUCKET_OWNERSHIP,
    "Sets object ownership to BucketOwnerEnforced, which turns ACLs off.",
    |desire| {
        let bucket = s3::bucket(desire.inventory, &desire.target.id)?;
        let owner = bucket.acl.as_ref().and_then(|acl| acl.owner_id.clone());
        let foreign = bucket.acl.iter().flat_map(|acl| acl.grants.iter()).any(|grant| grant.grantee_id.is_none() || grant.grantee_id != owner);
        if foreign {
            return Err(FixError::Declined(format!(
                "bucket `{}` grants access through its ACL to others than its owner; S3 refuses to disable ACLs until those grants are removed",
                desire.target.id
            )));
        }
        Ok(json!({ "ObjectOwnership": "BucketOwnerEnforced" }))
    }
);

// ---- IAM ----

/// A password policy fixer: the current policy (or AWS's defaults) with one setting raised.
macro_rules! password_fixer {
    ($name:ident, $check:literal, $summary:literal, |$policy:ident, $context:ident, $subject:ident| $change:block) => {
        pub static $name: Fixer = Fixer {
            check_id: $check,
            kind: &iam::PASSWORD_POLICY,
            summary: $summary,
            targets: |finding, _| vec![Target { region: Region::GLOBAL.to_string(), ..account_target(&iam::PASSWORD_POLICY, finding) }],
            desired: |desire| {
                let mut $policy: PasswordPolicy = match desire.state.get("PasswordPolicy") {
                    Some(value) if !value.is_null() => parse(value, "PasswordPolicy")?,
                    _ => PasswordPolicy { minimum_password_length: Some(6), allow_users_to_change_password: true, ..PasswordPolicy::default() },
                };
                let $context = desire.context;
                let $subject = desire.context.account_subject();
                $change
                Ok(json!({ "PasswordPolicy": iam::canonical(&$policy) }))
            },
        };
    };
}

password_fixer!(
    PASSWORD_MINIMUM_LENGTH,
    "iam_password_policy_minimum_length_14",
    "Raises the password policy's minimum length to 14.",
    |policy, _context, _subject| {
        policy.minimum_password_length = Some(policy.minimum_password_length.unwrap_or(0).max(14));
    }
);
password_fixer!(
    PASSWORD_REUSE,
    "iam_password_policy_reuse_prevention_24",
    "Makes the password policy remember the last 24 passwords (or the policy's minimum).",
    |policy, context, subject| {
        let minimum = i32::try_from(context.number(&subject, "min_password_reuse_prevention", 24).clamp(1, 24)).unwrap_or(24);
        policy.password_reuse_prevention = Some(policy.password_reuse_prevention.unwrap_or(0).max(minimum));
    }
);
password_fixer!(PASSWORD_UPPERCASE, "iam_password_policy_uppercase", "Makes the password policy require an uppercase letter.", |policy, _context, _subject| {
    policy.require_uppercase_characters = true;
});
password_fixer!(PASSWORD_LOWERCASE, "iam_password_policy_lowercase", "Makes the password policy require a lowercase letter.", |policy, _context, _subject| {
    policy.require_lowercase_characters = true;
});
password_fixer!(PASSWORD_SYMBOL, "iam_password_policy_symbol", "Makes the password policy require a symbol.", |policy, _context, _subject| {
    policy.require_symbols = true;
});
password_fixer!(PASSWORD_NUMBER, "iam_password_policy_number", "Makes the password policy require a number.", |policy, _context, _subject| {
    policy.require_numbers = true;
});
password_fixer!(
    PASSWORD_EXPIRY,
    "iam_password_policy_expires_passwords_within_90_days",
    "Makes passwords expire after 90 days (or the policy's maximum age).",
    |policy, context, subject| {
        let maximum = i32::try_from(context.number(&subject, "max_password_age_days", 90).clamp(1, 1095)).unwrap_or(90);
        policy.max_password_age = Some(policy.max_password_age.filter(|age| *age > 0).unwrap_or(maximum).min(maximum));
    }
);
resource_fixer!(
    UNUSED_CREDENTIALS,
    "iam_user_credentials_unused_45_days",
    iam::ACCESS_KEYS,
    "Deactivates (never deletes) the user's access keys that have gone unused; a console password is left for a person to remove.",
    deactivate_flagged_keys
);
resource_fixer!(
    UNUSED_KEY_WITH_CONSOLE,
    "iam_user_no_unused_access_key_with_console_access",
    iam::ACCESS_KEYS,
    "Deactivates (never deletes) the console user's access keys that were never used.",
    deactivate_flagged_keys
);

fn deactivate_flagged_keys(desire: &Desire<'_>) -> Result<Value, FixError> {
    let user = desire
        .inventory
        .iam
        .users
        .iter()
        .find(|user| user.user_name == desire.target.id)
        .cloned()
        .ok_or_else(|| FixError::NotFound(format!("user `{}`", desire.target.id)))?;
    let active: Vec<AccessKey> = user.access_keys.iter().filter(|key| key.status == "Active").cloned().collect();
    let place = |inventory: &mut Inventory, keys: &[AccessKey]| {
        inventory.iam.users = vec![vigil_model::iam::User { access_keys: keys.to_vec(), ..user.clone() }];
        inventory.iam.credential_report = desire.inventory.iam.credential_report.iter().filter(|row| row.user == user.user_name).cloned().collect();
    };
    let flagged = flagged(desire, &active, "active access keys (vigil never removes a console password)", place)?;
    let flagged_ids: Vec<&str> = flagged.iter().filter_map(|index| active.get(*index)).map(|key| key.access_key_id.as_str()).collect();
    let keys: Vec<Value> = iam::statuses(desire.state)
        .into_iter()
        .map(|(id, status)| json!({ "AccessKeyId": id, "Status": if flagged_ids.contains(&id.as_str()) { "Inactive".to_string() } else { status } }))
        .collect();
    Ok(json!({ "AccessKeys": keys }))
}

// ---- Logging and detection ----

pub static TRAIL_MULTI_REGION: Fixer = Fixer {
    check_id: "cloudtrail_multi_region_enabled",
    kind: &logging::TRAIL_SETTINGS,
    summary: "Extends an existing logging trail to every region, with global service events (no new trail or bucket is created).",
    targets: |finding, inventory| {
        let mut trails: Vec<(&Region, &vigil_model::monitoring::Trail)> = inventory.trails().collect();
        // Logging trails first, then by name.
        trails.sort_by_key(|(_, trail)| (!trail.status.as_ref().is_some_and(|status| status.is_logging), trail.name.clone()));
        trails
            .into_iter()
            .map(|(region, trail)| Target {
                kind: logging::TRAIL_SETTINGS.id.to_string(),
                account_id: finding.account_id.to_string(),
                region: region.to_string(),
                id: trail.name.clone(),
                arn: trail.trail_arn.clone(),
            })
            .collect()
    },
    desired: |desire| {
        let mut state = desire.state.clone();
        if let Some(map) = state.as_object_mut() {
            map.insert("IsMultiRegionTrail".to_string(), json!(true));
            map.insert("IncludeGlobalServiceEvents".to_string(), json!(true));
        }
        Ok(state)
    },
};
resource_fixer!(
    TRAIL_LOG_FILE_VALIDATION,
    "cloudtrail_log_file_validation_enabled",
    logging::TRAIL_SETTINGS,
    "Turns on log file validation (digest files) for the trail.",
    |desire| {
        let mut state = desire.state.clone();
        if let Some(map) = state.as_object_mut() {
            map.insert("LogFileValidationEnabled".to_string(), json!(true));
        }
        Ok(state)
    }
);
resource_fixer!(KMS_KEY_ROTATION, "kms_key_rotation_enabled", logging::KEY_ROTATION, "Turns on automatic yearly rotation of the key.", |_| Ok(
    json!({ "KeyRotationEnabled": true })
));
resource_fixer!(KMS_KEY_POLICY_PUBLIC, "kms_key_policy_not_public", logging::KEY_POLICY, "Removes the key policy statements that allow everyone.", |desire| {
    let key = regional(desire.inventory, &desire.target.region)?
        .kms_keys
        .iter()
        .find(|key| key.key_id == desire.target.id)
        .cloned()
        .ok_or_else(|| FixError::NotFound(format!("KMS key `{}`", desire.target.id)))?;
    public_statements_removed(desire, "Policy", |inventory, policy| {
        if let Some(regional) = inventory.regional.get_mut(&Region::new(desire.target.region.as_str())) {
            regional.kms_keys = vec![vigil_model::monitoring::KmsKey { policy, ..key.clone() }];
        }
    })
    .and_then(|state| {
        if state.get("Policy").is_none_or(Value::is_null) {
            Err(FixError::Declined(format!("every statement of key `{}`'s policy is public; vigil will not leave a key without a policy", desire.target.id)))
        } else {
            Ok(state)
        }
    })
});
resource_fixer!(
    LOG_GROUP_RETENTION,
    "logs_log_group_retention_at_least_365_days",
    logging::LOG_GROUP_RETENTION,
    "Keeps the log group's events for 365 days (or the policy's minimum), the smallest retention CloudWatch Logs offers at or above it.",
    |desire| {
        let subject = desire.context.new_subject(&desire.target.arn, "AWS::Logs::LogGroup", &desire.target.id, &desire.target.region, None);
        let minimum = desire.context.number(&subject, "min_log_retention_days", 365);
        const ALLOWED: &[i64] = &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
        let days = ALLOWED
            .iter()
            .copied()
            .find(|days| *days >= minimum)
            .ok_or_else(|| FixError::Declined(format!("no retention of at least {minimum} days exists")))?;
        Ok(json!({ "RetentionInDays": days }))
    }
);
pub static GUARDDUTY_ENABLED: Fixer = Fixer {
    check_id: "guardduty_enabled",
    kind: &logging::GUARDDUTY_DETECTORS,
    summary: "Enables the region's GuardDuty detector, creating one when there is none (GuardDuty is billed by volume).",
    targets: |finding, _| vec![account_target(&logging::GUARDDUTY_DETECTORS, finding)],
    desired: |desire| {
        let mut detectors = desire.state.get("Detectors").and_then(Value::as_array).cloned().unwrap_or_default();
        match detectors.first_mut() {
            Some(detector) => {
                if let Some(map) = detector.as_object_mut() {
                    map.insert("Status".to_string(), json!("ENABLED"));
                }
            }
            None => detectors.push(json!({ "Status": "ENABLED" })),
        }
        Ok(json!({ "Detectors": detectors }))
    },
};
pub static SECURITYHUB_ENABLED: Fixer = Fixer {
    check_id: "securityhub_enabled",
    kind: &logging::SECURITY_HUB,
    summary: "Enables Security Hub in the region, without its default standards (Security Hub is billed by checks and findings).",
    targets: |finding, _| vec![account_target(&logging::SECURITY_HUB, finding)],
    desired: |_| Ok(json!({ "HubEnabled": true })),
};

// ---- Databases ----

macro_rules! db_instance_fixer {
    ($name:ident, $check:literal, $summary:literal, $field:literal, $value:expr) => {
        resource_fixer!($name, $check, data::DB_INSTANCE_SETTINGS, $summary, |desire| {
            let mut state = desire.state.clone();
            if let Some(map) = state.as_object_mut() {
                map.insert($field.to_string(), json!($value));
            }
            Ok(state)
        });
    };
}

db_instance_fixer!(
    RDS_NOT_PUBLIC,
    "rds_instance_not_publicly_accessible",
    "Makes the DB instance not publicly accessible (its endpoint resolves to a private address; clients outside the VPC lose access).",
    "PubliclyAccessible",
    false
);
db_instance_fixer!(
    RDS_DELETION_PROTECTION,
    "rds_instance_deletion_protection",
    "Turns on deletion protection for the DB instance.",
    "DeletionProtection",
    true
);
db_instance_fixer!(
    RDS_MINOR_VERSION_UPGRADE,
    "rds_instance_minor_version_upgrade",
    "Lets RDS apply minor engine versions in the maintenance window.",
    "AutoMinorVersionUpgrade",
    true
);
db_instance_fixer!(RDS_COPY_TAGS, "rds_instance_copy_tags_to_snapshot", "Makes the DB instance copy its tags to its snapshots.", "CopyTagsToSnapshot", true);
resource_fixer!(
    RDS_SNAPSHOT_PUBLIC,
    "rds_snapshot_not_public",
    data::DB_SNAPSHOT_SHARING,
    "Stops sharing the DB snapshot publicly (sharing with named accounts stays).",
    |desire| {
        let accounts: Vec<String> =
            desire.state.get("RestoreAccountIds").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
        let snapshot = regional(desire.inventory, &desire.target.region)?
            .db_snapshots
            .iter()
            .find(|snapshot| snapshot.db_snapshot_identifier == desire.target.id)
            .cloned()
            .ok_or_else(|| FixError::NotFound(format!("DB snapshot `{}`", desire.target.id)))?;
        let place = |inventory: &mut Inventory, chosen: &[String]| {
            if let Some(regional) = inventory.regional.get_mut(&Region::new(desire.target.region.as_str())) {
                regional.db_snapshots = vec![vigil_model::rds::DbSnapshot { restore_account_ids: chosen.to_vec(), ..snapshot.clone() }];
            }
        };
        let flagged = flagged(desire, &accounts, "restore permissions", place)?;
        let kept: Vec<&String> = accounts.iter().enumerate().filter(|(index, _)| !flagged.contains(index)).map(|(_, account)| account).collect();
        Ok(json!({ "IsClusterSnapshot": flag(desire.state, "IsClusterSnapshot").unwrap_or(false), "RestoreAccountIds": kept }))
    }
);
resource_fixer!(
    DYNAMODB_DELETION_PROTECTION,
    "dynamodb_table_deletion_protection",
    data::DYNAMODB_TABLE_SETTINGS,
    "Turns on deletion protection for the table.",
    |desire| set_field(desire.state, "DeletionProtectionEnabled", json!(true))
);
resource_fixer!(
    DYNAMODB_PITR,
    "dynamodb_table_pitr_enabled",
    data::DYNAMODB_TABLE_SETTINGS,
    "Turns on point-in-time recovery for the table (billed by table size).",
    |desire| set_field(desire.state, "PointInTimeRecoveryEnabled", json!(true))
);

fn set_field(state: &Value, field: &str, value: Value) -> Result<Value, FixError> {
    let mut state = state.clone();
    if let Some(map) = state.as_object_mut() {
        map.insert(field.to_string(), value);
    }
    Ok(state)
}

// ---- Resource policies ----

resource_fixer!(
    SQS_POLICY_PUBLIC,
    "sqs_queue_policy_not_public",
    policies::QUEUE_ATTRIBUTES,
    "Removes the queue policy statements that allow everyone.",
    |desire| {
        let queue = regional(desire.inventory, &desire.target.region)?
            .sqs_queues
            .iter()
            .find(|queue| queue.queue_arn == desire.target.arn)
            .cloned()
            .ok_or_else(|| FixError::NotFound(format!("queue `{}`", desire.target.id)))?;
        public_statements_removed(desire, "Policy", |inventory, policy| {
            if let Some(regional) = inventory.regional.get_mut(&Region::new(desire.target.region.as_str())) {
                regional.sqs_queues = vec![vigil_model::messaging::Queue { policy, ..queue.clone() }];
            }
        })
    }
);
resource_fixer!(
    SQS_ENCRYPTED,
    "sqs_queue_encrypted_at_rest",
    policies::QUEUE_ATTRIBUTES,
    "Turns on SQS-managed server-side encryption (SSE-SQS) for the queue.",
    |desire| set_field(desire.state, "SqsManagedSseEnabled", json!(true))
);
resource_fixer!(
    SQS_HTTPS_ONLY,
    "sqs_queue_https_only",
    policies::QUEUE_ATTRIBUTES,
    "Adds a statement to the queue policy that denies every request not sent over TLS.",
    |desire| add_deny_insecure_transport(desire, "Policy", "sqs:*")
);
resource_fixer!(
    SNS_POLICY_PUBLIC,
    "sns_topic_policy_not_public",
    policies::TOPIC_ATTRIBUTES,
    "Removes the topic policy statements that allow everyone (a topic left without statements gets SNS's owner-only default policy).",
    |desire| {
        let topic = regional(desire.inventory, &desire.target.region)?
            .sns_topics
            .iter()
            .find(|topic| topic.topic_arn == desire.target.arn)
            .cloned()
            .ok_or_else(|| FixError::NotFound(format!("topic `{}`", desire.target.arn)))?;
        let mut state = public_statements_removed(desire, "Policy", |inventory, policy| {
            if let Some(regional) = inventory.regional.get_mut(&Region::new(desire.target.region.as_str())) {
                regional.sns_topics = vec![vigil_model::monitoring::Topic { policy, ..topic.clone() }];
            }
        })?;
        if state.get("Policy").is_none_or(Value::is_null)
            && let Some(map) = state.as_object_mut()
        {
            map.insert("Policy".to_string(), policies::default_topic_policy(&desire.target.arn, &desire.target.account_id));
        }
        Ok(state)
    }
);
resource_fixer!(
    SNS_ENCRYPTED,
    "sns_topic_encrypted_at_rest",
    policies::TOPIC_ATTRIBUTES,
    "Encrypts the topic's messages at rest with the AWS managed key alias/aws/sns.",
    |desire| set_field(desire.state, "KmsMasterKeyId", json!("alias/aws/sns"))
);
resource_fixer!(
    SECRET_POLICY_PUBLIC,
    "secretsmanager_policy_not_public",
    policies::SECRET_POLICY,
    "Removes the secret's resource policy statements that allow everyone.",
    |desire| {
        let secret = regional(desire.inventory, &desire.target.region)?
            .secrets
            .iter()
            .find(|secret| secret.arn == desire.target.arn)
            .cloned()
            .ok_or_else(|| FixError::NotFound(format!("secret `{}`", desire.target.id)))?;
        public_statements_removed(desire, "ResourcePolicy", |inventory, policy| {
            if let Some(regional) = inventory.regional.get_mut(&Region::new(desire.target.region.as_str())) {
                regional.secrets = vec![vigil_model::security::Secret { policy, ..secret.clone() }];
            }
        })
    }
);
resource_fixer!(
    ECR_POLICY_PUBLIC,
    "ecr_repository_policy_not_public",
    policies::REPOSITORY_SETTINGS,
    "Removes the repository policy statements that allow everyone.",
    |desire| {
        let repository = regional(desire.inventory, &desire.target.region)?
            .ecr_repositories
            .iter()
            .find(|repository| repository.repository_name == desire.target.id)
            .cloned()
            .ok_or_else(|| FixError::NotFound(format!("repository `{}`", desire.target.id)))?;
        public_statements_removed(desire, "Policy", |inventory, policy| {
            if let Some(regional) = inventory.regional.get_mut(&Region::new(desire.target.region.as_str())) {
                regional.ecr_repositories = vec![vigil_model::security::Repository { policy, ..repository.clone() }];
            }
        })
    }
);
resource_fixer!(
    ECR_SCAN_ON_PUSH,
    "ecr_repository_scan_on_push",
    policies::REPOSITORY_SETTINGS,
    "Turns on image scanning on push for the repository.",
    |desire| set_field(desire.state, "ScanOnPush", json!(true))
);
resource_fixer!(
    ECR_TAG_IMMUTABLE,
    "ecr_repository_tag_immutable",
    policies::REPOSITORY_SETTINGS,
    "Makes the repository's image tags immutable (pushing an existing tag again fails).",
    |desire| set_field(desire.state, "ImageTagMutability", json!("IMMUTABLE"))
);

/// The state with the policy in `field` keeping only the statements the check does not
/// flag; `place` puts the resource with a given policy into a probe inventory.
fn public_statements_removed(desire: &Desire<'_>, field: &str, place: impl Fn(&mut Inventory, Option<Value>)) -> Result<Value, FixError> {
    let policy =
        desire.state.get(field).filter(|policy| !policy.is_null()).cloned().ok_or_else(|| FixError::Declined("the resource has no policy".to_string()))?;
    let list = statements(&policy);
    let flagged = flagged(desire, &list, "policy statements", |inventory, chosen: &[Value]| place(inventory, with_statements(&policy, chosen.to_vec())))?;
    let kept: Vec<Value> = list.iter().enumerate().filter(|(index, _)| !flagged.contains(index)).map(|(_, statement)| statement.clone()).collect();
    set_field(desire.state, field, with_statements(&policy, kept).unwrap_or(Value::Null))
}

fn add_deny_insecure_transport(desire: &Desire<'_>, field: &str, action: &str) -> Result<Value, FixError> {
    let deny = json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": desire.target.arn,
        "Condition": { "Bool": { "aws:SecureTransport": "false" } }
    });
    let policy = desire.state.get(field).filter(|policy| !policy.is_null()).cloned().unwrap_or(json!({ "Version": "2012-10-17" }));
    let mut list = statements(&policy);
    list.push(deny);
    set_field(desire.state, field, with_statements(&policy, list).unwrap_or(Value::Null))
}

/// The indexes of the parts the check flags on their own: the resource without any part must
/// pass (else the finding has another cause and removing parts would not resolve it), and a
/// part is flagged when the resource holding it alone fails.
fn flagged<T: Clone>(desire: &Desire<'_>, parts: &[T], what: &str, place: impl Fn(&mut Inventory, &[T])) -> Result<Vec<usize>, FixError> {
    let region = desire.finding.region.as_str();
    let arn = desire.finding.resource_arn.as_str();
    let mut empty = desire.probe.base(desire.inventory, region);
    place(&mut empty, &[]);
    if desire.probe.fails(&empty, arn, region) {
        return Err(FixError::Declined(format!("the check fails even without any of the {what}, so removing them would not resolve it")));
    }
    let flagged = crate::support::flagged(parts, |part| {
        let mut probe = desire.probe.base(desire.inventory, region);
        place(&mut probe, std::slice::from_ref(part));
        desire.probe.fails(&probe, arn, region)
    });
    if flagged.is_empty() {
        return Err(FixError::Declined(format!("the check flags none of the {what} on its own")));
    }
    Ok(flagged)
}

/// Every fixer, in catalog order of their checks' families.
pub static FIXERS: &[&Fixer] = &[
    &SECURITY_GROUP_ADMIN_PORTS,
    &SECURITY_GROUP_ALL_TRAFFIC,
    &SECURITY_GROUP_HIGH_RISK_PORTS,
    &SECURITY_GROUP_UNAUTHORIZED_PORTS,
    &DEFAULT_SECURITY_GROUP,
    &EBS_SNAPSHOT_PUBLIC,
    &EBS_ENCRYPTION_BY_DEFAULT,
    &INSTANCE_IMDSV2,
    &LAUNCH_TEMPLATE_IMDSV2,
    &SUBNET_AUTO_PUBLIC_IP,
    &NETWORK_ACL_ADMIN_PORTS,
    &VPC_FLOW_LOGS,
    &BUCKET_PUBLIC_ACCESS_BLOCK,
    &ACCOUNT_PUBLIC_ACCESS_BLOCK,
    &BUCKET_NOT_PUBLIC,
    &BUCKET_SECURE_TRANSPORT,
    &BUCKET_CROSS_ACCOUNT_CONTROL,
    &BUCKET_DEFAULT_ENCRYPTION,
    &BUCKET_ACLS_DISABLED,
    &PASSWORD_MINIMUM_LENGTH,
    &PASSWORD_REUSE,
    &PASSWORD_UPPERCASE,
    &PASSWORD_LOWERCASE,
    &PASSWORD_SYMBOL,
    &PASSWORD_NUMBER,
    &PASSWORD_EXPIRY,
    &UNUSED_CREDENTIALS,
    &UNUSED_KEY_WITH_CONSOLE,
    &TRAIL_MULTI_REGION,
    &TRAIL_LOG_FILE_VALIDATION,
    &KMS_KEY_ROTATION,
    &KMS_KEY_POLICY_PUBLIC,
    &LOG_GROUP_RETENTION,
    &GUARDDUTY_ENABLED,
    &SECURITYHUB_ENABLED,
    &RDS_NOT_PUBLIC,
    &RDS_DELETION_PROTECTION,
    &RDS_MINOR_VERSION_UPGRADE,
    &RDS_COPY_TAGS,
    &RDS_SNAPSHOT_PUBLIC,
    &DYNAMODB_DELETION_PROTECTION,
    &DYNAMODB_PITR,
    &SQS_POLICY_PUBLIC,
    &SQS_ENCRYPTED,
    &SQS_HTTPS_ONLY,
    &SNS_POLICY_PUBLIC,
    &SNS_ENCRYPTED,
    &SECRET_POLICY_PUBLIC,
    &ECR_POLICY_PUBLIC,
    &ECR_SCAN_ON_PUSH,
    &ECR_TAG_IMMUTABLE,
];

/// The fixer of a check, if it has one.
pub fn fixer_for(check_id: &str) -> Option<&'static Fixer> {
    FIXERS.iter().copied().find(|fixer| fixer.check_id == check_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixer_names_a_catalog_check_once_and_a_listed_kind() {
        let mut seen = std::collections::BTreeSet::new();
        for fixer in FIXERS {
            assert!(vigil_checks::find(fixer.check_id).is_some(), "`{}` is not a check", fixer.check_id);
            assert!(seen.insert(fixer.check_id), "`{}` has two fixers", fixer.check_id);
            assert!(crate::KINDS.iter().any(|kind| std::ptr::eq(*kind, fixer.kind)), "the kind of `{}` is not in KINDS", fixer.check_id);
        }
        assert!(FIXERS.len() >= 30, "the issue asks for fixers for at least 30 checks");
    }

    /// The attack-path cut links its changes to these check ids: each must have a fixer.
    #[test]
    fn every_check_the_attack_path_cut_links_to_has_a_fixer() {
        for check_id in vigil_paths::FIX_CHECK_IDS {
            assert!(fixer_for(check_id).is_some(), "`{check_id}` has no fixer");
        }
    }

    fn launch_template(id: &str, tokens: &str) -> vigil_model::ec2::LaunchTemplate {
        vigil_model::ec2::LaunchTemplate {
            launch_template_id: id.into(),
            default_version_number: Some(1),
            latest_version_number: Some(2),
            default_version_data: Some(vigil_model::ec2::LaunchTemplateData {
                metadata_options: Some(vigil_model::ec2::InstanceMetadataOptions {
                    http_tokens: Some(tokens.into()),
                    http_put_response_hop_limit: Some(2),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_launch_template_allowing_imdsv1_gets_a_new_default_version_and_its_twin_nothing() {
        let region = Region::new("eu-west-1");
        let mut inventory = crate::support::test_inventory("eu-west-1");
        inventory.regional.entry(region).or_default().ec2.launch_templates =
            vec![launch_template("lt-bad", "optional"), launch_template("lt-good", "required")];
        for (operation, target) in
            [("DescribeLaunchTemplates", None), ("DescribeLaunchTemplateVersions", Some("lt-bad")), ("DescribeLaunchTemplateVersions", Some("lt-good"))]
        {
            crate::support::record_read(&mut inventory, "ec2", "eu-west-1", operation, target);
        }
        let selection = crate::Selection { checks: vec!["ec2_launch_template_imdsv2_required".into()], ..Default::default() };
        let plan = crate::plan(&inventory, &selection, &crate::Options::default(), None, &[], chrono::Utc::now());
        assert_eq!(plan.fixes.len(), 1, "{:#?}", plan.skipped);
        let fix = &plan.fixes[0];
        assert_eq!(fix.target.id, "lt-bad");
        let operations: Vec<&str> = fix.calls.iter().map(|call| call.operation.as_str()).collect();
        assert_eq!(operations, ["CreateLaunchTemplateVersion", "ModifyLaunchTemplate"]);
        assert_eq!(fix.calls[0].parameters["LaunchTemplateData"]["MetadataOptions"], json!({ "HttpTokens": "required", "HttpPutResponseHopLimit": 2 }));
        assert_eq!(fix.calls[0].parameters["SourceVersion"], "1");
        assert_eq!(fix.calls[1].parameters, json!({ "LaunchTemplateId": "lt-bad", "DefaultVersion": "3" }));
        assert_eq!(
            fix.inverse,
            vec![crate::Call::new("ec2", "ModifyLaunchTemplate", "eu-west-1", json!({ "LaunchTemplateId": "lt-bad", "DefaultVersion": "1" }))]
        );
        assert!(fix.resolves.iter().any(|finding| finding.check_id == "ec2_launch_template_imdsv2_required"), "{:#?}", fix.resolves);
    }
}
