# Every dependency is a Debian 12 package; tools/rmm setup installs them.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(FlatBuffers REQUIRED)
# cnats-config.cmake in Debian names a static library the package does not ship: use pkg-config.
find_package(RocksDB REQUIRED)
find_package(doctest REQUIRED)
find_package(Boost 1.81.0 EXACT REQUIRED COMPONENTS json CONFIG)
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_program(FLATC flatc REQUIRED)
find_program(NATS_SERVER nats-server)
