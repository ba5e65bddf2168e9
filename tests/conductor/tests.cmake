# The simulated Conductor (core/conductor), driven through its tools.
sibyl_unit_test(conductor_sim "${CMAKE_CURRENT_LIST_DIR}/test_conductor_sim.c")
sibyl_unit_test(conductor_oom "${CMAKE_CURRENT_LIST_DIR}/test_conductor_oom.c")
sibyl_unit_test(conductor_scale "${CMAKE_CURRENT_LIST_DIR}/test_conductor_scale.c")
sibyl_unit_test(conductor_cost_model "${CMAKE_CURRENT_LIST_DIR}/test_conductor_cost_model.c")
sibyl_unit_test(conductor_budget "${CMAKE_CURRENT_LIST_DIR}/test_conductor_budget.c")
sibyl_unit_test(conductor_exec "${CMAKE_CURRENT_LIST_DIR}/test_conductor_exec.c")
sibyl_unit_test(conductor_surface "${CMAKE_CURRENT_LIST_DIR}/test_conductor_surface.c")
find_program(SIBYL_NODE node REQUIRED)
add_test(NAME conductor_surface_wasm
  COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
          "${SIBYL_WASI_DIR}/tests/wasm-units/conductor_surface.wasm")
add_test(NAME conductor_exec_wasm
  COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
          "${SIBYL_WASI_DIR}/tests/wasm-units/conductor_exec.wasm")
sibyl_unit_test(conductor_curves "${CMAKE_CURRENT_LIST_DIR}/test_conductor_curves.c")
add_test(NAME conductor_curves_wasm
  COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
          "${SIBYL_WASI_DIR}/tests/wasm-units/conductor_curves.wasm")
