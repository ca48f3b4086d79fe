//! `vigil frameworks`: the compliance frameworks checks map to, and how much of each the
//! catalog covers.

use std::process::ExitCode;

/// Prints one line per framework, or every requirement of one framework.
pub fn run(framework: Option<&str>) -> anyhow::Result<ExitCode> {
    match framework {
        None => {
            println!("{:<16} {:<10} {:>12} {:>8} {:>7}  NAME", "FRAMEWORK", "ALIAS", "REQUIREMENTS", "COVERED", "CHECKS");
            for framework in vigil_checks::frameworks::FRAMEWORKS {
                let checks = vigil_checks::CHECKS.iter().filter(|check| framework.maps(check.metadata())).count();
                println!(
                    "{:<16} {:<10} {:>12} {:>8} {:>7}  {}",
                    framework.id,
                    framework.aliases.first().unwrap_or(&""),
                    framework.requirements.len(),
                    framework.covered(),
                    checks,
                    framework.name
                );
            }
        }
        Some(name) => {
            let Some(framework) = vigil_checks::frameworks::find(name) else {
                anyhow::bail!("unknown framework `{name}`; `vigil frameworks` lists them");
            };
            println!("{}\n", framework.name);
            println!("{:<16} {:<9} {:<50} TITLE", "REQUIREMENT", "KIND", "CHECKS");
            for requirement in framework.requirements {
                let checks = framework.checks_for(requirement.id);
                let kind = if requirement.manual { "manual" } else { "automated" };
                let checks = if checks.is_empty() { "-".to_string() } else { checks.join(",") };
                println!("{:<16} {:<9} {:<50} {}", requirement.id, kind, checks, requirement.title);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
