sibyl_unit_test(unit_value "${CMAKE_CURRENT_LIST_DIR}/test_value.c")
sibyl_unit_test(unit_yaml "${CMAKE_CURRENT_LIST_DIR}/test_yaml.c")
sibyl_unit_test(unit_json "${CMAKE_CURRENT_LIST_DIR}/test_json.c")
