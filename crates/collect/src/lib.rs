//! Reads an AWS account into a [`vigil_model::Inventory`]: the only crate that uses the AWS SDK.
//!
//! Collection runs every (service, region) unit concurrently, each call admitted by its
//! (service, region) lane, an adaptive limit that backs off on throttling, under a global cap
//! on API calls in flight (`lanes`); it paginates everything, retries with the SDK's adaptive
//! retry mode, and never lets one failed call, service or region abort the scan: each failure
//! lands in the coverage ledger. Only read-only calls are made (plus `iam:GenerateCredentialReport`).

mod endpoint;
pub mod export_upload;
pub mod lanes;
pub mod organization;
mod registry;
mod services;
pub mod session;
pub mod targeted;
pub mod trail_logs;

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use vigil_model::inventory::{AccountInfo, RegionalInventory};
use vigil_model::{Inventory, Ledger, Region};

pub use registry::{GLOBAL_SERVICES, REGIONAL_SERVICES};
pub use session::{NoProgress, Progress, Session};

/// Where and how to collect.
#[derive(Debug, Clone, Default)]
pub struct CollectConfig {
    /// Named profile from the shared config files.
    pub profile: Option<String>,
    /// Regions to read; empty means every region enabled in the account.
    pub regions: Vec<String>,
    /// A custom endpoint for every service (an emulator, a VPC endpoint proxy...).
    pub endpoint_url: Option<String>,
    /// Assume this role first and collect with its credentials.
    pub role_arn: Option<String>,
    /// Only these services (by registry name); empty means all.
    pub services: Vec<String>,
    /// API calls in flight at once, across all services and regions.
    pub max_in_flight: usize,
    /// Attempts per call, including the first (adaptive retry).
    pub max_attempts: u32,
    /// A role in the management (or a delegated administrator) account to read the
    /// organization's SCPs and RCPs with, when the scanned account's own credentials cannot.
    pub organization_role_arn: Option<String>,
    /// `--sample-objects N`: read up to N objects of every bucket (ListObjectsV2 + GetObject on
    /// the first [`SAMPLE_BYTES_PER_OBJECT`] bytes) and look for secrets and personal data.
    /// 0 (the default) reads no object.
    pub sample_objects: usize,
    /// Read only a part of the account (an organization scan's unit of work): its global
    /// services, or one region's services. `None` reads the whole account. A part needs
    /// `regions` named (every part of an account must agree on them); [`merge_parts`] puts the
    /// parts back together.
    pub part: Option<Part>,
}

/// A part of an account that one collection reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The global services (IAM, S3's buckets, Organizations, CloudFront, Route 53), the
    /// caller's identity and the organization's policies read through
    /// [`CollectConfig::organization_role_arn`].
    Global,
    /// The regional services of one region (and the AMIs in use there).
    Region(String),
}

impl Part {
    /// The region a part reads, or `global`, as the work queue names it.
    pub fn name(&self) -> &str {
        match self {
            Part::Global => Region::GLOBAL,
            Part::Region(region) => region.as_str(),
        }
    }
}

/// The most bytes the S3 sampler reads from one object (a ranged GetObject).
pub const SAMPLE_BYTES_PER_OBJECT: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("cannot identify the account: sts:GetCallerIdentity failed: {0}")]
    CallerIdentity(String),
    #[error("cannot assume role `{role_arn}`: {reason}")]
    AssumeRole { role_arn: String, reason: String },
    #[error("cannot list the organization's accounts: organizations:ListAccounts failed: {0}")]
    Organization(String),
    #[error("unknown service `{0}`; known services: {1}")]
    UnknownService(String, String),
    #[error("a part of an account (`{0}`) is read with the account's regions named; none were given")]
    PartWithoutRegions(String),
}

