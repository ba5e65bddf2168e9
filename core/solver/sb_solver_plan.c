/* Which trials to run (docs/mcp-tools-solver.md, section 2):
 *   1. The full grid, in index order, when it fits the planning budget,
 *      max_trials and SB_SOLVER_MAX_TRIALS.
 *   2. Otherwise a keep set grows one trial at a time (sb_solver_design.c):
 *      the preferred balanced trial if it fits the budget, else the cheapest
 *      balanced trial if that fits, else stop.
 *   3. Plans denser than half the grid are also built from the other side:
 *      an exclude set grows until the rest of the grid fits (its dearest
 *      balanced exclusion is taken when that is enough to fit). A greedy gets
 *      stuck near a full grid; leaving a few combinations out does not. The
 *      plan with more trials wins, then the one with more even pairs, then
 *      the keep set.
 *      When the budget stops a keep set, its extra trials are moved onto the
 *      cheapest levels and growth resumes if that freed enough money.
 *   4. Pair coverage is evened out by swaps (sb_solver_polish.c).
 * Costs are summed exactly, so "fits" means the correctly rounded total of
 * the trials' estimated costs is at most the planning budget. */
#include "sb_solver_design.h"

#include <string.h>

#include "../util/sb_alloc.h"

double sb_solver__cheapest(const sb_solver_spec *spec, uint16_t *combo)
{
    for (size_t p = 0; p < spec->nparams; p++) {
        const sb_solver_param *pp = &spec->params[p];
        uint16_t best = 0;
        for (size_t l = 1; l < pp->nlevels; l++)
            if (pp->scale[l] < pp->scale[best])
                best = (uint16_t)l;
        combo[p] = best;
    }
    return sb_solver__cost_of_hours(spec, sb_solver__hours(spec, combo));
}

/* The grid in index order: last parameter fastest. */
static void next_combo(const sb_solver_spec *spec, uint16_t *c)
{
    for (size_t p = spec->nparams; p-- > 0;) {
        if (++c[p] < spec->params[p].nlevels)
            return;
        c[p] = 0;
    }
}

static bool grid_sum(const sb_solver_spec *spec, sb_solver_sum *out)
{
    uint16_t *c = sb_calloc(spec->nparams, sizeof *c);
    if (!c)
        return false;
    *out = (sb_solver_sum)SB_SOLVER_SUM_INIT;
    for (uint64_t i = 0; i < spec->grid; i++, next_combo(spec, c))
        sb_solver__sum_add(out, sb_solver__cost_of_hours(spec, sb_solver__hours(spec, c)));
    sb_free(c);
    return true;
}

typedef struct budget {
    double planning;
    const sb_solver_sum *grid; /* exclude sets: the plan is the grid minus the set */
} budget;

static bool within(const void *ctx, const sb_solver_sum *total)
{
    const budget *b = ctx;
    if (!b->grid)
        return sb_solver__sum_value(total) <= b->planning;
    sb_solver_sum rest = *b->grid;
    sb_solver__sum_sub_sum(&rest, total);
    return sb_solver__sum_value(&rest) <= b->planning;
}

static bool fits_after(const sb_solver_design *d, const sb_solver_cand *x, const budget *b)
{
    sb_solver_sum t;
    sb_solver__design_total_after(d, x, &t);
    return within(b, &t);
}

/* Step 2: grows d (a keep set) up to its capacity. */
static sb_solver_stop grow_keep(sb_solver_design *d, const budget *b, double *next_cost)
{
    sb_solver_cand x;
    while (d->n < d->cap) {
        if (sb_solver__design_choose(d, SB_SOLVER_MODE_PAIR, &x) && fits_after(d, &x, b)) {
            sb_solver__design_apply(d, &x);
            continue;
        }
        if (!sb_solver__design_choose(d, SB_SOLVER_MODE_COST, &x))
            return SB_SOLVER_STOP_BALANCE;
        if (!fits_after(d, &x, b)) {
            *next_cost = x.cost;
            return SB_SOLVER_STOP_BUDGET;
        }
        sb_solver__design_apply(d, &x);
    }
    return SB_SOLVER_STOP_NONE; /* at capacity: the caller knows which cap */
}

