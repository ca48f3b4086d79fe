#!/usr/bin/env bash
# Runs vigil's whole test suite. Installs what the tests need first:
# moto (the AWS emulator) into .venv, pinned in scripts/requirements-test.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/moto_server ] || ! cmp -s scripts/requirements-test.txt .venv/.requirements-test.txt; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
    cp scripts/requirements-test.txt .venv/.requirements-test.txt
fi
export VIGIL_MOTO_SERVER="$PWD/.venv/bin/moto_server"

cargo test --workspace --locked "$@"
