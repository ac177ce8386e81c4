# shellcheck shell=bash disable=SC2034
# Shared helpers for tools/rmm: messages, settings, pid files, port checks.
# Sourced by tools/rmm (which sets RMM_REPO and `set -euo pipefail`); defines functions only.

if [[ -t 2 ]]; then
  _c_red=$'\e[31m' _c_yel=$'\e[33m' _c_grn=$'\e[32m' _c_dim=$'\e[2m' _c_off=$'\e[0m'
else
  _c_red='' _c_yel='' _c_grn='' _c_dim='' _c_off=''
fi

info() { printf '%s==>%s %s\n' "$_c_grn" "$_c_off" "$*" >&2; }
note() { printf '%s    %s%s\n' "$_c_dim" "$*" "$_c_off" >&2; }
warn() { printf '%swarning:%s %s\n' "$_c_yel" "$_c_off" "$*" >&2; }
die() {
  printf '%serror:%s %s\n' "$_c_red" "$_c_off" "$*" >&2
  exit 1
}

# export_source_paths: the programs' path defaults are the installed layout
# (common/install_paths.h); programs run from a checkout read the source tree's instead.
export_source_paths() {
  export RMM_MIGRATIONS_DIR=$RMM_REPO/projector/migrations
  export RMM_STREAMS_DIR=$RMM_REPO/broker-config/streams
  export RMM_WEB_DIR=$RMM_REPO/api/web/dist
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# require_cmd <command> <package>: fail with the package to install when a command is missing.
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found: run 'tools/rmm setup' (Debian package $2)"
}

