/* ExternalHandle: a serializable reference to work an MCP server owns, made
 * by another run, another tool or another team:
 *   {"$type": "ExternalHandle", "server", "kind": "conductor_handle" | "mcp_task",
 *    "id", "status_tool"?, "submit_tool"?, "cancel_tool"?, "session"?}
 * or as text "server:kind:id" (conductor:conductor_handle:h_0001). A
 * PollableJobHandle (a run's own, core/engine) converts to one
 * (sb_handle_external), so whatever a run printed can be fed to another as a
 * pipeline input of type handle. The server name is a workspace's, resolved
 * by whoever follows the handle; sb_handle_check_server says whether a
 * workspace defines it. An mcp_task handle may name the MCP session its task
 * belongs to (session: an MCP-Session-Id), for servers that bind tasks to the
 * session that created them; only the JSON form carries it. Here, below the engine, because validating inputs
 * (core/config) reads handles too.
 *
 * Ownership: arguments are borrowed; every sb_val returned is new (the
 * caller's), strings returned are borrowed from the handle. */
#ifndef SB_HANDLE_VALUE_H
#define SB_HANDLE_VALUE_H
#include <stdbool.h>
#include <stddef.h>

#include "../util/sb_buf.h"
#include "../value/sb_value.h"

typedef enum sb_handle_kind { SB_HANDLE_CONDUCTOR, SB_HANDLE_MCP_TASK } sb_handle_kind;
const char *sb_handle_kind_name(sb_handle_kind k); /* "conductor_handle", "mcp_task" */

/* A new ExternalHandle; the tools may be NULL (not written). sb_oom() on OOM. */
sb_val sb_handle_make_external(const char *server, sb_handle_kind kind, const char *id, const char *status_tool,
                               const char *submit_tool, const char *cancel_tool);
/* v as an ExternalHandle: "server:kind:id" text, an ExternalHandle map (checked:
 * known fields, kind, non-empty strings) or a PollableJobHandle (converted). An
 * SB_ERROR value saying what is wrong otherwise ("column C: ..." for text). */
sb_val sb_handle_external(sb_val v);
/* Handle text as a user gives it: JSON (from '{': "line L, column C: ..."
 * errors) or server:kind:id ("column C: ..."). */
sb_val sb_handle_parse(const char *text, size_t len);
bool sb_handle_is_external(sb_val v);
sb_handle_kind sb_handle_kind_of(sb_val external);
/* A string field of a handle, or dflt. */
const char *sb_handle_field(sb_val h, const char *key, const char *dflt);
/* "server:kind:id" of an ExternalHandle (new string; sb_oom() on OOM). */
sb_val sb_handle_text(sb_val external);
/* false, with "unknown server 'x' for <kind> <id> (the workspace defines: ...)"
 * appended to why, when the workspace has servers: and h's is not one. */
bool sb_handle_check_server(sb_val h, sb_val workspace, sb_buf *why);

#endif