/* Step 3: grows d (an exclude set, capacity = most exclusions worth having)
 * until at least min_out combinations are out and the rest fits. */
static bool grow_exclude(sb_solver_design *d, const budget *b, size_t min_out)
{
    sb_solver_cand x;
    for (;;) {
        if (d->n >= min_out && within(b, &d->total))
            return true;
        if (d->n == d->cap)
            return false;
        if (d->n + 1 >= min_out && sb_solver__design_choose(d, SB_SOLVER_MODE_COST, &x) && fits_after(d, &x, b)) {
            sb_solver__design_apply(d, &x);
            continue;
        }
        if (!sb_solver__design_choose(d, SB_SOLVER_MODE_PAIR, &x))
            return false;
        sb_solver__design_apply(d, &x);
    }
}

static bool plan_alloc(sb_solver_plan *plan, size_t n, size_t P)
{
    plan->levels = sb_malloc((n ? n : 1) * P * sizeof *plan->levels);
    plan->hours = sb_malloc((n ? n : 1) * sizeof *plan->hours);
    plan->cost = sb_malloc((n ? n : 1) * sizeof *plan->cost);
    plan->ntrials = n;
    plan->nparams = P;
    return plan->levels && plan->hours && plan->cost;
}

/* The grid minus the exclude set e (all of it when e is NULL), in index order. */
static bool plan_from_grid(sb_solver_plan *plan, const sb_solver_spec *spec, const sb_solver_design *e)
{
    size_t P = spec->nparams, n = (size_t)spec->grid - (e ? e->n : 0), k = 0;
    uint16_t *c = sb_calloc(P, sizeof *c);
    if (!c || !plan_alloc(plan, n, P)) {
        sb_free(c);
        return false;
    }
    for (uint64_t i = 0; i < spec->grid; i++, next_combo(spec, c)) {
        if (e && sb_solver__set_has(&e->used, i))
            continue;
        memcpy(plan->levels + k * P, c, P * sizeof *c);
        plan->hours[k] = sb_solver__hours(spec, c);
        plan->cost[k] = sb_solver__cost_of_hours(spec, plan->hours[k]);
        k++;
    }
    sb_free(c);
    return true;
}

static void plan_from_keep(sb_solver_plan *plan, sb_solver_design *d)
{
    plan->ntrials = d->n;
    plan->nparams = d->P;
    plan->levels = d->trials;
    plan->hours = d->thours;
    plan->cost = d->tcost;
    plan->total_cost = sb_solver__sum_value(&d->total);
    d->trials = NULL;
    d->thours = d->tcost = NULL;
}

/* Steps 2 and 4 for a keep set of capacity cap. */
static bool build_keep(sb_solver_design *keep, const sb_solver_spec *spec, size_t cap, const budget *b,
                       sb_solver_stop *stop, double *next_cost)
{
    if (!sb_solver__design_init(keep, spec, cap, false))
        return false;
    *stop = grow_keep(keep, b, next_cost);
    for (int round = 0; round < 8 && *stop == SB_SOLVER_STOP_BUDGET && sb_solver__design_relieve(keep); round++) {
        size_t before = keep->n;
        *stop = grow_keep(keep, b, next_cost);
        if (keep->n == before)
            break;
    }
    return sb_solver__design_polish(keep, within, b);
}

/* Step 3: an exclude set whose complement beats keep, if the planner finds
 * one (*found). false on OOM; excl needs freeing only when *found. */
static bool build_exclude(sb_solver_design *excl, const sb_solver_design *keep, const sb_solver_spec *spec, size_t cap,
                          const budget *b, bool *found)
{
    size_t most = (size_t)spec->grid - keep->n, least = (size_t)spec->grid - cap;
    *found = false;
    if (!sb_solver__design_init(excl, spec, most, true))
        return false;
    bool ok = true;
    if (grow_exclude(excl, b, least)) {
        ok = sb_solver__design_polish(excl, within, b);
        size_t n = (size_t)spec->grid - excl->n;
        *found = ok && (n > keep->n ||
                        (n == keep->n && sb_solver__design_unevenness(excl) < sb_solver__design_unevenness(keep)));
    }
    if (!*found)
        sb_solver__design_free(excl);
    return ok;
}

