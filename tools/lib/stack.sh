# shellcheck shell=bash
# The local stack: up, down, status, logs. Components, in start order:
#   postgres (pg.sh), nats (nats-server), projector, api, rollout (the rollout controller,
#   rmm-release rollout-controller), agent (build/bin programs). With RMM_APIS=N, api2..apiN are
#   more rmm-api processes on the next ports (see extra_apis).
# Every daemon runs in its own session with a pid file in $RMM_HOME/run and a log in
# $RMM_HOME/logs; `down` stops exactly those pids (checked against the program name, so a
# recycled pid is never signalled).

COMPONENTS=(postgres nats projector api rollout agent)

# component_program <name>: the executable name a component's pid must run.
component_program() {
  case $1 in
    nats | nats-[1-5]) printf 'nats-server' ;;
    projector | api | agent) printf 'rmm-%s' "$1" ;;
    api[2-9]) printf 'rmm-api' ;;
    projector[2-4]) printf 'rmm-projector' ;;
    rollout) printf 'rmm-release' ;;
    *) die "unknown component '$1' (one of: ${COMPONENTS[*]})" ;;
  esac
}

# make_home: the RMM_HOME tree. run/ and logs/ stay traversable so that, as root, the postgres
# user can reach its socket directory and log; secrets/ is private.
make_home() {
  mkdir -p "$RMM_HOME"
  make_dir 0755 "$RUN_DIR" "$LOG_DIR"
  make_dir 0700 "$SECRETS_DIR"
  chmod 0700 "$SECRETS_DIR"
}

# save_ports: the ports of this stack, for later up, status and down (see load_settings).
save_ports() {
  local p
  {
    for p in "${RMM_PORT_VARS[@]}"; do printf '%s=%s\n' "$p" "${!p}"; done
    printf 'RMM_API_TLS=%s\n' "$RMM_API_TLS"
    printf 'RMM_NATS_CLUSTER=%s\n' "$RMM_NATS_CLUSTER"
    printf 'RMM_APIS=%s\n' "$RMM_APIS"
    printf 'RMM_PROJECTORS=%s\nRMM_PARTITIONED=%s\n' "$RMM_PROJECTORS" "$RMM_PARTITIONED"
  } >"$RUN_DIR/ports"
}

# any_running: true when some component of this stack runs.
any_running() {
  local name
  pg_paths
  pg_pid >/dev/null && return 0
  for name in $(nats_names) projector $(extras projector running) api $(extras api running) \
    rollout agent; do
    component_pid "$name" "$(component_program "$name")" >/dev/null && return 0
  done
  return 1
}

# check_port_changes: new ports need a stopped stack (running servers keep their old ports).
check_port_changes() {
  local changed
  changed=$(ports_changed)
  [[ -n $changed ]] || return 0
  if any_running; then
    die "the stack in $RMM_HOME runs with other ports (${changed//$'\n'/, }):" \
      "run 'tools/rmm down' first, or unset the port variables"
  fi
  note "ports changed: ${changed//$'\n'/, }"
}

admin() { "$RMM_BIN/rmm-admin" "$@"; }

# api_curl [curl args]: curl to the stack's API, trusting only the stack's private CA.
api_curl() {
  if [[ $RMM_API_TLS == 1 ]]; then
    curl --cacert "$TLS_DIR/ca.pem" "$@"
  else
    curl "$@"
  fi
}

# check_alive <name>: fails with the log tail when a component we started has exited.
check_alive() {
  local prog
  prog=$(component_program "$1")
  component_pid "$1" "$prog" >/dev/null && return 0
  log_tail "$LOG_DIR/$1.log" 30
  die "$1 exited (log: $LOG_DIR/$1.log)"
}

# already_running <name>: reports and succeeds when the pid file points at the live program.
already_running() {
  local pid prog started
  prog=$(component_program "$1")
  pid=$(component_pid "$1" "$prog") || return 1
  info "$1: already running (pid $pid), left alone"
  if [[ $prog == rmm-* ]] && started=$(proc_start_epoch "$pid") &&
    (($(stat -L -c %Y "$RMM_BIN/$prog") > started)); then
    warn "$1 runs an older build than $RMM_BIN/$prog: 'tools/rmm down' then 'up' to restart it"
  fi
}

