list(APPEND SIBYL_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sb_cel.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_template.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_lex.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_parse.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_resolve.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_eval.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_ops.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_funcs.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_strings.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_math.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_time.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_tz.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_opt.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_format.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_regex.c
  ${CMAKE_CURRENT_LIST_DIR}/cel_utf8.c
)
