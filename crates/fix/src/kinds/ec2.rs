//! EC2 and VPC slices: security group rules, snapshot sharing, EBS encryption by default,
//! instance metadata options, launch template metadata options, subnet public IPs, network ACL
//! entries and VPC flow logs.

use serde_json::{Value, json};
use vigil_model::Inventory;
use vigil_model::ec2::{CreateVolumePermission, FlowLog, IpPermission, NetworkAclEntry};

use super::{Kind, as_is};
use crate::iac::{self, Iac};
use crate::support::{clean, flag, parse, regional, regional_mut, require, to_value};
use crate::{Call, FixError, Target};

// ---- Security group rules ----

pub static SECURITY_GROUP_RULES: Kind = Kind {
    id: "security-group-rules",
    title: "the inbound and outbound rules of a security group",
    service: "ec2",
    reads: &["ec2:DescribeSecurityGroups"],
    writes: &["ec2:RevokeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupEgress"],
    network: true,
    iam: false,
    guards: &[],
    state: security_group_state,
    set_state: set_security_group_state,
    calls: security_group_calls,
    normalize: security_group_normalize,
    iac: security_group_iac,
};

fn security_group_state(inventory: &Inventory, target: &Target) -> Result<Value, FixError> {
    require(inventory, "ec2", &target.region, "DescribeSecurityGroups", None)?;
    let group = regional(inventory, &target.region)?
        .ec2
        .security_groups
        .iter()
        .find(|group| group.group_id == target.id)
        .ok_or_else(|| FixError::NotFound(format!("security group `{}`", target.id)))?;
    Ok(clean(json!({ "IpPermissions": group.ip_permissions, "IpPermissionsEgress": group.ip_permissions_egress })))
}

fn set_security_group_state(inventory: &mut Inventory, target: &Target, state: &Value) -> Result<(), FixError> {
    let ingress = rules(state, "IpPermissions")?;
    let egress = rules(state, "IpPermissionsEgress")?;
    let group = regional_mut(inventory, &target.region)?
        .ec2
        .security_groups
        .iter_mut()
        .find(|group| group.group_id == target.id)
        .ok_or_else(|| FixError::NotFound(format!("security group `{}`", target.id)))?;
    group.ip_permissions = ingress;
    group.ip_permissions_egress = egress;
    Ok(())
}

/// A rule with exactly one source: the unit rules are added and revoked in.
pub(crate) fn atoms(permissions: &[IpPermission]) -> Vec<IpPermission> {
    let mut out = Vec::new();
    for permission in permissions {
        let empty = IpPermission { ip_ranges: vec![], ipv6_ranges: vec![], prefix_list_ids: vec![], user_id_group_pairs: vec![], ..permission.clone() };
        out.extend(permission.ip_ranges.iter().map(|range| IpPermission { ip_ranges: vec![range.clone()], ..empty.clone() }));
        out.extend(permission.ipv6_ranges.iter().map(|range| IpPermission { ipv6_ranges: vec![range.clone()], ..empty.clone() }));
        out.extend(permission.prefix_list_ids.iter().map(|list| IpPermission { prefix_list_ids: vec![list.clone()], ..empty.clone() }));
        out.extend(permission.user_id_group_pairs.iter().map(|pair| IpPermission { user_id_group_pairs: vec![pair.clone()], ..empty.clone() }));
    }
    out
}

/// Atoms back into rules: one rule per (protocol, ports), sources in order of appearance.
pub(crate) fn group_atoms(atoms: &[IpPermission]) -> Vec<IpPermission> {
    let mut out: Vec<IpPermission> = Vec::new();
    for atom in atoms {
        let same = |rule: &&mut IpPermission| rule.ip_protocol == atom.ip_protocol && rule.from_port == atom.from_port && rule.to_port == atom.to_port;
        match out.iter_mut().find(|rule| same(rule)) {
            Some(rule) => {
                rule.ip_ranges.extend(atom.ip_ranges.iter().cloned());
                rule.ipv6_ranges.extend(atom.ipv6_ranges.iter().cloned());
                rule.prefix_list_ids.extend(atom.prefix_list_ids.iter().cloned());
                rule.user_id_group_pairs.extend(atom.user_id_group_pairs.iter().cloned());
            }
            None => out.push(atom.clone()),
        }
    }
    out
}

fn rules(state: &Value, field: &str) -> Result<Vec<IpPermission>, FixError> {
    match state.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => parse(value, field),
    }
}

/// A rule as the EC2 API takes it (groups named by id only, as Authorize and Revoke want).
fn api_rule(rule: &IpPermission) -> Value {
    let mut rule = rule.clone();
    for pair in &mut rule.user_id_group_pairs {
        pair.group_name = None;
        pair.peering_status = None;
        pair.vpc_id = None;
    }
    clean(to_value(&rule))
}

fn security_group_calls(target: &Target, from: &Value, to: &Value) -> Result<Vec<Call>, FixError> {
    let mut calls = Vec::new();
    for (field, revoke, authorize) in [
        ("IpPermissions", "RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress"),
        ("IpPermissionsEgress", "RevokeSecurityGroupEgress", "AuthorizeSecurityGroupEgress"),
    ] {
        let before = atoms(&rules(from, field)?);
        let after = atoms(&rules(to, field)?);
        let removed: Vec<IpPermission> = before.iter().filter(|atom| !after.contains(atom)).cloned().collect();
        let added: Vec<IpPermission> = after.iter().filter(|atom| !before.contains(atom)).cloned().collect();
        if !removed.is_empty() {
            let permissions: Vec<Value> = group_atoms(&removed).iter().map(api_rule).collect();
            calls.push(Call::new("ec2", revoke, &target.region, json!({ "GroupId": target.id, "IpPermissions": permissions })));
        }
        if !added.is_empty() {
            let permissions: Vec<Value> = group_atoms(&added).iter().map(api_rule).collect();
            calls.push(Call::new("ec2", authorize, &target.region, json!({ "GroupId": target.id, "IpPermissions": permissions })));
        }
    }
    Ok(calls)
}

