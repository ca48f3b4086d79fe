//! Auto Scaling checks: groups across several Availability Zones, ELB health checks,
//! IMDSv2 on the instances they launch, launch templates over launch configurations,
//! and no public IP addresses from launch configurations.

use serde_json::{Value, json};
use vigil_model::RegionalInventory;
use vigil_model::autoscaling::{AutoScalingGroup, LaunchConfiguration, LaunchTemplateSpecification};
use vigil_model::ec2::LaunchTemplate;

use super::FnCheck;
use super::support::{Verdict, cannot_decide, each_regional, subject_of};
use crate::context::Needs;
use crate::{Metadata, Read, Remediation, Severity};

const GROUPS: &[Read] = &[Read::regional("autoscaling", "DescribeAutoScalingGroups")];
const CONFIGURATIONS: &[Read] = &[Read::regional("autoscaling", "DescribeLaunchConfigurations")];
/// What a group's IMDS settings come from: the groups, their launch configurations and the
/// launch templates (whose default versions are described per template).
const IMDS_SOURCES: &[Read] = &[
    Read::regional("autoscaling", "DescribeAutoScalingGroups"),
    Read::regional("autoscaling", "DescribeLaunchConfigurations"),
    Read::regional("ec2", "DescribeLaunchTemplates"),
];

pub static GROUP_MULTIPLE_AZ: FnCheck = FnCheck {
    metadata: Metadata {
        id: "autoscaling_group_multiple_az",
        title: "Auto Scaling groups span at least two Availability Zones",
        service: "autoscaling",
        resource_type: "AWS::AutoScaling::AutoScalingGroup",
        severity: Severity::Medium,
        risk: "A group confined to one zone loses all its capacity with that zone. Policy parameter `autoscaling_min_availability_zones` (default 2).",
        remediation: Remediation {
            text: "Add subnets in other Availability Zones to the group.",
            cli: "aws autoscaling update-auto-scaling-group --auto-scaling-group-name NAME --vpc-zone-identifier SUBNET_A,SUBNET_B",
            terraform: "resource \"aws_autoscaling_group\" \"main\" {\n  # ...\n  vpc_zone_identifier = [aws_subnet.a.id, aws_subnet.b.id]\n}",
        },
        references: &["https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-availability-zone-balanced.html"],
        frameworks: &[("aws-fsbp", "AutoScaling.2"), ("nist-800-53-r5", "CP-10"), ("nist-800-53-r5", "SC-36")],
        reads: GROUPS,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |group: &AutoScalingGroup, _, region| {
            let minimum = context.number(&subject_of(context, region, group), "autoscaling_min_availability_zones", 2);
            let zones = group.availability_zones.len() as i64;
            let message = format!("Auto Scaling group `{}` spans {zones} Availability Zone(s); at least {minimum} required.", group.auto_scaling_group_name);
            Some((vec![], (zones >= minimum, message, json!({ "AvailabilityZones": group.availability_zones }))))
        })
    },
};

pub static GROUP_ELB_HEALTH_CHECK: FnCheck = FnCheck {
    metadata: Metadata {
        id: "autoscaling_group_elb_health_check",
        title: "Auto Scaling groups behind a load balancer use ELB health checks",
        service: "autoscaling",
        resource_type: "AWS::AutoScaling::AutoScalingGroup",
        severity: Severity::Low,
        risk: "With EC2 health checks only, an instance whose application is broken keeps receiving traffic and is never replaced.",
        remediation: Remediation {
            text: "Set the group's health check type to ELB.",
            cli: "aws autoscaling update-auto-scaling-group --auto-scaling-group-name NAME --health-check-type ELB --health-check-grace-period 300",
            terraform: "resource \"aws_autoscaling_group\" \"main\" {\n  # ...\n  health_check_type = \"ELB\"\n}",
        },
        references: &["https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html"],
        frameworks: &[("aws-fsbp", "AutoScaling.1"), ("nist-800-53-r5", "CP-10"), ("nist-800-53-r5", "SI-2")],
        reads: GROUPS,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |group: &AutoScalingGroup, _, _| {
            if group.load_balancer_names.is_empty() && group.target_group_arns.is_empty() {
                return None;
            }
            let elb = group.health_check_type.as_deref().is_some_and(|kind| kind.split(',').any(|kind| kind.trim() == "ELB"));
            let message =
                format!("Auto Scaling group `{}` uses {} health checks.", group.auto_scaling_group_name, group.health_check_type.as_deref().unwrap_or("EC2"));
            Some((
                vec![],
                (
                    elb,
                    message,
                    json!({ "HealthCheckType": group.health_check_type, "TargetGroupARNs": group.target_group_arns, "LoadBalancerNames": group.load_balancer_names }),
                ),
            ))
        })
    },
};

