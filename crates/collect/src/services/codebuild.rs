//! CodeBuild: projects (ListProjects + BatchGetProjects) with their service role, source type,
//! image and batch configuration. Environment variable values and buildspecs are not read
//! into the inventory.

use std::sync::Arc;

use vigil_model::workloads::CodeBuildProject;

use crate::RegionalPatch;
use crate::session::{Call, Session};

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_codebuild, session, &region);
    let mut names = Vec::new();
    let call = Call::new("codebuild", &region, "ListProjects");
    crate::for_each_page!(session, call, client.list_projects().into_paginator().send(), |page| {
        names.extend(page.projects.unwrap_or_default());
    });
    let mut projects = Vec::new();
    for batch in names.chunks(100) {
        let call = Call::new("codebuild", &region, "BatchGetProjects");
        if let Some(output) = crate::call!(session, call, client.batch_get_projects().set_names(Some(batch.to_vec())).send()) {
            projects.extend(output.projects.unwrap_or_default().into_iter().map(|project| CodeBuildProject {
                name: project.name.unwrap_or_default(),
                arn: project.arn.unwrap_or_default(),
                service_role: project.service_role,
                source_type: project.source.map(|source| source.r#type.as_str().to_string()),
                environment_image: project.environment.as_ref().map(|environment| environment.image.clone()),
                privileged_mode: project.environment.and_then(|environment| environment.privileged_mode).unwrap_or(false),
                batch_service_role: project.build_batch_config.and_then(|config| config.service_role),
                tags: project.tags.unwrap_or_default().into_iter().filter_map(|tag| Some((tag.key?, tag.value.unwrap_or_default()))).collect(),
            }));
        }
    }
    projects.sort_by(|a, b| a.name.cmp(&b.name));
    Box::new(move |regional| regional.codebuild_projects = projects)
}
