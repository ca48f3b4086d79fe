//! ECR: private repositories with scanning, tag mutability, encryption, repository policy,
//! lifecycle policy and tags.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::security::Repository;

use super::policy_document;
use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_ecr, session, &region);
    let mut repositories = Vec::new();
    let call = Call::new("ecr", &region, "DescribeRepositories");
    crate::for_each_page!(session, call, client.describe_repositories().into_paginator().send(), |page| {
        repositories.extend(page.repositories.unwrap_or_default().into_iter().map(|repository| Repository {
            repository_name: repository.repository_name.unwrap_or_default(),
            repository_arn: repository.repository_arn.unwrap_or_default(),
            repository_uri: repository.repository_uri,
            image_tag_mutability: repository.image_tag_mutability.map(|value| value.as_str().to_string()),
            scan_on_push: repository.image_scanning_configuration.is_some_and(|config| config.scan_on_push),
            encryption_type: repository.encryption_configuration.as_ref().map(|config| config.encryption_type.as_str().to_string()),
            kms_key: repository.encryption_configuration.and_then(|config| config.kms_key),
            ..Repository::default()
        }));
    });
    let repositories: Vec<Repository> = futures::stream::iter(repositories)
        .map(|repository| read_repository(&session, &client, &region, repository))
        .buffer_unordered(session.fan_out())
        .collect()
        .await;
    Box::new(move |regional| regional.ecr_repositories = repositories)
}

async fn read_repository(session: &Session, client: &aws_sdk_ecr::Client, region: &str, mut repository: Repository) -> Repository {
    let name = repository.repository_name.clone();
    let policy_call = Call::new("ecr", region, "GetRepositoryPolicy").on(&name);
    repository.policy =
        crate::call_absent!(session, policy_call, client.get_repository_policy().repository_name(&name).send(), &["RepositoryPolicyNotFoundException"])
            .and_then(|output| output.policy_text)
            .map(|text| policy_document(&text));
    let lifecycle_call = Call::new("ecr", region, "GetLifecyclePolicy").on(&name);
    repository.lifecycle_policy =
        crate::call_absent!(session, lifecycle_call, client.get_lifecycle_policy().repository_name(&name).send(), &["LifecyclePolicyNotFoundException"])
            .and_then(|output| output.lifecycle_policy_text)
            .map(|text| policy_document(&text));
    if !repository.repository_arn.is_empty() {
        let tags_call = Call::new("ecr", region, "ListTagsForResource").on(&name);
        repository.tags = crate::call!(session, tags_call, client.list_tags_for_resource().resource_arn(&repository.repository_arn).send())
            .map(|output| output.tags.unwrap_or_default().into_iter().map(|tag| (tag.key, tag.value)).collect())
            .unwrap_or_default();
    }
    repository
}