/// The region used for global services and region discovery when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Loads the SDK configuration: the standard credential chain, then the optional profile,
/// endpoint and role.
pub async fn load_sdk_config(config: &CollectConfig) -> Result<aws_types::SdkConfig, CollectError> {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::adaptive().with_max_attempts(config.max_attempts.max(1))).timeout_config(
            aws_config::timeout::TimeoutConfig::builder().connect_timeout(Duration::from_secs(10)).operation_attempt_timeout(Duration::from_secs(60)).build(),
        );
    if let Some(profile) = &config.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint_url) = &config.endpoint_url {
        loader = loader.endpoint_url(endpoint_url);
    }
    let mut sdk_config = loader.load().await;
    if sdk_config.region().is_none() {
        sdk_config = sdk_config.to_builder().region(aws_types::region::Region::new(DEFAULT_REGION)).build();
    }
    if let Some(role_arn) = &config.role_arn {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name("vigil").configure(&sdk_config).build().await;
        let credentials = aws_credential_types::provider::ProvideCredentials::provide_credentials(&provider).await.map_err(|error| {
            CollectError::AssumeRole { role_arn: role_arn.clone(), reason: aws_smithy_types::error::display::DisplayErrorContext(&error).to_string() }
        })?;
        sdk_config = sdk_config.to_builder().credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials)).build();
    }
    Ok(sdk_config)
}

/// Collects an inventory of the account the credentials belong to.
pub async fn collect(config: &CollectConfig, progress: Arc<dyn Progress>) -> Result<Inventory, CollectError> {
    let sdk_config = load_sdk_config(config).await?;
    collect_with(sdk_config, config, progress).await
}

/// Who the credentials belong to, as sts:GetCallerIdentity says.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub arn: Option<String>,
    pub user_id: Option<String>,
    /// The partition of the caller's ARN (`aws` when the reply has none).
    pub partition: String,
}

/// Identifies the caller of `sdk_config`'s credentials (sts:GetCallerIdentity): the one place
/// collection, targeted reads, organization reads and `vigil-apply` learn their account.
pub async fn identify(sdk_config: &aws_types::SdkConfig) -> Result<Caller, CollectError> {
    let identity = aws_sdk_sts::Client::new(sdk_config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| CollectError::CallerIdentity(aws_smithy_types::error::display::DisplayErrorContext(&error).to_string()))?;
    let arn = identity.arn().map(str::to_string);
    let partition = arn.as_deref().and_then(|arn| arn.split(':').nth(1)).unwrap_or("aws").to_string();
    Ok(Caller { account_id: identity.account().unwrap_or_default().to_string(), arn, user_id: identity.user_id().map(str::to_string), partition })
}

