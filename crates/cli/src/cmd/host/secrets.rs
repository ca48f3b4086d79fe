//! `vigil host secrets PATH...`: secrets and personal data in files, never printed in full.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::{Format, print_json};

#[derive(Debug, Args)]
pub struct SecretsArgs {
    /// Files or directories (walked recursively, links not followed).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Skip files larger than this many bytes.
    #[arg(long, default_value_t = 8 << 20)]
    pub max_file_size: u64,
    /// Exit with code 3 when something is found.
    #[arg(long)]
    pub fail_on_found: bool,
}

/// One finding (`--format json`): `path`, `line`, `kind`, `redacted`.
#[derive(Debug, Serialize)]
struct Row {
    path: String,
    line: usize,
    kind: &'static str,
    redacted: String,
}

pub fn run(args: SecretsArgs) -> anyhow::Result<ExitCode> {
    let mut rows = Vec::new();
    let mut problems = 0usize;
    for path in &args.paths {
        walk(path, args.max_file_size, &mut rows, &mut problems);
    }
    match args.format {
        Format::Json => print_json(&rows)?,
        Format::Table => {
            for row in &rows {
                println!("{}:{}: {} {}", row.path, row.line, row.kind, row.redacted);
            }
            println!("# {} findings", rows.len());
        }
    }
    if problems > 0 {
        return Ok(ExitCode::from(super::super::EXIT_ERROR));
    }
    Ok(if args.fail_on_found && !rows.is_empty() { ExitCode::from(super::super::EXIT_FINDINGS) } else { ExitCode::SUCCESS })
}

fn walk(path: &Path, max_size: u64, rows: &mut Vec<Row>, problems: &mut usize) {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => {
            eprintln!("warning: cannot read `{}`: {error}", path.display());
            *problems += 1;
            return;
        }
    };
    if metadata.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(entries) => entries.flatten().map(|entry| entry.path()).collect(),
            Err(error) => {
                eprintln!("warning: cannot list `{}`: {error}", path.display());
                *problems += 1;
                return;
            }
        };
        entries.sort();
        for entry in entries {
            walk(&entry, max_size, rows, problems);
        }
        return;
    }
    if !metadata.is_file() || metadata.len() > max_size {
        return;
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("warning: cannot read `{}`: {error}", path.display());
            *problems += 1;
            return;
        }
    };
    // Binary files (a NUL in the first 8 KiB) are not text to scan.
    if bytes.iter().take(8192).any(|&byte| byte == 0) {
        return;
    }
    for finding in vigil_secrets::scan(&String::from_utf8_lossy(&bytes)) {
        rows.push(Row { path: path.display().to_string(), line: finding.line, kind: finding.kind.as_str(), redacted: finding.redacted });
    }
}
