//! The explicit list of service collectors. Adding a service is one file in `services/`
//! plus one line here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::services;
use crate::session::Session;
use crate::{GlobalPatch, RegionalPatch};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A service read once per account (IAM, S3's bucket list, Organizations).
pub struct GlobalService {
    pub name: &'static str,
    /// Receives the home region (where global endpoints are called).
    pub collect: fn(Arc<Session>, String) -> BoxFuture<GlobalPatch>,
}

/// A service read once per region.
pub struct RegionalService {
    pub name: &'static str,
    pub collect: fn(Arc<Session>, String) -> BoxFuture<RegionalPatch>,
}

pub static GLOBAL_SERVICES: &[GlobalService] = &[
    GlobalService { name: "iam", collect: |session, region| Box::pin(services::iam::collect(session, region)) },
    GlobalService { name: "s3", collect: |session, region| Box::pin(services::s3::collect(session, region)) },
    GlobalService { name: "organizations", collect: |session, region| Box::pin(services::organizations::collect(session, region)) },
    GlobalService { name: "cloudfront", collect: |session, region| Box::pin(services::cloudfront::collect(session, region)) },
    GlobalService { name: "route53", collect: |session, region| Box::pin(services::route53::collect(session, region)) },
    GlobalService { name: "route53domains", collect: |session, region| Box::pin(services::route53domains::collect(session, region)) },
];

pub static REGIONAL_SERVICES: &[RegionalService] = &[
    RegionalService { name: "ec2", collect: |session, region| Box::pin(services::ec2::collect(session, region)) },
    RegionalService { name: "cloudtrail", collect: |session, region| Box::pin(services::cloudtrail::collect(session, region)) },
    RegionalService { name: "logs", collect: |session, region| Box::pin(services::logs::collect(session, region)) },
    RegionalService { name: "cloudwatch", collect: |session, region| Box::pin(services::cloudwatch::collect(session, region)) },
    RegionalService { name: "sns", collect: |session, region| Box::pin(services::sns::collect(session, region)) },
    RegionalService { name: "kms", collect: |session, region| Box::pin(services::kms::collect(session, region)) },
    RegionalService { name: "config", collect: |session, region| Box::pin(services::config::collect(session, region)) },
    RegionalService { name: "elbv2", collect: |session, region| Box::pin(services::elbv2::collect(session, region)) },
    RegionalService { name: "elb", collect: |session, region| Box::pin(services::elb::collect(session, region)) },
    RegionalService { name: "rds", collect: |session, region| Box::pin(services::rds::collect(session, region)) },
    RegionalService { name: "redshift", collect: |session, region| Box::pin(services::redshift::collect(session, region)) },
    RegionalService { name: "elasticache", collect: |session, region| Box::pin(services::elasticache::collect(session, region)) },
    RegionalService { name: "dynamodb", collect: |session, region| Box::pin(services::dynamodb::collect(session, region)) },
    RegionalService { name: "autoscaling", collect: |session, region| Box::pin(services::autoscaling::collect(session, region)) },
    RegionalService { name: "acm", collect: |session, region| Box::pin(services::acm::collect(session, region)) },
    RegionalService { name: "sqs", collect: |session, region| Box::pin(services::sqs::collect(session, region)) },
    RegionalService { name: "kinesis", collect: |session, region| Box::pin(services::kinesis::collect(session, region)) },
    RegionalService { name: "lambda", collect: |session, region| Box::pin(services::lambda::collect(session, region)) },
    RegionalService { name: "sesv2", collect: |session, region| Box::pin(services::sesv2::collect(session, region)) },
    RegionalService { name: "guardduty", collect: |session, region| Box::pin(services::guardduty::collect(session, region)) },
    RegionalService { name: "securityhub", collect: |session, region| Box::pin(services::securityhub::collect(session, region)) },
    RegionalService { name: "secretsmanager", collect: |session, region| Box::pin(services::secretsmanager::collect(session, region)) },
    RegionalService { name: "ecr", collect: |session, region| Box::pin(services::ecr::collect(session, region)) },
    RegionalService { name: "ecs", collect: |session, region| Box::pin(services::ecs::collect(session, region)) },
    RegionalService { name: "glue", collect: |session, region| Box::pin(services::glue::collect(session, region)) },
    RegionalService { name: "sagemaker", collect: |session, region| Box::pin(services::sagemaker::collect(session, region)) },
    RegionalService { name: "codebuild", collect: |session, region| Box::pin(services::codebuild::collect(session, region)) },
    RegionalService { name: "cloudformation", collect: |session, region| Box::pin(services::cloudformation::collect(session, region)) },
    RegionalService { name: "apprunner", collect: |session, region| Box::pin(services::apprunner::collect(session, region)) },
    RegionalService { name: "ssm", collect: |session, region| Box::pin(services::ssm::collect(session, region)) },
    RegionalService { name: "bedrock-agentcore", collect: |session, region| Box::pin(services::agentcore::collect(session, region)) },
];

pub fn known_services() -> Vec<&'static str> {
    GLOBAL_SERVICES.iter().map(|service| service.name).chain(REGIONAL_SERVICES.iter().map(|service| service.name)).collect()
}

pub fn is_known_service(name: &str) -> bool {
    known_services().contains(&name)
}
