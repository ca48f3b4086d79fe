#!/usr/bin/env bash
# The release agent (AGENT, default the release build; `cargo build --release -p vigil-agent`
# first) with the default host policy on this host (every module it carries: fim, logs,
# packages, ...), enrolled by token with a local `vigil serve` (VIGIL, default the debug build):
# its memory and CPU over its first five minutes, in three windows. Reads only.
#   bash bench/agent/modules-idle.sh
set -euo pipefail
target="${CARGO_TARGET_DIR:-target}"
agent="${AGENT:-$target/release/vigil-agent}"
vigil="${VIGIL:-$target/debug/vigil}"
echo "date: $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
work="$(mktemp -d /tmp/vigil-agent-idle.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cleanup() { kill "${agent_pid:-}" "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export VIGIL_DATA_DIR="$work/data"
token="$("$vigil" agents token create --expires 2h --store "$work/vigil.db" 2>/dev/null)"
"$vigil" serve --listen "127.0.0.1:$port" --store "$work/vigil.db" --agent-heartbeat 60 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
"$agent" --server "http://127.0.0.1:$port" --state "$work/agent" --imds http://127.0.0.1:9 --token "$token" 2>"$work/agent.log" &
agent_pid=$!
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"
measure() {
  local from="$1" to="$2"
  local before after
  sleep "$from"; before="$(ticks "$agent_pid")"; sleep "$((to - from))"; after="$(ticks "$agent_pid")"
  echo "window $3: RSS $(awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status") kB, peak $(awk '/VmHWM/ {print $2}' "/proc/$agent_pid/status") kB; CPU $(python3 -c "print(f'{($after - $before) / $hz / ($to - $from) * 100:.3f}')")% of one core over $((to - from)) s; threads $(ls "/proc/$agent_pid/task" | wc -l)"
}
measure 0 60 "0-60 s (first runs: baselines, logs, packages)"
measure 0 120 "60-180 s"
measure 60 120 "240-300 s"
