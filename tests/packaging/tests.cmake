# Packaging (docs/packaging.md): cmake --install, the .deb, man pages, bash
# completion, the npm package, one version everywhere. Label "packaging".
find_program(SIBYL_NODE node REQUIRED)
set(_pk "${CMAKE_CURRENT_LIST_DIR}")

# The scenario's commands with the installed sibyl from another folder:
# this tree's native binary, and sibyl.wasm with its launcher.
add_test(NAME packaging_install_native COMMAND bash "${_pk}/install.test.sh" native "${CMAKE_BINARY_DIR}")
add_test(NAME packaging_install_wasm COMMAND bash "${_pk}/install.test.sh" wasm "${SIBYL_WASI_DIR}")
add_test(NAME packaging_man COMMAND bash "${_pk}/man.test.sh" "${CMAKE_BINARY_DIR}" "${PROJECT_VERSION}")
add_test(NAME packaging_completion COMMAND bash "${_pk}/completion.test.sh" "${CMAKE_BINARY_DIR}" "${PROJECT_SOURCE_DIR}")
# Builds build/release's installed programs (and sibyl.wasm) when missing or
# stale, through scripts/package.sh; as root, installs and purges the package
# with apt-get (one dpkg at a time: RUN_SERIAL).
add_test(NAME packaging_deb COMMAND bash "${_pk}/deb.test.sh" "${PROJECT_SOURCE_DIR}" "${PROJECT_VERSION}")
set_tests_properties(packaging_deb PROPERTIES RUN_SERIAL TRUE TIMEOUT 1200)
add_test(NAME packaging_npm
  COMMAND ${SIBYL_NODE} --no-warnings "${_pk}/npm.test.mjs" "${SIBYL_WEB_DIR}" "${PROJECT_SOURCE_DIR}" "${PROJECT_VERSION}")
add_test(NAME packaging_version
  COMMAND ${SIBYL_NODE} --no-warnings "${_pk}/version.test.mjs" "${PROJECT_SOURCE_DIR}" "${PROJECT_VERSION}"
          "$<TARGET_FILE:sibyl>" "${SIBYL_WASM}" "$<TARGET_FILE:sibyl-solver>" "$<TARGET_FILE:sibyl-conductor>"
          "${SIBYL_WEB_DIR}" "${CMAKE_BINARY_DIR}/CPackConfig.cmake")
set_tests_properties(packaging_install_native packaging_install_wasm packaging_man packaging_completion packaging_deb
  packaging_npm packaging_version PROPERTIES LABELS "packaging")
