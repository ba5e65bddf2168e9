# Checks of the web build (Emscripten ES module; build tree: SIBYL_WEB_DIR),
# run with Node. Each fails, naming what to build, when the build is missing
# or its copy of host-web/sibyl-api.mjs is stale.
find_program(SIBYL_NODE node REQUIRED)
set(_web_args "${SIBYL_WEB_DIR}" "${PROJECT_SOURCE_DIR}")

add_test(NAME web_node_load
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/load.test.mjs" ${_web_args} "${PROJECT_VERSION}")
add_test(NAME web_exports
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/exports.test.mjs" ${_web_args})
add_test(NAME web_browser_path
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/browser-path.test.mjs" ${_web_args} "${PROJECT_VERSION}")
# Web and terminal agree: needs the wasi tree (SIBYL_WASM) as well.
add_test(NAME web_cli_agree
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/cli-agree.test.mjs" ${_web_args} "${SIBYL_WASM}")
# sibyl.run() with the embedded services, against the CLI (needs the wasi tree).
add_test(NAME web_run_embedded
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/run-embedded.test.mjs" ${_web_args} "${SIBYL_WASM}")
# sibyl.run() and watchHandle() over fetch against the reference servers.
add_test(NAME web_run_servers
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/run-servers.test.mjs" ${_web_args}
          $<TARGET_FILE:sibyl-conductor> $<TARGET_FILE:sibyl-solver>)
# A 10,000-trial embedded sweep does not block the event loop; the API in a
# worker thread; the .d.ts against the API; the module's gzipped size.
add_test(NAME web_run_responsive
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/responsive.test.mjs" ${_web_args})
add_test(NAME web_worker
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/worker.test.mjs" ${_web_args})
add_test(NAME web_api_types
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/api-types.test.mjs" ${_web_args})
add_test(NAME web_size
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/size.test.mjs" ${_web_args})
# examples/dashboard/ in headless Chromium (/usr/bin/chromium, playwright-core),
# the API in a browser Web Worker, and from a page against the reference servers.
add_test(NAME web_dashboard
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/dashboard.test.mjs" ${_web_args}
          $<TARGET_FILE:sibyl-conductor> $<TARGET_FILE:sibyl-solver>)
set_tests_properties(web_node_load web_exports web_browser_path web_cli_agree web_run_embedded web_run_servers
  web_run_responsive web_worker web_api_types web_size web_dashboard PROPERTIES LABELS "web")

# The C side of the web module, built natively under ASan/UBSan with the
# failing-allocation hook (the module itself only builds with Emscripten).
add_executable(unit_web_host "${CMAKE_CURRENT_LIST_DIR}/unit_web_host.c"
  "${PROJECT_SOURCE_DIR}/host-web/sb_web_emit.c" "${PROJECT_SOURCE_DIR}/host-web/sb_web_config.c"
  "${PROJECT_SOURCE_DIR}/host-web/sb_web_validate.c" "${PROJECT_SOURCE_DIR}/host-web/sb_web_run.c"
  "${PROJECT_SOURCE_DIR}/host-web/sb_web_watch.c" "${PROJECT_SOURCE_DIR}/host-wasi/transport_embedded.c")
target_include_directories(unit_web_host PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core"
  "${PROJECT_SOURCE_DIR}/host-web" "${PROJECT_SOURCE_DIR}/host-wasi")
target_compile_options(unit_web_host PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(unit_web_host PRIVATE sibyl_core)
add_test(NAME unit_web_host
  COMMAND unit_web_host "${PROJECT_SOURCE_DIR}/examples/companies/vertex_foundry/config")

# The browser console (web/): its own file.
include("${CMAKE_CURRENT_LIST_DIR}/console/tests.cmake")

# web_dashboard drives Chromium too: one browser at a time with the console's tests.
set_tests_properties(web_dashboard PROPERTIES LABELS "web;chromium" RESOURCE_LOCK chromium)
