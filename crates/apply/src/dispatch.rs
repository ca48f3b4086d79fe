//! Sends one [`vigil_fix::Call`] through the AWS SDK: one arm per write operation of
//! `vigil_fix::actions::OPERATIONS`, building the SDK request from the call's parameters
//! (named as in the AWS API). Every call lands in the session's ledger.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value;
use vigil_collect::session::{Call as LedgerCall, Session, outcome_of_error};
use vigil_fix::Call;

/// Why a call failed: AWS's error code and message, or a call vigil could not build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallFailure {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.code, self.message)
    }
}

fn invalid(call: &Call, reason: impl std::fmt::Display) -> CallFailure {
    CallFailure { code: "InvalidCall".to_string(), message: format!("{}: {reason}", call.name()) }
}

/// The parameters of a call, read by name.
struct Params<'a> {
    call: &'a Call,
}

impl<'a> Params<'a> {
    fn value(&self, name: &str) -> Option<&'a Value> {
        self.call.parameters.get(name).filter(|value| !value.is_null())
    }

    fn text(&self, name: &str) -> Result<String, CallFailure> {
        self.opt_text(name).ok_or_else(|| invalid(self.call, format!("parameter `{name}` is missing")))
    }

    fn opt_text(&self, name: &str) -> Option<String> {
        self.value(name).and_then(Value::as_str).map(str::to_string)
    }

    fn flag(&self, name: &str) -> Option<bool> {
        self.value(name).and_then(Value::as_bool)
    }

    fn int(&self, name: &str) -> Option<i32> {
        self.value(name).and_then(Value::as_i64).and_then(|number| i32::try_from(number).ok())
    }

    fn texts(&self, name: &str) -> Vec<String> {
        self.value(name).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
    }
}

fn field<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    value.get(name).filter(|value| !value.is_null())
}

fn field_text(value: &Value, name: &str) -> Option<String> {
    field(value, name).and_then(Value::as_str).map(str::to_string)
}

fn field_int(value: &Value, name: &str) -> Option<i32> {
    field(value, name).and_then(Value::as_i64).and_then(|number| i32::try_from(number).ok())
}

fn field_flag(value: &Value, name: &str) -> Option<bool> {
    field(value, name).and_then(Value::as_bool)
}

fn items<'v>(value: &'v Value, name: &str) -> impl Iterator<Item = &'v Value> {
    field(value, name).and_then(Value::as_array).into_iter().flatten()
}

/// Sends a request, records it in the ledger and keeps only whether it succeeded.
async fn send<T, E>(
    session: &Session,
    call: &Call,
    operation: &'static str,
    service: &'static str,
    future: impl std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
) -> Result<T, CallFailure>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    // Admitted like every read (its (service, region) lane, then the global cap), so a
    // throttled write narrows its lane too.
    let admission = session.admit(service, &call.region).await;
    let (result, attempts) = vigil_collect::session::counting(future).await;
    admission.settle(attempts, &result);
    let ledger_call = LedgerCall::new(service, &call.region, operation);
    match result {
        Ok(output) => {
            session.record_outcome(&ledger_call, vigil_model::Outcome::Ok);
            Ok(output)
        }
        Err(error) => {
            let outcome = outcome_of_error(&error);
            let (code, message) = outcome.failure().map(|(code, message)| (code.to_string(), message.to_string())).unwrap_or_default();
            session.record_outcome(&ledger_call, outcome);
            Err(CallFailure { code, message })
        }
    }
}

macro_rules! sent {
    ($session:expr, $call:expr, $service:literal, $operation:literal, $request:expr) => {
        send($session, $call, $operation, $service, $request.send()).await.map(|_| ())
    };
}

