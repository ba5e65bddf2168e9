/* The Solver: plans which trials of a hyperparameter sweep to run inside a
 * dollar budget. Two MCP tools: plan_search_grid (a fixed, balanced plan) and
 * suggest_trials (the next trials of an adaptive search, given the results so
 * far); their contracts (arguments, results, errors, methods) are
 * docs/mcp-tools-solver.md. This is the embedded implementation used by
 * sibyl.wasm and by the reference Solver server.
 *
 * Sans-I/O and pure: no clocks, no files, no global state. The same arguments
 * give the same result, byte for byte, natively and in wasm: only IEEE basic
 * arithmetic and exactly specified libm functions (floor, frexp, ldexp) are
 * used, and range levels are rounded to 12 significant digits.
 *
 * Ownership: args are borrowed; the returned value is a new reference that the
 * caller frees with sb_val_free(). */
#ifndef SB_SOLVER_H
#define SB_SOLVER_H
#include <stddef.h>
#include <stdint.h>

#include "../mcp/sb_tool.h"
#include "../value/sb_value.h"

/* Tool descriptions for tools/list (static storage, *count entries). Each
 * input_schema_json is a JSON Schema object as JSON text. */
const sb_tool_desc *sb_solver_tools(size_t *count);

/* Runs one tool call. Returns an MCP tools/call result map:
 *   {"content":[{"type":"text","text":<JSON of structuredContent>}],
 *    "structuredContent": {...}, "isError": false}
 * or, for an unknown tool, bad arguments or a budget that fits no trial,
 *   {"content":[{"type":"text","text":<message>}],
 *    "structuredContent": {"error": <message>}, "isError": true}
 * where the message names the argument at fault. When memory runs out the
 * result is an isError result saying "out of memory", or sb_oom() itself if
 * even that cannot be built. */
sb_val sb_solver_call(const char *tool, sb_val args);

/* sb_solver_call in the shape of sb_mcp_tool_fn (core/mcp/sb_mcp_server.h),
 * to hand to an MCP server as is: ud and now_ms are unused (the Solver keeps
 * no state and needs no clock). */
sb_val sb_solver_mcp_tool(void *ud, int64_t now_ms, const char *tool, sb_val args);

#endif
