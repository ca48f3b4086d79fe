//! SageMaker: notebook instances (ListNotebookInstances + DescribeNotebookInstance, for the
//! role and access settings) and training and processing jobs (ListTrainingJobs,
//! ListProcessingJobs; the role of the jobs in progress from DescribeTrainingJob /
//! DescribeProcessingJob). Only recent jobs are listed: the most recent 100 of each kind.

use std::sync::Arc;

use futures::StreamExt;
use vigil_model::workloads::{NotebookInstance, SageMakerJob};

use super::time_opt;
use crate::RegionalPatch;
use crate::session::{Call, Session};

/// Jobs listed per kind (the most recent first): finished jobs hold no role worth taking over.
const RECENT_JOBS: i32 = 100;

pub async fn collect(session: Arc<Session>, region: String) -> RegionalPatch {
    let client = crate::sdk_client!(aws_sdk_sagemaker, session, &region);
    let mut names = Vec::new();
    let call = Call::new("sagemaker", &region, "ListNotebookInstances");
    crate::for_each_page!(session, call, client.list_notebook_instances().into_paginator().send(), |page| {
        names.extend(page.notebook_instances.unwrap_or_default().into_iter().filter_map(|summary| summary.notebook_instance_name));
    });
    let notebooks: Vec<Option<NotebookInstance>> =
        futures::stream::iter(names).map(|name| read_notebook(&session, &client, &region, name)).buffer_unordered(session.fan_out()).collect().await;
    let mut notebooks: Vec<NotebookInstance> = notebooks.into_iter().flatten().collect();
    notebooks.sort_by(|a, b| a.notebook_instance_name.cmp(&b.notebook_instance_name));

    let mut jobs = Vec::new();
    let call = Call::new("sagemaker", &region, "ListTrainingJobs");
    if let Some(output) = crate::call!(session, call, client.list_training_jobs().max_results(RECENT_JOBS).send()) {
        jobs.extend(output.training_job_summaries.unwrap_or_default().into_iter().map(|job| SageMakerJob {
            job_name: job.training_job_name.unwrap_or_default(),
            job_arn: job.training_job_arn.unwrap_or_default(),
            kind: "training".to_string(),
            status: job.training_job_status.map(|status| status.as_str().to_string()),
            role_arn: None,
            creation_time: time_opt(job.creation_time.as_ref()),
        }));
    }
    let call = Call::new("sagemaker", &region, "ListProcessingJobs");
    if let Some(output) = crate::call!(session, call, client.list_processing_jobs().max_results(RECENT_JOBS).send()) {
        jobs.extend(output.processing_job_summaries.unwrap_or_default().into_iter().map(|job| SageMakerJob {
            job_name: job.processing_job_name.unwrap_or_default(),
            job_arn: job.processing_job_arn.unwrap_or_default(),
            kind: "processing".to_string(),
            status: job.processing_job_status.map(|status| status.as_str().to_string()),
            role_arn: None,
            creation_time: time_opt(job.creation_time.as_ref()),
        }));
    }
    let mut jobs: Vec<SageMakerJob> =
        futures::stream::iter(jobs).map(|job| read_job_role(&session, &client, &region, job)).buffer_unordered(session.fan_out()).collect().await;
    jobs.sort_by(|a, b| a.job_arn.cmp(&b.job_arn));
    Box::new(move |regional| {
        regional.sagemaker_notebook_instances = notebooks;
        regional.sagemaker_jobs = jobs;
    })
}

async fn read_notebook(session: &Session, client: &aws_sdk_sagemaker::Client, region: &str, name: String) -> Option<NotebookInstance> {
    let call = Call::new("sagemaker", region, "DescribeNotebookInstance").on(&name);
    let output = crate::call!(session, call, client.describe_notebook_instance().notebook_instance_name(&name).send())?;
    Some(NotebookInstance {
        notebook_instance_name: output.notebook_instance_name.unwrap_or(name),
        notebook_instance_arn: output.notebook_instance_arn.unwrap_or_default(),
        role_arn: output.role_arn,
        notebook_instance_status: output.notebook_instance_status.map(|status| status.as_str().to_string()),
        direct_internet_access: output.direct_internet_access.map(|access| access.as_str().to_string()),
        root_access: output.root_access.map(|access| access.as_str().to_string()),
        notebook_instance_lifecycle_config_name: output.notebook_instance_lifecycle_config_name,
        subnet_id: output.subnet_id,
        security_groups: output.security_groups.unwrap_or_default(),
        kms_key_id: output.kms_key_id,
    })
}

/// Reads the role of a job in progress (a finished job's role can no longer be used through it).
async fn read_job_role(session: &Session, client: &aws_sdk_sagemaker::Client, region: &str, mut job: SageMakerJob) -> SageMakerJob {
    if job.status.as_deref() != Some("InProgress") {
        return job;
    }
    if job.kind == "training" {
        let call = Call::new("sagemaker", region, "DescribeTrainingJob").on(&job.job_name);
        job.role_arn = crate::call!(session, call, client.describe_training_job().training_job_name(&job.job_name).send()).and_then(|output| output.role_arn);
    } else {
        let call = Call::new("sagemaker", region, "DescribeProcessingJob").on(&job.job_name);
        job.role_arn =
            crate::call!(session, call, client.describe_processing_job().processing_job_name(&job.job_name).send()).and_then(|output| output.role_arn);
    }
    job
}