/// Sends one call.
pub async fn execute(session: &Session, call: &Call) -> Result<(), CallFailure> {
    let params = Params { call };
    let config = session.config_for(&call.region);
    match (call.service.as_str(), call.operation.as_str()) {
        ("ec2", operation) => ec2(session, call, &params, &aws_sdk_ec2::Client::new(&config), operation).await,
        ("s3", operation) => s3(session, call, &params, &session.s3_client(&call.region), operation).await,
        ("s3control", operation) => s3control(session, call, &params, &session.s3control_client(&home(&call.region)), operation).await,
        ("iam", operation) => iam(session, call, &params, &aws_sdk_iam::Client::new(&session.config_for(&home(&call.region))), operation).await,
        ("cloudtrail", "UpdateTrail") => {
            let client = aws_sdk_cloudtrail::Client::new(&config);
            sent!(
                session,
                call,
                "cloudtrail",
                "UpdateTrail",
                client
                    .update_trail()
                    .name(params.text("Name")?)
                    .set_is_multi_region_trail(params.flag("IsMultiRegionTrail"))
                    .set_include_global_service_events(params.flag("IncludeGlobalServiceEvents"))
                    .set_enable_log_file_validation(params.flag("EnableLogFileValidation"))
            )
        }
        ("kms", operation) => {
            let client = aws_sdk_kms::Client::new(&config);
            match operation {
                "EnableKeyRotation" => sent!(session, call, "kms", "EnableKeyRotation", client.enable_key_rotation().key_id(params.text("KeyId")?)),
                "DisableKeyRotation" => sent!(session, call, "kms", "DisableKeyRotation", client.disable_key_rotation().key_id(params.text("KeyId")?)),
                "PutKeyPolicy" => sent!(
                    session,
                    call,
                    "kms",
                    "PutKeyPolicy",
                    client
                        .put_key_policy()
                        .key_id(params.text("KeyId")?)
                        .policy_name(params.opt_text("PolicyName").unwrap_or_else(|| "default".into()))
                        .policy(params.text("Policy")?)
                ),
                _ => Err(unknown(call)),
            }
        }
        ("logs", operation) => {
            let client = aws_sdk_cloudwatchlogs::Client::new(&config);
            match operation {
                "PutRetentionPolicy" => sent!(
                    session,
                    call,
                    "logs",
                    "PutRetentionPolicy",
                    client.put_retention_policy().log_group_name(params.text("logGroupName")?).set_retention_in_days(params.int("retentionInDays"))
                ),
                "DeleteRetentionPolicy" => {
                    sent!(session, call, "logs", "DeleteRetentionPolicy", client.delete_retention_policy().log_group_name(params.text("logGroupName")?))
                }
                _ => Err(unknown(call)),
            }
        }
        ("guardduty", operation) => {
            let client = aws_sdk_guardduty::Client::new(&config);
            match operation {
                "CreateDetector" => sent!(session, call, "guardduty", "CreateDetector", client.create_detector().enable(params.flag("Enable").unwrap_or(true))),
                "UpdateDetector" => {
                    sent!(
                        session,
                        call,
                        "guardduty",
                        "UpdateDetector",
                        client.update_detector().detector_id(params.text("DetectorId")?).set_enable(params.flag("Enable"))
                    )
                }
                "DeleteDetector" => sent!(session, call, "guardduty", "DeleteDetector", client.delete_detector().detector_id(params.text("DetectorId")?)),
                _ => Err(unknown(call)),
            }
        }
        ("securityhub", operation) => {
            let client = aws_sdk_securityhub::Client::new(&config);
            match operation {
                "EnableSecurityHub" => {
                    sent!(
                        session,
                        call,
                        "securityhub",
                        "EnableSecurityHub",
                        client.enable_security_hub().set_enable_default_standards(params.flag("EnableDefaultStandards"))
                    )
                }
                "DisableSecurityHub" => sent!(session, call, "securityhub", "DisableSecurityHub", client.disable_security_hub()),
                _ => Err(unknown(call)),
            }
        }
        ("rds", operation) => rds(session, call, &params, &aws_sdk_rds::Client::new(&config), operation).await,
        ("dynamodb", operation) => {
            let client = aws_sdk_dynamodb::Client::new(&config);
            match operation {
                "UpdateTable" => sent!(
                    session,
                    call,
                    "dynamodb",
                    "UpdateTable",
                    client.update_table().table_name(params.text("TableName")?).set_deletion_protection_enabled(params.flag("DeletionProtectionEnabled"))
                ),
                "UpdateContinuousBackups" => {
                    let enabled =
                        params.value("PointInTimeRecoverySpecification").and_then(|value| field_flag(value, "PointInTimeRecoveryEnabled")).unwrap_or(false);
                    let specification = aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                        .point_in_time_recovery_enabled(enabled)
                        .build()
                        .map_err(|error| invalid(call, error))?;
                    sent!(
                        session,
                        call,
                        "dynamodb",
                        "UpdateContinuousBackups",
                        client.update_continuous_backups().table_name(params.text("TableName")?).point_in_time_recovery_specification(specification)
                    )
                }
                _ => Err(unknown(call)),
            }
        }
        ("sqs", "SetQueueAttributes") => {
            let client = aws_sdk_sqs::Client::new(&config);
            let mut request = client.set_queue_attributes().queue_url(params.text("QueueUrl")?);
            for (name, value) in params.value("Attributes").and_then(Value::as_object).into_iter().flatten() {
                request = request.attributes(aws_sdk_sqs::types::QueueAttributeName::from(name.as_str()), value.as_str().unwrap_or_default());
            }
            sent!(session, call, "sqs", "SetQueueAttributes", request)
        }
        ("sns", "SetTopicAttributes") => {
            let client = aws_sdk_sns::Client::new(&config);
            sent!(
                session,
                call,
                "sns",
                "SetTopicAttributes",
                client
                    .set_topic_attributes()
                    .topic_arn(params.text("TopicArn")?)
                    .attribute_name(params.text("AttributeName")?)
                    .attribute_value(params.opt_text("AttributeValue").unwrap_or_default())
            )
        }
        ("secretsmanager", operation) => {
            let client = aws_sdk_secretsmanager::Client::new(&config);
            match operation {
                "PutResourcePolicy" => sent!(
                    session,
                    call,
                    "secretsmanager",
                    "PutResourcePolicy",
                    client.put_resource_policy().secret_id(params.text("SecretId")?).resource_policy(params.text("ResourcePolicy")?)
                ),
                "DeleteResourcePolicy" => {
                    sent!(session, call, "secretsmanager", "DeleteResourcePolicy", client.delete_resource_policy().secret_id(params.text("SecretId")?))
                }
                _ => Err(unknown(call)),
            }
        }
        ("ecr", operation) => {
            let client = aws_sdk_ecr::Client::new(&config);
            let repository = params.text("repositoryName")?;
            match operation {
                "SetRepositoryPolicy" => {
                    sent!(
                        session,
                        call,
                        "ecr",
                        "SetRepositoryPolicy",
                        client.set_repository_policy().repository_name(repository).policy_text(params.text("policyText")?)
                    )
                }
                "DeleteRepositoryPolicy" => {
                    sent!(session, call, "ecr", "DeleteRepositoryPolicy", client.delete_repository_policy().repository_name(repository))
                }
                "PutImageScanningConfiguration" => {
                    let scan = params.value("imageScanningConfiguration").and_then(|value| field_flag(value, "scanOnPush")).unwrap_or(false);
                    sent!(
                        session,
                        call,
                        "ecr",
                        "PutImageScanningConfiguration",
                        client
                            .put_image_scanning_configuration()
                            .repository_name(repository)
                            .image_scanning_configuration(aws_sdk_ecr::types::ImageScanningConfiguration::builder().scan_on_push(scan).build())
                    )
                }
                "PutImageTagMutability" => sent!(
                    session,
                    call,
                    "ecr",
                    "PutImageTagMutability",
                    client
                        .put_image_tag_mutability()
                        .repository_name(repository)
                        .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::from(params.text("imageTagMutability")?.as_str()))
                ),
                _ => Err(unknown(call)),
            }
        }
        _ => Err(unknown(call)),
    }
}

