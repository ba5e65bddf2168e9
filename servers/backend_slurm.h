/* The Conductor's `slurm` backend: jobs the executor core
 * (core/conductor/sb_conductor_exec.h) starts run as Slurm batch jobs, one
 * `sbatch --parsable` per job, each in its own folder under work_dir with a
 * generated batch script; their state comes from ONE `squeue` per sync with
 * a query, for every job in flight; `scancel` cancels; the cost cap becomes
 * `--time` and the core also kills at the cap itself. docs/slurm.md says why
 * (command-line tools, per-job sbatch) and how.
 *
 * Threading: every call comes from the one thread that serves the tools.
 * Ownership: the config is copied at creation; the core is borrowed for the
 * backend's life. */
#ifndef BACKEND_SLURM_H
#define BACKEND_SLURM_H
#include <stdbool.h>
#include <stdint.h>

#include "conductor/sb_conductor_exec.h"
#include "value/sb_value.h"

typedef struct slurm_backend slurm_backend;

/* Classifies a failed job's error text as "transient" or "permanent" (the
 * workspace's error classification); NULL leaves it to the client. */
typedef const char *(*slurm_classify_fn)(void *ud, const char *error);

/* Reads the workspace's `backends.slurm` map (validated by the schema) and
 * the options. work_dir: the key, else opt_work_dir, else a new folder
 * ./sibyl-slurm-<time> (Slurm runs the jobs there: on a real cluster it must
 * be on a shared file system). time_scale: conductor ms per host ms. NULL
 * with a message in err (errlen bytes) when the config cannot be used or
 * memory runs out. */
slurm_backend *slurm_backend_new(sb_val slurm_cfg, const char *opt_work_dir, const char *ws_file, double time_scale,
                                 char *err, size_t errlen);
void slurm_backend_free(slurm_backend *b);

/* The classifier for failed jobs (optional). */
void slurm_backend_set_classify(slurm_backend *b, slurm_classify_fn fn, void *ud);

/* The running slots the workspace asks for (max_concurrent), or 0. */
int slurm_backend_max_concurrent(const slurm_backend *b);

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
