#!/usr/bin/env bash
# Agent footprint: resident memory and CPU of one rmm-agent reporting metrics every 5 s to a
# running local stack (tools/rmm up). Targets (issue 3): RSS <= 20 MiB, CPU <= 0.2 % of one core;
# private memory (issue 15: the Windows agent's private bytes) <= 20 MiB.
#
# An --agent-bin ending in .exe is the Windows agent (tools/rmm windows): it runs under wine64 in
# a throwaway prefix, and its figures are Wine's: the Unix process that runs the .exe, with
# Wine's own DLLs in its RSS (they are file-backed; "private" leaves them out), plus wineserver's
# CPU in its own row, and the memory of Wine's idle `ping.exe` in the same prefix: what any
# Windows program costs under Wine, to be told apart from what the agent adds.
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
base_pid=
wine=
[[ $agent_bin == *.exe ]] && wine=/usr/lib/wine/wine64
admin_bin=${RMM_ADMIN_BIN:-$(dirname "$agent_bin")/rmm-admin}
cleanup() {
  [[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  [[ -n $base_pid ]] && kill "$base_pid" 2>/dev/null && wait "$base_pid" 2>/dev/null
  if [[ -n $wine ]]; then
    WINEPREFIX=$state/prefix timeout -k 5 30 /usr/lib/wine/wineserver -k 2>/dev/null || true
  fi
  rm -rf "$state"
}
trap cleanup EXIT

"$admin_bin" agent-credential --home "$home" --state-dir "$state/agent" \
  --nats-url "$RMM_NATS_URL" --nats-creds "$home/nats/services.creds" >/dev/null
ca_args=()
if [[ -z $wine ]]; then
  [[ -n ${RMM_NATS_CA:-} ]] && ca_args=(--nats-ca="$RMM_NATS_CA")
  "$agent_bin" --state-dir "$state/agent" --nats-url "$RMM_NATS_URL" "${ca_args[@]}" \
    --metrics-interval "$interval" --log-level warn 2>"$state/agent.log" &
  agent_pid=$!
else
  export WINEPREFIX=$state/prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
  timeout -k 10 300 "$wine" wineboot --init >/dev/null 2>&1 </dev/null  # the prefix, once
  winpath() { timeout 60 "$wine" winepath -w "$1" 2>/dev/null | tr -d '\r'; }
  [[ -n ${RMM_NATS_CA:-} ]] && ca_args=(--nats-ca="$(winpath "$RMM_NATS_CA")")
  # wine64 execs the preloader in the same process: $! is the Unix process of the .exe.
  "$wine" "$agent_bin" --state-dir "$(winpath "$state/agent")" --nats-url "$RMM_NATS_URL" \
    "${ca_args[@]}" --metrics-interval "$interval" --log-level warn \
    >"$state/agent.log" 2>&1 </dev/null &
  agent_pid=$!
  "$wine" ping -n $((warmup + seconds + 60)) 127.0.0.1 >/dev/null 2>&1 </dev/null &
  base_pid=$!
fi

ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
ticks() { ticks_of "$agent_pid"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/${1:-$agent_pid}/status"; }
# Private memory: the pages of this process alone (anonymous and private file pages).
private_kib() {
  awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s + 0}' "/proc/${1:-$agent_pid}/smaps_rollup"
}
# wineserver of this prefix (Wine only): the process whose environment names the prefix.
wineserver_pid() {
  local p
  for p in $(pgrep -x "wineserver(64)?"); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "WINEPREFIX=$WINEPREFIX" && { echo "$p"; return; }
  done
}

sleep "$warmup"
ws_pid=
[[ -n $wine ]] && ws_pid=$(wineserver_pid)
t0=$(date +%s.%N)
c0=$(ticks)
w0=0
[[ -n $ws_pid ]] && w0=$(ticks_of "$ws_pid")
max_rss=0
sum_rss=0
sum_priv=0
base_rss=0
base_priv=0
n=0
end=$((SECONDS + seconds))
while ((SECONDS < end || n == 0)); do
  kill -0 "$agent_pid" 2>/dev/null || { echo "agent exited; log:" >&2; cat "$state/agent.log" >&2; exit 1; }
  r=$(rss_kib)
  ((r > max_rss)) && max_rss=$r
  sum_rss=$((sum_rss + r))
  sum_priv=$((sum_priv + $(private_kib)))
  if [[ -n $base_pid ]]; then
    base_rss=$((base_rss + $(rss_kib "$base_pid")))
    base_priv=$((base_priv + $(private_kib "$base_pid")))
  fi
  n=$((n + 1))
  sleep 1
done
t1=$(date +%s.%N)
c1=$(ticks)
w1=0
[[ -n $ws_pid ]] && w1=$(ticks_of "$ws_pid")
hz=$(getconf CLK_TCK)

awk -v c0="$c0" -v c1="$c1" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v max="$max_rss" \
    -v sum="$sum_rss" -v priv="$sum_priv" -v n="$n" -v secs="$seconds" -v iv="$interval" \
    -v w0="$w0" -v w1="$w1" -v wine="${wine:+1}" -v ws="${ws_pid:+1}" \
    -v brss="$base_rss" -v bpriv="$base_priv" 'BEGIN {
  cpu = (c1 - c0) / hz / (t1 - t0) * 100
  who = wine ? "agent under Wine" : "agent"
  printf "| figure | value | target | ratio to target |\n|---|---|---|---|\n"
  printf "| %s RSS, mean over %d s (metrics every %s) | %.1f MiB | 20 MiB | %.2f |\n", who, secs, iv, sum / n / 1024, sum / n / 1024 / 20
  printf "| %s RSS, peak | %.1f MiB | 20 MiB | %.2f |\n", who, max / 1024, max / 1024 / 20
  printf "| %s private memory, mean | %.1f MiB | 20 MiB | %.2f |\n", who, priv / n / 1024, priv / n / 1024 / 20
  printf "| %s CPU, share of one core | %.3f %% | 0.2 %% | %.2f |\n", who, cpu, cpu / 0.2
  if (ws) printf "| wineserver CPU (serving the agent) | %.3f %% | - | - |\n", (w1 - w0) / hz / (t1 - t0) * 100
  if (wine) {
    printf "| Wine baseline: idle ping.exe RSS / private, mean | %.1f / %.1f MiB | - | - |\n", brss / n / 1024, bpriv / n / 1024
    d = (priv - bpriv) / n / 1024
    printf "| agent private memory above the Wine baseline | %.1f MiB | 20 MiB | %.2f |\n", d, d / 20
  }
}'
