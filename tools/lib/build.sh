# shellcheck shell=bash
# Packages, builds and the test run for tools/rmm (setup, test, and the build step of up).

# Every dependency is a Debian 12 package (README.md lists them with their purpose).
# What building and running the stack needs (setup, up):
RMM_PACKAGES=(
  build-essential cmake ninja-build pkg-config g++
  libnats-dev nats-server libpqxx-dev flatbuffers-compiler libflatbuffers-dev
  librocksdb-dev libfmt-dev doctest-dev libsodium-dev libboost1.81-dev libboost-json1.81-dev
  libssl-dev ca-certificates postgresql-15 curl openssl msitools
)
# (openssl: admin/gururmm-certs makes the stack's CA and server certificate; msitools: rmm-api's
# msibuild writes a site's settings into the Windows installer it hands out.)
# What only the tests need (test): the format check and the dashboard's browser tests. Chromium pulls in systemd, cups and avahi, which a server that
# only runs GuruRMM should not get.
# wixl: api_install_test builds a Windows installer to hand out (msiinfo, from msitools, reads it).
RMM_TEST_PACKAGES=(clang-format chromium wixl)

# missing_packages <package...>: prints those that dpkg does not have installed.
missing_packages() {
  local pkg
  for pkg in "$@"; do
    if [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null) != ii* ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

# ensure_packages [extra...]: installs what is missing of RMM_PACKAGES and the extra packages;
# no apt-get at all when everything is present.
ensure_packages() {
  local -a want=("${RMM_PACKAGES[@]}" "$@")
  require_cmd dpkg-query dpkg
  local missing
  mapfile -t missing < <(missing_packages "${want[@]}")
  if ((${#missing[@]} == 0)); then
    note "all ${#want[@]} Debian packages present"
    return 0
  fi
  info "installing missing Debian packages: ${missing[*]}"
  local -a as_root=()
  if ! is_root; then
    command -v sudo >/dev/null 2>&1 ||
      die "not root and sudo is missing: as root run: apt-get install ${missing[*]}"
    as_root=(sudo)
  fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" </dev/null
  mapfile -t missing < <(missing_packages "${want[@]}")
  ((${#missing[@]} == 0)) || die "still missing after apt-get install: ${missing[*]}"
}

# ensure_node: Node.js and npm for the dashboard (api/web). The machine's own Node.js is used
# when present (Vite needs Node 20.19+); else Debian's nodejs and npm.
ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    info "installing Node.js and npm (Debian packages nodejs npm) for the dashboard"
    local -a as_root=()
    is_root || as_root=(sudo)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm </dev/null ||
      die "could not install nodejs and npm"
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  ((major >= 20)) || warn "Node.js $(node -v 2>/dev/null) is older than 20: the dashboard build may fail"
}

# build_web: the dashboard, api/web -> api/web/dist (served by rmm-api). npm ci from the
# committed lockfile when node_modules is missing or older than the lockfile; the build when a
# source is newer than the last output.
build_web() {
  local web=$RMM_REPO/api/web
  ensure_node
  if [[ ! -f $web/node_modules/.package-lock.json ||
    $web/package-lock.json -nt $web/node_modules/.package-lock.json ]]; then
    info "dashboard: npm ci in api/web"
    (cd "$web" && npm ci --no-audit --no-fund) || die "npm ci in api/web failed (output above)"
  fi
  if [[ ! -f $web/dist/index.html || -n $(find "$web/src" "$web/package-lock.json" \
    "$web/vite.config.ts" "$web/tsconfig.json" -newer "$web/dist/index.html" -print -quit) ]]; then
    info "dashboard: building api/web/dist"
    (cd "$web" && npm run --silent build) || die "dashboard build failed (output above)"
  else
    note "dashboard: api/web/dist is up to date"
  fi
}

# npm_test_dir <folder>: where the node_modules of a test fixture's lockfile (<folder>/
# package-lock.json) live: outside the clone, one directory per lockfile content, so a fresh clone
# reuses it and a changed lockfile gets its own. tests/fixtures/CMakeLists.txt computes the same
# path (keep the two in step).
npm_test_dir() {
  local hash
  hash=$(sha256sum "$1/package-lock.json" | cut -c1-16)
  printf '%s/gururmm/npm/%s-%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}" "$(basename "$1")" "$hash"
}

# install_test_npm <folder>: npm ci of a test fixture's lockfile into npm_test_dir, once;
# installed in a temporary directory and renamed, so an interrupted install is never taken for
# a finished one.
install_test_npm() {
  local src=$1 dir tmp
  dir=$(npm_test_dir "$src")
  if [[ -d $dir/node_modules ]]; then
    note "test npm packages of ${src#"$RMM_REPO"/}: $dir"
    return 0
  fi
  info "test npm packages of ${src#"$RMM_REPO"/}: npm ci into $dir"
  mkdir -p "$(dirname "$dir")"
  tmp=$(mktemp -d "$dir.tmp.XXXXXX")
  cp "$src/package.json" "$src/package-lock.json" "$tmp/"
  if ! (cd "$tmp" && npm ci --no-audit --no-fund --ignore-scripts); then
    rm -rf "$tmp"
    die "npm ci for ${src#"$RMM_REPO"/} failed (output above)"
  fi
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"  # a parallel install won: use its copy
}

jobs_count() { nproc 2>/dev/null || echo 2; }

# configure_release <dir>: the build `up` runs (optimised, with debug info, no tests).
configure_release() {
  info "configuring $1 (RelWithDebInfo, Ninja)"
  cmake -S "$RMM_REPO" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRMM_BUILD_TESTS=OFF
}

build_dir() {
  info "building $1 with -j$(jobs_count)"
  cmake --build "$1" -j "$(jobs_count)" || die "build of $1 failed (compiler output above)"
}

cmd_setup() {
  ensure_packages
  local dir=$RMM_REPO/${RMM_BUILD_DIR:-build}
  configure_release "$dir"
  build_dir "$dir"
  build_web
  info "programs are in $dir/bin; the dashboard in api/web/dist"
}

# ensure_built: for `up`. Configures only when the build dir is not configured yet (the build
# itself re-runs CMake when CMakeLists change); the build is a no-op when up to date.
ensure_built() {
  ensure_packages
  local dir=$RMM_REPO/${RMM_BUILD_DIR:-build}
  # RMM_SKIP_BUILD=1: use the programs as they are (the dashboard e2e test, run by ctest right
  # after its build).
  if [[ -z ${RMM_SKIP_BUILD:-} ]]; then
    [[ -f $dir/build.ninja ]] || configure_release "$dir"
    build_dir "$dir"
    build_web
  fi
  local prog
  for prog in rmm-admin rmm-projector rmm-api rmm-release rmm-agent; do
    [[ -x $dir/bin/$prog ]] || die "$dir/bin/$prog was not built (is its CMake target defined?)"
  done
}

# Sanitizer settings for the test run. Leak detection is on: nats.c 3.4.1 reports no leaks
# when connections, contexts and options are destroyed (checked; global state it keeps is
# still reachable at exit, which LeakSanitizer does not report), so a leak report is ours.
# Values the user already exported are appended, so they win.
sanitizer_env() {
  local asan='detect_leaks=1:halt_on_error=1:abort_on_error=0:check_initialization_order=1'
  asan+=':strict_init_order=1:detect_invalid_pointer_pairs=0:allocator_may_return_null=0'
  local ubsan='print_stacktrace=1:halt_on_error=1'
  export ASAN_OPTIONS=$asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}
  export UBSAN_OPTIONS=$ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
}

# run_ctest <build dir> <whole-run limit, s> [ctest args]: ctest on the tests of one build, bounded.
run_ctest() {
  local dir=$1 total=$2 rc
  shift 2
  info "running ctest in ${dir#"$RMM_REPO"/} (per-test timeout 600 s, whole run ${total} s)${*:+ with: $*}"
  # A subshell, so the unsets and sanitizer settings touch only ctest and the tests: the
  # fixtures start their own servers, and a user's RMM_* (say RMM_HOME of a running stack)
  # must not steer them.
  (
    while read -r var; do unset "$var"; done < <(compgen -e | grep '^RMM_' || true)
    sanitizer_env
    # timeout runs ctest in its own process group and signals the whole group, so tests and
    # the servers they started end too. That group does not get the terminal's Ctrl-C, hence
    # the trap that forwards it (wait, unlike a foreground command, lets the trap run).
    timeout --kill-after=60 "$total" \
      ctest --test-dir "$dir" --output-on-failure --no-tests=error --timeout 600 "$@" &
    tpid=$!
    trap 'kill -TERM "$tpid" 2>/dev/null || true' INT TERM HUP
    trc=0
    wait "$tpid" || trc=$?
    while kill -0 "$tpid" 2>/dev/null; do wait "$tpid" || trc=$?; done
    exit "$trc"
  ) && rc=0 || rc=$?
  if ((rc == 130 || rc == 143)); then
    die "tests interrupted"
  elif ((rc == 124)); then
    die "tests did not finish within ${total}s (RMM_TEST_TIMEOUT)"
  elif ((rc != 0)); then
    die "tests failed (ctest exit $rc)"
  fi
}

# wants_windows_tests [ctest args]: the Windows tests run with no filter, or when the arguments
# name their label (tools/rmm test -L windows).
wants_windows_tests() {
  (($# == 0)) || [[ " $* " == *windows* ]]
}

cmd_test() {
  ensure_packages "${RMM_TEST_PACKAGES[@]}"
  local dir=$RMM_REPO/${RMM_TEST_BUILD_DIR:-build-test}
  local total=${RMM_TEST_TIMEOUT:-3600}
  [[ $total =~ ^[0-9]+$ ]] || die "RMM_TEST_TIMEOUT='$total' is not a number of seconds"
  local started=$SECONDS
  local windows_bin=()
  if wants_windows_tests "$@"; then
    # First, so a broken cross build fails in minutes, before the long Linux run.
    build_windows
    # The Linux build's windows_agent_e2e_test runs this rmm-agent.exe under Wine.
    windows_bin=("-DRMM_WINDOWS_BIN_DIR=$RMM_WINDOWS_DIR/bin")
  fi
  info "configuring $dir (Debug, ASan+UBSan, tests)"
  cmake -S "$RMM_REPO" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRMM_SANITIZE=ON \
    -DRMM_BUILD_TESTS=ON "${windows_bin[@]}"
  build_dir "$dir"
  build_web
  install_test_npm "$RMM_REPO/tests/fixtures/oidc"
  # With -L windows too: the Linux build has one test of that label (windows_agent_e2e_test, the
  # Windows agent against a Linux stack), the Windows build the others.
  run_ctest "$dir" "$total" "$@"
  if wants_windows_tests "$@"; then
    local left=$((total - (SECONDS - started)))
    ((left > 60)) || left=60
    run_ctest "$RMM_WINDOWS_DIR" "$left" -L windows
  fi
  info "all tests passed"
}
