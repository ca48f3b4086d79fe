#!/usr/bin/env python3
"""Checks the deployments in deploy/ and prints the vigil processes they would start.

Run by crates/cli/tests/e2e/deploy.rs, which then starts those processes against moto and a
PostgreSQL store, so the command lines in the manifests, the chart and the Terraform are the
ones tested.

- The Helm chart: `helm lint --strict`, then `helm template` over every combination of its
  modes (shards or workers, a CronJob or one Job, the console on or off) and a bad value that
  its values.schema.json must refuse.
- Every Kubernetes object (rendered, and the plain manifests of deploy/kubernetes) validated
  against the Kubernetes API's OpenAPI schema (kubernetes-validate, strict: unknown fields are
  errors).
- The Terraform files parsed (python-hcl2); the array job's script templates rendered the way
  Terraform's templatefile() does, with exactly the variables main.tf passes.
- `--processes FILE`: writes, per deployment, the processes of one run with SHARDS children
  (argv and environment), with `$(VAR)` expanded as the kubelet does and the Batch scripts run
  by `sh -c` with AWS Batch's variables.

Exit status 1 with every problem listed when a check fails.
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys

import hcl2
import kubernetes_validate
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "vigil"
KUBERNETES_VERSION = "1.33"

problems = []


def problem(text):
    problems.append(text)


def helm(helm_bin, *args):
    result = subprocess.run([helm_bin, *args], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def validate_objects(documents, origin):
    objects = [document for document in documents if document]
    for document in objects:
        name = f"{origin}: {document.get('kind')}/{document.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problem(f"{name}: {error.message} at {'/'.join(str(part) for part in error.path)}")
        except Exception as error:  # noqa: BLE001 - any failure of the validator is a problem
            problem(f"{name}: cannot validate: {error}")
    return objects


def render(helm_bin, sets):
    args = ["template", "vigil", str(CHART)]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    code, out, err = helm(helm_bin, *args)
    if code != 0:
        problem(f"helm template {' '.join(args[3:])}: {err.strip()}")
        return []
    return validate_objects(list(yaml.safe_load_all(out)), f"helm template {sets}")


def job_spec(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]
    return obj["spec"]


def expand(text, env):
    """`$(VAR)` as the kubelet expands it in command and args (`$$` escapes a `$`)."""

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", replace, text)


def kubernetes_processes(job, shards, run, store):
    """The processes of one run of `job` (a Job or CronJob object)."""
    spec = job_spec(job)
    container = spec["template"]["spec"]["containers"][0]
    indexed = spec.get("completionMode") == "Indexed"
    count = spec["completions"] if indexed else spec["parallelism"]
    if count != shards:
        problem(f"{job['kind']}/{job['metadata']['name']}: {count} pods where the test asked for {shards}")
    processes = []
    for index in range(count):
        env = {}
        for variable in container.get("env", []):
            source = variable.get("valueFrom")
            if source is None:
                env[variable["name"]] = expand(variable.get("value", ""), env)
            elif "fieldRef" in source:
                path = source["fieldRef"]["fieldPath"]
                if path == "metadata.labels['batch.kubernetes.io/job-name']":
                    env[variable["name"]] = run
                elif path == "metadata.annotations['batch.kubernetes.io/job-completion-index']":
                    env[variable["name"]] = str(index)
                else:
                    problem(f"unexpected fieldRef {path}")
            elif "secretKeyRef" in source:
                env[variable["name"]] = store
        if indexed:
            # Set by the Job controller whether or not the manifest names it.
            env.setdefault("JOB_COMPLETION_INDEX", str(index))
        argv = [expand(part, env) for part in container.get("command", []) + container.get("args", [])]
        leftover = [part for part in argv if re.search(r"\$\(", part)]
        if leftover:
            problem(f"{job['metadata']['name']}: unexpanded {leftover}")
        processes.append({"argv": argv, "env": env})
    return processes


def terraform(shards, run, store, org_role, regions, extra_args):
    """Parses the Terraform and renders both array-job scripts as templatefile() does."""
    files = {}
    for path in sorted((DEPLOY / "aws-batch").glob("*.tf")):
        try:
            with path.open() as handle:
                files[path.name] = hcl2.load(handle)
        except Exception as error:  # noqa: BLE001 - a parse error names the file
            problem(f"{path.relative_to(ROOT)}: does not parse: {error}")
    main = (DEPLOY / "aws-batch" / "main.tf").read_text()
    passed = set(re.findall(r"^\s+([a-z_]+)\s+=", main[main.index("templatefile(") : main.index("})", main.index("templatefile("))], re.M))
    variables = set()
    for block in files.get("variables.tf", {}).get("variable", []):
        # python-hcl2 8 keeps the quotes of block labels.
        variables.update(key.strip('"') for key in block.keys())
    for needed in ["image", "org_role", "store_secret_arn", "array_size", "mode", "regions"]:
        if needed not in variables:
            problem(f"deploy/aws-batch/variables.tf: no variable `{needed}`")
    values = {
        "shards": str(shards),
        "lease_seconds": "5",
        "account_max_in_flight": "16",
        # The test's extra arguments ride with the regions, the one list variable of the script.
        "region_args": " ".join([f"--region {region}" for region in regions] + extra_args),
    }
    deployments = {}
    for mode in ["shard", "worker"]:
        path = DEPLOY / "aws-batch" / f"{mode}.sh.tftpl"
        template = path.read_text()
        if "%{" in template:
            problem(f"{path.name}: template directives are not rendered by this check")
        used = set(re.findall(r"(?<!\$)\$\{([a-z_]+)\}", template))
        if not used <= passed:
            problem(f"{path.name} uses {sorted(used - passed)}, which main.tf's templatefile() does not pass")
        script = re.sub(r"(?<!\$)\$\{([a-z_]+)\}", lambda match: values[match.group(1)], template).replace("$${", "${")
        processes = []
        for index in range(shards):
            env = {
                "AWS_BATCH_JOB_ID": f"{run}:{index}",
                "AWS_BATCH_JOB_ARRAY_INDEX": str(index),
                "VIGIL_ORG_ROLE": org_role,
                "VIGIL_STORE": store,
                "VIGIL_DATA_DIR": "/tmp/vigil",
            }
            processes.append({"argv": ["sh", "-c", script], "env": env})
        deployments[f"aws-batch-{mode}s"] = processes
    if 'command          = ["sh", "-c", local.vigil_script]' not in main:
        problem("deploy/aws-batch/main.tf: the job definition does not run local.vigil_script with sh -c")
    return deployments


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--helm", required=True)
    parser.add_argument("--processes", help="write the processes of one run of each deployment here (JSON)")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--run", default="vigil-scan-test")
    parser.add_argument("--store", default="postgres://vigil@127.0.0.1/vigil")
    parser.add_argument("--org-role", default="OrganizationAccountAccessRole")
    parser.add_argument("--region", action="append", default=[])
    parser.add_argument("--extra-arg", action="append", default=[], help="an argument added to every vigil command (the chart's scan.extraArgs)")
    args = parser.parse_args()

    code, out, err = helm(args.helm, "lint", "--strict", str(CHART))
    if code != 0:
        problem(f"helm lint --strict: {out.strip()} {err.strip()}")
    code, _, err = helm(args.helm, "template", "vigil", str(CHART), "--set", "scan.mode=sideways")
    if code == 0 or "scan/mode" not in err:
        problem("values.schema.json does not refuse scan.mode=sideways")

    regions = "{" + ",".join(args.region) + "}"
    deployments = {}
    for mode in ["shards", "workers"]:
        for schedule in ["0 3 * * *", ""]:
            for console in ["true", "false"]:
                sets = {
                    "scan.mode": mode,
                    "scan.schedule": schedule,
                    "console.enabled": console,
                    "scan.shards": str(args.shards),
                    "scan.workers": str(args.shards),
                    "scan.leaseSeconds": "10",
                    "scan.orgRole": args.org_role,
                }
                if args.region:
                    sets["scan.regions"] = regions
                if args.extra_arg:
                    sets["scan.extraArgs"] = "{" + ",".join(args.extra_arg) + "}"
                objects = render(args.helm, sets)
                kinds = sorted(obj["kind"] for obj in objects)
                expected = sorted(["ServiceAccount", "CronJob" if schedule else "Job"] + (["Deployment", "Service"] if console == "true" else []))
                if kinds != expected:
                    problem(f"helm template {sets}: objects {kinds}, expected {expected}")
                jobs = [obj for obj in objects if obj["kind"] in ("Job", "CronJob")]
                if jobs and schedule and console == "false":
                    deployments[f"helm-{mode}"] = kubernetes_processes(jobs[0], args.shards, args.run, args.store)

    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        with path.open() as handle:
            objects = validate_objects(list(yaml.safe_load_all(handle)), str(path.relative_to(ROOT)))
        for obj in objects:
            if obj["kind"] in ("Job", "CronJob"):
                spec = job_spec(obj)
                # The plain manifests are written for 8 shards or 4 workers; scale them for the test.
                if spec.get("completionMode") == "Indexed":
                    spec["completions"] = spec["parallelism"] = args.shards
                    args_list = spec["template"]["spec"]["containers"][0]["args"]
                    args_list[:] = [re.sub(r"^\$\(JOB_COMPLETION_INDEX\)/\d+$", f"$(JOB_COMPLETION_INDEX)/{args.shards}", part) for part in args_list]
                else:
                    spec["parallelism"] = args.shards
                container = spec["template"]["spec"]["containers"][0]
                for variable in container.get("env", []):
                    if variable["name"] == "VIGIL_ORG_ROLE":
                        variable["value"] = args.org_role
                for region in args.region:
                    container["args"] += ["--region", region]
                container["args"] += args.extra_arg
                if "--lease-seconds" in container["args"]:
                    container["args"][container["args"].index("--lease-seconds") + 1] = "10"
                deployments[f"kubernetes-{path.stem}"] = kubernetes_processes(obj, args.shards, args.run, args.store)

    deployments.update(terraform(args.shards, args.run, args.store, args.org_role, args.region, args.extra_arg))

    if args.processes:
        pathlib.Path(args.processes).write_text(json.dumps(deployments, indent=2))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"deploy/: chart, {len(deployments)} deployments and Terraform checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
