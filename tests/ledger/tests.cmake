sibyl_unit_test(unit_ledger "${CMAKE_CURRENT_LIST_DIR}/test_ledger.c")
