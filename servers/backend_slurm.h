/* The Conductor's `slurm` backend: jobs the executor core
 * (core/conductor/sb_conductor_exec.h) starts run as Slurm batch jobs, one
 * `sbatch --parsable` per job, each in its own folder under work_dir with a
 * generated batch script; their state comes from ONE `squeue` per sync with
 * a query, for every job in flight; `scancel` cancels; the cost cap becomes
 * `--time` and the core also kills at the cap itself. docs/slurm.md says why
 * (command-line tools, per-job sbatch) and how.
 *
 * Threading: none; the caller serialises every call (the Conductor holds one
 * lock for the core and the backend).
 * Ownership: the config is copied at creation; the core is borrowed for the
 * backend's life. */
#ifndef BACKEND_SLURM_H
#define BACKEND_SLURM_H
#include <stdbool.h>
#include <stdint.h>

#include "conductor/sb_conductor_exec.h"
#include "value/sb_value.h"

typedef struct slurm_backend slurm_backend;

typedef struct slurm_config {
    sb_val slurm;         /* the workspace's backends.slurm (validated by the schema) */
    sb_val errors;        /* the workspace's errors: how failures are classified (null: the defaults) */
    const char *file;     /* the workspace file: messages, {{ workspace_dir }} */
    uint64_t seed;        /* {{ seed }} */
    const char *work_dir; /* where the run's folder goes (created if missing) */
} slurm_config;

/* Jobs go under a new folder sibyl-slurm-<time>-<pid> in work_dir (Slurm
 * runs them there: on a real cluster, a file system the nodes share). NULL
 * with a message in err (errlen bytes) when the config cannot be used or
 * memory runs out. */
slurm_backend *slurm_backend_new(const slurm_config *c, char *err, size_t errlen);
void slurm_backend_free(slurm_backend *b);

/* The run's folder (absolute): one folder per handle, one per job in it. */
const char *slurm_backend_run_dir(const slurm_backend *b);

/* Brings the core up to date at conductor time now_ms, host clock host_ms:
 * with query, one squeue for every job in flight, reporting what started and
 * what ended; then performs the core's effects (START: sbatch; KILL:
 * scancel) until there are none. */
void slurm_backend_sync(slurm_backend *b, sb_csim *core, int64_t now_ms, int64_t host_ms, bool query);

/* Jobs submitted to Slurm and not yet seen to end. */
size_t slurm_backend_in_flight(const slurm_backend *b);

/* Cancels every job in flight (one scancel), for a Conductor that stops. */
void slurm_backend_cancel_all(slurm_backend *b);

#endif
