#!/usr/bin/env bash
# Projection lag at N simulated agents on a NATS cluster (issue 17 §6): a throwaway 3-node
# cluster with R3 streams and a PostgreSQL cluster (rmm-bench-stack --cluster 3), P projector
# processes (0: one single projection; 1 or more: that many partitioned processes sharing the 17
# units), rmm-sim spreading its agents over the three nodes, then rmm-bench-lag over the steady
# state. Everything listens on 127.0.0.1 and is removed afterwards.
#
#   tools/bench/cluster_lag.sh [--agents 10000] [--projectors 2] [--seconds 60]
#                              [--bin build/bin] [--stack-bin build-test/bin] [--keep]
#
# --bin: the optimised rmm-projector, rmm-sim and rmm-bench-lag (tools/rmm setup builds them);
# --stack-bin: rmm-bench-stack (built with the tests: it is made of the test fixtures);
# --keep: leave the work directory (the programs' logs, cores) and print its path.
# Prints rmm-bench-lag's name=value lines, with the sim's counters and the setup as `bench_*`.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.."
repo=$PWD

agents=10000 projectors=2 seconds=60 bin=build/bin stack_bin=build-test/bin keep=0
while (($#)); do
  case "$1" in
    --agents) agents=$2; shift 2 ;;
    --projectors) projectors=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --stack-bin) stack_bin=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--agents N] [--projectors P] [--seconds S] [--bin DIR] [--stack-bin DIR] [--keep]" >&2; exit 2 ;;
  esac
done
for p in "$bin/rmm-projector" "$bin/rmm-sim" "$bin/rmm-bench-lag" "$stack_bin/rmm-bench-stack"; do
  [[ -x $p ]] || { echo "missing $p (tools/rmm setup; cmake --build build-test --target rmm-bench-stack)" >&2; exit 2; }
done
[[ $bin == /* ]] || bin=$repo/$bin

work=$(mktemp -d /tmp/rmm-cluster-lag.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((keep)); then echo "bench_work=$work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The stack runs until its stdin closes: a fifo held open by this script.
mkfifo "$work/hold"
"$stack_bin/rmm-bench-stack" --cluster 3 <"$work/hold" >"$work/stack.env" 2>"$work/stack.err" &
pids+=($!)
exec 3>"$work/hold"
for ((i = 0; i < 600; i++)); do
  grep -q RMM_BENCH_PG_URL "$work/stack.env" 2>/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/stack.err" >&2; exit 1; }
  sleep 0.2
done
# shellcheck disable=SC1091
source "$work/stack.env"
home=$(dirname "$(dirname "$RMM_BENCH_NATS_CREDS")")
common=(--nats-url "$RMM_BENCH_NATS_URL" --nats-creds "$RMM_BENCH_NATS_CREDS" --pg-url "$RMM_BENCH_PG_URL")

proj_pids=()
start_projector() {  # <name> [args...]
  local name=$1
  shift
  # In its own directory, where a core dump would land.
  mkdir -p "$work/$name"
  (cd "$work/$name" && ulimit -c unlimited && exec "$bin/rmm-projector" "${common[@]}" \
    --migrations-dir "$repo/projector/migrations" --http-port 0 --log-level warn "$@") \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  proj_pids+=($!)
}
if ((projectors == 0)); then
  start_projector projector
else
  for ((i = 1; i <= projectors; i++)); do start_projector "projector$i" --partitions 16; done
fi

# The nats-server and postgres processes of this stack, found by their listening ports.
pid_on_port() { ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
nats_pids=()
for url in ${RMM_BENCH_NATS_URL//,/ }; do nats_pids+=("$(pid_on_port "${url##*:}")"); done
pg_port=${RMM_BENCH_PG_URL##*:}
pg_pid=$(pid_on_port "${pg_port%%/*}")

"$bin/rmm-sim" --nats-home "$home" --nats-url "$RMM_BENCH_NATS_URL" --agents "$agents" \
  --connect-rate 2000 --heartbeat-interval 30s --metrics-interval 60s --stats-every 5s \
  >"$work/sim.json" 2>"$work/sim.err" &
sim_pid=$!
pids+=("$sim_pid")
for ((i = 0; i < 1200; i++)); do
  grep -q "connected $agents/$agents" "$work/sim.err" 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || { tail -5 "$work/sim.err" >&2; exit 1; }
  sleep 0.5
done
grep -q "connected $agents/$agents" "$work/sim.err" || { echo "not every agent connected" >&2; tail -3 "$work/sim.err" >&2; exit 1; }

watch="sim=$sim_pid"
i=1
for p in "${proj_pids[@]}"; do watch+=",projector$i=$p"; i=$((i + 1)); done
i=1
for p in "${nats_pids[@]}"; do [[ -n $p ]] && watch+=",nats$i=$p"; i=$((i + 1)); done
[[ -n $pg_pid ]] && watch+=",postgres=$pg_pid"
"$bin/rmm-bench-lag" "${common[@]}" --seconds "$seconds" --interval-ms 100 --wait-caught-up 300 \
  --watch "$watch"
kill -TERM "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
for p in "${proj_pids[@]}"; do kill -0 "$p" 2>/dev/null || echo "bench_error=a projector died (see --keep)"; done
echo "bench_agents=$agents"
echo "bench_projectors=$projectors"
echo "bench_load=$(cut -d' ' -f1-3 /proc/loadavg)"
grep -o '"[a-z_]*": *[0-9.]*' "$work/sim.json" | tr -d '" ' | sed 's/:/=/; s/^/sim_/' || true
