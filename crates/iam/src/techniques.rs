//! The catalog of privilege-escalation techniques the escalation analysis covers: one row per
//! technique with its public identifier (pathfinding.cloud's ids where it lists the technique,
//! else the source's), the permissions it needs, and what it acts on. `docs/iam.md` lists the
//! same table (a test fails when they disagree).
//!
//! Resource shapes follow AWS's service authorization reference (`arn:${Partition}:...`
//! templates): `{region}`, `{account}` are filled in; the rest of a shape is the name an
//! attacker chooses for a new resource.

use serde::Serialize;

use crate::account::WorkloadKind;

/// The five families of pathfinding.cloud, plus modifying another principal before using it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// The principal changes its own permissions.
    SelfEscalation,
    /// The principal gains another principal's credentials or trust.
    PrincipalAccess,
    /// The principal passes a role to a new resource that runs code with it.
    NewPassrole,
    /// The principal takes over an existing resource that runs with a role.
    ExistingPassrole,
    /// The principal changes another principal's permissions, then acts as it.
    ModifyThenAct,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::SelfEscalation => "self-escalation",
            Category::PrincipalAccess => "principal-access",
            Category::NewPassrole => "new-passrole",
            Category::ExistingPassrole => "existing-passrole",
            Category::ModifyThenAct => "modify-then-act",
        }
    }
}

/// What a service action is authorized against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Only `*` (the action has no resource type).
    Any,
    /// A new resource: the ARN after `arn:{partition}:`, up to the attacker's chosen name.
    New(&'static str),
    /// The existing workload the technique acts on.
    Workload,
    /// The ECS cluster of the existing workload (ECS Exec checks the cluster and the task).
    WorkloadCluster,
    /// An existing resource of the account (candidates come from the inventory).
    ExistingSubnet,
    ExistingSecurityGroup,
    /// An ECS cluster of the account, or a new one when the technique creates it.
    Cluster,
    /// An AWS-owned SSM document (`AWS-RunShellScript`).
    SsmDocument,
}

/// What must exist for a technique to work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// The passed role must be in an instance profile (or the principal must be able to make one).
    InstanceProfile,
    /// An ECS cluster in the region.
    EcsCluster,
    /// An ECS cluster with EC2 container instances in the region (`ecs:StartTask`).
    EcsContainerInstances,
}

/// One service action of a technique and what it is authorized on.
#[derive(Debug, Clone, Copy)]
pub struct ServiceAction {
    pub action: &'static str,
    pub shapes: &'static [Shape],
}

const fn act(action: &'static str, shapes: &'static [Shape]) -> ServiceAction {
    ServiceAction { action, shapes }
}

/// How the technique works.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Pass a role the service trusts to a new resource (or, with `existing`, to an existing
    /// one the actions reconfigure).
    PassRole { trusts: &'static [&'static str], passed_to: &'static str, actions: &'static [ServiceAction], needs: Needs, existing: Option<WorkloadKind> },
    /// Act on an existing workload that runs with a role, and run code as that role.
    Takeover { workload: WorkloadKind, actions: &'static [ServiceAction] },
    /// Principal-to-principal and self-escalation methods, implemented in code (listed here
    /// for the catalog).
    Iam { actions: &'static [&'static str] },
}

#[derive(Debug, Clone, Copy)]
pub struct Technique {
    /// pathfinding.cloud's id where it lists the technique (`ec2-001`), else `vigil-...`.
    pub id: &'static str,
    pub name: &'static str,
    pub category: Category,
    /// Where the technique is published.
    pub sources: &'static [&'static str],
    pub kind: Kind,
}

impl Technique {
    /// Every permission the technique needs.
    pub fn permissions(&self) -> Vec<&'static str> {
        match self.kind {
            Kind::PassRole { actions, .. } => std::iter::once("iam:PassRole").chain(actions.iter().map(|action| action.action)).collect(),
            Kind::Takeover { actions, .. } => actions.iter().map(|action| action.action).collect(),
            Kind::Iam { actions } => actions.to_vec(),
        }
    }
}

const PF: &str = "pathfinding.cloud";
const RHINO: &str = "Rhino Security Labs (AWS privilege escalation methods)";
const PROWLER: &str = "Prowler (privilege_escalation.py)";
const PMAPPER: &str = "PMapper";

use Shape::{Any, Cluster, ExistingSecurityGroup, ExistingSubnet, New, SsmDocument, Workload, WorkloadCluster};

const EC2: &[&str] = &["ec2.amazonaws.com"];
const RUN_INSTANCES: ServiceAction = act(
    "ec2:RunInstances",
    &[
        New("ec2:{region}:{account}:instance/"),
        New("ec2:{region}::image/ami-"),
        New("ec2:{region}:{account}:network-interface/eni-"),
        ExistingSecurityGroup,
        ExistingSubnet,
    ],
);
const LAMBDA: &[&str] = &["lambda.amazonaws.com"];
const FUNCTION: Shape = New("lambda:{region}:{account}:function:");
const ECS_TASKS: &[&str] = &["ecs-tasks.amazonaws.com"];
const TASK_DEFINITION: Shape = New("ecs:{region}:{account}:task-definition/");
const GLUE: &[&str] = &["glue.amazonaws.com"];
const SAGEMAKER: &[&str] = &["sagemaker.amazonaws.com"];
const CODEBUILD: &[&str] = &["codebuild.amazonaws.com"];
const PROJECT: Shape = New("codebuild:{region}:{account}:project/");
const CLOUDFORMATION: &[&str] = &["cloudformation.amazonaws.com"];
const AGENTCORE: &[&str] = &["bedrock-agentcore.amazonaws.com"];

