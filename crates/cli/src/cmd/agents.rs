//! `vigil agents`: the fleet of `vigil-agent`s in the store (list, show, revoke, rotate) and
//! enrolment tokens for hosts off EC2 (`vigil agents token create|list|revoke`).

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::json;

use super::history::{Format, StoreArgs};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AgentsArgs {
    #[command(subcommand)]
    pub command: Option<AgentsCommand>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format of the list.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, clap::Subcommand)]
pub enum AgentsCommand {
    /// List the agents with their status (as of the server's last lifecycle sweep).
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// One agent: identity, lifecycle, policy, module health, queue, latest events.
    Show {
        agent_id: String,
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Revoke an agent's credential: its requests are refused from now on (history is kept).
    Revoke {
        agent_id: String,
        /// Why, for the record.
        #[arg(long, default_value = "revoked by a person")]
        reason: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Ask an agent to rotate its secret at its next heartbeat.
    Rotate {
        agent_id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enrolment tokens for hosts off EC2 (or where IMDS is blocked).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token; prints it once (only its hash is kept).
    Create {
        /// How long it is valid: a number with s, m, h or d (e.g. 24h, 7d).
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        expires: u64,
        /// What it may enrol (repeatable): accounts=GLOB,... and hostnames=GLOB,...
        #[arg(long, value_name = "KEY=GLOB,...")]
        scope: Vec<String>,
        /// How many enrolments it allows (default: unlimited until it expires).
        #[arg(long)]
        uses: Option<i64>,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token.
    Revoke {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn parse_duration(text: &str) -> Result<u64, String> {
    let (number, unit) = text.split_at(text.find(|character: char| !character.is_ascii_digit()).unwrap_or(text.len()));
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration like 30m, 24h or 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: the unit must be s, m, h or d")),
    };
    number.checked_mul(seconds).filter(|seconds| *seconds > 0).ok_or_else(|| format!("`{text}` is not a positive duration"))
}

fn parse_scope(items: &[String]) -> anyhow::Result<serde_json::Value> {
    let mut scope = serde_json::Map::new();
    for item in items {
        let Some((key, globs)) = item.split_once('=') else { bail!("--scope `{item}`: write KEY=GLOB,... with KEY accounts or hostnames") };
        if key != "accounts" && key != "hostnames" {
            bail!("--scope `{item}`: `{key}` is not a scope key (accounts, hostnames)");
        }
        let list = scope.entry(key.to_string()).or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            list.extend(globs.split(',').filter(|glob| !glob.is_empty()).map(|glob| json!(glob)));
        }
    }
    Ok(serde_json::Value::Object(scope))
}

pub fn run(args: AgentsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        None => list(&args.store, args.format),
        Some(AgentsCommand::List { store, format }) => list(&store, format),
        Some(AgentsCommand::Show { agent_id, store, format }) => show(&store, &agent_id, format),
        Some(AgentsCommand::Revoke { agent_id, reason, store }) => {
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let mut store = store.open()?;
            if !store.revoke_agent(&agent_id, &reason, &at)? {
                bail!("no agent `{agent_id}` with a live credential (see `vigil agents`)");
            }
            super::people::audit(&mut store, "agent.revoke", &agent_id, &reason)?;
            println!("revoked {agent_id}: its requests are refused from now on");
            Ok(ExitCode::SUCCESS)
        }
        Some(AgentsCommand::Rotate { agent_id, store }) => {
            if !store.open()?.request_rotation(&agent_id)? {
                bail!("no agent `{agent_id}`");
            }
            println!("{agent_id} will rotate its secret at its next heartbeat");
            Ok(ExitCode::SUCCESS)
        }
        Some(AgentsCommand::Token(command)) => token(command),
    }
}

fn list(store: &StoreArgs, format: Format) -> anyhow::Result<ExitCode> {
    let agents = store.open()?.agents()?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&agents)?),
        Format::Table => {
            if agents.is_empty() {
                println!("no agents: start `vigil-agent --server URL --state DIR` on an instance (docs/agent.md)");
            }
            println!("{:<22} {:<21} {:<14} {:<14} {:<8} {:<21} HOST", "AGENT", "INSTANCE", "ACCOUNT", "REGION", "STATUS", "LAST SEEN");
            for agent in &agents {
                println!(
                    "{:<22} {:<21} {:<14} {:<14} {:<8} {:<21} {}",
                    agent.agent_id,
                    agent.instance_id.as_deref().unwrap_or("-"),
                    agent.account.as_deref().unwrap_or("-"),
                    agent.region.as_deref().unwrap_or("-"),
                    agent.status.as_str(),
                    agent.last_seen.as_deref().unwrap_or("never"),
                    agent.hostname
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(store: &StoreArgs, agent_id: &str, format: Format) -> anyhow::Result<ExitCode> {
    let mut store = store.open()?;
    let agent = store.agent(agent_id)?.with_context(|| format!("no agent `{agent_id}` (see `vigil agents`)"))?;
    let events = store.agent_events(agent_id, None, 20)?;
    let count = store.agent_event_count(agent_id)?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&json!({ "agent": agent, "event_count": count, "latest_events": events }))?),
        Format::Table => {
            println!("{}  {}", agent.agent_id, agent.status.as_str());
            for (label, value) in [
                ("instance", agent.instance_arn.clone().or(agent.instance_id.clone())),
                ("instance state", agent.instance_state.clone()),
                ("host", Some(agent.hostname.clone())),
                ("version", Some(agent.agent_version.clone())),
                ("enrolled", Some(format!("{} ({})", agent.enrolled_at, agent.enrolled_by))),
                ("last seen", agent.last_seen.clone()),
                ("status since", Some(agent.status_since.clone())),
                ("revoked", agent.revoked_at.clone().map(|at| format!("{at}: {}", agent.revoked_reason.clone().unwrap_or_default()))),
                ("policy", agent.policy_etag.clone()),
                ("events", Some(format!("{count} stored, last sequence number {}", agent.last_seq))),
                ("queue", Some(agent.queue.to_string())),
            ] {
                if let Some(value) = value {
                    println!("  {label:<15} {value}");
                }
            }
            for module in agent.modules.as_array().into_iter().flatten() {
                println!(
                    "  module {:<8} {:<9} last run {}{}",
                    module["module"].as_str().unwrap_or("?"),
                    module["state"].as_str().unwrap_or("?"),
                    module["last_run"].as_str().unwrap_or("never"),
                    module["last_error"].as_str().map(|error| format!(": {error}")).unwrap_or_default()
                );
            }
            for event in &events {
                println!("  #{:<6} {} {}/{} {}", event.seq, event.event_time, event.module, event.kind, event.event_id);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn token(command: TokenCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now();
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match command {
        TokenCommand::Create { expires, scope, uses, description, store } => {
            let scope = parse_scope(&scope)?;
            let token = vigil_server::auth::random_hex(32)?;
            let id = format!("tok-{}", vigil_server::auth::random_hex(6)?);
            let expires_at = now + chrono::Duration::seconds(i64::try_from(expires).unwrap_or(i64::MAX / 2).min(86_400 * 3650));
            let hash = vigil_server::agent_api::secret_hash(&token);
            store.open()?.create_enrolment_token(
                &id,
                &hash,
                &at,
                &expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                expires_at.timestamp(),
                &scope,
                uses,
                &description,
            )?;
            eprintln!("token {id} (expires {}; shown once, only its hash is kept):", expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { store } => {
            println!("{}", serde_json::to_string_pretty(&store.open()?.enrolment_tokens()?)?);
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id, store } => {
            if !store.open()?.revoke_enrolment_token(&id, &at)? {
                bail!("no live token `{id}`");
            }
            println!("revoked {id}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_scopes_parse_or_say_why_not() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("2"), Ok(7200));
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
        assert!(parse_duration("3w").unwrap_err().contains("unit"));
        assert_eq!(
            parse_scope(&["accounts=1111*,2222".into(), "hostnames=web-*".into()]).unwrap(),
            json!({"accounts": ["1111*", "2222"], "hostnames": ["web-*"]})
        );
        assert!(parse_scope(&["colour=red".into()]).unwrap_err().to_string().contains("not a scope key"));
    }
}
