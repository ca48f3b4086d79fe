//! A uniform view over every resource in an inventory: ARN, type, region, name and tags.
//!
//! Resource types use CloudFormation's names (`AWS::EC2::Instance`), as AWS Config and
//! Security Hub do. Resources whose API shape carries no ARN get the ARN AWS documents for them.

use crate::inventory::Inventory;
use crate::{Arn, Tags};

/// A borrowed view of one resource.
#[derive(Debug, Clone)]
pub struct ResourceRef<'a> {
    pub arn: String,
    pub resource_type: &'static str,
    /// The region, or `global`.
    pub region: &'a str,
    /// The resource's own id or name (`i-0abc`, bucket name, user name).
    pub id: &'a str,
    pub tags: Option<&'a Tags>,
    pub data: ResourceData<'a>,
}

impl<'a> ResourceRef<'a> {
    /// The resource's own name where its API gives one besides its id (a security group's
    /// `GroupName`, a launch template's name, a hosted zone's domain without the final dot, a
    /// certificate's domain, a topic's name); otherwise its id.
    pub fn name(&self) -> &'a str {
        match self.data {
            ResourceData::SecurityGroup(group) => &group.group_name,
            ResourceData::LaunchTemplate(template) => template.launch_template_name.as_deref().unwrap_or(self.id),
            ResourceData::HostedZone(zone) => zone.name.trim_end_matches('.'),
            ResourceData::Certificate(certificate) => certificate.domain_name.as_deref().unwrap_or(self.id),
            ResourceData::Topic(topic) => topic.topic_arn.rsplit(':').next().unwrap_or(self.id),
            _ => self.id,
        }
    }
}

macro_rules! resource_data {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// The typed configuration behind a [`ResourceRef`].
        #[derive(Debug, Clone, Copy)]
        pub enum ResourceData<'a> {
            $($variant(&'a $ty),)*
        }

        impl ResourceData<'_> {
            /// The resource's configuration as JSON (AWS-shaped field names).
            pub fn to_json(&self) -> serde_json::Value {
                let value = match self {
                    $(ResourceData::$variant(inner) => serde_json::to_value(inner),)*
                };
                value.unwrap_or(serde_json::Value::Null)
            }

            /// The resource's configuration as compact JSON bytes (the same document as
            /// [`Self::to_json`], without building a `Value` first).
            pub fn to_json_bytes(&self) -> Vec<u8> {
                let bytes = match self {
                    $(ResourceData::$variant(inner) => serde_json::to_vec(inner),)*
                };
                bytes.unwrap_or_else(|_| b"null".to_vec())
            }

            /// Where the resource's data lies and how many bytes it takes: two views of the
            /// same item of the inventory have the same address (see `vigil_checks`' subjects).
            pub fn place(&self) -> (*const (), usize) {
                match self {
                    $(ResourceData::$variant(inner) => (std::ptr::from_ref::<$ty>(inner).cast::<()>(), std::mem::size_of::<$ty>()),)*
                }
            }
        }
    };
}

