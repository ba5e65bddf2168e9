# The Conductor's slurm backend: the driver's pure half as a unit test (no
# cluster needed), and tests against a real single-node cluster that each
# start it with scripts/slurm-up.sh when it is not up (CI runs as root on a
# fresh machine) and skip, saying why, only where it cannot start.
add_executable(slurm_parse "${CMAKE_CURRENT_LIST_DIR}/test_slurm_parse.c" "${PROJECT_SOURCE_DIR}/servers/slurm_parse.c")
target_include_directories(slurm_parse PRIVATE "${PROJECT_SOURCE_DIR}/tests/unit" "${PROJECT_SOURCE_DIR}/core")
target_compile_options(slurm_parse PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(slurm_parse PRIVATE sibyl_core)
add_test(NAME slurm_parse COMMAND slurm_parse)
set_tests_properties(slurm_parse PROPERTIES LABELS "slurm;servers")
