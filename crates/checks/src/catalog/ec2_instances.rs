//! EC2 compute and EBS checks: IMDSv2 (instances, launch templates, account defaults), public
//! addresses, instance profiles, the default VPC, Elastic IPs, AMIs, and EBS encryption.

use std::collections::BTreeMap;

use serde_json::json;
use vigil_model::ec2::{Instance, LaunchTemplate};
use vigil_model::resource::ResourceData;

use super::FnCheck;
use super::support::{each_resource, regional};
use crate::context::{Context, Needs};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const INSTANCE: &str = "AWS::EC2::Instance";
const INSTANCES: &[Read] = &[Read::regional("ec2", "DescribeInstances")];
const LAUNCH_TEMPLATE: &str = "AWS::EC2::LaunchTemplate";
const LAUNCH_TEMPLATES: &[Read] = &[Read::regional("ec2", "DescribeLaunchTemplates")];

/// Assesses every instance that is not terminated.
fn each_instance(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    needs_of: fn(&str) -> Vec<Needs<'_>>,
    judge: impl Fn(&Instance) -> (bool, String, serde_json::Value),
) {
    each_resource(context, findings, INSTANCE, |resource, subject, findings| {
        let ResourceData::Instance(instance) = resource.data else { return };
        if instance.is_gone() {
            return;
        }
        findings.push(context.decide(metadata, subject, &needs_of(resource.region), || judge(instance)));
    });
}

fn no_needs(_: &str) -> Vec<Needs<'_>> {
    Vec::new()
}

pub static INSTANCE_IMDSV2_REQUIRED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_instance_imdsv2_required",
        title: "EC2 instances require IMDSv2 (or disable the metadata service)",
        service: "ec2",
        resource_type: INSTANCE,
        severity: Severity::High,
        risk: "IMDSv1 answers any GET request, so a server-side request forgery in the workload hands out the instance role's credentials.",
        remediation: Remediation {
            text: "Set HttpTokens to required on every instance (after checking the software uses an IMDSv2-aware SDK).",
            cli: "aws ec2 modify-instance-metadata-options --instance-id INSTANCE_ID --http-tokens required --http-endpoint enabled",
            terraform: "resource \"aws_instance\" \"app\" {\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html"],
        frameworks: &[("cis-aws-5.0", "5.7"), ("aws-fsbp", "EC2.8"), ("pci-dss-4.0", "2.2.6"), ("nist-800-53-r5", "AC-3")],
        reads: INSTANCES,
    },
    run: instance_imdsv2_required,
};

fn instance_imdsv2_required(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_instance(metadata, context, findings, no_needs, |instance| {
        let options = instance.metadata_options.as_ref();
        let tokens = options.and_then(|options| options.http_tokens.as_deref());
        let disabled = options.and_then(|options| options.http_endpoint.as_deref()) == Some("disabled");
        let good = tokens == Some("required") || disabled;
        let message = if disabled {
            format!("Instance `{}` has the metadata service disabled.", instance.instance_id)
        } else {
            format!("Instance `{}` metadata service HttpTokens is {}.", instance.instance_id, tokens.unwrap_or("unknown"))
        };
        (good, message, json!({ "MetadataOptions": options }))
    });
}

pub static INSTANCE_NO_PUBLIC_IP: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_instance_no_public_ip",
        title: "EC2 instances have no public IPv4 address",
        service: "ec2",
        resource_type: INSTANCE,
        severity: Severity::Medium,
        risk: "An instance with a public address is one security group mistake away from the internet; published services belong behind load balancers.",
        remediation: Remediation {
            text: "Launch instances in private subnets without public addresses and publish services through a load balancer or CloudFront.",
            cli: "aws ec2 modify-subnet-attribute --subnet-id SUBNET_ID --no-map-public-ip-on-launch",
            terraform: "resource \"aws_instance\" \"app\" {\n  associate_public_ip_address = false\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-instance-addressing.html"],
        frameworks: &[("aws-fsbp", "EC2.9"), ("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "SC-7")],
        reads: INSTANCES,
    },
    run: instance_no_public_ip,
};

