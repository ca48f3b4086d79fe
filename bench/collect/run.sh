#!/usr/bin/env bash
# Collection benchmark: `vigil scan` against `prowler aws` on a large account, first on moto
# (through a recording proxy), then on a replay of those recordings with a fixed 30 ms
# latency per call. Prints a table and writes everything to $OUT. See README.md.
#
# Usage: bash bench/collect/run.sh
# Settings (environment): VIGIL, VIGIL_BEFORE, PROWLER, MOTO_SERVER, BENCH_PYTHON, OUT, SCALE,
# LATENCY_MS, REPEAT, TOOLS, MAX_IN_FLIGHT, VIGIL_SERVICE_LIST
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# The `bench-collect` profile (Cargo.toml): `cargo build --profile bench-collect -p vigil`.
VIGIL=${VIGIL:-${CARGO_TARGET_DIR:-$ROOT/target}/bench-collect/vigil}
# Another vigil build (e.g. of main) measured in the same run as the tool `vigil-before`.
VIGIL_BEFORE=${VIGIL_BEFORE:-}
PROWLER=${PROWLER:-/work/bench-tools/prowler-venv/bin/prowler}
MOTO_SERVER=${MOTO_SERVER:-$ROOT/.venv/bin/moto_server}
# Any Python with boto3 (the moto venv has it); the proxy, replay and load test need only the stdlib.
PY=${BENCH_PYTHON:-$ROOT/.venv/bin/python}
OUT=${OUT:-/tmp/vigil-bench-collect}
SCALE=${SCALE:-1}
LATENCY_MS=${LATENCY_MS:-30}
REPEAT=${REPEAT:-1}
# vigil's calls in flight (`--max-in-flight`, its default): the floor on the replay is
# calls / (MAX_IN_FLIGHT / LATENCY_MS).
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-64}
# The tools to run (vigil, Prowler and, with VIGIL_BEFORE, vigil-before by default;
# `TOOLS=vigil` for a quick trial without Prowler).
DEFAULT_TOOLS="vigil${VIGIL_BEFORE:+ vigil-before} prowler"
read -r -a TOOLS <<< "${TOOLS:-$DEFAULT_TOOLS}"
REGIONS=(us-east-1 eu-west-1)
# vigil collector (crates/collect/src/registry.rs) -> the Prowler service(s) that read the same
# API. vigil's `ec2` covers Prowler's `ec2` and `vpc`; Prowler's `cloudwatch` covers vigil's
# `cloudwatch` and `logs`; Prowler's `route53` also reads Route 53 Domains. Both tools run on
# the vigil collectors named here that Prowler also has (see the log for what was left out).
declare -A PROWLER_EQUIVALENT=(
    [iam]=iam [s3]=s3 [organizations]=organizations [ec2]="ec2 vpc" [cloudtrail]=cloudtrail
    [logs]=cloudwatch [cloudwatch]=cloudwatch [sns]=sns [kms]=kms [config]=config
    [elbv2]=elbv2 [elb]=elb [rds]=rds [cloudfront]=cloudfront [ecr]=ecr [guardduty]=guardduty
    [kinesis]=kinesis [lambda]=awslambda [route53]=route53 [route53domains]=route53
    [secretsmanager]=secretsmanager [securityhub]=securityhub [sesv2]=ses [sqs]=sqs
    [dynamodb]=dynamodb [efs]=efs [eks]=eks [ecs]=ecs [acm]=acm [apigateway]=apigateway
    [apigatewayv2]=apigatewayv2 [ssm]=ssm [accessanalyzer]=accessanalyzer [autoscaling]=autoscaling
    [backup]=backup [elasticache]=elasticache [redshift]=redshift [opensearch]=opensearch
    [wafv2]=wafv2 [athena]=athena [glue]=glue [macie2]=macie [inspector2]=inspector2
    [sagemaker]=sagemaker [cloudformation]=cloudformation [emr]=emr [stepfunctions]=stepfunctions
    [firehose]=firehose [eventbridge]=eventbridge [account]=account [fsx]=fsx [dms]=dms
    [neptune]=neptune [docdb]=documentdb [codebuild]=codebuild [cognito]=cognito
)

