# shellcheck shell=bash
# tools/rmm bench: the standard benchmarks in one run, written into docs/benchmarks.md between
# the markers below (the rest of that file is hand-written and left alone). Every figure comes
# with the command that reproduces it; ceilings are measured in the same run.
#
#   tools/rmm bench [--quick] [--build-dir DIR] [--no-build] [--output FILE]
#                   [--agents "1000 5000 10000 20000"] [--steady SECONDS]
#
# Needs: the Release programs (built here unless --no-build), gnuplot (installed if missing),
# PostgreSQL 15 and nats-server (the throwaway stack of rmm-bench-stack). Nothing listens beyond
# 127.0.0.1; everything started is stopped on exit.

# shellcheck source=tools/lib/bench_platform.sh
source "$RMM_REPO/tools/lib/bench_platform.sh"

BENCH_BEGIN='<!-- BEGIN tools/rmm bench: generated, do not edit by hand -->'
BENCH_END='<!-- END tools/rmm bench -->'

declare -A BR=()    # results: key -> value
declare -A BCMD=()  # figure -> command that reproduces it
BENCH_PIDS=()
BENCH_WORK=

bench_usage() {
  sed -n '5,7p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
  exit 2
}

bench_cleanup() {
  local pid
  bench_platform_stop
  for pid in "${BENCH_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  BENCH_PIDS=()
  [[ -n $BENCH_WORK && -d $BENCH_WORK ]] && rm -rf "$BENCH_WORK"
}

# kv_into <prefix> <file>: name=value lines of a bench program into BR[<prefix>.name].
kv_into() {
  local prefix=$1 file=$2 k v
  while IFS='=' read -r k v; do
    [[ $k =~ ^[a-z0-9_]+$ && -n $v ]] && BR[$prefix.$k]=$v
  done <"$file"
}

# json_num <file> <key>: a number from rmm-sim's one-line JSON report.
json_num() {
  grep -o "\"$2\":[-0-9.e+]*" "$1" 2>/dev/null | head -1 | cut -d: -f2 || true
}

# fmt_int <number>: rounded, with thousands separators (12,345); non-numbers pass through.
fmt_int() {
  local n
  n=$(printf '%.0f' "${1:-0}" 2>/dev/null) || { printf '%s' "${1:-0}"; return 0; }
  sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$n" | tr -d '\n'
}
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "—" }'; }

# bench_stack_start <name>: a throwaway nats-server + PostgreSQL (rmm-bench-stack); sets
# S_NATS_URL, S_CREDS, S_HOME, S_PG_URL, S_NATS_PID, S_PG_PID.
bench_stack_start() {
  local env=$BENCH_WORK/$1.env
  "$BENCH_BIN/rmm-bench-stack" >"$env" 2>"$BENCH_WORK/$1.err" < <(exec sleep infinity) &
  S_STACK_PID=$!
  BENCH_PIDS+=("$S_STACK_PID")
  local i
  for ((i = 0; i < 120; i++)); do
    grep -q RMM_BENCH_PG_URL "$env" 2>/dev/null && break
    kill -0 "$S_STACK_PID" 2>/dev/null || die "rmm-bench-stack failed: $(tail -5 "$BENCH_WORK/$1.err")"
    sleep 0.5
  done
  # shellcheck disable=SC1090
  source "$env"
  S_NATS_URL=$RMM_BENCH_NATS_URL
  S_CREDS=$RMM_BENCH_NATS_CREDS
  S_PG_URL=$RMM_BENCH_PG_URL
  S_HOME=$(dirname "$(dirname "$S_CREDS")")
  S_NATS_PID=$(pgrep -P "$S_STACK_PID" -x nats-server | head -1 || true)
  S_PG_PID=$(pgrep -P "$S_STACK_PID" -x postgres | head -1 || true)
  [[ -n $S_PG_PID ]] || S_PG_PID=$(pgrep -f "postgres -D $(dirname "$S_HOME")" | head -1 || true)
}

