# core/util: the grow-array and binary-heap helpers, natively under ASan+UBSan
# and as wasm32-wasi under Node (built by the wasi preset into
# SIBYL_WASI_DIR/tests/wasm-units, see tests/wasm-units/CMakeLists.txt).
find_program(SIBYL_NODE node REQUIRED)
foreach(_t grow heap)
  sibyl_unit_test(unit_util_${_t} "${CMAKE_CURRENT_LIST_DIR}/test_${_t}.c")
  add_test(NAME unit_util_${_t}_wasm
    COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
            "${SIBYL_WASI_DIR}/tests/wasm-units/unit_util_${_t}.wasm")
  set_tests_properties(unit_util_${_t} unit_util_${_t}_wasm PROPERTIES LABELS util)
endforeach()
