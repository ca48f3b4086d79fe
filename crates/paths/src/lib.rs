//! vigil-paths: attack paths from the internet through compute to the role it runs with,
//! through privilege escalation, to an admin-equivalent principal or to sensitive data; each
//! ranked (likelihood × impact, with its reasons), explained hop by hop, and broken by a
//! minimal cut of changes linked to `vigil fix` where a fixer exists (docs/paths.md).
//!
//! Pure: no I/O, no async. It joins the exposure engine ([`vigil_net::Network`], with host
//! firewalls when the caller joined them), the IAM engine ([`vigil_iam::account::Account`]
//! and its escalation paths) and optional host facts (vulnerabilities agents report).
//!
//! The graph: `internet` → (a security group rule, through a load balancer or not) → an
//! instance, an ECS task or service (by the task's network interface) or a public database;
//! `internet` → (a function URL without authentication) → a Lambda function; compute →
//! (instance profile, execution role, task role) → role; role → (escalation steps) →
//! admin-equivalent principal; role → (the statements that allow reading it) → sensitive
//! data. A public database that is itself sensitive is a target one hop away.

pub mod cut;
pub mod sensitive;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};

use vigil_iam::account::{Account, AccountPrincipal, PolicySource};
use vigil_iam::escalation::{self, EscalationPath, Goal};
use vigil_iam::evaluate::Decision;
use vigil_model::Inventory;
use vigil_model::analysis::{AttackPath, CutChange, PathHop};
use vigil_model::ec2::IpPermission;
use vigil_model::workloads::TaskRoleSource;
use vigil_net::Network;

pub use cut::{Cut, CutMethod, minimal_cut};
pub use sensitive::{DEFAULT_SENSITIVE_TAGS, Sensitivity, TagRule};

/// The `vigil fix` check ids a cut change may name (a test in `vigil-fix` keeps each one a
/// fixer's check).
pub const FIX_ALL_TRAFFIC: &str = "ec2_security_group_no_all_traffic_from_world";
pub const FIX_ADMIN_PORTS: &str = "ec2_security_group_admin_ports_open_to_world";
pub const FIX_UNAUTHORIZED_PORTS: &str = "ec2_security_group_only_authorized_ports_open_to_world";
pub const FIX_PUBLIC_DATABASE: &str = "rds_instance_not_publicly_accessible";
pub const FIX_CHECK_IDS: &[&str] = &[FIX_ALL_TRAFFIC, FIX_ADMIN_PORTS, FIX_UNAUTHORIZED_PORTS, FIX_PUBLIC_DATABASE];

/// Remote administration ports (SSH, RDP).
const ADMIN_PORTS: &[u16] = &[22, 3389];
/// Database and cache ports.
const DATA_PORTS: &[u16] = &[1433, 1521, 3306, 5432, 6379, 9200, 11211, 27017];
/// Web ports, open on purpose on most internet-facing services.
const WEB_PORTS: &[u16] = &[80, 443];

/// Vulnerabilities agents report for one instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostVulnerabilities {
    pub critical: usize,
    pub high: usize,
}

/// What hosts report, by instance id.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    pub vulnerabilities: HashMap<String, HostVulnerabilities>,
    /// The host firewall each instance's agent last read (`firewall` module).
    pub firewalls: HashMap<String, vigil_net::HostRuleset>,
    /// Reports that could not be used (a malformed or incomplete ruleset), each naming its
    /// agent: the caller warns about them; the instance is then judged without that report.
    pub problems: Vec<String>,
}

impl HostFacts {
    /// The network with the host firewalls agents report joined to it: the one place the
    /// exposure engine meets what hosts report (stored analyses, checks, `vigil reach` and
    /// `vigil paths`).
    pub fn network<'a>(&self, inventory: &'a Inventory) -> Network<'a> {
        Network::new(inventory).with_host_firewalls(self.firewalls.iter().map(|(instance_id, ruleset)| (instance_id.clone(), ruleset.clone())))
    }

    /// Host firewalls given explicitly (`--host-firewall INSTANCE_ID=FILE`) replace what
    /// agents report for the same instance.
    pub fn with_host_firewalls(mut self, explicit: impl IntoIterator<Item = (String, vigil_net::HostRuleset)>) -> HostFacts {
        self.firewalls.extend(explicit);
        self
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub sensitivity: Sensitivity,
    /// Only paths through or from this ARN (an instance, a function, a role, a principal); a
    /// principal's ARN also adds the paths that start from it (source = the ARN).
    pub from: Option<String>,
    /// Only paths to this ARN; a resource ARN is a target even when it is not tagged
    /// sensitive, and escalation paths to it are searched.
    pub to: Option<String>,
    /// Escalation hops per path at most, and paths per principal.
    pub max_escalation_hops: usize,
    pub max_escalation_paths: usize,
    /// Search nodes of the exact cut before the greedy approximation.
    pub cut_budget: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { sensitivity: Sensitivity::default(), from: None, to: None, max_escalation_hops: 4, max_escalation_paths: 5, cut_budget: cut::EXACT_BUDGET }
    }
}

