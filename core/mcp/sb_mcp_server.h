/* A sans-I/O MCP server dispatcher for tool servers: one JSON-RPC message in,
 * one answer out. The embedded Solver and simulated Conductor sit behind it
 * inside the core; the reference HTTP servers put it behind their endpoint.
 *
 * It answers initialize (version negotiation), notifications/initialized,
 * ping, tools/list and tools/call. What belongs to HTTP stays with the host:
 * MCP-Session-Id, MCP-Protocol-Version checks, Origin, SSE. It is stateless
 * on purpose: requests are served whether or not this server saw an
 * initialize, so one dispatcher can serve many clients (like the official
 * SDK's stateless mode) and the embedded use needs no session.
 *
 * Ownership: tools, names and schemas are copied at creation; bodies are
 * borrowed; a returned body is the caller's (sb_free). */
#ifndef SB_MCP_SERVER_H
#define SB_MCP_SERVER_H
#include <stddef.h>
#include <stdint.h>

#include "../value/sb_value.h"
#include "sb_mcp_proto.h"
#include "sb_tool.h"

/* Runs one tool. args is borrowed (an object, {} when the call had none).
 * Returns a new tools/call result map {content, structuredContent?, isError?}.
 * Tool failures belong in isError results; an SB_ERROR value (e.g. sb_oom())
 * becomes a JSON-RPC internal error (-32603) carrying its message. */
typedef sb_val (*sb_mcp_tool_fn)(void *ud, int64_t now_ms, const char *tool, sb_val args);

typedef struct sb_mcp_server sb_mcp_server;

/* instructions may be NULL. A tool whose input_schema_json is NULL gets
 * {"type":"object"}. NULL on OOM, or when an input_schema_json is not a JSON
 * object (a programming error worth failing loudly on). */
sb_mcp_server *sb_mcp_server_new(const char *name, const char *version, const char *instructions,
                                 const sb_tool_desc *tools, size_t ntools, sb_mcp_tool_fn fn, void *ud);
void sb_mcp_server_free(sb_mcp_server *s);

/* Handles one POSTed body. Returns the JSON response body (sb_free) and sets
 * *status to the HTTP status to send:
 *   200 + body   a request (including JSON-RPC errors such as -32601/-32602)
 *   202 + NULL   a notification or a response from the client
 *   400 + body   not JSON (-32700) or not a valid JSON-RPC message (-32600;
 *                batches included); the id is echoed when it could be read
 *   500 + NULL   memory ran out while answering. */
char *sb_mcp_server_handle(sb_mcp_server *s, int64_t now_ms, const char *body, size_t len, int *status);
/* The same for a caller in the same process: the answer as the JSON-RPC
 * message value itself (a new map {jsonrpc, id, result|error}; what
 * sb_json_parse would make of the body sb_mcp_server_handle returns, which is
 * this value written as compact JSON), so neither side writes or reads the
 * text. SB_NULL where sb_mcp_server_handle returns NULL (202, 500). */
sb_val sb_mcp_server_answer(sb_mcp_server *s, int64_t now_ms, const char *body, size_t len, int *status);

#endif
