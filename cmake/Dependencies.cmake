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
# rmm-api's single sign-on: TLS to the identity provider and ID-token signatures (libssl-dev);
# TOTP's HMAC-SHA1 (libsodium has no SHA-1).
find_package(OpenSSL 3 REQUIRED)
find_program(FLATC flatc REQUIRED)
find_program(NATS_SERVER nats-server)

# RocksDB for the agent: the shared library is ~9 MiB of pages the agent touches at start; linking
# the static archive brings in only the objects it uses (docs/benchmarks.md, agent footprint).
option(RMM_ROCKSDB_STATIC "Link the agent against librocksdb.a" ON)
add_library(rmm_rocksdb INTERFACE)
find_library(ROCKSDB_STATIC_LIB librocksdb.a)
if(RMM_ROCKSDB_STATIC AND ROCKSDB_STATIC_LIB)
  target_include_directories(rmm_rocksdb INTERFACE
                             $<TARGET_PROPERTY:RocksDB::rocksdb-shared,INTERFACE_INCLUDE_DIRECTORIES>)
  target_link_libraries(rmm_rocksdb INTERFACE ${ROCKSDB_STATIC_LIB} snappy z bz2 lz4 zstd gflags
                        Threads::Threads)
else()
  target_link_libraries(rmm_rocksdb INTERFACE RocksDB::rocksdb-shared)
endif()
