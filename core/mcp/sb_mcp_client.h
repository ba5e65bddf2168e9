/* A sans-I/O MCP client session for one server over Streamable HTTP, in the
 * style of nghttp2's session: the client says which HTTP request to send next,
 * the host sends it however it can (libcurl, fetch, an in-process server, a
 * test script) and hands the answer back. The client never does I/O and never
 * reads a clock: time arrives as now_ms arguments.
 *
 * The session initializes itself: the first queued call makes it send
 * initialize, then notifications/initialized, then the calls. It keeps the
 * MCP-Session-Id the server gave, sends MCP-Protocol-Version on every request
 * after initialize, re-initializes once and resends when a session expires
 * (404), reads answers as JSON or as SSE streams, resumes a stream the server
 * closed early (GET + Last-Event-ID after `retry`), and polls task-augmented
 * calls with tasks/get. See docs/mcp.md.
 *
 * Ownership: arguments are borrowed (args/params are referenced, not copied:
 * do not modify them afterwards, which sb_val's sharing rule forbids anyway).
 * Pointers in an sb_mcp_request are owned by the client and valid until the
 * next call on it. Completion results and event values are the caller's.
 * Memory exhaustion never loses a call: a call that cannot go on completes
 * with the sb_oom() error. */
#ifndef SB_MCP_CLIENT_H
#define SB_MCP_CLIENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../value/sb_value.h"
#include "sb_mcp_proto.h"

typedef struct sb_mcp_client sb_mcp_client;

/* server_name names the server in error messages ("server 'conductor': ...").
 * NULL on OOM. */
sb_mcp_client *sb_mcp_client_new(const char *server_name, const char *client_name, const char *client_version);
void sb_mcp_client_free(sb_mcp_client *c);

typedef struct sb_mcp_call_opts {
    /* Send _meta.progressToken (the call id), asking the server for
     * notifications/progress (they come back as events). */
    bool progress;
    /* > 0: a task-augmented call (params.task = {ttl}); when the server
     * answers with a task, the client polls tasks/get at the server's
     * pollInterval and fetches tasks/result once the task has ended. Servers
     * without task support just answer the call. */
    int64_t task_ttl_ms;
} sb_mcp_call_opts;

/* Queues a tools/call (no progress token, no task). Returns the call id (> 0)
 * or 0 on OOM. args: an SB_MAP, or SB_NULL for none. */
uint64_t sb_mcp_client_call_tool(sb_mcp_client *c, const char *tool, sb_val args);
uint64_t sb_mcp_client_call_tool_ex(sb_mcp_client *c, const char *tool, sb_val args, const sb_mcp_call_opts *opts);
/* Follows an MCP task this client did not start (its id from an
 * ExternalHandle of kind mcp_task): tasks/get at once, then again after each
 * answer's pollInterval while the task is working, then tasks/result once it
 * completed or failed. The completion is that tools/call result (isError and
 * all), or an error ("task T was cancelled: ...", "needs input", a JSON-RPC
 * error for an unknown task). Returns the call id (> 0), or 0 on OOM or an
 * empty id. A single look (tasks/get) or tasks/cancel is a plain
 * sb_mcp_client_request with {"taskId": id}. */
uint64_t sb_mcp_client_follow_task(sb_mcp_client *c, const char *task_id);
/* Joins an MCP session another client initialized (its MCP-Session-Id, and
 * the revision it negotiated, NULL: the latest) instead of starting one:
 * servers that bind tasks to the session that created them (the reference
 * servers do) answer tasks/get for it only there. The session is borrowed:
 * sb_mcp_client_close does not end it. If the server says it expired, the
 * client starts a session of its own as usual. Only before the first
 * request; false otherwise or on OOM. */
bool sb_mcp_client_use_session(sb_mcp_client *c, const char *session_id, const char *version);
/* Queues any other request (tools/list, ping, ...); params SB_NULL for none.
 * Its completion is the raw JSON-RPC result. */
uint64_t sb_mcp_client_request(sb_mcp_client *c, const char *method, sb_val params);

typedef struct sb_mcp_request {
    uint64_t id;                  /* this request's id for sb_mcp_client_on_response */
    const char *method;           /* "POST", "GET" (SSE resumption) or "DELETE" (close) */
    const char *body;             /* POST only; NULL otherwise */
    size_t body_len;
    const char *session_id;       /* MCP-Session-Id header to send, or NULL */
    const char *protocol_version; /* MCP-Protocol-Version header to send, or NULL (initialize) */
    const char *last_event_id;    /* Last-Event-ID header (GET resumption), or NULL */
    int64_t not_before_ms;        /* send no earlier than this host time (SSE retry, task
                                     pollInterval); 0 = now */
    const char *accept;           /* Accept header: "application/json, text/event-stream" for POST,
                                     "text/event-stream" for GET, NULL for DELETE */
    const char *content_type;     /* "application/json" for POST, else NULL */
} sb_mcp_request;

