# shellcheck shell=bash
# tools/rmm windows: the Windows agent, updater and watchdog, cross-compiled with MinGW-w64 into
# build-windows/bin (statically linked: no DLLs to ship), their installer
# build-windows/gururmm-agent-<version>-x64.msi (packaging/windows, wixl), and their tests (run
# under Wine by tools/rmm test). The dependencies come from tools/lib/windows_deps.sh.

# configure_windows <dir>: configures the cross build against the cached dependency prefixes.
configure_windows() {
  info "configuring $1 (Windows x86_64, MinGW-w64, Release)"
  cmake -S "$RMM_REPO" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$RMM_REPO/cmake/toolchains/mingw-w64-x86_64.cmake" \
    -DRMM_WINDOWS_DEPS_PREFIXES="$RMM_WINDOWS_DEPS_PREFIXES" -DRMM_BUILD_TESTS=ON >/dev/null ||
    die "configuring the Windows build failed (output above)"
}

# build_windows: packages, dependencies, the build; sets RMM_WINDOWS_DIR.
build_windows() {
  ensure_packages "${RMM_WINDOWS_PACKAGES[@]}"
  ensure_windows_deps
  RMM_WINDOWS_DIR=$RMM_REPO/${RMM_WINDOWS_BUILD_DIR:-build-windows}
  configure_windows "$RMM_WINDOWS_DIR"
  build_dir "$RMM_WINDOWS_DIR"
  local prog
  for prog in rmm-agent rmm-updater rmm-watchdog; do
    [[ -f $RMM_WINDOWS_DIR/bin/$prog.exe ]] || die "$RMM_WINDOWS_DIR/bin/$prog.exe was not built"
  done
  compgen -G "$RMM_WINDOWS_DIR/gururmm-agent-*-x64.msi" >/dev/null ||
    die "the installer $RMM_WINDOWS_DIR/gururmm-agent-<version>-x64.msi was not built"
}

cmd_windows() {
  build_windows
  info "Windows programs are in $RMM_WINDOWS_DIR/bin: $(cd "$RMM_WINDOWS_DIR/bin" && echo *.exe)"
  info "their installer: $(echo "$RMM_WINDOWS_DIR"/gururmm-agent-*-x64.msi)"
}