fn imdsv2(http_tokens: Option<&str>, http_endpoint: Option<&str>) -> bool {
    http_tokens == Some("required") || http_endpoint == Some("disabled")
}

/// What an Auto Scaling group launches from.
pub(crate) enum GroupSource<'a> {
    Configuration(&'a LaunchConfiguration),
    /// The group's reference to the template (its version), and the template.
    Template(&'a LaunchTemplateSpecification, &'a LaunchTemplate),
}

/// The launch configuration or template a group launches from; `Err` (message, evidence) when
/// the group names neither, or names one the listings did not return. The one rule for the
/// checks that judge what a group launches.
pub(crate) fn group_source<'a>(group: &'a AutoScalingGroup, regional: &'a RegionalInventory) -> Result<GroupSource<'a>, (String, Value)> {
    let name = &group.auto_scaling_group_name;
    if let Some(configuration_name) = &group.launch_configuration_name {
        let Some(configuration) = regional.launch_configurations.iter().find(|configuration| &configuration.launch_configuration_name == configuration_name)
        else {
            let message =
                format!("Auto Scaling group `{name}` launches from configuration `{configuration_name}`, which DescribeLaunchConfigurations did not return.");
            return Err((message, json!({ "LaunchConfigurationName": configuration_name })));
        };
        return Ok(GroupSource::Configuration(configuration));
    }
    let Some(specification) = group.launch_template.as_ref() else {
        let message = format!("Auto Scaling group `{name}` names neither a launch configuration nor a launch template.");
        return Err((message, json!({ "LaunchConfigurationName": null, "LaunchTemplate": null })));
    };
    let Some(template) = regional.ec2.launch_templates.iter().find(|template| {
        specification.launch_template_id.as_deref() == Some(template.launch_template_id.as_str())
            || (specification.launch_template_name.is_some() && specification.launch_template_name == template.launch_template_name)
    }) else {
        let message = format!("Auto Scaling group `{name}` launches from a template that DescribeLaunchTemplates did not return.");
        return Err((message, json!({ "LaunchTemplate": specification })));
    };
    Ok(GroupSource::Template(specification, template))
}

/// The IMDS verdict for a group's launch configuration or launch template, with the calls it
/// rests on; `Err` (message, evidence) when what the group launches from is not in the
/// inventory: a configuration or template the listings did not return, or a template version
/// other than the default (only the default version's settings are collected).
fn group_imds<'a>(group: &'a AutoScalingGroup, regional: &'a RegionalInventory, region: &'a str) -> Result<(Vec<Needs<'a>>, Verdict), (String, Value)> {
    let name = &group.auto_scaling_group_name;
    let (specification, template) = match group_source(group, regional)? {
        GroupSource::Configuration(configuration) => {
            let configuration_name = &configuration.launch_configuration_name;
            let on = imdsv2(configuration.http_tokens.as_deref(), configuration.http_endpoint.as_deref());
            let message = format!(
                "Auto Scaling group `{name}` launches instances from configuration `{configuration_name}` with IMDSv2 {}.",
                if on { "required" } else { "optional" }
            );
            let evidence = json!({ "LaunchConfigurationName": configuration_name, "MetadataOptions": { "HttpTokens": configuration.http_tokens, "HttpEndpoint": configuration.http_endpoint } });
            return Ok((vec![], (on, message, evidence)));
        }
        GroupSource::Template(specification, template) => (specification, template),
    };
    let default_version = template.default_version_number.map(|number| number.to_string());
    let uses_default = match specification.version.as_deref() {
        None | Some("$Default") => true,
        Some("$Latest") => template.latest_version_number == template.default_version_number,
        Some(number) => default_version.as_deref() == Some(number),
    };
    if !uses_default {
        let message = format!(
            "Auto Scaling group `{name}` launches from version {} of template `{}`; only the default version's settings are collected.",
            specification.version.as_deref().unwrap_or_default(),
            template.launch_template_id
        );
        return Err((message, json!({ "LaunchTemplate": specification, "DefaultVersionNumber": template.default_version_number })));
    }
    let options = template.default_version_data.as_ref().and_then(|data| data.metadata_options.as_ref());
    let on = imdsv2(options.and_then(|options| options.http_tokens.as_deref()), options.and_then(|options| options.http_endpoint.as_deref()));
    let message = format!(
        "Auto Scaling group `{name}` launches instances from template `{}` with IMDSv2 {}.",
        template.launch_template_name.as_deref().unwrap_or(&template.launch_template_id),
        if on { "required" } else { "optional" }
    );
    let evidence = json!({ "LaunchTemplate": specification, "MetadataOptions": options });
    Ok((vec![Needs::call("ec2", region, "DescribeLaunchTemplateVersions").on(&template.launch_template_id)], (on, message, evidence)))
}