bench_stack_stop() {
  kill -TERM "$S_STACK_PID" 2>/dev/null || true
  wait "$S_STACK_PID" 2>/dev/null || true
  local keep=() pid
  for pid in "${BENCH_PIDS[@]}"; do [[ $pid != "$S_STACK_PID" ]] && keep+=("$pid"); done
  BENCH_PIDS=("${keep[@]}")
}

bench_machine() {
  BR[machine.nproc]=$(nproc)
  BR[machine.cpu]=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
  BR[machine.mem]=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  BR[machine.kernel]=$(uname -r)
  BR[machine.os]=$(. /etc/os-release && echo "$PRETTY_NAME")
  BR[machine.nats]=$(nats-server --version 2>/dev/null | head -1)
  BR[machine.load]=$(cut -d' ' -f1-3 /proc/loadavg)
  BR[machine.nofile]=$(ulimit -Hn)
  BR[date]=$(date -u '+%Y-%m-%d %H:%M UTC')
  BR[commit]=$(git -C "$RMM_REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
}

bench_ceilings() {
  info "ceilings: JetStream publish and fetch+ack, PostgreSQL COPY, RocksDB puts"
  local args=(--nats-url "$S_NATS_URL" --nats-creds "$S_CREDS" --pg-url "$S_PG_URL" --count "$B_COUNT")
  "$BENCH_BIN/rmm-bench-ceilings" "${args[@]}" >"$BENCH_WORK/ceilings.out" 2>>"$BENCH_WORK/log"
  kv_into ceil "$BENCH_WORK/ceilings.out"
  BCMD[ceilings]="rmm-bench-ceilings --nats-url URL --nats-creds FILE --pg-url URL --count $B_COUNT"
}

bench_projector() {
  info "end-to-end ingest: rmm-bench-projector ($B_PROJ_EVENTS events)"
  "$BENCH_BIN/rmm-bench-projector" --nats-url "$S_NATS_URL" --nats-creds "$S_CREDS" \
    --pg-url "$S_PG_URL" --events "$B_PROJ_EVENTS" --agents 1000 \
    >"$BENCH_WORK/projector.out" 2>>"$BENCH_WORK/log" || warn "rmm-bench-projector failed"
  BR[proj.fold]=$(grep -o 'sustained fold[^|]*| \*\*[0-9]*' "$BENCH_WORK/projector.out" | grep -o '[0-9]*$' || true)
  BR[proj.fetch]=$(grep 'ceiling 1' "$BENCH_WORK/projector.out" | grep -o '| [0-9]* msg/s' | grep -o '[0-9]*' || true)
  BR[proj.copy_events]=$(grep 'ceiling 2' "$BENCH_WORK/projector.out" | grep -o '= [0-9]* events/s' | grep -o '[0-9]*' || true)
  BCMD[projector]="rmm-bench-projector --nats-url URL --nats-creds FILE --pg-url URL --events $B_PROJ_EVENTS --agents 1000"
}

bench_replay() {
  info "replay export rate (JSON Lines of the stream the projector bench filled)"
  "$BENCH_BIN/rmm-replay" --nats-url "$S_NATS_URL" --nats-creds "$S_CREDS" --format jsonl \
    --output "$BENCH_WORK/export.jsonl" 2>"$BENCH_WORK/replay.err" || warn "rmm-replay failed"
  BR[replay.rate]=$(grep -o '([0-9]* msg/s)' "$BENCH_WORK/replay.err" | tail -1 | grep -o '[0-9]*' || true)
  BR[replay.events]=$(grep -o '[0-9]* messages read' "$BENCH_WORK/replay.err" | tail -1 | grep -o '^[0-9]*' || true)
  BR[replay.bytes]=$(stat -c %s "$BENCH_WORK/export.jsonl" 2>/dev/null || echo 0)
  rm -f "$BENCH_WORK/export.jsonl"
  "$BENCH_BIN/rmm-replay" --nats-url "$S_NATS_URL" --nats-creds "$S_CREDS" --format csv \
    --output /dev/null 2>"$BENCH_WORK/replay-csv.err" || true
  BR[replay.csv_rate]=$(grep -o '([0-9]* msg/s)' "$BENCH_WORK/replay-csv.err" | tail -1 | grep -o '[0-9]*' || true)
  BCMD[replay]="rmm-replay --nats-url URL --nats-creds FILE --format jsonl --output FILE"
  # The export's own ceilings on the same stream: ordered push delivery, pull fetch+ack.
  "$BENCH_BIN/rmm-bench-replay" ceilings --nats-url "$S_NATS_URL" --nats-creds "$S_CREDS" \
    >"$BENCH_WORK/replay-ceilings.out" 2>>"$BENCH_WORK/log" || warn "rmm-bench-replay failed"
  kv_into replay "$BENCH_WORK/replay-ceilings.out"
  BCMD[replay_ceilings]="rmm-bench-replay ceilings --nats-url URL --nats-creds FILE"
}

# bench_rebuild: rmm-projector rebuild of the read models from the stream the projector bench
# filled (into the stack's empty database: a new schema, then the swap).
bench_rebuild() {
  if ! "$BENCH_BIN/rmm-projector" --help 2>/dev/null | grep -q rebuild; then
    BR[rebuild.note]="not yet measurable: rmm-projector has no rebuild command in this build"
    return 0
  fi
  info "rebuild rate: rmm-projector rebuild over ${BR[replay.events]:-?} events"
  local t0 t1
  t0=$(date +%s.%N)
  if timeout 900 "$BENCH_BIN/rmm-projector" rebuild --nats-url "$S_NATS_URL" --nats-creds "$S_CREDS" \
    --pg-url "$S_PG_URL" --log-level warn >"$BENCH_WORK/rebuild.out" 2>&1; then
    t1=$(date +%s.%N)
    BR[rebuild.rate]=$(awk -v n="${BR[replay.events]:-0}" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  else
    BR[rebuild.note]="rmm-projector rebuild failed: $(tail -1 "$BENCH_WORK/rebuild.out")"
  fi
  BCMD[rebuild]="rmm-projector rebuild --nats-url URL --nats-creds FILE --pg-url PGURL"
}

bench_outbox() {
  info "outbox drain: rmm-bench-outbox ($B_OUTBOX events)"
  "$BENCH_BIN/rmm-bench-outbox" --events "$B_OUTBOX" --nats-url "$S_NATS_URL" --nats-creds "$S_CREDS" \
    >"$BENCH_WORK/outbox.out" 2>>"$BENCH_WORK/log" || warn "rmm-bench-outbox failed"
  BR[outbox.append]=$(grep -o 'append: .*: [0-9]* events/s' "$BENCH_WORK/outbox.out" | grep -o '[0-9]* events/s' | grep -o '[0-9]*' || true)
  BR[outbox.raw]=$(grep -o 'raw async publish: .*: [0-9]* msg/s' "$BENCH_WORK/outbox.out" | grep -o '[0-9]* msg/s$' | grep -o '[0-9]*' || true)
  BR[outbox.drain]=$(grep -o 'drain: .*: [0-9]* msg/s' "$BENCH_WORK/outbox.out" | grep -o '[0-9]* msg/s$' | grep -o '[0-9]*' || true)
  BCMD[outbox]="rmm-bench-outbox --events $B_OUTBOX --nats-url URL --nats-creds FILE"
}

# bench_scale <agents>: rmm-sim with N agents against the scale stack's projector; lag and
# footprint over B_STEADY seconds once every agent connected.
bench_scale() {
  local n=$1 hard
  hard=$(ulimit -Hn)
  if ((n + 200 > hard)); then
    BR[scale.$n.skip]="not measurable here: $n connections need more than this container's hard RLIMIT_NOFILE of $hard file descriptors in nats-server (the limit cannot be raised without CAP_SYS_RESOURCE)"
    warn "scale $n: ${BR[scale.$n.skip]}"
    return 0
  fi
  info "scale: $n simulated agents (heartbeat ${B_HB}, metrics ${B_METRICS}), ${B_STEADY}s steady"
  local sim_out=$BENCH_WORK/sim-$n.json sim_err=$BENCH_WORK/sim-$n.err
  local sim_args=(--nats-home "$S_HOME" --nats-url "$S_NATS_URL" --agents "$n" --connect-rate 2000
    --heartbeat-interval "$B_HB" --metrics-interval "$B_METRICS" --stats-every 5s --seed "$n")
  "$BENCH_BIN/rmm-sim" "${sim_args[@]}" >"$sim_out" 2>"$sim_err" &
  local sim_pid=$! i
  BENCH_PIDS+=("$sim_pid")
  # Wait until every agent connected once (bounded), then let the first burst settle.
  for ((i = 0; i < 600; i++)); do
    grep -q "connected $n/$n" "$sim_err" 2>/dev/null && break
    kill -0 "$sim_pid" 2>/dev/null || break
    sleep 0.5
  done
  BR[scale.$n.connected]=$(grep -o 'connected [0-9]*' "$sim_err" | tail -1 | grep -o '[0-9]*' || echo 0)
  sleep "$B_SETTLE"
  "$BENCH_BIN/rmm-bench-lag" --nats-url "$S_NATS_URL" --nats-creds "$S_CREDS" --pg-url "$S_PG_URL" \
    --seconds "$B_STEADY" --interval-ms 100 --wait-caught-up 300 \
    --watch "nats=$S_NATS_PID,postgres=$S_PG_PID,projector=$PROJ_PID,sim=$sim_pid" \
    >"$BENCH_WORK/lag-$n.out" 2>>"$BENCH_WORK/log" || warn "rmm-bench-lag failed"
  kv_into "scale.$n" "$BENCH_WORK/lag-$n.out"
  kill -TERM "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
  BENCH_PIDS=("${BENCH_PIDS[@]/$sim_pid/}")
  local k
  for k in published acked ack_errors server_errors mint_seconds ramp_seconds max_rss_kib; do
    BR[scale.$n.sim_$k]=$(json_num "$sim_out" "$k")
  done
  BR[scale.$n.measured]=1
  # Let the projector drain what is left before the next size.
  sleep 3
}

# bench_api: rmm-bench-api (the API engineer's program: its own servers, 10,000 seeded agents)
# when this build has it.
bench_api() {
  if [[ ! -x $BENCH_BIN/rmm-bench-api ]]; then
    BR[api.skip]="not yet measurable by the suite: this build has no rmm-bench-api"
    return 0
  fi
  local args=(--agents "$B_API_AGENTS" --requests "$B_API_REQUESTS")
  info "API agents list: rmm-bench-api ${args[*]}"
  if "$BENCH_BIN/rmm-bench-api" "${args[@]}" >"$BENCH_WORK/api.out" 2>>"$BENCH_WORK/log"; then
    BR[api.table]=$(grep '^|' "$BENCH_WORK/api.out" || true)
  fi
  [[ -n ${BR[api.table]:-} ]] || BR[api.skip]="rmm-bench-api failed: $(tail -1 "$BENCH_WORK/log")"
  BCMD[api]="rmm-bench-api ${args[*]}"
}

# bench_api_rate: rmm-bench-api-rate (rmm-api's throughput: the highest request rate with p99
# under 100 ms, the agents list against a static file of the same server) when this build has it.
# Its stderr holds rmm-api's access log (a line per request): kept apart from the suite's log.
bench_api_rate() {
  if [[ ! -x $BENCH_BIN/rmm-bench-api-rate ]]; then
    BR[api_rate.skip]="not yet measurable by the suite: this build has no rmm-bench-api-rate"
    return 0
  fi
  local args=(--agents "$B_API_RATE_AGENTS" "${B_API_RATE_ARGS[@]}")
  info "API throughput: rmm-bench-api-rate ${args[*]}"
  if "$BENCH_BIN/rmm-bench-api-rate" "${args[@]}" >"$BENCH_WORK/api-rate.out" 2>"$BENCH_WORK/api-rate.err"; then
    BR[api_rate.table]=$(grep '^|' "$BENCH_WORK/api-rate.out" || true)
  fi
  [[ -n ${BR[api_rate.table]:-} ]] ||
    BR[api_rate.skip]="rmm-bench-api-rate failed: $(grep -v '^ts=' "$BENCH_WORK/api-rate.err" | tail -1)"
  BCMD[api_rate]="rmm-bench-api-rate ${args[*]}"
}

bench_plots() {
  local dir=$1 data=$BENCH_WORK/scale.dat n any=0
  : >"$data"
  for n in $B_AGENTS; do
    [[ -n ${BR[scale.$n.measured]:-} ]] || continue
    any=1
    printf '%s %s %s %s %s %s %s %s\n' "$n" "${BR[scale.$n.lag_p50_ms]:-0}" "${BR[scale.$n.lag_p99_ms]:-0}" \
      "${BR[scale.$n.cpu_pct_nats]:-0}" "${BR[scale.$n.cpu_pct_projector]:-0}" "${BR[scale.$n.cpu_pct_postgres]:-0}" \
      "${BR[scale.$n.rss_mib_nats]:-0}" "${BR[scale.$n.rss_mib_projector]:-0}" >>"$data"
  done
  ((any)) || return 0
  command -v gnuplot >/dev/null 2>&1 || { warn "gnuplot missing: no plots"; return 0; }
  gnuplot <<EOF 2>>"$BENCH_WORK/log" || warn "gnuplot failed"
set terminal pngcairo size 800,450 font ",10"
set grid
set key left top
set xlabel "simulated agents (one NATS connection each)"
set output "$dir/bench-lag.png"
set title "Projection lag vs fleet size (rmm-sim, heartbeat ${B_HB}, metrics ${B_METRICS})"
set ylabel "lag (ms)"
plot "$data" using 1:2 with linespoints title "p50", "$data" using 1:3 with linespoints title "p99"
set output "$dir/bench-server.png"
set title "Server CPU and memory vs fleet size"
set ylabel "CPU (% of one core)"
set y2label "resident memory (MiB)"
set y2tics
set ytics nomirror
plot "$data" using 1:4 with linespoints title "nats-server CPU", \
     "$data" using 1:5 with linespoints title "rmm-projector CPU", \
     "$data" using 1:6 with linespoints title "PostgreSQL CPU", \
     "$data" using 1:7 axes x1y2 with linespoints dt 2 title "nats-server RSS", \
     "$data" using 1:8 axes x1y2 with linespoints dt 2 title "rmm-projector RSS"
EOF
  BR[plots]=1
}

cmd_bench() {
  local quick=0 build=1 out="" build_dir="" agents="" steady=""
  while (($#)); do
    case $1 in
      --quick) quick=1; shift ;;
      --no-build) build=0; shift ;;
      --build-dir) build_dir=$2; shift 2 ;;
      --output) out=$2; shift 2 ;;
      --agents) agents=$2; shift 2 ;;
      --steady) steady=$2; shift 2 ;;
      *) bench_usage ;;
    esac
  done
  export_source_paths
  build_dir=${build_dir:-$RMM_REPO/build-bench}
  BENCH_BIN=$build_dir/bin
  if ((quick)); then
    out=${out:-$build_dir/bench-quick.md}
    B_COUNT=10000 B_PROJ_EVENTS=10000 B_OUTBOX=10000 B_AGENTS=${agents:-"50 200"}
    B_STEADY=${steady:-5} B_SETTLE=1 B_HB=2s B_METRICS=4s B_AGENT_SECONDS=3 B_AGENT_WARMUP=2
    B_API_AGENTS=1000 B_API_REQUESTS=30 B_ROUNDTRIPS=5
    B_API_RATE_AGENTS=1000 B_API_RATE_ARGS=(--quick)
  else
    out=${out:-$RMM_REPO/docs/benchmarks.md}
    B_COUNT=200000 B_PROJ_EVENTS=200000 B_OUTBOX=200000 B_AGENTS=${agents:-"1000 5000 10000 20000"}
    B_STEADY=${steady:-60} B_SETTLE=2 B_HB=30s B_METRICS=60s B_AGENT_SECONDS=120 B_AGENT_WARMUP=15
    B_API_AGENTS=10000 B_API_REQUESTS=300 B_ROUNDTRIPS=200
    B_API_RATE_AGENTS=2000 B_API_RATE_ARGS=(--seconds 3 --bisect 4)
  fi
  if ((build)); then
    local -a extra=()
    command -v gnuplot >/dev/null 2>&1 || extra=(gnuplot-nox)
    ensure_packages "${extra[@]}"
    info "building the benchmark programs (Release) in $build_dir"
    cmake -S "$RMM_REPO" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build_dir" -j "$(jobs_count)" --target rmm-projector rmm-replay rmm-sim rmm-agent \
      rmm-admin rmm-bench-ceilings rmm-bench-lag rmm-bench-stack rmm-bench-projector rmm-bench-outbox \
      rmm-bench-replay
    # The API's figures (agents list, command round trip) need rmm-api: when it does not build,
    # those rows say so and the rest of the suite still runs.
    cmake --build "$build_dir" -j "$(jobs_count)" --target rmm-api rmm-bench-api rmm-bench-api-rate \
      rmm-bench-roundtrip ||
      warn "rmm-api, rmm-bench-api(-rate) or rmm-bench-roundtrip did not build: their figures are left out"
  fi
  local prog
  for prog in rmm-projector rmm-replay rmm-sim rmm-bench-ceilings rmm-bench-lag rmm-bench-stack \
    rmm-bench-projector rmm-bench-outbox rmm-bench-replay; do
    [[ -x $BENCH_BIN/$prog ]] || die "$BENCH_BIN/$prog is missing (build it, or drop --no-build)"
  done
  # One descriptor per simulated agent, in rmm-sim and in nats-server (inherited from here).
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  BENCH_WORK=$(mktemp -d /tmp/rmm-bench.XXXXXX)
  trap bench_cleanup EXIT
  bench_machine
  BR[mode]=$([[ $quick == 1 ]] && echo quick || echo full)

  bench_stack_start ingest
  bench_ceilings
  bench_projector
  bench_replay
  bench_rebuild
  bench_outbox
  bench_stack_stop

  bench_stack_start scale
  "$BENCH_BIN/rmm-projector" --nats-url "$S_NATS_URL" --nats-creds "$S_CREDS" --pg-url "$S_PG_URL" \
    --log-level warn >"$BENCH_WORK/projector.log" 2>&1 &
  PROJ_PID=$!
  BENCH_PIDS+=("$PROJ_PID")
  local n
  for n in $B_AGENTS; do bench_scale "$n"; done
  kill -TERM "$PROJ_PID" 2>/dev/null || true
  wait "$PROJ_PID" 2>/dev/null || true
  bench_stack_stop

  bench_api
  bench_api_rate
  bench_platform_start
  bench_roundtrip
  bench_agent_idle
  bench_platform_stop

  local doc_dir
  doc_dir=$(dirname "$out")
  mkdir -p "$doc_dir"
  bench_plots "$doc_dir"
  bench_write "$out"
  info "wrote $out"
  if ((quick)); then
    # The quick run is a smoke test: every stage must have produced its figure.
    local missing=() key
    for key in ceil.js_publish_256 ceil.js_fetch_ack ceil.pg_copy_rows ceil.rocksdb_puts proj.fold \
      replay.rate outbox.drain api.table api_rate.table roundtrip.p99_ms agent.table; do
      [[ -n ${BR[$key]:-} ]] || missing+=("$key")
    done
    for n in $B_AGENTS; do
      [[ -n ${BR[scale.$n.lag_p99_ms]:-} ]] || missing+=("scale.$n.lag_p99_ms")
      ((${BR[scale.$n.sim_acked]:-0} > 0)) || missing+=("scale.$n.sim_acked")
    done
    ((${#missing[@]} == 0)) || die "bench --quick: no figure for: ${missing[*]} (log: $(tail -3 "$BENCH_WORK/log"))"
  fi
}
