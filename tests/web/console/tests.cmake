# The browser console (web/). web_console_units: its DOM-free modules under
# Node (web_console_live: per-epoch progress and early stopping in them);
# web_console_server: scripts/console.mjs. The others drive the console in headless Chromium (Debian's
# /usr/bin/chromium through npm playwright-core), each serving web/ with
# scripts/console.mjs on a free port; they need web/dist/ filled by the web
# build's console_dist target (scripts/build-all.sh web) and write
# screenshots to build/web-console/. web_console_estop runs the sweep of
# fixtures/early-stopping (early stopping, per-epoch progress). web_console_size checks the 400 KB gz
# bound of everything the console loads.
set(_console "${CMAKE_CURRENT_LIST_DIR}")
add_test(NAME web_console_units
  COMMAND ${SIBYL_NODE} --no-warnings "${_console}/units.test.mjs" "${PROJECT_SOURCE_DIR}")
add_test(NAME web_console_live
  COMMAND ${SIBYL_NODE} --no-warnings "${_console}/live.test.mjs" "${PROJECT_SOURCE_DIR}")
add_test(NAME web_console_size
  COMMAND ${SIBYL_NODE} --no-warnings "${_console}/size.test.mjs")
add_test(NAME web_console_server
  COMMAND ${SIBYL_NODE} --no-warnings "${_console}/server.test.mjs")
set_tests_properties(web_console_units web_console_live web_console_size web_console_server PROPERTIES LABELS "web")

foreach(_t embedded estop servers invalid cancel large)
  add_test(NAME web_console_${_t}
    COMMAND ${SIBYL_NODE} --no-warnings "${_console}/${_t}.test.mjs"
            "$<TARGET_FILE:sibyl>" "$<TARGET_FILE:sibyl-solver>" "$<TARGET_FILE:sibyl-conductor>")
  # One Chromium at a time: the machine has two cores.
  set_tests_properties(web_console_${_t} PROPERTIES LABELS "web;chromium" TIMEOUT 300 RESOURCE_LOCK chromium)
endforeach()
# web_console_large measures how long the page's tasks last: it runs alone
# (ctest -j starts nothing beside it), and on a machine too busy to measure
# anyway (load from outside) it says so and exits 77 (skipped).
set_tests_properties(web_console_large PROPERTIES RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