resource_data! {
    User(crate::iam::User),
    Group(crate::iam::Group),
    Role(crate::iam::Role),
    Policy(crate::iam::ManagedPolicy),
    ServerCertificate(crate::iam::ServerCertificate),
    Bucket(crate::s3::Bucket),
    Instance(crate::ec2::Instance),
    Image(crate::ec2::Image),
    Volume(crate::ec2::Volume),
    Snapshot(crate::ec2::Snapshot),
    SecurityGroup(crate::ec2::SecurityGroup),
    NetworkAcl(crate::ec2::NetworkAcl),
    RouteTable(crate::ec2::RouteTable),
    Subnet(crate::ec2::Subnet),
    Vpc(crate::ec2::Vpc),
    InternetGateway(crate::ec2::InternetGateway),
    NatGateway(crate::ec2::NatGateway),
    NetworkInterface(crate::ec2::NetworkInterface),
    Address(crate::ec2::Address),
    LaunchTemplate(crate::ec2::LaunchTemplate),
    Trail(crate::monitoring::Trail),
    LogGroup(crate::monitoring::LogGroup),
    MetricAlarm(crate::monitoring::MetricAlarm),
    Topic(crate::monitoring::Topic),
    KmsKey(crate::monitoring::KmsKey),
    ConfigurationRecorder(crate::monitoring::ConfigurationRecorder),
    LoadBalancer(crate::elb::LoadBalancer),
    TargetGroup(crate::elb::TargetGroup),
    ClassicLoadBalancer(crate::elb::ClassicLoadBalancer),
    DbInstance(crate::rds::DbInstance),
    DbCluster(crate::rds::DbCluster),
    DbSnapshot(crate::rds::DbSnapshot),
    RedshiftCluster(crate::redshift::RedshiftCluster),
    ReplicationGroup(crate::elasticache::ReplicationGroup),
    CacheCluster(crate::elasticache::CacheCluster),
    Table(crate::dynamodb::Table),
    AutoScalingGroup(crate::autoscaling::AutoScalingGroup),
    LaunchConfiguration(crate::autoscaling::LaunchConfiguration),
    Certificate(crate::acm::Certificate),
    Queue(crate::messaging::Queue),
    Stream(crate::messaging::Stream),
    EmailIdentity(crate::messaging::EmailIdentity),
    Function(crate::lambda::Function),
    Detector(crate::security::Detector),
    SecurityHub(crate::security::SecurityHub),
    Secret(crate::security::Secret),
    Repository(crate::security::Repository),
    Distribution(crate::edge::Distribution),
    HostedZone(crate::edge::HostedZone),
    Domain(crate::edge::Domain),
    EcsCluster(crate::workloads::EcsCluster),
    EcsTaskDefinition(crate::workloads::EcsTaskDefinition),
    EcsService(crate::workloads::EcsService),
    GlueJob(crate::workloads::GlueJob),
    GlueDevEndpoint(crate::workloads::GlueDevEndpoint),
    NotebookInstance(crate::workloads::NotebookInstance),
    CodeBuildProject(crate::workloads::CodeBuildProject),
    CloudFormationStack(crate::workloads::CloudFormationStack),
    StackSet(crate::workloads::StackSet),
    AppRunnerService(crate::workloads::AppRunnerService),
    AgentCoreResource(crate::workloads::AgentCoreResource),
}

impl Inventory {
    /// The ARN of a regional resource that the API returns without one.
    pub fn regional_arn(&self, service: &str, region: &str, resource: &str) -> String {
        Arn::build(self.partition(), service, region, self.account_id().as_str(), resource).to_string()
    }

