//! Evaluating rules and checks on a host. A rule is found, not found, or not applicable with
//! the reason; checks aggregate their rules by `condition` exactly as Wazuh's truth table
//! says (an `all` check with a not-applicable rule and no failed one is not applicable, an
//! `any` check passes on one found rule whatever the others were, ...).

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use super::exec::{self, CommandFailure};
use super::policy::{Check, Condition, Policy, RuleSlot};
use super::rule::{Content, Generation, Rule, Target, Test, parse_leading_integer};
use super::{CheckReport, CheckResult, PolicyReport, RequirementsReport, Summary};
use crate::fsroot::HostRoot;

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct ScaOptions {
    /// Time limit for each command rule (Wazuh's default is 30 s).
    pub command_timeout: Duration,
}

impl Default for ScaOptions {
    fn default() -> Self {
        ScaOptions { command_timeout: Duration::from_secs(30) }
    }
}

/// A rule's result, with what decided it (a file and line, a missing file, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Found(String),
    NotFound(String),
    NotApplicable(String),
}

/// Directory rules walk at most this deep and this many entries.
const MAX_WALK_DEPTH: usize = 32;
const MAX_WALK_ENTRIES: usize = 200_000;
/// Quoted lines are cut to this many characters.
const MAX_QUOTE: usize = 120;

struct Evaluator<'a> {
    host: &'a HostRoot,
    options: &'a ScaOptions,
    processes: std::cell::OnceCell<Result<Vec<String>, String>>,
}

/// Runs a policy on a host: requirements first (unmet requirements make every check not
/// applicable, naming them), then every check.
pub fn evaluate(policy: &Policy, host: &HostRoot, options: &ScaOptions) -> PolicyReport {
    let evaluator = Evaluator { host, options, processes: std::cell::OnceCell::new() };
    let requirements = policy.requirements.as_ref().map(|requirements| {
        let (result, reason) = evaluator.aggregate(requirements.condition, &requirements.rules);
        RequirementsReport { title: requirements.title.clone(), result, reason }
    });
    let unmet = requirements.as_ref().filter(|report| report.result == CheckResult::Failed);
    let checks: Vec<CheckReport> = policy
        .checks
        .iter()
        .map(|check| match unmet {
            Some(report) => {
                report_for(check, CheckResult::NotApplicable, format!("the policy's requirements are not met ({}): {}", report.title, report.reason))
            }
            None => {
                let (result, reason) = evaluator.aggregate(check.condition, &check.rules);
                report_for(check, result, reason)
            }
        })
        .collect();
    let summary = Summary::of(&checks);
    PolicyReport { policy: policy.id.clone(), name: policy.name.clone(), requirements, checks, summary }
}

fn report_for(check: &Check, result: CheckResult, reason: String) -> CheckReport {
    CheckReport { id: check.id, title: check.title.clone(), result, reason, remediation: check.remediation.clone(), compliance: check.compliance.clone() }
}

