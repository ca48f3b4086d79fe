# Sourced by bench/agent/run.sh and bench/agent/modules-idle.sh: a throwaway `vigil serve`
# ($vigil) on a free 127.0.0.1 port with its own store, one agent ($agent) enrolled by token
# against it, their cleanup, and `tree_ticks PID`, `tree_rss PID`: a process's CPU ticks and
# resident memory together with its children's (the agent's run processes). With
# HOST_POLICY set, the server gives the agent that host policy (`vigil serve --host-policy`).
# Sets: work, port, server_pid, agent_pid.
start_server_and_agent() {
    work="$(mktemp -d /tmp/vigil-agent-bench.XXXXXX)"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    trap 'kill "${agent_pid:-}" "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
    export VIGIL_DATA_DIR="$work/data"
    local token
    token="$("$vigil" agents token create --expires 2h --store "$work/vigil.db" 2>/dev/null)"
    "$vigil" serve --listen "127.0.0.1:$port" --store "$work/vigil.db" --agent-heartbeat 60 ${HOST_POLICY:+--host-policy "$HOST_POLICY"} 2>"$work/serve.log" &
    server_pid=$!
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
    "$agent" --server "http://127.0.0.1:$port" --state "$work/agent" --imds http://127.0.0.1:9 --token "$token" 2>"$work/agent.log" &
    agent_pid=$!
}

# Sums what an awk program prints from /proc/PID/FILE over a process and its live children
# (the agent's run processes, `vigil-agent run-module`); a child gone meanwhile counts 0.
tree_sum() {
  local file="$2" program="$3" total=0 pid value
  for pid in "$1" $(pgrep -P "$1" || true); do
    value="$(awk "$program" "/proc/$pid/$file" 2>/dev/null || true)"
    total=$((total + ${value:-0}))
  done
  echo "$total"
}
# CPU ticks: each process's own and its waited-for children's (cutime + cstime).
tree_ticks() { tree_sum "$1" stat '{print $14 + $15 + $16 + $17}'; }
# Resident memory (kB).
tree_rss() { tree_sum "$1" status '/VmRSS/ {print $2}'; }