fn instance_no_public_ip(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_instance(metadata, context, findings, no_needs, |instance| {
        let message = match &instance.public_ip_address {
            Some(address) => format!("Instance `{}` has public IPv4 address {address}.", instance.instance_id),
            None => format!("Instance `{}` has no public IPv4 address.", instance.instance_id),
        };
        (instance.public_ip_address.is_none(), message, json!({ "PublicIpAddress": instance.public_ip_address }))
    });
}

pub static INSTANCE_PROFILE_ATTACHED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_instance_profile_attached",
        title: "EC2 instances use an IAM instance profile for AWS access",
        service: "ec2",
        resource_type: INSTANCE,
        severity: Severity::Low,
        risk: "Instances without a role tend to get long-lived access keys copied onto their disks, where they leak with backups, images and compromises.",
        remediation: Remediation {
            text: "Attach an instance profile whose role grants what the workload needs, and remove any access keys stored on the instance.",
            cli: "aws ec2 associate-iam-instance-profile --instance-id INSTANCE_ID --iam-instance-profile Name=PROFILE",
            terraform: "resource \"aws_instance\" \"app\" {\n  iam_instance_profile = aws_iam_instance_profile.app.name\n}",
        },
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html"],
        frameworks: &[("cis-aws-5.0", "1.17"), ("nist-800-53-r5", "IA-5")],
        reads: INSTANCES,
    },
    run: instance_profile_attached,
};

fn instance_profile_attached(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_instance(metadata, context, findings, no_needs, |instance| {
        let profile = instance.iam_instance_profile.as_ref().map(|profile| profile.arn.as_str());
        let message = match profile {
            Some(arn) => format!("Instance `{}` uses instance profile `{arn}`.", instance.instance_id),
            None => format!("Instance `{}` has no instance profile.", instance.instance_id),
        };
        (profile.is_some(), message, json!({ "IamInstanceProfile": profile }))
    });
}

pub static INSTANCE_NOT_IN_DEFAULT_VPC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_instance_not_in_default_vpc",
        title: "EC2 instances do not run in a default VPC",
        service: "ec2",
        resource_type: INSTANCE,
        severity: Severity::Low,
        risk: "Default VPCs have only public subnets with automatic public addresses; instances there are exposed by default rather than by design.",
        remediation: Remediation {
            text: "Move the workload into a purpose-built VPC with private subnets.",
            cli: "aws ec2 describe-instances --filters Name=vpc-id,Values=DEFAULT_VPC_ID --query 'Reservations[].Instances[].InstanceId'",
            terraform: "resource \"aws_instance\" \"app\" {\n  subnet_id = aws_subnet.private.id\n}",
        },
        references: &["https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html"],
        frameworks: &[("nist-800-53-r5", "SC-7")],
        reads: &[Read::regional("ec2", "DescribeInstances"), Read::regional("ec2", "DescribeVpcs")],
    },
    run: instance_not_in_default_vpc,
};

fn instance_not_in_default_vpc(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    // Each region's default VPCs (one at most), found once rather than among all the region's
    // VPCs for each instance.
    let default_vpcs: BTreeMap<&str, Vec<&str>> = context
        .inventory
        .regional
        .iter()
        .map(|(region, regional)| (region.as_str(), regional.ec2.vpcs.iter().filter(|vpc| vpc.is_default).map(|vpc| vpc.vpc_id.as_str()).collect()))
        .collect();
    each_resource(context, findings, INSTANCE, |resource, subject, findings| {
        let ResourceData::Instance(instance) = resource.data else { return };
        if instance.is_gone() {
            return;
        }
        let defaults = default_vpcs.get(resource.region).map(Vec::as_slice).unwrap_or_default();
        findings.push(context.decide(metadata, subject, &[], || {
            let default = instance.vpc_id.as_deref().is_some_and(|vpc_id| defaults.contains(&vpc_id));
            let message = if default {
                format!("Instance `{}` runs in the default VPC.", instance.instance_id)
            } else {
                format!("Instance `{}` does not run in a default VPC.", instance.instance_id)
            };
            (!default, message, json!({ "VpcId": instance.vpc_id, "DefaultVpc": default }))
        }));
    });
}

