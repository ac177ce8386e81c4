# Cross build for 64-bit Windows with Debian's MinGW-w64 (g++-mingw-w64-x86-64-posix: GCC 12 with
# the posix thread model, which std::thread, std::mutex and C++23 need). Used by the Windows agent
# build (tools/rmm windows) and by the dependency builds of tools/lib/windows_deps.sh.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(RMM_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${RMM_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${RMM_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${RMM_MINGW_TRIPLE}-windres)
set(CMAKE_AR ${RMM_MINGW_TRIPLE}-gcc-ar-posix CACHE FILEPATH "")
set(CMAKE_RANLIB ${RMM_MINGW_TRIPLE}-gcc-ranlib-posix CACHE FILEPATH "")

# Libraries and headers come from the MinGW sysroot and the prefixes of the dependencies built
# for it (RMM_WINDOWS_DEPS_PREFIXES, given by the caller); programs such as flatc from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${RMM_MINGW_TRIPLE} ${RMM_WINDOWS_DEPS_PREFIXES})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES RMM_WINDOWS_DEPS_PREFIXES)

# No MinGW DLLs to ship: libgcc, libstdc++ and winpthread are linked in.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
