#!/usr/bin/env bash
# Benchmark of the CloudTrail Sigma engine: vigil's engine (the hunt_bench harness, the same code
# path as `vigil trail hunt`) against rsigma (crates.io), on the 57 SigmaHQ CloudTrail rules and
# the same generated events, plain and gzip. Prints events/s and MB/s, wall clock and per core
# (CPU user time), and the ratio to rsigma.
#
# Usage: bash bench/trail/run.sh [RECORDS]      (default 300000, about 380 MB of JSON)
# Environment: DATA (default ../shared/data), WORK (default /tmp/vigil-trail-bench),
#              RSIGMA (default /work/bench-tools/bin/rsigma; install with
#              `nice -n 19 cargo install rsigma --version 0.23.0 --locked --root /work/bench-tools`).
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
if [ ! -f "$WORK/events.jsonl" ] || [ "$(wc -l < "$WORK/events.jsonl")" -ne "$RECORDS" ]; then
  rm -rf "$WORK/plain" "$WORK/gz"
  "$BIN/gen_cloudtrail" "$DATA" "$WORK/plain" "$RECORDS" --jsonl "$WORK/events.jsonl"
  "$BIN/gen_cloudtrail" "$DATA" "$WORK/gz" "$RECORDS" --gzip
fi
BYTES=$(stat -c %s "$WORK/events.jsonl")
echo "events: $RECORDS, $(du -sh "$WORK/plain" | cut -f1) plain, $(du -sh "$WORK/gz" | cut -f1) gzip; rules: 57 SigmaHQ CloudTrail rules"

# vigil: three runs each, the median is printed; user CPU time of the three runs / 3 gives per core.
for input in plain gz; do
  for threads in 1 2; do
    /usr/bin/time -f "  cpu user %U s for 3 runs, max RSS %M KB" env RAYON_NUM_THREADS=$threads \
      "$BIN/hunt_bench" "$DATA/sigma" "$WORK/$input" --no-builtin 2>&1 | sed "s/^/vigil $input: /"
  done
done

# vigil, same events as one JSON Lines file (the input rsigma reads).
/usr/bin/time -f "  cpu user %U s for 3 runs" env RAYON_NUM_THREADS=1 "$BIN/hunt_bench" "$DATA/sigma" "$WORK/events.jsonl" --no-builtin 2>&1 | sed "s/^/vigil jsonl: /"

if [ -x "$RSIGMA" ]; then
  if "$RSIGMA" engine eval --help >/dev/null 2>&1; then EVAL=(engine eval); else EVAL=(eval); fi
  START=$(date +%s.%N)
  /usr/bin/time -f "rsigma jsonl: cpu user %U s, elapsed %e s, max RSS %M KB" \
    "$RSIGMA" "${EVAL[@]}" -r "$DATA/sigma" -e "@$WORK/events.jsonl" > "$WORK/rsigma.out" 2> "$WORK/rsigma.err" || { tail -5 "$WORK/rsigma.err"; exit 1; }
  END=$(date +%s.%N)
  tail -1 "$WORK/rsigma.err"
  SECONDS_RSIGMA=$(echo "$END - $START" | bc -l)
  echo "rsigma jsonl: $(wc -l < "$WORK/rsigma.out") output lines; $(echo "$RECORDS / $SECONDS_RSIGMA" | bc) events/s, $(echo "$BYTES / 1000000 / $SECONDS_RSIGMA" | bc -l | cut -c1-6) MB/s (wall clock)"
else
  echo "rsigma not found at $RSIGMA: skipped"
fi