REQUIRED=("$MOTO_SERVER" "$PY")
# VIGIL_SERVICE_LIST (space-separated collector names) lets the run start before the vigil
# binary has finished building; run.sh then waits for it before vigil's first step.
[[ -n ${VIGIL_SERVICE_LIST:-} ]] || REQUIRED+=("$VIGIL")
if [[ " ${TOOLS[*]} " == *" prowler "* ]]; then REQUIRED+=("$PROWLER"); fi
if [[ " ${TOOLS[*]} " == *" vigil-before "* ]]; then
    [[ -n $VIGIL_BEFORE ]] || { echo "run.sh: TOOLS names vigil-before but VIGIL_BEFORE is unset" >&2; exit 2; }
    [[ -n ${VIGIL_SERVICE_LIST:-} ]] || REQUIRED+=("$VIGIL_BEFORE")
fi
for tool in "${REQUIRED[@]}"; do
    [[ -x $tool ]] || { echo "run.sh: \`$tool\` is missing; see bench/collect/README.md" >&2; exit 2; }
done
rm -rf "$OUT" && mkdir -p "$OUT"
cd "$HERE"

# The vigil binary names its collectors when given an unknown one (no AWS call is made).
if [[ -n ${VIGIL_SERVICE_LIST:-} ]]; then
    read -r -a VIGIL_KNOWN <<< "$VIGIL_SERVICE_LIST"
else
    read -r -a VIGIL_KNOWN <<< "$("$VIGIL" collect --service __list__ -o /dev/null 2>&1 | sed -n 's/.*known services: //p' | tr -d ',')"
