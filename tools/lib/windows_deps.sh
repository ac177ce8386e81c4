# shellcheck shell=bash
# The Windows agent's dependencies that Debian does not package for MinGW (OpenSSL, libsodium,
# nats.c with TLS, RocksDB), built from the source tarballs pinned in third_party/SHA256SUMS.
#
# Each one is built once into its own prefix under the cache, named by a key made of its
# tarball's sum, its recipe (the bash function below), the compiler and the keys of what it links:
# a second build, a fresh clone or another checkout reuses it; a changed recipe gets a new prefix.
# A prefix is built in a temporary directory and renamed when complete, so an interrupted build is
# never taken for a finished one. Nothing is downloaded: the tarballs come from
# RMM_THIRD_PARTY_DIR (default ../shared/third_party next to the repository).

MINGW_TRIPLE=x86_64-w64-mingw32
MINGW_CC=$MINGW_TRIPLE-gcc-posix
MINGW_CXX=$MINGW_TRIPLE-g++-posix
# Debian packages the Windows build needs on top of RMM_PACKAGES: the compilers (posix threads),
# zlib for MinGW, what libsodium's tag archive needs to generate its configure, Wine to run the
# tests, and msitools and wixl (packaged apart in Debian 12) for the installer.
RMM_WINDOWS_PACKAGES=(
  g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix mingw-w64-tools libz-mingw-w64-dev
  autoconf automake libtool make perl wine64 msitools wixl
)

windows_cache_dir() { printf '%s/gururmm/mingw-deps\n' "${XDG_CACHE_HOME:-$HOME/.cache}"; }

third_party_dir() {
  local dir=${RMM_THIRD_PARTY_DIR:-$RMM_REPO/../shared/third_party}
  [[ -d $dir ]] || die "no source tarballs in '$dir': set RMM_THIRD_PARTY_DIR to the folder with the files of third_party/SHA256SUMS"
  (cd "$dir" && pwd)
}

# tarball_sum <file name>: its pinned SHA-256.
tarball_sum() {
  local sum
  sum=$(awk -v f="$1" '$2 == f { print $1 }' "$RMM_REPO/third_party/SHA256SUMS")
  [[ -n $sum ]] || die "third_party/SHA256SUMS pins no '$1'"
  printf '%s\n' "$sum"
}

# unpack_checked <file name> <into>: checks the tarball against its pin, then unpacks it.
unpack_checked() {
  local file=$1 into=$2 src sum
  src=$(third_party_dir)/$file
  [[ -f $src ]] || die "missing source tarball $src"
  sum=$(tarball_sum "$file")
  [[ $(sha256sum "$src" | cut -d' ' -f1) == "$sum" ]] ||
    die "$src does not match its SHA-256 in third_party/SHA256SUMS: refusing to build it"
  tar -xzf "$src" -C "$into"
}

# --- recipes: build_<name> <source dir> <prefix> [prefixes of dependencies] ---
# Only what the agent, updater and watchdog use: libraries, no programs, tests or docs.

build_openssl() {
  # Static libcrypto and libssl for nats.c's TLS and the CA pin (common/nats_tls.cc). Algorithms
  # and features TLS 1.2/1.3 to nats-server do not need are left out: the cold build is shorter.
  (cd "$1" &&
    CC=$MINGW_CC AR=$MINGW_TRIPLE-ar RANLIB=$MINGW_TRIPLE-ranlib RC=$MINGW_TRIPLE-windres \
      ./Configure mingw64 --prefix="$2" --libdir=lib no-shared no-tests no-module no-engine \
      no-dso no-legacy no-comp no-ssl3 no-dtls no-srp no-gost no-idea no-seed no-md4 no-mdc2 \
      no-rc2 no-rc4 no-rc5 no-whirlpool no-cast no-bf no-camellia no-aria no-sm2 no-sm3 no-sm4 \
      no-siphash no-cms no-ts no-ocsp no-ct no-srtp no-sctp no-des no-ec2m no-uplink \
      no-ui-console no-autoload-config -O2 &&
    make -j "$(jobs_count)" build_libs && make install_dev)
}

build_sodium() {
  # The tag archive has no configure yet; autogen.sh must not fetch config.guess (no network).
  (cd "$1" && DO_NOT_UPDATE_CONFIG_SCRIPTS=1 ./autogen.sh &&
    ./configure --host=$MINGW_TRIPLE CC=$MINGW_CC --prefix="$2" --disable-shared --enable-static \
      --disable-dependency-tracking --disable-ssp CFLAGS='-O2' &&
    make -j "$(jobs_count)" && make install)
}