static bool plan_from_exclude(sb_solver_plan *plan, const sb_solver_spec *spec, const sb_solver_design *excl,
                              const sb_solver_sum *grid)
{
    if (!plan_from_grid(plan, spec, excl))
        return false;
    sb_solver_sum rest = *grid;
    sb_solver__sum_sub_sum(&rest, &excl->total);
    plan->total_cost = sb_solver__sum_value(&rest);
    plan->next_cost = excl->n ? excl->tcost[0] : 0; /* the cheapest combination left out */
    for (size_t i = 1; i < excl->n; i++)
        plan->next_cost = excl->tcost[i] < plan->next_cost ? excl->tcost[i] : plan->next_cost;
    return true;
}

sb_solver_status sb_solver__plan_build(const sb_solver_spec *spec, sb_solver_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    uint64_t cap = spec->grid;
    sb_solver_stop at_cap = SB_SOLVER_STOP_NONE;
    if (spec->max_trials && spec->max_trials < cap) {
        cap = spec->max_trials;
        at_cap = SB_SOLVER_STOP_MAX_TRIALS;
    }
    if (cap > SB_SOLVER_MAX_TRIALS) {
        cap = SB_SOLVER_MAX_TRIALS;
        at_cap = SB_SOLVER_STOP_LIMIT;
    }
    /* Whole-grid sums only where the grid is small enough to walk. */
    bool small = spec->grid <= 4 * (uint64_t)SB_SOLVER_MAX_TRIALS;
    sb_solver_sum grid = SB_SOLVER_SUM_INIT;
    if (small && !grid_sum(spec, &grid))
        return SB_SOLVER_ENOMEM;
    budget keep_budget = {spec->planning, NULL}, excl_budget = {spec->planning, &grid};

    /* Step 1. */
    if (small && at_cap == SB_SOLVER_STOP_NONE && sb_solver__sum_value(&grid) <= spec->planning) {
        if (!plan_from_grid(plan, spec, NULL)) {
            sb_solver__plan_free(plan);
            return SB_SOLVER_ENOMEM;
        }
        plan->total_cost = sb_solver__sum_value(&grid);
        plan->full_grid = true;
        return SB_SOLVER_OK;
    }

    sb_solver_design keep, excl;
    sb_solver_stop stop = SB_SOLVER_STOP_NONE;
    double next_cost = 0;
    bool other_side = false;
    bool ok = build_keep(&keep, spec, (size_t)cap, &keep_budget, &stop, &next_cost);
    if (stop == SB_SOLVER_STOP_NONE)
        stop = at_cap; /* grew to its capacity */
    if (ok && small && keep.n < spec->grid && (2 * keep.n > spec->grid || stop == SB_SOLVER_STOP_BALANCE))
        ok = build_exclude(&excl, &keep, spec, (size_t)cap, &excl_budget, &other_side);
    if (ok && other_side) {
        ok = plan_from_exclude(plan, spec, &excl, &grid);
        plan->stop = plan->ntrials == cap && at_cap != SB_SOLVER_STOP_NONE ? at_cap : SB_SOLVER_STOP_BUDGET;
    } else if (ok) {
        plan_from_keep(plan, &keep);
        plan->stop = stop;
        plan->next_cost = next_cost;
    }
    if (other_side)
        sb_solver__design_free(&excl);
    sb_solver__design_free(&keep);
    if (!ok) {
        sb_solver__plan_free(plan);
        return SB_SOLVER_ENOMEM;
    }
    plan->full_grid = plan->ntrials == spec->grid;
    return SB_SOLVER_OK;
}

void sb_solver__plan_free(sb_solver_plan *plan)
{
    sb_free(plan->levels);
    sb_free(plan->hours);
    sb_free(plan->cost);
    memset(plan, 0, sizeof *plan);
}
