/* The early-stopping rule of a poll step (docs/early-stopping.md): decides,
 * from the metrics running jobs report at their steps (epochs), whether a job
 * falls below the rule's bar at a rung and should be stopped.
 *
 * Pure and deterministic: no I/O, no clock, no randomness; the same reports
 * in the same order give the same verdicts on every platform. The engine owns
 * the order (the order of the Conductor's status answers).
 *
 * Rules:
 *   - asha (asynchronous successive halving): at each rung a job's value is
 *     recorded; once at least `grace` values are recorded there, a job is
 *     stopped unless it is among the best max(1, floor(n / reduction_factor))
 *     of the n values recorded at that rung (itself included).
 *   - median: at each rung a job is stopped when its value is worse than the
 *     median of the values the other jobs recorded at that rung, once at least
 *     `grace` others have.
 * Rungs are steps: the configured list, or derived from min_steps (asha:
 * min_steps * reduction_factor^k; median: every step from min_steps on). A
 * NaN value (a diverged job) is worse than every number. A report that jumps
 * over several rungs (polls sparser than epochs) is judged once, at the
 * highest rung reached, against that rung's values.
 *
 * Ownership, stated once: the rule object owns its recorded values; each
 * job's rung cursor (next_rung) is the caller's, 0 for a new job. A retry is
 * a new job: its cursor starts at 0, so its rungs restart. */
#ifndef SB_EARLYSTOP_H
#define SB_EARLYSTOP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most rungs listed in a configuration, and most rungs derived (a bound on
 * what a rule may record: the median rule at min_steps 1 judges 4,096
 * epochs). */
#define SB_ESTOP_MAX_LISTED_RUNGS 32
#define SB_ESTOP_MAX_RUNGS 4096

typedef enum sb_estop_kind { SB_ESTOP_ASHA, SB_ESTOP_MEDIAN } sb_estop_kind;

typedef struct sb_estop_rule {
    sb_estop_kind kind;
    bool maximize;                            /* mode: max (true) or min */
    int64_t rungs[SB_ESTOP_MAX_LISTED_RUNGS]; /* ascending steps, >= 1 */
    size_t nrungs;                            /* 0: derived from min_steps */
    int64_t min_steps;                        /* >= 1; default 1 */
    double reduction_factor;                  /* asha: > 1; default 3 */
    uint32_t grace;                           /* values needed before anyone is stopped; default 3 */
} sb_estop_rule;

/* The defaults above, for kind. */
void sb_estop_rule_init(sb_estop_rule *rule, sb_estop_kind kind);

typedef struct sb_estop sb_estop;

/* The rule is copied. NULL on OOM or when the rule is out of range (rungs
 * not ascending or < 1, min_steps < 1, reduction_factor <= 1). */
sb_estop *sb_estop_new(const sb_estop_rule *rule);
void sb_estop_free(sb_estop *e); /* NULL-safe */

typedef enum sb_estop_verdict {
    SB_ESTOP_CONTINUE, /* no rung reached, too few values yet, or above the bar */
    SB_ESTOP_STOP,     /* below the bar at a rung: stop the job */
    SB_ESTOP_OOM       /* the value could not be recorded; nothing changed */
} sb_estop_verdict;

typedef struct sb_estop_decision {
    int64_t rung; /* the step judged at; 0 when no rung was reached */
    double bar;   /* the value to beat there (NaN when nothing was compared) */
    size_t n;     /* values recorded at the rung, this one included */
} sb_estop_decision;

/* A job reports value at step. *next_rung is the job's cursor (the first
 * rung it has not passed). d may be NULL. */
sb_estop_verdict sb_estop_report(sb_estop *e, uint32_t *next_rung, int64_t step, double value, sb_estop_decision *d);

/* The step of rung k, or -1 when there is no such rung. */
int64_t sb_estop_rung_step(const sb_estop *e, uint32_t k);

#endif
