# JSON reader (core/json): documents as data, native and wasm, and cJSON as a
# differential oracle. Every test name starts with "json_".
set(_json_dir "${CMAKE_CURRENT_LIST_DIR}")
find_program(SIBYL_NODE node REQUIRED)

# y_/n_/i_ documents against cases/expect.txt, also with failing allocations.
add_executable(json_cases "${_json_dir}/json_cases.c")
target_include_directories(json_cases PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core")
target_compile_options(json_cases PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(json_cases PRIVATE sibyl_core)
add_test(NAME json_cases COMMAND json_cases cases)
# The same program built as wasm32-wasi by the wasi preset (tests/wasm-units).
add_test(NAME json_cases_wasm
         COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
                 "${SIBYL_WASI_DIR}/tests/wasm-units/json_cases.wasm" cases)
set_tests_properties(json_cases json_cases_wasm PROPERTIES WORKING_DIRECTORY "${_json_dir}")
set_tests_properties(json_cases_wasm PROPERTIES LABELS wasm)

# sb_json against cJSON over the case files and generated documents: where
# both accept, the values agree (modulo the differences in json_oracle.h).
add_executable(json_differential "${_json_dir}/test_json_differential.c" "${_json_dir}/json_oracle.c")
target_include_directories(json_differential PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core")
target_compile_options(json_differential PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(json_differential PRIVATE sibyl_core sibyl_cjson)
add_test(NAME json_differential COMMAND json_differential cases "${PROJECT_SOURCE_DIR}/tests/fuzz/seeds-json")
set_tests_properties(json_differential PROPERTIES WORKING_DIRECTORY "${_json_dir}")