pub static GROUP_IMDSV2: FnCheck = FnCheck {
    metadata: Metadata {
        id: "autoscaling_group_imdsv2_required",
        title: "Auto Scaling groups launch instances that require IMDSv2",
        service: "autoscaling",
        resource_type: "AWS::AutoScaling::AutoScalingGroup",
        severity: Severity::High,
        risk: "With IMDSv1 a server-side request forgery in the application is enough to steal the instance role's credentials.",
        remediation: Remediation {
            text: "Set HttpTokens to required in the group's launch template (new version, made default) or launch configuration.",
            cli: "aws ec2 create-launch-template-version --launch-template-id LT_ID --source-version 1 --launch-template-data '{\"MetadataOptions\":{\"HttpTokens\":\"required\"}}'",
            terraform: "resource \"aws_launch_template\" \"main\" {\n  # ...\n  metadata_options {\n    http_tokens = \"required\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html"],
        frameworks: &[("aws-fsbp", "AutoScaling.3"), ("nist-800-53-r5", "AC-3"), ("nist-800-53-r5", "CM-2")],
        reads: IMDS_SOURCES,
    },
    run: |metadata, context, findings| {
        let inventory = context.inventory;
        for region in &inventory.regions {
            let Some(regional) = inventory.regional.get(region) else { continue };
            for group in &regional.auto_scaling_groups {
                let subject = subject_of(context, region.as_str(), group);
                findings.push(match group_imds(group, regional, region.as_str()) {
                    Ok((needs, verdict)) => context.decide(metadata, &subject, &needs, || verdict),
                    Err((message, evidence)) => cannot_decide(metadata, context, &subject, message, evidence),
                });
            }
        }
    },
};

pub static GROUP_USES_LAUNCH_TEMPLATE: FnCheck = FnCheck {
    metadata: Metadata {
        id: "autoscaling_group_uses_launch_template",
        title: "Auto Scaling groups use launch templates, not launch configurations",
        service: "autoscaling",
        resource_type: "AWS::AutoScaling::AutoScalingGroup",
        severity: Severity::Low,
        risk: "Launch configurations are deprecated and cannot use newer security features; they will stop receiving new instance types.",
        remediation: Remediation {
            text: "Migrate the group to a launch template.",
            cli: "aws autoscaling update-auto-scaling-group --auto-scaling-group-name NAME --launch-template LaunchTemplateId=LT_ID,Version='$Default'",
            terraform: "resource \"aws_autoscaling_group\" \"main\" {\n  # ...\n  launch_template {\n    id      = aws_launch_template.main.id\n    version = \"$Default\"\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/autoscaling/ec2/userguide/migrate-to-launch-templates.html"],
        frameworks: &[("aws-fsbp", "AutoScaling.9"), ("nist-800-53-r5", "CM-2")],
        reads: GROUPS,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |group: &AutoScalingGroup, _, _| {
            let configuration = group.launch_configuration_name.as_deref();
            let message = match configuration {
                Some(name) => format!("Auto Scaling group `{}` uses launch configuration `{name}`.", group.auto_scaling_group_name),
                None => format!("Auto Scaling group `{}` uses no launch configuration.", group.auto_scaling_group_name),
            };
            Some((vec![], (configuration.is_none(), message, json!({ "LaunchConfigurationName": configuration, "LaunchTemplate": group.launch_template }))))
        })
    },
};