/// Every technique, in catalog order.
pub static TECHNIQUES: &[Technique] = &[
    // Self-escalation: the principal changes its own permissions.
    Technique {
        id: "iam-001",
        name: "iam:CreatePolicyVersion",
        category: Category::SelfEscalation,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:CreatePolicyVersion"] },
    },
    Technique {
        id: "vigil-setdefaultpolicyversion",
        name: "iam:SetDefaultPolicyVersion",
        category: Category::SelfEscalation,
        sources: &[RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:SetDefaultPolicyVersion"] },
    },
    Technique {
        id: "iam-005",
        name: "iam:PutRolePolicy",
        category: Category::SelfEscalation,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:PutRolePolicy"] },
    },
    Technique {
        id: "iam-007",
        name: "iam:PutUserPolicy",
        category: Category::SelfEscalation,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:PutUserPolicy"] },
    },
    Technique {
        id: "iam-008",
        name: "iam:AttachUserPolicy",
        category: Category::SelfEscalation,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:AttachUserPolicy"] },
    },
    Technique {
        id: "iam-009",
        name: "iam:AttachRolePolicy",
        category: Category::SelfEscalation,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:AttachRolePolicy"] },
    },
    Technique {
        id: "iam-010",
        name: "iam:AttachGroupPolicy",
        category: Category::SelfEscalation,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:AttachGroupPolicy"] },
    },
    Technique {
        id: "iam-011",
        name: "iam:PutGroupPolicy",
        category: Category::SelfEscalation,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:PutGroupPolicy"] },
    },
    Technique {
        id: "iam-013",
        name: "iam:AddUserToGroup",
        category: Category::SelfEscalation,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:AddUserToGroup"] },
    },
    Technique {
        id: "iam-022",
        name: "iam:DeleteUserPermissionsBoundary",
        category: Category::SelfEscalation,
        sources: &[PF],
        kind: Kind::Iam { actions: &["iam:DeleteUserPermissionsBoundary"] },
    },
    Technique {
        id: "iam-023",
        name: "iam:DeleteRolePermissionsBoundary",
        category: Category::SelfEscalation,
        sources: &[PF],
        kind: Kind::Iam { actions: &["iam:DeleteRolePermissionsBoundary"] },
    },
    Technique {
        id: "iam-024",
        name: "iam:PutUserPermissionsBoundary (and iam:PutRolePermissionsBoundary)",
        category: Category::SelfEscalation,
        sources: &[PF],
        kind: Kind::Iam { actions: &["iam:PutUserPermissionsBoundary", "iam:PutRolePermissionsBoundary"] },
    },
    Technique {
        id: "iam-025",
        name: "iam:DetachUserPolicy (and iam:DetachRolePolicy, iam:DetachGroupPolicy) removing a Deny",
        category: Category::SelfEscalation,
        sources: &[PF],
        kind: Kind::Iam { actions: &["iam:DetachUserPolicy", "iam:DetachRolePolicy", "iam:DetachGroupPolicy"] },
    },
    Technique {
        id: "iam-026",
        name: "iam:DeleteUserPolicy (and iam:DeleteRolePolicy, iam:DeleteGroupPolicy, iam:RemoveUserFromGroup) removing a Deny",
        category: Category::SelfEscalation,
        sources: &[PF],
        kind: Kind::Iam { actions: &["iam:DeleteUserPolicy", "iam:DeleteRolePolicy", "iam:DeleteGroupPolicy", "iam:RemoveUserFromGroup"] },
    },
    // Principal access: gaining another principal's credentials or trust.
    Technique {
        id: "sts-001",
        name: "sts:AssumeRole",
        category: Category::PrincipalAccess,
        sources: &[PF, PMAPPER],
        kind: Kind::Iam { actions: &["sts:AssumeRole"] },
    },
    Technique {
        id: "iam-002",
        name: "iam:CreateAccessKey",
        category: Category::PrincipalAccess,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:CreateAccessKey"] },
    },
    Technique {
        id: "iam-003",
        name: "iam:DeleteAccessKey + iam:CreateAccessKey",
        category: Category::PrincipalAccess,
        sources: &[PF, PROWLER],
        kind: Kind::Iam { actions: &["iam:DeleteAccessKey", "iam:CreateAccessKey"] },
    },
    Technique {
        id: "iam-004",
        name: "iam:CreateLoginProfile",
        category: Category::PrincipalAccess,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:CreateLoginProfile"] },
    },
    Technique {
        id: "iam-006",
        name: "iam:UpdateLoginProfile",
        category: Category::PrincipalAccess,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:UpdateLoginProfile"] },
    },
    Technique {
        id: "iam-012",
        name: "iam:UpdateAssumeRolePolicy",
        category: Category::PrincipalAccess,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Iam { actions: &["iam:UpdateAssumeRolePolicy"] },
    },
    // Modify another principal, then act as it.
    Technique {
        id: "iam-014",
        name: "iam:AttachRolePolicy + sts:AssumeRole",
        category: Category::ModifyThenAct,
        sources: &[PF, PROWLER],
        kind: Kind::Iam { actions: &["iam:AttachRolePolicy", "sts:AssumeRole"] },
    },
    Technique {
        id: "iam-015",
        name: "iam:AttachUserPolicy + iam:CreateAccessKey",
        category: Category::ModifyThenAct,
        sources: &[PF, PROWLER],
        kind: Kind::Iam { actions: &["iam:AttachUserPolicy", "iam:CreateAccessKey"] },
    },
    Technique {
        id: "iam-016",
        name: "iam:CreatePolicyVersion + sts:AssumeRole",
        category: Category::ModifyThenAct,
        sources: &[PF, PROWLER],
        kind: Kind::Iam { actions: &["iam:CreatePolicyVersion", "sts:AssumeRole"] },
    },
    Technique {
        id: "iam-017",
        name: "iam:PutRolePolicy + sts:AssumeRole",
        category: Category::ModifyThenAct,
        sources: &[PF, PROWLER],
        kind: Kind::Iam { actions: &["iam:PutRolePolicy", "sts:AssumeRole"] },
    },
    Technique {
        id: "iam-018",
        name: "iam:PutUserPolicy + iam:CreateAccessKey",
        category: Category::ModifyThenAct,
        sources: &[PF, PROWLER],
        kind: Kind::Iam { actions: &["iam:PutUserPolicy", "iam:CreateAccessKey"] },
    },
    Technique {
        id: "iam-019",
        name: "iam:AttachRolePolicy + iam:UpdateAssumeRolePolicy",
        category: Category::ModifyThenAct,
        sources: &[PF, PROWLER],
        kind: Kind::Iam { actions: &["iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"] },
    },
    Technique {
        id: "iam-020",
        name: "iam:CreatePolicyVersion + iam:UpdateAssumeRolePolicy",
        category: Category::ModifyThenAct,
        sources: &[PF, PROWLER],
        kind: Kind::Iam { actions: &["iam:CreatePolicyVersion", "iam:UpdateAssumeRolePolicy"] },
    },
    Technique {
        id: "iam-021",
        name: "iam:PutRolePolicy + iam:UpdateAssumeRolePolicy",
        category: Category::ModifyThenAct,
        sources: &[PF, PROWLER],
        kind: Kind::Iam { actions: &["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"] },
    },
    // Pass a role to a new resource.
    Technique {
        id: "ec2-001",
        name: "iam:PassRole + ec2:RunInstances",
        category: Category::NewPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::PassRole { trusts: EC2, passed_to: "ec2.amazonaws.com", actions: &[RUN_INSTANCES], needs: Needs::InstanceProfile, existing: None },
    },
    Technique {
        id: "ec2-004",
        name: "iam:PassRole + ec2:RequestSpotInstances",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: EC2,
            passed_to: "ec2.amazonaws.com",
            actions: &[act("ec2:RequestSpotInstances", &[New("ec2:{region}:{account}:spot-instances-request/sir-")])],
            needs: Needs::InstanceProfile,
            existing: None,
        },
    },
    Technique {
        id: "vigil-autoscaling-launchconfiguration",
        name: "iam:PassRole + autoscaling:CreateLaunchConfiguration + autoscaling:CreateAutoScalingGroup",
        category: Category::NewPassrole,
        sources: &[RHINO, PROWLER],
        kind: Kind::PassRole {
            trusts: EC2,
            passed_to: "ec2.amazonaws.com",
            actions: &[
                act("autoscaling:CreateLaunchConfiguration", &[New("autoscaling:{region}:{account}:launchConfiguration:*:launchConfigurationName/")]),
                act("autoscaling:CreateAutoScalingGroup", &[New("autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/")]),
            ],
            needs: Needs::InstanceProfile,
            existing: None,
        },
    },
    Technique {
        id: "lambda-001",
        name: "iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction",
        category: Category::NewPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::PassRole {
            trusts: LAMBDA,
            passed_to: "lambda.amazonaws.com",
            actions: &[act("lambda:CreateFunction", &[FUNCTION]), act("lambda:InvokeFunction", &[FUNCTION])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "lambda-002",
        name: "iam:PassRole + lambda:CreateFunction + lambda:CreateEventSourceMapping",
        category: Category::NewPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::PassRole {
            trusts: LAMBDA,
            passed_to: "lambda.amazonaws.com",
            actions: &[act("lambda:CreateFunction", &[FUNCTION]), act("lambda:CreateEventSourceMapping", &[Any])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "lambda-006",
        name: "iam:PassRole + lambda:CreateFunction + lambda:AddPermission",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: LAMBDA,
            passed_to: "lambda.amazonaws.com",
            actions: &[act("lambda:CreateFunction", &[FUNCTION]), act("lambda:AddPermission", &[FUNCTION])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "cloudformation-001",
        name: "iam:PassRole + cloudformation:CreateStack",
        category: Category::NewPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::PassRole {
            trusts: CLOUDFORMATION,
            passed_to: "cloudformation.amazonaws.com",
            actions: &[act("cloudformation:CreateStack", &[New("cloudformation:{region}:{account}:stack/")])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "cloudformation-003",
        name: "iam:PassRole + cloudformation:CreateStackSet + cloudformation:CreateStackInstances",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: CLOUDFORMATION,
            passed_to: "cloudformation.amazonaws.com",
            actions: &[
                act("cloudformation:CreateStackSet", &[Any]),
                act("cloudformation:CreateStackInstances", &[New("cloudformation:{region}:{account}:stackset/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "cloudformation-004",
        name: "iam:PassRole + cloudformation:UpdateStackSet",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: CLOUDFORMATION,
            passed_to: "cloudformation.amazonaws.com",
            actions: &[act("cloudformation:UpdateStackSet", &[Workload])],
            needs: Needs::Nothing,
            existing: Some(WorkloadKind::StackSet),
        },
    },
    Technique {
        id: "glue-001",
        name: "iam:PassRole + glue:CreateDevEndpoint",
        category: Category::NewPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::PassRole {
            trusts: GLUE,
            passed_to: "glue.amazonaws.com",
            actions: &[act("glue:CreateDevEndpoint", &[Any])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "glue-003",
        name: "iam:PassRole + glue:CreateJob + glue:StartJobRun",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: GLUE,
            passed_to: "glue.amazonaws.com",
            actions: &[act("glue:CreateJob", &[New("glue:{region}:{account}:job/")]), act("glue:StartJobRun", &[New("glue:{region}:{account}:job/")])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "glue-004",
        name: "iam:PassRole + glue:CreateJob + glue:CreateTrigger",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: GLUE,
            passed_to: "glue.amazonaws.com",
            actions: &[act("glue:CreateJob", &[New("glue:{region}:{account}:job/")]), act("glue:CreateTrigger", &[New("glue:{region}:{account}:trigger/")])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "glue-005",
        name: "iam:PassRole + glue:UpdateJob + glue:StartJobRun",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: GLUE,
            passed_to: "glue.amazonaws.com",
            actions: &[act("glue:UpdateJob", &[Workload]), act("glue:StartJobRun", &[Workload])],
            needs: Needs::Nothing,
            existing: Some(WorkloadKind::GlueJob),
        },
    },
    Technique {
        id: "glue-006",
        name: "iam:PassRole + glue:UpdateJob + glue:CreateTrigger",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: GLUE,
            passed_to: "glue.amazonaws.com",
            actions: &[act("glue:UpdateJob", &[Workload]), act("glue:CreateTrigger", &[New("glue:{region}:{account}:trigger/")])],
            needs: Needs::Nothing,
            existing: Some(WorkloadKind::GlueJob),
        },
    },
    Technique {
        id: "glue-007",
        name: "iam:PassRole + glue:CreateSession + glue:RunStatement",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: GLUE,
            passed_to: "glue.amazonaws.com",
            actions: &[
                act("glue:CreateSession", &[New("glue:{region}:{account}:session/")]),
                act("glue:RunStatement", &[New("glue:{region}:{account}:session/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "datapipeline-001",
        name: "iam:PassRole + datapipeline:CreatePipeline + datapipeline:PutPipelineDefinition + datapipeline:ActivatePipeline",
        category: Category::NewPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::PassRole {
            trusts: &["datapipeline.amazonaws.com"],
            passed_to: "datapipeline.amazonaws.com",
            actions: &[
                act("datapipeline:CreatePipeline", &[Any]),
                act("datapipeline:PutPipelineDefinition", &[New("datapipeline:{region}:{account}:pipeline/df-")]),
                act("datapipeline:ActivatePipeline", &[New("datapipeline:{region}:{account}:pipeline/df-")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "codebuild-001",
        name: "iam:PassRole + codebuild:CreateProject + codebuild:StartBuild",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: CODEBUILD,
            passed_to: "codebuild.amazonaws.com",
            actions: &[act("codebuild:CreateProject", &[PROJECT]), act("codebuild:StartBuild", &[PROJECT])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "codebuild-004",
        name: "iam:PassRole + codebuild:CreateProject + codebuild:StartBuildBatch",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: CODEBUILD,
            passed_to: "codebuild.amazonaws.com",
            actions: &[act("codebuild:CreateProject", &[PROJECT]), act("codebuild:StartBuildBatch", &[PROJECT])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "sagemaker-001",
        name: "iam:PassRole + sagemaker:CreateNotebookInstance",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: SAGEMAKER,
            passed_to: "sagemaker.amazonaws.com",
            actions: &[act("sagemaker:CreateNotebookInstance", &[New("sagemaker:{region}:{account}:notebook-instance/")])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "sagemaker-002",
        name: "iam:PassRole + sagemaker:CreateTrainingJob",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: SAGEMAKER,
            passed_to: "sagemaker.amazonaws.com",
            actions: &[act("sagemaker:CreateTrainingJob", &[New("sagemaker:{region}:{account}:training-job/")])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "sagemaker-003",
        name: "iam:PassRole + sagemaker:CreateProcessingJob",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: SAGEMAKER,
            passed_to: "sagemaker.amazonaws.com",
            actions: &[act("sagemaker:CreateProcessingJob", &[New("sagemaker:{region}:{account}:processing-job/")])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "ecs-001",
        name: "iam:PassRole + ecs:CreateCluster + ecs:RegisterTaskDefinition + ecs:CreateService",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: ECS_TASKS,
            passed_to: "ecs-tasks.amazonaws.com",
            actions: &[
                act("ecs:CreateCluster", &[New("ecs:{region}:{account}:cluster/")]),
                act("ecs:RegisterTaskDefinition", &[TASK_DEFINITION]),
                act("ecs:CreateService", &[New("ecs:{region}:{account}:service/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "ecs-002",
        name: "iam:PassRole + ecs:CreateCluster + ecs:RegisterTaskDefinition + ecs:RunTask",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: ECS_TASKS,
            passed_to: "ecs-tasks.amazonaws.com",
            actions: &[
                act("ecs:CreateCluster", &[New("ecs:{region}:{account}:cluster/")]),
                act("ecs:RegisterTaskDefinition", &[TASK_DEFINITION]),
                act("ecs:RunTask", &[TASK_DEFINITION]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "ecs-003",
        name: "iam:PassRole + ecs:RegisterTaskDefinition + ecs:CreateService",
        category: Category::NewPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::PassRole {
            trusts: ECS_TASKS,
            passed_to: "ecs-tasks.amazonaws.com",
            actions: &[act("ecs:RegisterTaskDefinition", &[TASK_DEFINITION]), act("ecs:CreateService", &[New("ecs:{region}:{account}:service/")])],
            needs: Needs::EcsCluster,
            existing: None,
        },
    },
    Technique {
        id: "ecs-004",
        name: "iam:PassRole + ecs:RegisterTaskDefinition + ecs:RunTask",
        category: Category::NewPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::PassRole {
            trusts: ECS_TASKS,
            passed_to: "ecs-tasks.amazonaws.com",
            actions: &[act("ecs:RegisterTaskDefinition", &[TASK_DEFINITION]), act("ecs:RunTask", &[TASK_DEFINITION])],
            needs: Needs::EcsCluster,
            existing: None,
        },
    },
    Technique {
        id: "ecs-005",
        name: "iam:PassRole + ecs:RegisterTaskDefinition + ecs:StartTask",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: ECS_TASKS,
            passed_to: "ecs-tasks.amazonaws.com",
            actions: &[act("ecs:RegisterTaskDefinition", &[TASK_DEFINITION]), act("ecs:StartTask", &[TASK_DEFINITION])],
            needs: Needs::EcsContainerInstances,
            existing: None,
        },
    },
    Technique {
        id: "ecs-007",
        name: "iam:PassRole + ecs:StartTask + ecs:RegisterContainerInstance",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: ECS_TASKS,
            passed_to: "ecs-tasks.amazonaws.com",
            actions: &[act("ecs:StartTask", &[Workload]), act("ecs:RegisterContainerInstance", &[Cluster])],
            needs: Needs::EcsCluster,
            existing: Some(WorkloadKind::EcsTaskDefinition),
        },
    },
    Technique {
        id: "ecs-008",
        name: "iam:PassRole + ecs:RunTask",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: ECS_TASKS,
            passed_to: "ecs-tasks.amazonaws.com",
            actions: &[act("ecs:RunTask", &[Workload])],
            needs: Needs::EcsCluster,
            existing: Some(WorkloadKind::EcsTaskDefinition),
        },
    },
    Technique {
        id: "ecs-009",
        name: "iam:PassRole + ecs:StartTask",
        category: Category::ExistingPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: ECS_TASKS,
            passed_to: "ecs-tasks.amazonaws.com",
            actions: &[act("ecs:StartTask", &[Workload])],
            needs: Needs::EcsContainerInstances,
            existing: Some(WorkloadKind::EcsTaskDefinition),
        },
    },
    Technique {
        id: "apprunner-001",
        name: "iam:PassRole + apprunner:CreateService",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: &["tasks.apprunner.amazonaws.com"],
            passed_to: "tasks.apprunner.amazonaws.com",
            actions: &[act("apprunner:CreateService", &[New("apprunner:{region}:{account}:service/")])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "bedrock-001",
        name: "iam:PassRole + bedrock-agentcore:CreateCodeInterpreter + bedrock-agentcore:StartCodeInterpreterSession + bedrock-agentcore:InvokeCodeInterpreter",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: AGENTCORE,
            passed_to: "bedrock-agentcore.amazonaws.com",
            actions: &[
                act("bedrock-agentcore:CreateCodeInterpreter", &[Any]),
                act("bedrock-agentcore:StartCodeInterpreterSession", &[New("bedrock-agentcore:{region}:{account}:code-interpreter-custom/")]),
                act("bedrock-agentcore:InvokeCodeInterpreter", &[New("bedrock-agentcore:{region}:{account}:code-interpreter-custom/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "bedrock-003",
        name: "iam:PassRole + bedrock-agentcore:CreateAgentRuntime + bedrock-agentcore:CreateAgentRuntimeEndpoint + bedrock-agentcore:CreateWorkloadIdentity + bedrock-agentcore:InvokeAgentRuntimeCommand",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: AGENTCORE,
            passed_to: "bedrock-agentcore.amazonaws.com",
            actions: &[
                act("bedrock-agentcore:CreateAgentRuntime", &[Any]),
                act("bedrock-agentcore:CreateAgentRuntimeEndpoint", &[New("bedrock-agentcore:{region}:{account}:runtime/")]),
                act(
                    "bedrock-agentcore:CreateWorkloadIdentity",
                    &[New("bedrock-agentcore:{region}:{account}:workload-identity-directory/default/workload-identity/")],
                ),
                act("bedrock-agentcore:InvokeAgentRuntimeCommand", &[New("bedrock-agentcore:{region}:{account}:runtime/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "bedrock-006",
        name: "iam:PassRole + bedrock-agentcore:CreateBrowser + bedrock-agentcore:StartBrowserSession + bedrock-agentcore:ConnectBrowserAutomationStream",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: AGENTCORE,
            passed_to: "bedrock-agentcore.amazonaws.com",
            actions: &[
                act("bedrock-agentcore:CreateBrowser", &[Any]),
                act("bedrock-agentcore:StartBrowserSession", &[New("bedrock-agentcore:{region}:{account}:browser-custom/")]),
                act("bedrock-agentcore:ConnectBrowserAutomationStream", &[Any]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "ssm-003",
        name: "iam:PassRole + ssm:CreateDocument + ssm:StartAutomationExecution",
        category: Category::NewPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::PassRole {
            trusts: &["ssm.amazonaws.com"],
            passed_to: "ssm.amazonaws.com",
            actions: &[
                act("ssm:CreateDocument", &[New("ssm:{region}:{account}:document/")]),
                act("ssm:StartAutomationExecution", &[New("ssm:{region}:{account}:document/"), New("ssm:{region}:{account}:automation-execution/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "batch-001",
        name: "iam:PassRole + batch:RegisterJobDefinition + batch:SubmitJob",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: ECS_TASKS,
            passed_to: "batch.amazonaws.com",
            actions: &[
                act("batch:RegisterJobDefinition", &[New("batch:{region}:{account}:job-definition/")]),
                act("batch:SubmitJob", &[New("batch:{region}:{account}:job/"), New("batch:{region}:{account}:job-queue/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "stepfunctions-001",
        name: "iam:PassRole + states:CreateStateMachine + states:StartExecution",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: &["states.amazonaws.com"],
            passed_to: "states.amazonaws.com",
            actions: &[
                act("states:CreateStateMachine", &[New("states:{region}:{account}:stateMachine:")]),
                act("states:StartExecution", &[New("states:{region}:{account}:stateMachine:")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "scheduler-001",
        name: "iam:PassRole + scheduler:CreateSchedule",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: &["scheduler.amazonaws.com"],
            passed_to: "scheduler.amazonaws.com",
            actions: &[act("scheduler:CreateSchedule", &[New("scheduler:{region}:{account}:schedule/default/")])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "braket-001",
        name: "iam:PassRole + braket:CreateJob",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: &["braket.amazonaws.com"],
            passed_to: "braket.amazonaws.com",
            actions: &[act("braket:CreateJob", &[Any])],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "emr-serverless-001",
        name: "iam:PassRole + emr-serverless:CreateApplication + emr-serverless:StartJobRun",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: &["emr-serverless.amazonaws.com"],
            passed_to: "emr-serverless.amazonaws.com",
            actions: &[
                act("emr-serverless:CreateApplication", &[Any]),
                act("emr-serverless:StartJobRun", &[New("emr-serverless:{region}:{account}:/applications/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "kinesisanalytics-001",
        name: "iam:PassRole + kinesisanalytics:CreateApplication + kinesisanalytics:StartApplication",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: &["kinesisanalytics.amazonaws.com"],
            passed_to: "kinesisanalytics.amazonaws.com",
            actions: &[
                act("kinesisanalytics:CreateApplication", &[Any]),
                act("kinesisanalytics:StartApplication", &[New("kinesisanalytics:{region}:{account}:application/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    Technique {
        id: "amplify-001",
        name: "iam:PassRole + amplify:CreateApp + amplify:CreateBranch + amplify:StartJob",
        category: Category::NewPassrole,
        sources: &[PF],
        kind: Kind::PassRole {
            trusts: &["amplify.amazonaws.com"],
            passed_to: "amplify.amazonaws.com",
            actions: &[
                act("amplify:CreateApp", &[Any]),
                act("amplify:CreateBranch", &[New("amplify:{region}:{account}:apps/")]),
                act("amplify:StartJob", &[New("amplify:{region}:{account}:apps/")]),
            ],
            needs: Needs::Nothing,
            existing: None,
        },
    },
    // Take over an existing resource that runs with a role.
    Technique {
        id: "lambda-003",
        name: "lambda:UpdateFunctionCode",
        category: Category::ExistingPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::LambdaFunction, actions: &[act("lambda:UpdateFunctionCode", &[Workload])] },
    },
    Technique {
        id: "lambda-004",
        name: "lambda:UpdateFunctionCode + lambda:InvokeFunction",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover {
            workload: WorkloadKind::LambdaFunction,
            actions: &[act("lambda:UpdateFunctionCode", &[Workload]), act("lambda:InvokeFunction", &[Workload])],
        },
    },
    Technique {
        id: "lambda-005",
        name: "lambda:UpdateFunctionCode + lambda:AddPermission",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover {
            workload: WorkloadKind::LambdaFunction,
            actions: &[act("lambda:UpdateFunctionCode", &[Workload]), act("lambda:AddPermission", &[Workload])],
        },
    },
    Technique {
        id: "ec2-002",
        name: "ec2:ModifyInstanceAttribute + ec2:StopInstances + ec2:StartInstances",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover {
            workload: WorkloadKind::Ec2Instance,
            actions: &[act("ec2:ModifyInstanceAttribute", &[Workload]), act("ec2:StopInstances", &[Workload]), act("ec2:StartInstances", &[Workload])],
        },
    },
    Technique {
        id: "ec2-003",
        name: "ec2-instance-connect:SendSSHPublicKey",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::Ec2Instance, actions: &[act("ec2-instance-connect:SendSSHPublicKey", &[Workload])] },
    },
    Technique {
        id: "ec2-005",
        name: "ec2:CreateLaunchTemplateVersion + ec2:ModifyLaunchTemplate",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover {
            workload: WorkloadKind::LaunchTemplate,
            actions: &[act("ec2:CreateLaunchTemplateVersion", &[Workload]), act("ec2:ModifyLaunchTemplate", &[Workload])],
        },
    },
    Technique {
        id: "ssm-001",
        name: "ssm:StartSession",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::Ec2Instance, actions: &[act("ssm:StartSession", &[Workload])] },
    },
    Technique {
        id: "ssm-002",
        name: "ssm:SendCommand",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::Ec2Instance, actions: &[act("ssm:SendCommand", &[Workload, SsmDocument])] },
    },
    Technique {
        id: "ecs-006",
        name: "ecs:ExecuteCommand + ecs:DescribeTasks",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover {
            workload: WorkloadKind::EcsTask,
            actions: &[act("ecs:ExecuteCommand", &[WorkloadCluster, Workload]), act("ecs:DescribeTasks", &[Workload])],
        },
    },
    Technique {
        id: "glue-002",
        name: "glue:UpdateDevEndpoint",
        category: Category::ExistingPassrole,
        sources: &[PF, RHINO, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::GlueDevEndpoint, actions: &[act("glue:UpdateDevEndpoint", &[Workload])] },
    },
    Technique {
        id: "sagemaker-004",
        name: "sagemaker:CreatePresignedNotebookInstanceUrl",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::SageMakerNotebook, actions: &[act("sagemaker:CreatePresignedNotebookInstanceUrl", &[Workload])] },
    },
    Technique {
        id: "sagemaker-005",
        name: "sagemaker:CreateNotebookInstanceLifecycleConfig + sagemaker:StopNotebookInstance + sagemaker:UpdateNotebookInstance + sagemaker:StartNotebookInstance",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover {
            workload: WorkloadKind::SageMakerNotebook,
            actions: &[
                act("sagemaker:CreateNotebookInstanceLifecycleConfig", &[New("sagemaker:{region}:{account}:notebook-instance-lifecycle-config/")]),
                act("sagemaker:StopNotebookInstance", &[Workload]),
                act("sagemaker:UpdateNotebookInstance", &[Workload]),
                act("sagemaker:StartNotebookInstance", &[Workload]),
            ],
        },
    },
    Technique {
        id: "codebuild-002",
        name: "codebuild:StartBuild",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::CodeBuildProject, actions: &[act("codebuild:StartBuild", &[Workload])] },
    },
    Technique {
        id: "codebuild-003",
        name: "codebuild:StartBuildBatch",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::CodeBuildProject, actions: &[act("codebuild:StartBuildBatch", &[Workload])] },
    },
    Technique {
        id: "cloudformation-002",
        name: "cloudformation:UpdateStack",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::CloudFormationStack, actions: &[act("cloudformation:UpdateStack", &[Workload])] },
    },
    Technique {
        id: "cloudformation-005",
        name: "cloudformation:CreateChangeSet + cloudformation:ExecuteChangeSet",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover {
            workload: WorkloadKind::CloudFormationStack,
            actions: &[act("cloudformation:CreateChangeSet", &[Workload]), act("cloudformation:ExecuteChangeSet", &[Workload])],
        },
    },
    Technique {
        id: "apprunner-002",
        name: "apprunner:UpdateService",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover { workload: WorkloadKind::AppRunnerService, actions: &[act("apprunner:UpdateService", &[Workload])] },
    },
    Technique {
        id: "bedrock-002",
        name: "bedrock-agentcore:StartCodeInterpreterSession + bedrock-agentcore:InvokeCodeInterpreter",
        category: Category::ExistingPassrole,
        sources: &[PF, PROWLER],
        kind: Kind::Takeover {
            workload: WorkloadKind::AgentCoreCodeInterpreter,
            actions: &[act("bedrock-agentcore:StartCodeInterpreterSession", &[Workload]), act("bedrock-agentcore:InvokeCodeInterpreter", &[Workload])],
        },
    },
    Technique {
        id: "bedrock-004",
        name: "bedrock-agentcore:InvokeAgentRuntimeCommand",
        category: Category::ExistingPassrole,
        sources: &[PF],
        kind: Kind::Takeover { workload: WorkloadKind::AgentCoreRuntime, actions: &[act("bedrock-agentcore:InvokeAgentRuntimeCommand", &[Workload])] },
    },
    Technique {
        id: "bedrock-007",
        name: "bedrock-agentcore:StartBrowserSession + bedrock-agentcore:ConnectBrowserAutomationStream",
        category: Category::ExistingPassrole,
        sources: &[PF],
        kind: Kind::Takeover {
            workload: WorkloadKind::AgentCoreBrowser,
            actions: &[act("bedrock-agentcore:StartBrowserSession", &[Workload]), act("bedrock-agentcore:ConnectBrowserAutomationStream", &[Workload])],
        },
    },
];

/// The catalog as the Markdown table `docs/iam.md` holds between its
/// `<!-- techniques -->` markers (a test fails when the page is stale).
pub fn markdown_table() -> String {
    let mut table = String::from("| Id | Technique | Category | Needs | Sources |\n|---|---|---|---|---|\n");
    for technique in TECHNIQUES {
        let needs = match technique.kind {
            Kind::PassRole { trusts, existing: Some(workload), .. } => {
                format!("a role trusting `{}`; an existing {}", trusts.join("`/`"), workload_name(workload))
            }
            Kind::PassRole { trusts, needs: Needs::InstanceProfile, .. } => format!("a role trusting `{}` in an instance profile", trusts.join("`/`")),
            Kind::PassRole { trusts, needs: Needs::EcsCluster, .. } => format!("a role trusting `{}`; an ECS cluster", trusts.join("`/`")),
            Kind::PassRole { trusts, needs: Needs::EcsContainerInstances, .. } => {
                format!("a role trusting `{}`; an ECS cluster with container instances", trusts.join("`/`"))
            }
            Kind::PassRole { trusts, .. } => format!("a role trusting `{}`", trusts.join("`/`")),
            Kind::Takeover { workload, .. } => format!("an existing {} running with a role", workload_name(workload)),
            Kind::Iam { .. } => match technique.category {
                Category::SelfEscalation => "(own permissions)".to_string(),
                Category::ModifyThenAct => "another principal it can then use".to_string(),
                _ => "another principal".to_string(),
            },
        };
        table.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            technique.id,
            technique.name,
            technique.category.as_str(),
            needs,
            technique.sources.join("; ")
        ));
    }
    table
}

fn workload_name(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Ec2Instance => "EC2 instance",
        WorkloadKind::LaunchTemplate => "launch template (launched by an Auto Scaling group or the principal)",
        WorkloadKind::LambdaFunction => "Lambda function",
        WorkloadKind::EcsTask => "running ECS task with ECS Exec",
        WorkloadKind::EcsTaskDefinition => "ECS task definition",
        WorkloadKind::EcsService => "ECS service",
        WorkloadKind::GlueJob => "Glue job",
        WorkloadKind::GlueDevEndpoint => "Glue development endpoint",
        WorkloadKind::SageMakerNotebook => "SageMaker notebook instance",
        WorkloadKind::CodeBuildProject => "CodeBuild project",
        WorkloadKind::CloudFormationStack => "CloudFormation stack with a service role",
        WorkloadKind::StackSet => "CloudFormation StackSet",
        WorkloadKind::AppRunnerService => "App Runner service",
        WorkloadKind::AgentCoreCodeInterpreter => "AgentCore code interpreter",
        WorkloadKind::AgentCoreRuntime => "AgentCore agent runtime",
        WorkloadKind::AgentCoreBrowser => "AgentCore browser",
    }
}

/// The technique with this id.
pub fn technique(id: &str) -> Option<&'static Technique> {
    TECHNIQUES.iter().find(|technique| technique.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_ids_are_unique_and_docs_list_every_technique() {
        let mut ids: Vec<&str> = TECHNIQUES.iter().map(|technique| technique.id).collect();
        ids.sort_unstable();
        let count = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate technique ids");
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/iam.md");
        let page = std::fs::read_to_string(path).unwrap_or_default();
        let parts: Vec<&str> = page.split("<!-- techniques -->").collect();
        assert_eq!(parts.len(), 3, "docs/iam.md needs two `<!-- techniques -->` markers");
        if std::env::var_os("VIGIL_BLESS").is_some() {
            let page = format!("{}<!-- techniques -->\n{}<!-- techniques -->{}", parts[0], markdown_table(), parts[2]);
            std::fs::write(path, page).unwrap_or_else(|error| panic!("{error}"));
            return;
        }
        assert_eq!(parts[1].trim(), markdown_table().trim(), "docs/iam.md's technique table is stale: run `VIGIL_BLESS=1 cargo test -p vigil-iam techniques`");
    }

    #[test]
    fn resource_shapes_follow_the_service_authorization_reference() {
        // The shared copy of AWS's reference, when present (skipped with a message otherwise).
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/iam/iam-definition.json");
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipped: `{path}` is absent");
            return;
        };
        let catalog = crate::catalog::Catalog::parse_str(&text).unwrap_or_else(|error| panic!("{error}"));
        let mut problems = Vec::new();
        for technique in TECHNIQUES {
            let actions: Vec<&ServiceAction> = match &technique.kind {
                Kind::PassRole { actions, .. } | Kind::Takeover { actions, .. } => actions.iter().collect(),
                Kind::Iam { .. } => Vec::new(),
            };
            for action in actions {
                let found = catalog.expand(action.action);
                let Some(found) = found.first() else {
                    problems.push(format!("{}: `{}` is not in the reference", technique.id, action.action));
                    continue;
                };
                for shape in action.shapes {
                    let Shape::New(template) = shape else { continue };
                    // Real names may carry more segments than the prefix shows (`stack/{name}/{id}`).
                    let base = format!("arn:aws:{}", template.replace("{region}", "us-east-1").replace("{account}", "123456789012"));
                    let sample = format!("{base}x");
                    let fits = ["x", "x/y", "x:1", "x/branches/y", "x/branches/y/jobs/z"].iter().any(|suffix| {
                        let sample = format!("{base}{suffix}");
                        found.resource_types().any(|(_, resource_type)| {
                            resource_type.is_some_and(|resource_type| {
                                let pattern = resource_type
                                    .arn
                                    .replace("${Partition}", "aws")
                                    .split("${")
                                    .enumerate()
                                    .map(|(index, part)| {
                                        if index == 0 {
                                            part.to_string()
                                        } else {
                                            format!("*{}", part.split_once('}').map(|(_, rest)| rest).unwrap_or_default())
                                        }
                                    })
                                    .collect::<String>();
                                crate::pattern::ArnPattern::new(&pattern).matches(&sample)
                            })
                        })
                    });
                    if !fits {
                        problems.push(format!("{}: `{}` on `{sample}` fits none of its resource types", technique.id, action.action));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