/// The region global services' calls go to (the configured one).
fn home(region: &str) -> String {
    if region == vigil_model::Region::GLOBAL { vigil_collect::DEFAULT_REGION.to_string() } else { region.to_string() }
}

fn unknown(call: &Call) -> CallFailure {
    invalid(call, "vigil does not send this operation")
}

/// Whether [`execute`] sends this operation (the action table's writes must all be).
pub fn sends(service: &str, operation: &str) -> bool {
    SENT.contains(&(service, operation))
}

/// Every operation [`execute`] sends: kept beside it so a test can compare it with the
/// action table.
const SENT: &[(&str, &str)] = &[
    ("ec2", "RevokeSecurityGroupIngress"),
    ("ec2", "AuthorizeSecurityGroupIngress"),
    ("ec2", "RevokeSecurityGroupEgress"),
    ("ec2", "AuthorizeSecurityGroupEgress"),
    ("ec2", "ModifySnapshotAttribute"),
    ("ec2", "EnableEbsEncryptionByDefault"),
    ("ec2", "DisableEbsEncryptionByDefault"),
    ("ec2", "ModifyInstanceMetadataOptions"),
    ("ec2", "CreateLaunchTemplateVersion"),
    ("ec2", "ModifyLaunchTemplate"),
    ("ec2", "ModifySubnetAttribute"),
    ("ec2", "CreateNetworkAclEntry"),
    ("ec2", "DeleteNetworkAclEntry"),
    ("ec2", "CreateFlowLogs"),
    ("ec2", "DeleteFlowLogs"),
    ("s3", "PutPublicAccessBlock"),
    ("s3", "DeletePublicAccessBlock"),
    ("s3", "PutBucketAcl"),
    ("s3", "PutBucketPolicy"),
    ("s3", "DeleteBucketPolicy"),
    ("s3", "PutBucketEncryption"),
    ("s3", "DeleteBucketEncryption"),
    ("s3", "PutBucketOwnershipControls"),
    ("s3", "DeleteBucketOwnershipControls"),
    ("s3control", "PutPublicAccessBlock"),
    ("s3control", "DeletePublicAccessBlock"),
    ("iam", "UpdateAccountPasswordPolicy"),
    ("iam", "DeleteAccountPasswordPolicy"),
    ("iam", "UpdateAccessKey"),
    ("cloudtrail", "UpdateTrail"),
    ("kms", "EnableKeyRotation"),
    ("kms", "DisableKeyRotation"),
    ("kms", "PutKeyPolicy"),
    ("logs", "PutRetentionPolicy"),
    ("logs", "DeleteRetentionPolicy"),
    ("guardduty", "CreateDetector"),
    ("guardduty", "UpdateDetector"),
    ("guardduty", "DeleteDetector"),
    ("securityhub", "EnableSecurityHub"),
    ("securityhub", "DisableSecurityHub"),
    ("rds", "ModifyDBInstance"),
    ("rds", "ModifyDBSnapshotAttribute"),
    ("rds", "ModifyDBClusterSnapshotAttribute"),
    ("dynamodb", "UpdateTable"),
    ("dynamodb", "UpdateContinuousBackups"),
    ("sqs", "SetQueueAttributes"),
    ("sns", "SetTopicAttributes"),
    ("secretsmanager", "PutResourcePolicy"),
    ("secretsmanager", "DeleteResourcePolicy"),
    ("ecr", "SetRepositoryPolicy"),
    ("ecr", "DeleteRepositoryPolicy"),
    ("ecr", "PutImageScanningConfiguration"),
    ("ecr", "PutImageTagMutability"),
];

