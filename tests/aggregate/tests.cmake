sibyl_unit_test(unit_aggregate "${CMAKE_CURRENT_LIST_DIR}/test_aggregate.c")
