/* One pipeline run in the Emscripten module: what sibyl-api.mjs's run()
 * drives. The C side of `sibyl pipeline run` for the web: the core's run
 * (core/engine/sb_run.h) with the embedded services answering in-module
 * (host-wasi/transport_embedded.c, the terminal's own queue) and every
 * other server handed to the JS host as a {"send"} message for fetch().
 *
 * Nothing here calls JavaScript: each function queues messages
 * (sb_web_int.h) that the JS host takes with sb_web_run_take after the call.
 *
 * Times are epoch milliseconds as doubles. Every function accepts NULL. */
#ifndef SB_WEB_RUN_H
#define SB_WEB_RUN_H
#include <stddef.h>

typedef struct sb_web_run sb_web_run;

/* Loads and checks the workspace and pipelines texts (explicit lengths: a
 * NUL inside is reported, not a cut), applies the options and starts the
 * run. opts is a JSON object:
 *   {"pipeline": name, "inputs": {..}|null, "seed": "digits"|null,
 *    "mode": "embedded"|"servers"|null, "clock": "virtual"|"real"|null,
 *    "servers": {name: url}|null, "start_ms": number}
 * A run that cannot start still returns a handle: its messages are the
 * diagnostics and a "done" (exit_code 1 for bad input, 2 for options that
 * contradict each other, as the CLI's usage errors). NULL only on OOM. */
sb_web_run *sb_web_run_new(const char *ws_file, const char *ws_text, size_t ws_len, const char *pl_file,
                           const char *pl_text, size_t pl_len, const char *opts, size_t opts_len);
void sb_web_run_free(sb_web_run *w);

/* 1 when the run uses the virtual clock (then sb_web_run_advance ignores
 * now_ms). */
int sb_web_run_virtual(const sb_web_run *w);

/* Moves the run on. Virtual clock: up to max_steps jumps to the next
 * deadline (answering embedded requests in between); real clock: answers
 * embedded requests and fires the timers due by now_ms. Returns
 *   0  the run is over (its "done" message is queued),
 *   1  more to do at once (virtual clock: call again after yielding),
 *   2  waiting: for sb_web_run_next_deadline or an answer to a "send". */
int sb_web_run_advance(sb_web_run *w, double now_ms, int max_steps);
/* The earliest timer deadline, or SB_WEB_NO_DEADLINE (-1). */
double sb_web_run_next_deadline(const sb_web_run *w);
/* The fetch() answer to a "send" (status 0: it failed, body says why). */
void sb_web_run_on_response(sb_web_run *w, double id, int status, const char *content_type, const char *session_id,
                            const char *body, size_t len, double now_ms);
/* As Ctrl-C: submitted jobs are cancelled, partial outputs written. */
void sb_web_run_cancel(sb_web_run *w, const char *reason, double now_ms);
/* The queued messages, one JSON object a line (sb_web_free), or NULL when
 * there are none. When memory ran out the run is cancelled and the
 * messages that could not be queued are lost (a log line says so). */
char *sb_web_run_take(sb_web_run *w);

/* The text of a {"file": {name, slot}} message of the last take (valid
 * until the next take; NUL-terminated: the core writes JSON text), or NULL
 * for a slot that is not one. */
const char *sb_web_run_file(const sb_web_run *w, int slot);

#endif