/// Collects with an already-loaded SDK configuration (tests pass an emulator's).
pub async fn collect_with(sdk_config: aws_types::SdkConfig, config: &CollectConfig, progress: Arc<dyn Progress>) -> Result<Inventory, CollectError> {
    for service in &config.services {
        if !registry::is_known_service(service) {
            return Err(CollectError::UnknownService(service.clone(), registry::known_services().join(", ")));
        }
    }
    let home_region = sdk_config.region().map(|region| region.to_string()).unwrap_or_else(|| DEFAULT_REGION.to_string());

    let caller = identify(&sdk_config).await?;
    let account_id_text = caller.account_id.clone();
    let account_id = account_id_text.parse().map_err(|_| CollectError::CallerIdentity(format!("the reply has no valid account id (`{account_id_text}`)")))?;
    let Caller { arn: caller_arn, user_id: caller_user_id, partition, .. } = caller;

    if let Some(part) = &config.part
        && config.regions.is_empty()
    {
        return Err(CollectError::PartWithoutRegions(part.name().to_string()));
    }
    // What this collection reads: the global services (and the identity, recorded once per
    // account), the regional services of which regions.
    let reads_global = !matches!(config.part, Some(Part::Region(_)));
    let max_in_flight = if config.max_in_flight == 0 { 64 } else { config.max_in_flight };
    let session = Arc::new(Session::new(sdk_config, account_id_text, partition.clone(), config.endpoint_url.clone(), max_in_flight, progress));
    if reads_global {
        session.record_outcome(&session::Call::new("sts", Region::GLOBAL, "GetCallerIdentity"), vigil_model::Outcome::Ok);
    }

    let regions = if config.regions.is_empty() { services::ec2::enabled_regions(&session, &home_region).await } else { config.regions.clone() };
    let regions_read: Vec<String> = match &config.part {
        None => regions.clone(),
        Some(Part::Global) => Vec::new(),
        Some(Part::Region(region)) => vec![region.clone()],
    };
    session.set_scanned_regions(&regions);
    session.set_sample_objects(config.sample_objects);

    let account = AccountInfo { account_id, partition, caller_arn, caller_user_id, organization: None };
    let mut inventory = Inventory::new(account, regions.iter().map(|region| Region::new(region.as_str())).collect(), chrono::Utc::now());
    // The global part holds every region's (empty) place, which the regional parts fill.
    let places = if matches!(config.part, Some(Part::Region(_))) { &regions_read } else { &regions };
    for region in places {
        inventory.regional.insert(Region::new(region.as_str()), RegionalInventory::default());
    }

    let wanted = |name: &str| config.services.is_empty() || config.services.iter().any(|service| service == name);
    let mut tasks = tokio::task::JoinSet::new();
    for service in GLOBAL_SERVICES.iter().filter(|service| reads_global && wanted(service.name)) {
        let session = Arc::clone(&session);
        let home_region = home_region.clone();
        tasks.spawn(async move {
            session.progress().task_started(service.name, Region::GLOBAL);
            let patch = (service.collect)(Arc::clone(&session), home_region).await;
            session.progress().task_finished(service.name, Region::GLOBAL);
            Patch::Global(patch)
        });
    }
    for region in &regions_read {
        for service in REGIONAL_SERVICES.iter().filter(|service| wanted(service.name)) {
            let session = Arc::clone(&session);
            let region = region.clone();
            tasks.spawn(async move {
                session.progress().task_started(service.name, &region);
                let patch = (service.collect)(Arc::clone(&session), region.clone()).await;
                session.progress().task_finished(service.name, &region);
                Patch::Regional(Region::new(region), patch)
            });
        }
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Patch::Global(apply)) => apply(&mut inventory),
            Ok(Patch::Regional(region, apply)) => apply(inventory.regional.entry(region).or_default()),
            Err(error) => tracing::error!("a collection task failed: {error}"),
        }
    }
    // The AMIs in use, whoever owns them: their ids come from several collectors (instances and
    // launch templates from ec2, launch configurations from autoscaling).
    if wanted("ec2") {
        services::ec2::images_in_use(&session, &mut inventory).await;
    }
    // The organization's policies through a role in the management (or a delegated
    // administrator) account, when the account's own credentials could not read them, or not
    // the account's place in the organization (its parents), without which none applies.
    let mut organization_calls = Vec::new();
    let read_alone = inventory.organization_policies.as_ref().is_some_and(|policies| policies.parents.contains_key(session.account_id.as_str()));
    if let Some(role_arn) = config.organization_role_arn.as_ref().filter(|_| reads_global && !read_alone) {
        let reader = CollectConfig { role_arn: Some(role_arn.clone()), organization_role_arn: None, ..config.clone() };
        match organization::policies(&reader, std::slice::from_ref(&session.account_id)).await {
            Ok((policies, calls)) => {
                inventory.organization_policies = policies;
                organization_calls = calls;
            }
            Err(error) => session.record_outcome(
                &session::Call::new("sts", Region::GLOBAL, "AssumeRole").on(role_arn),
                vigil_model::Outcome::Error { code: "AssumeRole".to_string(), message: error.to_string() },
            ),
        }
    }
    let mut calls = session.take_ledger();
    calls.extend(organization_calls);
    sort_calls(&mut calls);
    inventory.ledger = Ledger { calls };
    Ok(inventory)
}

/// The ledger's one order: by region, service, operation and target (stable, so the calls of
/// one key keep the order they were made in).
fn sort_calls(calls: &mut [vigil_model::ApiCall]) {
    calls.sort_by(|a, b| (&a.region, &a.service, &a.operation, &a.target).cmp(&(&b.region, &b.service, &b.operation, &b.target)));
}

/// Puts the parts of one account back together: the global part ([`Part::Global`]) with the
/// regional parts ([`Part::Region`]) read with the same configuration, into the inventory a
/// whole collection with those regions reads (the ledger holds every part's calls, in the
/// ledger's order). A region without its part keeps an empty place, and its calls are absent
/// from the ledger, so its checks say it was not read.
pub fn merge_parts(global: Inventory, regional_parts: Vec<Inventory>) -> Inventory {
    let mut inventory = global;
    for part in regional_parts {
        inventory.regional.extend(part.regional);
        inventory.ledger.calls.extend(part.ledger.calls);
    }
    sort_calls(&mut inventory.ledger.calls);
    inventory
}

/// What a global service collector hands back: a change to apply to the inventory.
pub type GlobalPatch = Box<dyn FnOnce(&mut Inventory) + Send>;
/// What a regional service collector hands back: a change to apply to its region.
pub type RegionalPatch = Box<dyn FnOnce(&mut RegionalInventory) + Send>;

enum Patch {
    Global(GlobalPatch),
    Regional(Region, RegionalPatch),
}
