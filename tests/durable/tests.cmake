# Durable runs (issue 14): the journal's format (C unit test, also under the
# failing allocator), kill -9 and resume against the reference Conductor
# (native), in embedded mode (native and sibyl.wasm), torn and corrupted
# journals, what a resume refuses.
#   ctest --test-dir build/native -R durable --output-on-failure
find_program(SIBYL_NODE node REQUIRED)
set(_durable "${CMAKE_CURRENT_LIST_DIR}")
set(_durable_env
  "SIBYL_WASM=${SIBYL_WASM}"
  "SIBYL_NODE_WASI=${SIBYL_NODE_WASI}"
  "SIBYL_NATIVE=$<TARGET_FILE:sibyl>"
  "SIBYL_REPO=${PROJECT_SOURCE_DIR}")

sibyl_unit_test(durable_journal_unit "${_durable}/test_journal.c")

function(sibyl_durable name script)
  add_test(NAME durable_${name} COMMAND ${SIBYL_NODE} --no-warnings "${_durable}/${script}" ${ARGN})
  set_tests_properties(durable_${name} PROPERTIES ENVIRONMENT "${_durable_env}" LABELS "durable" TIMEOUT 300)
endfunction()

foreach(m kills retry cancel)
  sibyl_durable(crash_http_${m} crash-http.mjs $<TARGET_FILE:sibyl-conductor> ${m})
endforeach()
foreach(m native wasm torn corrupt refused)
  sibyl_durable(embedded_${m} crash-embedded.mjs ${m})
endforeach()