# tls_up: the stack's private CA and a server certificate for 127.0.0.1 and localhost in
# $TLS_DIR (made once; reissued when the names change or it nears expiry). nats-server requires
# TLS with it, and every NATS client pins the CA (docs/operations.md, "TLS"); rmm-api serves
# HTTPS with it.
tls_up() {
  info "tls: CA and server certificate in $TLS_DIR"
  "$RMM_REPO/admin/gururmm-certs" ensure --dir "$TLS_DIR" --name 127.0.0.1 --name localhost \
    >>"$LOG_DIR/admin.log" 2>&1 || { log_tail "$LOG_DIR/admin.log"; die "gururmm-certs ensure failed"; }
}

nats_up() {
  if ((RMM_NATS_CLUSTER > 1)); then
    nats_cluster_up
    return
  fi
  info "nats: identity and config in $RMM_HOME/nats"
  admin init --home "$RMM_HOME" >>"$LOG_DIR/admin.log" 2>&1 ||
    { log_tail "$LOG_DIR/admin.log"; die "rmm-admin init failed"; }
  mkdir -p "$RMM_HOME/nats"
  if ! already_running nats; then
    local -a tls=()
    [[ -z $NATS_CA ]] || tls=(--tls-cert "$TLS_DIR/server.pem" --tls-key "$TLS_DIR/server.key")
    admin render-config --home "$RMM_HOME" --nats-port "$RMM_NATS_PORT" \
      --nats-monitor-port "$RMM_NATS_MONITOR_PORT" --out "$RMM_HOME/nats/nats-server.conf" \
      "${tls[@]}" >>"$LOG_DIR/admin.log" 2>&1 ||
      { log_tail "$LOG_DIR/admin.log"; die "rmm-admin render-config failed"; }
    ensure_port_free "$RMM_NATS_PORT" RMM_NATS_PORT
    ensure_port_free "$RMM_NATS_MONITOR_PORT" RMM_NATS_MONITOR_PORT
    local mode='TLS required'
    [[ -n $NATS_CA ]] || mode='plaintext (RMM_NATS_TLS=0)'
    info "nats: starting on 127.0.0.1:$RMM_NATS_PORT, $mode (monitor $RMM_NATS_MONITOR_PORT)"
    start_bg nats nats-server "$LOG_DIR/nats.log" "$NATS_SERVER_BIN" \
      -c "$RMM_HOME/nats/nats-server.conf"
  fi
  local i
  for ((i = 0; i < 80; i++)); do
    check_alive nats
    curl -fsS -m 2 "$NATS_MONITOR_URL/healthz" >/dev/null 2>&1 && break
    sleep 0.25
  done
  ((i < 80)) || { log_tail "$LOG_DIR/nats.log"; die "nats-server not healthy after 20 s"; }
  local out rc=0
  # Limits: RMM_* settings of the caller's shell (RMM_EVENTS_MAX_BYTES, RMM_STORAGE_BUDGET...)
  # reach rmm-admin; otherwise a new stream gets its share of half the store's free disk.
  out=$(admin apply-streams --nats-url "$NATS_URL" --nats-creds "$NATS_CREDS" --nats-ca="$NATS_CA" \
    --streams-dir "$RMM_REPO/broker-config/streams" --jetstream-dir "$RMM_HOME/nats/jetstream" \
    2>&1) || rc=$?
  printf '%s\n' "$out" >>"$LOG_DIR/admin.log"
  ((rc == 0)) || { log_tail "$LOG_DIR/admin.log"; die "rmm-admin apply-streams failed"; }
  note "streams: ${out//$'\n'/, }"
}

# api_name <n>, api_port <n>, api_url <n>: the n-th rmm-api of the stack (1: api, on
# RMM_API_PORT; n: api<n>, on RMM_API_PORT + n - 1).
api_name() { if (($1 == 1)); then printf 'api'; else printf 'api%s' "$1"; fi; }
api_port() { printf '%s' $((RMM_API_PORT + $1 - 1)); }
api_url() { printf '%s' "${API_URL%:*}:$(api_port "$1")"; }

