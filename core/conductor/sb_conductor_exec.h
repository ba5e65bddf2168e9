/* The Conductor with an external executor: the bookkeeping of the simulated
 * Conductor (handles, jobs, the FIFO queue, max_concurrent slots, the
 * per-handle budget guard and cost caps, change log and since-cursor,
 * idempotency keys, the status and cancel answers) for jobs that really run
 * somewhere else: local processes, a Slurm cluster. One implementation of the
 * contract (docs/mcp-tools-conductor.md, docs/budget.md) serves both; what
 * differs is only who decides a job's course. The sim decides it at
 * submission from its model; here the host reports it.
 *
 * Create the Conductor with sb_csim_create_external, then:
 *   - call sb_csim_call for the tools as for the sim (now_ms is conductor
 *     time: the host's clock times the time scale, as the sim server does);
 *   - after every call into the core, drain sb_csim_next_effect: the core
 *     decides WHEN a job starts (queue order, a free slot, the budget rule)
 *     and asks the host to START it, with the most host milliseconds it may
 *     run before its cost cap; and asks to KILL a job that was cancelled or
 *     that reached its cap (the host kills it however it can; the job's end
 *     is still reported through sb_csim_job_finished);
 *   - report sb_csim_job_running once the job really runs (a batch system may
 *     hold a launched job pending: until then it shows as queued, but holds
 *     its slot and its cap), and sb_csim_job_finished when it has ended,
 *     whatever the reason, with the host milliseconds it ran;
 *   - call sb_csim_tick with the clock at sb_csim_next_event_ms (the next cap
 *     deadline) or later, so that jobs reaching their cap are killed on time.
 *
 * Costs: a job is charged the cost model's price for run_ms x time_scale
 * (host ms -> conductor ms), at most its cap, and the handle's invariant
 * spent + caps of jobs holding a slot <= budget holds as for the sim. A job
 * keeps its slot until the host reports its end, also after a cancel, so no
 * more than max_concurrent jobs ever run at once; the money of a cancelled
 * job is settled at the cancel.
 *
 * Sans-I/O like the sim: no clocks, files or threads. Ownership as in
 * sb_conductor_sim.h: arguments are borrowed; an effect's strings and values
 * are the core's, valid until the core is freed. */
#ifndef SB_CONDUCTOR_EXEC_H
#define SB_CONDUCTOR_EXEC_H
#include <stdbool.h>
#include <stdint.h>

#include "sb_conductor_sim.h"

/* The Conductor for jobs a host runs: as sb_csim_create, but the surface,
 * failure rate and seed play no part. time_scale: conductor ms per host ms
 * for the run times the host reports (<= 0 or not finite means 1). Free it
 * with sb_csim_free. NULL on OOM. (A separate constructor, so that a build
 * that only simulates, sibyl.wasm, links none of this.) */
sb_csim *sb_csim_create_external(const sb_csim_options *opt, double time_scale);

/* A job as the host names it: stable for the core's life. */
typedef uint32_t sb_csim_job_ref;

typedef enum sb_csim_effect_kind { SB_CSIM_START = 1, SB_CSIM_KILL } sb_csim_effect_kind;
typedef enum sb_csim_kill_reason { SB_CSIM_KILL_CANCEL = 1, SB_CSIM_KILL_CAP } sb_csim_kill_reason;

typedef struct sb_csim_effect {
    sb_csim_effect_kind kind;
    sb_csim_job_ref job;
    const char *job_id, *handle_id;
    sb_val hyperparameters; /* a map; borrowed */
    /* START: the most host ms it may run before its cost cap (>= 1); the
     * core kills it then anyway, a host that can enforce a time limit itself
     * (Slurm's --time) passes this one. */
    int64_t cap_ms;
    sb_csim_kill_reason reason; /* KILL */
} sb_csim_effect;

/* The next thing the host must do; false when there is nothing. Effects come
 * in the order the core decided them; each is handed out once. */
bool sb_csim_next_effect(sb_csim *s, sb_csim_effect *out);

/* The job has begun to run (a launched job that was pending). Ignored for a
 * job that is not launched or already running or over. */
void sb_csim_job_running(sb_csim *s, int64_t now_ms, sb_csim_job_ref job);

typedef struct sb_csim_result {
    bool ok;                /* exited successfully with metrics */
    sb_val metrics;         /* ok: a map, e.g. {"val_acc":84.2,"train_loss":0.23} (borrowed, copied) */
    const char *error;      /* !ok: what went wrong (copied) */
    const char *error_type; /* !ok: "transient", "permanent", or NULL to let the client classify */
    int64_t run_ms;         /* host ms it ran; <0: the core's own clock measures it */
} sb_csim_result;

/* The job has ended. Returns false on OOM (nothing changed: report it again).
 * A job killed at its cap fails with error_type "budget" whatever r says; a
 * cancelled job only frees its slot; a job that was never reported running
 * counts as started now. Unknown or already finished jobs are ignored. */
bool sb_csim_job_finished(sb_csim *s, int64_t now_ms, sb_csim_job_ref job, const sb_csim_result *r);

/* A running job's latest intermediate result, as the host read it (the
 * trainer's per-epoch line): progress is a map {step: int >= 1, epochs?:
 * int, metrics: map} (borrowed, copied). A step no later than the last one
 * reported changes nothing; a newer one makes the job count as changed for
 * since-cursors (docs/mcp-tools-conductor.md section 1.10). Returns false on
 * OOM or a malformed map (nothing changed). Ignored for a job not running. */
bool sb_csim_job_progress(sb_csim *s, sb_csim_job_ref job, sb_val progress);

/* Brings the core to now_ms (kills for jobs past their cap deadline). The
 * tools do this too; a host calls it when sb_csim_next_event_ms is due. */
void sb_csim_tick(sb_csim *s, int64_t now_ms);

#endif