/// Every path, the minimal cut over all of them, and how the cut was found.
#[derive(Debug, Clone)]
pub struct Report {
    /// Highest score first.
    pub paths: Vec<AttackPath>,
    /// The cut, the change that breaks the most paths first.
    pub cut: Vec<CutChange>,
    pub method: CutMethod,
    /// Resources found sensitive, with the reason.
    pub sensitive: Vec<(String, String)>,
}

/// A way from a principal to a target: the hops after the principal.
#[derive(Debug, Clone)]
struct Tail {
    target: String,
    kind: &'static str,
    hops: Vec<PathHop>,
    changes: Vec<usize>,
    /// Multiplies the likelihood (each escalation step is a little less likely).
    factor: f64,
    reasons: Vec<String>,
}

/// A way in: hops from the internet to a compute resource and on to the role it runs with.
#[derive(Debug, Clone)]
struct Entry {
    compute: String,
    /// The role the compute runs with (principal index), the last hop's end; `None` for a
    /// public database and for a path that starts from a principal.
    role: Option<usize>,
    hops: Vec<PathHop>,
    changes: Vec<usize>,
    likelihood: f64,
    reasons: Vec<String>,
}

/// Compute an exposure or a function URL reaches, for [`Builder::runs_as`].
enum Compute<'c> {
    /// An EC2 instance's ARN.
    Instance(&'c str),
    Function {
        arn: &'c str,
        role: &'c str,
    },
    Ecs(&'c EcsJoin),
}

/// An ECS task reached through one of its network interfaces.
#[derive(Debug, Clone)]
struct EcsJoin {
    /// The service's ARN when a service started the task, else the task's.
    compute: String,
    /// The task role's ARN.
    role: String,
    /// Where the role comes from, in words.
    via: String,
}

/// How a compute resource runs with a role: the role (principal index), the `runs-as` hop and
/// the change that removes it, if any.
struct RunsAs {
    role: usize,
    hop: PathHop,
    change: Option<usize>,
}

/// The changes met so far, deduplicated.
#[derive(Default)]
struct Changes {
    list: Vec<CutChange>,
    index: HashMap<(String, String, String), usize>,
}

impl Changes {
    fn add(&mut self, kind: &str, resource: &str, change: String, fix: Option<&str>) -> usize {
        let key = (kind.to_string(), resource.to_string(), change);
        if let Some(id) = self.index.get(&key) {
            return *id;
        }
        let id = self.list.len();
        self.list.push(CutChange { kind: key.0.clone(), resource: key.1.clone(), change: key.2.clone(), fix: fix.map(str::to_string), breaks: 0 });
        self.index.insert(key, id);
        id
    }
}

/// The order in which changes are preferred among cuts of the same size: network rules
/// first (they close the way in without touching what runs), then the rest.
fn kind_rank(kind: &str) -> u8 {
    match kind {
        "security-group-rule" => 0,
        "function-url" => 1,
        "public-endpoint" => 2,
        "instance-profile" => 3,
        "policy-statement" => 4,
        "trust-statement" => 5,
        _ => 6,
    }
}

struct Builder<'a> {
    inventory: &'a Inventory,
    account: &'a Account,
    options: &'a Options,
    changes: Changes,
    /// Sensitive resources: (ARN, reason).
    sensitive: Vec<(String, String)>,
    /// Roles by ARN → principal index.
    tails: HashMap<usize, Vec<Tail>>,
    holders: Vec<Option<Vec<escalation::Step>>>,
    escalations: HashMap<String, Vec<EscalationPath>>,
    /// Instance ARN → instance profile ARN; instance profile ARN → role.
    instance_profiles: HashMap<&'a str, &'a str>,
    profile_roles: HashMap<&'a str, usize>,
    /// Network interface id → the ECS task (or service) it belongs to, with its task role.
    ecs_interfaces: HashMap<String, EcsJoin>,
}

