/* Internals of the Solver's planner, shared by the .c files of core/solver only.
 *
 * Flow of one plan_search_grid call (sb_solver_tool.c):
 *   arguments --sb_solver__spec_parse--> spec (levels, multipliers, limits)
 *   spec --sb_solver__plan_build--> plan (level indices of every trial)
 *   spec + plan --sb_solver__result--> structuredContent
 * Every step reports failure through sb_solver_status; messages for the user
 * go to an sb_buf whose sticky failed flag doubles as "out of memory". */
#ifndef SB_SOLVER_INT_H
#define SB_SOLVER_INT_H
#include <stdbool.h>
#include <stdint.h>

#include "../util/sb_buf.h"
#include "sb_solver.h"

/* Limits, chosen so the pair counters and the result stay in tens of MB.
 * Override with -D. */
#ifndef SB_SOLVER_MAX_PARAMS
#define SB_SOLVER_MAX_PARAMS 64
#endif
#ifndef SB_SOLVER_MAX_LEVELS
#define SB_SOLVER_MAX_LEVELS 10000 /* per parameter; must stay below 2^16 */
#endif
#ifndef SB_SOLVER_MAX_TRIALS
#define SB_SOLVER_MAX_TRIALS 100000 /* per call, whatever the budget */
#endif
#ifndef SB_SOLVER_MAX_PAIR_CELLS
#define SB_SOLVER_MAX_PAIR_CELLS 16777216 /* sum over parameter pairs of L_p * L_q */
#endif
/* Grid sizes are reported as JSON numbers and combinations are indexed by
 * exact integers, so a grid may have at most 2^53 combinations. */
#define SB_SOLVER_MAX_GRID 9007199254740992ULL

typedef enum sb_solver_status {
    SB_SOLVER_OK,
    SB_SOLVER_EINVAL, /* bad arguments or an unreachable budget; message in err */
    SB_SOLVER_ENOMEM
} sb_solver_status;

typedef struct sb_solver_param {
    sb_val name; /* string; borrowed from the arguments */
    size_t nlevels;
    sb_val *levels; /* owned references, in the order given (ranges ascending) */
    char **keys;    /* owned: a string level's own text, else its JSON text */
    double *scale;  /* duration multiplier per level; 1.0 unless given */
} sb_solver_param;

typedef struct sb_solver_spec {
    sb_val budget_val; /* borrowed; echoed back as given */
    double budget, reserve_fraction, reserve, planning;
    double gpu_hour_usd, gpus_per_trial, base_hours;
    /* cost_model.cap_margin_fraction (default 0.10, as in the workspace):
     * the Conductor holds a job's estimate times 1 + this until it ends
     * (docs/budget.md), so suggest_trials fits caps, not bare estimates. */
    double cap_margin;
    size_t nparams;
    sb_solver_param *params;
    /* Parameters with a duration_scale entry, in the cost model's order: the
     * order of the multiplications, the same as the simulated Conductor's, so
     * both estimate the same double for the same trial. */
    size_t *scale_order;
    size_t nscaled;
    uint64_t grid;
    uint64_t max_concurrent;
    uint64_t max_trials; /* 0: not given */
    uint64_t seed;
} sb_solver_spec;

/* --- sb_solver_args.c --- */
/* Validates args into spec (zeroed first). On EINVAL err holds the message;
 * on any failure spec holds nothing that needs freeing. */
sb_solver_status sb_solver__spec_parse(sb_solver_spec *spec, sb_val args, sb_buf *err);
void sb_solver__spec_free(sb_solver_spec *spec);
/* Estimated hours and dollars of the trial whose level indices are combo. */
double sb_solver__hours(const sb_solver_spec *spec, const uint16_t *combo);
double sb_solver__cost_of_hours(const sb_solver_spec *spec, double hours);

/* Shared argument readers. A number is a finite int, uint or double; a count
 * is a whole number in [0, 2^53] (5.0 counts, so YAML and JSON agree). */
bool sb_solver__as_number(sb_val v, double *out);
bool sb_solver__as_count(sb_val v, uint64_t *out);
/* map[key] = v, consuming v. false if v is an error value (out of memory:
 * never stored) or the map could not take it. */
bool sb_solver__put(sb_val *map, const char *key, sb_val v);
/* Appends v as compact JSON (what the user wrote, for messages). */
void sb_solver__put_json(sb_buf *b, sb_val v);

/* --- sb_solver_levels.c --- */
/* Levels of a range object {min, max, scale, steps | samples, seed, integer}
 * for parameter `name` (used in messages). *levels is an array of owned
 * values (free each, then the array). */
sb_solver_status sb_solver__range_levels(sb_val range, const char *name, uint64_t seed, sb_val **levels, size_t *n,
                                         sb_buf *err);
