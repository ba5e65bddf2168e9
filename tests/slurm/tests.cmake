# The Conductor's slurm backend: the driver's pure half as a unit test (no
# cluster needed), and tests against a real single-node cluster that each
# start it with scripts/slurm-up.sh when it is not up (CI runs as root on a
# fresh machine) and skip (exit 77, a "SKIP: <why>" line) only where it
# cannot start. They share the cluster, so they run one at a time
# (RESOURCE_LOCK); slurm.down, the fixture's cleanup, stops the cluster only
# when one of them started it (the marker slurm-up.sh writes).
add_executable(slurm_parse "${CMAKE_CURRENT_LIST_DIR}/test_slurm_parse.c" "${PROJECT_SOURCE_DIR}/servers/slurm_parse.c")
target_include_directories(slurm_parse PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core")
target_compile_options(slurm_parse PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(slurm_parse PRIVATE sibyl_core)
add_test(NAME slurm_parse COMMAND slurm_parse)
add_executable(slurm_cli "${CMAKE_CURRENT_LIST_DIR}/test_slurm_cli.c")
target_include_directories(slurm_cli PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core")
target_compile_options(slurm_cli PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(slurm_cli PRIVATE sibyl_server_host)
add_test(NAME slurm_cli COMMAND slurm_cli)
set_tests_properties(slurm_parse slurm_cli PROPERTIES LABELS "slurm;servers")

# Bad workspaces, refused before the Conductor listens: needs no cluster.
add_test(NAME slurm.config COMMAND ${SIBYL_NODE} "${CMAKE_CURRENT_LIST_DIR}/config.mjs")
set_tests_properties(slurm.config PROPERTIES LABELS "slurm;servers" TIMEOUT 60)

set(_slurm_marker "${CMAKE_CURRENT_BINARY_DIR}/slurm-started-by-tests")
set(_slurm_env "SLURM_UP_STARTED=${_slurm_marker}" "SIBYL_NATIVE=$<TARGET_FILE:sibyl>"
    "SIBYL_WASM=${SIBYL_WASM}" "SIBYL_NODE_WASI=${SIBYL_NODE_WASI}" "SIBYL_REPO=${PROJECT_SOURCE_DIR}")
foreach(t basics throttle cap retry gone headline progress)
  add_test(NAME slurm.${t} COMMAND ${SIBYL_NODE} "${CMAKE_CURRENT_LIST_DIR}/${t}.mjs")
  set_tests_properties(slurm.${t} PROPERTIES LABELS slurm SKIP_RETURN_CODE 77 TIMEOUT 300 RESOURCE_LOCK slurm
                       FIXTURES_REQUIRED slurm_cluster ENVIRONMENT "${_slurm_env}")
endforeach()
add_test(NAME slurm.down COMMAND bash "${PROJECT_SOURCE_DIR}/scripts/slurm-down.sh")
set_tests_properties(slurm.down PROPERTIES LABELS slurm FIXTURES_CLEANUP slurm_cluster RESOURCE_LOCK slurm
                     ENVIRONMENT "SLURM_DOWN_IF=${_slurm_marker}")