build_nats() {
  local openssl=$3
  cmake -S "$1" -B "$1/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$RMM_REPO/cmake/toolchains/mingw-w64-x86_64.cmake" \
    -DRMM_WINDOWS_DEPS_PREFIXES="$openssl" -DCMAKE_INSTALL_PREFIX="$2" \
    -DNATS_BUILD_WITH_TLS=ON -DNATS_BUILD_TLS_USE_OPENSSL_1_1_API=ON \
    -DNATS_BUILD_OPENSSL_STATIC_LIBS=ON -DOPENSSL_ROOT_DIR="$openssl" \
    -DNATS_BUILD_STREAMING=OFF -DNATS_BUILD_EXAMPLES=OFF -DNATS_BUILD_LIB_SHARED=OFF \
    -DBUILD_TESTING=OFF &&
    cmake --build "$1/build" -j "$(jobs_count)" && cmake --install "$1/build"
}

build_rocksdb() {
  # The outbox and the command journal use the DB, write batches, the block cache and table
  # properties: the library only, no compression libraries, tools or tests.
  cmake -S "$1" -B "$1/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$RMM_REPO/cmake/toolchains/mingw-w64-x86_64.cmake" \
    -DCMAKE_INSTALL_PREFIX="$2" -DCMAKE_CXX_FLAGS='-O2 -g0 -Wno-error' \
    -DWITH_GFLAGS=OFF -DWITH_TESTS=OFF -DWITH_ALL_TESTS=OFF -DWITH_BENCHMARK_TOOLS=OFF \
    -DWITH_TOOLS=OFF -DWITH_CORE_TOOLS=OFF -DWITH_TRACE_TOOLS=OFF -DROCKSDB_BUILD_SHARED=OFF \
    -DPORTABLE=ON -DFAIL_ON_WARNINGS=OFF -DWITH_JNI=OFF -DWITH_SNAPPY=OFF -DWITH_LZ4=OFF \
    -DWITH_ZLIB=OFF -DWITH_ZSTD=OFF -DWITH_BZ2=OFF -DWITH_XPRESS=OFF &&
    cmake --build "$1/build" -j "$(jobs_count)" --target rocksdb &&
    mkdir -p "$2/lib" && cp "$1/build/librocksdb.a" "$2/lib/" && cp -r "$1/include" "$2/"
}

# dep_key <name> <tarball> [dependency keys...]: what a prefix is named by.
dep_key() {
  local name=$1 tarball=$2
  shift 2
  {
    tarball_sum "$tarball"
    declare -f "build_$name"
    "$MINGW_CXX" --version | head -n1
    cmake --version | head -n1
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-16
}

# ensure_dep <name> <tarball> <key> [dependency prefixes...]: prints the prefix, building it first
# when the cache does not have it.
ensure_dep() {
  local name=$1 tarball=$2 key=$3
  shift 3
  local cache prefix tmp src
  cache=$(windows_cache_dir)
  prefix=$cache/$name-$key
  if [[ -f $prefix/.complete ]]; then
    note "windows dependency $name: cached in $prefix" >&2
    printf '%s\n' "$prefix"
    return 0
  fi
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.$name-$key.XXXXXX")
  info "windows dependency $name: building from $tarball (once; cached in $prefix)" >&2
  local started=$SECONDS
  unpack_checked "$tarball" "$tmp"
  src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
  # Its output goes to a log kept beside the cache, shown when the build fails.
  local log=$cache/$name-$key.log
  if ! "build_$name" "$src" "$tmp/prefix" "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -rf "$tmp"
    die "building the windows dependency $name failed (last lines above; all in $log)"
  fi
  # The prefix keeps only what builds against it: headers and libraries.
  mv -T "$tmp/prefix" "$tmp/done"
  touch "$tmp/done/.complete"
  if ! mv -T "$tmp/done" "$prefix" 2>/dev/null; then
    [[ -f $prefix/.complete ]] || die "could not move the build of $name to $prefix"
  fi
  rm -rf "$tmp"
  note "windows dependency $name built in $((SECONDS - started)) s" >&2
  printf '%s\n' "$prefix"
}

# ensure_windows_deps: builds what is missing and sets RMM_WINDOWS_DEPS_PREFIXES (;-separated).
ensure_windows_deps() {
  local k_ssl k_sodium k_nats k_rocks p_ssl p_sodium p_nats p_rocks
  k_ssl=$(dep_key openssl openssl_3.0.20.orig.tar.gz)
  p_ssl=$(ensure_dep openssl openssl_3.0.20.orig.tar.gz "$k_ssl")
  k_sodium=$(dep_key sodium libsodium_1.0.18.orig.tar.gz)
  p_sodium=$(ensure_dep sodium libsodium_1.0.18.orig.tar.gz "$k_sodium")
  k_nats=$(dep_key nats nats.c_3.4.1.orig.tar.gz "$k_ssl")
  p_nats=$(ensure_dep nats nats.c_3.4.1.orig.tar.gz "$k_nats" "$p_ssl")
  k_rocks=$(dep_key rocksdb rocksdb_7.8.3.orig.tar.gz)
  p_rocks=$(ensure_dep rocksdb rocksdb_7.8.3.orig.tar.gz "$k_rocks")
  RMM_WINDOWS_DEPS_PREFIXES="$p_ssl;$p_sodium;$p_nats;$p_rocks"
}
