//! Host coverage: every running instance has a vigil agent. Fed the store's agent roster
//! (instances with an enrolled, not retired agent) when the scan records into a store.

use serde_json::json;
use vigil_model::resource::ResourceData;

use super::FnCheck;
use super::support::each_resource;
use crate::context::{Context, Unread};
use crate::{Finding, Metadata, Read, Remediation, Severity};

const INSTANCE: &str = "AWS::EC2::Instance";
const INSTANCES: &[Read] = &[Read::regional("ec2", "DescribeInstances")];

/// How to enrol, said in the finding and the remediation.
pub const ENROL_COMMAND: &str = "vigil-agent --server https://CONSOLE:8080 --state /var/lib/vigil-agent";

pub static INSTANCE_AGENT_ENROLLED: FnCheck = FnCheck {
    metadata: Metadata {
        id: "ec2_instance_agent_enrolled",
        title: "Running EC2 instances are protected by a vigil agent",
        service: "ec2",
        resource_type: INSTANCE,
        severity: Severity::Medium,
        risk: "An instance without an agent is outside host protection: its files, logs, packages, configuration and listening services are not watched, so a compromise of the guest operating system goes unseen.",
        remediation: Remediation {
            text: "Install vigil-agent on the instance (or in its AMI or user data) and start it: on EC2 it enrols itself from the signed instance identity document (IMDSv2), with no token. Off EC2, create a token with `vigil agents token create` and pass --token.",
            cli: ENROL_COMMAND,
            terraform: "resource \"aws_instance\" \"app\" {\n  user_data = <<-EOT\n    #!/bin/sh\n    install -m 0755 vigil-agent /usr/local/bin/ && systemctl enable --now vigil-agent\n  EOT\n}",
        },
        references: &["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-identity-documents.html"],
        frameworks: &[],
        reads: INSTANCES,
    },
    run: instance_agent_enrolled,
};

fn instance_agent_enrolled(metadata: &Metadata, context: &Context<'_>, findings: &mut Vec<Finding>) {
    let Some(roster) = context.agent_roster() else {
        // Without a store there is no roster: one ERROR for the account when it has running
        // instances, never a guess.
        let running =
            context.resources_of_type(INSTANCE).any(|resource| matches!(resource.data, ResourceData::Instance(instance) if instance.state.name == "running"));
        if running {
            let unread = Unread {
                message: "the agent roster is unknown: this scan does not record into a store, which is where agents enrol (run it without --no-store)".into(),
                evidence: json!({ "needs": "the store's agent roster" }),
            };
            findings.push(context.unread(metadata, &context.account_subject(), unread));
        }
        return;
    };
    each_resource(context, findings, INSTANCE, |resource, subject, findings| {
        let ResourceData::Instance(instance) = resource.data else { return };
        // Only running instances can run an agent; a stopped one is judged when it starts.
        if instance.state.name != "running" {
            return;
        }
        let enrolled = roster.contains(&instance.instance_id);
        let message = if enrolled {
            format!("instance {} is protected by a vigil agent", instance.instance_id)
        } else {
            format!(
                "instance {} runs without a vigil agent: install it and run `{ENROL_COMMAND}` (zero-touch enrolment from the instance identity)",
                instance.instance_id
            )
        };
        findings.push(context.verdict(metadata, subject, enrolled, message, json!({ "instance_id": instance.instance_id, "agent_enrolled": enrolled })));
    });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use vigil_model::ec2::{Instance, InstanceState};

    use super::*;
    use crate::Status;
    use crate::catalog::test_support::{inventory, read};

    fn instance(id: &str, state: &str) -> Instance {
        Instance { instance_id: id.into(), state: InstanceState { name: state.into(), code: None }, ..Default::default() }
    }

    fn statuses(roster: Option<&BTreeSet<String>>) -> Vec<(String, Status)> {
        let mut inventory = inventory();
        read(&mut inventory, "ec2", "us-east-1", "DescribeInstances", None);
        inventory.regional.get_mut(&"us-east-1".into()).unwrap().ec2.instances =
            vec![instance("i-agent", "running"), instance("i-bare", "running"), instance("i-stopped", "stopped"), instance("i-gone", "terminated")];
        let context = Context::new(&inventory, inventory.collected_at);
        let context = match roster {
            Some(roster) => context.with_agent_roster(roster),
            None => context,
        };
        let mut findings = Vec::new();
        instance_agent_enrolled(&INSTANCE_AGENT_ENROLLED.metadata, &context, &mut findings);
        let mut statuses: Vec<(String, Status)> = findings.iter().map(|finding| (finding.resource_id.to_string(), finding.status)).collect();
        statuses.sort();
        statuses
    }

    #[test]
    fn running_instances_without_an_agent_fail_and_no_roster_is_one_error() {
        let roster: BTreeSet<String> = ["i-agent".to_string()].into();
        assert_eq!(statuses(Some(&roster)), vec![("i-agent".into(), Status::Pass), ("i-bare".into(), Status::Fail)]);
        assert_eq!(statuses(None), vec![("123456789012".into(), Status::Error)]);
    }
}
