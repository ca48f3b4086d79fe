//! Continuous mode's AWS side: re-reading the few resources an event names (instances,
//! security groups) and consuming the SQS queue EventBridge delivers events to.
//!
//! Deleting a consumed message is the one write vigil makes, and only on the queue the user
//! gave it; the caller deletes a message only after its effect is stored.

use std::sync::Arc;

use aws_smithy_types::error::display::DisplayErrorContext;
use vigil_model::ec2::{Instance, SecurityGroup};

use crate::session::{Call, NoProgress, Session, outcome_of_error};
use crate::{CollectConfig, CollectError};

/// Why a targeted read failed: the error code (e.g. `InvalidInstanceID.NotFound`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    pub operation: &'static str,
    pub code: String,
    pub message: String,
}

impl ReadFailure {
    /// The resource does not exist (any more).
    pub fn is_not_found(&self) -> bool {
        self.code.contains("NotFound")
    }
}

impl std::fmt::Display for ReadFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} failed: {}: {}", self.operation, self.code, self.message)
    }
}

fn failure<E>(
    operation: &'static str,
    error: &aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> ReadFailure
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = match outcome_of_error(error).failure() {
        Some((code, message)) => (code.to_string(), message.to_string()),
        None => ("Unknown".to_string(), DisplayErrorContext(error).to_string()),
    };
    ReadFailure { operation, code, message }
}

/// Reads single resources with the same credentials and endpoint as a full collection.
pub struct Reader {
    session: Arc<Session>,
}

impl Reader {
    /// Loads credentials and identifies the account (sts:GetCallerIdentity).
    pub async fn connect(config: &CollectConfig) -> Result<Reader, CollectError> {
        let sdk_config = crate::load_sdk_config(config).await?;
        let caller = crate::identify(&sdk_config).await?;
        let session = Session::new(sdk_config, caller.account_id, caller.partition, config.endpoint_url.clone(), 16, Arc::new(NoProgress));
        Ok(Reader { session: Arc::new(session) })
    }

    pub fn account_id(&self) -> &str {
        &self.session.account_id
    }

    pub fn partition(&self) -> &str {
        &self.session.partition
    }

    /// The SDK configuration (for the event queue's client).
    pub fn sdk_config(&self) -> &aws_types::SdkConfig {
        &self.session.sdk_config
    }

    /// DescribeInstances for these ids in one region.
    pub async fn instances(&self, region: &str, ids: &[String]) -> Result<Vec<Instance>, ReadFailure> {
        let client = aws_sdk_ec2::Client::new(&self.session.config_for(region));
        let result = client.describe_instances().set_instance_ids(Some(ids.to_vec())).send().await;
        self.session
            .record_outcome(&Call::new("ec2", region, "DescribeInstances"), result.as_ref().map_or_else(outcome_of_error, |_| vigil_model::Outcome::Ok));
        let output = result.map_err(|error| failure("ec2:DescribeInstances", &error))?;
        Ok(output
            .reservations
            .unwrap_or_default()
            .into_iter()
            .flat_map(|reservation| reservation.instances.unwrap_or_default())
            .map(crate::services::ec2::instance)
            .collect())
    }

    /// DescribeSecurityGroups for these ids in one region.
    pub async fn security_groups(&self, region: &str, ids: &[String]) -> Result<Vec<SecurityGroup>, ReadFailure> {
        let client = aws_sdk_ec2::Client::new(&self.session.config_for(region));
        let result = client.describe_security_groups().set_group_ids(Some(ids.to_vec())).send().await;
        self.session
            .record_outcome(&Call::new("ec2", region, "DescribeSecurityGroups"), result.as_ref().map_or_else(outcome_of_error, |_| vigil_model::Outcome::Ok));
        let output = result.map_err(|error| failure("ec2:DescribeSecurityGroups", &error))?;
        Ok(output.security_groups.unwrap_or_default().into_iter().map(crate::services::ec2::security_group).collect())
    }
}

/// One message received from the event queue.
#[derive(Debug, Clone)]
pub struct QueueMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
}

/// The SQS queue EventBridge delivers events to.
pub struct EventQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl EventQueue {
    /// A client for the queue; its region comes from the queue URL when it names one
    /// (`https://sqs.eu-west-1.amazonaws.com/...`), else from the configuration.
    pub fn new(reader: &Reader, url: &str) -> EventQueue {
        let region = url.split("://").nth(1).and_then(|host| host.split('.').nth(1)).filter(|region| region.contains('-') && !region.contains(':'));
        let config = match region {
            Some(region) => reader.session.config_for(region),
            None => reader.session.sdk_config.clone(),
        };
        EventQueue { client: aws_sdk_sqs::Client::new(&config), url: url.to_string() }
    }

    /// Receives up to 10 messages, long-polling up to `wait_seconds` (at most 20).
    pub async fn receive(&self, wait_seconds: i32) -> Result<Vec<QueueMessage>, ReadFailure> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds.clamp(0, 20))
            .send()
            .await
            .map_err(|error| failure("sqs:ReceiveMessage", &error))?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|message| {
                Some(QueueMessage { message_id: message.message_id?, receipt_handle: message.receipt_handle?, body: message.body.unwrap_or_default() })
            })
            .collect())
    }

    /// Deletes a message once its effect is stored.
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), ReadFailure> {
        self.client.delete_message().queue_url(&self.url).receipt_handle(receipt_handle).send().await.map_err(|error| failure("sqs:DeleteMessage", &error))?;
        Ok(())
    }
}

/// Publishes a notification to an SNS topic (the region comes from the topic's ARN). Used by
/// `--notify sns:TOPIC_ARN`, a write the user asks for explicitly.
pub async fn publish(sdk_config: &aws_types::SdkConfig, topic_arn: &str, subject: &str, message: &str) -> Result<(), ReadFailure> {
    let region = topic_arn.split(':').nth(3).filter(|region| !region.is_empty());
    let config = match region {
        Some(region) => sdk_config.to_builder().region(aws_types::region::Region::new(region.to_string())).build(),
        None => sdk_config.clone(),
    };
    // SNS subjects: at most 100 printable ASCII characters.
    let subject: String = subject.chars().filter(|c| c.is_ascii() && !c.is_ascii_control()).take(100).collect();
    aws_sdk_sns::Client::new(&config)
        .publish()
        .topic_arn(topic_arn)
        .subject(subject)
        .message(message)
        .send()
        .await
        .map_err(|error| failure("sns:Publish", &error))?;
    Ok(())
}
