#!/usr/bin/env bash
# Side-by-side benchmark of the CloudTrail Sigma engine: vigil's hunt path (the hunt_bench
# harness: the same library calls as `vigil trail hunt`: file walk, splitter, parse, indexed rule
# set, alerts) against rsigma (crates.io), with the 57 SigmaHQ CloudTrail rules over the same
# generated events, plain and gzip. Each row is one process run timed by /usr/bin/time; events/s
# and MB/s are given per wall-clock second and per CPU second (user+system, the per-core figure,
# which the other jobs on a shared machine do not inflate). MB are the events' uncompressed JSON
# Lines bytes for every row, so rows compare like for like.
#
# vigil reads CloudTrail delivery files (1,000 records each, the AWSLogs/ layout) and, for the
# like-for-like rows, the very JSON Lines file rsigma reads. rsigma reads NDJSON only, so the
# events are written once as JSON Lines (and gzip of it) by the generator, outside the timing;
# for gzip input rsigma reads `gzip -dc` through a pipe and the decompressor's CPU time counts.
#
# Usage: bash bench/trail/run.sh [RECORDS]      (default 300000, about 380 MB of JSON)
# Environment: DATA (default ../shared/data), WORK (default /tmp/vigil-trail-bench),
#   RSIGMA (default /work/bench-tools/bin/rsigma; install with `cargo install rsigma --version 0.23.0
#   --locked --no-default-features --features rsigma-runtime --root /work/bench-tools`: 0.23.0 is
#   the newest release that builds with rustc 1.95), CARGO_TARGET_DIR (where to build the examples),
#   BASELINE (optional: the hunt_bench binary of another build, e.g. the commit before a change,
#   whose 1-thread rows are measured in the same run and compared with this build's).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${DATA:-$ROOT/../shared/data}
WORK=${WORK:-/tmp/vigil-trail-bench}
RECORDS=${1:-300000}
RSIGMA=${RSIGMA:-/work/bench-tools/bin/rsigma}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

cargo build --release -p vigil-trail --examples --manifest-path "$ROOT/Cargo.toml" >&2
BIN=$TARGET/release/examples
mkdir -p "$WORK"
if [ ! -f "$WORK/events.jsonl.gz" ] || [ "$(wc -l < "$WORK/events.jsonl")" -ne "$RECORDS" ]; then
  rm -rf "$WORK/plain" "$WORK/gz"
  "$BIN/gen_cloudtrail" "$DATA" "$WORK/plain" "$RECORDS" --jsonl "$WORK/events.jsonl"
  "$BIN/gen_cloudtrail" "$DATA" "$WORK/gz" "$RECORDS" --gzip
  gzip -1 -c "$WORK/events.jsonl" > "$WORK/events.jsonl.gz"
fi
BYTES=$(stat -c %s "$WORK/events.jsonl")
RULES=$(find "$DATA/sigma" -name '*.yml' | wc -l)
echo "events: $RECORDS ($((BYTES / 1000000)) MB of JSON Lines; delivery files $(du -sh "$WORK/plain" | cut -f1) plain, $(du -sh "$WORK/gz" | cut -f1) gzip); rules: $RULES SigmaHQ CloudTrail rules"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-52s %9s %9s %11s %9s %11s %9s %8s\n' engine/input alerts wall-s events/s MB/s cpu-events/s cpu-MB/s RSS-MB