fn security_group_normalize(state: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for field in ["IpPermissions", "IpPermissionsEgress"] {
        let mut list: Vec<String> = atoms(&rules(state, field).unwrap_or_default()).iter().map(|atom| to_value(atom).to_string()).collect();
        list.sort();
        out.insert(field.to_string(), json!(list));
    }
    Value::Object(out)
}

fn security_group_iac(target: &Target, after: &Value) -> Iac {
    let terraform_rules = |field: &str| -> Vec<Value> {
        atoms(&rules(after, field).unwrap_or_default())
            .iter()
            .map(|atom| {
                let mut rule = serde_json::Map::new();
                rule.insert("protocol".into(), json!(atom.ip_protocol));
                rule.insert("from_port".into(), json!(atom.from_port.unwrap_or(0)));
                rule.insert("to_port".into(), json!(atom.to_port.unwrap_or(0)));
                if let Some(range) = atom.ip_ranges.first() {
                    rule.insert("cidr_blocks".into(), json!([range.cidr_ip]));
                }
                if let Some(range) = atom.ipv6_ranges.first() {
                    rule.insert("ipv6_cidr_blocks".into(), json!([range.cidr_ipv6]));
                }
                if let Some(list) = atom.prefix_list_ids.first() {
                    rule.insert("prefix_list_ids".into(), json!([list.prefix_list_id]));
                }
                if let Some(pair) = atom.user_id_group_pairs.first() {
                    rule.insert("security_groups".into(), json!([pair.group_id]));
                }
                Value::Object(rule)
            })
            .collect()
    };
    let cloudformation_rules = |field: &str| -> Vec<Value> {
        atoms(&rules(after, field).unwrap_or_default())
            .iter()
            .map(|atom| {
                let mut rule = serde_json::Map::new();
                rule.insert("IpProtocol".into(), json!(atom.ip_protocol));
                if let Some(port) = atom.from_port {
                    rule.insert("FromPort".into(), json!(port));
                }
                if let Some(port) = atom.to_port {
                    rule.insert("ToPort".into(), json!(port));
                }
                if let Some(range) = atom.ip_ranges.first() {
                    rule.insert("CidrIp".into(), json!(range.cidr_ip));
                }
                if let Some(range) = atom.ipv6_ranges.first() {
                    rule.insert("CidrIpv6".into(), json!(range.cidr_ipv6));
                }
                if let Some(list) = atom.prefix_list_ids.first() {
                    rule.insert("SourcePrefixListId".into(), json!(list.prefix_list_id));
                }
                if let Some(pair) = atom.user_id_group_pairs.first() {
                    rule.insert("SourceSecurityGroupId".into(), json!(pair.group_id));
                }
                Value::Object(rule)
            })
            .collect()
    };
    iac::resource_block(
        &format!("security group {}", target.id),
        "aws_security_group",
        &[("ingress", json!(terraform_rules("IpPermissions"))), ("egress", json!(terraform_rules("IpPermissionsEgress")))],
        "AWS::EC2::SecurityGroup",
        &[("SecurityGroupIngress", json!(cloudformation_rules("IpPermissions"))), ("SecurityGroupEgress", json!(cloudformation_rules("IpPermissionsEgress")))],
    )
}

// ---- EBS snapshot sharing ----

pub static SNAPSHOT_PERMISSIONS: Kind = Kind {
    id: "ebs-snapshot-sharing",
    title: "who may create volumes from an EBS snapshot",
    service: "ec2",
    reads: &["ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"],
    writes: &["ec2:ModifySnapshotAttribute"],
    network: false,
    iam: false,
    guards: &[],
    state: snapshot_state,
    set_state: set_snapshot_state,
    calls: snapshot_calls,
    normalize: snapshot_normalize,
    iac: snapshot_iac,
};

fn snapshot_state(inventory: &Inventory, target: &Target) -> Result<Value, FixError> {
    require(inventory, "ec2", &target.region, "DescribeSnapshotAttribute", Some(&target.id))?;
    let snapshot = regional(inventory, &target.region)?
        .ec2
        .snapshots
        .iter()
        .find(|snapshot| snapshot.snapshot_id == target.id)
        .ok_or_else(|| FixError::NotFound(format!("snapshot `{}`", target.id)))?;
    Ok(clean(json!({ "CreateVolumePermissions": snapshot.create_volume_permissions })))
}

fn permissions(state: &Value) -> Vec<CreateVolumePermission> {
    state.get("CreateVolumePermissions").and_then(|value| parse(value, "CreateVolumePermissions").ok()).unwrap_or_default()
}

fn set_snapshot_state(inventory: &mut Inventory, target: &Target, state: &Value) -> Result<(), FixError> {
    let snapshot = regional_mut(inventory, &target.region)?
        .ec2
        .snapshots
        .iter_mut()
        .find(|snapshot| snapshot.snapshot_id == target.id)
        .ok_or_else(|| FixError::NotFound(format!("snapshot `{}`", target.id)))?;
    snapshot.create_volume_permissions = permissions(state);
    Ok(())
}

