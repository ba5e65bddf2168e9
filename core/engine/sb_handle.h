/* Handles outside a pipeline run (ExternalHandle values: sb_handle_value.h).
 *
 * The watcher: a PollableJobHandle or a conductor_handle ExternalHandle on
 * its own, outside a pipeline run: for a dashboard, `sibyl handle` or a tool
 * that watches a handle some run created. Poll once (one status call,
 * with the since-cursor of the previous answer), then iterate the jobs that
 * finished since. Sans-I/O like sb_run: the watcher hands out HTTP requests
 * for the handle's server and is given the answers; it never blocks.
 *
 * A handle is the value a call step with `handle:` produces:
 *   {"$type": "PollableJobHandle", "server", "handle_id", "job_ids",
 *    "status_tool", "submit_tool"}
 * Ownership: arguments are borrowed; values handed out are the caller's. */
#ifndef SB_HANDLE_H
#define SB_HANDLE_H
#include <stdbool.h>
#include <stdint.h>

#include "../config/sb_handle_value.h"
#include "../mcp/sb_mcp_client.h"
#include "../value/sb_value.h"

typedef struct sb_handle_watch sb_handle_watch;

/* NULL if `handle` is neither a PollableJobHandle nor a conductor_handle
 * ExternalHandle, or on OOM. With an ExternalHandle the job list comes from
 * the server: the first status call has no cursor, so it lists every job. */
sb_handle_watch *sb_handle_watch_new(sb_val handle);
void sb_handle_watch_free(sb_handle_watch *w); /* NULL-safe */

/* Queues one status call; false while the previous one is unanswered. */
bool sb_handle_watch_poll(sb_handle_watch *w);
/* The next HTTP request to send for the handle's server (see
 * sb_mcp_client_next_request; the first poll also initializes the session). */
bool sb_handle_watch_next_request(sb_handle_watch *w, int64_t now_ms, sb_mcp_request *out);
void sb_handle_watch_on_response(sb_handle_watch *w, uint64_t id, int status, const char *content_type,
                                 const char *session_id, const char *body, size_t len, int64_t now_ms);

/* The next job that reached completed, failed or cancelled, as the server
 * reported it ({job_id, status, metrics | error, error_type, cost_usd...}),
 * each job once. false when none is waiting. */
bool sb_handle_watch_next_result(sb_handle_watch *w, sb_val *job);

/* A finished job's record as the stream chunk a pipeline's poll step writes
 * for it (docs/pipeline-format.md: job_completed, job_failed, job_cancelled,
 * job_unstarted), with the server's error_type (else "unknown": there are no
 * workspace patterns here). A new value; an SB_ERROR for a map that is not a
 * job record. */
sb_val sb_handle_chunk(sb_val record);

/* Queues the handle's cancel tool (cancel_tool, default cancel_jobs) for
 * every unfinished job; false while one is unanswered or on OOM. Poll after
 * its answer: the status answer reports the cancelled jobs with their
 * partial costs. */
bool sb_handle_watch_cancel(sb_handle_watch *w);
/* The cancel call's answer: null before it, the tool's result value, or an
 * SB_ERROR value (transport failure, or "cancel_jobs refused: ..."). Borrowed. */
sb_val sb_handle_watch_cancelled(const sb_handle_watch *w);
/* A call is unanswered (or the session has requests to make). */
bool sb_handle_watch_busy(const sb_handle_watch *w);

/* {polls, in_flight, handle (as an ExternalHandle), done, counts{...}, error?}:
 * what the last answer said. */
sb_val sb_handle_watch_status(const sb_handle_watch *w);

#endif