impl Evaluator<'_> {
    /// Wazuh's aggregation: `all` stops at the first rule not found, `any` at the first found,
    /// `none` at the first found (and is then failed); a not-applicable rule makes the result
    /// not applicable unless a later rule decides it.
    fn aggregate(&self, condition: Condition, rules: &[RuleSlot]) -> (CheckResult, String) {
        let mut first_not_applicable: Option<String> = None;
        let mut last_detail = String::new();
        for slot in rules {
            let outcome = match &slot.parsed {
                Ok(rule) => self.rule(rule),
                Err(problem) => Outcome::NotApplicable(format!("invalid rule: {problem}")),
            };
            match outcome {
                Outcome::NotFound(detail) if condition == Condition::All => {
                    return (CheckResult::Failed, format!("`{}` does not hold: {detail}", slot.text));
                }
                Outcome::Found(detail) if condition == Condition::Any => {
                    return (CheckResult::Passed, format!("`{}` holds: {detail}", slot.text));
                }
                Outcome::Found(detail) if condition == Condition::None => {
                    return (CheckResult::Failed, format!("`{}` holds: {detail}", slot.text));
                }
                Outcome::NotApplicable(reason) => {
                    if first_not_applicable.is_none() {
                        first_not_applicable = Some(format!("`{}`: {reason}", slot.text));
                    }
                }
                Outcome::Found(detail) | Outcome::NotFound(detail) => last_detail = format!("`{}`: {detail}", slot.text),
            }
        }
        if let Some(reason) = first_not_applicable {
            return (CheckResult::NotApplicable, reason);
        }
        match condition {
            Condition::All if rules.len() == 1 => (CheckResult::Passed, last_detail),
            Condition::All => (CheckResult::Passed, format!("all {} rules hold", rules.len())),
            Condition::Any if rules.len() == 1 => (CheckResult::Failed, last_detail),
            Condition::Any => (CheckResult::Failed, format!("none of the {} rules holds", rules.len())),
            Condition::None if rules.len() == 1 => (CheckResult::Passed, last_detail),
            Condition::None => (CheckResult::Passed, format!("none of the {} rules holds", rules.len())),
        }
    }

    /// One rule, with `not` applied (a not-applicable result stays not applicable).
    pub fn rule(&self, rule: &Rule) -> Outcome {
        let outcome = match &rule.target {
            Target::File { paths, content } => self.files(paths, content.as_ref()),
            Target::Dir { dirs, file, content } => self.dirs(dirs, file.as_ref(), content.as_ref()),
            Target::Command { command, content } => self.command(command, content.as_ref()),
            Target::Process { name } => self.process(name),
            Target::Registry { key } => Outcome::NotApplicable(format!("`{key}` is a Windows registry rule; this is not a Windows host")),
        };
        match (rule.negated, outcome) {
            (true, Outcome::Found(detail)) => Outcome::NotFound(detail),
            (true, Outcome::NotFound(detail)) => Outcome::Found(detail),
            (_, outcome) => outcome,
        }
    }

    /// Under `--root`, `/proc` and `/sys` are the machine's kernel, not the image's.
    fn kernel_path(&self, path: &str) -> Option<Outcome> {
        let kernel = ["/proc", "/sys"].iter().any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")));
        (kernel && !self.host.is_live()).then(|| Outcome::NotApplicable(format!("`{path}` describes a running kernel and is not read under --root")))
    }

    fn files(&self, paths: &[String], content: Option<&Content>) -> Outcome {
        let mut not_applicable = None;
        let mut last = Outcome::NotFound("no file given".to_string());
        for path in paths {
            let outcome = match self.kernel_path(path) {
                Some(outcome) => outcome,
                None => match content {
                    None => self.file_exists(path),
                    Some(content) => match self.host.metadata(path) {
                        Ok(metadata) if metadata.is_file() => self.file_content(path, &metadata, content),
                        Ok(_) => Outcome::NotApplicable(format!("`{path}` is not a regular file, so its content cannot be tested")),
                        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                            Outcome::NotApplicable(format!("`{path}` does not exist, so its content cannot be tested"))
                        }
                        Err(error) => Outcome::NotApplicable(format!("cannot read `{path}`: {error}")),
                    },
                },
            };
            match outcome {
                Outcome::Found(_) => return outcome,
                Outcome::NotApplicable(_) => not_applicable = not_applicable.or(Some(outcome)),
                Outcome::NotFound(_) => last = outcome,
            }
        }
        not_applicable.unwrap_or(last)
    }

    fn file_exists(&self, path: &str) -> Outcome {
        match self.host.metadata(path) {
            Ok(metadata) if metadata.is_file() => Outcome::Found(format!("`{path}` exists")),
            Ok(_) => Outcome::NotFound(format!("`{path}` is not a regular file")),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Outcome::NotFound(format!("`{path}` does not exist")),
            Err(error) => Outcome::NotApplicable(format!("cannot check `{path}`: {error}")),
        }
    }

    /// A file's content (and, with vigil's `mode:`, its permission bits) against a test.
    fn file_content(&self, path: &str, metadata: &std::fs::Metadata, content: &Content) -> Outcome {
        let mode = metadata.permissions().mode() & 0o7777;
        let mut line_terms = false;
        for minterm in &content.minterms {
            match minterm.test {
                Test::Mode(bits) => {
                    let holds = (mode & bits != 0) != minterm.negated;
                    if !holds {
                        return Outcome::NotFound(format!("`{path}` has mode {mode:04o}"));
                    }
                }
                _ => line_terms = true,
            }
        }
        if !line_terms {
            return Outcome::Found(format!("`{path}` has mode {mode:04o}"));
        }
        let text = match self.host.read(path) {
            Ok(text) => text,
            Err(error) => return Outcome::NotApplicable(format!("cannot read `{path}`: {error}")),
        };
        match test_lines(content, &text, Source::File) {
            Ok(LineVerdict::Holds(Some((number, line)))) => Outcome::Found(format!("`{path}` line {number}{}", quote(path, &line))),
            Ok(LineVerdict::Holds(None)) => Outcome::Found(format!("no line of `{path}` matches")),
            Ok(LineVerdict::Fails(Some((number, line)))) => Outcome::NotFound(format!("`{path}` line {number}{}", quote(path, &line))),
            Ok(LineVerdict::Fails(None)) => Outcome::NotFound(format!("no line of `{path}` matches")),
            Err(problem) => Outcome::NotApplicable(problem),
        }
    }

    fn dirs(&self, dirs: &[String], file: Option<&super::rule::FileSpec>, content: Option<&Content>) -> Outcome {
        let mut not_applicable = None;
        let mut last = Outcome::NotFound("no directory given".to_string());
        for dir in dirs {
            let outcome = match (self.kernel_path(dir), file) {
                (Some(outcome), _) => outcome,
                (None, None) => match self.host.metadata(dir) {
                    Ok(metadata) if metadata.is_dir() => Outcome::Found(format!("`{dir}` exists")),
                    Ok(_) => Outcome::NotFound(format!("`{dir}` is not a directory")),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => Outcome::NotFound(format!("`{dir}` does not exist")),
                    Err(error) => Outcome::NotApplicable(format!("cannot check `{dir}`: {error}")),
                },
                (None, Some(spec)) => self.dir_files(dir, spec, content),
            };
            match outcome {
                Outcome::Found(_) => return outcome,
                Outcome::NotApplicable(_) => not_applicable = not_applicable.or(Some(outcome)),
                Outcome::NotFound(_) => last = outcome,
            }
        }
        not_applicable.unwrap_or(last)
    }

    /// The files under a directory (recursively, links to directories not followed) whose name
    /// the spec matches: found when one exists (without a content test) or one passes the test.
    fn dir_files(&self, dir: &str, spec: &super::rule::FileSpec, content: Option<&Content>) -> Outcome {
        match self.host.metadata(dir) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => return Outcome::NotApplicable(format!("`{dir}` is not a directory")),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Outcome::NotApplicable(format!("`{dir}` does not exist")),
            Err(error) => return Outcome::NotApplicable(format!("cannot open `{dir}`: {error}")),
        }
        let mut stack = vec![(dir.trim_end_matches('/').to_string(), 0usize)];
        let mut seen = 0usize;
        let mut matched = 0usize;
        let mut not_applicable = None;
        while let Some((current, depth)) = stack.pop() {
            let entries = match self.host.read_dir(if current.is_empty() { "/" } else { &current }) {
                Ok(entries) => entries,
                Err(error) => return Outcome::NotApplicable(format!("cannot list `{current}`: {error}")),
            };
            for entry in entries {
                seen += 1;
                if seen > MAX_WALK_ENTRIES {
                    return Outcome::NotApplicable(format!("`{dir}` holds more than {MAX_WALK_ENTRIES} entries; not walked"));
                }
                let Ok(link_metadata) = self.host.symlink_metadata(&entry) else {
                    return Outcome::NotApplicable(format!("cannot check `{entry}`"));
                };
                if link_metadata.is_dir() {
                    if depth < MAX_WALK_DEPTH {
                        stack.push((entry, depth + 1));
                    }
                    continue;
                }
                let name = entry.rsplit('/').next().unwrap_or(&entry);
                match spec.matches(name) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(problem) => return Outcome::NotApplicable(problem),
                }
                matched += 1;
                let Some(content) = content else {
                    return Outcome::Found(format!("`{entry}` exists"));
                };
                let outcome = match self.host.metadata(&entry) {
                    Ok(metadata) if metadata.is_file() => self.file_content(&entry, &metadata, content),
                    Ok(_) => continue,
                    Err(error) => Outcome::NotApplicable(format!("cannot read `{entry}`: {error}")),
                };
                match outcome {
                    Outcome::Found(_) => return outcome,
                    Outcome::NotApplicable(_) => not_applicable = not_applicable.or(Some(outcome)),
                    Outcome::NotFound(_) => {}
                }
            }
        }
        if let Some(outcome) = not_applicable {
            return outcome;
        }
        if matched == 0 {
            Outcome::NotFound(format!("no file under `{dir}` matches"))
        } else {
            Outcome::NotFound(format!("none of the {matched} matching files under `{dir}` passes the test"))
        }
    }

    fn command(&self, command: &str, content: Option<&Content>) -> Outcome {
        if !self.host.is_live() {
            return Outcome::NotApplicable(format!("command rules are not run under --root (`{command}` would describe this machine, not the image)"));
        }
        let output = match exec::run(command, self.options.command_timeout) {
            Ok(output) => output,
            Err(CommandFailure::NotFound(program)) => return Outcome::NotApplicable(format!("`{program}` is not installed")),
            Err(CommandFailure::TimedOut(limit)) => return Outcome::NotApplicable(format!("`{command}` ran longer than {} s", limit.as_secs())),
            Err(CommandFailure::Other(problem)) => return Outcome::NotApplicable(problem),
        };
        let Some(content) = content else {
            return Outcome::Found(format!("`{command}` ran"));
        };
        let trim = |bytes: &[u8]| -> Vec<u8> {
            let end = bytes.iter().rposition(|&byte| byte != b'\n').map_or(0, |position| position + 1);
            bytes[..end].to_vec()
        };
        let (stdout, stderr) = (trim(&output.stdout), trim(&output.stderr));
        if content.is_whole_literal() {
            let literal = content.raw.as_bytes();
            return if stdout == literal || stderr == literal {
                Outcome::Found(format!("the output of `{command}` is `{}`", content.raw))
            } else {
                Outcome::NotFound(format!("the output of `{command}` is not `{}`", content.raw))
            };
        }
        let mut first_failure = None;
        for stream in [&stdout, &stderr] {
            match test_lines(content, stream, Source::Command) {
                Ok(LineVerdict::Holds(line)) => {
                    let detail = match line {
                        Some((number, line)) => format!("`{command}` output line {number}{}", quote("", &line)),
                        None => format!("no line of `{command}`'s output matches"),
                    };
                    return Outcome::Found(detail);
                }
                Ok(LineVerdict::Fails(line)) => {
                    if first_failure.is_none() {
                        first_failure = Some(match line {
                            Some((number, line)) => format!("`{command}` output line {number}{}", quote("", &line)),
                            None => format!("no line of `{command}`'s output matches"),
                        });
                    }
                }
                Err(problem) => return Outcome::NotApplicable(problem),
            }
        }
        Outcome::NotFound(first_failure.unwrap_or_default())
    }

    fn process(&self, name: &str) -> Outcome {
        if !self.host.is_live() {
            return Outcome::NotApplicable(format!("process rules need the running system; `{name}` is not looked for under --root"));
        }
        match self.processes.get_or_init(running_processes) {
            Ok(processes) if processes.iter().any(|process| process == name) => Outcome::Found(format!("process `{name}` is running")),
            Ok(_) => Outcome::NotFound(format!("no process `{name}` is running")),
            Err(problem) => Outcome::NotApplicable(problem.clone()),
        }
    }
}