/// The region's account-level IMDS default, when it asks for IMDSv2.
fn account_requires_imdsv2(context: &Context<'_>, region: &str) -> bool {
    regional(context, region)
        .and_then(|regional| regional.ec2.instance_metadata_defaults.as_ref())
        .is_some_and(|defaults| defaults.http_tokens.as_deref() == Some("required"))
}

fn each_launch_template(
    metadata: &Metadata,
    context: &Context<'_>,
    findings: &mut Vec<Finding>,
    extra_need: fn(&LaunchTemplate) -> Option<&'static str>,
    judge: impl Fn(&str, &LaunchTemplate) -> (bool, String, serde_json::Value),
) {
    each_resource(context, findings, LAUNCH_TEMPLATE, |resource, subject, findings| {
        let ResourceData::LaunchTemplate(template) = resource.data else { return };
        let mut needs = vec![Needs::call("ec2", resource.region, "DescribeLaunchTemplateVersions").on(&template.launch_template_id)];
        needs.extend(extra_need(template).map(|operation| Needs::call("ec2", resource.region, operation)));
        findings.push(context.decide(metadata, subject, &needs, || judge(resource.region, template)));
    });
}

pub static LAUNCH_TEMPLATE_IMDSV2: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_launch_template_imdsv2_required",
        title: "EC2 launch templates require IMDSv2",
        service: "ec2",
        resource_type: LAUNCH_TEMPLATE,
        severity: Severity::Medium,
        risk: "Every instance launched from a template that allows IMDSv1 (and whose region default does not require IMDSv2) is exposed to credential theft through SSRF.",
        remediation: Remediation {
            text: "Create a new default template version with HttpTokens required, or require IMDSv2 in the region's account-level metadata defaults.",
            cli: "aws ec2 create-launch-template-version --launch-template-id LT_ID --source-version '$Default' --launch-template-data '{\"MetadataOptions\":{\"HttpTokens\":\"required\"}}'\naws ec2 modify-instance-metadata-defaults --http-tokens required",
            terraform: "resource \"aws_launch_template\" \"app\" {\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html"],
        frameworks: &[("aws-fsbp", "EC2.170"), ("pci-dss-4.0", "2.2.6"), ("nist-800-53-r5", "AC-3")],
        reads: LAUNCH_TEMPLATES,
    },
    run: launch_template_imdsv2,
};

fn launch_template_imdsv2(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    // The region default matters only when the template leaves HttpTokens unset.
    let needs_default = |template: &LaunchTemplate| {
        let tokens = template.default_version_data.as_ref().and_then(|data| data.metadata_options.as_ref()).and_then(|options| options.http_tokens.as_ref());
        tokens.is_none().then_some("GetInstanceMetadataDefaults")
    };
    each_launch_template(metadata, context, findings, needs_default, |region, template| {
        let options = template.default_version_data.as_ref().and_then(|data| data.metadata_options.as_ref());
        let tokens = options.and_then(|options| options.http_tokens.as_deref());
        let disabled = options.and_then(|options| options.http_endpoint.as_deref()) == Some("disabled");
        let account_default = account_requires_imdsv2(context, region);
        let good = tokens == Some("required") || disabled || (tokens.is_none() && account_default);
        let message = match (good, tokens) {
            (true, _) => format!("Launch template `{}` launches instances that require IMDSv2.", template.launch_template_id),
            (false, Some(tokens)) => format!("Launch template `{}` sets HttpTokens to {tokens}.", template.launch_template_id),
            (false, None) => format!("Launch template `{}` does not require IMDSv2 and neither does the region default.", template.launch_template_id),
        };
        (good, message, json!({ "MetadataOptions": options, "AccountDefaultRequiresImdsv2": account_default }))
    });
}

pub static LAUNCH_TEMPLATE_NO_PUBLIC_IP: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_launch_template_no_public_ip",
        title: "EC2 launch templates do not assign public IP addresses",
        service: "ec2",
        resource_type: LAUNCH_TEMPLATE,
        severity: Severity::Medium,
        risk: "Templates that ask for public addresses put every launched instance on the internet.",
        remediation: Remediation {
            text: "Create a new default template version whose network interfaces set AssociatePublicIpAddress to false.",
            cli: "aws ec2 create-launch-template-version --launch-template-id LT_ID --source-version '$Default' --launch-template-data '{\"NetworkInterfaces\":[{\"DeviceIndex\":0,\"AssociatePublicIpAddress\":false}]}'",
            terraform: "resource \"aws_launch_template\" \"app\" {\n  network_interfaces {\n    associate_public_ip_address = false\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-launch-templates.html"],
        frameworks: &[("aws-fsbp", "EC2.25"), ("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "SC-7")],
        reads: LAUNCH_TEMPLATES,
    },
    run: launch_template_no_public_ip,
};