/// Every attack path of an inventory, ranked, with the minimal cut.
pub fn attack_paths(inventory: &Inventory, network: &Network<'_>, account: &Account, hosts: &HostFacts, options: &Options) -> Report {
    let mut sensitive = Vec::new();
    // Buckets in which `vigil scan --sample-objects N` found secrets or personal data.
    let sampled: HashMap<String, String> = inventory
        .s3
        .buckets
        .iter()
        .filter_map(|bucket| {
            let sample = bucket.sensitive_data.as_ref().filter(|sample| sample.holds_sensitive_data())?;
            Some((format!("arn:{}:s3:::{}", inventory.partition(), bucket.name), format!("the object sampler found {}", sample.kinds.join(", "))))
        })
        .collect();
    for resource in inventory.resources() {
        if !is_data(resource.resource_type) {
            continue;
        }
        let named = options.to.as_deref() == Some(resource.arn.as_str());
        if let Some(reason) = options.sensitivity.reason(&resource.arn, resource.tags).or_else(|| sampled.get(&resource.arn).cloned()) {
            sensitive.push((resource.arn.clone(), reason));
        } else if named {
            sensitive.push((resource.arn.clone(), "named with --to".to_string()));
        }
    }
    sensitive.sort();
    sensitive.dedup();
    let holders = escalation::goal_holders(account, &Goal::Admin);
    let mut escalations: HashMap<String, Vec<EscalationPath>> = HashMap::new();
    let escalation_options = escalation::Options { goal: Goal::Admin, max_paths: options.max_escalation_paths, max_hops: options.max_escalation_hops };
    for path in escalation::escalation(account, &escalation_options) {
        escalations.entry(path.principal.clone()).or_default().push(path);
    }
    // Escalation to one named data resource (the search is per target, so only with --to).
    if let Some(to) = &options.to
        && let Some(accesses) = vigil_iam::access::access_requests(to)
    {
        let goal = Goal::Resource { arn: to.clone(), accesses };
        for path in escalation::escalation(account, &escalation::Options { goal, ..escalation_options.clone() }) {
            if !path.steps.is_empty() {
                escalations.entry(path.principal.clone()).or_default().push(path);
            }
        }
    }
    let instance_profiles = account.instances.iter().map(|(instance, profile)| (instance.as_str(), profile.as_str())).collect();
    let mut profile_roles = HashMap::new();
    for (position, principal) in account.principals.iter().enumerate() {
        for profile in &principal.instance_profile_arns {
            profile_roles.insert(profile.as_str(), position);
        }
    }
    let ecs_interfaces = ecs_interfaces(inventory, account);
    let mut builder = Builder {
        inventory,
        account,
        options,
        changes: Changes::default(),
        sensitive,
        tails: HashMap::new(),
        holders,
        escalations,
        instance_profiles,
        profile_roles,
        ecs_interfaces,
    };
    let mut drafts: Vec<(String, Entry, Tail)> = Vec::new();
    for entry in builder.entries(network, hosts) {
        if let Some(role) = entry.role {
            for tail in builder.tails_of(role) {
                drafts.push(("internet".to_string(), entry.clone(), tail));
            }
        }
        // A public database that is itself sensitive.
        if builder.sensitive.iter().any(|(arn, _)| *arn == entry.compute) {
            let tail = Tail { target: entry.compute.clone(), kind: "sensitive-data", hops: Vec::new(), changes: Vec::new(), factor: 1.0, reasons: Vec::new() };
            drafts.push(("internet".to_string(), entry.clone(), tail));
        }
    }
    // Paths from a named principal (leaked credentials, an insider).
    if let Some(from) = &options.from
        && let Some(position) = account.principal_position(from)
    {
        let start =
            Entry { compute: from.clone(), role: None, hops: Vec::new(), changes: Vec::new(), likelihood: 0.5, reasons: vec![format!("starts from {from}")] };
        for tail in builder.tails_of(position) {
            if !tail.hops.is_empty() {
                drafts.push((from.clone(), start.clone(), tail));
            }
        }
    }
    let mut seen = HashSet::new();
    let mut paths: Vec<(AttackPath, Vec<usize>)> = Vec::new();
    for (source, entry, tail) in drafts {
        if let Some(to) = &options.to
            && tail.target != *to
        {
            continue;
        }
        let mut hops = entry.hops.clone();
        hops.extend(tail.hops.iter().cloned());
        if let Some(from) = &options.from
            && source != *from
            && !hops.iter().any(|hop| hop.from == *from || hop.to == *from)
        {
            continue;
        }
        let key = (source.clone(), tail.target.clone(), hops.iter().map(|hop| format!("{}|{}|{}", hop.from, hop.to, hop.via)).collect::<Vec<_>>());
        if !seen.insert(key) {
            continue;
        }
        let likelihood = (entry.likelihood * tail.factor).clamp(0.0, 1.0);
        let impact: u32 = if tail.kind == "admin" { 10 } else { 8 };
        let likelihood_percent = (likelihood * 100.0).round() as u32;
        let mut reasons = entry.reasons.clone();
        reasons.extend(tail.reasons.iter().cloned());
        reasons.push(if tail.kind == "admin" { "impact 10: an admin-equivalent principal".to_string() } else { "impact 8: sensitive data".to_string() });
        let mut changes = entry.changes.clone();
        changes.extend(tail.changes.iter().copied());
        changes.sort_unstable();
        changes.dedup();
        paths.push((
            AttackPath {
                source,
                target: tail.target.clone(),
                target_kind: tail.kind.to_string(),
                hops,
                score: likelihood_percent * impact / 10,
                likelihood: likelihood_percent,
                impact,
                reasons,
                cut: Vec::new(),
            },
            changes,
        ));
    }
    builder.finish(paths)
}