pub static LAUNCH_CONFIGURATION_NO_PUBLIC_IP: FnCheck = FnCheck {
    metadata: Metadata {
        id: "autoscaling_launch_configuration_no_public_ip",
        title: "Auto Scaling launch configurations do not assign public IP addresses",
        service: "autoscaling",
        resource_type: "AWS::AutoScaling::LaunchConfiguration",
        severity: Severity::High,
        risk: "Instances with public addresses are reachable from the internet as soon as a security group allows it.",
        remediation: Remediation {
            text: "Create a launch configuration (or better, a launch template) without public IP addresses and place instances behind a load balancer or NAT.",
            cli: "aws autoscaling create-launch-configuration --launch-configuration-name NAME --image-id AMI --instance-type TYPE --no-associate-public-ip-address",
            terraform: "resource \"aws_launch_template\" \"main\" {\n  network_interfaces {\n    associate_public_ip_address = false\n  }\n}",
        },
        references: &["https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-in-vpc.html"],
        frameworks: &[("aws-fsbp", "AutoScaling.5"), ("pci-dss-4.0", "1.4.4"), ("nist-800-53-r5", "SC-7")],
        reads: CONFIGURATIONS,
    },
    run: |metadata, context, findings| {
        each_regional(metadata, context, findings, |configuration: &LaunchConfiguration, _, _| {
            let public = configuration.associate_public_ip_address == Some(true);
            let message = format!(
                "Launch configuration `{}` {} public IP addresses.",
                configuration.launch_configuration_name,
                if public { "assigns" } else { "does not assign" }
            );
            Some((vec![], (!public, message, json!({ "AssociatePublicIpAddress": configuration.associate_public_ip_address }))))
        })
    },
};

#[cfg(test)]
mod tests {
    use vigil_model::ec2::{InstanceMetadataOptions, LaunchTemplateData};

    use super::*;
    use crate::catalog::test_support::twins::{Twin, check_twins};

    fn group(name: &str) -> AutoScalingGroup {
        AutoScalingGroup {
            auto_scaling_group_name: name.into(),
            auto_scaling_group_arn: format!("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/{name}"),
            ..AutoScalingGroup::default()
        }
    }

    fn configuration(name: &str) -> LaunchConfiguration {
        LaunchConfiguration {
            launch_configuration_name: name.into(),
            launch_configuration_arn: format!("arn:aws:autoscaling:us-east-1:123456789012:launchConfiguration:1:launchConfigurationName/{name}"),
            ..LaunchConfiguration::default()
        }
    }

    fn template(id: &str, tokens: &str) -> LaunchTemplate {
        LaunchTemplate {
            launch_template_id: id.into(),
            launch_template_name: Some(id.into()),
            default_version_number: Some(1),
            latest_version_number: Some(1),
            default_version_data: Some(LaunchTemplateData {
                metadata_options: Some(InstanceMetadataOptions { http_tokens: Some(tokens.into()), ..InstanceMetadataOptions::default() }),
                ..LaunchTemplateData::default()
            }),
            ..LaunchTemplate::default()
        }
    }