fn ip_permission(value: &Value) -> aws_sdk_ec2::types::IpPermission {
    use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};
    IpPermission::builder()
        .set_ip_protocol(field_text(value, "IpProtocol"))
        .set_from_port(field_int(value, "FromPort"))
        .set_to_port(field_int(value, "ToPort"))
        .set_ip_ranges(Some(
            items(value, "IpRanges")
                .map(|range| IpRange::builder().set_cidr_ip(field_text(range, "CidrIp")).set_description(field_text(range, "Description")).build())
                .collect(),
        ))
        .set_ipv6_ranges(Some(
            items(value, "Ipv6Ranges")
                .map(|range| Ipv6Range::builder().set_cidr_ipv6(field_text(range, "CidrIpv6")).set_description(field_text(range, "Description")).build())
                .collect(),
        ))
        .set_prefix_list_ids(Some(
            items(value, "PrefixListIds")
                .map(|list| {
                    PrefixListId::builder().set_prefix_list_id(field_text(list, "PrefixListId")).set_description(field_text(list, "Description")).build()
                })
                .collect(),
        ))
        .set_user_id_group_pairs(Some(
            items(value, "UserIdGroupPairs")
                .map(|pair| {
                    UserIdGroupPair::builder()
                        .set_group_id(field_text(pair, "GroupId"))
                        .set_user_id(field_text(pair, "UserId"))
                        .set_vpc_peering_connection_id(field_text(pair, "VpcPeeringConnectionId"))
                        .set_description(field_text(pair, "Description"))
                        .build()
                })
                .collect(),
        ))
        .build()
}

