/* plan -> the structuredContent of a plan_search_grid result. Decisions use
 * exact doubles; dollar amounts in the result are rounded to cents (so a
 * total reads 453.6, not 453.59999999999997) and the human-readable strings
 * (excluded.reason, summary) also round hours to hundredths. */
#include "sb_solver_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_heap.h"

/* Fixed two decimals without printf's %f (whose last digit depends on the
 * libc's rounding of ties): round half up on the exact double, then integer
 * formatting, identical everywhere. */
static void fixed2(sb_buf *b, double x)
{
    if (!(fabs(x) < 1e13)) {
        sb_buf_double(b, x);
        return;
    }
    double c = floor(fabs(x) * 100 + 0.5);
    int64_t cents = (int64_t)c;
    sb_buf_printf(b, "%s%" PRId64 ".%02d", x < 0 && cents ? "-" : "", cents / 100, (int)(cents % 100));
}

/* The double nearest to x rounded to a whole number of cents. Rounding a
 * total that fits a cents-valued budget never pushes it over. */
static double cents(double x)
{
    if (!(fabs(x) < 1e13))
        return x;
    double c = floor(fabs(x) * 100 + 0.5) / 100;
    return x < 0 ? -c : c;
}

void sb_solver__money(sb_buf *b, double usd)
{
    sb_buf_putc(b, '$');
    fixed2(b, usd);
}

/* --- estimated wall clock: longest processing time first onto k slots --- */

typedef struct job {
    double hours;
    size_t idx;
} job;

