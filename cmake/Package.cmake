# The Debian package (CPack, DEB generator): sibyl_<version>_<arch>.deb with
# what cmake/Install.cmake installs, under /usr. Built by scripts/package.sh
# from the release tree; docs/packaging.md describes it.
#
# Depends: the shared libraries' packages as dpkg-shlibdeps finds them
# (libc6, libcurl4, libyaml-0-2, libmicrohttpd12; cJSON is linked only into
# tests, so libcjson1 is not one), plus nodejs for sibyl-wasm (the node:wasi
# launcher of sibyl.wasm; Node 18, Debian 12's, needs a flag the launcher passes).
if(NOT SIBYL_TARGET STREQUAL "native")
  return()
endif()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "sibyl")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "sibyl")
set(CPACK_PACKAGE_CONTACT "sibyl maintainers <sibyl@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "pipeline runner for ML hyperparameter sweeps inside a budget")
set(CPACK_PACKAGE_DESCRIPTION
    "sibyl runs ML pipelines described in YAML: it plans a sweep inside a dollar
budget, launches the trials through an MCP Conductor, polls them with backoff,
retries transient failures and ranks the results. Includes the terminal front
end (native, and sibyl.wasm run by Node as sibyl-wasm), the reference Solver
and Conductor MCP servers with systemd units (installed disabled), man pages,
bash completion, JSON Schemas and an example workspace.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "nodejs (>= 18)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion, jq")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/deb/postinst;${PROJECT_SOURCE_DIR}/packaging/deb/prerm;${PROJECT_SOURCE_DIR}/packaging/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")
# Only what an install needs is built (target sibyl_installables), not the
# tests and benchmarks `all` holds: scripts/package.sh builds that target
# first, and cpack then installs without building.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
include(CPack)