fn snapshot_calls(target: &Target, from: &Value, to: &Value) -> Result<Vec<Call>, FixError> {
    let before = permissions(from);
    let after = permissions(to);
    let mut calls = Vec::new();
    // One call per operation, in the form every EC2 endpoint accepts (OperationType with
    // group names and account ids).
    for (operation, list) in [
        ("remove", before.iter().filter(|permission| !after.contains(permission)).collect::<Vec<_>>()),
        ("add", after.iter().filter(|permission| !before.contains(permission)).collect::<Vec<_>>()),
    ] {
        if list.is_empty() {
            continue;
        }
        let groups: Vec<&str> = list.iter().filter_map(|permission| permission.group.as_deref()).collect();
        let accounts: Vec<&str> = list.iter().filter_map(|permission| permission.user_id.as_deref()).collect();
        calls.push(Call::new(
            "ec2",
            "ModifySnapshotAttribute",
            &target.region,
            clean(json!({ "SnapshotId": target.id, "Attribute": "createVolumePermission", "OperationType": operation, "GroupNames": groups, "UserIds": accounts })),
        ));
    }
    Ok(calls)
}

fn snapshot_normalize(state: &Value) -> Value {
    let mut list: Vec<String> = permissions(state).iter().map(|permission| to_value(permission).to_string()).collect();
    list.sort();
    json!(list)
}

fn snapshot_iac(target: &Target, after: &Value) -> Iac {
    let accounts: Vec<String> = permissions(after).iter().filter_map(|permission| permission.user_id.clone()).collect();
    let public = permissions(after).iter().any(|permission| permission.group.as_deref() == Some("all"));
    Iac {
        terraform: format!(
            "# snapshot {}: keep only these aws_snapshot_create_volume_permission resources (accounts: {:?}){}\n",
            target.id,
            accounts,
            if public { "" } else { "; none may make it public" }
        ),
        cloudformation: format!("# snapshot {}: CloudFormation does not manage snapshot sharing; change it with the API (see the calls)\n", target.id),
    }
}

// ---- EBS encryption by default ----

pub static EBS_ENCRYPTION_DEFAULT: Kind = Kind {
    id: "ebs-encryption-by-default",
    title: "EBS encryption by default in a region",
    service: "ec2",
    reads: &["ec2:GetEbsEncryptionByDefault"],
    writes: &["ec2:EnableEbsEncryptionByDefault", "ec2:DisableEbsEncryptionByDefault"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "ec2", &target.region, "GetEbsEncryptionByDefault", None)?;
        Ok(json!({ "EbsEncryptionByDefault": regional(inventory, &target.region)?.ec2.ebs_encryption_by_default.unwrap_or(false) }))
    },
    set_state: |inventory, target, state| {
        regional_mut(inventory, &target.region)?.ec2.ebs_encryption_by_default = Some(flag(state, "EbsEncryptionByDefault").unwrap_or(false));
        Ok(())
    },
    calls: |target, from, to| {
        let (before, after) = (flag(from, "EbsEncryptionByDefault").unwrap_or(false), flag(to, "EbsEncryptionByDefault").unwrap_or(false));
        Ok(match (before, after) {
            (false, true) => vec![Call::new("ec2", "EnableEbsEncryptionByDefault", &target.region, json!({}))],
            (true, false) => vec![Call::new("ec2", "DisableEbsEncryptionByDefault", &target.region, json!({}))],
            _ => Vec::new(),
        })
    },
    normalize: as_is,
    iac: |target, after| {
        iac::standalone(
            &format!("EBS encryption by default in {}", target.region),
            "aws_ebs_encryption_by_default",
            &[("enabled", json!(flag(after, "EbsEncryptionByDefault").unwrap_or(false)))],
            "# CloudFormation has no resource for this region setting; use the API (see the calls) or Terraform",
        )
    },
};

// ---- Instance metadata options ----

pub static INSTANCE_METADATA: Kind = Kind {
    id: "instance-metadata-options",
    title: "the instance metadata service options of an EC2 instance",
    service: "ec2",
    reads: &["ec2:DescribeInstances"],
    writes: &["ec2:ModifyInstanceMetadataOptions"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "ec2", &target.region, "DescribeInstances", None)?;
        let instance = regional(inventory, &target.region)?
            .ec2
            .instances
            .iter()
            .find(|instance| instance.instance_id == target.id)
            .ok_or_else(|| FixError::NotFound(format!("instance `{}`", target.id)))?;
        let options = instance.metadata_options.clone().unwrap_or_default();
        Ok(clean(json!({
            "HttpTokens": options.http_tokens,
            "HttpEndpoint": options.http_endpoint,
            "HttpPutResponseHopLimit": options.http_put_response_hop_limit,
            "InstanceMetadataTags": options.instance_metadata_tags,
            "HttpProtocolIpv6": options.http_protocol_ipv6,
        })))
    },
    set_state: |inventory, target, state| {
        let instance = regional_mut(inventory, &target.region)?
            .ec2
            .instances
            .iter_mut()
            .find(|instance| instance.instance_id == target.id)
            .ok_or_else(|| FixError::NotFound(format!("instance `{}`", target.id)))?;
        let options = instance.metadata_options.get_or_insert_with(Default::default);
        options.http_tokens = state.get("HttpTokens").and_then(Value::as_str).map(str::to_string);
        options.http_endpoint = state.get("HttpEndpoint").and_then(Value::as_str).map(str::to_string);
        options.http_put_response_hop_limit = state.get("HttpPutResponseHopLimit").and_then(Value::as_i64).and_then(|limit| i32::try_from(limit).ok());
        options.instance_metadata_tags = state.get("InstanceMetadataTags").and_then(Value::as_str).map(str::to_string);
        options.http_protocol_ipv6 = state.get("HttpProtocolIpv6").and_then(Value::as_str).map(str::to_string);
        Ok(())
    },
    calls: |target, from, to| {
        if from == to {
            return Ok(Vec::new());
        }
        // Every option is sent, changed or not: on AWS an option left out keeps its value, but
        // moto resets it (a no-op on AWS, and the same call on both).
        let mut parameters = serde_json::Map::new();
        for field in ["HttpTokens", "HttpEndpoint", "HttpPutResponseHopLimit", "InstanceMetadataTags", "HttpProtocolIpv6"] {
            if let Some(value) = to.get(field).filter(|value| !value.is_null()) {
                parameters.insert(field.to_string(), value.clone());
            }
        }
        parameters.insert("InstanceId".to_string(), json!(target.id));
        Ok(vec![Call::new("ec2", "ModifyInstanceMetadataOptions", &target.region, Value::Object(parameters))])
    },
    normalize: as_is,
    iac: |target, after| {
        iac::resource_block(
            &format!("instance {}", target.id),
            "aws_instance",
            &[("metadata_options", json!({ "http_tokens": after.get("HttpTokens"), "http_endpoint": after.get("HttpEndpoint") }))],
            "AWS::EC2::LaunchTemplate",
            &[("LaunchTemplateData", json!({ "MetadataOptions": { "HttpTokens": after.get("HttpTokens"), "HttpEndpoint": after.get("HttpEndpoint") } }))],
        )
    },
};

