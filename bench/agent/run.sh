#!/usr/bin/env bash
# The agent's budgets and a simulated fleet against one server (BENCHMARKS.md, "Agent"):
#  1. vigil-agent's release binary, as built and stripped;
#  2. one enrolled agent left idle: resident memory and CPU over a minute;
#  3. FLEET_AGENTS (1000) simulated agents sending batches to one `vigil serve` for
#     FLEET_SECONDS (30): events acknowledged per second, and the server's peak memory.
# Usage: bash bench/agent/run.sh   (VIGIL=path/to/vigil to choose the server binary; default
# the debug build in the target directory). Runs under `nice`; sends only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
echo "date: $(date -u +%FT%TZ); machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"

nice -n 19 cargo build --release -p vigil-agent --quiet
agent="$target/release/vigil-agent"
strip -o /tmp/vigil-agent.stripped "$agent"
echo "binary: $(stat -c %s "$agent") bytes as built (line tables kept), $(stat -c %s /tmp/vigil-agent.stripped) bytes stripped"

vigil="${VIGIL:-$target/debug/vigil}"
[ -x "$vigil" ] || { echo "no vigil binary at $vigil (cargo build -p vigil)"; exit 2; }
# shellcheck source=bench/agent/common.sh
source bench/agent/common.sh

# One agent, idle after its first inventory run.
start_server_and_agent
sleep 20
before="$(tree_ticks "$agent_pid")"
sleep 60
after="$(tree_ticks "$agent_pid")"
hz="$(getconf CLK_TCK)"
rss="$(tree_rss "$agent_pid")"
echo "idle agent: RSS $rss kB; CPU $(python3 -c "print(f'{($after - $before) / $hz / 60 * 100:.3f}')")% of one core over 60 s ($((after - before)) ticks at $hz Hz); threads $(ls "/proc/$agent_pid/task" | wc -l)"
kill "$agent_pid"; agent_pid=""

# The simulated fleet.
rss_before="$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")"
FLEET_SERVER="http://127.0.0.1:$port" FLEET_TOKEN="$("$vigil" agents token create --expires 2h --store "$work/vigil.db" 2>/dev/null)" \
    nice -n 5 cargo bench -p vigil-agent --bench fleet --quiet
echo "server ($vigil): RSS $rss_before kB before the fleet, peak $(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status") kB; store $(du -sh "$work/vigil.db" | cut -f1) (+ WAL $(du -sh "$work/vigil.db-wal" 2>/dev/null | cut -f1))"