/// Names of running processes: each one's `comm` and the base name of its `argv[0]`.
fn running_processes() -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir("/proc").map_err(|error| format!("cannot list processes in /proc: {error}"))?;
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        if !file_name.to_string_lossy().bytes().all(|byte| byte.is_ascii_digit()) {
            continue;
        }
        if let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) {
            names.push(comm.trim_end().to_string());
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && let Some(argv0) = cmdline.split(|&byte| byte == 0).next().filter(|argv0| !argv0.is_empty())
        {
            let argv0 = String::from_utf8_lossy(argv0);
            names.push(argv0.rsplit('/').next().unwrap_or(&argv0).to_string());
        }
    }
    Ok(names)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    File,
    Command,
}

/// Whether a text passes a content test, with the line that decided it.
#[derive(Debug, PartialEq, Eq)]
enum LineVerdict {
    Holds(Option<(usize, String)>),
    Fails(Option<(usize, String)>),
}

/// Wazuh's line semantics: one line must satisfy every minterm. Wazuh 5.x reads a test that is
/// one negated minterm as "no line matches", 4.x as "some line does not match".
fn test_lines(content: &Content, text: &[u8], source: Source) -> Result<LineVerdict, String> {
    if text.is_empty() {
        return Ok(LineVerdict::Fails(None));
    }
    let lines = text.split(|&byte| byte == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let line_terms: Vec<_> = content.minterms.iter().filter(|minterm| !matches!(minterm.test, Test::Mode(_))).collect();
    if content.is_whole_literal() && source == Source::File {
        let literal = content.raw.as_bytes();
        for (index, line) in lines.enumerate() {
            if line == literal {
                return Ok(LineVerdict::Holds(Some((index + 1, String::from_utf8_lossy(line).into_owned()))));
            }
        }
        return Ok(LineVerdict::Fails(None));
    }
    if content.generation == Generation::Wazuh5 && line_terms.len() == 1 && line_terms[0].negated {
        for (index, line) in lines.enumerate() {
            if minterm_matches(&line_terms[0].test, line, content.generation)? {
                return Ok(LineVerdict::Fails(Some((index + 1, String::from_utf8_lossy(line).into_owned()))));
            }
        }
        return Ok(LineVerdict::Holds(None));
    }
    for (index, line) in lines.enumerate() {
        let mut all = true;
        for minterm in &line_terms {
            if minterm_matches(&minterm.test, line, content.generation)? == minterm.negated {
                all = false;
                break;
            }
        }
        if all {
            return Ok(LineVerdict::Holds(Some((index + 1, String::from_utf8_lossy(line).into_owned()))));
        }
    }
    Ok(LineVerdict::Fails(None))
}

fn minterm_matches(test: &Test, line: &[u8], generation: Generation) -> Result<bool, String> {
    match test {
        Test::Regex(pattern) => pattern.is_match(line),
        Test::Numeric { pattern, op, value } => match pattern.capture(line)? {
            None => Ok(false),
            Some(captured) => {
                let captured = String::from_utf8_lossy(captured);
                let actual = parse_leading_integer(&captured).ok_or_else(|| format!("`{}` captured `{captured}`, which is not a number", pattern.source))?;
                Ok(op.holds(actual, *value))
            }
        },
        Test::Literal(literal) => Ok(match generation {
            Generation::Wazuh4 => line.eq_ignore_ascii_case(literal.as_bytes()),
            Generation::Wazuh5 => line == literal.as_bytes(),
        }),
        Test::Mode(_) => Ok(true),
    }
}

/// A line quoted in a reason, except from files that hold password hashes.
fn quote(path: &str, line: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    if matches!(name, "shadow" | "shadow-" | "gshadow" | "gshadow-" | "opasswd") {
        return String::new();
    }
    let line = line.trim();
    let cut: String = line.chars().take(MAX_QUOTE).collect();
    let ellipsis = if cut.len() < line.len() { "..." } else { "" };
    format!(": `{cut}{ellipsis}`")
}