/* The next HTTP request to send, or false when none is ready (e.g. waiting
 * for initialize's answer). Requests are handed out as soon as they are
 * known; a delayed one says so in not_before_ms and the host waits. Several
 * may be in flight at once; answers may come back in any order. */
bool sb_mcp_client_next_request(sb_mcp_client *c, int64_t now_ms, sb_mcp_request *out);

/* Delivers the complete HTTP answer to request id: status, Content-Type, the
 * MCP-Session-Id response header (or NULL) and the body (JSON, or a whole SSE
 * stream). A transport failure (connection refused, timeout: the host
 * decides) is status 0 with body = a message saying what happened. Answers
 * to unknown or abandoned requests are ignored. */
void sb_mcp_client_on_response(sb_mcp_client *c, uint64_t id, int status, const char *content_type,
                               const char *session_id, const char *body, size_t len, int64_t now_ms);
/* The same for an answer from a server in the same process: HTTP 200 with
 * a JSON body, delivered as the JSON-RPC message value itself (consumed; what
 * sb_json_parse would make of that body), which saves writing and reading
 * the text. The MCP behaviour is that of sb_mcp_client_on_response. */
void sb_mcp_client_on_message(sb_mcp_client *c, uint64_t id, sb_val message, int64_t now_ms);

/* Pops a finished call, in the order they finished. *result is the caller's:
 *   - an SB_MAP: the server's result. For tools/call that is the
 *     CallToolResult {content, structuredContent?, isError?} *whether or not
 *     isError is true*: a tool that reports a failure still answered, and the
 *     engine needs its structuredContent (error_type...). Test it with
 *     sb_mcp_result_is_error() and word it with sb_mcp_result_error().
 *   - an SB_ERROR: there is no result (HTTP error, transport failure, JSON-RPC
 *     error, unusable answer, unsupported protocol version, closed client).
 *     The message names the server and the call:
 *       server 'conductor': tools/call submit_jobs: JSON-RPC error -32602: <message>
 *       server 'conductor': tools/call submit_jobs: HTTP 500
 *       server 'conductor': tools/call submit_jobs: transport error: <host's message>
 *       server 'conductor': tools/call submit_jobs: initialize: server chose protocol version "X" ...
 *     sb_is_oom() tells an out-of-memory failure. */
bool sb_mcp_client_next_completion(sb_mcp_client *c, uint64_t *call_id, sb_val *result);

/* Notifications the server sent on a call's stream (progress, logging,
 * anything else), in arrival order. At most SB_MCP_MAX_EVENTS wait; later
 * ones are dropped (and counted) until the host pops some. */
#define SB_MCP_MAX_EVENTS 1024
typedef struct sb_mcp_event {
    uint64_t call_id; /* the call it belongs to (by progressToken, else the stream it came on); 0: none */
    sb_val method;    /* e.g. "notifications/progress", "notifications/message" (the caller's) */
    sb_val params;    /* its params, or SB_NULL (the caller's) */
} sb_mcp_event;
bool sb_mcp_client_next_event(sb_mcp_client *c, sb_mcp_event *ev);
void sb_mcp_event_clear(sb_mcp_event *ev);
size_t sb_mcp_client_events_dropped(const sb_mcp_client *c);

/* Ends the session: every unfinished call completes with "client closed";
 * if the server gave a session id, the next request is a DELETE for it (its
 * answer, even 405, is ignored). Later calls complete with the same error. */
void sb_mcp_client_close(sb_mcp_client *c);

/* true while a call is unfinished or a request is in flight. */
bool sb_mcp_client_busy(const sb_mcp_client *c);
/* The negotiated revision, or NULL before initialize succeeded. */
const char *sb_mcp_client_protocol_version(const sb_mcp_client *c);
/* The serverInfo map from initialize (borrowed), or SB_NULL. */
sb_val sb_mcp_client_server_info(const sb_mcp_client *c);

/* --- reading tools/call results --- */

/* true if result is a map with isError: true. */
bool sb_mcp_result_is_error(sb_val result);
/* The text of a result's text content items, '\n'-joined (a new string value;
 * "" when there is none). */
sb_val sb_mcp_result_text(sb_val result);
/* For an isError result, a new SB_ERROR
 *   server '<server>': tools/call <tool>: tool error: <text>
 * (the text falls back to structuredContent as JSON when there is no text
 * content); SB_NULL for any other result. */
sb_val sb_mcp_result_error(const char *server, const char *tool, sb_val result);

#endif
