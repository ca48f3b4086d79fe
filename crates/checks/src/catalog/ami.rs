//! "Replace, not repair" on the cloud side: instances, launch templates and Auto Scaling groups
//! that launch from an AMI older than the policy age (`max_ami_age_days`, default 180),
//! deprecated, or gone (deregistered or no longer shared). Collection looks up every AMI in
//! use by id, whoever owns it (DescribeImages, one call per image); an unread lookup is ERROR
//! naming the call.

use serde_json::{Value, json};
use vigil_model::RegionalInventory;
use vigil_model::ec2::ImageInUse;
use vigil_model::resource::ResourceData;

use super::FnCheck;
use super::support::{Verdict, each_resource, regional};
use crate::context::{Context, Needs, Subject, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

/// The default policy age, in days, of an AMI still fit to launch from.
pub const DEFAULT_MAX_AMI_AGE_DAYS: i64 = 180;

/// The AMIs in use in each region (`DescribeImages` by id), by (region, image id): built once
/// per check, so that each instance, template or group finds its AMI without reading all of
/// them.
type ImagesInUse<'a> = std::collections::HashMap<(&'a str, &'a str), &'a ImageInUse>;

fn images_in_use<'a>(context: &Context<'a>) -> ImagesInUse<'a> {
    let inventory = context.inventory;
    inventory
        .regional
        .iter()
        .flat_map(|(region, regional)| regional.ec2.images_in_use.iter().map(move |image| ((region.as_str(), image.image_id.as_str()), image)))
        .collect()
}

/// The verdict on one AMI for `what` (`Instance `i-...``), with the policy's age limit.
fn judge_image(context: &Context<'_>, subject: &Subject, images: &ImagesInUse<'_>, region: &str, image_id: &str, what: &str) -> Result<Verdict, Unread> {
    context.require(&[Needs::call("ec2", region, "DescribeImages").on(image_id)])?;
    let max_age = context.number(subject, "max_ami_age_days", DEFAULT_MAX_AMI_AGE_DAYS);
    let in_use = images.get(&(region, image_id));
    let Some(image) = in_use.and_then(|in_use| in_use.image.as_ref()) else {
        let message = format!("{what} launches from AMI `{image_id}`, which DescribeImages no longer knows (deregistered, or no longer shared): replace it.");
        return Ok((false, message, json!({ "ImageId": image_id, "Found": false, "MaxAmiAgeDays": max_age })));
    };
    let created = image.creation_date.as_deref().and_then(|date| chrono::DateTime::parse_from_rfc3339(date).ok()).map(|date| date.with_timezone(&chrono::Utc));
    let deprecated = image
        .deprecation_time
        .as_deref()
        .and_then(|date| chrono::DateTime::parse_from_rfc3339(date).ok())
        .is_some_and(|date| date.with_timezone(&chrono::Utc) <= context.now);
    let evidence = json!({
        "ImageId": image_id,
        "Found": true,
        "Name": image.name,
        "OwnerId": image.owner_id,
        "State": image.state,
        "CreationDate": image.creation_date,
        "DeprecationTime": image.deprecation_time,
        "MaxAmiAgeDays": max_age,
    });
    let Some(created) = created else {
        return Err(Unread {
            message: format!("{what} launches from AMI `{image_id}`, whose creation date DescribeImages did not give in a readable form"),
            evidence,
        });
    };
    let age = (context.now - created).num_days();
    let state = image.state.as_deref().unwrap_or("available");
    let (passed, why) = if state != "available" {
        (false, format!("is {state}"))
    } else if deprecated {
        (false, format!("is deprecated ({age} days old)"))
    } else if age > max_age {
        (false, format!("is {age} days old (maximum {max_age})"))
    } else {
        (true, format!("is {age} days old (maximum {max_age})"))
    };
    let advice = if passed { "" } else { ": replace the instances with ones built from a current image" };
    Ok((passed, format!("{what} launches from AMI `{image_id}`, which {why}{advice}."), evidence))
}

