/* The Conductor's `local` backend: each trial a child process of the server
 * (docs/backends.md). The core (sb_conductor_exec.h) decides when a job
 * starts and when it must be killed; this host runs the workspace's command
 * for it in its own folder and process group and tells the core how it ended.
 *
 * Not thread-safe: the caller serialises every call (the conductor holds one
 * lock for the core and this backend). Ownership: the config's values are
 * borrowed for local_new only (what is kept is copied). */
#ifndef BACKEND_LOCAL_H
#define BACKEND_LOCAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conductor/sb_conductor_exec.h"
#include "value/sb_value.h"

typedef struct local_config {
    sb_val command;       /* the workspace's backends.local.command: a list of string templates */
    sb_val env;           /* a map of strings, or null */
    sb_val errors;        /* the workspace's errors: map, or null (then failures carry no error_type) */
    const char *work_dir; /* the jobs' folders go under it; created if missing */
    const char *metrics_file;
    double kill_grace_s;
    uint64_t seed;    /* {{ seed }} */
    const char *file; /* the workspace file, for messages */
} local_config;

typedef struct local_backend local_backend;

/* NULL after writing why into err (a bad template: file:line:col). */
local_backend *local_new(const local_config *c, char *err, size_t errlen);
/* Kills what still runs (SIGKILL to each group) and frees. NULL-safe. */
void local_free(local_backend *b);

/* Carries out one effect of the core at host time now_ms (monotonic). A
 * trial that cannot start (its folder, a template, the executable) is
 * reported finished at once through the core, with the reason. */
void local_apply(local_backend *b, sb_csim *core, int64_t core_now, const sb_csim_effect *e, int64_t now_ms);

/* Reaps ended trials and reports them to the core; sends SIGKILL to groups
 * whose grace after SIGTERM is over. Returns the ms until it needs to be
 * called again (a grace deadline), or -1. */
int64_t local_poll(local_backend *b, sb_csim *core, int64_t core_now, int64_t now_ms);

/* Reads each running trial's latest per-epoch line from its stdout (the last
 * JSON object with an integer "epoch") and reports it to the core as
 * progress {step: epoch, epochs (when the line has it), metrics: the other
 * keys}; called before each status answer (docs/backends.md). */
void local_progress(local_backend *b, sb_csim *core);

/* Trials whose process (group leader) has not been reaped yet. */
size_t local_active(const local_backend *b);

/* SIGTERM to every trial's group, then SIGKILL after the grace: for a
 * server that stops. Waits for them (at most the grace plus a second). */
void local_stop_all(local_backend *b);

#endif
