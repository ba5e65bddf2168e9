/* The embedded MCP services: the Solver's planner and the simulated
 * Conductor, running in-process. They are reached through exactly the same
 * JSON-RPC messages as remote servers: a host that would POST a body to a
 * server's URL hands it to sb_services_handle (or sb_services_answer, which
 * returns the answer as a value) instead, so moving to real servers changes
 * the host only, never the core or the pipeline. */
#ifndef SB_SERVICES_H
#define SB_SERVICES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../conductor/sb_conductor_sim.h"
#include "../value/sb_value.h"

typedef struct sb_services sb_services;

/* One embedded server per workspace server with `transport: embedded`
 * (service solver or conductor_sim). The simulated cluster takes its settings
 * from the workspace's simulation and cost_model sections; `seed` overrides
 * simulation.seed. NULL on OOM. */
sb_services *sb_services_new(sb_val workspace, uint64_t seed);
void sb_services_free(sb_services *s); /* NULL-safe */

/* The simulated cluster's options from a workspace's cost_model and
 * simulation sections, as the embedded Conductor reads them (the seed stays
 * 0: the caller sets it). The reference Conductor server uses the same.
 * cost_model.duration_scale is borrowed from ws until sb_csim_create. */
void sb_services_sim_options(sb_val ws, sb_csim_options *o);

/* true if `server` is one of the embedded servers. */
bool sb_services_has(const sb_services *s, const char *server);

/* Handles one POSTed JSON-RPC body for `server` at host time now_ms. Returns
 * the response body (sb_free it), or NULL with *status 202 for a
 * notification; *status is the HTTP status to report. */
char *sb_services_handle(sb_services *s, const char *server, int64_t now_ms, const char *body, size_t len,
                         int *status);

/* The same, the answer as the JSON-RPC message value (sb_mcp_server_answer):
 * a host in the same process hands a 200 answer to sb_run_on_message and
 * saves writing and reading the text. SB_NULL with *status 202 (a
 * notification), 404 (no such server) or 500. */
sb_val sb_services_answer(sb_services *s, const char *server, int64_t now_ms, const char *body, size_t len,
                          int *status);

/* The earliest time after now_ms at which a simulated job changes state, or
 * INT64_MAX: a virtual clock never needs it (the run's timers decide), but a
 * host may show it. */
int64_t sb_services_next_event(const sb_services *s, int64_t now_ms);

#endif
