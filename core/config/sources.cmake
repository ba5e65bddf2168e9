list(APPEND SIBYL_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sb_config.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_handle_value.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_schema.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_schema_common.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_schema_pipelines.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_schema_workspace.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_yaml.c
)