# extras api|projector running|all: the names of <base>2..<base>9 that run (or have a pid file),
# in order.
extras() {
  local i name
  for ((i = 2; i <= 9; i++)); do
    name=$1$i
    if [[ $2 == running ]]; then
      component_pid "$name" "rmm-$1" >/dev/null || continue
    else
      [[ -f $(pid_file "$name") ]] || continue
    fi
    printf '%s\n' "$name"
  done
}

projector_name() { if (($1 == 1)); then printf 'projector'; else printf 'projector%s' "$1"; fi; }
projector_port() { printf '%s' $((RMM_PROJECTOR_PORT + $1 - 1)); }

# projector_start <n>: starts the n-th rmm-projector; with RMM_PARTITIONED=1 every one folds its
# share of the partitioned projection's units.
projector_start() {
  local name port partitions=()
  name=$(projector_name "$1")
  port=$(projector_port "$1")
  ensure_port_free "$port" \
    "$([[ $1 == 1 ]] && printf RMM_PROJECTOR_PORT || printf 'RMM_PROJECTOR_PORT or RMM_PROJECTORS')"
  ((RMM_PARTITIONED == 0)) || partitions=(--partitions=16)
  info "$name: starting (metrics and health on http://127.0.0.1:$port${partitions:+, partitioned})"
  start_bg "$name" rmm-projector "$LOG_DIR/$name.log" env PGPASSFILE="$PGPASS_FILE" \
    "$RMM_BIN/rmm-projector" --nats-url "$NATS_URL" --nats-creds "$PROJECTOR_CREDS" \
    --nats-ca="$NATS_CA" --pg-url "$PG_URL" --http-host 127.0.0.1 --http-port "$port" \
    --migrations-dir "$RMM_REPO/projector/migrations" "${partitions[@]}"
}

# api_start <n>: starts the n-th rmm-api. Every one has the same settings but its port: they share
# the database, the broker and the enrollment responder's queue group (docs/operations.md,
# "Several APIs").
api_start() {
  local name port url
  name=$(api_name "$1")
  port=$(api_port "$1")
  url=$(api_url "$1")
  ensure_port_free "$port" "$([[ $1 == 1 ]] && printf RMM_API_PORT || printf 'RMM_API_PORT or RMM_APIS')"
  info "$name: starting on $url"
  local tls=() msi=()
  [[ $RMM_API_TLS == 0 ]] || tls=(--tls-cert "$TLS_DIR/server.pem" --tls-key "$TLS_DIR/server.key")
  # The Windows installer the dashboard offers per site: `tools/rmm windows`'s MSI, when built.
  local windows=$RMM_REPO/${RMM_WINDOWS_BUILD_DIR:-build-windows}
  ! compgen -G "$windows/gururmm-agent-*-x64.msi" >/dev/null ||
    msi=(--windows-installer-dir "$windows")
  start_bg "$name" rmm-api "$LOG_DIR/$name.log" env PGPASSFILE="$PGPASS_FILE" \
    "$RMM_BIN/rmm-api" --listen "127.0.0.1:$port" "${tls[@]}" --pg-url "$PG_URL" \
    --nats-url "$NATS_URL" --nats-creds "$API_CREDS" --nats-ca="$NATS_CA" \
    --enroll-home "$RMM_HOME" \
    --command-keys "$RMM_HOME/command-keys" \
    --agent-packages-dir "${RMM_BIN%/bin}/packages" "${msi[@]}" \
    --web-dir "$RMM_REPO/api/web/dist"
}