async fn ec2(session: &Session, call: &Call, params: &Params<'_>, client: &aws_sdk_ec2::Client, operation: &str) -> Result<(), CallFailure> {
    let permissions = || -> Vec<aws_sdk_ec2::types::IpPermission> {
        params.value("IpPermissions").and_then(Value::as_array).into_iter().flatten().map(ip_permission).collect()
    };
    match operation {
        "RevokeSecurityGroupIngress" => sent!(
            session,
            call,
            "ec2",
            "RevokeSecurityGroupIngress",
            client.revoke_security_group_ingress().group_id(params.text("GroupId")?).set_ip_permissions(Some(permissions()))
        ),
        "AuthorizeSecurityGroupIngress" => sent!(
            session,
            call,
            "ec2",
            "AuthorizeSecurityGroupIngress",
            client.authorize_security_group_ingress().group_id(params.text("GroupId")?).set_ip_permissions(Some(permissions()))
        ),
        "RevokeSecurityGroupEgress" => sent!(
            session,
            call,
            "ec2",
            "RevokeSecurityGroupEgress",
            client.revoke_security_group_egress().group_id(params.text("GroupId")?).set_ip_permissions(Some(permissions()))
        ),
        "AuthorizeSecurityGroupEgress" => sent!(
            session,
            call,
            "ec2",
            "AuthorizeSecurityGroupEgress",
            client.authorize_security_group_egress().group_id(params.text("GroupId")?).set_ip_permissions(Some(permissions()))
        ),
        "ModifySnapshotAttribute" => sent!(
            session,
            call,
            "ec2",
            "ModifySnapshotAttribute",
            client
                .modify_snapshot_attribute()
                .snapshot_id(params.text("SnapshotId")?)
                .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
                .operation_type(aws_sdk_ec2::types::OperationType::from(params.text("OperationType")?.as_str()))
                .set_group_names(Some(params.texts("GroupNames")).filter(|names| !names.is_empty()))
                .set_user_ids(Some(params.texts("UserIds")).filter(|ids| !ids.is_empty()))
        ),
        "EnableEbsEncryptionByDefault" => sent!(session, call, "ec2", "EnableEbsEncryptionByDefault", client.enable_ebs_encryption_by_default()),
        "DisableEbsEncryptionByDefault" => sent!(session, call, "ec2", "DisableEbsEncryptionByDefault", client.disable_ebs_encryption_by_default()),
        "ModifyInstanceMetadataOptions" => sent!(
            session,
            call,
            "ec2",
            "ModifyInstanceMetadataOptions",
            client
                .modify_instance_metadata_options()
                .instance_id(params.text("InstanceId")?)
                .set_http_tokens(params.opt_text("HttpTokens").map(|tokens| aws_sdk_ec2::types::HttpTokensState::from(tokens.as_str())))
                .set_http_endpoint(params.opt_text("HttpEndpoint").map(|endpoint| aws_sdk_ec2::types::InstanceMetadataEndpointState::from(endpoint.as_str())))
                .set_http_put_response_hop_limit(params.int("HttpPutResponseHopLimit"))
                .set_instance_metadata_tags(
                    params.opt_text("InstanceMetadataTags").map(|tags| aws_sdk_ec2::types::InstanceMetadataTagsState::from(tags.as_str()))
                )
                .set_http_protocol_ipv6(params.opt_text("HttpProtocolIpv6").map(|ipv6| aws_sdk_ec2::types::InstanceMetadataProtocolState::from(ipv6.as_str())))
        ),
        "CreateLaunchTemplateVersion" => {
            let options = params
                .value("LaunchTemplateData")
                .and_then(|data| field(data, "MetadataOptions"))
                .ok_or_else(|| invalid(call, "parameter `LaunchTemplateData.MetadataOptions` is missing"))?;
            let metadata_options = aws_sdk_ec2::types::LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .set_http_tokens(field_text(options, "HttpTokens").map(|tokens| aws_sdk_ec2::types::LaunchTemplateHttpTokensState::from(tokens.as_str())))
                .set_http_endpoint(
                    field_text(options, "HttpEndpoint")
                        .map(|endpoint| aws_sdk_ec2::types::LaunchTemplateInstanceMetadataEndpointState::from(endpoint.as_str())),
                )
                .set_http_put_response_hop_limit(field_int(options, "HttpPutResponseHopLimit"))
                .set_instance_metadata_tags(
                    field_text(options, "InstanceMetadataTags").map(|tags| aws_sdk_ec2::types::LaunchTemplateInstanceMetadataTagsState::from(tags.as_str())),
                )
                .set_http_protocol_ipv6(
                    field_text(options, "HttpProtocolIpv6").map(|ipv6| aws_sdk_ec2::types::LaunchTemplateInstanceMetadataProtocolIpv6::from(ipv6.as_str())),
                )
                .build();
            sent!(
                session,
                call,
                "ec2",
                "CreateLaunchTemplateVersion",
                client
                    .create_launch_template_version()
                    .launch_template_id(params.text("LaunchTemplateId")?)
                    .source_version(params.text("SourceVersion")?)
                    .launch_template_data(aws_sdk_ec2::types::RequestLaunchTemplateData::builder().metadata_options(metadata_options).build())
            )
        }
        "ModifyLaunchTemplate" => sent!(
            session,
            call,
            "ec2",
            "ModifyLaunchTemplate",
            client.modify_launch_template().launch_template_id(params.text("LaunchTemplateId")?).default_version(params.text("DefaultVersion")?)
        ),
        "ModifySubnetAttribute" => {
            let value = params.value("MapPublicIpOnLaunch").and_then(|value| field_flag(value, "Value"));
            sent!(
                session,
                call,
                "ec2",
                "ModifySubnetAttribute",
                client
                    .modify_subnet_attribute()
                    .subnet_id(params.text("SubnetId")?)
                    .map_public_ip_on_launch(aws_sdk_ec2::types::AttributeBooleanValue::builder().set_value(value).build())
            )
        }
        "CreateNetworkAclEntry" => {
            let port_range = params
                .value("PortRange")
                .map(|range| aws_sdk_ec2::types::PortRange::builder().set_from(field_int(range, "From")).set_to(field_int(range, "To")).build());
            let icmp = params
                .value("IcmpTypeCode")
                .map(|icmp| aws_sdk_ec2::types::IcmpTypeCode::builder().set_code(field_int(icmp, "Code")).set_type(field_int(icmp, "Type")).build());
            sent!(
                session,
                call,
                "ec2",
                "CreateNetworkAclEntry",
                client
                    .create_network_acl_entry()
                    .network_acl_id(params.text("NetworkAclId")?)
                    .set_rule_number(params.int("RuleNumber"))
                    .protocol(params.text("Protocol")?)
                    .rule_action(aws_sdk_ec2::types::RuleAction::from(params.text("RuleAction")?.as_str()))
                    .egress(params.flag("Egress").unwrap_or(false))
                    .set_cidr_block(params.opt_text("CidrBlock"))
                    .set_ipv6_cidr_block(params.opt_text("Ipv6CidrBlock"))
                    .set_port_range(port_range)
                    .set_icmp_type_code(icmp)
            )
        }
        "DeleteNetworkAclEntry" => sent!(
            session,
            call,
            "ec2",
            "DeleteNetworkAclEntry",
            client
                .delete_network_acl_entry()
                .network_acl_id(params.text("NetworkAclId")?)
                .set_rule_number(params.int("RuleNumber"))
                .egress(params.flag("Egress").unwrap_or(false))
        ),
        "CreateFlowLogs" => {
            let output = send(
                session,
                call,
                "CreateFlowLogs",
                "ec2",
                client
                    .create_flow_logs()
                    .set_resource_ids(Some(params.texts("ResourceIds")))
                    .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::from(params.opt_text("ResourceType").unwrap_or_else(|| "VPC".into()).as_str()))
                    .set_traffic_type(params.opt_text("TrafficType").map(|kind| aws_sdk_ec2::types::TrafficType::from(kind.as_str())))
                    .set_log_destination_type(params.opt_text("LogDestinationType").map(|kind| aws_sdk_ec2::types::LogDestinationType::from(kind.as_str())))
                    .set_log_destination(params.opt_text("LogDestination"))
                    .set_log_group_name(params.opt_text("LogGroupName"))
                    .set_deliver_logs_permission_arn(params.opt_text("DeliverLogsPermissionArn"))
                    .send(),
            )
            .await?;
            // CreateFlowLogs answers 200 with the resources it could not log.
            match output.unsuccessful.unwrap_or_default().first() {
                Some(item) => {
                    let error = item.error.as_ref();
                    Err(CallFailure {
                        code: error.and_then(|error| error.code.clone()).unwrap_or_else(|| "Unsuccessful".into()),
                        message: error.and_then(|error| error.message.clone()).unwrap_or_default(),
                    })
                }
                None => Ok(()),
            }
        }
        "DeleteFlowLogs" => sent!(session, call, "ec2", "DeleteFlowLogs", client.delete_flow_logs().set_flow_log_ids(Some(params.texts("FlowLogIds")))),
        _ => Err(unknown(call)),
    }
}