# check_port <name> <value>: a TCP port number in 1..65535.
check_port() {
  if [[ ! $2 =~ ^[0-9]+$ ]] || ((10#$2 < 1 || 10#$2 > 65535)); then
    die "$1='$2' is not a TCP port number (1-65535)"
  fi
}

RMM_PORT_VARS=(RMM_NATS_PORT RMM_PG_PORT RMM_API_PORT RMM_NATS_MONITOR_PORT RMM_PROJECTOR_PORT
  RMM_NATS_ROUTE_PORT)

# load_settings: RMM_HOME (absolute) and the ports. A port comes from the environment, else from
# $RMM_HOME/run/ports (what the last `up` of this stack used), else its default; so a stack
# started with custom ports keeps them for later up, status and down.
load_settings() {
  RMM_HOME=${RMM_HOME:-$RMM_REPO/.rmm}
  [[ $RMM_HOME == /* ]] || RMM_HOME=$PWD/$RMM_HOME
  RMM_HOME=${RMM_HOME%/}
  RMM_BIN=$RMM_REPO/${RMM_BUILD_DIR:-build}/bin
  RUN_DIR=$RMM_HOME/run
  LOG_DIR=$RMM_HOME/logs
  SECRETS_DIR=$RMM_HOME/secrets
  # The full-rights operator credential (rmm-admin, the env file); each service gets its own,
  # with only the subjects it uses (docs/architecture.md, "Identity and permissions").
  NATS_CREDS=$RMM_HOME/nats/services.creds
  API_CREDS=$RMM_HOME/nats/api.creds
  PROJECTOR_CREDS=$RMM_HOME/nats/projector.creds
  ROLLOUT_CREDS=$RMM_HOME/nats/rollout.creds
  # The stack's private CA and server certificate (admin/gururmm-certs; tls_up in stack.sh):
  # every NATS client pins NATS_CA. RMM_NATS_TLS=0 keeps NATS plaintext on loopback, for the
  # fleet simulator (tools/sim speaks NATS without TLS); give it to status and down too.
  TLS_DIR=$RMM_HOME/tls
  NATS_CA=$TLS_DIR/ca.pem
  [[ ${RMM_NATS_TLS:-1} != 0 ]] || NATS_CA=''
  PGPASS_FILE=$SECRETS_DIR/pgpass
  local p key value
  declare -gA SAVED_PORTS=() EXPLICIT_PORTS=()
  if [[ -f $RUN_DIR/ports ]]; then
    while IFS='=' read -r key value; do
      [[ " ${RMM_PORT_VARS[*]} " == *" $key "* ]] && SAVED_PORTS[$key]=$value
    done <"$RUN_DIR/ports"
  fi
  for p in "${RMM_PORT_VARS[@]}"; do
    if [[ -n ${!p:-} ]]; then
      EXPLICIT_PORTS[$p]=1
    elif [[ -n ${SAVED_PORTS[$p]:-} ]]; then
      printf -v "$p" '%s' "${SAVED_PORTS[$p]}"
    fi
  done
  RMM_NATS_PORT=${RMM_NATS_PORT:-14222}
  RMM_PG_PORT=${RMM_PG_PORT:-15432}
  RMM_API_PORT=${RMM_API_PORT:-8080}
  RMM_NATS_MONITOR_PORT=${RMM_NATS_MONITOR_PORT:-18222}
  RMM_PROJECTOR_PORT=${RMM_PROJECTOR_PORT:-8091}
  RMM_NATS_ROUTE_PORT=${RMM_NATS_ROUTE_PORT:-16222}
  for p in "${RMM_PORT_VARS[@]}"; do
    check_port "$p" "${!p}"
  done
  # The API serves HTTPS with the certificates of $TLS_DIR unless RMM_API_TLS=0 (the dashboard's
  # e2e test and the benchmarks' platform: plain HTTP on loopback); kept with the ports.
  if [[ -z ${RMM_API_TLS:-} && -f $RUN_DIR/ports ]]; then
    RMM_API_TLS=$(sed -n 's/^RMM_API_TLS=//p' "$RUN_DIR/ports")
  fi
  RMM_API_TLS=${RMM_API_TLS:-1}
  [[ $RMM_API_TLS == [01] ]] || die "RMM_API_TLS='$RMM_API_TLS' is not 0 or 1"
  load_nats_cluster
  # RMM_APIS rmm-api processes (api, api2, ...) on RMM_API_PORT, RMM_API_PORT+1, ... over the
  # same database and broker (docs/operations.md, "Several APIs"); kept with the ports.
  if [[ -z ${RMM_APIS:-} && -f $RUN_DIR/ports ]]; then
    RMM_APIS=$(sed -n 's/^RMM_APIS=//p' "$RUN_DIR/ports")
  fi
  RMM_APIS=${RMM_APIS:-1}
  [[ $RMM_APIS == [1-9] ]] || die "RMM_APIS='$RMM_APIS' is not a number of APIs from 1 to 9"
  ((RMM_API_PORT + RMM_APIS - 1 <= 65535)) ||
    die "RMM_API_PORT=$RMM_API_PORT leaves no room for $RMM_APIS APIs (ports up to 65535)"
  # RMM_PROJECTORS rmm-projector processes (projector, projector2, ...; ops ports from
  # RMM_PROJECTOR_PORT): more than one fold the partitioned projection together
  # (docs/operations.md, "Several projectors"). Once partitioned, a stack stays so: the single
  # projection would refuse the checkpoints the units left.
  if [[ -f $RUN_DIR/ports ]]; then
    [[ -n ${RMM_PROJECTORS:-} ]] || RMM_PROJECTORS=$(sed -n 's/^RMM_PROJECTORS=//p' "$RUN_DIR/ports")
    RMM_PARTITIONED=$(sed -n 's/^RMM_PARTITIONED=//p' "$RUN_DIR/ports")
  fi
  RMM_PROJECTORS=${RMM_PROJECTORS:-1}
  [[ $RMM_PROJECTORS == [1-4] ]] ||
    die "RMM_PROJECTORS='$RMM_PROJECTORS' is not a number of projectors from 1 to 4"
  ((RMM_PROJECTORS == 1)) || RMM_PARTITIONED=1
  RMM_PARTITIONED=${RMM_PARTITIONED:-0}
  derive_urls
}

# ports_changed: prints "VAR old -> new" for ports that differ from the last up's.
ports_changed() {
  local p
  for p in "${RMM_PORT_VARS[@]}"; do
    if [[ -n ${SAVED_PORTS[$p]:-} && ${SAVED_PORTS[$p]} != "${!p}" ]]; then
      printf '%s %s -> %s\n' "$p" "${SAVED_PORTS[$p]}" "${!p}"
    fi
  done
}

# load_nats_cluster: RMM_NATS_CLUSTER, how many nats-servers the stack runs (1, or 3 or 5 as one
# cluster: `tools/rmm up --cluster 3`); kept with the ports. A stack's store is made for one or
# the other, so the count of an existing stack never changes (SAVED_NATS_CLUSTER).
load_nats_cluster() {
  SAVED_NATS_CLUSTER=''
  [[ ! -f $RUN_DIR/ports ]] || SAVED_NATS_CLUSTER=$(sed -n 's/^RMM_NATS_CLUSTER=//p' "$RUN_DIR/ports")
  # Stacks from before clusters recorded no count: one server.
  [[ -z $SAVED_NATS_CLUSTER && -d $RMM_HOME/nats/jetstream ]] && SAVED_NATS_CLUSTER=1
  RMM_NATS_CLUSTER=${RMM_NATS_CLUSTER:-${SAVED_NATS_CLUSTER:-1}}
  [[ $RMM_NATS_CLUSTER == [135] ]] ||
    die "RMM_NATS_CLUSTER='$RMM_NATS_CLUSTER': 1 (one nats-server), or 3 or 5 (a cluster)"
}

# nats_names: the component names of the stack's nats-servers: nats, or nats-1 ... nats-N.
nats_names() {
  if ((RMM_NATS_CLUSTER == 1)); then
    printf 'nats\n'
  else
    seq -f 'nats-%g' 1 "$RMM_NATS_CLUSTER"
  fi
}

# derive_urls: the URLs of the stack for the current ports (all on 127.0.0.1). Node i of a
# cluster uses the NATS ports plus i-1; NATS_URL then lists every node.
derive_urls() {
  local i
  NATS_URL=nats://127.0.0.1:$RMM_NATS_PORT
  for ((i = 1; i < RMM_NATS_CLUSTER; i++)); do
    NATS_URL+=,nats://127.0.0.1:$((RMM_NATS_PORT + i))
  done
  NATS_MONITOR_URL=http://127.0.0.1:$RMM_NATS_MONITOR_PORT
  API_URL=http://127.0.0.1:$RMM_API_PORT
  [[ $RMM_API_TLS == 0 ]] || API_URL=https://127.0.0.1:$RMM_API_PORT
  PROJECTOR_URL=http://127.0.0.1:$RMM_PROJECTOR_PORT
  PG_URL=postgresql://rmm@127.0.0.1:$RMM_PG_PORT/rmm
}

# port_in_use <port>: true when something accepts connections on 127.0.0.1:<port>.
port_in_use() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# ensure_port_free <port> <variable>: fail clearly when another program holds the port.
ensure_port_free() {
  if port_in_use "$1"; then
    die "port $1 on 127.0.0.1 is already in use by another program (choose another with $2=...)"
  fi
}

# make_dir <mode> <dir>...: creates missing directories (parents must exist) with a mode.
make_dir() {
  local mode=$1 d
  shift
  for d in "$@"; do
    [[ -d $d ]] || mkdir -m "$mode" "$d"
  done
}

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# proc_running <pid>: the process exists and is not a zombie (an orphan's zombie lingers until
# pid 1 reaps it, and some container inits are slow to).
proc_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# proc_start_epoch <pid>: when the process started, in Unix seconds.
proc_start_epoch() {
  local stat btime ticks fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -ra fields <<<"${stat##*) }"
  ticks=${fields[19]} # field 22 (starttime); the array starts at field 3 (state)
  btime=$(awk '/^btime/ {print $2}' /proc/stat)
  printf '%s' $((btime + ticks / $(getconf CLK_TCK)))
}

# pid_alive <pid> <program>: the process exists and runs <program> (guards against pid reuse).
pid_alive() {
  local pid=$1 prog=$2
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  proc_running "$pid" || return 1
  [[ $(proc_argv0 "$pid") == "$prog" ]]
}

# component_pid <name> <program>: prints the pid when the pid file points at a live <program>.
component_pid() {
  local f pid
  f=$(pid_file "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  pid_alive "$pid" "$2" || return 1
  printf '%s' "$pid"
}

# proc_argv0 <pid>: the basename of a process's argv[0].
proc_argv0() {
  local argv0
  argv0=$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | head -n 1) || return 1
  printf '%s' "${argv0##*/}"
}

# start_bg <name> <program> <log> <command...>: starts a daemon in its own session and records
# its pid once the process runs <program> (setsid and env exec into it: same pid). setsid keeps
# it out of the terminal's process group (no SIGINT/SIGHUP from the shell); stdin is /dev/null.
start_bg() {
  local name=$1 prog=$2 log=$3 pid i
  shift 3
  printf '=== %s: %s start: %s\n' "$(date -u +%FT%TZ)" "$name" "$*" >>"$log"
  setsid "$@" >>"$log" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$(pid_file "$name")"
  for ((i = 0; i < 100; i++)); do
    proc_running "$pid" || return 0
    [[ $(proc_argv0 "$pid") == "$prog" ]] && return 0
    sleep 0.05
  done
}

# stop_pid <name> <pid> [seconds]: SIGTERM, bounded wait, then SIGKILL.
stop_pid() {
  local name=$1 pid=$2 secs=${3:-15} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 10; i++)); do
    proc_running "$pid" || return 0
    sleep 0.1
  done
  warn "$name (pid $pid) ignored SIGTERM for ${secs}s: sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    proc_running "$pid" || return 0
    sleep 0.1
  done
  die "$name (pid $pid) survived SIGKILL"
}

# log_tail <log> [lines]: the end of a log, indented, for failure messages.
log_tail() {
  [[ -f $1 ]] || return 0
  printf '    --- last lines of %s ---\n' "$1" >&2
  tail -n "${2:-20}" "$1" | sed 's/^/    /' >&2
}