# stop_extras <base> <count>: stops the <base>2.. past <count> (an `up` with fewer than the last).
stop_extras() {
  local name pid
  for name in $(extras "$1" all); do
    ((${name#"$1"} > $2)) || continue
    if pid=$(component_pid "$name" "rmm-$1"); then
      info "$name: stopping (pid $pid; RMM_${1^^}S=$2)"
      stop_pid "$name" "$pid"
    fi
    rm -f "$(pid_file "$name")"
  done
}

services_up() {
  local i
  for ((i = 1; i <= RMM_PROJECTORS; i++)); do
    already_running "$(projector_name "$i")" || projector_start "$i"
  done
  stop_extras projector "$RMM_PROJECTORS"
  for ((i = 1; i <= RMM_APIS; i++)); do
    already_running "$(api_name "$i")" || api_start "$i"
  done
  stop_extras api "$RMM_APIS"
  # (--agent-packages-dir: the .debs of `tools/rmm package`, for the dashboard's install line.)
  # Moves the rollouts created in the dashboard through their rings (docs/updates.md).
  if ! already_running rollout; then
    info "rollout: starting the rollout controller"
    start_bg rollout rmm-release "$LOG_DIR/rollout.log" env PGPASSFILE="$PGPASS_FILE" \
      "$RMM_BIN/rmm-release" rollout-controller --pg-url "$PG_URL" --nats-url "$NATS_URL" \
      --nats-creds "$ROLLOUT_CREDS" --nats-ca="$NATS_CA" --command-keys "$RMM_HOME/command-keys"
  fi
  local n=1 name
  for ((i = 0; i < 120; i++)); do
    check_alive projector
    check_alive rollout
    name=$(api_name "$n")
    check_alive "$name"
    if api_curl -fsS -m 2 "$(api_url "$n")/healthz" >/dev/null 2>&1; then
      ((n++ < RMM_APIS)) || return 0
      continue
    fi
    sleep 0.25
  done
  log_tail "$LOG_DIR/$name.log"
  die "$name not healthy at $(api_url "$n")/healthz after 30 s"
}

# owner_up: creates the first owner ("admin", a random password) once, when no user exists yet:
# the password is printed here only, and kept in $RMM_HOME/admin-password (mode 0600) for scripts.
# No default password ever exists. The projector applies the auth schema migration, so retry
# while it is not there yet.
owner_up() {
  local f=$RMM_HOME/admin-password tmp rc i
  tmp=$(umask 077 && mktemp "$RMM_HOME/.admin-password.XXXXXX")
  (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$tmp")
  for ((i = 0; i < 40; i++)); do
    rc=0
    PGPASSFILE=$PGPASS_FILE "$RMM_BIN/rmm-api" create-user --if-no-user --username admin \
      --role owner --display-name "Administrator" --password-file "$tmp" --pg-url "$PG_URL" \
      --nats-url "$NATS_URL" --nats-creds "$API_CREDS" --nats-ca="$NATS_CA" \
      >>"$LOG_DIR/admin.log" 2>&1 || rc=$?
    ((rc == 1)) || break
    sleep 0.5
  done
  case $rc in
    0)
      mv -f "$tmp" "$f"
      chmod 0600 "$f"
      info "first owner created: user 'admin', password (shown only now, kept in $f):"
      printf '  %s\n' "$(<"$f")"
      ;;
    3) rm -f "$tmp" ;;
    *)
      rm -f "$tmp"
      log_tail "$LOG_DIR/admin.log"
      die "rmm-api create-user failed"
      ;;
  esac
}

# api_token: signs in as the bootstrap owner and prints a session token (empty when that fails,
# e.g. while the projector has not folded the new user yet).
api_token() {
  local f=$RMM_HOME/admin-password
  [[ -s $f ]] || return 0
  # The password goes through stdin, never argv (visible to every local user in ps).
  printf '{"username":"admin","password":"%s"}' "$(<"$f")" |
    api_curl -fsS -m 5 -H 'content-type: application/json' --data-binary @- \
      "$API_URL/api/v1/auth/login" 2>/dev/null | sed -n 's/.*"token":"\([A-Za-z0-9_-]*\)".*/\1/p'
}

# default_site: prints the id of the stack's default site, creating a default client and site
# (as control events, applied by the projector) the first time.
default_site() {
  local f=$RMM_HOME/tenancy/default_site_id client site
  if [[ -s $f ]]; then
    cat "$f"
    return 0
  fi
  mkdir -p "$RMM_HOME/tenancy"
  local -a ctl=(--nats-url "$NATS_URL" --nats-creds "$NATS_CREDS" --nats-ca="$NATS_CA"
    --pg-url "$PG_URL")
  client=$(PGPASSFILE=$PGPASS_FILE admin create-client --name "Default client" "${ctl[@]}" \
    2>>"$LOG_DIR/admin.log") || { log_tail "$LOG_DIR/admin.log"; die "rmm-admin create-client failed"; }
  site=$(PGPASSFILE=$PGPASS_FILE admin create-site --client "$client" --name "Default site" \
    "${ctl[@]}" 2>>"$LOG_DIR/admin.log") ||
    { log_tail "$LOG_DIR/admin.log"; die "rmm-admin create-site failed"; }
  printf '%s\n' "$site" >"$f"
  printf '%s\n' "$site"
}

# enroll_local_agent <state dir>: enrolls the local agent like any other, with a fresh one-hour
# code for the default site (docs/enrollment.md). The code travels in the environment, not argv.
enroll_local_agent() {
  local site code i out rc
  site=$(default_site)
  code=$(PGPASSFILE=$PGPASS_FILE admin create-enrollment-code --site "$site" --ttl 1h \
    --nats-url "$NATS_URL" --nats-creds "$NATS_CREDS" --nats-ca="$NATS_CA" --pg-url "$PG_URL" \
    2>>"$LOG_DIR/admin.log") ||
    { log_tail "$LOG_DIR/admin.log"; die "rmm-admin create-enrollment-code failed"; }
  info "agent: enrolling with a code for site $site"
  # The API's responder subscribes just after /healthz answers: retry while nobody answers.
  for ((i = 0; i < 20; i++)); do
    rc=0
    out=$(RMM_CODE=$code "$RMM_BIN/rmm-agent" enroll --server "$NATS_URL" --state-dir "$1" \
      --enroll-creds "$RMM_HOME/nats/enroll.creds" --ca-file="$NATS_CA" 2>&1) || rc=$?
    printf '%s\n' "$out" >>"$LOG_DIR/admin.log"
    if ((rc == 0)) || [[ $out != *"no enrollment responder"* ]]; then break; fi
    sleep 0.5
  done
  ((rc == 0)) || { log_tail "$LOG_DIR/admin.log"; die "rmm-agent enroll failed"; }
}

# agent_up: prints nothing; sets AGENT_ID. An agent that already has an identity keeps it.
agent_up() {
  local state=$RMM_HOME/agent
  if [[ ! -s $state/agent_id || ! -s $state/agent.creds ]]; then
    enroll_local_agent "$state"
  fi
  AGENT_ID=$(<"$state/agent_id")
  [[ $AGENT_ID =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
    die "$state/agent_id holds '$AGENT_ID', not an agent id"
  already_running agent && return 0
  # An agent enrolled before commands were signed trusts no command key yet
  # (docs/command-signing.md).
  if [[ ! -s $state/command_keys ]]; then
    local -a keys
    mapfile -t keys <"$RMM_HOME/command-keys/trusted_keys"
    "$RMM_BIN/rmm-agent" trust-command-keys --state-dir "$state" "${keys[@]}" \
      >>"$LOG_DIR/admin.log" 2>&1 || die "rmm-agent trust-command-keys failed"
  fi
  info "agent: starting ($AGENT_ID)"
  # It pins $state/ca.pem, which enrollment copied from NATS_CA; an agent enrolled before the
  # stack had TLS has none, so it is given the CA here.
  start_bg agent rmm-agent "$LOG_DIR/agent.log" "$RMM_BIN/rmm-agent" --state-dir "$state" \
    --nats-url "$NATS_URL" --nats-ca="$NATS_CA"
}

write_env_file() {
  local f=$RMM_HOME/env
  (
    umask 077
    printf '# GuruRMM stack in %s, written by tools/rmm up. Use: source %q\n' "$RMM_HOME" "$f"
    printf 'export RMM_HOME=%q\n' "$RMM_HOME"
    printf 'export RMM_NATS_URL=%q\n' "$NATS_URL"
    printf 'export RMM_PG_URL=%q\n' "$PG_URL"
    printf '# The rmm password is in this libpq password file, not in RMM_PG_URL.\n'
    printf 'export PGPASSFILE=%q\n' "$PGPASS_FILE"
    printf 'export RMM_API_URL=%q\n' "$API_URL"
    local i urls=$API_URL
    for ((i = 2; i <= RMM_APIS; i++)); do urls+=" $(api_url "$i")"; done
    printf 'export RMM_API_URLS=%q\n' "$urls"
    printf 'export RMM_NATS_CREDS=%q\n' "$NATS_CREDS"
    printf 'export RMM_NATS_CA=%q\n' "$NATS_CA"
    if [[ -s $RMM_HOME/admin-password ]]; then
      printf 'export RMM_ADMIN_USER=admin\n'
      printf 'export RMM_ADMIN_PASSWORD_FILE=%q\n' "$RMM_HOME/admin-password"
    fi
  ) >"$f"
  chmod 0600 "$f"
}

# wait_agent_listed: until the API serves the local agent by its id (GET /api/v1/agents/{id}
# answers 200 once the projector has folded it), however many agents the stack holds.
wait_agent_listed() {
  info "waiting (up to 60 s) for the API to list agent $AGENT_ID"
  local i token=""
  for ((i = 0; i < 120; i++)); do
    check_alive projector
    check_alive api
    check_alive agent
    [[ -n $token ]] || token=$(api_token)
    if [[ -n $token ]] && api_curl -fsS -m 2 -o /dev/null -H "authorization: Bearer $token" \
      "$API_URL/api/v1/agents/$AGENT_ID" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  log_tail "$LOG_DIR/agent.log" 10
  log_tail "$LOG_DIR/projector.log" 10
  [[ -n $token ]] || die "cannot sign in to $API_URL as admin (see $LOG_DIR/api.log)"
  die "agent $AGENT_ID not listed by $API_URL/api/v1/agents after 60 s (the stack stays up:" \
    "tools/rmm logs, tools/rmm down)"
}

cmd_up() {
  local i
  make_home
  check_port_changes
  check_nats_cluster_unchanged
  ensure_built
  # nats-server is in /usr/sbin, which is not on a normal user's PATH.
  NATS_SERVER_BIN=$(PATH=$PATH:/usr/sbin command -v nats-server) ||
    die "nats-server not found: run 'tools/rmm setup'"
  require_cmd curl curl
  save_ports
  tls_up
  pg_up
  nats_up
  services_up
  owner_up
  agent_up
  write_env_file
  wait_agent_listed
  info "GuruRMM is up"
  printf '  dashboard:  %s/\n' "$API_URL"
  for ((i = 2; i <= RMM_APIS; i++)); do
    printf '              %s/   (%s: the same dashboard, for a load balancer)\n' "$(api_url "$i")" \
      "$(api_name "$i")"
  done
  [[ $RMM_API_TLS == 0 ]] ||
    printf '  CA:         %s   (import it into your browser or accept the warning)\n' \
      "$TLS_DIR/ca.pem"
  printf '  env file:   %s   (source it for RMM_* URLs and PGPASSFILE)\n' "$RMM_HOME/env"
  printf '  status:     tools/rmm status     logs: tools/rmm logs [component] [-f]\n'
  printf '  stop:       tools/rmm down%s\n' \
    "$([[ $RMM_HOME != "$RMM_REPO/.rmm" ]] && printf ' (with RMM_HOME=%q)' "$RMM_HOME")"
}

cmd_down() {
  local name prog pid f
  for name in agent rollout $(extras api all) api $(extras projector all) projector \
    $(nats_names); do
    prog=$(component_program "$name")
    f=$(pid_file "$name")
    if pid=$(component_pid "$name" "$prog"); then
      info "$name: stopping (pid $pid)"
      stop_pid "$name" "$pid"
    elif [[ -f $f ]]; then
      note "$name: stale pid file removed"
    else
      note "$name: not running"
    fi
    rm -f "$f"
  done
  pg_down
  info "stack in $RMM_HOME is down"
}

# health_of <name>: one word for the status table.
health_of() {
  case $1 in
    postgres) pg_healthy && echo ok || echo "not ready (pg_isready)" ;;
    nats | nats-[1-5]) curl -fsS -m 2 "$(nats_node_monitor_url "$1")/healthz" >/dev/null 2>&1 &&
      echo ok || echo "unhealthy ($(nats_node_monitor_url "$1")/healthz)" ;;
    api | api[2-9])
      local url
      url=$(api_url "$( [[ $1 == api ]] && echo 1 || echo "${1#api}")")
      api_curl -fsS -m 2 "$url/healthz" >/dev/null 2>&1 && echo ok || echo "unhealthy ($url/healthz)"
      ;;
    projector | projector[2-4])
      local purl
      purl=http://127.0.0.1:$(projector_port "$([[ $1 == projector ]] && echo 1 || echo "${1#projector}")")
      curl -fsS -m 2 "$purl/healthz" >/dev/null 2>&1 && echo ok || echo "unhealthy ($purl/healthz)"
      ;;
    *) echo - ;;
  esac
}