/// Every network interface of an ECS task whose task role is known, with the compute it stands
/// for: the service that started the task (`group` `service:NAME`), else the task. The role is
/// the IAM account's resolution of the task's workload (`EcsTask::task_role`, names made ARNs).
fn ecs_interfaces(inventory: &Inventory, account: &Account) -> HashMap<String, EcsJoin> {
    let task_roles: HashMap<&str, &str> = account
        .workloads
        .iter()
        .filter(|workload| workload.kind == vigil_iam::account::WorkloadKind::EcsTask)
        .filter_map(|workload| Some((workload.arn.as_str(), workload.role_arn.as_deref()?)))
        .collect();
    let mut joins = HashMap::new();
    for (region, regional) in &inventory.regional {
        let definitions: HashMap<&str, &vigil_model::workloads::EcsTaskDefinition> =
            regional.ecs_task_definitions.iter().map(|definition| (definition.task_definition_arn.as_str(), definition)).collect();
        for task in regional.ecs_tasks.iter().filter(|task| !task.network_interface_ids.is_empty()) {
            let definition = task.task_definition_arn.as_deref().and_then(|arn| definitions.get(arn)).copied();
            let (Some((_, source)), Some(role)) = (task.task_role(definition), task_roles.get(task.task_arn.as_str())) else { continue };
            let via = match (source, definition) {
                (TaskRoleSource::TaskDefinition, Some(definition)) => format!("task role of task definition {}:{}", definition.family, definition.revision),
                (TaskRoleSource::TaskDefinition, None) => "task role of its task definition".to_string(),
                (TaskRoleSource::Override, _) => {
                    format!("task role override of task {}", task.task_arn.rsplit('/').next().unwrap_or(task.task_arn.as_str()))
                }
            };
            let compute = match task.service_name() {
                Some(name) => regional
                    .ecs_services
                    .iter()
                    .find(|service| service.cluster_arn == task.cluster_arn && service.service_name == name)
                    .map(|service| service.service_arn.clone())
                    .unwrap_or_else(|| {
                        let cluster = task.cluster_arn.rsplit('/').next().unwrap_or_default();
                        format!("arn:{}:ecs:{region}:{}:service/{cluster}/{name}", inventory.partition(), inventory.account_id())
                    }),
                None => task.task_arn.clone(),
            };
            for interface in &task.network_interface_ids {
                joins.insert(interface.clone(), EcsJoin { compute: compute.clone(), role: role.to_string(), via: via.clone() });
            }
        }
    }
    joins
}

fn is_data(resource_type: &str) -> bool {
    matches!(
        resource_type,
        "AWS::S3::Bucket" | "AWS::SecretsManager::Secret" | "AWS::KMS::Key" | "AWS::RDS::DBInstance" | "AWS::RDS::DBCluster" | "AWS::DynamoDB::Table"
    )
}

