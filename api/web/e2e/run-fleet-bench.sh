#!/usr/bin/env bash
# The dashboard at fleet scale on a real stack: `tools/rmm up` in a temporary home, `rmm-sim`
# with N simulated agents (default 10000), then e2e/perf.e2e.mjs (overview and agents table in
# under 1 s). Not part of ctest (minutes of setup); run by hand:
#
#   api/web/e2e/run-fleet-bench.sh <build dir> [agents]
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
build=$(readlink -f "${1:?usage: run-fleet-bench.sh <build dir> [agents]}")
agents=${2:-10000}
[[ -x $build/bin/rmm-sim ]] || { echo "$build/bin/rmm-sim is not built" >&2; exit 1; }

home=$(mktemp -d "${TMPDIR:-/tmp}/rmm-web-bench.XXXXXX")
chmod 0755 "$home"
sim_pid=''
# rmm-sim speaks the NATS protocol itself, without TLS: this stack's NATS stays plaintext on
# loopback (docs/operations.md, "TLS").
export RMM_HOME=$home RMM_SKIP_BUILD=1 RMM_NATS_TLS=0
RMM_BUILD_DIR=$(realpath --relative-to="$repo" "$build")
export RMM_BUILD_DIR
read -r RMM_NATS_PORT RMM_NATS_MONITOR_PORT RMM_PG_PORT RMM_API_PORT < <(node -e '
  const net = require("net"); const s = [0,1,2,3].map(() => net.createServer());
  Promise.all(s.map((x) => new Promise((r) => x.listen(0, "127.0.0.1", () => r(x.address().port)))))
    .then((p) => { console.log(p.join(" ")); s.forEach((x) => x.close()); });')
export RMM_NATS_PORT RMM_NATS_MONITOR_PORT RMM_PG_PORT RMM_API_PORT
cleanup() {
  local rc=$?
  [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  "$repo/tools/rmm" down >/dev/null 2>&1 || true
  rm -rf "$home"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$repo/tools/rmm" up
# shellcheck disable=SC1091
source "$home/env"
"$build/bin/rmm-sim" --nats-home "$home" --nats-url "$RMM_NATS_URL" --agents "$agents" \
  --stats-every 10s >"$home/logs/sim.log" 2>&1 &
sim_pid=$!
echo "web bench: rmm-sim with $agents agents; waiting for the API to list them (up to 10 min)"
token=$(curl -fsS -m 10 -H 'Content-Type: application/json' \
  -d "$(node -e 'console.log(JSON.stringify({username: process.argv[1], password: require("fs").readFileSync(process.argv[2], "utf8").trim()}))' \
    "$RMM_ADMIN_USER" "${RMM_ADMIN_PASSWORD_FILE:-$home/admin-password}")" "$RMM_API_URL/api/v1/auth/login" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
for ((i = 0; i < 300; i++)); do
  n=$(curl -fsS -m 10 -H "Authorization: Bearer $token" "$RMM_API_URL/api/v1/overview" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).agents.total))')
  ((n >= agents)) && break
  kill -0 "$sim_pid" 2>/dev/null || { tail -n 20 "$home/logs/sim.log" >&2; exit 1; }
  sleep 2
done
echo "web bench: the API lists $n agents"
RMM_E2E_URL=$RMM_API_URL RMM_E2E_USER=$RMM_ADMIN_USER RMM_E2E_PASSWORD_FILE=${RMM_ADMIN_PASSWORD_FILE:-$home/admin-password} \
  node "$repo/api/web/e2e/perf.e2e.mjs"