fn launch_template_no_public_ip(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_launch_template(
        metadata,
        context,
        findings,
        |_| None,
        |_, template| {
            let public = template.default_version_data.as_ref().and_then(|data| data.associate_public_ip_address) == Some(true);
            let message = if public {
                format!("Launch template `{}` assigns public IP addresses.", template.launch_template_id)
            } else {
                format!("Launch template `{}` does not assign public IP addresses.", template.launch_template_id)
            };
            (!public, message, json!({ "AssociatePublicIpAddress": template.default_version_data.as_ref().and_then(|data| data.associate_public_ip_address) }))
        },
    );
}

pub static LAUNCH_TEMPLATE_EBS_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_launch_template_ebs_encrypted",
        title: "EC2 launch templates create encrypted EBS volumes",
        service: "ec2",
        resource_type: LAUNCH_TEMPLATE,
        severity: Severity::Medium,
        risk: "Volumes created from a template mapping without encryption (in a region without EBS encryption by default) hold data unencrypted at rest.",
        remediation: Remediation {
            text: "Set Encrypted to true on every block device mapping of the default version, or enable EBS encryption by default in the region.",
            cli: "aws ec2 enable-ebs-encryption-by-default",
            terraform: "resource \"aws_launch_template\" \"app\" {\n  block_device_mappings {\n    device_name = \"/dev/xvda\"\n    ebs {\n      encrypted = true\n    }\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html"],
        frameworks: &[("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: LAUNCH_TEMPLATES,
    },
    run: launch_template_ebs_encrypted,
};

fn launch_template_ebs_encrypted(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    // The region default matters only when a mapping is not explicitly encrypted.
    let needs_default = |template: &LaunchTemplate| {
        let mappings = template.default_version_data.as_ref().map(|data| data.ebs_encrypted.as_slice()).unwrap_or_default();
        mappings.iter().any(|encrypted| *encrypted != Some(true)).then_some("GetEbsEncryptionByDefault")
    };
    each_launch_template(metadata, context, findings, needs_default, |region, template| {
        let by_default = regional(context, region).and_then(|regional| regional.ec2.ebs_encryption_by_default) == Some(true);
        let mappings: &[Option<bool>] = template.default_version_data.as_ref().map(|data| data.ebs_encrypted.as_slice()).unwrap_or_default();
        let unencrypted = mappings.iter().filter(|encrypted| **encrypted != Some(true)).count();
        let good = by_default || unencrypted == 0;
        let message = if good {
            format!("Launch template `{}` creates only encrypted volumes.", template.launch_template_id)
        } else {
            format!(
                "Launch template `{}` has {unencrypted} unencrypted volume mapping(s) and the region does not encrypt by default.",
                template.launch_template_id
            )
        };
        (good, message, json!({ "EbsEncrypted": mappings, "EbsEncryptionByDefault": by_default }))
    });
}

pub static ACCOUNT_IMDSV2_DEFAULT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_account_imdsv2_default_required",
        title: "New instances require IMDSv2 by default in every region",
        service: "ec2",
        resource_type: "AWS::::Account",
        severity: Severity::Low,
        risk: "Without the account-level default, every launch path (console, scripts, third-party tools) must remember to require IMDSv2 itself.",
        remediation: Remediation {
            text: "Set the account-level instance metadata defaults to require IMDSv2 in every region.",
            cli: "aws ec2 modify-instance-metadata-defaults --http-tokens required --region REGION",
            terraform: "resource \"aws_ec2_instance_metadata_defaults\" \"imdsv2\" {\n  http_tokens = \"required\"\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html#set-imds-options-at-account-level"],
        frameworks: &[("nist-800-53-r5", "CM-6")],
        reads: &[Read::regional("ec2", "GetInstanceMetadataDefaults")],
    },
    run: account_imdsv2_default,
};