fn public_access_block(value: Option<&Value>) -> aws_sdk_s3::types::PublicAccessBlockConfiguration {
    let value = value.cloned().unwrap_or(Value::Null);
    aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
        .set_block_public_acls(field_flag(&value, "BlockPublicAcls"))
        .set_ignore_public_acls(field_flag(&value, "IgnorePublicAcls"))
        .set_block_public_policy(field_flag(&value, "BlockPublicPolicy"))
        .set_restrict_public_buckets(field_flag(&value, "RestrictPublicBuckets"))
        .build()
}

async fn s3(session: &Session, call: &Call, params: &Params<'_>, client: &aws_sdk_s3::Client, operation: &str) -> Result<(), CallFailure> {
    let bucket = params.text("Bucket")?;
    match operation {
        "PutPublicAccessBlock" => sent!(
            session,
            call,
            "s3",
            "PutPublicAccessBlock",
            client
                .put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(public_access_block(params.value("PublicAccessBlockConfiguration")))
        ),
        "DeletePublicAccessBlock" => sent!(session, call, "s3", "DeletePublicAccessBlock", client.delete_public_access_block().bucket(bucket)),
        "PutBucketAcl" => {
            use aws_sdk_s3::types::{AccessControlPolicy, Grant, Grantee, Owner, Permission, Type};
            let policy = params.value("AccessControlPolicy").cloned().unwrap_or(Value::Null);
            let mut grants = Vec::new();
            for grant in items(&policy, "Grants") {
                let grantee = field(grant, "Grantee").cloned().unwrap_or(Value::Null);
                let grantee = Grantee::builder()
                    .r#type(Type::from(field_text(&grantee, "Type").unwrap_or_default().as_str()))
                    .set_id(field_text(&grantee, "ID"))
                    .set_uri(field_text(&grantee, "URI"))
                    .set_email_address(field_text(&grantee, "EmailAddress"))
                    .build()
                    .map_err(|error| invalid(call, error))?;
                grants.push(
                    Grant::builder()
                        .grantee(grantee)
                        .set_permission(field_text(grant, "Permission").map(|permission| Permission::from(permission.as_str())))
                        .build(),
                );
            }
            let owner = field(&policy, "Owner").and_then(|owner| field_text(owner, "ID"));
            let acl = AccessControlPolicy::builder().set_grants(Some(grants)).owner(Owner::builder().set_id(owner).build()).build();
            sent!(session, call, "s3", "PutBucketAcl", client.put_bucket_acl().bucket(bucket).access_control_policy(acl))
        }
        "PutBucketPolicy" => sent!(session, call, "s3", "PutBucketPolicy", client.put_bucket_policy().bucket(bucket).policy(params.text("Policy")?)),
        "DeleteBucketPolicy" => sent!(session, call, "s3", "DeleteBucketPolicy", client.delete_bucket_policy().bucket(bucket)),
        "PutBucketEncryption" => {
            use aws_sdk_s3::types::{ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule};
            let configuration = params.value("ServerSideEncryptionConfiguration").cloned().unwrap_or(Value::Null);
            let mut rules = Vec::new();
            for rule in items(&configuration, "Rules") {
                let default = field(rule, "ApplyServerSideEncryptionByDefault").cloned().unwrap_or(Value::Null);
                let by_default = ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::from(field_text(&default, "SSEAlgorithm").unwrap_or_else(|| "AES256".into()).as_str()))
                    .set_kms_master_key_id(field_text(&default, "KMSMasterKeyID"))
                    .build()
                    .map_err(|error| invalid(call, error))?;
                rules.push(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(by_default)
                        .set_bucket_key_enabled(field_flag(rule, "BucketKeyEnabled"))
                        .build(),
                );
            }
            let configuration = ServerSideEncryptionConfiguration::builder().set_rules(Some(rules)).build().map_err(|error| invalid(call, error))?;
            sent!(session, call, "s3", "PutBucketEncryption", client.put_bucket_encryption().bucket(bucket).server_side_encryption_configuration(configuration))
        }
        "DeleteBucketEncryption" => sent!(session, call, "s3", "DeleteBucketEncryption", client.delete_bucket_encryption().bucket(bucket)),
        "PutBucketOwnershipControls" => {
            use aws_sdk_s3::types::{ObjectOwnership, OwnershipControls, OwnershipControlsRule};
            let controls = params.value("OwnershipControls").cloned().unwrap_or(Value::Null);
            let mut rules = Vec::new();
            for rule in items(&controls, "Rules") {
                rules.push(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::from(field_text(rule, "ObjectOwnership").unwrap_or_default().as_str()))
                        .build()
                        .map_err(|error| invalid(call, error))?,
                );
            }
            let controls = OwnershipControls::builder().set_rules(Some(rules)).build().map_err(|error| invalid(call, error))?;
            sent!(session, call, "s3", "PutBucketOwnershipControls", client.put_bucket_ownership_controls().bucket(bucket).ownership_controls(controls))
        }
        "DeleteBucketOwnershipControls" => {
            sent!(session, call, "s3", "DeleteBucketOwnershipControls", client.delete_bucket_ownership_controls().bucket(bucket))
        }
        _ => Err(unknown(call)),
    }
}

