/* The early-stopping rule (sb_earlystop.h). Values are kept per rung in the
 * order they were reported; a verdict scans its rung's values, so a rung
 * with n values costs O(n) per report (rungs see at most a sweep's trials). */
#include "sb_earlystop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"

typedef struct rung_values {
    double *v;
    size_t n, cap;
} rung_values;

struct sb_estop {
    sb_estop_rule rule;
    int64_t *steps; /* asha: every rung's step; median without a list: NULL (min_steps + k) */
    size_t nsteps;
    rung_values *rungs; /* recorded values, indexed by rung */
    size_t nrungs, rungs_cap;
};

void sb_estop_rule_init(sb_estop_rule *rule, sb_estop_kind kind)
{
    memset(rule, 0, sizeof *rule);
    rule->kind = kind;
    rule->maximize = true;
    rule->min_steps = 1;
    rule->reduction_factor = 3;
    rule->grace = 3;
}

static bool valid(const sb_estop_rule *r)
{
    if (r->min_steps < 1 || !(r->reduction_factor > 1) || !isfinite(r->reduction_factor) ||
        r->nrungs > SB_ESTOP_MAX_LISTED_RUNGS)
        return false;
    for (size_t k = 0; k < r->nrungs; k++)
        if (r->rungs[k] < 1 || (k && r->rungs[k] <= r->rungs[k - 1]))
            return false;
    return true;
}

/* asha without a list: min_steps * rf^k, rounded, strictly ascending, up to
 * 2^40 steps or SB_ESTOP_MAX_RUNGS rungs. */
static bool derive_asha(sb_estop *e)
{
    e->steps = sb_malloc(SB_ESTOP_MAX_RUNGS * sizeof *e->steps);
    if (!e->steps)
        return false;
    double x = (double)e->rule.min_steps;
    int64_t prev = 0;
    while (e->nsteps < SB_ESTOP_MAX_RUNGS && x < 1099511627776.0) {
        int64_t s = (int64_t)floor(x + 0.5);
        if (s <= prev)
            s = prev + 1;
        e->steps[e->nsteps++] = prev = s;
        x *= e->rule.reduction_factor;
    }
    return true;
}

sb_estop *sb_estop_new(const sb_estop_rule *rule)
{
    if (!rule || !valid(rule))
        return NULL;
    sb_estop *e = sb_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->rule = *rule;
    if (rule->nrungs) {
        if (!(e->steps = sb_malloc(rule->nrungs * sizeof *e->steps))) {
            sb_free(e);
            return NULL;
        }
        memcpy(e->steps, rule->rungs, rule->nrungs * sizeof *e->steps);
        e->nsteps = rule->nrungs;
    } else if (rule->kind == SB_ESTOP_ASHA && !derive_asha(e)) {
        sb_estop_free(e);
        return NULL;
    }
    return e;
}

void sb_estop_free(sb_estop *e)
{
    if (!e)
        return;
    for (size_t k = 0; k < e->nrungs; k++)
        sb_free(e->rungs[k].v);
    sb_free(e->rungs);
    sb_free(e->steps);
    sb_free(e);
}

int64_t sb_estop_rung_step(const sb_estop *e, uint32_t k)
{
    if (e->steps)
        return k < e->nsteps ? e->steps[k] : -1;
    return k < SB_ESTOP_MAX_RUNGS ? e->rule.min_steps + (int64_t)k : -1;
}

