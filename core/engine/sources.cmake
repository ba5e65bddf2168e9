list(APPEND SIBYL_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/handle.c
  ${CMAKE_CURRENT_LIST_DIR}/handle_watch.c
  ${CMAKE_CURRENT_LIST_DIR}/run.c
  ${CMAKE_CURRENT_LIST_DIR}/run_budget.c
  ${CMAKE_CURRENT_LIST_DIR}/run_estop.c
  ${CMAKE_CURRENT_LIST_DIR}/run_log.c
  ${CMAKE_CURRENT_LIST_DIR}/run_mcp.c
  ${CMAKE_CURRENT_LIST_DIR}/run_notify.c
  ${CMAKE_CURRENT_LIST_DIR}/run_poll.c
  ${CMAKE_CURRENT_LIST_DIR}/run_retry.c
  ${CMAKE_CURRENT_LIST_DIR}/run_suggest.c
  ${CMAKE_CURRENT_LIST_DIR}/run_steps.c
  ${CMAKE_CURRENT_LIST_DIR}/run_vars.c
  ${CMAKE_CURRENT_LIST_DIR}/status_answer.c
)