# losses_status: the stream-loss line of `status` (docs/operations.md, "When the stream
# overflows"): events the stream deleted before the projector folded them. Fails while a loss is
# not acknowledged; says "unknown" (and does not fail) when the database cannot be asked.
losses_status() {
  local out rc=0
  if ! pg_healthy; then
    printf 'stream losses: unknown (postgres not ready)\n'
    return 0
  fi
  out=$(PGPASSFILE=$PGPASS_FILE "$RMM_BIN/rmm-projector" losses --pg-url "$PG_URL" \
    --nats-creds "$NATS_CREDS" --migrations-dir "$RMM_REPO/projector/migrations" 2>&1) || rc=$?
  case $rc in
    0) printf 'stream losses: none\n' ;;
    1)
      printf 'stream losses: UNACKNOWLEDGED, %s\n' "$(tail -n 1 <<<"$out")"
      head -n -1 <<<"$out" | sed 's/^/  /'
      return 1
      ;;
    *) printf 'stream losses: unknown (%s)\n' "$(tail -n 1 <<<"$out")" ;;
  esac
}

cmd_status() {
  pg_paths
  local api_ports=$RMM_API_PORT
  ((RMM_APIS == 1)) || api_ports+="-$(api_port "$RMM_APIS")"
  printf 'stack %s (nats %s, postgres %s, api %s, projector %s)\n' "$RMM_HOME" "$RMM_NATS_PORT" \
    "$RMM_PG_PORT" "$api_ports" "$RMM_PROJECTOR_PORT"
  printf '%-10s %-8s %-8s %s\n' COMPONENT PID STATE HEALTH
  local name pid rc=0 health
  for name in $(stack_components); do
    if [[ $name == postgres ]]; then
      pid=$(pg_pid) || pid=''
    else
      pid=$(component_pid "$name" "$(component_program "$name")") || pid=''
    fi
    if [[ -n $pid ]]; then
      health=$(health_of "$name")
      [[ $health == ok || $health == - || $rc -ne 0 ]] || rc=1
      printf '%-10s %-8s %-8s %s\n' "$name" "$pid" running "$health"
    else
      rc=3
      printf '%-10s %-8s %-8s %s\n' "$name" - stopped -
    fi
  done
  if ! losses_status && ((rc == 0)); then rc=1; fi
  if ! streams_status && ((rc == 0)); then rc=1; fi
  return "$rc"
}

