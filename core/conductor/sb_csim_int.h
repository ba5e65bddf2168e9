/* Internals of the simulated Conductor, shared by its .c files only.
 *
 * Layout, chosen so that 100,000 jobs with 1,000 running stay linear:
 *   - every job of every handle lives in one array, in submission order; that
 *     order is also the FIFO queue (queue_head: no queued job lies before it);
 *   - running jobs sit in a min-heap keyed by (end time, job index), with
 *     room for max_concurrent reserved at create;
 *   - each handle keeps its jobs' indices, an id index, and a change log (job
 *     index per state change); a cursor is a position in that log.
 * Everything a job can ever need (three log entries, index room) is reserved
 * when it is submitted, so advancing time and cancelling never allocate and
 * cannot fail. */
#ifndef SB_CSIM_INT_H
#define SB_CSIM_INT_H
#include "../util/sb_heap.h"
#include "sb_conductor_sim.h"

enum { CSIM_QUEUED, CSIM_RUNNING, CSIM_COMPLETED, CSIM_FAILED, CSIM_CANCELLED, CSIM_NSTATUS };

/* What will happen to a job once it runs; decided at submission. CAP: it
 * would cost more than its cap, so it is stopped when it reaches it. */
enum { CSIM_OUT_OK, CSIM_OUT_NAN, CSIM_OUT_INFRA, CSIM_OUT_INVALID, CSIM_OUT_CAP };

/* A handle without a budget (budget_cents). */
#define CSIM_NO_BUDGET INT64_MAX

/* Cents, saturating: caps are at most 10^15 cents, but a handle without a
 * budget may run as many jobs as it likes. */