fn account_imdsv2_default(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    for region in &context.inventory.regions {
        let region = region.as_str();
        let subject = context.region_subject(region);
        let defaults = regional(context, region).and_then(|regional| regional.ec2.instance_metadata_defaults.as_ref());
        findings.push(context.decide(metadata, &subject, &[], || {
            let required = account_requires_imdsv2(context, region);
            let message = if required {
                format!("New instances in {region} require IMDSv2 by default.")
            } else {
                format!("New instances in {region} do not require IMDSv2 by default.")
            };
            (required, message, json!({ "AccountLevel": defaults }))
        }));
    }
}

pub static EBS_ENCRYPTION_BY_DEFAULT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_ebs_encryption_by_default",
        title: "EBS encryption by default is enabled in every region",
        service: "ec2",
        resource_type: "AWS::::Account",
        severity: Severity::Medium,
        risk: "Without encryption by default, every volume and snapshot created without an explicit flag is stored unencrypted.",
        remediation: Remediation {
            text: "Enable EBS encryption by default in every region (optionally with a customer managed default key).",
            cli: "aws ec2 enable-ebs-encryption-by-default --region REGION",
            terraform: "resource \"aws_ebs_encryption_by_default\" \"on\" {\n  enabled = true\n}",
        },
        references: &["https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html"],
        frameworks: &[("cis-aws-5.0", "5.1.1"), ("aws-fsbp", "EC2.7"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: &[Read::regional("ec2", "GetEbsEncryptionByDefault")],
    },
    run: ebs_encryption_by_default,
};

fn ebs_encryption_by_default(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    for region in &context.inventory.regions {
        let region = region.as_str();
        let subject = context.region_subject(region);
        let enabled = regional(context, region).and_then(|regional| regional.ec2.ebs_encryption_by_default);
        findings.push(context.decide(metadata, &subject, &[], || {
            let on = enabled == Some(true);
            let message = if on { format!("EBS encryption by default is on in {region}.") } else { format!("EBS encryption by default is off in {region}.") };
            (on, message, json!({ "EbsEncryptionByDefault": enabled }))
        }));
    }
}

pub static EBS_VOLUME_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_ebs_volume_encrypted",
        title: "EBS volumes are encrypted",
        service: "ec2",
        resource_type: "AWS::EC2::Volume",
        severity: Severity::Medium,
        risk: "An unencrypted volume exposes its data to anyone who obtains a snapshot or the underlying storage.",
        remediation: Remediation {
            text: "Snapshot the volume, copy the snapshot with encryption, create an encrypted volume from it and swap it in; enable encryption by default.",
            cli: "aws ec2 copy-snapshot --source-region REGION --source-snapshot-id SNAPSHOT_ID --encrypted --kms-key-id KEY_ID",
            terraform: "resource \"aws_ebs_volume\" \"data\" {\n  availability_zone = \"eu-west-1a\"\n  size              = 100\n  encrypted         = true\n}",
        },
        references: &["https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html"],
        frameworks: &[("aws-fsbp", "EC2.3"), ("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: &[Read::regional("ec2", "DescribeVolumes")],
    },
    run: ebs_volume_encrypted,
};

fn ebs_volume_encrypted(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::Volume", |resource, subject, findings| {
        let ResourceData::Volume(volume) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let message = if volume.encrypted {
                format!("Volume `{}` is encrypted.", volume.volume_id)
            } else {
                format!("Volume `{}` is not encrypted.", volume.volume_id)
            };
            (volume.encrypted, message, json!({ "Encrypted": volume.encrypted, "KmsKeyId": volume.kms_key_id }))
        }));
    });
}

