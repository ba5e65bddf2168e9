# CEL expressions and {{ }} templates (core/cel). Every test name starts with
# "cel_": ctest --test-dir build/<dir> -R cel_
set(_cel_dir "${CMAKE_CURRENT_LIST_DIR}")
find_program(SIBYL_NODE node REQUIRED)

# Cases written as data (expression, variables, expected value or error).
add_executable(cel_cases_driver "${_cel_dir}/test_cel_cases.c")
target_include_directories(cel_cases_driver PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core")
target_compile_options(cel_cases_driver PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(cel_cases_driver PRIVATE sibyl_core)
set(_cel_case_files eval.test limits.test time.test optional.test fastpath.test)
add_test(NAME cel_cases COMMAND cel_cases_driver ${_cel_case_files})
# The same cases through the same driver built as wasm32-wasi (tests/wasm-units).
add_test(NAME cel_cases_wasm
         COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
                 "${SIBYL_WASI_DIR}/tests/wasm-units/cel_cases.wasm" ${_cel_case_files})
set_tests_properties(cel_cases cel_cases_wasm PROPERTIES WORKING_DIRECTORY "${_cel_dir}")
set_tests_properties(cel_cases_wasm PROPERTIES LABELS wasm)

sibyl_unit_test(cel_template "${_cel_dir}/test_template.c")
sibyl_unit_test(cel_oom "${_cel_dir}/test_cel_oom.c")
sibyl_unit_test(cel_alloc "${_cel_dir}/test_cel_alloc.c")
# string(double)'s shortest digits against printf's, natively and as wasm.
sibyl_unit_test(cel_double "${_cel_dir}/test_cel_double.c")
add_test(NAME cel_double_wasm
         COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
                 "${SIBYL_WASI_DIR}/tests/wasm-units/cel_double.wasm")
set_tests_properties(cel_double_wasm PROPERTIES LABELS wasm)

# `sibyl expr` from the outside, native and wasm.
add_test(NAME cel_expr_cli COMMAND ${SIBYL_NODE} "${_cel_dir}/check-cli.mjs" $<TARGET_FILE:sibyl>)
add_test(NAME cel_expr_cli_wasm
         COMMAND ${SIBYL_NODE} "${_cel_dir}/check-cli.mjs" --wasm "${SIBYL_NODE_WASI}" "${SIBYL_WASM}")

# A short run of the benchmark (bench/cel/run.mjs) on this tree's sibyl and
# sibyl.wasm: every expression runs on each side, and each gives the answer
# @marcbachmann/cel-js gives (the script exits 1 otherwise). It asserts no speed.
add_test(NAME cel_bench_short
         COMMAND ${SIBYL_NODE} "${PROJECT_SOURCE_DIR}/bench/cel/run.mjs" --native $<TARGET_FILE:sibyl>
                 --wasm "${SIBYL_WASM}" --seconds 0.02 --repeat 1 --expect-js 1)
set_tests_properties(cel_bench_short PROPERTIES LABELS wasm TIMEOUT 300)

# cel-spec conformance cases, run by the test tool cel_conformance (native,
# and as wasm32-wasi from the wasi preset's tests/wasm-units): the floor per
# file, the acceptance rates, and native and wasm printing exactly the same.
add_executable(cel_conformance "${_cel_dir}/cel_conformance.c")
target_include_directories(cel_conformance PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core")
target_compile_options(cel_conformance PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(cel_conformance PRIVATE sibyl_core)
set(_cel_cases "${SIBYL_SHARED_DIR}/conformance/cel/cel-visible.json")
sibyl_shared_test(NAME cel_conformance
         COMMAND ${SIBYL_NODE} "${_cel_dir}/check-conformance.mjs" --native $<TARGET_FILE:cel_conformance>
                 --cases "${_cel_cases}" --floor "${_cel_dir}/floor.json")
sibyl_shared_test(NAME cel_conformance_wasm
         COMMAND ${SIBYL_NODE} "${_cel_dir}/check-conformance.mjs" --native $<TARGET_FILE:cel_conformance>
                 --cases "${_cel_cases}" --floor "${_cel_dir}/floor.json"
                 --wasm "${SIBYL_WASI_DIR}/tests/wasm-units/cel_conformance.wasm" --runner "${SIBYL_NODE_WASI}")
set_tests_properties(cel_expr_cli_wasm cel_conformance_wasm PROPERTIES SKIP_RETURN_CODE 77 LABELS "wasm")

# libFuzzer target (native clang + sanitizer builds). The CEL sources are
# compiled into the target itself with -fsanitize=fuzzer so libFuzzer sees
# coverage inside the parser and evaluator; only util and value come along,
# so the target does not depend on the rest of the core. ctest runs a bounded
# smoke run; for a long run see docs/expressions.md.
if(CMAKE_C_COMPILER_ID MATCHES "Clang" AND SIBYL_SANITIZE)
  file(GLOB _cel_fuzz_src "${PROJECT_SOURCE_DIR}/core/util/*.c" "${PROJECT_SOURCE_DIR}/core/value/*.c"
       "${PROJECT_SOURCE_DIR}/core/cel/*.c")
  add_executable(fuzz_cel "${_cel_dir}/fuzz_cel.c" ${_cel_fuzz_src})
  target_include_directories(fuzz_cel PRIVATE "${PROJECT_SOURCE_DIR}/core")
  target_compile_options(fuzz_cel PRIVATE ${SIBYL_WARNINGS} -fsanitize=fuzzer)
  target_link_options(fuzz_cel PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_cel PRIVATE m)
  set(_cel_corpus "${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus-cel")
  file(MAKE_DIRECTORY "${_cel_corpus}")
  add_test(NAME cel_fuzz
           COMMAND fuzz_cel -runs=20000 -max_len=512 -seed=1 -timeout=20 -dict=${_cel_dir}/cel.dict
                   -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/fuzz-cel- "${_cel_corpus}" "${_cel_dir}/fuzz-seeds")
  set_tests_properties(cel_fuzz PROPERTIES TIMEOUT 600 LABELS fuzz)
endif()

# The type checker's cases written as data, natively and as wasm.
add_executable(cel_check_driver "${_cel_dir}/test_cel_check.c")
target_include_directories(cel_check_driver PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core")
target_compile_options(cel_check_driver PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(cel_check_driver PRIVATE sibyl_core)
add_test(NAME cel_check COMMAND cel_check_driver check.check)
add_test(NAME cel_check_wasm
         COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
                 "${SIBYL_WASI_DIR}/tests/wasm-units/cel_check.wasm" check.check)
set_tests_properties(cel_check cel_check_wasm PROPERTIES WORKING_DIRECTORY "${_cel_dir}")
set_tests_properties(cel_check_wasm PROPERTIES LABELS wasm)