async fn s3control(session: &Session, call: &Call, params: &Params<'_>, client: &aws_sdk_s3control::Client, operation: &str) -> Result<(), CallFailure> {
    let account = params.text("AccountId")?;
    match operation {
        "PutPublicAccessBlock" => {
            let value = params.value("PublicAccessBlockConfiguration").cloned().unwrap_or(Value::Null);
            let configuration = aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                .set_block_public_acls(field_flag(&value, "BlockPublicAcls"))
                .set_ignore_public_acls(field_flag(&value, "IgnorePublicAcls"))
                .set_block_public_policy(field_flag(&value, "BlockPublicPolicy"))
                .set_restrict_public_buckets(field_flag(&value, "RestrictPublicBuckets"))
                .build();
            sent!(
                session,
                call,
                "s3control",
                "PutPublicAccessBlock",
                client.put_public_access_block().account_id(account).public_access_block_configuration(configuration)
            )
        }
        "DeletePublicAccessBlock" => sent!(session, call, "s3control", "DeletePublicAccessBlock", client.delete_public_access_block().account_id(account)),
        _ => Err(unknown(call)),
    }
}

async fn iam(session: &Session, call: &Call, params: &Params<'_>, client: &aws_sdk_iam::Client, operation: &str) -> Result<(), CallFailure> {
    match operation {
        "UpdateAccountPasswordPolicy" => sent!(
            session,
            call,
            "iam",
            "UpdateAccountPasswordPolicy",
            client
                .update_account_password_policy()
                .set_minimum_password_length(params.int("MinimumPasswordLength"))
                .set_require_symbols(params.flag("RequireSymbols"))
                .set_require_numbers(params.flag("RequireNumbers"))
                .set_require_uppercase_characters(params.flag("RequireUppercaseCharacters"))
                .set_require_lowercase_characters(params.flag("RequireLowercaseCharacters"))
                .set_allow_users_to_change_password(params.flag("AllowUsersToChangePassword"))
                .set_max_password_age(params.int("MaxPasswordAge"))
                .set_password_reuse_prevention(params.int("PasswordReusePrevention"))
                .set_hard_expiry(params.flag("HardExpiry"))
        ),
        "DeleteAccountPasswordPolicy" => sent!(session, call, "iam", "DeleteAccountPasswordPolicy", client.delete_account_password_policy()),
        "UpdateAccessKey" => sent!(
            session,
            call,
            "iam",
            "UpdateAccessKey",
            client
                .update_access_key()
                .user_name(params.text("UserName")?)
                .access_key_id(params.text("AccessKeyId")?)
                .status(aws_sdk_iam::types::StatusType::from(params.text("Status")?.as_str()))
        ),
        _ => Err(unknown(call)),
    }
}

