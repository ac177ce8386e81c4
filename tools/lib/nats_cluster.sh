# shellcheck shell=bash
# The local stack's NATS as a cluster: `tools/rmm up --cluster 3` (or RMM_NATS_CLUSTER=3) runs
# three nats-servers on 127.0.0.1 as one JetStream cluster, every stream with three replicas
# (docs/operations.md, "Running on three machines", has the same on real machines). Node i (1..N)
# is component nats-<i>: client port RMM_NATS_PORT+i-1, monitor RMM_NATS_MONITOR_PORT+i-1, route
# port RMM_NATS_ROUTE_PORT+i-1, config $RMM_HOME/nats/nats-server-<i>.conf, store
# $RMM_HOME/nats/node-<i>/jetstream, account JWTs $RMM_HOME/nats/node-<i>/accounts (the nodes'
# `full` resolver), log $LOG_DIR/nats-<i>.log. Every program gets every node's URL (NATS_URL) and
# moves to another node when its own dies.

# stack_components: COMPONENTS with nats replaced by the stack's nats-servers (nats_names) and
# api and projector followed by the stack's other ones (api2 .. apiN, projector2 .., stack.sh).
stack_components() {
  local c i
  for c in "${COMPONENTS[@]}"; do
    if [[ $c == nats ]]; then
      nats_names
    else
      printf '%s\n' "$c"
      [[ $c != api ]] || for ((i = 2; i <= ${RMM_APIS:-1}; i++)); do api_name "$i" && echo; done
      [[ $c != projector ]] ||
        for ((i = 2; i <= ${RMM_PROJECTORS:-1}; i++)); do projector_name "$i" && echo; done
    fi
  done
}

# nats_node_index <name>: 1 for nats and nats-1, i for nats-i.
nats_node_index() {
  if [[ $1 == nats ]]; then printf '1'; else printf '%s' "${1#nats-}"; fi
}

# nats_node_monitor_url <name>: the HTTP monitor of one node.
nats_node_monitor_url() {
  printf 'http://127.0.0.1:%s' $((RMM_NATS_MONITOR_PORT + $(nats_node_index "$1") - 1))
}

# check_nats_cluster_unchanged: a stack's JetStream store is a single server's or a cluster's;
# switching would leave the projector's checkpoints pointing into another stream.
check_nats_cluster_unchanged() {
  [[ -n $SAVED_NATS_CLUSTER && $SAVED_NATS_CLUSTER != "$RMM_NATS_CLUSTER" ]] || return 0
  die "the stack in $RMM_HOME runs $SAVED_NATS_CLUSTER nats-server(s), not $RMM_NATS_CLUSTER:" \
    "use another RMM_HOME for a cluster (its event history starts empty), or unset RMM_NATS_CLUSTER"
}

# nats_cluster_start: renders every node's config (routes to the others; TLS on the routes with
# the stack's CA unless RMM_NATS_TLS=0) and starts the nodes that are not running.
nats_cluster_start() {
  local i name nodes='' conf
  for ((i = 0; i < RMM_NATS_CLUSTER; i++)); do
    nodes+=${nodes:+,}127.0.0.1:$((RMM_NATS_ROUTE_PORT + i))
  done
  local -a tls=()
  [[ -z $NATS_CA ]] ||
    tls=(--tls-cert "$TLS_DIR/server.pem" --tls-key "$TLS_DIR/server.key" --tls-ca "$NATS_CA")
  for ((i = 1; i <= RMM_NATS_CLUSTER; i++)); do
    name=nats-$i
    already_running "$name" && continue
    conf=$RMM_HOME/nats/nats-server-$i.conf
    mkdir -p "$RMM_HOME/nats/node-$i"
    admin render-config --home "$RMM_HOME" --nats-port $((RMM_NATS_PORT + i - 1)) \
      --nats-monitor-port $((RMM_NATS_MONITOR_PORT + i - 1)) --cluster-nodes "$nodes" --node "$i" \
      --jetstream-dir "$RMM_HOME/nats/node-$i/jetstream" --out "$conf" "${tls[@]}" \
      >>"$LOG_DIR/admin.log" 2>&1 ||
      { log_tail "$LOG_DIR/admin.log"; die "rmm-admin render-config (node $i) failed"; }
    ensure_port_free $((RMM_NATS_PORT + i - 1)) RMM_NATS_PORT
    ensure_port_free $((RMM_NATS_MONITOR_PORT + i - 1)) RMM_NATS_MONITOR_PORT
    ensure_port_free $((RMM_NATS_ROUTE_PORT + i - 1)) RMM_NATS_ROUTE_PORT
    info "$name: starting on 127.0.0.1:$((RMM_NATS_PORT + i - 1)), routes on" \
      "$((RMM_NATS_ROUTE_PORT + i - 1))"
    start_bg "$name" nats-server "$LOG_DIR/$name.log" "$NATS_SERVER_BIN" -c "$conf"
  done
}

# nats_cluster_wait: until every node answers its health check (JetStream included, so the
# cluster has a meta leader), 30 s at most.
nats_cluster_wait() {
  local i name ok
  for ((i = 0; i < 120; i++)); do
    ok=1
    for name in $(nats_names); do
      check_alive "$name"
      curl -fsS -m 2 "$(nats_node_monitor_url "$name")/healthz" >/dev/null 2>&1 || ok=0
    done
    ((ok)) && return 0
    sleep 0.25
  done
  for name in $(nats_names); do log_tail "$LOG_DIR/$name.log" 10; done
  die "the nats cluster is not healthy after 30 s"
}

# nats_cluster_streams: applies the streams with three replicas; the JetStream API may still
# refuse for a moment after the meta leader's election, so a failure is retried (30 s at most).
nats_cluster_streams() {
  local out rc i
  for ((i = 0; i < 30; i++)); do
    rc=0
    out=$(admin apply-streams --nats-url "$NATS_URL" --nats-creds "$NATS_CREDS" \
      --nats-ca="$NATS_CA" --streams-dir "$RMM_REPO/broker-config/streams" \
      --jetstream-dir "$RMM_HOME/nats/node-1/jetstream" --replicas 3 2>&1) || rc=$?
    printf '%s\n' "$out" >>"$LOG_DIR/admin.log"
    ((rc == 0)) && break
    sleep 1
  done
  ((rc == 0)) || { log_tail "$LOG_DIR/admin.log"; die "rmm-admin apply-streams failed"; }
  note "streams (3 replicas): ${out//$'\n'/, }"
}

# nats_cluster_push_account: sends the RMM account JWT (every revocation in $RMM_HOME) to every
# node: a node that was down during a revocation kept the JWT it had (docs/operations.md,
# "Revoking keys on a cluster").
nats_cluster_push_account() {
  local out rc=0
  out=$(admin push-account --home "$RMM_HOME" --nats-url "$NATS_URL" --nats-ca="$NATS_CA" 2>&1) ||
    rc=$?
  printf '%s\n' "$out" >>"$LOG_DIR/admin.log"
  ((rc == 0)) || { log_tail "$LOG_DIR/admin.log"; die "rmm-admin push-account failed"; }
  note "$out"
}

# nats_cluster_up: the cluster's part of `up` (nats_up for a single server).
nats_cluster_up() {
  info "nats: a cluster of $RMM_NATS_CLUSTER nodes, identity and configs in $RMM_HOME/nats"
  admin init --home "$RMM_HOME" >>"$LOG_DIR/admin.log" 2>&1 ||
    { log_tail "$LOG_DIR/admin.log"; die "rmm-admin init failed"; }
  nats_cluster_start
  nats_cluster_wait
  nats_cluster_push_account
  nats_cluster_streams
}