const REFERENCES: &[&str] = &[
    "https://docs.aws.amazon.com/wellarchitected/latest/security-pillar/sec_protect_compute_reduce_management_scope.html",
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html",
];

pub static INSTANCE_AMI_CURRENT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_instance_ami_current",
        title: "EC2 instances run from a current AMI (not older than the policy age, deprecated or deregistered)",
        service: "ec2",
        resource_type: "AWS::EC2::Instance",
        severity: Severity::Medium,
        risk: "An instance built from an old image carries every vulnerability fixed since; one whose image is deregistered cannot be rebuilt the same way. Replacing from a fresh image beats patching in place. Policy parameter `max_ami_age_days` (default 180).",
        remediation: Remediation {
            text: "Build a fresh AMI (EC2 Image Builder) and replace the instance, or roll its Auto Scaling group, rather than patching it in place.",
            cli: "aws ec2 describe-images --image-ids AMI_ID --query 'Images[].[CreationDate,DeprecationTime,State]'\naws imagebuilder start-image-pipeline-execution --image-pipeline-arn PIPELINE_ARN",
            terraform: "data \"aws_ami\" \"current\" {\n  most_recent = true\n  owners      = [\"amazon\"]\n  filter {\n    name   = \"name\"\n    values = [\"al2023-ami-*-x86_64\"]\n  }\n}\n\nresource \"aws_instance\" \"app\" {\n  ami = data.aws_ami.current.id\n}",
        },
        references: REFERENCES,
        frameworks: &[("nist-800-53-r5", "SI-2"), ("nist-800-53-r5", "CM-2"), ("pci-dss-4.0", "6.3.3")],
        reads: &[Read::regional("ec2", "DescribeInstances")],
    },
    run: |metadata, context, findings| {
        let images = images_in_use(context);
        each_resource(context, findings, "AWS::EC2::Instance", |resource, subject, findings| {
            let ResourceData::Instance(instance) = resource.data else { return };
            if instance.is_gone() {
                return;
            }
            let Some(image_id) = instance.image_id.as_deref() else { return };
            let what = format!("Instance `{}`", instance.instance_id);
            findings.push(context.decide_or_error(metadata, subject, &[], || judge_image(context, subject, &images, resource.region, image_id, &what)));
        });
    },
};

pub static LAUNCH_TEMPLATE_AMI_CURRENT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_launch_template_ami_current",
        title: "EC2 launch templates launch from a current AMI (not older than the policy age, deprecated or deregistered)",
        service: "ec2",
        resource_type: "AWS::EC2::LaunchTemplate",
        severity: Severity::Medium,
        risk: "Every instance launched from the template starts with the old image's unpatched software, or fails to launch when the image is gone. Policy parameter `max_ami_age_days` (default 180); the default version is judged.",
        remediation: Remediation {
            text: "Create a template version with a fresh AMI (or an SSM parameter such as `resolve:ssm:/aws/service/...`) and make it the default.",
            cli: "aws ec2 create-launch-template-version --launch-template-id LT_ID --source-version '$Default' --launch-template-data '{\"ImageId\":\"NEW_AMI_ID\"}'\naws ec2 modify-launch-template --launch-template-id LT_ID --default-version NEW_VERSION",
            terraform: "resource \"aws_launch_template\" \"app\" {\n  image_id               = data.aws_ami.current.id\n  update_default_version = true\n}",
        },
        references: REFERENCES,
        frameworks: &[("nist-800-53-r5", "SI-2"), ("nist-800-53-r5", "CM-2")],
        reads: &[Read::regional("ec2", "DescribeLaunchTemplates")],
    },
    run: |metadata, context, findings| {
        let images = images_in_use(context);
        each_resource(context, findings, "AWS::EC2::LaunchTemplate", |resource, subject, findings| {
            let ResourceData::LaunchTemplate(template) = resource.data else { return };
            let needs = [Needs::call("ec2", resource.region, "DescribeLaunchTemplateVersions").on(&template.launch_template_id)];
            let version = template.default_version_number;
            let image_id = template.version_images.iter().find(|image| Some(image.version_number) == version).and_then(|image| image.image_id.as_deref());
            let Some(image_id) = image_id.filter(|image_id| !image_id.starts_with("resolve:ssm:")) else {
                // No AMI in the default version (chosen at launch) or an SSM parameter that
                // resolves to the current image: nothing to age, unless the versions were not read.
                if let Err(unread) = context.require(&needs) {
                    findings.push(context.unread(metadata, subject, unread));
                }
                return;
            };
            let name = template.launch_template_name.as_deref().unwrap_or(&template.launch_template_id);
            let what = format!("Launch template `{name}` (version {})", version.unwrap_or_default());
            findings.push(context.decide_or_error(metadata, subject, &needs, || judge_image(context, subject, &images, resource.region, image_id, &what)));
        });
    },
};

