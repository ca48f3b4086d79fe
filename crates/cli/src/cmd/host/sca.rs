//! `vigil host sca`: configuration assessment with a Wazuh-format SCA policy.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use vigil_host::fsroot::HostRoot;
use vigil_host::sca::{self, CheckResult, Policy, ScaOptions};

use super::{Format, print_json};

#[derive(Debug, Args)]
pub struct ScaArgs {
    /// The policy: a Wazuh SCA YAML file (4.x or 5.x schema), or `vigil-guest-os` for vigil's
    /// own baseline (the default). Repeat for several policies.
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<String>,
    /// Assess an image mounted or extracted here instead of the running system. Command and
    /// process rules are then not applicable (they would describe this machine).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Time limit for each command rule, in seconds.
    #[arg(long, default_value_t = 30)]
    pub command_timeout: u64,
    /// Exit with code 3 when a check failed.
    #[arg(long)]
    pub fail_on_failed: bool,
}

pub fn run(args: ScaArgs) -> anyhow::Result<ExitCode> {
    if let Some(root) = &args.root {
        anyhow::ensure!(root.is_dir(), "--root `{}` is not a directory", root.display());
    }
    let host = HostRoot::from_option(args.root.as_deref());
    let names = if args.policy.is_empty() { vec![sca::DEFAULT_POLICY_NAME.to_string()] } else { args.policy.clone() };
    let mut policies = Vec::with_capacity(names.len());
    for name in &names {
        let policy = if name == sca::DEFAULT_POLICY_NAME { sca::default_policy()? } else { Policy::load(std::path::Path::new(name))? };
        policies.push(policy);
    }
    let options = ScaOptions { command_timeout: Duration::from_secs(args.command_timeout.max(1)) };
    let reports: Vec<sca::PolicyReport> = policies.iter().map(|policy| sca::evaluate(policy, &host, &options)).collect();
    let any_failed = reports.iter().any(|report| report.summary.failed > 0);
    match args.format {
        Format::Json if reports.len() == 1 => print_json(&reports[0]).context("writing the report")?,
        Format::Json => print_json(&reports).context("writing the report")?,
        Format::Table => {
            for report in &reports {
                println!("{} ({})", report.name, report.policy);
                if let Some(requirements) = &report.requirements {
                    println!("  requirements ({}): {}: {}", requirements.title, requirements.result.as_str(), requirements.reason);
                }
                for check in &report.checks {
                    let mark = match check.result {
                        CheckResult::Passed => "PASS",
                        CheckResult::Failed => "FAIL",
                        CheckResult::NotApplicable => "N/A ",
                    };
                    println!("  {mark} {:>6} {}", check.id, check.title);
                    if check.result != CheckResult::Passed {
                        println!("              {}", check.reason);
                    }
                }
                let summary = report.summary;
                let score = summary.score.map(|score| format!(", score {score}%")).unwrap_or_default();
                println!("  {} passed, {} failed, {} not applicable{score}", summary.passed, summary.failed, summary.not_applicable);
            }
        }
    }
    Ok(if args.fail_on_failed && any_failed { ExitCode::from(super::super::EXIT_FINDINGS) } else { ExitCode::SUCCESS })
}
