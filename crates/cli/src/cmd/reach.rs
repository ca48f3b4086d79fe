//! `vigil reach`: every endpoint the internet can reach, with the exact protocols, ports and
//! sources and the path that lets them in; `vigil reach explain` for one resource and port.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use vigil_net::Question;

use super::GlobalArgs;
use super::source::{self, SourceArgs};

#[derive(Debug, clap::Args)]
pub struct ReachArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// An instance's host firewall, joined to the exposure: INSTANCE_ID=FILE with `nft -j list
    /// ruleset` output or `iptables-save` text (repeatable).
    #[arg(long = "host-firewall", value_name = "INSTANCE_ID=FILE", global = true)]
    pub host_firewalls: Vec<String>,
    /// Join the host firewalls vigil agents reported, read from this store (an SQLite path or
    /// a `postgres://` URL); `--host-firewall` wins for its instance.
    #[arg(long, value_name = "PATH|URL", global = true)]
    pub store: Option<String>,
    #[command(subcommand)]
    pub command: Option<ReachCommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReachCommand {
    /// Whether the internet reaches RESOURCE on a port, with the full path or the hop that drops it.
    Explain(ExplainArgs),
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Instance id, network interface id, load balancer ARN or name, or DB instance identifier.
    pub resource: String,
    /// Destination port (for ICMP: the ICMP type).
    #[arg(long, value_name = "N")]
    pub port: u16,
    /// tcp, udp, icmp, icmpv6, or an IP protocol number.
    #[arg(long, default_value = "tcp", value_name = "PROTOCOL")]
    pub protocol: String,
    /// Only sources in this CIDR (default: any address).
    #[arg(long, value_name = "CIDR")]
    pub source: Option<String>,
    #[command(flatten)]
    pub inventory: SourceArgs,
    /// Output format (overrides the one given before `explain`).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// The services the engine reads, when collecting live without `--service`.
const SERVICES: &[&str] = &["ec2", "elbv2", "elb", "rds"];

pub fn run(global: &GlobalArgs, args: ReachArgs) -> anyhow::Result<ExitCode> {
    let firewalls = host_firewalls(&args.host_firewalls)?;
    let hosts = super::scan::host_facts_from(args.store.as_deref(), firewalls)?;
    match args.command {
        None => list(global, &args.source, args.format, &hosts),
        Some(ReachCommand::Explain(explain_args)) => {
            let source = pick_source(&args.source, &explain_args.inventory);
            explain(global, &source, explain_args.format.unwrap_or(args.format), &explain_args, &hosts)
        }
    }
}

/// Reads `INSTANCE_ID=FILE` host firewalls.
pub fn host_firewalls(specs: &[String]) -> anyhow::Result<Vec<(String, vigil_net::HostRuleset)>> {
    specs
        .iter()
        .map(|spec| {
            let (instance, file) = spec.split_once('=').with_context(|| format!("`{spec}`: expected INSTANCE_ID=FILE"))?;
            let ruleset = vigil_host::firewall::read_file(std::path::Path::new(file))?;
            Ok((instance.to_string(), ruleset))
        })
        .collect()
}

/// Options may come before or after `explain`; the ones after win.
fn pick_source(before: &SourceArgs, after: &SourceArgs) -> SourceArgs {
    let after_given = after.snapshot.is_some()
        || after.demo
        || !after.live.regions.is_empty()
        || !after.live.services.is_empty()
        || after.live.role_arn.is_some()
        || after.live.endpoint_url != before.live.endpoint_url
        || after.live.profile != before.live.profile;
    if after_given { after.clone() } else { before.clone() }
}

fn load(global: &GlobalArgs, source_args: &SourceArgs) -> anyhow::Result<vigil_model::Inventory> {
    let mut source_args = source_args.clone();
    if source_args.live.services.is_empty() {
        source_args.live.services = SERVICES.iter().map(|service| service.to_string()).collect();
    }
    source::load(&source_args, global.quiet)
}

fn list(global: &GlobalArgs, source_args: &SourceArgs, format: Format, hosts: &vigil_paths::HostFacts) -> anyhow::Result<ExitCode> {
    let inventory = load(global, source_args)?;
    let network = hosts.network(&inventory);
    let exposures = network.exposures();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &vigil_assess::analyses::exposure_rows(&network, &exposures))?;
            writeln!(out)?;
        }
        Format::Table => {
            if exposures.is_empty() {
                writeln!(out, "Nothing in account {} is reachable from the internet.", inventory.account_id())?;
                return Ok(ExitCode::SUCCESS);
            }
            writeln!(out, "{:<12} {:<22} {:<24} {:<7} {:<18} {:<28} VIA", "REGION", "RESOURCE", "ADDRESS", "PROTO", "PORTS", "SOURCES")?;
            for exposure in &exposures {
                for entry in exposure.entries() {
                    let ports: Vec<String> = entry.ports.iter().map(|[from, to]| if from == to { from.to_string() } else { format!("{from}-{to}") }).collect();
                    let via = exposure.via.as_deref().map(short_arn).unwrap_or("direct");
                    writeln!(
                        out,
                        "{:<12} {:<22} {:<24} {:<7} {:<18} {:<28} {}",
                        exposure.region,
                        short_arn(&exposure.resource_id),
                        exposure.address,
                        entry.protocol,
                        ports.join(","),
                        summarise(&entry.sources),
                        via
                    )?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn explain(global: &GlobalArgs, source_args: &SourceArgs, format: Format, args: &ExplainArgs, hosts: &vigil_paths::HostFacts) -> anyhow::Result<ExitCode> {
    let (slot, number) = vigil_net::parse_protocol(&args.protocol)
        .with_context(|| format!("`{}` is not a protocol: use tcp, udp, icmp, icmpv6 or a protocol number", args.protocol))?;
    let source = match &args.source {
        Some(text) => Some(vigil_net::parse_source(text).with_context(|| format!("`{text}` is not an IPv4 or IPv6 address or CIDR block"))?),
        None => None,
    };
    let inventory = load(global, source_args)?;
    let network = hosts.network(&inventory);
    let question = Question { resource: args.resource.clone(), slot, port: number.unwrap_or(args.port), source };
    let answer = network.explain(&question)?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &answer)?;
            writeln!(out)?;
        }
        Format::Table => {
            let verdict = if answer.reachable { "REACHABLE" } else { "NOT REACHABLE" };
            writeln!(out, "{} {} {}/{}: {verdict}", answer.resource, answer.protocol, answer.port, args.source.as_deref().unwrap_or("any source"))?;
            for endpoint in &answer.endpoints {
                let address = endpoint.address.as_deref().unwrap_or("-");
                let state = if endpoint.reachable { format!("reachable from {}", summarise(&endpoint.sources)) } else { "blocked".to_string() };
                writeln!(out, "\n  {} via {} ({address}): {state}", endpoint.resource_id, short_arn(&endpoint.via))?;
                writeln!(out, "  packet: {}", endpoint.packet)?;
                for hop in &endpoint.path {
                    let mark = if hop.allowed { "ok " } else { "DROP" };
                    writeln!(out, "    {mark} {:<16} {:<26} {}", hop.kind, hop.id, hop.detail)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The last part of an ARN (`app/web/123`), for narrow tables.
fn short_arn(text: &str) -> &str {
    text.rsplit_once(":loadbalancer/").map(|(_, rest)| rest).unwrap_or(text)
}

fn summarise(sources: &[String]) -> String {
    match sources {
        [] => "-".to_string(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} +{} more", rest.len()),
    }
}