async fn rds(session: &Session, call: &Call, params: &Params<'_>, client: &aws_sdk_rds::Client, operation: &str) -> Result<(), CallFailure> {
    match operation {
        "ModifyDBInstance" => sent!(
            session,
            call,
            "rds",
            "ModifyDBInstance",
            client
                .modify_db_instance()
                .db_instance_identifier(params.text("DBInstanceIdentifier")?)
                .set_apply_immediately(params.flag("ApplyImmediately"))
                .set_publicly_accessible(params.flag("PubliclyAccessible"))
                .set_deletion_protection(params.flag("DeletionProtection"))
                .set_auto_minor_version_upgrade(params.flag("AutoMinorVersionUpgrade"))
                .set_copy_tags_to_snapshot(params.flag("CopyTagsToSnapshot"))
        ),
        "ModifyDBSnapshotAttribute" => sent!(
            session,
            call,
            "rds",
            "ModifyDBSnapshotAttribute",
            client
                .modify_db_snapshot_attribute()
                .db_snapshot_identifier(params.text("DBSnapshotIdentifier")?)
                .attribute_name(params.text("AttributeName")?)
                .set_values_to_add(Some(params.texts("ValuesToAdd")).filter(|values| !values.is_empty()))
                .set_values_to_remove(Some(params.texts("ValuesToRemove")).filter(|values| !values.is_empty()))
        ),
        "ModifyDBClusterSnapshotAttribute" => sent!(
            session,
            call,
            "rds",
            "ModifyDBClusterSnapshotAttribute",
            client
                .modify_db_cluster_snapshot_attribute()
                .db_cluster_snapshot_identifier(params.text("DBClusterSnapshotIdentifier")?)
                .attribute_name(params.text("AttributeName")?)
                .set_values_to_add(Some(params.texts("ValuesToAdd")).filter(|values| !values.is_empty()))
                .set_values_to_remove(Some(params.texts("ValuesToRemove")).filter(|values| !values.is_empty()))
        ),
        _ => Err(unknown(call)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_operation_of_the_action_table_is_sent_and_nothing_else() {
        for row in vigil_fix::actions::OPERATIONS.iter().filter(|row| row.access == vigil_fix::actions::Access::Write) {
            assert!(sends(row.service, row.operation), "{}:{} is in the action table but not sent", row.service, row.operation);
        }
        for (service, operation) in SENT {
            let row = vigil_fix::actions::operation(service, operation);
            assert!(
                row.is_some_and(|row| row.access == vigil_fix::actions::Access::Write),
                "{service}:{operation} is sent but not a write of the action table"
            );
        }
    }
}
