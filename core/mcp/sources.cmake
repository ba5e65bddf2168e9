list(APPEND SIBYL_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sb_jsonrpc.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_sse.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_proto.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_server.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_client.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_client_send.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_client_answer.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_client_read.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_result.c
  # for the reference servers only (sibyl.wasm does not link them)
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_app.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_app_call.c
  ${CMAKE_CURRENT_LIST_DIR}/sb_mcp_endpoint.c
)
