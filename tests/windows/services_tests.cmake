# The Windows tests of the watchdog, updater and service code (watchdog_test.cc, updater_test.cc,
# service_test.cc). Included from tests/windows/CMakeLists.txt after rmm_windows_test is defined:
#   include(services_tests.cmake)
# rmm-test-stop-helper.exe is a child those tests start; it is built next to the test programs,
# where win_test_support.cc looks for it.
add_executable(rmm-test-stop-helper stop_helper.cc)
rmm_project_target(rmm-test-stop-helper)
target_link_libraries(rmm-test-stop-helper PRIVATE rmm_common)
set_target_properties(rmm-test-stop-helper PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                                                      ${CMAKE_BINARY_DIR}/tests)

add_library(rmm_windows_test_support STATIC win_test_support.cc)
rmm_project_target(rmm_windows_test_support)
target_link_libraries(rmm_windows_test_support PUBLIC rmm_common)

rmm_windows_test(windows_watchdog_test SOURCES watchdog_test.cc
                 LIBS rmm_watchdog_core rmm_windows_test_support)
rmm_windows_test(windows_updater_test SOURCES updater_test.cc
                 LIBS rmm_updater_core rmm_windows_test_support)
rmm_windows_test(windows_service_test SOURCES service_test.cc LIBS rmm_windows_test_support)
foreach(test windows_watchdog_test windows_updater_test windows_service_test)
  add_dependencies(${test} rmm-test-stop-helper)
endforeach()