// ---- Launch template metadata options ----

/// A launch template's versions cannot change, so its metadata options change with a new
/// version made from the default one, which then becomes the default. The value is
/// `{"DefaultVersionNumber", "LatestVersionNumber", "MetadataOptions"}`, the options being
/// those of the default version as the collector read them.
///
/// The new version's number is predicted as the latest version number plus one: it is in the
/// plan's calls (`ModifyLaunchTemplate` with `DefaultVersion`), so that the plan names exactly
/// what is sent. `LatestVersionNumber` is a guard: a version made by anyone between the plan
/// and the change moves it, and the change is refused. It is not compared otherwise: an undo
/// makes the old version the default again and leaves the new one in place, so the latest
/// version number never goes back.
pub static LAUNCH_TEMPLATE_METADATA: Kind = Kind {
    id: "launch-template-metadata-options",
    title: "the instance metadata options of a launch template's default version",
    service: "ec2",
    reads: &["ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"],
    writes: &["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"],
    network: false,
    iam: false,
    guards: &["LatestVersionNumber"],
    state: launch_template_state,
    set_state: set_launch_template_state,
    calls: launch_template_calls,
    normalize: |state| {
        let mut state = state.clone();
        if let Value::Object(map) = &mut state {
            map.remove("LatestVersionNumber");
        }
        state
    },
    iac: launch_template_iac,
};

fn launch_template_state(inventory: &Inventory, target: &Target) -> Result<Value, FixError> {
    require(inventory, "ec2", &target.region, "DescribeLaunchTemplates", None)?;
    require(inventory, "ec2", &target.region, "DescribeLaunchTemplateVersions", Some(&target.id))?;
    let template = regional(inventory, &target.region)?
        .ec2
        .launch_templates
        .iter()
        .find(|template| template.launch_template_id == target.id)
        .ok_or_else(|| FixError::NotFound(format!("launch template `{}`", target.id)))?;
    let missing =
        |field: &str| FixError::Malformed { what: format!("launch template `{}`", target.id), reason: format!("DescribeLaunchTemplates gave no {field}") };
    let default = template.default_version_number.ok_or_else(|| missing("DefaultVersionNumber"))?;
    let latest = template.latest_version_number.ok_or_else(|| missing("LatestVersionNumber"))?;
    let options = template.default_version_data.as_ref().and_then(|data| data.metadata_options.as_ref());
    Ok(clean(json!({ "DefaultVersionNumber": default, "LatestVersionNumber": latest, "MetadataOptions": options })))
}

fn version_number(state: &Value, field: &str) -> Result<i64, FixError> {
    state.get(field).and_then(Value::as_i64).ok_or_else(|| FixError::Malformed { what: field.to_string(), reason: "not a version number".to_string() })
}

fn set_launch_template_state(inventory: &mut Inventory, target: &Target, state: &Value) -> Result<(), FixError> {
    let default = version_number(state, "DefaultVersionNumber")?;
    let latest = version_number(state, "LatestVersionNumber")?;
    let options = state.get("MetadataOptions").map(|options| parse(options, "MetadataOptions")).transpose()?;
    let template = regional_mut(inventory, &target.region)?
        .ec2
        .launch_templates
        .iter_mut()
        .find(|template| template.launch_template_id == target.id)
        .ok_or_else(|| FixError::NotFound(format!("launch template `{}`", target.id)))?;
    template.default_version_number = Some(default);
    template.latest_version_number = Some(latest);
    template.default_version_data.get_or_insert_with(Default::default).metadata_options = options;
    Ok(())
}