# streams_status: how full each stream is, and what is close to a limit (rmm-admin stream-usage).
# Fails when something deserves a warning; says nothing when nats is not running.
streams_status() {
  component_pid "$(nats_names | head -n 1)" nats-server >/dev/null || return 0
  [[ -x $RMM_BIN/rmm-admin && -f $NATS_CREDS ]] || return 0
  local out rc=0
  out=$(admin stream-usage --nats-url "$NATS_URL" --nats-creds "$NATS_CREDS" --nats-ca="$NATS_CA" \
    --streams-dir "$RMM_REPO/broker-config/streams" 2>&1) || rc=$?
  printf '\n%s\n' "$out"
  return "$rc"
}

cmd_logs() {
  local follow=0 lines=100 name=''
  while (($#)); do
    case $1 in
      -f | --follow) follow=1 ;;
      -n) lines=${2:?-n needs a number}; shift ;;
      -*) die "logs: unknown option $1" ;;
      *) [[ -z $name ]] || die "logs: one component at most"; name=$1 ;;
    esac
    shift
  done
  [[ $lines =~ ^[0-9]+$ ]] || die "logs: -n wants a number of lines"
  local -a files=()
  if [[ -n $name ]]; then
    [[ $name == postgres || $name == admin ]] || component_program "$name" >/dev/null
    files=("$LOG_DIR/$name.log")
    [[ -e ${files[0]} ]] || die "no log yet: ${files[0]}"
  else
    local c
    for c in $(stack_components) admin; do
      [[ -e $LOG_DIR/$c.log ]] && files+=("$LOG_DIR/$c.log")
    done
    ((${#files[@]})) || die "no logs in $LOG_DIR (has 'tools/rmm up' run?)"
  fi
  if ((follow)); then
    exec tail -n "$lines" -F "${files[@]}"
  fi
  tail -n "$lines" "${files[@]}"
}
