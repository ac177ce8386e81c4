# The ctest fixture `debs` (tests/CMakeLists.txt): this build's gururmm-server and gururmm-agent
# .debs, made by cpack into OUT (old ones removed first, so a test never installs a stale one).
#   cmake -DCPACK=<cpack> -DBUILD=<build dir> -DOUT=<dir> -P make_debs.cmake
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${CPACK} --config ${BUILD}/CPackConfig.cmake -B ${OUT}
                RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
file(WRITE ${OUT}/cpack.log "${log}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cpack failed (${rc}):\n${log}")
endif()
file(REMOVE_RECURSE ${OUT}/_CPack_Packages)
file(GLOB debs ${OUT}/*.deb)
list(LENGTH debs n)
if(NOT n EQUAL 2)
  message(FATAL_ERROR "cpack made ${n} .debs, not 2: ${debs}")
endif()
message(STATUS "packages: ${debs}")
