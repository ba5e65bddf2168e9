# The pipeline engine against a deterministic fake host (fake_host.c): native
# tests under ASan+UBSan, the same tests as wasm32-wasi under Node (built by
# the wasi preset into SIBYL_WASI_DIR/tests/wasm-units), and the native and
# wasm transcripts of one run compared byte for byte.
set(_engine_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_engine_fake "${_engine_dir}/fake_host.c" "${_engine_dir}/fake_conductor.c")

sibyl_unit_test(engine_tests "${_engine_dir}/test_engine.c" ${_engine_fake})
set_tests_properties(engine_tests PROPERTIES WORKING_DIRECTORY "${_engine_dir}" LABELS engine TIMEOUT 600)

add_executable(engine_transcript "${_engine_dir}/engine_transcript.c" ${_engine_fake})
target_include_directories(engine_transcript PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core")
target_compile_options(engine_transcript PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(engine_transcript PRIVATE sibyl_core)

find_program(SIBYL_NODE node REQUIRED)
set(_engine_wasm_dir "${SIBYL_WASI_DIR}/tests/wasm-units")
add_test(NAME engine_tests_wasm
  COMMAND bash "${_engine_dir}/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}" "${_engine_wasm_dir}/engine_tests.wasm")
add_test(NAME engine_transcript_native_vs_wasm
  COMMAND bash "${_engine_dir}/compare-transcripts.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
          $<TARGET_FILE:engine_transcript> "${_engine_wasm_dir}/engine_transcript.wasm"
          "${CMAKE_CURRENT_BINARY_DIR}/engine-transcripts")
set_tests_properties(engine_tests_wasm engine_transcript_native_vs_wasm PROPERTIES
  WORKING_DIRECTORY "${_engine_dir}" LABELS "engine;wasm" TIMEOUT 600)

sibyl_unit_test(engine_handle_watch "${_engine_dir}/test_handle_watch.c")
set_tests_properties(engine_handle_watch PROPERTIES LABELS engine)

# The same tests and transcript with every HTTP 200 answer handed to the run as
# the message value (sb_run_on_message, the embedded services' path) instead
# of JSON text: the runs must not differ in any byte they send, emit or write.
add_test(NAME engine_tests_in_process COMMAND $<TARGET_FILE:engine_tests>)
add_test(NAME engine_tests_wasm_in_process
  COMMAND bash "${_engine_dir}/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}" "${_engine_wasm_dir}/engine_tests.wasm")
add_test(NAME engine_transcript_in_process_vs_text
  COMMAND bash "${_engine_dir}/compare-in-process.sh" $<TARGET_FILE:engine_transcript>
          "${CMAKE_CURRENT_BINARY_DIR}/engine-transcripts")
set_tests_properties(engine_tests_in_process engine_tests_wasm_in_process PROPERTIES
  WORKING_DIRECTORY "${_engine_dir}" ENVIRONMENT SIBYL_FH_IN_PROCESS=1 LABELS engine TIMEOUT 600)
set_tests_properties(engine_transcript_in_process_vs_text PROPERTIES WORKING_DIRECTORY "${_engine_dir}" LABELS engine)

# Suggest steps (adaptive search) against the fake Conductor and the embedded Solver.
sibyl_unit_test(engine_suggest "${_engine_dir}/test_engine_suggest.c" ${_engine_fake})
set_tests_properties(engine_suggest PROPERTIES WORKING_DIRECTORY "${_engine_dir}" LABELS engine TIMEOUT 600)
add_test(NAME engine_suggest_wasm
  COMMAND bash "${_engine_dir}/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}" "${_engine_wasm_dir}/engine_suggest.wasm")
set_tests_properties(engine_suggest_wasm PROPERTIES WORKING_DIRECTORY "${_engine_dir}" LABELS "engine;wasm" TIMEOUT 600)

# Early stopping in poll steps, as data: a scripted Conductor's answers and the engine's decisions.
sibyl_unit_test(engine_estop "${_engine_dir}/test_engine_estop.c" ${_engine_fake})
set_tests_properties(engine_estop PROPERTIES WORKING_DIRECTORY "${_engine_dir}" LABELS engine TIMEOUT 600)
add_test(NAME engine_estop_wasm
  COMMAND bash "${_engine_dir}/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}" "${_engine_wasm_dir}/engine_estop.wasm")
set_tests_properties(engine_estop_wasm PROPERTIES WORKING_DIRECTORY "${_engine_dir}" LABELS "engine;wasm" TIMEOUT 600)
