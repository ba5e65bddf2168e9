/* Pieces shared by the C files of the Emscripten module (host-web/sb_web*.c).
 *
 * The module never calls into JavaScript: C queues what the JS host must do
 * (send a request, deliver an event, keep a file) as newline-separated JSON
 * messages in an sb_buf, and sibyl-api.mjs takes them after each call
 * (sb_web_run_take / sb_web_watch_take). So no JS callback, and no JS
 * exception, can ever run inside a C frame; the JS side catches what its own
 * listeners throw.
 *
 * One message per line, one key naming its kind:
 *   {"start": {seed, virtual, result_file, stream_file,         a run began (sb_web_run.c), or
 *              servers: {name: {url, timeout_ms, headers}}}}   a watch (sb_web_watch.c: server,
 *                                                              servers, polling)
 *   {"diagnostics": [{file, line, col, message, text}...]}   the run could not be created
 *   {"event": {type, time_ms, ...}}                            the API's event object itself; a
 *                                                              chunk's is exactly
 *   {"event":{"type":"chunk","time_ms":N,"chunk":LINE}}        LINE: the stream file's line
 *   {"send": {id, server, method, body, session_id, protocol_version, last_event_id,
 *             accept, content_type, not_before_ms?}}           an HTTP request for the JS host
 *   {"file": {name, slot}}                                     a file the core wrote (replaces it);
 *                                                              its text: sb_web_run_file(slot)
 *   {"done": {status, exit_code, error?, time_ms}}             last message of a run
 * Strings the core owns are copied into the buffer at once, so nothing in a
 * message outlives the callback that produced it.
 *
 * Ownership: functions here borrow their arguments; an sb_buf they append to
 * is the caller's, and a failed append is remembered by the buffer
 * (sb_buf_failed), which the caller turns into "out of memory". */
#ifndef SB_WEB_INT_H
#define SB_WEB_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/sb_run.h"
#include "util/sb_buf.h"
#include "util/sb_diag.h"
#include "value/sb_value.h"

/* Times cross the boundary as doubles (epoch milliseconds, exact up to
 * 2^53): Emscripten 3.1.6 without BigInt support would split an int64. */
#define SB_WEB_NO_DEADLINE (-1.0)

/* A run's exit_code: the CLI's exit statuses (host-wasi/cli.h), so an
 * embedder and a shell script read the same numbers. */
enum { SB_WEB_EXIT_OK = 0, SB_WEB_EXIT_INVALID = 1, SB_WEB_EXIT_USAGE = 2, SB_WEB_EXIT_RUN_FAILED = 3 };

/* {"event": {...}} for one engine event, in the API's shape (sibyl-api.d.ts):
 * the event's data map is flattened beside type and time_ms. */
void sb_web__event_json(sb_buf *b, const sb_event *ev);
/* {"send": {...}} for one request; not_before_ms > 0 adds the time before
 * which the host must not send it (an MCP client's retry delay). */
void sb_web__send_json(sb_buf *b, const sb_run_request *req, int64_t not_before_ms);
/* {"done": {...}}; error may be NULL. */
void sb_web__done_json(sb_buf *b, const char *status, int exit_code, const char *error, int64_t now);
/* One {file, line, col, message, text} object. */
void sb_web__diag_json(sb_buf *out, const sb_diag *e);
/* {"diagnostics": [...]} for every diagnostic of d, sorted by position. */
void sb_web__diags_json(sb_buf *out, sb_diags *d);

/* Changes a validated workspace tree so that every server is answered as
 * `mode` says: "embedded" (http servers become the embedded service their
 * name names: solver, or conductor_sim for a name containing "conductor"),
 * "servers" (embedded servers become http; each needs a URL in urls), NULL
 * (as written). urls (a map name -> URL, or null) overrides URLs either way.
 * only: the one server the mode applies to (NULL: every server).
 * Returns false with a diagnostic in d on a server it cannot place. */
bool sb_web__apply_mode(sb_val *ws, const char *ws_file, const char *mode, sb_val urls, const char *only, sb_diags *d);
/* {"name": {url, timeout_ms, headers}} for the http servers of ws. */
void sb_web__servers_json(sb_buf *b, sb_val ws);

#endif