impl Builder<'_> {
    fn arn(&self, service: &str, region: &str, resource: &str) -> String {
        format!("arn:{}:{service}:{region}:{}:{resource}", self.inventory.partition(), self.inventory.account_id())
    }

    /// The ways in, each ending at the role its compute runs with (a public database at the
    /// database): exposures of instances, ECS tasks' interfaces (directly or behind a load
    /// balancer) and public databases, and function URLs.
    fn entries(&mut self, network: &Network<'_>, hosts: &HostFacts) -> Vec<Entry> {
        let sensitive: HashSet<String> = self.sensitive.iter().map(|(arn, _)| arn.clone()).collect();
        let mut entries: BTreeMap<(String, Option<usize>, Option<String>, String), Entry> = BTreeMap::new();
        for exposure in network.exposures() {
            let database = exposure.resource_type == "db-instance";
            let instance_id = (exposure.resource_type == "instance").then(|| exposure.resource_id.clone());
            // An interface of an ECS task is the task (or its service), also when it is attached
            // to the EC2 container instance the task runs on.
            let ecs = exposure.interface_id.as_deref().and_then(|interface| self.ecs_interfaces.get(interface)).cloned();
            let (compute, runs_as) = match (&ecs, exposure.resource_type) {
                (Some(join), _) => (join.compute.clone(), self.runs_as(Compute::Ecs(join))),
                (None, "instance") => {
                    let compute = self.arn("ec2", &exposure.region, &format!("instance/{}", exposure.resource_id));
                    let runs_as = self.runs_as(Compute::Instance(&compute));
                    (compute, runs_as)
                }
                (None, "db-instance") => (self.arn("rds", &exposure.region, &format!("db:{}", exposure.resource_id)), None),
                _ => continue,
            };
            // Only compute that leads somewhere: compute with a role, or sensitive data.
            if runs_as.is_none() && !(database && sensitive.contains(&compute)) {
                continue;
            }
            let balancer = exposure
                .via
                .clone()
                .map(|via| if via.starts_with("arn:") { via } else { self.arn("elasticloadbalancing", &exposure.region, &format!("loadbalancer/{via}")) });
            let rules = network.admitting_rules(&exposure);
            let vulnerabilities = instance_id.as_ref().and_then(|id| hosts.vulnerabilities.get(id)).copied().unwrap_or_default();
            let mut alternatives: Vec<(String, usize, f64, Vec<String>)> = Vec::new();
            if rules.is_empty() {
                let (kind, change, fix) = match &balancer {
                    Some(balancer) => ("public-endpoint", format!("make load balancer {balancer} internal, or put security groups on it"), None),
                    None => {
                        ("public-endpoint", format!("make {} not publicly accessible", exposure.resource_id), Some(FIX_PUBLIC_DATABASE).filter(|_| database))
                    }
                };
                let resource = balancer.clone().unwrap_or_else(|| compute.clone());
                let id = self.changes.add(kind, &resource, change, fix);
                alternatives.push(("internet-facing without a security group".to_string(), id, 0.6, vec!["reachable from the internet".to_string()]));
            }
            for rule in rules {
                let group_arn = self.arn("ec2", &exposure.region, &format!("security-group/{}", rule.group_id));
                let via = format!("{} {}", rule.group_id, rule.description);
                let (likelihood, reasons, world) = rule_likelihood(&rule.permission, database);
                let fix = if world { sg_fix(&rule.permission) } else { None };
                let id = self.changes.add("security-group-rule", &group_arn, format!("revoke {} on {}", rule.description, rule.group_id), fix);
                alternatives.push((via, id, likelihood, reasons));
            }
            for (via, change, mut likelihood, mut reasons) in alternatives {
                let mut hops = Vec::new();
                match &balancer {
                    Some(balancer) => {
                        likelihood *= 0.7;
                        reasons.push("through a load balancer's listener".to_string());
                        hops.push(PathHop { from: "internet".to_string(), to: balancer.clone(), via, kind: "network".to_string() });
                        hops.push(PathHop {
                            from: balancer.clone(),
                            to: compute.clone(),
                            via: "a listener forwards to it".to_string(),
                            kind: "network".to_string(),
                        });
                    }
                    None => hops.push(PathHop { from: "internet".to_string(), to: compute.clone(), via, kind: "network".to_string() }),
                }
                if vulnerabilities.critical > 0 {
                    likelihood += (1.0 - likelihood) / 2.0;
                    reasons.push(format!("{} critical vulnerabilities reported by the host", vulnerabilities.critical));
                } else if vulnerabilities.high > 0 {
                    likelihood += (1.0 - likelihood) / 4.0;
                    reasons.push(format!("{} high vulnerabilities reported by the host", vulnerabilities.high));
                }
                let key = (
                    compute.clone(),
                    runs_as.as_ref().map(|runs_as| runs_as.role),
                    balancer.clone(),
                    hops.first().map(|hop| hop.via.clone()).unwrap_or_default(),
                );
                let mut changes = vec![change];
                if let Some(runs_as) = &runs_as {
                    hops.push(runs_as.hop.clone());
                    changes.extend(runs_as.change);
                }
                entries.entry(key).or_insert(Entry {
                    compute: compute.clone(),
                    role: runs_as.as_ref().map(|runs_as| runs_as.role),
                    hops,
                    changes,
                    likelihood,
                    reasons,
                });
            }
        }
        let inventory = self.inventory;
        for (region, regional) in &inventory.regional {
            for function in &regional.lambda_functions {
                let public = function.function_url_configs.iter().any(|config| config.auth_type.as_deref() != Some("AWS_IAM"));
                let Some(role) = function.role.as_deref().filter(|_| public) else { continue };
                let Some(runs_as) = self.runs_as(Compute::Function { arn: &function.function_arn, role }) else { continue };
                let change = self.changes.add(
                    "function-url",
                    &function.function_arn,
                    format!("set AuthType AWS_IAM on the function URL of {}", function.function_name),
                    None,
                );
                let hop = PathHop {
                    from: "internet".to_string(),
                    to: function.function_arn.clone(),
                    via: "function URL with AuthType NONE".to_string(),
                    kind: "network".to_string(),
                };
                let key = (function.function_arn.clone(), Some(runs_as.role), None, region.to_string());
                entries.entry(key).or_insert(Entry {
                    compute: function.function_arn.clone(),
                    role: Some(runs_as.role),
                    hops: vec![hop, runs_as.hop],
                    changes: vec![change],
                    likelihood: 0.7,
                    reasons: vec!["a function URL anyone may invoke".to_string()],
                });
            }
        }
        entries.into_values().collect()
    }

    /// The one rule for the role a compute resource runs with, as the `runs-as` hop and the
    /// change that removes it: an instance's profile (a change), a function's execution role
    /// and an ECS task's task role (none: a function always has a role, and a task role is
    /// part of the task definition the service deploys). `None` when the role is not a
    /// principal of the account.
    fn runs_as(&mut self, compute: Compute<'_>) -> Option<RunsAs> {
        let (from, role, via, change) = match compute {
            Compute::Instance(instance) => {
                let profile = self.instance_profiles.get(instance).copied()?;
                let role = self.profile_roles.get(profile).copied()?;
                let change = self.changes.add("instance-profile", instance, format!("disassociate instance profile {profile} from {instance}"), None);
                (instance, role, format!("instance profile {profile}"), Some(change))
            }
            Compute::Function { arn, role } => (arn, self.account.principal_position(role)?, "execution role".to_string(), None),
            Compute::Ecs(join) => (join.compute.as_str(), self.account.principal_position(&join.role)?, join.via.clone(), None),
        };
        let principal = self.account.principals.get(role)?;
        let hop = PathHop { from: from.to_string(), to: principal.arn.clone(), via, kind: "runs-as".to_string() };
        Some(RunsAs { role, hop, change })
    }

    /// The ways from a principal to a target, computed once per principal.
    fn tails_of(&mut self, position: usize) -> Vec<Tail> {
        if let Some(tails) = self.tails.get(&position) {
            return tails.clone();
        }
        let Some(principal) = self.account.principals.get(position) else { return Vec::new() };
        let mut tails = Vec::new();
        match self.holders.get(position).cloned() {
            Some(Some(steps)) if steps.is_empty() => {
                let change = self.admin_change(principal);
                tails.push(Tail {
                    target: principal.arn.clone(),
                    kind: "admin",
                    hops: Vec::new(),
                    changes: change.into_iter().collect(),
                    factor: 1.0,
                    reasons: vec![format!("{} is admin-equivalent", principal.name)],
                });
            }
            Some(Some(steps)) => {
                let (hops, changes) = self.escalation_hops(&steps);
                tails.push(Tail {
                    target: principal.arn.clone(),
                    kind: "admin",
                    hops,
                    changes,
                    factor: 0.9,
                    reasons: vec![format!("{} can grant itself admin", principal.name)],
                });
            }
            _ => {}
        }
        for path in self.escalations.get(&principal.arn).cloned().unwrap_or_default() {
            let (hops, changes) = self.escalation_hops(&path.steps);
            let factor = 0.9f64.powi(path.steps.len() as i32);
            let (target, kind) = if path.target == "admin" { (path.admin.clone(), "admin") } else { (path.target.clone(), "sensitive-data") };
            tails.push(Tail { target, kind, hops, changes, factor, reasons: vec![format!("{} escalation step(s)", path.steps.len())] });
        }
        for (arn, reason) in self.sensitive.clone() {
            let Some(requests) = vigil_iam::access::access_requests(&arn) else { continue };
            for (action, resource) in requests {
                // `may_be_allowed` is false only for requests the engine refuses (a filter that
                // spares most of the (role × sensitive resource) decisions).
                if !self.account.may_be_allowed(principal, &action, &resource) || self.account.decide_for(principal, &action, &resource) != Decision::Allowed {
                    continue;
                }
                let (via, change) = self.access_change(principal, &action, &resource);
                tails.push(Tail {
                    target: arn.clone(),
                    kind: "sensitive-data",
                    hops: vec![PathHop { from: principal.arn.clone(), to: arn.clone(), via, kind: "access".to_string() }],
                    changes: change.into_iter().collect(),
                    factor: 1.0,
                    reasons: vec![format!("{arn} is sensitive ({reason})")],
                });
                break;
            }
        }
        // The runs-as hop belongs to the compute, not the role: each entry ends with it.
        self.tails.insert(position, tails.clone());
        tails
    }

    /// A change that removes a principal's admin rights: detaching or editing the policies
    /// that grant everything.
    fn admin_change(&mut self, principal: &AccountPrincipal) -> Option<usize> {
        let places = self.allowing_places(principal, "iam:AttachRolePolicy", "*");
        let resource = places.first().map(|(resource, _)| resource.clone()).unwrap_or_else(|| principal.arn.clone());
        let words: Vec<String> = places.into_iter().map(|(_, place)| place).collect();
        Some(self.changes.add("policy-statement", &resource, format!("remove the grant of every action to {} ({})", principal.name, words.join("; ")), None))
    }

    /// The statements that allow a request, as the hop's words and the change that removes them.
    fn access_change(&mut self, principal: &AccountPrincipal, action: &str, resource: &str) -> (String, Option<usize>) {
        let places = self.allowing_places(principal, action, resource);
        let resource_of_change = places.first().map(|(resource, _)| resource.clone()).unwrap_or_else(|| principal.arn.clone());
        let words: Vec<String> = places.into_iter().map(|(_, place)| place).collect();
        let via = format!("{action} allowed by {}", words.join("; "));
        let change = format!("remove {action} on {resource} from {}", words.join("; "));
        let id = self.changes.add("policy-statement", &resource_of_change, change, None);
        (via, Some(id))
    }

    /// The statements that allow a request: (where the change goes, the statement in words).
    fn allowing_places(&self, principal: &AccountPrincipal, action: &str, resource: &str) -> Vec<(String, String)> {
        let evaluation = self.account.can(&principal.arn, action, resource, &[]);
        let mut places = Vec::new();
        for statement in &evaluation.explanation.allowed_by {
            let sid = statement.sid.as_ref().map(|sid| format!(" ({sid})")).unwrap_or_default();
            let mut resource_of_change = principal.arn.clone();
            let place = if statement.policy == "resource_policy" {
                resource_of_change = resource.trim_end_matches("/*").to_string();
                format!("the resource policy of {resource_of_change}")
            } else {
                let position: Option<usize> =
                    statement.policy.strip_prefix("identity_policies[").and_then(|rest| rest.strip_suffix(']')).and_then(|n| n.parse().ok());
                match position.and_then(|position| principal.sources.get(position)) {
                    Some(PolicySource::Inline { name, .. }) => format!("inline policy {name} of {}", principal.name),
                    Some(PolicySource::Attached { arn, .. }) => {
                        resource_of_change = arn.clone();
                        format!("managed policy {arn}")
                    }
                    Some(PolicySource::Group { group_arn, .. }) => {
                        resource_of_change = group_arn.clone();
                        format!("a policy of group {group_arn}")
                    }
                    None => statement.policy.clone(),
                }
            };
            places.push((resource_of_change, format!("{place} statement {}{sid}", statement.statement)));
        }
        places.sort();
        places.dedup();
        places
    }

    fn escalation_hops(&mut self, steps: &[escalation::Step]) -> (Vec<PathHop>, Vec<usize>) {
        let mut hops = Vec::new();
        let mut changes = Vec::new();
        for step in steps {
            hops.push(PathHop {
                from: step.from.clone(),
                to: step.to.clone(),
                via: format!("{} on {} ({})", step.method, step.resource, step.technique),
                kind: "escalation".to_string(),
            });
            let actions: Vec<&str> = step.permissions.iter().map(|permission| permission.action.as_str()).collect();
            let id = if step.permissions.len() == 1 && actions.first().is_some_and(|action| action.starts_with("sts:AssumeRole")) {
                self.changes.add("trust-statement", &step.to, format!("remove {} from the trust policy of {}", step.from, step.to), None)
            } else {
                let what: Vec<String> = step.permissions.iter().map(|permission| format!("{} on {}", permission.action, permission.resource)).collect();
                self.changes.add("escalation-permission", &step.from, format!("remove {} from {}", what.join(", "), step.from), None)
            };
            changes.push(id);
        }
        (hops, changes)
    }

    /// Computes the cut, and sorts.
    fn finish(mut self, paths: Vec<(AttackPath, Vec<usize>)>) -> Report {
        // Preference order: renumber the changes so lower ids are preferred.
        let mut order: Vec<usize> = (0..self.changes.list.len()).collect();
        order.sort_by(|a, b| {
            let (a, b) = (&self.changes.list[*a], &self.changes.list[*b]);
            (kind_rank(&a.kind), a.fix.is_none(), &a.resource, &a.change).cmp(&(kind_rank(&b.kind), b.fix.is_none(), &b.resource, &b.change))
        });
        let mut rank = vec![0; order.len()];
        for (position, id) in order.iter().enumerate() {
            rank[*id] = position;
        }
        let sets: Vec<Vec<usize>> = paths.iter().map(|(_, changes)| changes.iter().map(|id| rank[*id]).collect()).collect();
        let found = minimal_cut(&sets, self.options.cut_budget);
        let chosen: Vec<usize> = found.changes.iter().filter_map(|ranked| order.get(*ranked).copied()).collect();
        let chosen_set: HashSet<usize> = chosen.iter().copied().collect();
        for (_, changes) in &paths {
            for id in changes.iter().filter(|id| chosen_set.contains(id)) {
                if let Some(change) = self.changes.list.get_mut(*id) {
                    change.breaks += 1;
                }
            }
        }
        let mut report_paths = Vec::with_capacity(paths.len());
        for (mut path, changes) in paths {
            let mut mine: Vec<usize> = changes.into_iter().filter(|id| chosen_set.contains(id)).collect();
            mine.sort_by_key(|id| rank.get(*id).copied().unwrap_or(usize::MAX));
            path.cut = mine.iter().filter_map(|id| self.changes.list.get(*id).cloned()).collect();
            report_paths.push(path);
        }
        report_paths.sort_by(|a, b| {
            b.score.cmp(&a.score).then_with(|| a.target.cmp(&b.target)).then_with(|| a.hops.len().cmp(&b.hops.len())).then_with(|| hop_key(a).cmp(&hop_key(b)))
        });
        let mut cut: Vec<CutChange> = chosen.iter().filter_map(|id| self.changes.list.get(*id).cloned()).collect();
        cut.sort_by(|a, b| {
            b.breaks.cmp(&a.breaks).then_with(|| (kind_rank(&a.kind), &a.resource, &a.change).cmp(&(kind_rank(&b.kind), &b.resource, &b.change)))
        });
        Report { paths: report_paths, cut, method: found.method, sensitive: self.sensitive }
    }
}

