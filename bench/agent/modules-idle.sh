#!/usr/bin/env bash
# The release agent (AGENT, default the release build; `cargo build --release -p vigil-agent`
# first) with the default host policy on this host (every module it carries: fim, logs,
# packages, ...), enrolled by token with a local `vigil serve` (VIGIL, default the debug build):
# its memory and CPU over its first five minutes, in three windows. Reads only.
#   bash bench/agent/modules-idle.sh
# LATE=N adds a window from N to N+60 s (first runs held to a few percent of a core can last
# longer than five minutes on a large tree).
# POLICY=every-module: every module on instead (bench/agent/every-module.yaml: sca, vulns over
# 120,000 generated OSV records, a fifth naming this host's source packages, secrets, ips in dry-run, and the defaults); needs the agent
# built with `--features malware` for the malware module to run.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${POLICY:-}" = every-module ]; then
  # A fifth of the records name this host's own source packages (as a real archive does for a
  # real host), so the vulns module keeps and matches what it would on a Debian 12 instance.
  osv_dir="${OSV_DIR:-/tmp/vigil-agent-bench-osv-host}"
  [ -f "$osv_dir/osv-debian.zip" ] || SOURCES_FROM=/var/lib/dpkg/status python3 bench/host-vulns/generate.py "$osv_dir" >/dev/null
  sed "s|OSV_ARCHIVE|$osv_dir/osv-debian.zip|" bench/agent/every-module.yaml > "$osv_dir/policy.yaml"
  export HOST_POLICY="$osv_dir/policy.yaml"
  echo "policy: every module (bench/agent/every-module.yaml, OSV $osv_dir/osv-debian.zip)"
fi
target="${CARGO_TARGET_DIR:-target}"
agent="${AGENT:-$target/release/vigil-agent}"
vigil="${VIGIL:-$target/debug/vigil}"
echo "date: $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck source=bench/agent/common.sh
source bench/agent/common.sh
start_server_and_agent
hz="$(getconf CLK_TCK)"
# The agent runs some modules' runs in child processes (`vigil-agent run-module`): their memory
# is sampled with the agent's every half second (the peak of the sum), and their CPU counted.
echo 0 > "$work/tree-peak"
( peak=0; while kill -0 "$agent_pid" 2>/dev/null; do
    now="$(tree_rss "$agent_pid" 2>/dev/null || echo 0)"; if [ "$now" -gt "$peak" ]; then peak="$now"; echo "$peak" > "$work/tree-peak"; fi
    sleep 0.5
  done ) &
measure() {
  local from="$1" to="$2"
  local before after
  sleep "$from"; before="$(tree_ticks "$agent_pid")"; sleep "$((to - from))"; after="$(tree_ticks "$agent_pid")"
  echo "window $3: agent RSS $(awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status") kB, peak $(awk '/VmHWM/ {print $2}' "/proc/$agent_pid/status") kB; with its run processes now $(tree_rss "$agent_pid") kB, peak so far $(cat "$work/tree-peak") kB; CPU (with its run processes) $(python3 -c "print(f'{($after - $before) / $hz / ($to - $from) * 100:.3f}')")% of one core over $((to - from)) s; threads $(ls "/proc/$agent_pid/task" | wc -l), run processes now $(pgrep -c -P "$agent_pid" || true)"
}
measure 0 60 "0-60 s (first runs: baselines, logs, packages)"
measure 0 120 "60-180 s"
measure 60 120 "240-300 s"
# LATE=N: one more window, from N to N+60 seconds (N > 300), once the first runs have ended.
if [ -n "${LATE:-}" ]; then measure "$((LATE - 300))" "$((LATE - 240))" "$LATE-$((LATE + 60)) s"; fi
echo "CPU seconds since start, by thread: $(for task in /proc/"$agent_pid"/task/*; do printf '%s %s; ' "$(cat "$task/comm")" "$(awk -v hz="$hz" '{printf "%.2f", ($14 + $15) / hz}' "$task/stat")"; done)"
echo "module health (vigil agents --format json):"
"$vigil" agents --format json --store "$work/vigil.db" 2>/dev/null | python3 -c 'import json, sys
for agent in json.load(sys.stdin):
    for health in agent.get("modules") or []:
        print(f"  {json.dumps(health)[:240]}")' || true
echo "agent log: $(grep -c . "$work/agent.log") lines; module errors: $(grep -ci error "$work/agent.log" || true)"
grep -i error "$work/agent.log" | head -20 || true
