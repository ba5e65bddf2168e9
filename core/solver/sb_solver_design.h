/* A balanced set of combinations under construction, for the planner only
 * (sb_solver_plan.c drives it; sb_solver_design.c grows it; sb_solver_polish.c
 * improves its pair coverage).
 *
 * The set is either the trials to run (keep) or the combinations to leave out
 * of the grid (exclude: for plans denser than half the grid, whose complement
 * is built instead). Either way it keeps, after every change:
 *   - each parameter's level counts within one of each other: a combination
 *     joins only with levels whose count is the parameter's minimum (the set
 *     A_p); a swap between two members never changes the counts;
 *   - no combination twice;
 *   - counters of every pair of levels of every pair of parameters;
 *   - the exact sum of its members' costs.
 * Only preferences differ by direction: a keep set takes cheaper levels
 * first, an exclude set dearer ones. */
#ifndef SB_SOLVER_DESIGN_H
#define SB_SOLVER_DESIGN_H
#include "sb_solver_int.h"

typedef struct sb_solver_design {
    const sb_solver_spec *spec;
    bool exclude;
    size_t P;
    uint32_t *L;       /* levels per parameter */
    size_t *off;       /* per parameter: start of its levels in the per-level arrays */
    uint64_t *radix;   /* combination index = sum of level * radix[p]; last parameter fastest */
    uint32_t *count;   /* per level: members using it (as counted for balance) */
    uint32_t *minc;    /* per parameter: the smallest count */
    uint32_t *nmin;    /* per parameter: levels at that count */
    uint16_t *rank;    /* per level: rank by (multiplier, index), 0 preferred for the direction */
    uint16_t *by_rank; /* per parameter, per rank: the level */
    uint16_t *cls;     /* per level: rank among distinct multipliers, 0 preferred */
    size_t *pair_off;  /* P x P: start of the (p, q) block, p < q; cell lp * L[q] + lq */
    uint32_t *pair;
    /* members */
    size_t n, cap;
    uint16_t *trials; /* cap x P level indices */
    uint64_t *tidx;   /* combination index per member */
    double *thours, *tcost;
    sb_solver_set used;
    sb_solver_sum total;
    /* search scratch */
    uint64_t *keys;  /* per level layout: candidate keys at each depth */
    uint16_t *combo; /* P */
    uint16_t *found; /* SB_SOLVER_SWAP_CANDIDATES x P: first leaves visited */
    size_t leaves;
    uint64_t swap_work; /* members looked at by swap searches so far */
} sb_solver_design;

#define SB_SOLVER_SWAP_CANDIDATES 4

/* How a candidate is ranked: MODE_PAIR least-covered pairs first, then the
 * preferred multiplier; MODE_COST the preferred multiplier first (the
 * cheapest trial for keep, the dearest for exclude). */
enum { SB_SOLVER_MODE_PAIR, SB_SOLVER_MODE_COST };

/* A combination that may join: c (levels, all in A_p), or, when swap is set,
 * c with member w's level of p while w takes c's. */
typedef struct sb_solver_cand {
    const uint16_t *c;
    bool swap;
    size_t w, p;
    double cost;   /* the joining combination's cost */
    double w_cost; /* w's cost after the swap */
} sb_solver_cand;

static inline uint64_t sb_solver__design_index(const sb_solver_design *d, const uint16_t *c)
{
    uint64_t i = 0;
    for (size_t p = 0; p < d->P; p++)
        i += c[p] * d->radix[p];
    return i;
}

/* The counter of (level lp of p, level lq of q), p != q in either order. */
static inline uint32_t *sb_solver__design_pair(const sb_solver_design *d, size_t p, size_t q, uint16_t lp, uint16_t lq)
{
    if (p > q) {
        size_t t = p;
        p = q;
        q = t;
        uint16_t u = lp;
        lp = lq;
        lq = u;
    }
    return &d->pair[d->pair_off[p * d->P + q] + (size_t)lp * d->L[q] + lq];
}

/* Room for cap members. false on OOM (d then holds nothing). */
bool sb_solver__design_init(sb_solver_design *d, const sb_solver_spec *spec, size_t cap, bool exclude);
void sb_solver__design_free(sb_solver_design *d);
/* The preferred candidate for mode, or false if the planner finds none (every
 * balanced combination is taken and no swap frees one). The candidate points
 * into d's scratch: valid until the next choose. */
bool sb_solver__design_choose(sb_solver_design *d, int mode, sb_solver_cand *x);
/* The members' cost sum after x, exactly. */
void sb_solver__design_total_after(const sb_solver_design *d, const sb_solver_cand *x, sb_solver_sum *out);
/* Adds x (requires n < cap). */
void sb_solver__design_apply(sb_solver_design *d, const sb_solver_cand *x);
/* Keep sets stopped by the budget: moves members off levels with one trial
 * more than the minimum onto cheaper levels at the minimum (counts stay
 * within one, the total only falls), so the extra trials of an unfinished
 * round sit on the cheapest levels and the money saved may buy another
 * trial. true if anything moved. */
bool sb_solver__design_relieve(sb_solver_design *d);
/* Sum over parameter pairs and pairs of levels of the squared pair counts of
 * the members (keep) or of the grid minus the members (exclude): smaller is
 * more even, for plans of the same size. */
uint64_t sb_solver__design_unevenness(const sb_solver_design *d);
double sb_solver__design_hours(const sb_solver_design *d, const uint16_t *c);

/* --- sb_solver_polish.c --- */
/* Says whether a change of members' cost sum to *total is within budget. */
typedef bool (*sb_solver_budget_fn)(const void *ctx, const sb_solver_sum *total);
/* Swaps levels of one parameter between two members while that makes pair
 * coverage more even (never changes level counts or the set's size), within
 * a fixed amount of work so the result does not depend on speed. false on
 * OOM, with d unchanged. */
bool sb_solver__design_polish(sb_solver_design *d, sb_solver_budget_fn ok, const void *ctx);

#endif
