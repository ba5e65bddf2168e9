# sibyl over HTTP (issue 9, client side): the native binary's HTTP host and
# `sibyl mcp call` against the official conformance suite (client mode), a
# server built with the official TypeScript SDK, and a fault server. Each test
# starts its peers itself on ports the OS picks and stops them. Tests that
# need tests/interop/node_modules are skipped (exit 77) without it.
#   ctest --test-dir build/native -R http_ --output-on-failure
find_program(SIBYL_NODE node REQUIRED)
set(_http "${CMAKE_CURRENT_LIST_DIR}")
set(_http_env
  "SIBYL_NATIVE=$<TARGET_FILE:sibyl>"
  "SIBYL_WASM=${SIBYL_WASM}"
  "SIBYL_NODE_WASI=${SIBYL_NODE_WASI}"
  "SIBYL_REPO=${PROJECT_SOURCE_DIR}")

function(sibyl_http name script)
  add_test(NAME http_${name} COMMAND ${SIBYL_NODE} --no-warnings "${_http}/${script}" ${ARGN})
  set_tests_properties(http_${name} PROPERTIES ENVIRONMENT "${_http_env}" LABELS "http" TIMEOUT 180
                       SKIP_RETURN_CODE 77)
endfunction()

# The official conformance suite, client mode, against `sibyl mcp call`.
foreach(s initialize tools_call sse-retry)
  string(REPLACE "-" "_" _n "${s}")
  sibyl_http(conformance_${_n} conformance.mjs ${s})
endforeach()

# Against the TypeScript SDK's McpServer: a pipeline (progress, a task, bearer
# token), and `sibyl mcp call`.
sibyl_http(interop_pipeline interop.mjs pipeline)
sibyl_http(interop_mcp_call interop.mjs mcp-call)

# Every fault class: recovered where safe, no job submitted twice, a clear
# failure with the outputs written where not.
foreach(f refused reset timeout 5xx malformed session sse-cut)
  string(REPLACE "-" "_" _n "${f}")
  sibyl_http(fault_${_n} faults.mjs ${f})
endforeach()

# What is refused before anything is sent (sibyl.wasm, --clock virtual), the
# ./sibyl launcher's choice of binary, SIGTERM (cancel_jobs still goes out;
# token and headers on every request).
foreach(p wasm-refuses usage launcher sigterm)
  string(REPLACE "-" "_" _n "${p}")
  sibyl_http(cli_${_n} cli.mjs ${p})
endforeach()

# The headline sweep on real servers, README.md's commands exactly (both
# reference servers, ./sibyl choosing the native binary): the embedded
# headline run's invariants on a real clock (about 30 s).
add_test(NAME http_headline COMMAND ${SIBYL_NODE} --no-warnings "${_http}/headline.mjs"
         $<TARGET_FILE:sibyl-solver> $<TARGET_FILE:sibyl-conductor>)
set_tests_properties(http_headline PROPERTIES ENVIRONMENT "${_http_env}" LABELS "http" TIMEOUT 300)

# The headline sweep with real training (README "The headline sweep on your
# own machine"): --backend local running examples/trainer/train.py, the
# README's commands exactly (15 to 50 s, with the machine's load).
add_test(NAME http_headline_local COMMAND ${SIBYL_NODE} --no-warnings "${_http}/headline_local.mjs"
         $<TARGET_FILE:sibyl-solver> $<TARGET_FILE:sibyl-conductor>)
set_tests_properties(http_headline_local PROPERTIES ENVIRONMENT "${_http_env}" LABELS "http" TIMEOUT 300)
# ExternalHandles (issue 13): a killed sweep finished by convnet_sweep_follow
# from its handle (same all_results as an uninterrupted run, no job submitted
# twice); `sibyl handle watch` and `cancel` on running handles; an MCP task
# the official SDK's client started, watched and its result read.
foreach(p follow watch-cancel sdk-task)
  string(REPLACE "-" "_" _n "${p}")
  add_test(NAME http_handles_${_n} COMMAND ${SIBYL_NODE} --no-warnings "${_http}/handles.mjs" ${p}
           $<TARGET_FILE:sibyl-solver> $<TARGET_FILE:sibyl-conductor>)
  set_tests_properties(http_handles_${_n} PROPERTIES ENVIRONMENT "${_http_env}" LABELS "http" TIMEOUT 180
                       SKIP_RETURN_CODE 77)
endforeach()
# Early stopping with real training (issue 16): the local backend reads the
# trainer's per-epoch lines; asha stops the slow learner at rung 3.
add_test(NAME http_early_stopping_local COMMAND ${SIBYL_NODE} --no-warnings "${_http}/early_stopping_local.mjs"
         $<TARGET_FILE:sibyl-conductor>)
set_tests_properties(http_early_stopping_local PROPERTIES ENVIRONMENT "${_http_env}" LABELS "http" TIMEOUT 300)