    /// Every resource, global first, then region by region.
    pub fn resources(&self) -> Vec<ResourceRef<'_>> {
        let mut out = Vec::new();
        let global = crate::Region::GLOBAL;
        for user in &self.iam.users {
            out.push(ResourceRef {
                arn: user.arn.clone(),
                resource_type: "AWS::IAM::User",
                region: global,
                id: &user.user_name,
                tags: Some(&user.tags),
                data: ResourceData::User(user),
            });
        }
        for group in &self.iam.groups {
            out.push(ResourceRef {
                arn: group.arn.clone(),
                resource_type: "AWS::IAM::Group",
                region: global,
                id: &group.group_name,
                tags: None,
                data: ResourceData::Group(group),
            });
        }
        for role in &self.iam.roles {
            out.push(ResourceRef {
                arn: role.arn.clone(),
                resource_type: "AWS::IAM::Role",
                region: global,
                id: &role.role_name,
                tags: Some(&role.tags),
                data: ResourceData::Role(role),
            });
        }
        for policy in self.iam.policies.iter().filter(|policy| !policy.is_aws_managed()) {
            out.push(ResourceRef {
                arn: policy.arn.clone(),
                resource_type: "AWS::IAM::ManagedPolicy",
                region: global,
                id: &policy.policy_name,
                tags: None,
                data: ResourceData::Policy(policy),
            });
        }
        for certificate in &self.iam.server_certificates {
            out.push(ResourceRef {
                arn: certificate.arn.clone(),
                resource_type: "AWS::IAM::ServerCertificate",
                region: global,
                id: &certificate.server_certificate_name,
                tags: None,
                data: ResourceData::ServerCertificate(certificate),
            });
        }
        for bucket in &self.s3.buckets {
            out.push(ResourceRef {
                arn: format!("arn:{}:s3:::{}", self.partition(), bucket.name),
                resource_type: "AWS::S3::Bucket",
                region: &bucket.region,
                id: &bucket.name,
                tags: Some(&bucket.tags),
                data: ResourceData::Bucket(bucket),
            });
        }
        self.push_edge_resources(&mut out);
        for (region, regional) in &self.regional {
            let region_name = region.as_str();
            self.push_services_b_resources(region_name, regional, &mut out);
            self.push_workload_resources(region_name, regional, &mut out);
            self.push_services_a_resources(region_name, regional, &mut out);
            let ec2 = &regional.ec2;
            macro_rules! ec2_resources {
                ($list:expr, $variant:ident, $type_name:literal, $prefix:literal, $id:ident) => {
                    for item in &$list {
                        out.push(ResourceRef {
                            arn: self.regional_arn("ec2", region_name, &format!(concat!($prefix, "/{}"), item.$id)),
                            resource_type: $type_name,
                            region: region_name,
                            id: &item.$id,
                            tags: Some(&item.tags),
                            data: ResourceData::$variant(item),
                        });
                    }
                };
            }
            ec2_resources!(ec2.instances, Instance, "AWS::EC2::Instance", "instance", instance_id);
            ec2_resources!(ec2.images, Image, "AWS::EC2::Image", "image", image_id);
            ec2_resources!(ec2.volumes, Volume, "AWS::EC2::Volume", "volume", volume_id);
            ec2_resources!(ec2.snapshots, Snapshot, "AWS::EC2::Snapshot", "snapshot", snapshot_id);
            ec2_resources!(ec2.security_groups, SecurityGroup, "AWS::EC2::SecurityGroup", "security-group", group_id);
            ec2_resources!(ec2.network_acls, NetworkAcl, "AWS::EC2::NetworkAcl", "network-acl", network_acl_id);
            ec2_resources!(ec2.route_tables, RouteTable, "AWS::EC2::RouteTable", "route-table", route_table_id);
            ec2_resources!(ec2.subnets, Subnet, "AWS::EC2::Subnet", "subnet", subnet_id);
            ec2_resources!(ec2.vpcs, Vpc, "AWS::EC2::VPC", "vpc", vpc_id);
            ec2_resources!(ec2.internet_gateways, InternetGateway, "AWS::EC2::InternetGateway", "internet-gateway", internet_gateway_id);
            ec2_resources!(ec2.nat_gateways, NatGateway, "AWS::EC2::NatGateway", "natgateway", nat_gateway_id);
            ec2_resources!(ec2.network_interfaces, NetworkInterface, "AWS::EC2::NetworkInterface", "network-interface", network_interface_id);
            ec2_resources!(ec2.launch_templates, LaunchTemplate, "AWS::EC2::LaunchTemplate", "launch-template", launch_template_id);
            for address in &ec2.addresses {
                let id = address.allocation_id.as_deref().or(address.public_ip.as_deref()).unwrap_or_default();
                out.push(ResourceRef {
                    arn: self.regional_arn("ec2", region_name, &format!("elastic-ip/{id}")),
                    resource_type: "AWS::EC2::EIP",
                    region: region_name,
                    id,
                    tags: Some(&address.tags),
                    data: ResourceData::Address(address),
                });
            }
            for trail in &regional.trails {
                out.push(ResourceRef {
                    arn: trail.trail_arn.clone(),
                    resource_type: "AWS::CloudTrail::Trail",
                    region: region_name,
                    id: &trail.name,
                    tags: Some(&trail.tags),
                    data: ResourceData::Trail(trail),
                });
            }
            for log_group in &regional.log_groups {
                let arn = log_group
                    .arn
                    .clone()
                    .map(|arn| arn.trim_end_matches(":*").to_string())
                    .unwrap_or_else(|| self.regional_arn("logs", region_name, &format!("log-group:{}", log_group.log_group_name)));
                out.push(ResourceRef {
                    arn,
                    resource_type: "AWS::Logs::LogGroup",
                    region: region_name,
                    id: &log_group.log_group_name,
                    tags: None,
                    data: ResourceData::LogGroup(log_group),
                });
            }
            for alarm in &regional.metric_alarms {
                let arn = alarm.alarm_arn.clone().unwrap_or_else(|| self.regional_arn("cloudwatch", region_name, &format!("alarm:{}", alarm.alarm_name)));
                out.push(ResourceRef {
                    arn,
                    resource_type: "AWS::CloudWatch::Alarm",
                    region: region_name,
                    id: &alarm.alarm_name,
                    tags: None,
                    data: ResourceData::MetricAlarm(alarm),
                });
            }
            for topic in &regional.sns_topics {
                out.push(ResourceRef {
                    arn: topic.topic_arn.clone(),
                    resource_type: "AWS::SNS::Topic",
                    region: region_name,
                    id: &topic.topic_arn,
                    tags: Some(&topic.tags),
                    data: ResourceData::Topic(topic),
                });
            }
            for key in &regional.kms_keys {
                out.push(ResourceRef {
                    arn: key.arn.clone(),
                    resource_type: "AWS::KMS::Key",
                    region: region_name,
                    id: &key.key_id,
                    tags: Some(&key.tags),
                    data: ResourceData::KmsKey(key),
                });
            }
            for recorder in &regional.configuration_recorders {
                out.push(ResourceRef {
                    arn: self.regional_arn("config", region_name, &format!("configuration-recorder/{}", recorder.name)),
                    resource_type: "AWS::Config::ConfigurationRecorder",
                    region: region_name,
                    id: &recorder.name,
                    tags: None,
                    data: ResourceData::ConfigurationRecorder(recorder),
                });
            }
            for balancer in &regional.load_balancers {
                out.push(ResourceRef {
                    arn: balancer.load_balancer_arn.clone(),
                    resource_type: "AWS::ElasticLoadBalancingV2::LoadBalancer",
                    region: region_name,
                    id: &balancer.load_balancer_name,
                    tags: Some(&balancer.tags),
                    data: ResourceData::LoadBalancer(balancer),
                });
            }
            for group in &regional.target_groups {
                out.push(ResourceRef {
                    arn: group.target_group_arn.clone(),
                    resource_type: "AWS::ElasticLoadBalancingV2::TargetGroup",
                    region: region_name,
                    id: &group.target_group_name,
                    tags: None,
                    data: ResourceData::TargetGroup(group),
                });
            }
            for balancer in &regional.classic_load_balancers {
                out.push(ResourceRef {
                    arn: self.regional_arn("elasticloadbalancing", region_name, &format!("loadbalancer/{}", balancer.load_balancer_name)),
                    resource_type: "AWS::ElasticLoadBalancing::LoadBalancer",
                    region: region_name,
                    id: &balancer.load_balancer_name,
                    tags: Some(&balancer.tags),
                    data: ResourceData::ClassicLoadBalancer(balancer),
                });
            }
            for instance in &regional.db_instances {
                out.push(ResourceRef {
                    arn: instance.db_instance_arn.clone(),
                    resource_type: "AWS::RDS::DBInstance",
                    region: region_name,
                    id: &instance.db_instance_identifier,
                    tags: Some(&instance.tags),
                    data: ResourceData::DbInstance(instance),
                });
            }
            for cluster in &regional.db_clusters {
                out.push(ResourceRef {
                    arn: cluster.db_cluster_arn.clone(),
                    resource_type: "AWS::RDS::DBCluster",
                    region: region_name,
                    id: &cluster.db_cluster_identifier,
                    tags: Some(&cluster.tags),
                    data: ResourceData::DbCluster(cluster),
                });
            }
            for snapshot in &regional.db_snapshots {
                let resource_type = if snapshot.is_cluster_snapshot { "AWS::RDS::DBClusterSnapshot" } else { "AWS::RDS::DBSnapshot" };
                out.push(ResourceRef {
                    arn: snapshot.db_snapshot_arn.clone(),
                    resource_type,
                    region: region_name,
                    id: &snapshot.db_snapshot_identifier,
                    tags: Some(&snapshot.tags),
                    data: ResourceData::DbSnapshot(snapshot),
                });
            }
        }
        out
    }
}