static inline int64_t sb_csim__add_cents(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* The latest time the sim accepts (later clocks are held there). */
#define CSIM_MAX_MS ((int64_t)1 << 62)

/* Most state changes of one job: queued, running, final. */
#define CSIM_CHANGES_PER_JOB 3

extern const char *const sb_csim__status_names[CSIM_NSTATUS];

typedef struct csim_job {
    sb_val id;       /* string */
    sb_val hyper;    /* map, a private clone */
    sb_val retry_of; /* string or null */
    sb_val error;    /* string for jobs that will fail, else null */
    double est_cost; /* as submitted; meaningful when has_est */
    double val_acc, train_loss;
    int64_t submitted_ms, started_ms, finished_ms; /* -1 until it happens */
    int64_t run_ms;                                /* start to planned end: full duration, or the failure point */
    uint32_t handle;                               /* index into sb_csim.handles */
    uint32_t last_change;                          /* position of its latest entry in its handle's log */
    uint64_t run_id;                               /* its entry in sb_csim.running; 0 when not running */
    int64_t cap_cents;                             /* the most it may be charged, >= 1 */
    uint8_t status, outcome;
    bool has_est;
    bool stopped_early; /* cancelled while running with reason "early_stopping" */
    bool unstarted; /* cancelled because its cap could never fit the handle's budget */
    /* External executor only (sb_csim_exec.c): */
    bool launched;          /* the host was told to start it: holds a slot and its cap */
    bool holds_slot;        /* until the host reports its end */
    uint8_t kill;           /* SB_CSIM_KILL_* asked of the host, or 0 */
    const char *error_type; /* its class as the host gave it (static), or NULL */
    sb_val metrics;         /* a completed job's map, else null */
    /* Learning curve (sim with opt.epochs only): its epochs, the full
     * duration they are spread over, and its private noise stream. */
    uint32_t epochs;
    int64_t full_ms;
    uint64_t curve_seed;
    double curve_rate; /* how fast it saturates: > 0, larger is faster */
    /* External executor: the latest progress the host reported ({step,
     * epochs?, metrics}, or null) and the sb_csim.progress_seq it came with. */
    sb_val progress;
    uint64_t progress_seq;
} csim_job;

/* Open addressing over 64-bit slots: high 32 bits a hash of the key, low 32
 * bits value + 1 (0 = empty). Keys are not stored: a lookup asks key_of. */
typedef struct csim_index {
    uint64_t *slots;
    size_t cap, len; /* cap a power of two, kept at least twice len */
} csim_index;
typedef sb_val (*csim_key_fn)(const void *ctx, uint32_t value);

typedef struct csim_handle {
    sb_val id;      /* "h_0001" */
    uint32_t index; /* its place in sb_csim.handles */
    uint32_t *jobs;
    size_t njobs, jobs_cap;
    uint32_t *log;
    size_t nlog, log_cap;
    csim_index by_id;
    size_t counts[CSIM_NSTATUS];
    uint64_t next_auto; /* next number tried for a default job id */
    /* The budget guard, in cents. Invariant: spent + running_caps <=
     * budget, since a job starts only while it keeps this true and is never
     * charged more than its cap; so what the handle is charged never exceeds
     * its budget. The budget may be lowered, never raised. */
    int64_t budget_cents; /* CSIM_NO_BUDGET: none */
    int64_t spent_cents;  /* charged to finished (and cancelled running) jobs */
    int64_t running_caps_cents;
} csim_handle;

/* A pending effect (external executor): job index << 1 | is_kill. */
typedef uint64_t csim_effect;

typedef struct csim_exec_ops csim_exec_ops; /* below */

struct sb_csim {
    sb_csim_options opt; /* duration_scale is our clone */
    int64_t now;         /* INT64_MIN before the first call */
    csim_job *jobs;
    size_t njobs, jobs_cap;
    csim_handle **handles;
    size_t nhandles, handles_cap;
    sb_heap running; /* key end time, seq and value the job index */
    size_t queue_head;
    sb_val idem; /* idempotency key -> [request hash, structuredContent] */
    /* External executor: effects not yet handed out (room for two per job is
     * reserved at submission: a start and one kill), and the slots held. */
    const csim_exec_ops *exec;
    double time_scale;
    csim_effect *effects;
    size_t effects_head, neffects, effects_cap;
    size_t slots_used;
    uint64_t progress_seq; /* progress reports so far (external executor): cursors carry it */
};

/* --- sb_csim_index.c --- */
uint64_t sb_csim__hash(const char *p, size_t n);
/* Makes room for n more entries; false on OOM (the index is unchanged). */
bool sb_csim__index_reserve(csim_index *ix, size_t n);
/* Requires room (reserve first); cannot fail. */
void sb_csim__index_put(csim_index *ix, uint64_t hash, uint32_t value);
/* The value stored under key, or -1. */
int64_t sb_csim__index_find(const csim_index *ix, const char *key, size_t len, csim_key_fn key_of, const void *ctx);
void sb_csim__index_free(csim_index *ix);

/* --- sb_csim_model.c: the response surface, durations, costs, failures --- */
/* Decides a job's fate from the seed, its ids and hyperparameters: outcome,
 * run_ms, metrics, error message. retry_infra: the job it retries failed with
 * an infrastructure error. Fills j->outcome, run_ms, val_acc, train_loss and
 * error; false on OOM. */
bool sb_csim__plan_job(const sb_csim *s, csim_job *j, sb_val handle_id, bool retry_infra);
/* Dollars for ms of running, rounded to cents. */
double sb_csim__cost(const sb_csim *s, int64_t ms);
/* The sim's own quote for a job: its estimated hours (cost model) priced. */
double sb_csim__quote(const sb_csim *s, sb_val hyper);
/* What job j is charged for ms of running, in cents: its cost, at most its cap. */
int64_t sb_csim__charge_cents(const sb_csim *s, const csim_job *j, int64_t ms);
double sb_csim__round_to(double x, double unit);
/* A running job's latest epoch at time now (0 before its first, at most
 * epochs - 1: the last one comes with its result) and its metrics there. */
int64_t sb_csim__step_at(const sb_csim *s, const csim_job *j, int64_t now);
void sb_csim__curve(const sb_csim *s, const csim_job *j, int64_t step, double *val_acc, double *train_loss);

/* --- sb_csim_exec.c: the external executor, reached only through this
 * table (set by sb_csim_create_external; NULL: the sim), so that the sim's
 * builds need not link it --- */
struct csim_exec_ops {
    /* Room for n more jobs' effects; false on OOM. */
    bool (*reserve)(sb_csim *s, size_t n);
    /* Job i takes a slot and its cap and is handed to the host to start. */
    void (*launch)(sb_csim *s, uint32_t i, int64_t t);
    /* Cancels queued, launched or running job i at the core's time. */
    void (*cancel)(sb_csim *s, uint32_t i);
    /* Kills the jobs whose cap deadline has passed. */
    void (*advance)(sb_csim *s);
    /* ms rounded to whole seconds, at least one when ms > 0: what an
     * external job is charged for. */
    int64_t (*whole_seconds)(double ms);
};

/* --- sb_csim_clock.c: time, the slots, the change log --- */
void sb_csim__advance(sb_csim *s, int64_t now);
/* Starts queued jobs at time t while slots are free. */
void sb_csim__fill_slots(sb_csim *s, int64_t t);
/* Moves job i to status at time t (logs the change, keeps counts). */
void sb_csim__set_status(sb_csim *s, uint32_t i, int status, int64_t t);
/* Removes a running job from the heap. */
void sb_csim__heap_remove(sb_csim *s, uint32_t i);

/* Building results: each helper takes (consumes) v, turns *ok false on any
 * failure, and does nothing but free v once *ok is false, so a builder can
 * run straight through and check once. */
static inline void sb_csim__put(sb_val *map, const char *key, sb_val v, bool *ok)
{
    if (!*ok || sb_is_oom(v)) {
        sb_val_free(v);
        *ok = false;
        return;
    }
    *ok = sb_map_set_str(map, key, v);
}
static inline void sb_csim__push(sb_val *list, sb_val v, bool *ok)
{
    if (!*ok || sb_is_oom(v)) {
        sb_val_free(v);
        *ok = false;
        return;
    }
    *ok = sb_list_push(list, v);
}

/* --- sb_csim.c: results --- */
sb_val sb_csim__ok(sb_val structured); /* consumes structured */
sb_val sb_csim__fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
csim_handle *sb_csim__find_handle(const sb_csim *s, sb_val id);
sb_val sb_csim__job_key(const void *ctx, uint32_t value); /* ctx: the sb_csim */

/* --- the tools; args is a map --- */
sb_val sb_csim__submit(sb_csim *s, sb_val args);
sb_val sb_csim__status(sb_csim *s, sb_val args);
sb_val sb_csim__cancel(sb_csim *s, sb_val args);

#endif
