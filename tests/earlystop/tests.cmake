sibyl_unit_test(unit_earlystop "${CMAKE_CURRENT_LIST_DIR}/test_earlystop.c")
# The same cases as wasm32-wasi under Node.
add_test(NAME unit_earlystop_wasm
  COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
          "${SIBYL_WASI_DIR}/tests/wasm-units/unit_earlystop.wasm")
set_tests_properties(unit_earlystop_wasm PROPERTIES LABELS "wasm")