# measure NAME COMMAND...: runs COMMAND once under /usr/bin/time, prints a row.
declare -A CPU_RATE
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { echo "$name failed:"; tail -5 "$WORK/err"; return 1; }
  read -r wall user system rss < "$WORK/time"
  local alerts
  if grep -q '^rules ' "$WORK/out"; then alerts=$(sed -n 's/.* alerts \([0-9]*\) .*/\1/p' "$WORK/out"); else alerts=$(grep -c '"rule_title"' "$WORK/out" || true); fi
  local cpu; cpu=$(echo "$user + $system" | bc -l)
  CPU_RATE[$name]=$(echo "$RECORDS / $cpu" | bc -l)
  printf '%-52s %9s %9.2f %11.0f %9.1f %11.0f %9.1f %8d\n' "$name" "$alerts" "$wall" \
    "$(echo "$RECORDS / $wall" | bc -l)" "$(echo "$BYTES / 1000000 / $wall" | bc -l)" \
    "${CPU_RATE[$name]}" "$(echo "$BYTES / 1000000 / $cpu" | bc -l)" "$((rss / 1024))"
}

EVAL=(engine eval)
if [ -x "$RSIGMA" ] && ! "$RSIGMA" engine eval --help >/dev/null 2>&1; then EVAL=(eval); fi
vigil() { echo env RAYON_NUM_THREADS="$1" "${3:-$BIN/hunt_bench}" "$DATA/sigma" "$2" --no-builtin --runs 1; }
BASELINE=${BASELINE:-}

for input in plain gzip; do
  if [ $input = plain ]; then files=$WORK/plain; lines=$WORK/events.jsonl; else files=$WORK/gz; lines=$WORK/events.jsonl.gz; fi
  measure "vigil $input delivery files, 1 thread" $(vigil 1 "$files")
  measure "vigil $input delivery files, 2 threads" $(vigil 2 "$files")
  measure "vigil $input JSON Lines (rsigma's input), 1 thread" $(vigil 1 "$lines")
  if [ -n "$BASELINE" ]; then
    measure "baseline $input delivery files, 1 thread" $(vigil 1 "$files" "$BASELINE")
    measure "baseline $input JSON Lines, 1 thread" $(vigil 1 "$lines" "$BASELINE")
    echo "  ratio this build/baseline ($input, per CPU second): JSON Lines $(echo "${CPU_RATE["vigil $input JSON Lines (rsigma's input), 1 thread"]} / ${CPU_RATE["baseline $input JSON Lines, 1 thread"]}" | bc -l | cut -c1-5)x; delivery files $(echo "${CPU_RATE["vigil $input delivery files, 1 thread"]} / ${CPU_RATE["baseline $input delivery files, 1 thread"]}" | bc -l | cut -c1-5)x"
  fi
  if [ -x "$RSIGMA" ]; then
    if [ $input = plain ]; then
      measure "rsigma $input JSON Lines" "$RSIGMA" "${EVAL[@]}" -r "$DATA/sigma" -e "@$lines"
    else
      measure "rsigma $input JSON Lines" bash -c 'gzip -dc "$0" | "$1" "${@:3}" -r "$2"' "$lines" "$RSIGMA" "$DATA/sigma" "${EVAL[@]}"
    fi
    echo "  ratio vigil/rsigma ($input, per CPU second, same JSON Lines): $(echo "${CPU_RATE["vigil $input JSON Lines (rsigma's input), 1 thread"]} / ${CPU_RATE["rsigma $input JSON Lines"]}" | bc -l | cut -c1-5)x; delivery files 1 thread: $(echo "${CPU_RATE["vigil $input delivery files, 1 thread"]} / ${CPU_RATE["rsigma $input JSON Lines"]}" | bc -l | cut -c1-5)x"
    if [ -n "$BASELINE" ]; then
      echo "  ratio baseline/rsigma ($input, per CPU second): JSON Lines $(echo "${CPU_RATE["baseline $input JSON Lines, 1 thread"]} / ${CPU_RATE["rsigma $input JSON Lines"]}" | bc -l | cut -c1-5)x; delivery files $(echo "${CPU_RATE["baseline $input delivery files, 1 thread"]} / ${CPU_RATE["rsigma $input JSON Lines"]}" | bc -l | cut -c1-5)x"
    fi
  fi
done
[ -x "$RSIGMA" ] || echo "rsigma not found at $RSIGMA: skipped"