fi
read -r -a PROWLER_KNOWN <<< "$([[ -x $PROWLER ]] && "$PROWLER" aws --list-services 2>/dev/null | sed -n 's/^ *- *\([a-z0-9]*\).*/\1/p' | tr '\n' ' ')"
VIGIL_SERVICES=() PROWLER_SERVICES=() LEFT_OUT=()
for service in "${VIGIL_KNOWN[@]}"; do
    equivalents=()
    for candidate in ${PROWLER_EQUIVALENT[$service]:-}; do
        # Without a Prowler to ask (TOOLS=vigil), trust the mapping.
        if (( ${#PROWLER_KNOWN[@]} == 0 )) || [[ " ${PROWLER_KNOWN[*]} " == *" $candidate "* ]]; then equivalents+=("$candidate"); fi
    done
    if (( ${#equivalents[@]} == 0 )); then LEFT_OUT+=("$service"); continue; fi
    VIGIL_SERVICES+=("$service")
    for candidate in "${equivalents[@]}"; do
        [[ " ${PROWLER_SERVICES[*]} " == *" $candidate "* ]] || PROWLER_SERVICES+=("$candidate")
    done
done
(( ${#VIGIL_SERVICES[@]} )) || { echo "run.sh: no common services (vigil: ${VIGIL_KNOWN[*]}; prowler: ${PROWLER_KNOWN[*]})" >&2; exit 2; }
{
    echo "vigil services:   ${VIGIL_SERVICES[*]}"
    echo "prowler services: ${PROWLER_SERVICES[*]}"
    echo "vigil services without a Prowler equivalent (not run): ${LEFT_OUT[*]:-none}"
} | tee "$OUT/services.txt" >&2

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# A loaded machine may take a while to start a server that first reads a large recording.
wait_for_file() { for _ in $(seq 1200); do [[ -s $1 ]] && return 0; sleep 0.1; done; echo "run.sh: $1 never appeared" >&2; exit 2; }
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

# Credentials and settings shared by both tools; nothing from ~/.aws leaks in.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL VIGIL_ENDPOINT_URL

# run_tool TOOL ENDPOINT LABEL: measures one tool against ENDPOINT into $OUT/LABEL.*
run_tool() {
    local tool=$1 endpoint=$2 label=$3
    if [[ $tool == vigil || $tool == vigil-before ]]; then
        local binary=$VIGIL
        [[ $tool == vigil-before ]] && binary=$VIGIL_BEFORE
        for _ in $(seq 360); do [[ -x $binary ]] && break; sleep 10; done
        [[ -x $binary ]] || { echo "run.sh: \`$binary\` did not appear within an hour" >&2; exit 2; }
        local flags=(--max-in-flight "$MAX_IN_FLIGHT")
        for region in "${REGIONS[@]}"; do flags+=(--region "$region"); done
        for service in "${VIGIL_SERVICES[@]}"; do flags+=(--service "$service"); done
        "$PY" measure.py --log "$OUT/$label.log" -- "$binary" scan "${flags[@]}" --endpoint-url "$endpoint" \
            --no-store -o "$OUT/$label-findings.json" > "$OUT/$label.measure.json"
    else
        rm -rf "$OUT/$label-output"
        "$PY" measure.py --log "$OUT/$label.log" --env AWS_ENDPOINT_URL="$endpoint" -- "$PROWLER" aws \
            --region "${REGIONS[@]}" --service "${PROWLER_SERVICES[@]}" \
            --output-formats json-ocsf --output-directory "$OUT/$label-output" --no-banner --ignore-exit-code-3 \
            > "$OUT/$label.measure.json"
    fi
    echo "  $label: $(cat "$OUT/$label.measure.json")" >&2
}

echo "== moto: start and seed (scale $SCALE)" >&2
MOTO_PORT=$(free_port)
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_EC2_LOAD_DEFAULT_AMIS=false "$MOTO_SERVER" -H 127.0.0.1 -p "$MOTO_PORT" > "$OUT/moto.log" 2>&1 &
PIDS+=($!)
MOTO_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$MOTO_PORT/moto-api/" && break; sleep 0.2; done
"$PY" seed.py --endpoint "http://127.0.0.1:$MOTO_PORT" --scale "$SCALE" 2>&1 | tee "$OUT/seed.log" >&2

echo "== moto: throughput of a cheap call (sts:GetCallerIdentity, 16 connections, 10 s)" >&2
"$PY" loadtest.py --port "$MOTO_PORT" --target moto --connections 16 --seconds 10 | tee "$OUT/moto-throughput.json" >&2

for tool in "${TOOLS[@]}"; do
    echo "== $tool on moto, through the recording proxy" >&2
    rm -f "$OUT/proxy.port"
    "$PY" proxy.py --upstream "127.0.0.1:$MOTO_PORT" --record "$OUT/$tool.recording.jsonl" --port-file "$OUT/proxy.port" 2> "$OUT/$tool-proxy.log" &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    wait_for_file "$OUT/proxy.port"
    run_tool "$tool" "http://127.0.0.1:$(cat "$OUT/proxy.port")" "$tool-moto"
    stop "$PROXY_PID"
done
stop "$MOTO_PID"

echo "== replay server: its own throughput (GET ping, ${LATENCY_MS} ms latency)" >&2
rm -f "$OUT/replay.port"
# Any tool's recording will do (the load test pings; it matches no recorded call).
"$PY" replay.py --recording "$OUT/${TOOLS[0]}.recording.jsonl" --latency-ms "$LATENCY_MS" --port-file "$OUT/replay.port" 2> "$OUT/replay-throughput-server.log" &
REPLAY_PID=$!
PIDS+=("$REPLAY_PID")
wait_for_file "$OUT/replay.port"
for connections in 64 256; do
    "$PY" loadtest.py --port "$(cat "$OUT/replay.port")" --target replay --connections "$connections" --seconds 10 | tee "$OUT/replay-throughput-$connections.json" >&2
done
stop "$REPLAY_PID"

for round in $(seq "$REPEAT"); do
    for tool in "${TOOLS[@]}"; do
        echo "== $tool on the replay (${LATENCY_MS} ms per call), round $round" >&2
        rm -f "$OUT/replay.port"
        "$PY" replay.py --recording "$OUT/$tool.recording.jsonl" --latency-ms "$LATENCY_MS" --port-file "$OUT/replay.port" \
            --stats "$OUT/$tool-replay-$round.stats.json" 2> "$OUT/$tool-replay-$round-server.log" &
        REPLAY_PID=$!
        PIDS+=("$REPLAY_PID")
        wait_for_file "$OUT/replay.port"
        run_tool "$tool" "http://127.0.0.1:$(cat "$OUT/replay.port")" "$tool-replay-$round"
        stop "$REPLAY_PID"
    done
done

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); scale $SCALE"
    echo "vigil: $VIGIL${VIGIL_BEFORE:+; vigil-before: $VIGIL_BEFORE}"
    echo
    "$PY" report.py --tools "${TOOLS[*]}" --out "$OUT" --repeat "$REPEAT" --latency-ms "$LATENCY_MS" --max-in-flight "$MAX_IN_FLIGHT"
} | tee "$OUT/report.md"