pub static EBS_SNAPSHOT_ENCRYPTED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_ebs_snapshot_encrypted",
        title: "EBS snapshots are encrypted",
        service: "ec2",
        resource_type: "AWS::EC2::Snapshot",
        severity: Severity::Medium,
        risk: "Unencrypted snapshots can be shared or copied without any key policy standing in the way of reading them.",
        remediation: Remediation {
            text: "Copy unencrypted snapshots with encryption enabled and delete the originals.",
            cli: "aws ec2 copy-snapshot --source-region REGION --source-snapshot-id SNAPSHOT_ID --encrypted --kms-key-id KEY_ID",
            terraform: "resource \"aws_ebs_snapshot_copy\" \"encrypted\" {\n  source_snapshot_id = aws_ebs_snapshot.plain.id\n  source_region      = \"eu-west-1\"\n  encrypted          = true\n}",
        },
        references: &["https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html"],
        frameworks: &[("pci-dss-4.0", "3.5.1"), ("nist-800-53-r5", "SC-28")],
        reads: &[Read::regional("ec2", "DescribeSnapshots")],
    },
    run: ebs_snapshot_encrypted,
};

fn ebs_snapshot_encrypted(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::Snapshot", |resource, subject, findings| {
        let ResourceData::Snapshot(snapshot) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let message = if snapshot.encrypted {
                format!("Snapshot `{}` is encrypted.", snapshot.snapshot_id)
            } else {
                format!("Snapshot `{}` is not encrypted.", snapshot.snapshot_id)
            };
            (snapshot.encrypted, message, json!({ "Encrypted": snapshot.encrypted, "KmsKeyId": snapshot.kms_key_id }))
        }));
    });
}

pub static AMI_NOT_PUBLIC: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_ami_not_public",
        title: "AMIs owned by the account are not public",
        service: "ec2",
        resource_type: "AWS::EC2::Image",
        severity: Severity::Critical,
        risk: "A public AMI lets anyone launch a copy of the machine, with whatever credentials, keys and data were baked into it.",
        remediation: Remediation {
            text: "Remove the `all` group from the image's launch permissions; share with specific accounts if needed.",
            cli: "aws ec2 modify-image-attribute --image-id AMI_ID --launch-permission '{\"Remove\":[{\"Group\":\"all\"}]}'",
            terraform: "# Do not declare aws_ami_launch_permission resources with group = \"all\".",
        },
        references: &["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-intro.html"],
        frameworks: &[("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "AC-3")],
        reads: &[Read::regional("ec2", "DescribeImages")],
    },
    run: ami_not_public,
};

fn ami_not_public(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::Image", |resource, subject, findings| {
        let ResourceData::Image(image) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            let message = if image.public { format!("Image `{}` is public.", image.image_id) } else { format!("Image `{}` is not public.", image.image_id) };
            (!image.public, message, json!({ "Public": image.public }))
        }));
    });
}

pub static ELASTIC_IP_ATTACHED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_elastic_ip_associated",
        title: "Elastic IP addresses are associated with a resource",
        service: "ec2",
        resource_type: "AWS::EC2::EIP",
        severity: Severity::Low,
        risk: "Unattached Elastic IPs cost money and may still be trusted by partners' allow lists after the service behind them is gone.",
        remediation: Remediation {
            text: "Release Elastic IPs that are no longer needed.",
            cli: "aws ec2 release-address --allocation-id ALLOCATION_ID",
            terraform: "# Remove the unused aws_eip resource.",
        },
        references: &["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html"],
        frameworks: &[("aws-securityhub", "EC2.12"), ("nist-800-53-r5", "CM-8")],
        reads: &[Read::regional("ec2", "DescribeAddresses")],
    },
    run: elastic_ip_attached,
};

fn elastic_ip_attached(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    each_resource(context, findings, "AWS::EC2::EIP", |resource, subject, findings| {
        let ResourceData::Address(address) = resource.data else { return };
        findings.push(context.decide(metadata, subject, &[], || {
            // Some endpoints return empty strings rather than omitting the fields of a free address.
            let associated =
                [&address.association_id, &address.instance_id, &address.network_interface_id].iter().any(|id| id.as_deref().is_some_and(|id| !id.is_empty()));
            let ip = address.public_ip.as_deref().unwrap_or_default();
            let message = if associated { format!("Elastic IP {ip} is associated.") } else { format!("Elastic IP {ip} is not associated with anything.") };
            (
                associated,
                message,
                json!({ "AssociationId": address.association_id, "InstanceId": address.instance_id, "NetworkInterfaceId": address.network_interface_id }),
            )
        }));
    });
}