fn launch_template_calls(target: &Target, from: &Value, to: &Value) -> Result<Vec<Call>, FixError> {
    let (from_default, to_default) = (version_number(from, "DefaultVersionNumber")?, version_number(to, "DefaultVersionNumber")?);
    let from_latest = version_number(from, "LatestVersionNumber")?;
    let (from_options, to_options) = (from.get("MetadataOptions"), to.get("MetadataOptions"));
    if to_default == from_default {
        if from_options == to_options {
            return Ok(Vec::new());
        }
        return Err(FixError::Declined(format!(
            "version {to_default} of launch template `{}` cannot change: new metadata options need a new default version",
            target.id
        )));
    }
    let mut calls = Vec::new();
    if to_default > from_latest {
        // A new version: the default one with these metadata options (a version's other
        // launch parameters come from SourceVersion; MetadataOptions is replaced as a whole,
        // so every option read is sent).
        if to_default != from_latest + 1 {
            return Err(FixError::Declined(format!("launch template `{}` would number its next version {}, not {to_default}", target.id, from_latest + 1)));
        }
        calls.push(Call::new(
            "ec2",
            "CreateLaunchTemplateVersion",
            &target.region,
            json!({
                "LaunchTemplateId": target.id,
                "SourceVersion": from_default.to_string(),
                "LaunchTemplateData": { "MetadataOptions": to_options.cloned().unwrap_or_else(|| json!({})) },
            }),
        ));
    }
    // An existing version (an undo) or the one just made becomes the default.
    calls.push(Call::new("ec2", "ModifyLaunchTemplate", &target.region, json!({ "LaunchTemplateId": target.id, "DefaultVersion": to_default.to_string() })));
    Ok(calls)
}

fn launch_template_iac(target: &Target, after: &Value) -> Iac {
    let options = after.get("MetadataOptions").cloned().unwrap_or_else(|| json!({}));
    let option = |field: &str| options.get(field).cloned().unwrap_or(Value::Null);
    let terraform_options = clean(json!({
        "http_tokens": option("HttpTokens"),
        "http_endpoint": option("HttpEndpoint"),
        "http_put_response_hop_limit": option("HttpPutResponseHopLimit"),
        "instance_metadata_tags": option("InstanceMetadataTags"),
        "http_protocol_ipv6": option("HttpProtocolIpv6"),
    }));
    iac::resource_block(
        &format!("launch template {}", target.id),
        "aws_launch_template",
        &[("metadata_options", terraform_options), ("update_default_version", json!(true))],
        "AWS::EC2::LaunchTemplate",
        &[("LaunchTemplateData", json!({ "MetadataOptions": options }))],
    )
}

// ---- Subnet public IPs ----

pub static SUBNET_PUBLIC_IP: Kind = Kind {
    id: "subnet-public-ip",
    title: "whether a subnet gives new instances a public IPv4 address",
    service: "ec2",
    reads: &["ec2:DescribeSubnets"],
    writes: &["ec2:ModifySubnetAttribute"],
    network: true,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "ec2", &target.region, "DescribeSubnets", None)?;
        let subnet = regional(inventory, &target.region)?
            .ec2
            .subnets
            .iter()
            .find(|subnet| subnet.subnet_id == target.id)
            .ok_or_else(|| FixError::NotFound(format!("subnet `{}`", target.id)))?;
        Ok(json!({ "MapPublicIpOnLaunch": subnet.map_public_ip_on_launch }))
    },
    set_state: |inventory, target, state| {
        let subnet = regional_mut(inventory, &target.region)?
            .ec2
            .subnets
            .iter_mut()
            .find(|subnet| subnet.subnet_id == target.id)
            .ok_or_else(|| FixError::NotFound(format!("subnet `{}`", target.id)))?;
        subnet.map_public_ip_on_launch = flag(state, "MapPublicIpOnLaunch").unwrap_or(false);
        Ok(())
    },
    calls: |target, from, to| {
        let after = flag(to, "MapPublicIpOnLaunch").unwrap_or(false);
        if flag(from, "MapPublicIpOnLaunch").unwrap_or(false) == after {
            return Ok(Vec::new());
        }
        Ok(vec![Call::new("ec2", "ModifySubnetAttribute", &target.region, json!({ "SubnetId": target.id, "MapPublicIpOnLaunch": { "Value": after } }))])
    },
    normalize: as_is,
    iac: |target, after| {
        let value = flag(after, "MapPublicIpOnLaunch").unwrap_or(false);
        iac::resource_block(
            &format!("subnet {}", target.id),
            "aws_subnet",
            &[("map_public_ip_on_launch", json!(value))],
            "AWS::EC2::Subnet",
            &[("MapPublicIpOnLaunch", json!(value))],
        )
    },
};

// ---- Network ACL entries ----

pub static NETWORK_ACL_ENTRIES: Kind = Kind {
    id: "network-acl-entries",
    title: "the entries of a network ACL",
    service: "ec2",
    reads: &["ec2:DescribeNetworkAcls"],
    writes: &["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry"],
    network: true,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "ec2", &target.region, "DescribeNetworkAcls", None)?;
        let acl = regional(inventory, &target.region)?
            .ec2
            .network_acls
            .iter()
            .find(|acl| acl.network_acl_id == target.id)
            .ok_or_else(|| FixError::NotFound(format!("network ACL `{}`", target.id)))?;
        Ok(clean(json!({ "Entries": acl.entries })))
    },
    set_state: |inventory, target, state| {
        let entries = acl_entries(state)?;
        let acl = regional_mut(inventory, &target.region)?
            .ec2
            .network_acls
            .iter_mut()
            .find(|acl| acl.network_acl_id == target.id)
            .ok_or_else(|| FixError::NotFound(format!("network ACL `{}`", target.id)))?;
        acl.entries = entries;
        Ok(())
    },
    calls: acl_calls,
    normalize: |state| {
        let mut list: Vec<String> = acl_entries(state).unwrap_or_default().iter().map(|entry| to_value(entry).to_string()).collect();
        list.sort();
        json!(list)
    },
    iac: |target, after| {
        let entries = acl_entries(after).unwrap_or_default();
        let terraform: Vec<Value> = entries
            .iter()
            .filter(|entry| entry.rule_number < 32767)
            .map(|entry| {
                json!({
                    "rule_no": entry.rule_number, "egress": entry.egress, "protocol": entry.protocol, "action": entry.rule_action,
                    "cidr_block": entry.cidr_block, "ipv6_cidr_block": entry.ipv6_cidr_block,
                    "from_port": entry.port_range.as_ref().and_then(|range| range.from).unwrap_or(0),
                    "to_port": entry.port_range.as_ref().and_then(|range| range.to).unwrap_or(0),
                })
            })
            .map(clean)
            .collect();
        let cloudformation: Vec<Value> = entries.iter().filter(|entry| entry.rule_number < 32767).map(|entry| clean(to_value(entry))).collect();
        let mut iac = iac::resource_block(
            &format!("network ACL {}", target.id),
            "aws_network_acl",
            &[("entries (as aws_network_acl_rule resources)", json!(terraform))],
            "AWS::EC2::NetworkAclEntry",
            &[],
        );
        iac.cloudformation =
            format!("# network ACL {}: one AWS::EC2::NetworkAclEntry per entry\n{}", target.id, crate::iac::yaml_field("Entries", &json!(cloudformation), 0));
        iac
    },
};

