# The hard budget's randomized invariants (bench/invariants/invariants.c), a short version: 200 seeded
# embedded sweeps with random budgets, spaces, cost models, failure rates, estimates and retry policies.
# The full 10,000-run check: bench/invariants/run.sh.
add_executable(invariants_short "${PROJECT_SOURCE_DIR}/bench/invariants/invariants.c")
target_include_directories(invariants_short PRIVATE "${PROJECT_SOURCE_DIR}/core")
target_compile_options(invariants_short PRIVATE ${SIBYL_WARNINGS})
target_link_libraries(invariants_short PRIVATE sibyl_core)
add_test(NAME invariants_short COMMAND invariants_short 200)
# The same with learning curves and an early-stopping rule on every run (the
# 10,000-run check: bench/invariants/run.sh 10000 1 early-stopping).
add_test(NAME invariants_short_early_stopping COMMAND invariants_short 200 1 early-stopping)
