#!/usr/bin/env bash
# Agreement of `vigil trail hunt` with rsigma (an independent Sigma implementation, crates.io)
# on the SigmaHQ CloudTrail rules over the shared CloudTrail datasets: both engines run over the
# same records, and the sets of (rule id, eventID) matches are compared. rsigma reads NDJSON
# only, so the datasets (CloudTrail envelopes, JSON arrays, JSON Lines) are flattened to one
# record per line by a few lines of Python that do not use vigil's reader; vigil reads the
# dataset folder itself. Prints the counts and every disagreement.
#
# Usage: bash bench/trail/agree.sh
# Environment: DATA (default ../shared/data), VIGIL (default target/debug/vigil),
#              RSIGMA (default /work/bench-tools/bin/rsigma), WORK (default /tmp/vigil-trail-agree),
#              HUNT_BENCH (optional: the hunt_bench example of vigil-trail, built without the
#              AWS SDK, run with `--alerts` in place of the CLI: the same `hunt::hunt` call and
#              alerts as `vigil trail hunt --format jsonl`, for rule sets without correlations).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${DATA:-$ROOT/../shared/data}
VIGIL=${VIGIL:-$ROOT/target/debug/vigil}
RSIGMA=${RSIGMA:-/work/bench-tools/bin/rsigma}
WORK=${WORK:-/tmp/vigil-trail-agree}
mkdir -p "$WORK"

python3 - "$DATA/cloudtrail" "$WORK/events.jsonl" <<'PY'
import json, os, sys
root, out = sys.argv[1], sys.argv[2]
count = 0
with open(out, "w") as sink:
    for folder, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            if not name.endswith(".json"):
                continue
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            try:
                values = [json.loads(text)]
            except json.JSONDecodeError:
                values = [json.loads(line) for line in text.splitlines() if line.strip()]
            for value in values:
                records = value.get("Records", [value]) if isinstance(value, dict) else value
                for record in records:
                    sink.write(json.dumps(record) + "\n")
                    count += 1
print(f"{count} records from {root}", file=sys.stderr)
PY

if [ -n "${HUNT_BENCH:-}" ]; then
  "$HUNT_BENCH" "$DATA/sigma" "$DATA/cloudtrail" --no-builtin --runs 1 --alerts 2> "$WORK/vigil.err" | grep '^{' > "$WORK/vigil.jsonl"
else
  "$VIGIL" trail hunt "$DATA/cloudtrail" --rules "$DATA/sigma" --no-builtin --format jsonl > "$WORK/vigil.jsonl" 2> "$WORK/vigil.err" || [ $? -eq 3 ]
fi
"$RSIGMA" engine eval -r "$DATA/sigma" -e "@$WORK/events.jsonl" --include-event > "$WORK/rsigma.jsonl" 2> "$WORK/rsigma.err" || true

python3 - "$WORK/vigil.jsonl" "$WORK/rsigma.jsonl" <<'PY'
import json, sys
vigil = set()
for line in open(sys.argv[1]):
    alert = json.loads(line)
    vigil.add((alert["rule_id"], alert.get("event_id")))
rsigma = set()
for line in open(sys.argv[2]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    match = json.loads(line)
    event = match.get("event") or {}
    rsigma.add((match.get("rule_id") or match.get("id"), event.get("eventID")))
both = vigil & rsigma
print(f"vigil: {len(vigil)} (rule, event) matches; rsigma: {len(rsigma)}; both: {len(both)}; "
      f"only vigil: {len(vigil - rsigma)}; only rsigma: {len(rsigma - vigil)}")
for pair in sorted(vigil - rsigma, key=str):
    print("only vigil ", *pair)
for pair in sorted(rsigma - vigil, key=str):
    print("only rsigma", *pair)
PY
