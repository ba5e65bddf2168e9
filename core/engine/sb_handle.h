/* A PollableJobHandle on its own, outside a pipeline run: for a dashboard or
 * a tool that watches a handle some run created. Poll once (one status call,
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

#include "../mcp/sb_mcp_client.h"
#include "../value/sb_value.h"

typedef struct sb_handle_watch sb_handle_watch;

/* NULL if `handle` is not a PollableJobHandle or on OOM. */
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

/* {polls, in_flight, done, counts{...}, error?}: what the last answer said. */
sb_val sb_handle_watch_status(const sb_handle_watch *w);

#endif