    #[test]
    fn autoscaling_twins() {
        check_twins(&[
            Twin {
                check: &GROUP_MULTIPLE_AZ,
                calls: vec![],
                place: |regional| {
                    regional.auto_scaling_groups.push(AutoScalingGroup { availability_zones: vec!["us-east-1a".into()], ..group("bad") });
                    regional.auto_scaling_groups.push(AutoScalingGroup { availability_zones: vec!["us-east-1a".into(), "us-east-1b".into()], ..group("good") });
                },
            },
            Twin {
                check: &GROUP_ELB_HEALTH_CHECK,
                calls: vec![],
                place: |regional| {
                    let target_group_arns = vec!["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1".to_string()];
                    regional.auto_scaling_groups.push(AutoScalingGroup {
                        health_check_type: Some("EC2".into()),
                        target_group_arns: target_group_arns.clone(),
                        ..group("bad")
                    });
                    regional.auto_scaling_groups.push(AutoScalingGroup { health_check_type: Some("ELB".into()), target_group_arns, ..group("good") });
                    // A group without a load balancer is not assessed.
                    regional.auto_scaling_groups.push(AutoScalingGroup { health_check_type: Some("EC2".into()), ..group("standalone") });
                },
            },
            Twin {
                check: &GROUP_IMDSV2,
                calls: vec![],
                place: |regional| {
                    regional.launch_configurations.push(LaunchConfiguration { http_tokens: Some("optional".into()), ..configuration("legacy") });
                    regional.auto_scaling_groups.push(AutoScalingGroup { launch_configuration_name: Some("legacy".into()), ..group("bad") });
                    regional.launch_configurations.push(LaunchConfiguration { http_tokens: Some("required".into()), ..configuration("hardened") });
                    regional.auto_scaling_groups.push(AutoScalingGroup { launch_configuration_name: Some("hardened".into()), ..group("good") });
                },
            },
            Twin {
                check: &GROUP_USES_LAUNCH_TEMPLATE,
                calls: vec![],
                place: |regional| {
                    regional.auto_scaling_groups.push(AutoScalingGroup { launch_configuration_name: Some("legacy".into()), ..group("bad") });
                    regional.auto_scaling_groups.push(AutoScalingGroup { launch_template: Some(LaunchTemplateSpecification::default()), ..group("good") });
                },
            },
            Twin {
                check: &LAUNCH_CONFIGURATION_NO_PUBLIC_IP,
                calls: vec![],
                place: |regional| {
                    regional.launch_configurations.push(LaunchConfiguration { associate_public_ip_address: Some(true), ..configuration("bad") });
                    regional.launch_configurations.push(LaunchConfiguration { associate_public_ip_address: Some(false), ..configuration("good") });
                },
            },
        ]);
    }

    #[test]
    fn template_groups_are_judged_on_the_default_version_and_error_when_it_was_not_read() {
        use crate::Status;
        use crate::catalog::test_support::*;
        let mut inventory = inventory();
        read_declared(&mut inventory, &GROUP_IMDSV2);
        record(&mut inventory, "ec2", "us-east-1", "DescribeLaunchTemplateVersions", Some("lt-denied"), denied());
        read(&mut inventory, "ec2", "us-east-1", "DescribeLaunchTemplateVersions", Some("lt-v1"));
        read(&mut inventory, "ec2", "us-east-1", "DescribeLaunchTemplateVersions", Some("lt-v2"));
        let regional = inventory.regional.get_mut(&"us-east-1".into()).unwrap();
        let uses = |id: &str, version: &str| {
            Some(LaunchTemplateSpecification { launch_template_id: Some(id.into()), version: Some(version.into()), ..Default::default() })
        };
        regional.ec2.launch_templates.push(template("lt-denied", "required"));
        regional.ec2.launch_templates.push(template("lt-v1", "optional"));
        regional.ec2.launch_templates.push(template("lt-v2", "required"));
        regional.auto_scaling_groups.push(AutoScalingGroup { launch_template: uses("lt-denied", "$Default"), ..group("denied") });
        regional.auto_scaling_groups.push(AutoScalingGroup { launch_template: uses("lt-v1", "1"), ..group("optional") });
        regional.auto_scaling_groups.push(AutoScalingGroup { launch_template: uses("lt-v2", "$Latest"), ..group("required") });
        let findings = run(&GROUP_IMDSV2, &inventory);
        assert_eq!(
            statuses(&findings),
            vec![("denied".to_string(), Status::Error), ("optional".to_string(), Status::Fail), ("required".to_string(), Status::Pass)]
        );
        assert!(findings.iter().any(|finding| finding.message.contains("DescribeLaunchTemplateVersions")));
    }
}
