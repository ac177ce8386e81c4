# shellcheck shell=bash disable=SC2154,SC2034
# (BR, BCMD, BENCH_WORK, BENCH_BIN and B_* belong to bench.sh, which sources this file.)
# tools/rmm bench: the figures that need the whole platform (rmm-api, rmm-projector and a real,
# enrolled rmm-agent): the command round trip and the agent's idle footprint. The platform is
# `tools/rmm up` itself, run with this bench's programs in a throwaway RMM_HOME on free ports
# (the same way api/web/e2e/run-stack.sh does), and `tools/rmm down` afterwards.

P_HOME=
P_UP=0

# bench_free_ports <n>: n distinct free 127.0.0.1 ports below the kernel's ephemeral range (bounded
# tries; racy like any such pick, but `tools/rmm up` fails clearly when a port was taken
# meanwhile). Below it, because after the scale runs thousands of client sockets may still hold
# ephemeral ports, which a listener cannot bind.
bench_free_ports() {
  local want=$1 tries port out=() low _
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  ((low > 12000)) || low=32768
  for ((tries = 0; tries < 200 && ${#out[@]} < want; tries++)); do
    port=$((10000 + RANDOM % (low - 10000)))
    [[ " ${out[*]} " == *" $port "* ]] && continue
    port_in_use "$port" && continue
    out+=("$port")
  done
  ((${#out[@]} == want)) || return 1
  printf '%s\n' "${out[@]}"
}

# bench_platform_env: the variables tools/rmm up/down read for the bench's platform (plain HTTP
# on loopback: rmm-bench-roundtrip speaks no TLS).
bench_platform_env() {
  env RMM_HOME="$P_HOME" RMM_BUILD_DIR="$(realpath --relative-to="$RMM_REPO" "$BENCH_BIN/..")" \
    RMM_SKIP_BUILD=1 RMM_NATS_PORT="$P_NATS_PORT" RMM_NATS_MONITOR_PORT="$P_MON_PORT" \
    RMM_PG_PORT="$P_PG_PORT" RMM_API_PORT="$P_API_PORT" \
    RMM_PROJECTOR_PORT="$P_PROJ_PORT" RMM_API_TLS=0 "$@"
}

# bench_platform_start: sets P_UP=1 and P_* (home, API URL, agent id, admin password file) when
# the platform came up; else P_UP=0 and BR[platform.note] says why.
bench_platform_start() {
  local prog
  for prog in rmm-admin rmm-api rmm-agent rmm-projector; do
    if [[ ! -x $BENCH_BIN/$prog ]]; then
      BR[platform.note]="this build has no $prog"
      return 0
    fi
  done
  local ports
  mapfile -t ports < <(bench_free_ports 5) || true
  if ((${#ports[@]} != 5)); then
    BR[platform.note]="no free ports for the platform"
    return 0
  fi
  P_NATS_PORT=${ports[0]} P_MON_PORT=${ports[1]} P_PG_PORT=${ports[2]} P_API_PORT=${ports[3]}
  P_PROJ_PORT=${ports[4]}
  # Its own directory, traversable: as root, PostgreSQL runs as the postgres user.
  P_HOME=$(mktemp -d /tmp/rmm-bench-platform.XXXXXX)
  chmod 0755 "$P_HOME"
  info "platform: tools/rmm up in $P_HOME (api port $P_API_PORT)"
  if bench_platform_env timeout 300 "$RMM_REPO/tools/rmm" up >"$BENCH_WORK/platform-up.log" 2>&1; then
    P_UP=1
    P_API_URL=http://127.0.0.1:$P_API_PORT
    P_AGENT_ID=$(<"$P_HOME/agent/agent_id")
    P_PASSWORD_FILE=$P_HOME/admin-password
  else
    BR[platform.note]="tools/rmm up failed: $(grep -v '^ ' "$BENCH_WORK/platform-up.log" | tail -1)"
    warn "${BR[platform.note]}"
  fi
}

bench_platform_stop() {
  [[ -n $P_HOME ]] || return 0
  bench_platform_env "$RMM_REPO/tools/rmm" down >>"$BENCH_WORK/platform-up.log" 2>&1 || true
  rm -rf "$P_HOME"
  P_HOME='' P_UP=0
}

# bench_roundtrip: rmm-bench-roundtrip against the platform's API and agent.
bench_roundtrip() {
  if ((P_UP == 0)); then
    BR[roundtrip.skip]="the platform did not start (${BR[platform.note]:-})"
    return 0
  fi
  if [[ ! -x $BENCH_BIN/rmm-bench-roundtrip ]]; then
    BR[roundtrip.skip]="this build has no rmm-bench-roundtrip"
    return 0
  fi
  local args=(--count "$B_ROUNDTRIPS" --timeout 30s)
  info "command round trip: rmm-bench-roundtrip ${args[*]}"
  if "$BENCH_BIN/rmm-bench-roundtrip" --api-url "$P_API_URL" --user admin \
    --password-file "$P_PASSWORD_FILE" --agent "$P_AGENT_ID" "${args[@]}" \
    >"$BENCH_WORK/roundtrip.out" 2>>"$BENCH_WORK/log"; then
    kv_into roundtrip "$BENCH_WORK/roundtrip.out"
  else
    BR[roundtrip.skip]="rmm-bench-roundtrip failed: $(tail -1 "$BENCH_WORK/log")"
    warn "${BR[roundtrip.skip]}"
  fi
  BCMD[roundtrip]="rmm-bench-roundtrip --api-url URL --user admin --password-file FILE --agent ID ${args[*]}"
}

# bench_agent_idle: tools/bench/agent_idle.sh (a second agent of its own) against the platform.
bench_agent_idle() {
  if ((P_UP == 0)); then
    BR[agent.skip]="the platform did not start (${BR[platform.note]:-})"
    return 0
  fi
  local args=(--seconds "$B_AGENT_SECONDS" --warmup "$B_AGENT_WARMUP")
  info "agent idle footprint: tools/bench/agent_idle.sh ${args[*]}"
  if RMM_HOME=$P_HOME "$RMM_REPO/tools/bench/agent_idle.sh" "${args[@]}" \
    --agent-bin "$(realpath "$BENCH_BIN")/rmm-agent" >"$BENCH_WORK/agent.out" 2>>"$BENCH_WORK/log"; then
    BR[agent.table]=$(grep '^|' "$BENCH_WORK/agent.out" || true)
    BR[agent.build]=$(grep -m1 '^CMAKE_BUILD_TYPE:' "$BENCH_BIN/../CMakeCache.txt" 2>/dev/null | cut -d= -f2)
  else
    BR[agent.skip]="agent_idle.sh failed: $(tail -1 "$BENCH_WORK/log")"
    warn "${BR[agent.skip]}"
  fi
  BCMD[agent]="RMM_HOME=<tools/rmm up home> tools/bench/agent_idle.sh ${args[*]} --agent-bin BUILD/bin/rmm-agent"
}