#[cfg(test)]
mod tests {
    use vigil_model::ec2::{
        Address, IamInstanceProfile, Image, InstanceMetadataDefaults, InstanceMetadataOptions, InstanceState, LaunchTemplateData, Snapshot, Volume, Vpc,
    };

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::*;

    const REGION: &str = "us-east-1";

    fn ec2(inventory: &mut vigil_model::Inventory) -> &mut vigil_model::ec2::Ec2 {
        &mut inventory.regional.get_mut(&REGION.into()).unwrap().ec2
    }

    fn instance(id: &str, tokens: &str, public: bool, profile: bool, vpc: &str) -> Instance {
        Instance {
            instance_id: id.into(),
            state: InstanceState { name: "running".into(), code: Some(16) },
            metadata_options: Some(InstanceMetadataOptions { http_tokens: Some(tokens.into()), http_endpoint: Some("enabled".into()), ..Default::default() }),
            public_ip_address: public.then(|| "203.0.113.10".to_string()),
            iam_instance_profile: profile.then(|| IamInstanceProfile { arn: "arn:aws:iam::123456789012:instance-profile/app".into(), id: None }),
            vpc_id: Some(vpc.into()),
            ..Default::default()
        }
    }

    #[test]
    fn instance_checks_fail_the_bad_twin_and_skip_terminated_instances() {
        let mut inventory = inventory();
        read(&mut inventory, "ec2", REGION, "DescribeInstances", None);
        read(&mut inventory, "ec2", REGION, "DescribeVpcs", None);
        let ec2 = ec2(&mut inventory);
        ec2.vpcs = vec![Vpc { vpc_id: "vpc-default".into(), is_default: true, ..Default::default() }];
        let mut terminated = instance("i-gone", "optional", true, false, "vpc-default");
        terminated.state.name = "terminated".into();
        ec2.instances = vec![instance("i-good", "required", false, true, "vpc-app"), instance("i-bad", "optional", true, false, "vpc-default"), terminated];
        for check in [&INSTANCE_IMDSV2_REQUIRED, &INSTANCE_NO_PUBLIC_IP, &INSTANCE_PROFILE_ATTACHED, &INSTANCE_NOT_IN_DEFAULT_VPC] {
            assert_eq!(statuses(&run(check, &inventory)), vec![("i-bad".into(), Status::Fail), ("i-good".into(), Status::Pass)], "{}", check.metadata.id);
        }
        inventory.ledger.calls.clear();
        record(&mut inventory, "ec2", REGION, "DescribeInstances", None, denied());
        for check in [&INSTANCE_IMDSV2_REQUIRED, &INSTANCE_NO_PUBLIC_IP, &INSTANCE_PROFILE_ATTACHED, &INSTANCE_NOT_IN_DEFAULT_VPC] {
            let findings = run(check, &inventory);
            assert_eq!(statuses(&findings), vec![(ACCOUNT.into(), Status::Error)], "{}", check.metadata.id);
            assert!(findings[0].message.contains("ec2:DescribeInstances"));
        }
    }

