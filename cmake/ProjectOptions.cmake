# Flags for the project's own targets: call rmm_project_target(<target>) on every target we own.
add_library(rmm_project_options INTERFACE)
target_compile_options(rmm_project_options INTERFACE -Wall -Wextra -Wpedantic -Werror
                       -Wno-missing-field-initializers)
target_include_directories(rmm_project_options INTERFACE ${PROJECT_SOURCE_DIR})

# GCC 12 reports -Wrestrict on std::string concatenation inlined at -O3 (GCC bug 105329, a false
# positive fixed in GCC 13): with -Werror it breaks Release builds of correct code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(rmm_project_options INTERFACE -Wno-restrict)
endif()

if(RMM_SANITIZE)
  target_compile_options(rmm_project_options INTERFACE -fsanitize=address,undefined
                         -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(rmm_project_options INTERFACE -fsanitize=address,undefined)
endif()

function(rmm_project_target target)
  target_link_libraries(${target} PRIVATE rmm_project_options)
endfunction()
