sibyl_unit_test(unit_value "${CMAKE_CURRENT_LIST_DIR}/test_value.c")
sibyl_unit_test(unit_yaml "${CMAKE_CURRENT_LIST_DIR}/test_yaml.c")
sibyl_unit_test(unit_json "${CMAKE_CURRENT_LIST_DIR}/test_json.c")

# The YAML and JSON tests again as wasm32-wasi (built by the wasi preset).
find_program(SIBYL_NODE node REQUIRED)
foreach(_t unit_yaml unit_json)
  add_test(NAME ${_t}_wasm
           COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
                   "${SIBYL_WASI_DIR}/tests/wasm-units/${_t}.wasm")
  set_tests_properties(${_t}_wasm PROPERTIES LABELS wasm)
endforeach()
