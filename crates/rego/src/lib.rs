//! Custom checks written in Rego, evaluated with `regorus` over the inventory's JSON, producing
//! findings in the same model as the catalog's checks. Pure: policy text and inventory in,
//! findings out.
//!
//! Contract (see docs/posture.md): each check is a package `vigil.checks.<id>` with
//! - `metadata`: an object with `title` (required), `severity`, `service`, `resource_type`,
//!   `description`, `remediation`;
//! - `findings`: a set of objects `{"resource": ARN, "status": "PASS"|"FAIL", "message": text,
//!   "evidence": any}`, and/or `deny`: a set of objects `{"resource": ARN, "message": text}`
//!   (each one a FAIL).
//!
//! `input` is the inventory snapshot's JSON (AWS field names, `input.Ledger.calls` included)
//! plus `input.resources`: every resource as `{arn, type, region, id, tags, data}`.

use std::path::Path;

use regorus::{Engine, Value};
use serde_json::json;
use vigil_checks::finding::{Finding, Severity, Status};
use vigil_model::Inventory;

/// Rego policies that could not be loaded or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum RegoError {
    #[error("cannot read `{path}`: {message}")]
    Read { path: String, message: String },
    #[error("no `.rego` file in `{0}`")]
    Empty(String),
    #[error("{0}")]
    Policy(String),
    #[error("check `{check}`: {message}")]
    Contract { check: String, message: String },
}

/// A set of loaded Rego policies.
pub struct RegoChecks {
    engine: Engine,
    sources: Vec<String>,
}

impl RegoChecks {
    /// An empty set; add policies with [`RegoChecks::add`].
    pub fn new() -> RegoChecks {
        RegoChecks { engine: Engine::new(), sources: Vec::new() }
    }

    /// Adds one policy's text; `path` names it in errors.
    pub fn add(&mut self, path: &str, text: &str) -> Result<(), RegoError> {
        self.engine.add_policy(path.to_string(), text.to_string()).map_err(|error| RegoError::Policy(error.to_string()))?;
        self.sources.push(path.to_string());
        Ok(())
    }

    /// Loads a `.rego` file, or every `.rego` file of a directory (sorted, recursively).
    pub fn load(path: &Path) -> Result<RegoChecks, RegoError> {
        let mut checks = RegoChecks::new();
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        if files.is_empty() {
            return Err(RegoError::Empty(path.display().to_string()));
        }
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|error| RegoError::Read { path: file.display().to_string(), message: error.to_string() })?;
            checks.add(&file.display().to_string(), &text)?;
        }
        Ok(checks)
    }

    /// The policy files loaded.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Evaluates every `vigil.checks.*` package over the inventory.
    pub fn run(&mut self, inventory: &Inventory) -> Result<Vec<Finding>, RegoError> {
        self.evaluate(inventory).map(|run| run.findings)
    }

    /// Evaluates every `vigil.checks.*` package over the inventory: the ids of the checks that
    /// ran (a check that found nothing ran too, so the store may resolve its old findings) and
    /// their findings.
    pub fn evaluate(&mut self, inventory: &Inventory) -> Result<RegoRun, RegoError> {
        let resources = inventory.resources();
        let mut input = serde_json::to_value(inventory).map_err(|error| RegoError::Policy(format!("cannot serialize the inventory: {error}")))?;
        let flat: Vec<serde_json::Value> = resources
            .iter()
            .map(|resource| json!({ "arn": resource.arn, "type": resource.resource_type, "region": resource.region, "id": resource.id, "tags": resource.tags, "data": resource.data.to_json() }))
            .collect();
        if let Some(object) = input.as_object_mut() {
            object.insert("resources".into(), serde_json::Value::Array(flat));
            object.insert("account_id".into(), json!(inventory.account_id().as_str()));
        }
        let input = Value::from_json_str(&input.to_string()).map_err(|error| RegoError::Policy(error.to_string()))?;
        self.engine.set_input(input);
        let results = self.engine.eval_query("data.vigil.checks".to_string(), false).map_err(|error| RegoError::Policy(error.to_string()))?;
        let mut run = RegoRun::default();
        let Some(value) = results.result.first().and_then(|result| result.expressions.first()).map(|expression| &expression.value) else {
            return Ok(run);
        };
        let checks = serde_json::to_value(value).map_err(|error| RegoError::Policy(error.to_string()))?;
        let Some(checks) = checks.as_object() else { return Ok(run) };
        for (check_id, check) in checks {
            run.findings.extend(check_findings(inventory, &resources, check_id, check)?);
            run.check_ids.push(check_id.clone());
        }
        Ok(run)
    }
}

