sibyl_unit_test(unit_sched_timers "${CMAKE_CURRENT_LIST_DIR}/test_timers.c")
sibyl_unit_test(unit_sched_rng "${CMAKE_CURRENT_LIST_DIR}/test_rng.c")
sibyl_unit_test(unit_sched_backoff "${CMAKE_CURRENT_LIST_DIR}/test_backoff.c")