impl Inventory {
    /// CloudFront distributions, Route 53 hosted zones and registered domains (global).
    fn push_edge_resources<'a>(&'a self, out: &mut Vec<ResourceRef<'a>>) {
        let global = crate::Region::GLOBAL;
        for distribution in &self.edge.distributions {
            let arn = if distribution.arn.is_empty() {
                format!("arn:{}:cloudfront::{}:distribution/{}", self.partition(), self.account_id().as_str(), distribution.id)
            } else {
                distribution.arn.clone()
            };
            out.push(ResourceRef {
                arn,
                resource_type: "AWS::CloudFront::Distribution",
                region: global,
                id: &distribution.id,
                tags: None,
                data: ResourceData::Distribution(distribution),
            });
        }
        for zone in &self.edge.hosted_zones {
            out.push(ResourceRef {
                arn: format!("arn:{}:route53:::hostedzone/{}", self.partition(), zone.short_id()),
                resource_type: "AWS::Route53::HostedZone",
                region: global,
                id: zone.short_id(),
                tags: None,
                data: ResourceData::HostedZone(zone),
            });
        }
        for domain in &self.edge.domains {
            // Registered domains have no ARN and no CloudFormation type; this ARN follows the
            // service's naming so findings stay addressable.
            out.push(ResourceRef {
                arn: format!("arn:{}:route53domains:us-east-1:{}:domain/{}", self.partition(), self.account_id().as_str(), domain.domain_name),
                resource_type: "AWS::Route53Domains::Domain",
                region: global,
                id: &domain.domain_name,
                tags: None,
                data: ResourceData::Domain(domain),
            });
        }
    }

    /// The workloads that run with an IAM role (ECS, Glue, SageMaker, CodeBuild,
    /// CloudFormation, App Runner, Bedrock AgentCore) in one region.
    fn push_workload_resources<'a>(&'a self, region: &'a str, regional: &'a crate::RegionalInventory, out: &mut Vec<ResourceRef<'a>>) {
        for cluster in &regional.ecs_clusters {
            let data = ResourceData::EcsCluster(cluster);
            out.push(ResourceRef {
                arn: cluster.cluster_arn.clone(),
                resource_type: "AWS::ECS::Cluster",
                region,
                id: &cluster.cluster_name,
                tags: Some(&cluster.tags),
                data,
            });
        }
        for definition in &regional.ecs_task_definitions {
            let data = ResourceData::EcsTaskDefinition(definition);
            let id = definition.task_definition_arn.rsplit('/').next().unwrap_or_default();
            out.push(ResourceRef {
                arn: definition.task_definition_arn.clone(),
                resource_type: "AWS::ECS::TaskDefinition",
                region,
                id,
                tags: Some(&definition.tags),
                data,
            });
        }
        for service in &regional.ecs_services {
            let data = ResourceData::EcsService(service);
            out.push(ResourceRef {
                arn: service.service_arn.clone(),
                resource_type: "AWS::ECS::Service",
                region,
                id: &service.service_name,
                tags: Some(&service.tags),
                data,
            });
        }
        for job in &regional.glue_jobs {
            let arn = self.regional_arn("glue", region, &format!("job/{}", job.name));
            out.push(ResourceRef { arn, resource_type: "AWS::Glue::Job", region, id: &job.name, tags: None, data: ResourceData::GlueJob(job) });
        }
        for endpoint in &regional.glue_dev_endpoints {
            let arn = self.regional_arn("glue", region, &format!("devEndpoint/{}", endpoint.endpoint_name));
            let data = ResourceData::GlueDevEndpoint(endpoint);
            out.push(ResourceRef { arn, resource_type: "AWS::Glue::DevEndpoint", region, id: &endpoint.endpoint_name, tags: None, data });
        }
        for notebook in &regional.sagemaker_notebook_instances {
            let data = ResourceData::NotebookInstance(notebook);
            let id = &notebook.notebook_instance_name;
            out.push(ResourceRef {
                arn: notebook.notebook_instance_arn.clone(),
                resource_type: "AWS::SageMaker::NotebookInstance",
                region,
                id,
                tags: None,
                data,
            });
        }
        for project in &regional.codebuild_projects {
            let data = ResourceData::CodeBuildProject(project);
            out.push(ResourceRef {
                arn: project.arn.clone(),
                resource_type: "AWS::CodeBuild::Project",
                region,
                id: &project.name,
                tags: Some(&project.tags),
                data,
            });
        }
        for stack in &regional.cloudformation_stacks {
            let data = ResourceData::CloudFormationStack(stack);
            out.push(ResourceRef {
                arn: stack.stack_id.clone(),
                resource_type: "AWS::CloudFormation::Stack",
                region,
                id: &stack.stack_name,
                tags: Some(&stack.tags),
                data,
            });
        }
        for stack_set in &regional.cloudformation_stack_sets {
            let arn =
                stack_set.stack_set_arn.clone().unwrap_or_else(|| self.regional_arn("cloudformation", region, &format!("stackset/{}", stack_set.stack_set_id)));
            let data = ResourceData::StackSet(stack_set);
            out.push(ResourceRef { arn, resource_type: "AWS::CloudFormation::StackSet", region, id: &stack_set.stack_set_name, tags: None, data });
        }
        for service in &regional.apprunner_services {
            let data = ResourceData::AppRunnerService(service);
            out.push(ResourceRef {
                arn: service.service_arn.clone(),
                resource_type: "AWS::AppRunner::Service",
                region,
                id: &service.service_name,
                tags: None,
                data,
            });
        }
        for resource in &regional.agentcore_resources {
            let resource_type = match resource.kind.as_str() {
                "runtime" => "AWS::BedrockAgentCore::Runtime",
                "browser" => "AWS::BedrockAgentCore::BrowserCustom",
                _ => "AWS::BedrockAgentCore::CodeInterpreterCustom",
            };
            let data = ResourceData::AgentCoreResource(resource);
            out.push(ResourceRef { arn: resource.arn.clone(), resource_type, region, id: &resource.id, tags: None, data });
        }
    }

    /// Redshift, ElastiCache, DynamoDB, Auto Scaling and ACM in one region.
    fn push_services_a_resources<'a>(&'a self, region: &'a str, regional: &'a crate::RegionalInventory, out: &mut Vec<ResourceRef<'a>>) {
        for cluster in &regional.redshift_clusters {
            out.push(ResourceRef {
                arn: cluster.cluster_arn.clone(),
                resource_type: "AWS::Redshift::Cluster",
                region,
                id: &cluster.cluster_identifier,
                tags: Some(&cluster.tags),
                data: ResourceData::RedshiftCluster(cluster),
            });
        }
        for group in &regional.replication_groups {
            out.push(ResourceRef {
                arn: group.arn.clone(),
                resource_type: "AWS::ElastiCache::ReplicationGroup",
                region,
                id: &group.replication_group_id,
                tags: None,
                data: ResourceData::ReplicationGroup(group),
            });
        }
        for cluster in &regional.cache_clusters {
            out.push(ResourceRef {
                arn: cluster.arn.clone(),
                resource_type: "AWS::ElastiCache::CacheCluster",
                region,
                id: &cluster.cache_cluster_id,
                tags: None,
                data: ResourceData::CacheCluster(cluster),
            });
        }
        for table in &regional.dynamodb_tables {
            out.push(ResourceRef {
                arn: table.table_arn.clone(),
                resource_type: "AWS::DynamoDB::Table",
                region,
                id: &table.table_name,
                tags: None,
                data: ResourceData::Table(table),
            });
        }
        for group in &regional.auto_scaling_groups {
            out.push(ResourceRef {
                arn: group.auto_scaling_group_arn.clone(),
                resource_type: "AWS::AutoScaling::AutoScalingGroup",
                region,
                id: &group.auto_scaling_group_name,
                tags: Some(&group.tags),
                data: ResourceData::AutoScalingGroup(group),
            });
        }
        for configuration in &regional.launch_configurations {
            out.push(ResourceRef {
                arn: configuration.launch_configuration_arn.clone(),
                resource_type: "AWS::AutoScaling::LaunchConfiguration",
                region,
                id: &configuration.launch_configuration_name,
                tags: None,
                data: ResourceData::LaunchConfiguration(configuration),
            });
        }
        for certificate in &regional.certificates {
            out.push(ResourceRef {
                arn: certificate.certificate_arn.clone(),
                resource_type: "AWS::CertificateManager::Certificate",
                region,
                id: &certificate.certificate_arn,
                tags: None,
                data: ResourceData::Certificate(certificate),
            });
        }
    }

    /// SQS, Kinesis, SES, Lambda, GuardDuty, Security Hub, Secrets Manager and ECR in one region.
    fn push_services_b_resources<'a>(&'a self, region: &'a str, regional: &'a crate::RegionalInventory, out: &mut Vec<ResourceRef<'a>>) {
        for queue in &regional.sqs_queues {
            out.push(ResourceRef {
                arn: queue.queue_arn.clone(),
                resource_type: "AWS::SQS::Queue",
                region,
                id: queue.name(),
                tags: Some(&queue.tags),
                data: ResourceData::Queue(queue),
            });
        }
        for stream in &regional.kinesis_streams {
            out.push(ResourceRef {
                arn: stream.stream_arn.clone(),
                resource_type: "AWS::Kinesis::Stream",
                region,
                id: &stream.stream_name,
                tags: None,
                data: ResourceData::Stream(stream),
            });
        }
        for identity in &regional.email_identities {
            out.push(ResourceRef {
                arn: self.regional_arn("ses", region, &format!("identity/{}", identity.identity_name)),
                resource_type: "AWS::SES::EmailIdentity",
                region,
                id: &identity.identity_name,
                tags: Some(&identity.tags),
                data: ResourceData::EmailIdentity(identity),
            });
        }
        for function in &regional.lambda_functions {
            out.push(ResourceRef {
                arn: function.function_arn.clone(),
                resource_type: "AWS::Lambda::Function",
                region,
                id: &function.function_name,
                tags: Some(&function.tags),
                data: ResourceData::Function(function),
            });
        }
        for detector in &regional.guardduty_detectors {
            out.push(ResourceRef {
                arn: self.regional_arn("guardduty", region, &format!("detector/{}", detector.detector_id)),
                resource_type: "AWS::GuardDuty::Detector",
                region,
                id: &detector.detector_id,
                tags: Some(&detector.tags),
                data: ResourceData::Detector(detector),
            });
        }
        if let Some(hub) = &regional.security_hub {
            out.push(ResourceRef {
                arn: hub.hub_arn.clone(),
                resource_type: "AWS::SecurityHub::Hub",
                region,
                id: &hub.hub_arn,
                tags: None,
                data: ResourceData::SecurityHub(hub),
            });
        }
        for secret in &regional.secrets {
            out.push(ResourceRef {
                arn: secret.arn.clone(),
                resource_type: "AWS::SecretsManager::Secret",
                region,
                id: &secret.name,
                tags: Some(&secret.tags),
                data: ResourceData::Secret(secret),
            });
        }
        for repository in &regional.ecr_repositories {
            out.push(ResourceRef {
                arn: repository.repository_arn.clone(),
                resource_type: "AWS::ECR::Repository",
                region,
                id: &repository.repository_name,
                tags: Some(&repository.tags),
                data: ResourceData::Repository(repository),
            });
        }
    }
}
