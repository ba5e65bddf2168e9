list(APPEND SIBYL_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_args.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_design.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_effects.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_levels.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_plan.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_polish.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_result.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_set.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_suggest.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_sum.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_solver_tool.c
)
