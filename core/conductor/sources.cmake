list(APPEND SIBYL_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sb_csim.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_csim_clock.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_csim_index.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_csim_model.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_csim_status.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_csim_submit.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_csim_tools.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_csim_active.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_csim_exec.c
)
