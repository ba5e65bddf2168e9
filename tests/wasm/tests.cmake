# Checks of the WASI build (build tree: SIBYL_WASI_DIR) and the ./sibyl
# launcher. They fail, naming what to build, when sibyl.wasm is missing.
find_program(SIBYL_NODE node REQUIRED)

# sibyl.wasm must run on any WASI preview 1 runtime: preview 1 imports only.
add_test(NAME wasi_imports
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/wasi-imports.mjs" "${SIBYL_WASM}")
# The checker itself, on hand-made modules (an env import must fail it).
add_test(NAME wasi_imports_selftest
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/wasi-imports.mjs" --self-test)

add_test(NAME wasi_launcher
  COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/launcher.test.sh" "${PROJECT_SOURCE_DIR}" "${SIBYL_WASM}")
set_tests_properties(wasi_imports wasi_imports_selftest wasi_launcher PROPERTIES LABELS "wasm")

# The example config is valid, checked through the launcher as a user would.
add_test(NAME wasi_validate_example
  COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/validate-example.sh" "${PROJECT_SOURCE_DIR}" "${SIBYL_WASM}")
set_tests_properties(wasi_validate_example PROPERTIES LABELS "wasm")
