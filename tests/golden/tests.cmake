# Golden config cases: each broken YAML file beside its expected diagnostics,
# run through the native binary and through sibyl.wasm under Node.
file(GLOB_RECURSE _golden_cases CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/config/*.yaml")
foreach(case ${_golden_cases})
  file(RELATIVE_PATH _rel "${CMAKE_CURRENT_LIST_DIR}/config" "${case}")
  string(REGEX REPLACE "\\.yaml$" "" _name "${_rel}")
  string(REPLACE "/" "." _name "${_name}")
  add_test(NAME golden.native.${_name}
           COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/run-case.sh" native "${case}")
  set_tests_properties(golden.native.${_name} PROPERTIES ENVIRONMENT "SIBYL_NATIVE=$<TARGET_FILE:sibyl>")
  add_test(NAME golden.wasm.${_name}
           COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/run-case.sh" wasm "${case}")
  set_tests_properties(golden.wasm.${_name} PROPERTIES ENVIRONMENT "SIBYL_WASM=${SIBYL_WASM}")
endforeach()