/* Natural log and exp from IEEE basic operations only (libm's may differ in
 * the last bit between glibc and wasi-libc). x > 0 for ln. */
double sb_solver__ln(double x);
double sb_solver__exp(double y);

/* --- sb_solver_set.c: a set of combination indices (< 2^53) --- */
typedef struct sb_solver_set {
    uint64_t *slots; /* key + 1; 0 = empty; linear probing */
    size_t cap, len; /* cap a power of two, at least twice the reserved size */
} sb_solver_set;
/* Room for n keys in all; later inserts up to n never allocate. */
bool sb_solver__set_reserve(sb_solver_set *s, size_t n);
bool sb_solver__set_has(const sb_solver_set *s, uint64_t key);
void sb_solver__set_add(sb_solver_set *s, uint64_t key);    /* requires room */
void sb_solver__set_remove(sb_solver_set *s, uint64_t key); /* no-op if absent */
void sb_solver__set_free(sb_solver_set *s);

/* --- sb_solver_plan.c --- */
typedef enum sb_solver_stop {
    SB_SOLVER_STOP_NONE,       /* the full grid is planned */
    SB_SOLVER_STOP_BUDGET,     /* no further balanced trial fits the planning budget */
    SB_SOLVER_STOP_MAX_TRIALS, /* the max_trials argument */
    SB_SOLVER_STOP_LIMIT,      /* SB_SOLVER_MAX_TRIALS */
    SB_SOLVER_STOP_BALANCE     /* no unused combination keeps the levels balanced */
} sb_solver_stop;

typedef struct sb_solver_plan {
    size_t ntrials, nparams;
    uint16_t *levels;  /* ntrials x nparams level indices, row-major, in trial order */
    double *hours;     /* per trial */
    double *cost;      /* per trial */
    double total_cost; /* the exact sum of cost[], rounded once */
    bool full_grid;
    sb_solver_stop stop;
    double next_cost; /* STOP_BUDGET: the cheapest next trial found, in dollars */
} sb_solver_plan;

/* The cheapest trial's level indices (n = nparams) and its cost. */
double sb_solver__cheapest(const sb_solver_spec *spec, uint16_t *combo);
sb_solver_status sb_solver__plan_build(const sb_solver_spec *spec, sb_solver_plan *plan);
void sb_solver__plan_free(sb_solver_plan *plan);

/* --- sb_solver_sum.c: exact sums (order-independent, correctly rounded) --- */
#define SB_SOLVER_SUM_LIMBS 68
typedef struct sb_solver_sum {
    int64_t limb[SB_SOLVER_SUM_LIMBS];
    uint32_t adds; /* since the last carry propagation */
} sb_solver_sum;
#define SB_SOLVER_SUM_INIT                                                                                             \
    {                                                                                                                  \
        {0}, 0                                                                                                         \
    }
void sb_solver__sum_add(sb_solver_sum *s, double x); /* x finite; subtract with -x */
void sb_solver__sum_sub_sum(sb_solver_sum *s, const sb_solver_sum *t);
double sb_solver__sum_value(const sb_solver_sum *s); /* the sum rounded to nearest */

/* --- sb_solver_result.c --- */
/* The structuredContent map, or sb_oom(). */
sb_val sb_solver__result(const sb_solver_spec *spec, const sb_solver_plan *plan);
/* Appends "$1234.56" (display only: dollars rounded to cents). */
void sb_solver__money(sb_buf *b, double usd);

/* --- sb_solver_effects.c: the additive model suggest_trials ranks with --- */
typedef struct sb_solver_effects {
    size_t nparams, nobs;
    size_t *off;     /* effect and count of level l of parameter p at off[p] + l */
    double *effect;  /* fitted; an unseen level gets its parameter's best seen effect */
    uint32_t *count; /* observations per level */
    double grand;    /* mean of the observations */
    double sigma;    /* residual noise (> 0) */
} sb_solver_effects;
/* Fits the model to nobs observations (combinations obs, row-major, and
 * values y, larger is better). With none, every effect is 0 and sigma 1.
 * false on OOM (m then holds nothing). */
bool sb_solver__effects_fit(sb_solver_effects *m, const sb_solver_spec *spec, const uint16_t *obs, const double *y,
                            size_t nobs);
double sb_solver__effects_predict(const sb_solver_effects *m, const uint16_t *combo);
/* Prediction plus the exploration bonus. */
double sb_solver__effects_score(const sb_solver_effects *m, const uint16_t *combo);
void sb_solver__effects_free(sb_solver_effects *m); /* also on a zeroed m */

/* --- sb_solver_suggest.c --- */
/* The suggest_trials tool: *out the structuredContent on OK; on EINVAL err
 * holds the message. */
sb_solver_status sb_solver__suggest(sb_val args, sb_val *out, sb_buf *err);

#endif