/// What [`group_image`] finds: the calls it relied on, the AMI id, and the evidence.
type GroupImage<'a> = (Vec<Needs<'a>>, Option<&'a str>, Value);

/// The AMI an Auto Scaling group launches from, with the calls that found it; `Err` (message,
/// evidence) when the configuration or template it names is not in the inventory.
fn group_image<'a>(
    group: &'a vigil_model::autoscaling::AutoScalingGroup,
    regional: &'a RegionalInventory,
    region: &'a str,
) -> Result<GroupImage<'a>, (String, Value)> {
    let (specification, template) = match super::autoscaling::group_source(group, regional)? {
        super::autoscaling::GroupSource::Configuration(configuration) => {
            return Ok((vec![], configuration.image_id.as_deref(), json!({ "LaunchConfigurationName": configuration.launch_configuration_name })));
        }
        super::autoscaling::GroupSource::Template(specification, template) => (specification, template),
    };
    let version = match specification.version.as_deref() {
        None | Some("$Default") => template.default_version_number,
        Some("$Latest") => template.latest_version_number,
        Some(number) => number.parse().ok(),
    };
    let image_id = template.version_images.iter().find(|image| Some(image.version_number) == version).and_then(|image| image.image_id.as_deref());
    let needs = vec![Needs::call("ec2", region, "DescribeLaunchTemplateVersions").on(&template.launch_template_id)];
    Ok((needs, image_id, json!({ "LaunchTemplate": specification, "VersionNumber": version })))
}

pub static GROUP_AMI_CURRENT: FnCheck = FnCheck {
    metadata: Metadata {
        id: "autoscaling_group_ami_current",
        title: "Auto Scaling groups launch from a current AMI (not older than the policy age, deprecated or deregistered)",
        service: "autoscaling",
        resource_type: "AWS::AutoScaling::AutoScalingGroup",
        severity: Severity::Medium,
        risk: "Each scale-out and each replacement starts an instance with the old image's unpatched software, or fails when the image is gone. Policy parameter `max_ami_age_days` (default 180).",
        remediation: Remediation {
            text: "Point the group at a template version with a fresh AMI and start an instance refresh, so every instance is replaced rather than patched.",
            cli: "aws autoscaling update-auto-scaling-group --auto-scaling-group-name NAME --launch-template LaunchTemplateId=LT_ID,Version='$Latest'\naws autoscaling start-instance-refresh --auto-scaling-group-name NAME",
            terraform: "resource \"aws_autoscaling_group\" \"app\" {\n  launch_template {\n    id      = aws_launch_template.app.id\n    version = aws_launch_template.app.latest_version\n  }\n  instance_refresh {\n    strategy = \"Rolling\"\n  }\n}",
        },
        references: REFERENCES,
        frameworks: &[("nist-800-53-r5", "SI-2"), ("nist-800-53-r5", "CM-2")],
        reads: &[
            Read::regional("autoscaling", "DescribeAutoScalingGroups"),
            Read::regional("autoscaling", "DescribeLaunchConfigurations"),
            Read::regional("ec2", "DescribeLaunchTemplates"),
        ],
    },
    run: |metadata, context, findings: &mut Vec<Finding>| {
        let images = images_in_use(context);
        each_resource(context, findings, "AWS::AutoScaling::AutoScalingGroup", |resource, subject, findings| {
            let ResourceData::AutoScalingGroup(group) = resource.data else { return };
            let Some(regional_inventory) = regional(context, resource.region) else { return };
            match group_image(group, regional_inventory, resource.region) {
                Err((message, evidence)) => findings.push(context.unread(metadata, subject, Unread { message, evidence })),
                Ok((needs, image_id, source)) => {
                    let what = format!("Auto Scaling group `{}`", group.auto_scaling_group_name);
                    let Some(image_id) = image_id.filter(|image_id| !image_id.starts_with("resolve:ssm:")) else {
                        if let Err(unread) = context.require(&needs) {
                            findings.push(context.unread(metadata, subject, unread));
                        }
                        return;
                    };
                    findings.push(context.decide_or_error(metadata, subject, &needs, || {
                        judge_image(context, subject, &images, resource.region, image_id, &what)
                            .map(|(passed, message, evidence)| (passed, message, json!({ "Image": evidence, "LaunchesFrom": source })))
                    }));
                }
            }
        });
    },
};

