//! Issue 21: the deployments in deploy/ (Kubernetes Indexed Job and CronJob of workers, the Helm
//! chart in both modes, AWS Batch array jobs in both modes). `scripts/check_deploy.py` lints,
//! validates and renders them and writes out the processes each would start; this test starts
//! exactly those processes against an organization in moto and one store per deployment, and
//! checks that every deployment's run ends with the findings of a single-process scan.
//!
//! Helm, kubernetes-validate and python-hcl2 come from `.venv` (scripts/test.sh installs them);
//! where they are missing the test says so and passes, except under
//! `VIGIL_REQUIRE_DEPLOY_TOOLS=1` (set by scripts/test.sh once it installed them).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use vigil_testkit::MotoServer;

use crate::common::run;
use crate::org_work::{ROLE, findings_and_scans, seed_organization, store};

/// Two processes per deployment (shards or workers), three accounts.
const PROCESSES: usize = 2;
const ACCOUNTS: usize = 3;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Helm and the venv's Python, or why they are missing.
fn tools() -> Result<(PathBuf, PathBuf), String> {
    let venv = workspace().join(".venv/bin");
    let (helm, python) = (venv.join("helm"), venv.join("python"));
    if !helm.exists() || !python.exists() {
        return Err(format!("{} or {} is missing (bash scripts/install-helm.sh after the venv)", helm.display(), python.display()));
    }
    let probe = Command::new(&python).args(["-c", "import kubernetes_validate, hcl2, yaml"]).output().map_err(|error| error.to_string())?;
    if !probe.status.success() {
        return Err(format!("the venv lacks kubernetes-validate or python-hcl2: {}", String::from_utf8_lossy(&probe.stderr)));
    }
    Ok((helm, python))
}

#[test]
fn every_deployment_in_deploy_runs_an_organization_scan_equal_to_one_process() {
    let (helm, python) = match tools() {
        Ok(tools) => tools,
        Err(reason) if std::env::var("VIGIL_REQUIRE_DEPLOY_TOOLS").as_deref() == Ok("1") => panic!("{reason}, and VIGIL_REQUIRE_DEPLOY_TOOLS=1"),
        Err(reason) => {
            eprintln!("skipped: {reason}");
            return;
        }
    };
    let directory = tempfile::tempdir().unwrap();
    let processes_file = directory.path().join("processes.json");
    let output = Command::new(&python)
        .arg(workspace().join("scripts/check_deploy.py"))
        .arg("--helm")
        .arg(&helm)
        .arg("--processes")
        .arg(&processes_file)
        .args(["--shards", &PROCESSES.to_string(), "--org-role", ROLE, "--region", "us-east-1", "--extra-arg=--service", "--extra-arg=s3"])
        .output()
        .unwrap();
    assert!(output.status.success(), "scripts/check_deploy.py: {}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let deployments: Value = serde_json::from_slice(&std::fs::read(&processes_file).unwrap()).unwrap();
    let deployments = deployments.as_object().unwrap();
    let names: BTreeSet<&str> = deployments.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from(["helm-shards", "helm-workers", "kubernetes-indexed-job", "kubernetes-cronjob-workers", "aws-batch-shards", "aws-batch-workers"])
    );

    let moto = MotoServer::start();
    seed_organization(&moto, ACCOUNTS);
    let vigil = PathBuf::from(env!("CARGO_BIN_EXE_vigil"));
    let moto_env = |command: &mut Command| {
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        command.env("VIGIL_ENDPOINT_URL", &moto.endpoint_url);
    };

    // The reference: one process.
    let reference_store = directory.path().join("reference.db").to_string_lossy().into_owned();
    let mut reference = Command::new(&vigil);
    moto_env(&mut reference);
    let (code, _, stderr) = run(reference.args(["-q", "scan", "--org-role", ROLE, "--region", "us-east-1", "--service", "s3", "--store", &reference_store]));
    assert_eq!(code, 0, "{stderr}");
    let (reference, reference_scans) = findings_and_scans(&reference_store);
    assert_eq!(reference_scans.iter().flatten().count(), ACCOUNTS);

    // Each deployment's processes, started together, into a store of its own.
    let path = format!("{}:{}", vigil.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    for (name, processes) in deployments {
        let location = store(directory.path(), &name.replace('-', "_"));
        let data = directory.path().join(name);
        let children: Vec<Child> = processes
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(index, process)| {
                let argv: Vec<&str> = process["argv"].as_array().unwrap().iter().map(|part| part.as_str().unwrap()).collect();
                let program = if argv[0] == "vigil" { vigil.clone() } else { PathBuf::from(argv[0]) };
                let mut command = Command::new(program);
                command.args(&argv[1..]).env("PATH", &path);
                moto_env(&mut command);
                for (key, value) in process["env"].as_object().unwrap() {
                    command.env(key, value.as_str().unwrap());
                }
                command.env("VIGIL_STORE", &location).env("VIGIL_DATA_DIR", data.join(index.to_string()));
                command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
            })
            .collect();
        for (index, child) in children.into_iter().enumerate() {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success(), "{name} process {index}: {}", String::from_utf8_lossy(&output.stderr));
        }
        let (findings, scans) = findings_and_scans(&location);
        assert_eq!(scans.iter().flatten().count(), ACCOUNTS, "{name}: one scan per account");
        assert_eq!(findings, reference, "{name}: the findings differ from one process's");
    }
}
