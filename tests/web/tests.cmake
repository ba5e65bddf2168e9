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
set_tests_properties(web_node_load web_exports web_browser_path web_cli_agree PROPERTIES LABELS "web")
# The browser console (web/): its own file.
include("${CMAKE_CURRENT_LIST_DIR}/console/tests.cmake")