#[cfg(test)]
mod tests {
    use vigil_model::ec2::{Image, ImageInUse, Instance, InstanceState, LaunchTemplate, LaunchTemplateVersionImage};

    use super::*;
    use crate::catalog::test_support::twins::{Twin, check_twins};

    fn images(regional: &mut RegionalInventory) {
        let image = |id: &str, days: i64| ImageInUse {
            image_id: id.into(),
            image: Some(Image {
                image_id: id.into(),
                state: Some("available".into()),
                creation_date: Some((chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339()),
                ..Image::default()
            }),
        };
        regional.ec2.images_in_use = vec![image("ami-old", 400), image("ami-new", 10), ImageInUse { image_id: "ami-gone".into(), image: None }];
    }

    fn instance(id: &str, image_id: &str) -> Instance {
        Instance {
            instance_id: id.into(),
            image_id: Some(image_id.into()),
            state: InstanceState { name: "running".into(), code: Some(16) },
            ..Instance::default()
        }
    }

    #[test]
    fn old_and_deregistered_amis_fail_and_fresh_twins_pass() {
        check_twins(&[
            Twin {
                check: &INSTANCE_AMI_CURRENT,
                calls: vec![("DescribeImages", "ami-old"), ("DescribeImages", "ami-new")],
                place: |regional| {
                    images(regional);
                    regional.ec2.instances.extend([instance("bad", "ami-old"), instance("good", "ami-new")]);
                },
            },
            Twin {
                check: &INSTANCE_AMI_CURRENT,
                calls: vec![("DescribeImages", "ami-gone"), ("DescribeImages", "ami-new")],
                place: |regional| {
                    images(regional);
                    regional.ec2.instances.extend([instance("bad", "ami-gone"), instance("good", "ami-new")]);
                },
            },
            Twin {
                check: &LAUNCH_TEMPLATE_AMI_CURRENT,
                calls: vec![
                    ("DescribeImages", "ami-old"),
                    ("DescribeImages", "ami-new"),
                    ("DescribeLaunchTemplateVersions", "bad"),
                    ("DescribeLaunchTemplateVersions", "good"),
                ],
                place: |regional| {
                    images(regional);
                    let template = |id: &str, image_id: &str| LaunchTemplate {
                        launch_template_id: id.into(),
                        default_version_number: Some(2),
                        version_images: vec![
                            LaunchTemplateVersionImage { version_number: 1, image_id: Some("ami-new".into()) },
                            LaunchTemplateVersionImage { version_number: 2, image_id: Some(image_id.into()) },
                        ],
                        ..LaunchTemplate::default()
                    };
                    regional.ec2.launch_templates.extend([template("bad", "ami-old"), template("good", "ami-new")]);
                },
            },
        ]);
    }
}