fn hop_key(path: &AttackPath) -> Vec<(&str, &str, &str)> {
    path.hops.iter().map(|hop| (hop.from.as_str(), hop.to.as_str(), hop.via.as_str())).collect()
}

/// How likely a security group rule is to be used to get in, with the reasons, and whether
/// it admits the whole internet.
fn rule_likelihood(permission: &IpPermission, database: bool) -> (f64, Vec<String>, bool) {
    let mut reasons = Vec::new();
    let ports = port_span(permission);
    let base = match ports {
        None => {
            reasons.push("all traffic allowed".to_string());
            1.0
        }
        Some((from, to)) if ADMIN_PORTS.iter().any(|port| (from..=to).contains(port)) => {
            reasons.push("a remote administration port (SSH/RDP) is open".to_string());
            0.9
        }
        Some((from, to)) if database || DATA_PORTS.iter().any(|port| (from..=to).contains(port)) => {
            reasons.push("a database or cache port is open".to_string());
            0.85
        }
        Some((from, to)) if WEB_PORTS.iter().all(|port| !(from..=to).contains(port)) || to > from => {
            reasons.push(format!("ports {from}-{to} are open"));
            0.7
        }
        Some(_) => {
            reasons.push("a web port is open".to_string());
            0.6
        }
    };
    let (width, world) = source_width(permission);
    let factor = match width {
        0 => 1.0,
        1..=8 => 0.8,
        9..=16 => 0.6,
        _ => 0.3,
    };
    reasons.push(if world { "open to the whole internet".to_string() } else { format!("open to a /{width} range of the internet") });
    (base * factor, reasons, world)
}

