//! `vigil users`, `vigil apikeys` and `vigil audit`: the console's people, API keys and audit
//! log in the store. Every change made here is in the audit log as `cli:LOGIN` from `cli`.

use std::io::{BufRead as _, Write as _};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use vigil_store::Store;
use vigil_store::people::{AuditInput, Role};

use super::history::{Format, StoreArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    /// Reads every page and the API.
    Viewer,
    /// Also mutes and unmutes findings.
    Analyst,
    /// Also manages users, keys and agents and reads the audit log.
    Admin,
}

impl RoleArg {
    fn role(self) -> Role {
        match self {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Analyst => Role::Analyst,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is read from standard input (one line, at least 12 characters).
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Add the user without a password (it cannot log in until `vigil users password`).
        #[arg(long)]
        no_password: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the users and their roles.
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Change a user's role (open sessions take it at their next request).
    SetRole {
        name: String,
        #[arg(value_enum)]
        role: RoleArg,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set a user's password, read from standard input.
    Password {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable a user: its sessions end and it cannot log in.
    Disable {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enable a disabled user again.
    Enable {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct ApikeysArgs {
    #[command(subcommand)]
    pub command: ApikeysCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ApikeysCommand {
    /// Create a named key with a role; the key is printed once (only its hash is kept).
    Create {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the keys (name, prefix, role, created, revoked).
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Revoke a key: it opens nothing from now on.
    Revoke {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One OCSF 1.1 event per line (Authentication, Account Change, API Activity; docs/console.md).
    Ocsf,
    /// One audit entry per line, as stored.
    Json,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// The latest entries, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Every entry, oldest first, as JSON lines on standard output.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Ocsf)]
        format: ExportFormat,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The person running the command, as the audit log names them.
fn actor() -> String {
    let login = std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".to_string());
    format!("cli:{login}")
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Records a change made from the command line in the audit log.
pub fn audit(store: &mut Store, action: &str, target: &str, detail: &str) -> anyhow::Result<()> {
    let (at, actor) = (now(), actor());
    store.record_audit(&AuditInput { at: &at, actor: &actor, action, target, detail, address: "cli", outcome: "success" })?;
    Ok(())
}

/// A password from standard input's first line, checked for length.
fn read_password(name: &str) -> anyhow::Result<String> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("password for {name} (input is shown; pipe it in to hide it): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.chars().count() < vigil_server::auth::PASSWORD_MIN {
        bail!("the password must have at least {} characters", vigil_server::auth::PASSWORD_MIN);
    }
    Ok(password)
}

pub fn users(args: UsersArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        UsersCommand::Add { name, role, no_password, store } => {
            vigil_server::valid_user_name(&name).map_err(anyhow::Error::msg)?;
            let hash = if no_password { None } else { Some(vigil_server::auth::hash_password(&read_password(&name)?)?) };
            let mut store = store.open()?;
            if !store.add_user(&name, role.role(), hash.as_deref(), &now())? {
                bail!("a user `{name}` exists already (see `vigil users list`)");
            }
            audit(&mut store, "user.add", &name, role.role().as_str())?;
            println!("added {name} as {}", role.role().as_str());
        }
        UsersCommand::List { store, format } => {
            let users = store.open()?.users()?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&users)?),
                Format::Table => {
                    println!("{:<24} {:<8} {:<9} {:<8} CREATED", "NAME", "ROLE", "STATE", "PASSWORD");
                    for user in &users {
                        let state = if user.disabled { "disabled" } else { "active" };
                        // A user who signs in through the OpenID Connect provider has no password here.
                        let password = match (user.kind, user.has_password) {
                            (vigil_store::people::UserKind::Oidc, _) => "oidc",
                            (_, true) => "set",
                            (_, false) => "none",
                        };
                        println!("{:<24} {:<8} {:<9} {:<8} {}", user.name, user.role.as_str(), state, password, user.created_at);
                    }
                }
            }
        }
        UsersCommand::SetRole { name, role, store } => {
            let mut store = store.open()?;
            if !store.set_user_role(&name, role.role())? {
                bail!("no user `{name}` (see `vigil users list`)");
            }
            audit(&mut store, "user.set-role", &name, role.role().as_str())?;
            println!("{name} is {} now", role.role().as_str());
        }
        UsersCommand::Password { name, store } => {
            let hash = vigil_server::auth::hash_password(&read_password(&name)?)?;
            let mut store = store.open()?;
            if !store.set_user_password(&name, &hash)? {
                bail!("no user `{name}` (see `vigil users list`)");
            }
            audit(&mut store, "user.password", &name, "")?;
            println!("password of {name} set");
        }
        UsersCommand::Disable { name, store } => set_disabled(&store, &name, true)?,
        UsersCommand::Enable { name, store } => set_disabled(&store, &name, false)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn set_disabled(store: &StoreArgs, name: &str, disabled: bool) -> anyhow::Result<()> {
    let mut store = store.open()?;
    if !store.set_user_disabled(name, disabled)? {
        bail!("no user `{name}` (see `vigil users list`)");
    }
    let action = if disabled { "user.disable" } else { "user.enable" };
    audit(&mut store, action, name, "")?;
    println!("{name} is {}", if disabled { "disabled: its sessions ended" } else { "enabled" });
    Ok(())
}

pub fn apikeys(args: ApikeysArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ApikeysCommand::Create { name, role, store } => {
            vigil_server::valid_user_name(&name).map_err(|message| anyhow::anyhow!("key name: {message}"))?;
            let (key, hash, prefix) = vigil_server::auth::new_api_key()?;
            let mut store = store.open()?;
            if !store.create_api_key(&name, &hash, &prefix, role.role(), &actor(), &now())? {
                bail!("a key `{name}` exists already (see `vigil apikeys list`)");
            }
            audit(&mut store, "apikey.create", &name, role.role().as_str())?;
            eprintln!("API key `{name}` ({}), shown once; send it as `Authorization: Bearer KEY`:", role.role().as_str());
            println!("{key}");
        }
        ApikeysCommand::List { store, format } => {
            let keys = store.open()?.api_keys()?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&keys)?),
                Format::Table => {
                    println!("{:<24} {:<12} {:<8} {:<21} {:<16} REVOKED", "NAME", "PREFIX", "ROLE", "CREATED", "BY");
                    for key in &keys {
                        println!(
                            "{:<24} {:<12} {:<8} {:<21} {:<16} {}",
                            key.name,
                            key.prefix,
                            key.role.as_str(),
                            key.created_at,
                            key.created_by,
                            key.revoked_at.as_deref().unwrap_or("-")
                        );
                    }
                }
            }
        }
        ApikeysCommand::Revoke { name, store } => {
            let mut store = store.open()?;
            if !store.revoke_api_key(&name, &now())? {
                bail!("no live key `{name}` (see `vigil apikeys list`)");
            }
            audit(&mut store, "apikey.revoke", &name, "")?;
            println!("revoked {name}: it opens nothing from now on");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn audit_command(args: AuditArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::List { limit, store, format } => {
            let entries = store.open()?.audit(0, limit.clamp(1, 100_000))?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&entries)?),
                Format::Table => {
                    for entry in &entries {
                        println!(
                            "{} {:<20} {:<15} {:<30} {:<8} {:<22} {}",
                            entry.at, entry.actor, entry.action, entry.target, entry.outcome, entry.address, entry.detail
                        );
                    }
                }
            }
        }
        AuditCommand::Export { format, store } => {
            let mut store = store.open()?;
            // Read newest first by pages, then write oldest first.
            let mut entries = Vec::new();
            let mut before = 0;
            loop {
                let page = store.audit(before, 10_000)?;
                let Some(last) = page.last() else { break };
                before = last.id;
                entries.extend(page);
            }
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for entry in entries.iter().rev() {
                let line = match format {
                    ExportFormat::Ocsf => vigil_store::people::audit_to_ocsf(entry),
                    ExportFormat::Json => serde_json::to_value(entry)?,
                };
                writeln!(out, "{line}")?;
            }
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
