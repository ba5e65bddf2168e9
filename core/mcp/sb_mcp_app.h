/* The full MCP tool server behind the reference servers' HTTP endpoint: what
 * sb_mcp_server answers (initialize, ping, errors) plus what a long-lived
 * server needs and the embedded services do not:
 *   - tools listed with input AND output JSON Schemas and
 *     execution.taskSupport;
 *   - tools that emit notifications while they run (notifications/progress
 *     for a request's progressToken, notifications/message filtered by
 *     logging/setLevel);
 *   - completion/complete (no completable arguments: an empty list);
 *   - MCP tasks (tasks/get, tasks/result, tasks/list, tasks/cancel) for tools
 *     declared task-capable;
 *   - answers that are not ready yet: a tool may defer (its jobs are still
 *     running); the caller gets a pending id and polls it later at a later
 *     time. The endpoint turns that into SSE polling (SEP-1699).
 *
 * Sans-I/O like the rest of core/mcp: time is an input (now_ms, Unix epoch
 * milliseconds: task timestamps are written from it). Only the servers link
 * this file; sibyl.wasm does not.
 *
 * Sessions are opaque strings given by the host (the endpoint's
 * MCP-Session-Id); the log level and the tasks belong to one session.
 *
 * Ownership: definitions are copied at creation; bodies and session strings
 * are borrowed; everything in a filled sb_mcp_app_reply is the caller's
 * (sb_mcp_app_reply_clear). */
#ifndef SB_MCP_APP_H
#define SB_MCP_APP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../value/sb_value.h"
#include "sb_tool.h"

typedef enum sb_mcp_task_support {
    SB_MCP_TASK_FORBIDDEN, /* the default */
    SB_MCP_TASK_OPTIONAL,
    SB_MCP_TASK_REQUIRED
} sb_mcp_task_support;

typedef struct sb_mcp_app_tool {
    const char *name, *description;
    const char *input_schema_json;  /* NULL: {"type":"object"} */
    const char *output_schema_json; /* NULL: none listed */
    sb_mcp_task_support tasks;
} sb_mcp_app_tool;

/* What a running tool sees. */
typedef struct sb_mcp_call sb_mcp_call;
int64_t sb_mcp_call_now(const sb_mcp_call *c);
/* 0 on the first run of a call, then 1, 2, ... for each poll of a deferred one. */
unsigned sb_mcp_call_attempt(const sb_mcp_call *c);
/* The run belongs to a task (notifications are not sent for task runs). */
bool sb_mcp_call_is_task(const sb_mcp_call *c);
/* notifications/progress for the request's progressToken; nothing when the
 * request had none. total < 0 and message NULL are left out. false on OOM. */
bool sb_mcp_call_progress(sb_mcp_call *c, double progress, double total, const char *message);
/* notifications/message {level, logger, data} when level is at or above the
 * session's (logging/setLevel; "info" until set). data borrowed. level is one
 * of the eight syslog names. false on OOM. */
bool sb_mcp_call_log(sb_mcp_call *c, const char *level, sb_val data);
/* The answer is not ready: the tool returns SB_NULL after this and is run
 * again (same arguments, attempt + 1) when the caller polls. disconnect asks
 * the endpoint to close the stream at once and let the client resume it. */
void sb_mcp_call_defer(sb_mcp_call *c, bool disconnect);

/* Runs one tool: a tools/call result map, SB_NULL after sb_mcp_call_defer,
 * or SB_ERROR for an internal error (-32603). args borrowed (an object). */
typedef sb_val (*sb_mcp_app_fn)(void *ud, sb_mcp_call *call, const char *tool, sb_val args);

typedef struct sb_mcp_app sb_mcp_app;

/* NULL on OOM or when a schema is not a JSON object. */
sb_mcp_app *sb_mcp_app_new(const char *name, const char *version, const char *instructions,
                           const sb_mcp_app_tool *tools, size_t ntools, sb_mcp_app_fn fn, void *ud);
void sb_mcp_app_free(sb_mcp_app *a);

typedef struct sb_mcp_app_reply {
    int status;        /* 200 answer, 202 accepted (no answer), 400 invalid, 404 (poll) unknown id, 500 OOM */
    sb_val notes;      /* list of notification messages sent before the answer (maybe empty) */
    sb_val message;    /* the JSON-RPC response (a map), or SB_NULL */
    uint64_t pending;  /* nonzero: message is SB_NULL, poll this id for the answer */
    bool disconnect;   /* with pending: close the stream now, the client resumes */
    bool wants_stream; /* the request carried a progressToken */
} sb_mcp_app_reply;

/* One POSTed body of `session` (may be "" for none). The reply is filled
 * whatever happens (clear it afterwards). */
void sb_mcp_app_handle(sb_mcp_app *a, const char *session, int64_t now_ms, const char *body, size_t len,
                       sb_mcp_app_reply *out);
/* Runs a pending answer again. When it is ready, out->message holds it and
 * the pending id is spent; otherwise out->pending is the same id. An unknown
 * id gives status 404. */
void sb_mcp_app_poll(sb_mcp_app *a, uint64_t pending, int64_t now_ms, sb_mcp_app_reply *out);
/* Forgets a pending answer (its stream will not be resumed). */
void sb_mcp_app_drop(sb_mcp_app *a, uint64_t pending);
/* The session ended: its tasks, pending answers and log level go. */
void sb_mcp_app_end_session(sb_mcp_app *a, const char *session);
void sb_mcp_app_reply_clear(sb_mcp_app_reply *r);

/* Counts for logs and tests. */
size_t sb_mcp_app_task_count(const sb_mcp_app *a, bool working_only);

/* Unix epoch milliseconds as ISO 8601 UTC ("2026-12-06T03:12:06.123Z");
 * buf has room for 32 bytes. Exposed for tests. */
void sb_mcp__iso8601(int64_t ms, char buf[32]);

#endif