pub(crate) fn acl_entries(state: &Value) -> Result<Vec<NetworkAclEntry>, FixError> {
    match state.get("Entries") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => parse(value, "Entries"),
    }
}

fn acl_calls(target: &Target, from: &Value, to: &Value) -> Result<Vec<Call>, FixError> {
    let before = acl_entries(from)?;
    let after = acl_entries(to)?;
    let mut calls = Vec::new();
    for entry in before.iter().filter(|entry| !after.contains(entry)) {
        calls.push(Call::new(
            "ec2",
            "DeleteNetworkAclEntry",
            &target.region,
            json!({ "NetworkAclId": target.id, "RuleNumber": entry.rule_number, "Egress": entry.egress }),
        ));
    }
    for entry in after.iter().filter(|entry| !before.contains(entry)) {
        if entry.rule_number >= 32767 {
            return Err(FixError::Declined(format!("the default entry of network ACL `{}` cannot be changed", target.id)));
        }
        let mut parameters = clean(json!({
            "NetworkAclId": target.id,
            "RuleNumber": entry.rule_number,
            "Protocol": entry.protocol,
            "RuleAction": entry.rule_action,
            "Egress": entry.egress,
            "CidrBlock": entry.cidr_block,
            "Ipv6CidrBlock": entry.ipv6_cidr_block,
            "PortRange": entry.port_range,
            "IcmpTypeCode": entry.icmp_type_code,
        }));
        if let Some(map) = parameters.as_object_mut() {
            map.retain(|_, value| !value.as_object().is_some_and(|inner| inner.is_empty()));
        }
        calls.push(Call::new("ec2", "CreateNetworkAclEntry", &target.region, parameters));
    }
    // A changed entry keeps its number: delete it before creating it again.
    calls.sort_by_key(|call| (call.operation != "DeleteNetworkAclEntry", call.parameters.get("RuleNumber").and_then(Value::as_i64)));
    Ok(calls)
}

// ---- VPC flow logs ----

