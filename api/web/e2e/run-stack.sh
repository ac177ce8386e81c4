#!/usr/bin/env bash
# The dashboard's end-to-end test against a whole stack: `tools/rmm up` in a temporary RMM_HOME
# on free ports with the programs of <build dir>, a second agent whose hostname is hostile
# markup, then e2e/stack.e2e.mjs in headless Chromium, then `tools/rmm down`.
#
#   api/web/e2e/run-stack.sh <build dir>     (ctest runs it as web_e2e_test)
# RMM_E2E_KEEP=1 leaves the stack up and the home in place for a look afterwards.
# RMM_E2E_STACK_HOME=<RMM_HOME of a running stack> uses that stack instead (left running).
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
web=$repo/api/web
build=$(readlink -f "${1:?usage: run-stack.sh <build dir>}")
chromium=${RMM_CHROMIUM:-/usr/bin/chromium}
hostile='<img src=x onerror=alert(1)>'

fail() {
  echo "web_e2e: $*" >&2
  exit 1
}
[[ -x $chromium ]] || fail "$chromium is missing: tools/rmm setup installs Debian's chromium"
command -v node >/dev/null || fail "node is missing: tools/rmm setup installs it"
[[ -f $web/dist/index.html ]] || fail "api/web/dist is not built: run tools/rmm setup (npm run build)"
[[ -d $web/node_modules/playwright-core ]] || fail "api/web/node_modules is missing: npm ci in api/web"
for p in rmm-admin rmm-agent rmm-api rmm-projector; do
  [[ -x $build/bin/$p ]] || fail "$build/bin/$p is not built"
done

own_stack=1
if [[ -n ${RMM_E2E_STACK_HOME:-} ]]; then
  home=$(readlink -f "$RMM_E2E_STACK_HOME")
  own_stack=''
else
  home=$(mktemp -d "${TMPDIR:-/tmp}/rmm-web-e2e.XXXXXX")
  chmod 0755 "$home"
fi
hostile_pid=''
load_pid=''
export RMM_HOME=$home
export RMM_BUILD_DIR
RMM_BUILD_DIR=$(realpath --relative-to="$repo" "$build")
export RMM_SKIP_BUILD=1
# Plain HTTP on loopback: the browser test needs no CA (the API's HTTPS has its own tests).
export RMM_API_TLS=0
# Four free 127.0.0.1 ports, held together while chosen so they differ.
[[ -z $own_stack ]] || read -r RMM_NATS_PORT RMM_NATS_MONITOR_PORT RMM_PG_PORT RMM_API_PORT < <(node -e '
  const net = require("net"); const s = [0,1,2,3].map(() => net.createServer());
  Promise.all(s.map((x) => new Promise((r) => x.listen(0, "127.0.0.1", () => r(x.address().port)))))
    .then((p) => { console.log(p.join(" ")); s.forEach((x) => x.close()); });')
[[ -z $own_stack ]] || export RMM_NATS_PORT RMM_NATS_MONITOR_PORT RMM_PG_PORT RMM_API_PORT

cleanup() {
  local rc=$?
  # The load may have ended on its own (a long run): a failed kill must not end the cleanup.
  [[ -z $load_pid ]] || kill "$load_pid" 2>/dev/null || true
  if ((rc != 0)); then
    echo "--- stack logs (last lines) ---" >&2
    "$repo/tools/rmm" logs -n 25 >&2 2>&1 || true
    [[ ! -f $home/logs/hostile-agent.log ]] || tail -n 20 "$home/logs/hostile-agent.log" >&2 || true
  fi
  if [[ -z $own_stack ]]; then
    [[ -z $hostile_pid ]] || kill "$hostile_pid" 2>/dev/null || true
    rm -rf "$home/hostile"
    exit "$rc"
  fi
  if [[ -n ${RMM_E2E_KEEP:-} ]]; then
    echo "web_e2e: stack left up in $home (RMM_HOME=$home tools/rmm down)" >&2
    exit "$rc"
  fi
  [[ -z $hostile_pid ]] || { kill "$hostile_pid" 2>/dev/null && sleep 0.5; } || true
  "$repo/tools/rmm" down >/dev/null 2>&1 || "$repo/tools/rmm" down || true
  rm -rf "$home"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n $own_stack ]]; then
  echo "web_e2e: tools/rmm up in $home (api port $RMM_API_PORT)"
  "$repo/tools/rmm" up
fi
# shellcheck disable=SC1091
source "$home/env"
agent_id=$(<"$home/agent/agent_id")
admin_user=${RMM_ADMIN_USER:-}
[[ -n $admin_user ]] || fail "RMM_ADMIN_USER is not in $home/env (the first owner bootstrap)"
password_file=${RMM_ADMIN_PASSWORD_FILE:-$home/admin-password}
[[ -s $password_file ]] || fail "$password_file is missing (the first owner bootstrap)"

# The hostile agent: the real rmm-agent, enrolled with its own code, in its own UTS and mount
# namespaces where the hostname is markup and /etc/machine-id another machine's (else the
# enrollment would recognise this machine and hand back the local agent's identity).
site=$(<"$home/tenancy/default_site_id")
code=$("$build/bin/rmm-admin" create-enrollment-code --site "$site" --ttl 1h \
  --nats-url "$RMM_NATS_URL" --nats-creds "$RMM_NATS_CREDS" --pg-url "$RMM_PG_URL" 2>>"$home/logs/admin.log")
mkdir -p "$home/hostile"
od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$home/hostile/machine-id"
echo >>"$home/hostile/machine-id"
userns=()
[[ $(id -u) -eq 0 ]] || userns=(--user --map-root-user)
RMM_CODE=$code HOSTILE=$hostile B=$build/bin H=$home unshare "${userns[@]}" --uts --mount \
  --propagation private sh -c '
    printf %s "$HOSTILE" >/proc/sys/kernel/hostname || exit 1
    mount --bind "$H/hostile/machine-id" /etc/machine-id || exit 1
    "$B/rmm-agent" enroll --server "$RMM_NATS_URL" --state-dir "$H/hostile/state" \
      --enroll-creds "$H/nats/enroll.creds" --ca-file="$RMM_NATS_CA" || exit 1
    unset RMM_CODE
    exec "$B/rmm-agent" --state-dir "$H/hostile/state" --nats-url "$RMM_NATS_URL"' \
  >>"$home/logs/hostile-agent.log" 2>&1 &
hostile_pid=$!
for ((i = 0; i < 100; i++)); do
  [[ -s $home/hostile/state/agent_id ]] && break
  kill -0 "$hostile_pid" 2>/dev/null || fail "the hostile agent exited: $(tail -n 5 "$home/logs/hostile-agent.log")"
  sleep 0.2
done
hostile_id=$(<"$home/hostile/state/agent_id")
echo "web_e2e: local agent $agent_id, hostile agent $hostile_id"

# CPU load for the cpu alert (threshold lowered by the test through the policy API); bounded.
timeout 300 sh -c 'while :; do :; done' &
load_pid=$!

RMM_E2E_URL=$RMM_API_URL RMM_E2E_USER=$admin_user RMM_E2E_PASSWORD_FILE=$password_file \
  RMM_E2E_AGENT_ID=$agent_id RMM_E2E_HOSTILE_ID=$hostile_id RMM_E2E_SHOTS=$build \
  node "$web/e2e/stack.e2e.mjs"