    #[test]
    fn launch_templates_are_judged_with_the_region_defaults() {
        let mut inventory = inventory();
        read(&mut inventory, "ec2", REGION, "DescribeLaunchTemplates", None);
        read(&mut inventory, "ec2", REGION, "GetInstanceMetadataDefaults", None);
        read(&mut inventory, "ec2", REGION, "GetEbsEncryptionByDefault", None);
        let template = |id: &str, tokens: Option<&str>, public: bool, encrypted: Option<bool>| LaunchTemplate {
            launch_template_id: id.into(),
            default_version_data: Some(LaunchTemplateData {
                metadata_options: tokens.map(|tokens| InstanceMetadataOptions { http_tokens: Some(tokens.into()), ..Default::default() }),
                associate_public_ip_address: Some(public),
                ebs_encrypted: vec![encrypted],
                ..Default::default()
            }),
            ..Default::default()
        };
        ec2(&mut inventory).launch_templates = vec![
            template("lt-good", Some("required"), false, Some(true)),
            template("lt-bad", Some("optional"), true, None),
            template("lt-unset", None, false, Some(true)),
            template("lt-denied", Some("required"), false, Some(true)),
        ];
        for id in ["lt-good", "lt-bad", "lt-unset"] {
            read(&mut inventory, "ec2", REGION, "DescribeLaunchTemplateVersions", Some(id));
        }
        record(&mut inventory, "ec2", REGION, "DescribeLaunchTemplateVersions", Some("lt-denied"), denied());
        let expected = |unset: Status| {
            vec![("lt-bad".into(), Status::Fail), ("lt-denied".into(), Status::Error), ("lt-good".into(), Status::Pass), ("lt-unset".into(), unset)]
        };
        assert_eq!(statuses(&run(&LAUNCH_TEMPLATE_IMDSV2, &inventory)), expected(Status::Fail));
        assert_eq!(statuses(&run(&LAUNCH_TEMPLATE_NO_PUBLIC_IP, &inventory)), expected(Status::Pass));
        assert_eq!(statuses(&run(&LAUNCH_TEMPLATE_EBS_ENCRYPTED, &inventory)), expected(Status::Pass));
        assert_eq!(run(&ACCOUNT_IMDSV2_DEFAULT, &inventory)[0].status, Status::Fail);
        ec2(&mut inventory).instance_metadata_defaults = Some(InstanceMetadataDefaults { http_tokens: Some("required".into()), ..Default::default() });
        assert_eq!(statuses(&run(&LAUNCH_TEMPLATE_IMDSV2, &inventory)), expected(Status::Pass));
        assert_eq!(run(&ACCOUNT_IMDSV2_DEFAULT, &inventory)[0].status, Status::Pass);
        ec2(&mut inventory).ebs_encryption_by_default = Some(true);
        assert_eq!(run(&LAUNCH_TEMPLATE_EBS_ENCRYPTED, &inventory).iter().filter(|finding| finding.status == Status::Fail).count(), 0);
    }

    #[test]
    fn ebs_encryption_ami_and_elastic_ip_checks_judge_each_resource() {
        let mut inventory = inventory();
        for operation in ["DescribeVolumes", "DescribeSnapshots", "DescribeImages", "DescribeAddresses", "GetEbsEncryptionByDefault"] {
            read(&mut inventory, "ec2", REGION, operation, None);
        }
        let ec2 = ec2(&mut inventory);
        ec2.volumes =
            vec![Volume { volume_id: "vol-good".into(), encrypted: true, ..Default::default() }, Volume { volume_id: "vol-bad".into(), ..Default::default() }];
        ec2.snapshots = vec![
            Snapshot { snapshot_id: "snap-good".into(), encrypted: true, ..Default::default() },
            Snapshot { snapshot_id: "snap-bad".into(), ..Default::default() },
        ];
        ec2.images =
            vec![Image { image_id: "ami-good".into(), ..Default::default() }, Image { image_id: "ami-bad".into(), public: true, ..Default::default() }];
        ec2.addresses = vec![
            Address { allocation_id: Some("eipalloc-good".into()), association_id: Some("eipassoc-1".into()), ..Default::default() },
            Address { allocation_id: Some("eipalloc-bad".into()), ..Default::default() },
        ];
        ec2.ebs_encryption_by_default = Some(false);
        let pair = |prefix: &str| vec![(format!("{prefix}-bad"), Status::Fail), (format!("{prefix}-good"), Status::Pass)];
        assert_eq!(statuses(&run(&EBS_VOLUME_ENCRYPTED, &inventory)), pair("vol"));
        assert_eq!(statuses(&run(&EBS_SNAPSHOT_ENCRYPTED, &inventory)), pair("snap"));
        assert_eq!(statuses(&run(&AMI_NOT_PUBLIC, &inventory)), pair("ami"));
        assert_eq!(statuses(&run(&ELASTIC_IP_ATTACHED, &inventory)), pair("eipalloc"));
        assert_eq!(run(&EBS_ENCRYPTION_BY_DEFAULT, &inventory)[0].status, Status::Fail);
        inventory.ledger.calls.retain(|call| call.operation != "GetEbsEncryptionByDefault");
        record(&mut inventory, "ec2", REGION, "GetEbsEncryptionByDefault", None, denied());
        assert_eq!(run(&EBS_ENCRYPTION_BY_DEFAULT, &inventory)[0].status, Status::Error);
    }
}
