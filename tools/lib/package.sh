# shellcheck shell=bash
# tools/rmm package: the gururmm-server and gururmm-agent .debs (packaging/CMakeLists.txt) from
# the optimised build that `setup` and `up` use (build/, RelWithDebInfo, stripped when packed):
# one optimised configuration to build and to prove in CI, not two.

# The programs the two packages hold.
PACKAGE_TARGETS=(rmm-projector rmm-api rmm-admin rmm-release rmm-replay rmm-agent rmm-updater
  rmm-watchdog)

# make_debs <build dir> <out dir>: cpack of a configured and built tree; prints the .deb paths.
make_debs() {
  local build=$1 out=$2
  mkdir -p "$out"
  rm -f "$out"/gururmm-*.deb
  cpack --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 ||
    { tail -n 30 "$out/cpack.log" >&2; die "cpack failed (log: $out/cpack.log)"; }
  rm -rf "$out/_CPack_Packages"
  local deb
  for deb in "$out"/gururmm-server_*.deb "$out"/gururmm-agent_*.deb; do
    [[ -f $deb ]] || die "cpack made no $(basename "$deb") (log: $out/cpack.log)"
    printf '%s\n' "$deb"
  done
}

cmd_package() {
  (($# == 0)) || die "package takes no arguments"
  # dpkg-shlibdeps (dpkg-dev, from build-essential) finds the libraries' packages.
  ensure_packages
  local dir=$RMM_REPO/${RMM_BUILD_DIR:-build}
  [[ -f $dir/build.ninja ]] || configure_release "$dir"
  info "building the packaged programs with -j$(jobs_count)"
  cmake --build "$dir" -j "$(jobs_count)" --target "${PACKAGE_TARGETS[@]}" ||
    die "build of $dir failed (compiler output above)"
  build_web
  info "packaging into $dir/packages"
  local -a debs
  mapfile -t debs < <(make_debs "$dir" "$dir/packages")
  ((${#debs[@]} == 2)) || die "packaging failed (log: $dir/packages/cpack.log)"
  info "packages:"
  printf '  %s\n' "${debs[@]}"
}