static int cmp_job(const void *a, const void *b)
{
    const job *x = a, *y = b;
    if (x->hours != y->hours)
        return x->hours > y->hours ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The comparator is a total order, so any qsort gives the same order. The
 * slots' heap is keyed by (load, slot number): the least-loaded slot, the
 * lowest-numbered among equals. -1 on OOM. */
static double wall_clock(const sb_solver_plan *plan, uint64_t max_concurrent)
{
    size_t n = plan->ntrials, k = max_concurrent < n ? (size_t)max_concurrent : n;
    job *jobs = sb_malloc(n * sizeof *jobs);
    double *load = sb_calloc(k, sizeof *load);
    sb_heap slots = SB_HEAP_INIT;
    double makespan = -1;
    bool ok = jobs && load && sb_heap_reserve(&slots, k);
    for (size_t i = 0; ok && i < k; i++)
        ok = sb_heap_push(&slots, sb_heap_key_of_double(0), i, i) != 0;
    if (ok) {
        for (size_t i = 0; i < n; i++)
            jobs[i] = (job){plan->hours[i], i};
        qsort(jobs, n, sizeof *jobs, cmp_job);
        for (size_t i = 0; i < n; i++) {
            /* the least-loaded slot takes the next longest trial; the push
             * reuses the room the pop left, so it cannot fail */
            sb_heap_entry e;
            sb_heap_pop(&slots, &e, NULL);
            load[e.value] += jobs[i].hours;
            sb_heap_push(&slots, sb_heap_key_of_double(load[e.value]), e.seq, e.value);
        }
        makespan = 0;
        for (size_t i = 0; i < k; i++)
            makespan = load[i] > makespan ? load[i] : makespan;
    }
    sb_free(jobs);
    sb_free(load);
    sb_heap_free(&slots);
    return makespan;
}

/* --- building the map --- */

typedef struct out {
    bool oom;
} out;

/* Consumes v; an error value here can only be "out of memory". */
static void set(out *o, sb_val *map, const char *key, sb_val v)
{
    if (!sb_solver__put(map, key, v))
        o->oom = true;
}

/* map[key] = v with a shared key, consuming v. */
static bool set_key(sb_val *map, sb_val key, sb_val v)
{
    if (v.kind == SB_ERROR) {
        sb_val_free(v);
        return false;
    }
    return sb_map_set(map, sb_val_ref(key), v);
}

static sb_val trials_list(out *o, const sb_solver_spec *spec, const sb_solver_plan *plan)
{
    static const char *const names[] = {"trial_id", "hyperparameters", "estimated_cost_usd",
                                        "estimated_duration_hours"};
    sb_val keys[4];
    for (int i = 0; i < 4; i++)
        keys[i] = sb_string_cstr(names[i]);
    sb_val list = sb_list_new(plan->ntrials);
    int width = 3;
    for (size_t n = plan->ntrials; n >= 1000; n /= 10)
        width++;
    sb_buf id = SB_BUF_INIT;
    for (size_t i = 0; i < plan->ntrials && !o->oom; i++) {
        const uint16_t *c = plan->levels + i * plan->nparams;
        sb_val hp = sb_map_new(spec->nparams), t = sb_map_new(4);
        for (size_t p = 0; p < spec->nparams; p++)
            if (!set_key(&hp, spec->params[p].name, sb_val_ref(spec->params[p].levels[c[p]])))
                o->oom = true;
        sb_buf_reset(&id);
        sb_buf_printf(&id, "trial_%0*zu", width, i + 1);
        /* each set consumes its value even when it fails: no short-circuit */
        bool ok = !sb_buf_failed(&id);
        ok = set_key(&t, keys[0], sb_string(sb_buf_str(&id), id.len)) && ok;
        ok = set_key(&t, keys[1], hp) && ok;
        ok = set_key(&t, keys[2], sb_double(cents(plan->cost[i]))) && ok;
        ok = set_key(&t, keys[3], sb_double(plan->hours[i])) && ok;
        ok = (t.kind != SB_ERROR && sb_list_push(&list, t)) && ok;
        if (!ok)
            o->oom = true;
    }
    sb_buf_free(&id);
    for (int i = 0; i < 4; i++)
        sb_val_free(keys[i]);
    return list;
}

static sb_val level_counts(out *o, const sb_solver_spec *spec, const sb_solver_plan *plan)
{
    sb_val all = sb_map_new(spec->nparams);
    for (size_t p = 0; p < spec->nparams && !o->oom; p++) {
        const sb_solver_param *pp = &spec->params[p];
        uint64_t *n = sb_calloc(pp->nlevels, sizeof *n);
        sb_val m = sb_map_new(pp->nlevels);
        if (!n)
            o->oom = true;
        for (size_t i = 0; n && i < plan->ntrials; i++)
            n[plan->levels[i * plan->nparams + p]]++;
        for (size_t l = 0; n && l < pp->nlevels; l++)
            set(o, &m, pp->keys[l], sb_int((int64_t)n[l]));
        sb_free(n);
        if (!set_key(&all, pp->name, m))
            o->oom = true;
    }
    return all;
}

/* What the whole grid would cost, for the "left out" message only: the sum
 * over the grid factorises into per-parameter sums of multipliers. */
static double grid_cost(const sb_solver_spec *spec)
{
    double hours = spec->base_hours;
    for (size_t i = 0; i < spec->nscaled; i++) {
        const sb_solver_param *p = &spec->params[spec->scale_order[i]];
        double s = 0;
        for (size_t l = 0; l < p->nlevels; l++)
            s += p->scale[l];
        hours *= s / (double)p->nlevels;
    }
    return sb_solver__cost_of_hours(spec, hours) * (double)spec->grid;
}

static void reason(sb_buf *b, const sb_solver_spec *spec, const sb_solver_plan *plan)
{
    uint64_t left = spec->grid - plan->ntrials;
    double more = grid_cost(spec) - plan->total_cost;
    if (more < 0)
        more = 0;
    switch (plan->stop) {
    case SB_SOLVER_STOP_BUDGET:
        sb_buf_printf(b, "budget: %" PRIu64 " more trial%s would cost about ", left, left == 1 ? "" : "s");
        sb_solver__money(b, more);
        sb_buf_puts(b, ", over the ");
        sb_solver__money(b, spec->planning);
        sb_buf_puts(b, " planning budget; ");
        if (plan->next_cost > spec->planning - plan->total_cost) {
            sb_buf_puts(b, "even the cheapest next trial (");
            sb_solver__money(b, plan->next_cost);
            sb_buf_puts(b, ") does not fit the ");
            sb_solver__money(b, spec->planning - plan->total_cost);
            sb_buf_puts(b, " left");
        } else { /* a dense plan: what is left would pay for a trial only at the cost of balance */
            sb_buf_puts(b, "the ");
            sb_solver__money(b, spec->planning - plan->total_cost);
            sb_buf_puts(b, " left would pay for another trial (from ");
            sb_solver__money(b, plan->next_cost);
            sb_buf_puts(b, ") only by unbalancing the level counts");
        }
        break;
    case SB_SOLVER_STOP_MAX_TRIALS:
        sb_buf_printf(b, "max_trials: at most %" PRIu64 " trials were asked for", spec->max_trials);
        break;
    case SB_SOLVER_STOP_LIMIT:
        sb_buf_printf(b, "limit: the Solver plans at most %d trials per call", SB_SOLVER_MAX_TRIALS);
        break;
    case SB_SOLVER_STOP_BALANCE:
        sb_buf_printf(b,
                      "balance: the planner found no further unplanned combination that keeps every "
                      "parameter's level counts within one of each other (%" PRIu64 " more would cost about ",
                      left);
        sb_solver__money(b, more);
        sb_buf_putc(b, ')');
        break;
    case SB_SOLVER_STOP_NONE:
        break;
    }
}

static sb_val excluded(out *o, const sb_solver_spec *spec, const sb_solver_plan *plan)
{
    static const char *const by[] = {NULL, "budget", "max_trials", "limit", "balance"};
    sb_val m = sb_map_new(3);
    set(o, &m, "count", sb_int((int64_t)(spec->grid - plan->ntrials)));
    if (plan->stop == SB_SOLVER_STOP_NONE || plan->ntrials == spec->grid) {
        set(o, &m, "by", sb_null());
        set(o, &m, "reason", sb_null());
        return m;
    }
    sb_buf b = SB_BUF_INIT;
    reason(&b, spec, plan);
    set(o, &m, "by", sb_string_cstr(by[plan->stop]));
    set(o, &m, "reason", sb_buf_failed(&b) ? sb_oom() : sb_string(sb_buf_str(&b), b.len));
    sb_buf_free(&b);
    return m;
}

static sb_val summary(const sb_solver_spec *spec, const sb_solver_plan *plan, double wall)
{
    sb_buf b = SB_BUF_INIT;
    if (plan->full_grid)
        sb_buf_printf(&b, "Planned the full grid of %zu combination%s", plan->ntrials, plan->ntrials == 1 ? "" : "s");
    else
        sb_buf_printf(&b, "Planned %zu of %" PRIu64 " combinations", plan->ntrials, spec->grid);
    sb_buf_puts(&b, " for an estimated ");
    sb_solver__money(&b, plan->total_cost);
    sb_buf_puts(&b, " (planning budget ");
    sb_solver__money(&b, spec->planning);
    sb_buf_puts(&b, ": ");
    sb_solver__money(&b, spec->budget);
    sb_buf_puts(&b, " minus a ");
    sb_solver__money(&b, spec->reserve);
    sb_buf_puts(&b, " retry reserve); about ");
    fixed2(&b, wall);
    sb_buf_printf(&b, " h of wall clock with %" PRIu64 " at a time.", spec->max_concurrent);
    if (!plan->full_grid) {
        static const char *const why[] = {"", "budget", "max_trials", "limit", "balance"};
        sb_buf_printf(&b, " Left out %" PRIu64 " (%s).", spec->grid - plan->ntrials, why[plan->stop]);
    }
    sb_val s = sb_buf_failed(&b) ? sb_oom() : sb_string(sb_buf_str(&b), b.len);
    sb_buf_free(&b);
    return s;
}

sb_val sb_solver__result(const sb_solver_spec *spec, const sb_solver_plan *plan)
{
    out o = {false};
    double wall = wall_clock(plan, spec->max_concurrent);
    if (wall < 0)
        return sb_oom();
    sb_val m = sb_map_new(16);
    set(&o, &m, "trials", trials_list(&o, spec, plan));
    set(&o, &m, "trial_count", sb_int((int64_t)plan->ntrials));
    set(&o, &m, "grid_size", sb_int((int64_t)spec->grid));
    set(&o, &m, "full_grid", sb_bool(plan->full_grid));
    set(&o, &m, "total_estimated_cost_usd", sb_double(cents(plan->total_cost)));
    set(&o, &m, "budget_usd", sb_val_ref(spec->budget_val));
    set(&o, &m, "retry_reserve_usd", sb_double(cents(spec->reserve)));
    set(&o, &m, "planning_budget_usd", sb_double(cents(spec->planning)));
    set(&o, &m, "estimated_wall_clock_hours", sb_double(wall));
    set(&o, &m, "max_concurrent", sb_int((int64_t)spec->max_concurrent));
    set(&o, &m, "level_counts", level_counts(&o, spec, plan));
    set(&o, &m, "excluded", excluded(&o, spec, plan));
    set(&o, &m, "summary", summary(spec, plan, wall));
    if (o.oom || m.kind != SB_MAP) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}
