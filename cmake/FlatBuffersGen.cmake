# rmm_flatbuffers(<target> <schema>...): generates C++ headers and binary schemas (.bfbs, for
# schema-driven JSON output) into the build tree at build time; nothing generated is committed.
function(rmm_flatbuffers target)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/gen)
  set(outputs)
  foreach(schema ${ARGN})
    get_filename_component(name ${schema} NAME_WE)
    set(src ${CMAKE_CURRENT_SOURCE_DIR}/${schema})
    add_custom_command(
      OUTPUT ${out_dir}/${name}_generated.h ${out_dir}/${name}.bfbs
      COMMAND ${FLATC} --cpp --scoped-enums -o ${out_dir} ${src}
      COMMAND ${FLATC} --binary --schema --bfbs-comments -o ${out_dir} ${src}
      DEPENDS ${src}
      COMMENT "flatc ${schema}"
      VERBATIM)
    list(APPEND outputs ${out_dir}/${name}_generated.h ${out_dir}/${name}.bfbs)
  endforeach()
  add_custom_target(${target}_gen DEPENDS ${outputs})
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_gen)
  target_include_directories(${target} SYSTEM INTERFACE ${out_dir})
  target_link_libraries(${target} INTERFACE flatbuffers::flatbuffers_shared)
endfunction()
