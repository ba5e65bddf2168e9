/* Following a job handle someone else started (core/engine/sb_handle.h's
 * watcher) for sibyl-api.mjs's watchHandle(): the watcher's requests go to
 * the JS host as {"send"} messages for fetch(), its answers come back with
 * sb_web_watch_on_response, and what the answers say comes out as events
 * (sb_web_int.h): "chunk" per finished job (the job's record as the server
 * reported it), then "poll" and "progress" per answered poll, and "done"
 * when the server says every job has finished.
 *
 * The JS host decides when to poll (sb_web_watch_poll), with the backoff of
 * the workspace's polling section, which the "start" message carries. After
 * SB_WEB_WATCH_MAX_ERRORS polls in a row fail the watch ends, failed.
 * Times are epoch milliseconds as doubles; every function accepts NULL. */
#ifndef SB_WEB_WATCH_H
#define SB_WEB_WATCH_H
#include <stddef.h>

#define SB_WEB_WATCH_MAX_ERRORS 5

typedef struct sb_web_watch sb_web_watch;

/* handle: the handle as JSON (a PollableJobHandle: {"$type", "server",
 * "handle_id", ...}); the workspace names the handle's server (its URL,
 * headers, timeout) and the polling backoff; servers: {name: url}
 * overrides as JSON, or NULL. A watch that cannot start still returns a
 * handle whose messages are diagnostics and "done". NULL only on OOM. */
sb_web_watch *sb_web_watch_new(const char *handle_json, size_t handle_len, const char *ws_file, const char *ws_text,
                               size_t ws_len, const char *servers_json, size_t servers_len, double now_ms);
void sb_web_watch_free(sb_web_watch *w);
/* Starts one poll; 0 while the previous one is unanswered or after the end. */
int sb_web_watch_poll(sb_web_watch *w, double now_ms);
void sb_web_watch_on_response(sb_web_watch *w, double id, int status, const char *content_type, const char *session_id,
                              const char *body, size_t len, double now_ms);
/* Ends the watch ("done" with status cancelled). */
void sb_web_watch_stop(sb_web_watch *w, double now_ms);
/* As sb_web_run_take. */
char *sb_web_watch_take(sb_web_watch *w);

#endif
