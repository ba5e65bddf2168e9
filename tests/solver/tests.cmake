sibyl_unit_test(solver_plan "${CMAKE_CURRENT_LIST_DIR}/test_solver.c")
sibyl_unit_test(solver_oom "${CMAKE_CURRENT_LIST_DIR}/test_solver_oom.c")
sibyl_unit_test(solver_parts "${CMAKE_CURRENT_LIST_DIR}/test_solver_parts.c")
sibyl_unit_test(solver_suggest "${CMAKE_CURRENT_LIST_DIR}/test_solver_suggest.c")

# Benchmark and quality survey (not a test): bench/solver/bench_solver.c.
add_executable(bench_solver "${PROJECT_SOURCE_DIR}/bench/solver/bench_solver.c")
target_include_directories(bench_solver PRIVATE "${PROJECT_SOURCE_DIR}/core")
target_compile_options(bench_solver PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(bench_solver PRIVATE sibyl_core)

# Determinism across platforms: the same calls give the same bytes natively
# and in wasm32-wasi (golden.sh; the wasm half builds its own small driver
# and is skipped when the wasm toolchain is missing).
add_executable(solver_golden "${CMAKE_CURRENT_LIST_DIR}/solver_golden.c")
target_include_directories(solver_golden PRIVATE "${PROJECT_SOURCE_DIR}/core")
target_compile_options(solver_golden PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(solver_golden PRIVATE sibyl_core)
add_test(NAME solver_golden_native
  COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/golden.sh" native $<TARGET_FILE:solver_golden>)
add_test(NAME solver_golden_wasm
  COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/golden.sh" wasm "${CMAKE_CURRENT_BINARY_DIR}/solver-wasm")
set_tests_properties(solver_golden_wasm PROPERTIES SKIP_RETURN_CODE 77 LABELS "wasm")

# The simulated cluster as a function, for bench/search/run.sh (and its short
# run in the suite, tests/e2e/tests.cmake).
add_executable(search_eval "${PROJECT_SOURCE_DIR}/bench/search/search_eval.c")
target_include_directories(search_eval PRIVATE "${PROJECT_SOURCE_DIR}/core")
target_compile_options(search_eval PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(search_eval PRIVATE sibyl_core)

# bench/search/run.sh's short run: two seeds on the headline surface, every
# search; the adaptive search must find the optimum in both (skipped without
# /usr/bin/python3; Optuna is used when it is there).
add_test(NAME search_bench_short COMMAND bash "${PROJECT_SOURCE_DIR}/bench/search/run.sh" 2 1)
set_tests_properties(search_bench_short PROPERTIES ENVIRONMENT "SIBYL_BUILD=${CMAKE_BINARY_DIR}"
  SKIP_RETURN_CODE 77 TIMEOUT 300
  PASS_REGULAR_EXPRESSION "headline \\(0\\.001, 64, 0\\.3\\) +sibyl adaptive +100%")

# suggest_trials as wasm32-wasi under Node: the same answers (the test pins them).
find_program(SIBYL_NODE node REQUIRED)
add_test(NAME solver_suggest_wasm
  COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
          "${SIBYL_WASI_DIR}/tests/wasm-units/solver_suggest.wasm")
