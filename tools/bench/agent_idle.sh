#!/usr/bin/env bash
# Agent footprint: resident memory and CPU of one rmm-agent reporting metrics every 5 s to a
# running local stack (tools/rmm up). Targets (issue 3): RSS <= 20 MiB, CPU <= 0.2 % of one core.
#
#   tools/bench/agent_idle.sh [--seconds 600] [--metrics-interval 5s] [--agent-bin PATH]
#                             [--warmup 15]
#
# Measure a Release build (the default build/ of `tools/rmm setup` is RelWithDebInfo).
#
# Prints a Markdown table. The agent gets its own identity and state dir (removed afterwards);
# rmm-admin is taken from the agent's directory. --warmup: seconds left out at the start (first
# inventory, RocksDB open, connection). tools/rmm bench runs it against its own platform.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.."

seconds=600
interval=5s
agent_bin=build/bin/rmm-agent
warmup=15
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --metrics-interval) interval=$2; shift 2 ;;
    --agent-bin) agent_bin=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--metrics-interval 5s] [--agent-bin PATH] [--warmup S]" >&2; exit 2 ;;
  esac
done

home=${RMM_HOME:-$PWD/.rmm}
[[ -f $home/env ]] || { echo "no stack in $home: run tools/rmm up first" >&2; exit 2; }
# shellcheck disable=SC1091
source "$home/env"

state=$(mktemp -d /tmp/rmm-bench-agent.XXXXXX)
agent_pid=
cleanup() {
  [[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  rm -rf "$state"
}
trap cleanup EXIT

"$(dirname "$agent_bin")/rmm-admin" agent-credential --home "$home" --state-dir "$state" \
  --nats-url "$RMM_NATS_URL" --nats-creds "$home/nats/services.creds" >/dev/null
"$agent_bin" --state-dir "$state" --nats-url "$RMM_NATS_URL" \
  --metrics-interval "$interval" --log-level warn 2>"$state/agent.log" &
agent_pid=$!

ticks() { awk '{print $14 + $15}' "/proc/$agent_pid/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$agent_pid/status"; }

sleep "$warmup"
t0=$(date +%s.%N)
c0=$(ticks)
max_rss=0
sum_rss=0
n=0
end=$((SECONDS + seconds))
while ((SECONDS < end || n == 0)); do
  kill -0 "$agent_pid" 2>/dev/null || { echo "agent exited; log:" >&2; cat "$state/agent.log" >&2; exit 1; }
  r=$(rss_kib)
  ((r > max_rss)) && max_rss=$r
  sum_rss=$((sum_rss + r))
  n=$((n + 1))
  sleep 1
done
t1=$(date +%s.%N)
c1=$(ticks)
hz=$(getconf CLK_TCK)

awk -v c0="$c0" -v c1="$c1" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v max="$max_rss" \
    -v sum="$sum_rss" -v n="$n" -v secs="$seconds" -v iv="$interval" 'BEGIN {
  cpu = (c1 - c0) / hz / (t1 - t0) * 100
  printf "| figure | value | target | ratio to target |\n|---|---|---|---|\n"
  printf "| agent RSS, mean over %d s (metrics every %s) | %.1f MiB | 20 MiB | %.2f |\n", secs, iv, sum / n / 1024, sum / n / 1024 / 20
  printf "| agent RSS, peak | %.1f MiB | 20 MiB | %.2f |\n", max / 1024, max / 1024 / 20
  printf "| agent CPU, share of one core | %.3f %% | 0.2 %% | %.2f |\n", cpu, cpu / 0.2
}'
