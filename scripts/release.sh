#!/usr/bin/env bash
# Builds the vigil to ship: dist/vigil (no debug information) and dist/vigil.debug (its line
# tables), so the installed binary is small and a panic backtrace still names files and lines.
#   bash scripts/release.sh [OUTDIR]       (default: dist)
# Install both side by side, e.g. `install -m755 dist/vigil /usr/local/bin/ && install -m644
# dist/vigil.debug /usr/local/bin/`; BENCHMARKS.md ("Release binary") has the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --locked --profile dist -p vigil
bash scripts/split-debuginfo.sh "$target/dist/vigil" "$out"
ls -l "$out/vigil" "$out/vigil.debug"