pub static VPC_FLOW_LOGS: Kind = Kind {
    id: "vpc-flow-logs",
    title: "the flow logs of a VPC",
    service: "ec2",
    reads: &["ec2:DescribeFlowLogs"],
    writes: &["ec2:CreateFlowLogs", "ec2:DeleteFlowLogs"],
    network: false,
    iam: false,
    guards: &[],
    state: |inventory, target| {
        require(inventory, "ec2", &target.region, "DescribeFlowLogs", None)?;
        let logs: Vec<Value> = regional(inventory, &target.region)?
            .ec2
            .flow_logs
            .iter()
            .filter(|log| log.resource_id.as_deref() == Some(target.id.as_str()))
            .map(flow_log_value)
            .collect();
        Ok(json!({ "FlowLogs": logs }))
    },
    set_state: |inventory, target, state| {
        let wanted: Vec<Value> = state.get("FlowLogs").and_then(Value::as_array).cloned().unwrap_or_default();
        let ec2 = &mut regional_mut(inventory, &target.region)?.ec2;
        ec2.flow_logs.retain(|log| log.resource_id.as_deref() != Some(target.id.as_str()));
        for (index, log) in wanted.iter().enumerate() {
            let text = |field: &str| log.get(field).and_then(Value::as_str).map(str::to_string);
            ec2.flow_logs.push(FlowLog {
                flow_log_id: text("FlowLogId").unwrap_or_else(|| format!("fl-planned-{index}")),
                resource_id: Some(target.id.clone()),
                traffic_type: text("TrafficType"),
                log_destination_type: text("LogDestinationType"),
                log_destination: text("LogDestination"),
                log_group_name: text("LogGroupName"),
                flow_log_status: Some("ACTIVE".to_string()),
                ..FlowLog::default()
            });
        }
        Ok(())
    },
    calls: |target, from, to| {
        let ids = |state: &Value| -> Vec<String> {
            state
                .get("FlowLogs")
                .and_then(Value::as_array)
                .map(|logs| logs.iter().filter_map(|log| log.get("FlowLogId").and_then(Value::as_str).map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let kept = ids(to);
        let removed: Vec<String> = ids(from).into_iter().filter(|id| !kept.contains(id)).collect();
        let mut calls = Vec::new();
        if !removed.is_empty() {
            calls.push(Call::new("ec2", "DeleteFlowLogs", &target.region, json!({ "FlowLogIds": removed })));
        }
        for log in to.get("FlowLogs").and_then(Value::as_array).into_iter().flatten().filter(|log| log.get("FlowLogId").is_none()) {
            let mut parameters = json!({
                "ResourceIds": [target.id],
                "ResourceType": "VPC",
                "TrafficType": log.get("TrafficType").cloned().unwrap_or(json!("ALL")),
                "LogDestinationType": log.get("LogDestinationType").cloned().unwrap_or(json!("s3")),
            });
            for field in ["LogDestination", "LogGroupName", "DeliverLogsPermissionArn"] {
                if let (Some(value), Some(map)) = (log.get(field), parameters.as_object_mut()) {
                    map.insert(field.to_string(), value.clone());
                }
            }
            calls.push(Call::new("ec2", "CreateFlowLogs", &target.region, parameters));
        }
        Ok(calls)
    },
    normalize: |state| {
        let mut logs: Vec<String> = state
            .get("FlowLogs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|log| json!([log.get("TrafficType"), log.get("LogDestinationType"), log.get("LogDestination")]).to_string())
            .collect();
        logs.sort();
        json!(logs)
    },
    iac: |target, after| {
        let log = after
            .get("FlowLogs")
            .and_then(Value::as_array)
            .and_then(|logs| logs.iter().find(|log| log.get("FlowLogId").is_none()))
            .cloned()
            .unwrap_or(json!({}));
        iac::standalone(
            &format!("flow log of VPC {}", target.id),
            "aws_flow_log",
            &[
                ("vpc_id", json!(target.id)),
                ("traffic_type", log.get("TrafficType").cloned().unwrap_or(json!("ALL"))),
                ("log_destination_type", log.get("LogDestinationType").cloned().unwrap_or(json!("s3"))),
                ("log_destination", log.get("LogDestination").cloned().unwrap_or(Value::Null)),
            ],
            &format!(
                "FlowLog{}:\n  Type: AWS::EC2::FlowLog\n  Properties:\n    ResourceId: {}\n    ResourceType: VPC\n    TrafficType: {}\n    LogDestinationType: {}\n    LogDestination: {}",
                target.id.replace('-', ""),
                json!(target.id),
                log.get("TrafficType").cloned().unwrap_or(json!("ALL")),
                log.get("LogDestinationType").cloned().unwrap_or(json!("s3")),
                log.get("LogDestination").cloned().unwrap_or(Value::Null)
            ),
        )
    },
};

fn flow_log_value(log: &FlowLog) -> Value {
    clean(json!({
        "FlowLogId": log.flow_log_id,
        "TrafficType": log.traffic_type,
        "LogDestinationType": log.log_destination_type,
        "LogDestination": log.log_destination,
        "LogGroupName": log.log_group_name,
    }))
}

#[cfg(test)]
mod tests {
    use vigil_model::ec2::{IpRange, UserIdGroupPair};

    use super::*;

    fn target() -> Target {
        Target { kind: "security-group-rules".into(), account_id: "123456789012".into(), region: "us-east-1".into(), id: "sg-1".into(), arn: String::new() }
    }

    fn rule(protocol: &str, port: i32, cidrs: &[&str]) -> IpPermission {
        IpPermission {
            ip_protocol: protocol.into(),
            from_port: Some(port),
            to_port: Some(port),
            ip_ranges: cidrs.iter().map(|cidr| IpRange { cidr_ip: cidr.to_string(), description: None }).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn rules_split_into_single_source_atoms_and_group_back() {
        let mut with_group = rule("tcp", 22, &["0.0.0.0/0", "10.0.0.0/8"]);
        with_group.user_id_group_pairs.push(UserIdGroupPair { group_id: Some("sg-2".into()), ..Default::default() });
        let split = atoms(&[with_group.clone(), rule("tcp", 443, &["0.0.0.0/0"])]);
        assert_eq!(split.len(), 4);
        assert_eq!(group_atoms(&split), vec![with_group, rule("tcp", 443, &["0.0.0.0/0"])]);
    }

    #[test]
    fn calls_revoke_removed_sources_and_authorize_added_ones_and_the_inverse_undoes() {
        let before = json!({ "IpPermissions": [rule("tcp", 22, &["0.0.0.0/0", "10.0.0.0/8"])] });
        let after = json!({ "IpPermissions": [rule("tcp", 22, &["10.0.0.0/8", "192.0.2.0/24"])] });
        let calls = security_group_calls(&target(), &before, &after).unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].operation, "RevokeSecurityGroupIngress");
        assert_eq!(
            calls[0].parameters,
            json!({ "GroupId": "sg-1", "IpPermissions": [{ "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{ "CidrIp": "0.0.0.0/0" }] }] })
        );
        assert_eq!(calls[1].operation, "AuthorizeSecurityGroupIngress");
        let inverse = security_group_calls(&target(), &after, &before).unwrap();
        assert_eq!((inverse[0].operation.as_str(), inverse[1].operation.as_str()), ("RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress"));
        assert_eq!(security_group_calls(&target(), &before, &before).unwrap(), vec![]);
        // The same rules grouped differently are the same configuration.
        let regrouped = json!({ "IpPermissions": [rule("tcp", 22, &["10.0.0.0/8"]), rule("tcp", 22, &["0.0.0.0/0"])] });
        assert!(SECURITY_GROUP_RULES.same(&before, &regrouped));
        assert!(!SECURITY_GROUP_RULES.same(&before, &after));
    }

    fn launch_template() -> Target {
        Target {
            kind: "launch-template-metadata-options".into(),
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            id: "lt-1".into(),
            arn: String::new(),
        }
    }

    #[test]
    fn a_launch_template_fix_makes_a_version_from_the_default_and_its_inverse_only_restores_the_default() {
        let before =
            json!({ "DefaultVersionNumber": 2, "LatestVersionNumber": 3, "MetadataOptions": { "HttpTokens": "optional", "HttpPutResponseHopLimit": 2 } });
        let after =
            json!({ "DefaultVersionNumber": 4, "LatestVersionNumber": 4, "MetadataOptions": { "HttpTokens": "required", "HttpPutResponseHopLimit": 2 } });
        let calls = (LAUNCH_TEMPLATE_METADATA.calls)(&launch_template(), &before, &after).unwrap();
        let named: Vec<(&str, &Value)> = calls.iter().map(|call| (call.operation.as_str(), &call.parameters)).collect();
        assert_eq!(
            named,
            vec![
                (
                    "CreateLaunchTemplateVersion",
                    &json!({ "LaunchTemplateId": "lt-1", "SourceVersion": "2", "LaunchTemplateData": { "MetadataOptions": { "HttpTokens": "required", "HttpPutResponseHopLimit": 2 } } })
                ),
                ("ModifyLaunchTemplate", &json!({ "LaunchTemplateId": "lt-1", "DefaultVersion": "4" })),
            ]
        );
        let inverse = (LAUNCH_TEMPLATE_METADATA.calls)(&launch_template(), &after, &before).unwrap();
        assert_eq!(inverse, vec![Call::new("ec2", "ModifyLaunchTemplate", "eu-west-1", json!({ "LaunchTemplateId": "lt-1", "DefaultVersion": "2" }))]);
        assert!((LAUNCH_TEMPLATE_METADATA.calls)(&launch_template(), &before, &before).unwrap().is_empty());
    }

    #[test]
    fn a_launch_template_change_needs_the_next_version_number_and_a_new_default() {
        let before = json!({ "DefaultVersionNumber": 1, "LatestVersionNumber": 1, "MetadataOptions": { "HttpTokens": "optional" } });
        let in_place = json!({ "DefaultVersionNumber": 1, "LatestVersionNumber": 1, "MetadataOptions": { "HttpTokens": "required" } });
        let skipping = json!({ "DefaultVersionNumber": 3, "LatestVersionNumber": 3, "MetadataOptions": { "HttpTokens": "required" } });
        for to in [in_place, skipping] {
            let error = (LAUNCH_TEMPLATE_METADATA.calls)(&launch_template(), &before, &to).unwrap_err();
            assert!(matches!(error, FixError::Declined(_)), "{error}");
        }
    }

    #[test]
    fn a_launch_template_version_made_since_the_plan_is_a_change_but_an_undo_need_not_remove_it() {
        let planned = json!({ "DefaultVersionNumber": 1, "LatestVersionNumber": 1, "MetadataOptions": { "HttpTokens": "optional" } });
        let after_undo = json!({ "DefaultVersionNumber": 1, "LatestVersionNumber": 2, "MetadataOptions": { "HttpTokens": "optional" } });
        assert!(LAUNCH_TEMPLATE_METADATA.same(&planned, &after_undo), "an undo verifies the default version and its options");
        assert!(!LAUNCH_TEMPLATE_METADATA.unchanged(&planned, &after_undo), "a new version moves the predicted version number");
        assert!(LAUNCH_TEMPLATE_METADATA.unchanged(&planned, &planned.clone()));
    }

    #[test]
    fn a_launch_template_state_round_trips_through_an_inventory_and_needs_its_version_read() {
        let mut inventory = crate::support::test_inventory("eu-west-1");
        let regional = inventory.regional.entry(vigil_model::Region::new("eu-west-1")).or_default();
        regional.ec2.launch_templates.push(vigil_model::ec2::LaunchTemplate {
            launch_template_id: "lt-1".into(),
            default_version_number: Some(1),
            latest_version_number: Some(1),
            ..Default::default()
        });
        crate::support::record_read(&mut inventory, "ec2", "eu-west-1", "DescribeLaunchTemplates", None);
        let error = (LAUNCH_TEMPLATE_METADATA.state)(&inventory, &launch_template()).unwrap_err();
        assert!(error.to_string().contains("ec2:DescribeLaunchTemplateVersions"), "{error}");
        crate::support::record_read(&mut inventory, "ec2", "eu-west-1", "DescribeLaunchTemplateVersions", Some("lt-1"));
        assert_eq!((LAUNCH_TEMPLATE_METADATA.state)(&inventory, &launch_template()).unwrap(), json!({ "DefaultVersionNumber": 1, "LatestVersionNumber": 1 }));
        let desired =
            json!({ "DefaultVersionNumber": 2, "LatestVersionNumber": 2, "MetadataOptions": { "HttpTokens": "required", "HttpEndpoint": "enabled" } });
        (LAUNCH_TEMPLATE_METADATA.set_state)(&mut inventory, &launch_template(), &desired).unwrap();
        assert_eq!((LAUNCH_TEMPLATE_METADATA.state)(&inventory, &launch_template()).unwrap(), desired);
        let iac = (LAUNCH_TEMPLATE_METADATA.iac)(&launch_template(), &desired);
        assert!(iac.terraform.contains("resource \"aws_launch_template\"") && iac.terraform.contains("http_tokens = \"required\""), "{}", iac.terraform);
        assert!(iac.terraform.contains("update_default_version = true"), "{}", iac.terraform);
        assert!(iac.cloudformation.contains("AWS::EC2::LaunchTemplate") && iac.cloudformation.contains("HttpTokens: \"required\""), "{}", iac.cloudformation);
    }
}
