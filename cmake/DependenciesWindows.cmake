# Dependencies of the Windows cross build (tools/rmm windows; toolchain
# cmake/toolchains/mingw-w64-x86_64.cmake). The libraries Debian does not package for MinGW come
# from the prefixes tools/lib/windows_deps.sh builds from pinned sources (RMM_WINDOWS_DEPS_PREFIXES);
# header-only parts of Debian's Linux packages (fmt, FlatBuffers, Boost, doctest) serve this build
# unchanged; zlib is Debian's libz-mingw-w64-dev. The targets carry the names the Linux build's
# cmake/Dependencies.cmake gives, so the components' CMakeLists are the same for both.
find_package(Threads REQUIRED)
find_program(FLATC flatc REQUIRED)  # a host program: the toolchain never searches the sysroot for programs

# Only these folders of /usr/include reach the MinGW compiler, through links: glibc's headers
# beside them must not.
set(RMM_HOST_HEADERS ${CMAKE_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${RMM_HOST_HEADERS})
foreach(dir fmt flatbuffers boost doctest)
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "/usr/include/${dir} is missing: run tools/rmm setup (Debian packages)")
  endif()
  file(CREATE_LINK /usr/include/${dir} ${RMM_HOST_HEADERS}/${dir} SYMBOLIC)
endforeach()

add_library(rmm_host_headers INTERFACE)
target_include_directories(rmm_host_headers SYSTEM INTERFACE ${RMM_HOST_HEADERS})

add_library(fmt::fmt INTERFACE IMPORTED)
target_link_libraries(fmt::fmt INTERFACE rmm_host_headers)
target_compile_definitions(fmt::fmt INTERFACE FMT_HEADER_ONLY)
add_library(flatbuffers::flatbuffers_shared INTERFACE IMPORTED)
target_link_libraries(flatbuffers::flatbuffers_shared INTERFACE rmm_host_headers)
add_library(doctest::doctest INTERFACE IMPORTED)
target_link_libraries(doctest::doctest INTERFACE rmm_host_headers)
add_library(Boost::headers INTERFACE IMPORTED)
target_link_libraries(Boost::headers INTERFACE rmm_host_headers)
# Boost.JSON built from its headers into one object (Debian ships no MinGW library of it).
add_library(rmm_boost_json STATIC ${PROJECT_SOURCE_DIR}/common/platform/windows/boost_json_src.cc)
target_link_libraries(rmm_boost_json PUBLIC rmm_host_headers)
add_library(Boost::json ALIAS rmm_boost_json)

# rmm_windows_dep(<target> <header> <library names> [LIBS <more>] [DEFINES <defs>])
function(rmm_windows_dep target header)
  cmake_parse_arguments(D "" "" "NAMES;LIBS;DEFINES" ${ARGN})
  string(MAKE_C_IDENTIFIER ${target} id)
  find_path(${id}_INCLUDE ${header} REQUIRED)
  find_library(${id}_LIBRARY NAMES ${D_NAMES} REQUIRED)
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  target_include_directories(${target} SYSTEM INTERFACE ${${id}_INCLUDE})
  target_link_libraries(${target} INTERFACE ${${id}_LIBRARY} ${D_LIBS})
  target_compile_definitions(${target} INTERFACE ${D_DEFINES})
endfunction()

# OpenSSL's static libraries need the Windows libraries its system layer calls. libssl names
# libcrypto again after itself: static archives resolve left to right, and rmm_common's own use of
# libcrypto can put it before libssl on the link line.
set(RMM_OPENSSL_SYSTEM_LIBS ws2_32 crypt32 user32 advapi32 bcrypt)
rmm_windows_dep(OpenSSL::Crypto openssl/crypto.h NAMES libcrypto.a LIBS ${RMM_OPENSSL_SYSTEM_LIBS})
rmm_windows_dep(OpenSSL::SSL openssl/ssl.h NAMES libssl.a
                LIBS ${OpenSSL__Crypto_LIBRARY} ${RMM_OPENSSL_SYSTEM_LIBS})
rmm_windows_dep(PkgConfig::NATS nats/nats.h NAMES libnats_static.a LIBS OpenSSL::SSL ws2_32)
rmm_windows_dep(PkgConfig::SODIUM sodium.h NAMES libsodium.a DEFINES SODIUM_STATIC)
rmm_windows_dep(rmm_rocksdb rocksdb/db.h NAMES librocksdb.a LIBS shlwapi rpcrt4 Threads::Threads)
