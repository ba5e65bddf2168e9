/* The simulated Conductor: a deterministic GPU cluster behind the Conductor's
 * three MCP tools (submit_jobs, get_jobs_status, cancel_jobs). The contract is
 * docs/mcp-tools-conductor.md; this is the embedded implementation that
 * sibyl.wasm uses and that backs the reference server's `sim` backend.
 *
 * Sans-I/O: no clocks, no files, no global state. Time is an input: every call
 * carries the host's clock (now_ms, virtual or real) and the sim first brings
 * its cluster up to that time (jobs end at start + duration, queued jobs take
 * free slots in submission order), then answers. Everything random comes from
 * the seed, so the same seed and the same calls give byte-identical answers on
 * every platform.
 *
 * Ownership: arguments are borrowed (options.duration_scale is copied at
 * create); returned values are new references the caller frees. A call that
 * runs out of memory returns sb_oom() and leaves the cluster as it was (time
 * still advances, since that needs no memory). */
#ifndef SB_CONDUCTOR_SIM_H
#define SB_CONDUCTOR_SIM_H
#include <stddef.h>
#include <stdint.h>

#include "../mcp/sb_tool.h"
#include "../value/sb_value.h"

typedef struct sb_csim_options {
    uint64_t seed;
    int max_concurrent; /* cluster-wide running slots; default 5 */
    /* Cost model: a job's estimated hours are base_hours times the product of
     * the duration_scale factors that match its hyperparameters; it costs
     * hours * gpus_per_trial * gpu_hour_usd. Defaults 12.60, 1, 2.0. */
    double gpu_hour_usd, gpus_per_trial, base_hours;
    sb_val duration_scale;     /* {"batch_size":{"32":1.15,...}} or null */
    double infra_failure_rate; /* chance of CUDA OOM / connection reset; default 0.03 */
    /* A job's cost cap is its estimate (or, without one, the sim's own quote
     * from the cost model) times 1 + this, unless submit_jobs gives a cap or
     * a margin itself; default 0.10. See docs/budget.md. */
    double cap_margin_fraction;
    /* Learning curves (the workspace's simulation.epochs): 0, the default,
     * none; else a running job reports progress {step, epochs, metrics} in
     * get_jobs_status, its duration spread evenly over its epochs (the job's
     * own `epochs` hyperparameter wins over this count). */
    int epochs;
    /* The response surface, NaN-loss rule and duration spread (the
     * workspace's `simulation:` section); all zero (as options_init leaves
     * it) means the defaults of sb_csim_surface_init. */
    struct sb_csim_surface {
        bool set;
        double opt_lr, opt_batch, opt_dropout; /* the optimum; defaults 0.001, 64, 0.3 */
        double best_value;                     /* val_acc at the optimum before noise; default 86 */
        double noise;                          /* half-width of the triangular noise; default 0.3 */
        double duration_jitter;                /* durations vary by +- this share; default 0.1 */
        double nan_lr;                         /* learning rate from which training diverges; default 0.1 */
        double nan_lr_large_batch;             /* the same for large batches; default 0.01 */
        double large_batch;                    /* batch size counted as large; default 128 */
    } surface;
} sb_csim_options;

/* The surface defaults, with set true. */
void sb_csim_surface_init(struct sb_csim_surface *sf);

/* Reads a workspace `simulation:` map into o: max_concurrent,
 * infra_failure_rate, surface {optimum {learning_rate, batch_size, dropout},
 * best_value, noise}, nan_loss {learning_rate, large_batch_learning_rate,
 * large_batch_size}, duration_jitter and epochs; absent fields keep their value (the
 * surface's start from the defaults). seed is left to the caller (--seed
 * overrides it). Returns false, changing nothing, if sim is not a map or a
 * field has the wrong type or range (the schema rejects those first). */
bool sb_csim_options_from_simulation(sb_csim_options *o, sb_val sim);

/* Fills o with the defaults (seed 0). */
void sb_csim_options_init(sb_csim_options *o);

/* Copies the fields present in a workspace cost model map {gpu_hour_usd,
 * gpus_per_trial, base_hours, duration_scale, cap_margin_fraction} into o; absent fields keep their
 * value. duration_scale is borrowed from cost_model (keep it alive until
 * sb_csim_create). Returns false, changing nothing, if cost_model is not a map
 * or a field has the wrong type or range. */
bool sb_csim_options_from_cost_model(sb_csim_options *o, sb_val cost_model);

typedef struct sb_csim sb_csim;

/* opt NULL means the defaults. Out-of-range options (max_concurrent < 1,
 * negative or non-finite prices or hours, a rate outside [0,1], a
 * duration_scale that is not a map) are replaced by their defaults.
 * NULL on OOM. */
sb_csim *sb_csim_create(const sb_csim_options *opt);
void sb_csim_free(sb_csim *s);

/* One tool call at virtual time now_ms, in [0, 2^62] (values outside are
 * clamped; a clock that goes backwards is held at its latest value). args
 * borrowed. Returns an MCP tools/call result map:
 *   {"content":[{"type":"text","text":<JSON of structuredContent>}],
 *    "structuredContent": {...}, "isError": false}
 * or, for an unknown tool or bad arguments,
 *   {"content":[{"type":"text","text":<message>}],
 *    "structuredContent": {"error": <message>}, "isError": true}.
 * sb_oom() when memory runs out. */
sb_val sb_csim_call(sb_csim *s, int64_t now_ms, const char *tool, sb_val args);

/* Earliest time at which some job changes state (for a host's virtual clock),
 * or -1 if nothing is running. If that time is not after now_ms (the host has
 * not called since), returns now_ms: call again now. */
int64_t sb_csim_next_event_ms(const sb_csim *s, int64_t now_ms);

/* Tool descriptions for tools/list (static storage). */
const sb_tool_desc *sb_csim_tools(size_t *count);

#endif