/// What evaluating the Rego checks gave.
#[derive(Debug, Default)]
pub struct RegoRun {
    /// Every check (package) evaluated, with or without findings.
    pub check_ids: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Default for RegoChecks {
    fn default() -> RegoChecks {
        RegoChecks::new()
    }
}

fn collect_files(path: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<(), RegoError> {
    let read_error = |error: std::io::Error| RegoError::Read { path: path.display().to_string(), message: error.to_string() };
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(read_error)? {
            let entry = entry.map_err(read_error)?;
            collect_files(&entry.path(), files)?;
        }
    } else if path.extension().is_some_and(|extension| extension == "rego") {
        files.push(path.to_path_buf());
    } else if !path.exists() {
        return Err(read_error(std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    Ok(())
}

fn text<'v>(value: &'v serde_json::Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(serde_json::Value::as_str)
}

/// A rule's set comes back as an array (sets serialize as arrays).
fn items(value: Option<&serde_json::Value>) -> Vec<&serde_json::Value> {
    match value {
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(serde_json::Value::Object(map)) => map.values().collect(),
        _ => Vec::new(),
    }
}

fn check_findings(
    inventory: &Inventory,
    resources: &[vigil_model::ResourceRef<'_>],
    check_id: &str,
    check: &serde_json::Value,
) -> Result<Vec<Finding>, RegoError> {
    let contract = |message: &str| RegoError::Contract { check: check_id.to_string(), message: message.to_string() };
    if !check_id.chars().all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_') {
        return Err(contract("the package name must be snake_case (`vigil.checks.my_check`)"));
    }
    if vigil_checks::find(check_id).is_some() {
        return Err(contract("the id is already a check of the catalog: pick another"));
    }
    let metadata = check.get("metadata").ok_or_else(|| contract("no `metadata` object"))?;
    let title = text(metadata, "title").ok_or_else(|| contract("`metadata.title` is missing"))?;
    let severity = match text(metadata, "severity") {
        None => Severity::Medium,
        Some(severity) => Severity::parse(severity).ok_or_else(|| contract(&format!("`{severity}` is not a severity")))?,
    };
    let service = text(metadata, "service").unwrap_or("custom");
    let mut findings = Vec::new();
    let mut emit = |item: &serde_json::Value, status: Status| -> Result<(), RegoError> {
        let arn = text(item, "resource").ok_or_else(|| contract("a finding has no `resource` (the resource ARN)"))?;
        let resource = resources.iter().find(|resource| resource.arn == arn);
        findings.push(Finding {
            check_id: check_id.to_string().into(),
            check_title: title.to_string().into(),
            service: service.to_string().into(),
            severity,
            status,
            account_id: inventory.account_id().to_string().into(),
            region: resource
                .map(|resource| resource.region.to_string())
                .or_else(|| text(item, "region").map(str::to_string))
                .unwrap_or_else(|| "global".to_string())
                .into(),
            resource_arn: arn.to_string().into(),
            resource_type: resource
                .map(|resource| resource.resource_type.to_string())
                .or_else(|| text(metadata, "resource_type").map(str::to_string))
                .unwrap_or_else(|| "AWS::::Resource".to_string())
                .into(),
            resource_id: resource.map(|resource| resource.id.to_string()).unwrap_or_else(|| arn.rsplit([':', '/']).next().unwrap_or(arn).to_string()).into(),
            resource_tags: resource.and_then(|resource| resource.tags.cloned()).unwrap_or_default().into(),
            message: text(item, "message").unwrap_or(title).to_string().into(),
            evidence: item.get("evidence").cloned().unwrap_or(serde_json::Value::Null).into(),
            mute_reason: None,
        });
        Ok(())
    };
    for item in items(check.get("findings")) {
        let status = match text(item, "status").unwrap_or("FAIL").to_ascii_uppercase().as_str() {
            "PASS" => Status::Pass,
            "FAIL" => Status::Fail,
            "ERROR" => Status::Error,
            other => return Err(contract(&format!("status `{other}` is not PASS, FAIL or ERROR"))),
        };
        emit(item, status)?;
    }
    for item in items(check.get("deny")) {
        emit(item, Status::Fail)?;
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Inventory {
        let text = include_str!("../../../docs/examples/rego/inventory.json");
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_documented_example_turns_rego_results_into_findings() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/rego");
        let mut checks = RegoChecks::load(Path::new(example)).unwrap();
        let mut findings = checks.run(&inventory()).unwrap();
        findings.sort_by(|a, b| (&a.check_id, &a.resource_id).cmp(&(&b.check_id, &b.resource_id)));
        let summary: Vec<(&str, &str, Status)> =
            findings.iter().map(|finding| (finding.check_id.as_str(), finding.resource_id.as_str(), finding.status)).collect();
        assert_eq!(
            summary,
            vec![
                ("custom_bucket_has_owner_tag", "logs", Status::Fail),
                ("custom_bucket_has_owner_tag", "site", Status::Pass),
                ("custom_no_user_named_admin", "admin", Status::Fail),
            ]
        );
        let logs = &findings[0];
        assert_eq!(logs.severity, Severity::Low);
        assert_eq!(logs.resource_arn, "arn:aws:s3:::logs");
        assert_eq!(logs.resource_type, "AWS::S3::Bucket");
        assert!(logs.message.contains("no `owner` tag"), "{}", logs.message);
    }

    #[test]
    fn contract_violations_and_syntax_errors_are_clear() {
        let cases = [
            ("package vigil.checks.x\nfindings contains {\"resource\": \"a\"} if { true }\n", "no `metadata` object"),
            ("package vigil.checks.iam_root_mfa_enabled\nmetadata := {\"title\": \"t\"}\n", "already a check of the catalog"),
            ("package vigil.checks.y\nmetadata := {\"title\": \"t\"}\ndeny contains {\"message\": \"m\"} if { true }\n", "no `resource`"),
            ("package vigil.checks.z\nmetadata := {\"title\": \"t\", \"severity\": \"huge\"}\n", "`huge` is not a severity"),
            ("package vigil.checks.w\nmetadata := {\n", "w.rego"),
        ];
        for (policy, expected) in cases {
            let mut checks = RegoChecks::new();
            let result = checks.add("w.rego", policy).and_then(|()| checks.run(&inventory()).map(|_| ()));
            let error = result.unwrap_err().to_string();
            assert!(error.contains(expected), "{policy}: {error}");
        }
    }
}