/// The TCP/UDP port range of a permission; `None` for all traffic (or all ports).
fn port_span(permission: &IpPermission) -> Option<(u16, u16)> {
    if matches!(permission.ip_protocol.as_str(), "-1" | "all") {
        return None;
    }
    let from = permission.from_port.unwrap_or(0).clamp(0, 65535) as u16;
    let to = permission.to_port.unwrap_or(65535).clamp(0, 65535) as u16;
    if matches!(permission.ip_protocol.as_str(), "tcp" | "udp" | "6" | "17") { Some((from, to)) } else { Some((0, 0)) }
}

/// The prefix length of the rule's one source (0 for the world; 32 for a prefix list), and
/// whether it is the whole internet.
fn source_width(permission: &IpPermission) -> (u8, bool) {
    let cidr =
        permission.ip_ranges.first().map(|range| range.cidr_ip.as_str()).or_else(|| permission.ipv6_ranges.first().map(|range| range.cidr_ipv6.as_str()));
    match cidr.and_then(|cidr| cidr.split_once('/')).and_then(|(_, length)| length.parse::<u8>().ok()) {
        Some(length) => (length, length == 0),
        None => (32, false),
    }
}

/// The fixer that closes a world-open rule, by what it opens.
fn sg_fix(permission: &IpPermission) -> Option<&'static str> {
    match port_span(permission) {
        None => Some(FIX_ALL_TRAFFIC),
        Some((from, to)) if ADMIN_PORTS.iter().any(|port| (from..=to).contains(port)) => Some(FIX_ADMIN_PORTS),
        Some((from, to)) if from == to && WEB_PORTS.contains(&from) => None,
        Some(_) => Some(FIX_UNAUTHORIZED_PORTS),
    }
}