/* a better than b under the rule's mode; NaN is worse than every number. */
static bool better(const sb_estop *e, double a, double b)
{
    if (isnan(a))
        return false;
    if (isnan(b))
        return true;
    return e->rule.maximize ? a > b : a < b;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* The median of the numbers in v[0..n) (NaNs count as the worst values);
 * tmp has room for n. */
static double median(const sb_estop *e, const double *v, size_t n, double *tmp)
{
    size_t m = 0, nans = 0;
    for (size_t k = 0; k < n; k++) {
        if (isnan(v[k]))
            nans++;
        else
            tmp[m++] = v[k];
    }
    qsort(tmp, m, sizeof *tmp, cmp_double);
    /* Best first: descending when maximizing, then the NaNs. */
    if (e->rule.maximize)
        for (size_t a = 0, b = m ? m - 1 : 0; a < b; a++, b--) {
            double t = tmp[a];
            tmp[a] = tmp[b];
            tmp[b] = t;
        }
    for (size_t k = 0; k < nans; k++)
        tmp[m + k] = NAN;
    if (n % 2)
        return tmp[n / 2];
    return (tmp[n / 2 - 1] + tmp[n / 2]) / 2; /* NaN when either is */
}

/* The value that ranks k-th best (1-based) of v[0..n). */
static double kth_best(const sb_estop *e, const double *v, size_t n, size_t k)
{
    /* O(n * k) with k small (n / reduction_factor of a sweep's trials). */
    double bar = NAN;
    for (size_t i = 0; i < n; i++) {
        size_t ahead = 0;
        for (size_t j = 0; j < n; j++)
            ahead += better(e, v[j], v[i]) || (j < i && !better(e, v[i], v[j]) && !better(e, v[j], v[i]));
        if (ahead == k - 1) {
            bar = v[i];
            break;
        }
    }
    return bar;
}

sb_estop_verdict sb_estop_report(sb_estop *e, uint32_t *next_rung, int64_t step, double value, sb_estop_decision *d)
{
    sb_estop_decision tmpd;
    if (!d)
        d = &tmpd;
    d->rung = 0;
    d->bar = NAN;
    d->n = 0;
    /* The highest rung reached and not yet passed. */
    uint32_t k = *next_rung;
    int64_t at = sb_estop_rung_step(e, k);
    if (at < 0 || step < at)
        return SB_ESTOP_CONTINUE;
    while (sb_estop_rung_step(e, k + 1) >= 0 && sb_estop_rung_step(e, k + 1) <= step)
        k++;
    if (!SB_GROW(e->rungs, e->rungs_cap, (size_t)k + 1))
        return SB_ESTOP_OOM;
    for (size_t r = e->nrungs; r <= k; r++)
        memset(&e->rungs[r], 0, sizeof e->rungs[r]);
    if (e->nrungs <= k)
        e->nrungs = (size_t)k + 1;
    rung_values *rv = &e->rungs[k];
    /* Room for the value and, for the median, a sorted copy of the others. */
    if (!SB_GROW(rv->v, rv->cap, rv->n + 1))
        return SB_ESTOP_OOM;
    double *tmp = NULL;
    if (e->rule.kind == SB_ESTOP_MEDIAN && rv->n && !(tmp = sb_malloc(rv->n * sizeof *tmp)))
        return SB_ESTOP_OOM;
    *next_rung = k + 1;
    d->rung = sb_estop_rung_step(e, k);
    bool stop = false;
    if (e->rule.kind == SB_ESTOP_MEDIAN) {
        size_t others = rv->n;
        d->n = others + 1;
        if (others >= e->rule.grace && others > 0) {
            d->bar = median(e, rv->v, others, tmp);
            stop = better(e, d->bar, value) || (isnan(value) && isnan(d->bar));
        }
    } else {
        rv->v[rv->n] = value;
        size_t n = rv->n + 1;
        d->n = n;
        if (n >= e->rule.grace) {
            size_t keep = (size_t)floor((double)n / e->rule.reduction_factor);
            if (keep < 1)
                keep = 1;
            d->bar = kth_best(e, rv->v, n, keep);
            size_t ahead = 0;
            for (size_t j = 0; j + 1 < n; j++)
                ahead += !better(e, value, rv->v[j]); /* ties go to the earlier job */
            stop = ahead >= keep;
        }
    }
    sb_free(tmp);
    rv->v[rv->n++] = value;
    return stop ? SB_ESTOP_STOP : SB_ESTOP_CONTINUE;
}
