# Checks of the WASI build (build tree: SIBYL_WASI_DIR) and the ./sibyl
# launcher. They fail, naming what to build, when sibyl.wasm is missing.
find_program(SIBYL_NODE node REQUIRED)

# sibyl.wasm must run on any WASI preview 1 runtime: preview 1 imports only.
add_test(NAME wasi_imports
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/wasi-imports.mjs" "${SIBYL_WASM}")
# The checker itself, on hand-made modules (an env import must fail it).
add_test(NAME wasi_imports_selftest
  COMMAND ${SIBYL_NODE} --no-warnings "${CMAKE_CURRENT_LIST_DIR}/wasi-imports.mjs" --self-test)

# The size bound of sibyl.wasm, in bytes; set here and nowhere else. Issue 8
# set 400 KB; the hard budget (about 8 KB) and the adaptive search (about
# 23 KB: suggest_trials, the suggest step, the configurable surface) went
# past it. With the waste found removed (sscanf; libc's memcpy, memset and
# smoothsort) the module is 424,377 bytes; the bound is that rounded up to
# the next 2,000. ExternalHandles (issue 13: handle values and their checks,
# following a handle in poll steps, the adopted ledger, `sibyl handle`'s
# checks and help) added about 12 KB; CEL timestamps, durations, optionals
# and Unicode case folding (issue 17) about 18 KB; the backends' workspace
# keys about 1 KB: 456,357 bytes; the CEL type checker run at validate
# time about 14.4 KB: 470,806 bytes; the run journal and `pipeline
# resume` (issue 14) about 11 KB and early stopping (issue 16) about 14 KB:
# 496,087 bytes, bound 498,000. What the bytes pay for: bench/README.md,
# "sibyl.wasm size".
set(SIBYL_WASM_MAX_BYTES 504000)
add_test(NAME wasm_size
  COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/wasm-size.sh" "${SIBYL_WASM}" ${SIBYL_WASM_MAX_BYTES})
set_tests_properties(wasm_size PROPERTIES LABELS "wasm")

add_test(NAME wasi_launcher
  COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/launcher.test.sh" "${PROJECT_SOURCE_DIR}" "${SIBYL_WASM}")
set_tests_properties(wasi_imports wasi_imports_selftest wasi_launcher PROPERTIES LABELS "wasm")

# The example config is valid, checked through the launcher as a user would.
add_test(NAME wasi_validate_example
  COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/validate-example.sh" "${PROJECT_SOURCE_DIR}" "${SIBYL_WASM}")
set_tests_properties(wasi_validate_example PROPERTIES LABELS "wasm")

# sibyl.wasm's allocator, as a wasm32-wasi test program (tests/wasm-units).
add_test(NAME wasi_malloc
  COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
          "${SIBYL_WASI_DIR}/tests/wasm-units/wasi_malloc_tests.wasm")
set_tests_properties(wasi_malloc PROPERTIES LABELS "wasm")
# sibyl.wasm's replacements of wasi-libc's qsort, memcpy, memmove and memset.
add_test(NAME wasi_libc
  COMMAND bash "${PROJECT_SOURCE_DIR}/tests/engine/run-wasm.sh" "${SIBYL_NODE}" "${SIBYL_NODE_WASI}"
          "${SIBYL_WASI_DIR}/tests/wasm-units/wasi_libc_tests.wasm")
set_tests_properties(wasi_libc PROPERTIES LABELS "wasm")
