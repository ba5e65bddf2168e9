/* suggest_trials: the next trials of an adaptive search (ask/tell), from the
 * space, the trials so far and the money left. docs/mcp-tools-solver.md,
 * section 3, is the contract; in short:
 *   1. Initial design: while fewer than n_init combinations of the space have
 *      been tried, propose the members of plan_search_grid's balanced plan of
 *      n_init trials (every level used evenly, pairs covered evenly) that are
 *      not tried yet.
 *   2. Then the model (sb_solver_effects.c) fitted to the completed trials
 *      ranks every untried combination (all of them up to
 *      SUGGEST_ENUM_LIMIT, else the model's favourite, its one-parameter
 *      neighbours and seeded samples) by prediction plus exploration bonus.
 * Either way a proposal is never a combination tried or in flight, each must
 * fit the money still free (remaining_usd minus the retry reserve, counting
 * the proposals before it) with its cost cap (the estimate times 1 +
 * cost_model.cap_margin_fraction, which the budget guard and the Conductor
 * hold while it runs), and at most max_in_flight trials run or wait at
 * once. Deterministic: ties go to a seeded hash of the combination. */
#include "sb_solver_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"

#ifndef SUGGEST_ENUM_LIMIT
#define SUGGEST_ENUM_LIMIT 1048576 /* grids up to this size are scored in full */
#endif
#define SUGGEST_SAMPLES 4096   /* random candidates on larger grids */
#define SUGGEST_SPARE 64       /* candidates kept beyond the slots, for the ones that do not fit */
#define SUGGEST_MODEL_MAX 1024 /* model proposals per call */

typedef struct ask {
    sb_solver_spec spec;
    uint64_t *radix;
    sb_solver_set used;        /* combination indices closed: completed, in flight, or failed twice */
    sb_solver_set failed_once; /* failed or cancelled once and not otherwise seen: open for one more try */
    uint16_t *obs;             /* completed trials with a metric: nobs x nparams */
    double *y;                 /* their metric, oriented so larger is better */
    size_t nobs, ntried, in_flight, outside;
    double remaining, available; /* dollars: not spent or committed; free for new trials */
    bool retry_transient;        /* a transient failure leaves its combination open once */
    uint64_t max_in_flight;      /* 0: no limit */
    uint64_t initial;            /* n_init */
    bool minimize;
    const char *metric;
} ask;

/* A candidate: its combination index and score. */
typedef struct cand {
    uint64_t idx;
    double score;
    uint64_t tie;
} cand;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void decode(const ask *a, uint64_t idx, uint16_t *c)
{
    for (size_t p = 0; p < a->spec.nparams; p++) {
        c[p] = (uint16_t)(idx / a->radix[p]);
        idx %= a->radix[p];
    }
}

static uint64_t encode(const ask *a, const uint16_t *c)
{
    uint64_t idx = 0;
    for (size_t p = 0; p < a->spec.nparams; p++)
        idx += c[p] * a->radix[p];
    return idx;
}

static double cost_of(const ask *a, const uint16_t *c)
{
    return sb_solver__cost_of_hours(&a->spec, sb_solver__hours(&a->spec, c));
}

/* --- arguments --- */

static sb_solver_status say(sb_buf *err, const char *what, const char *want, const sb_val *got)
{
    sb_buf_printf(err, "%s: expected %s", what, want);
    if (got) {
        sb_buf_puts(err, ", got ");
        sb_solver__put_json(err, *got);
    }
    return sb_buf_failed(err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
}

/* The level of parameter p equal to v (numbers compare by value), or -1. */
static int level_of(const sb_solver_param *pp, sb_val v)
{
    double x, y;
    bool num = sb_solver__as_number(v, &x);
    for (size_t l = 0; l < pp->nlevels; l++) {
        if (sb_val_equal(pp->levels[l], v))
            return (int)l;
        if (num && sb_solver__as_number(pp->levels[l], &y) && x == y)
            return (int)l;
    }
    return -1;
}

/* The combination of a trial's hyperparameters, or false when it lies outside
 * the space (a retry with a patched value, a parameter missing). */
static bool combo_of(const ask *a, sb_val hyper, uint16_t *c)
{
    if (hyper.kind != SB_MAP)
        return false;
    for (size_t p = 0; p < a->spec.nparams; p++) {
        const sb_val *v = sb_map_get(hyper, a->spec.params[p].name);
        int l = v ? level_of(&a->spec.params[p], *v) : -1;
        if (l < 0)
            return false;
        c[p] = (uint16_t)l;
    }
    return true;
}

static sb_solver_status read_trials(ask *a, sb_val trials, sb_buf *err)
{
    size_t n = sb_list_len(trials), np = a->spec.nparams;
    a->obs = sb_malloc((n ? n : 1) * (np ? np : 1) * sizeof *a->obs);
    a->y = sb_malloc((n ? n : 1) * sizeof *a->y);
    uint16_t *c = sb_malloc((np ? np : 1) * sizeof *c);
    if (!a->obs || !a->y || !c || !sb_solver__set_reserve(&a->used, n + 1) ||
        !sb_solver__set_reserve(&a->failed_once, n + 1)) {
        sb_free(c);
        return SB_SOLVER_ENOMEM;
    }
    char where[64];
    for (size_t i = 0; i < n; i++) {
        sb_val t = *sb_list_at(trials, i);
        snprintf(where, sizeof where, "trials[%zu]", i);
        if (t.kind != SB_MAP) {
            sb_free(c);
            return say(err, where, "an object {hyperparameters, status, metrics}", &t);
        }
        const sb_val *h = sb_map_get_str(t, "hyperparameters"), *st = sb_map_get_str(t, "status");
        const sb_val *m = sb_map_get_str(t, "metrics");
        if (h && h->kind != SB_MAP && h->kind != SB_NULL) {
            sb_free(c);
            snprintf(where, sizeof where, "trials[%zu].hyperparameters", i);
            return say(err, where, "an object or null (not known yet)", h);
        }
        if (st && st->kind != SB_STRING) {
            sb_free(c);
            snprintf(where, sizeof where, "trials[%zu].status", i);
            return say(err, where, "a string", st);
        }
        const sb_val *mv = m && m->kind == SB_MAP ? sb_map_get_str(*m, a->metric) : NULL;
        double y;
        bool finished = st && (sb_str_eq(*st, "completed") || sb_str_eq(*st, "failed") || sb_str_eq(*st, "cancelled"));
        bool scored = mv && sb_solver__as_number(*mv, &y) && (!st || sb_str_eq(*st, "completed"));
        if (!finished && !scored)
            a->in_flight++;
        if (!h || !combo_of(a, *h, c)) {
            a->outside++;
            continue;
        }
        uint64_t idx = encode(a, c);
        /* A failure closes the combination: a pipeline's retry step is what
         * tries a failed job again (with changed hyperparameters where the
         * error says so), and a new trial of the same combination would pay
         * twice for it. With retry_transient (a pipeline without a retry
         * step) a transient failure (NaN loss, a lost node) leaves it open
         * once: the second closes it; a permanent one closes it at once. */
        const sb_val *et = sb_map_get_str(t, "error_type");
        bool permanent = et && et->kind == SB_STRING && sb_str_eq(*et, "permanent");
        bool close = !finished || scored || permanent || !a->retry_transient ||
                     sb_solver__set_has(&a->failed_once, idx);
        if (!close)
            sb_solver__set_add(&a->failed_once, idx);
        else if (!sb_solver__set_has(&a->used, idx))
            sb_solver__set_add(&a->used, idx);
        if (close)
            sb_solver__set_remove(&a->failed_once, idx);
        if (scored) {
            memcpy(a->obs + a->nobs * np, c, np * sizeof *c);
            a->y[a->nobs++] = a->minimize ? -y : y;
        }
    }
    sb_free(c);
    return SB_SOLVER_OK;
}

/* The plan_search_grid arguments inside ours, for the shared parser. */
static sb_val grid_args(sb_val args)
{
    static const char *const keys[] = {"budget_usd", "parameter_space", "cost_model"};
    sb_val g = sb_map_new(3);
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const sb_val *v = sb_map_get_str(args, keys[k]);
        if (v && !sb_solver__put(&g, keys[k], sb_val_ref(*v))) {
            sb_val_free(g);
            return sb_oom();
        }
    }
    return g;
}

static sb_solver_status check_keys(sb_val args, sb_buf *err)
{
    static const char *const known[] = {"budget_usd",     "remaining_usd", "parameter_space", "cost_model",
                                        "trials",         "metric",        "direction",       "max_in_flight",
                                        "initial_trials", "seed",          "retry_transient"};
    for (size_t i = 0; i < sb_map_len(args); i++) {
        sb_val k = *sb_map_key_at(args, i);
        bool ok = false;
        for (size_t j = 0; j < sizeof known / sizeof *known; j++)
            ok = ok || sb_str_eq(k, known[j]);
        if (!ok) {
            sb_buf_puts(err, "unknown argument ");
            sb_solver__put_json(err, k);
            sb_buf_puts(err, " (expected budget_usd, remaining_usd, parameter_space, cost_model, trials, metric, "
                             "direction, max_in_flight, initial_trials, seed, retry_transient)");
            return sb_buf_failed(err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
        }
    }
    return SB_SOLVER_OK;
}

static sb_solver_status optional_count(sb_val args, const char *key, uint64_t min, uint64_t *out, sb_buf *err)
{
    const sb_val *v = sb_map_get_str(args, key);
    if (!v || v->kind == SB_NULL)
        return SB_SOLVER_OK;
    if (!sb_solver__as_count(*v, out) || *out < min)
        return say(err, key, min ? "null or an integer >= 1" : "null or an integer >= 0", v);
    return SB_SOLVER_OK;
}

/* n_init: enough trials for every main effect (1 + sum of (levels - 1)),
 * rounded up to a multiple of the largest level count so levels stay
 * balanced; at most the grid. */
static uint64_t default_initial(const sb_solver_spec *spec)
{
    uint64_t k = 1, big = 1;
    for (size_t p = 0; p < spec->nparams; p++) {
        k += spec->params[p].nlevels - 1;
        big = spec->params[p].nlevels > big ? spec->params[p].nlevels : big;
    }
    uint64_t n = (k + big - 1) / big * big;
    return n < spec->grid ? n : spec->grid;
}

static sb_solver_status parse_ask(ask *a, sb_val args, sb_buf *err)
{
    sb_solver_status st;
    if (args.kind != SB_MAP)
        return say(err, "arguments", "an object", &args);
    if ((st = check_keys(args, err)))
        return st;
    sb_val g = grid_args(args);
    if (sb_is_oom(g))
        return SB_SOLVER_ENOMEM;
    st = sb_solver__spec_parse(&a->spec, g, err);
    sb_val_free(g);
    if (st)
        return st;
    const sb_val *metric = sb_map_get_str(args, "metric"), *dir = sb_map_get_str(args, "direction");
    if (!metric)
        return say(err, "metric", "the name of the metric to optimise (required)", NULL);
    if (metric->kind != SB_STRING || sb_str_len(*metric) == 0)
        return say(err, "metric", "a non-empty string", metric);
    a->metric = sb_str(*metric);
    if (dir && !(dir->kind == SB_STRING && (sb_str_eq(*dir, "max") || sb_str_eq(*dir, "min"))))
        return say(err, "direction", "\"max\" or \"min\"", dir);
    a->minimize = dir && sb_str_eq(*dir, "min");
    /* Any 64-bit seed (a run's seed may be up to 2^64 - 1): it only
     * breaks ties. */
    const sb_val *seed = sb_map_get_str(args, "seed");
    if (seed && seed->kind == SB_UINT)
        a->spec.seed = seed->as.u;
    else if (seed && seed->kind != SB_NULL && !sb_solver__as_count(*seed, &a->spec.seed))
        return say(err, "seed", "null or an integer >= 0", seed);
    const sb_val *rt = sb_map_get_str(args, "retry_transient");
    if (rt && rt->kind != SB_NULL && rt->kind != SB_BOOL)
        return say(err, "retry_transient", "null, true or false", rt);
    a->retry_transient = rt && rt->kind == SB_BOOL && rt->as.b;
    a->remaining = a->spec.budget;
    const sb_val *rem = sb_map_get_str(args, "remaining_usd");
    if (rem && rem->kind != SB_NULL && !sb_solver__as_number(*rem, &a->remaining))
        return say(err, "remaining_usd", "a number", rem);
    if ((st = optional_count(args, "max_in_flight", 1, &a->max_in_flight, err)) ||
        (st = optional_count(args, "initial_trials", 0, &a->initial, err)))
        return st;
    if (!sb_map_get_str(args, "initial_trials") || sb_map_get_str(args, "initial_trials")->kind == SB_NULL)
        a->initial = default_initial(&a->spec);
    a->available = a->remaining - a->spec.reserve;
    const sb_val *trials = sb_map_get_str(args, "trials");
    if (trials && trials->kind != SB_NULL && trials->kind != SB_LIST)
        return say(err, "trials", "a list of {hyperparameters, status, metrics}", trials);
    a->radix = sb_malloc(a->spec.nparams * sizeof *a->radix);
    if (!a->radix)
        return SB_SOLVER_ENOMEM;
    uint64_t r = 1;
    for (size_t p = a->spec.nparams; p-- > 0;) {
        a->radix[p] = r;
        r *= a->spec.params[p].nlevels;
    }
    sb_val none = sb_list_new(0);
    st = read_trials(a, trials && trials->kind == SB_LIST ? *trials : none, err);
    sb_val_free(none);
    a->ntried = a->used.len + a->failed_once.len;
    return st;
}

static void ask_free(ask *a)
{
    sb_solver__spec_free(&a->spec);
    sb_solver__set_free(&a->used);
    sb_solver__set_free(&a->failed_once);
    sb_free(a->radix);
    sb_free(a->obs);
    sb_free(a->y);
}

/* --- choosing --- */

typedef struct picks {
    uint64_t *idx;
    size_t n, cap;
    double total; /* estimates of the picks */
    double caps;  /* their caps: what must fit the money */
    bool money_short; /* a candidate did not fit the money left */
} picks;

/* Takes combination idx if it fits the money; false when it does not. */
static bool take(ask *a, picks *k, uint64_t idx, uint16_t *c)
{
    decode(a, idx, c);
    double cost = cost_of(a, c);
    double cap = cost * (1 + a->spec.cap_margin);
    if (k->caps + cap > a->available) {
        k->money_short = true;
        return false;
    }
    k->idx[k->n++] = idx;
    k->total += cost;
    k->caps += cap;
    sb_solver__set_add(&a->used, idx);
    return true;
}

/* Phase 1: the balanced plan's trials not tried yet. */
static sb_solver_status initial_design(ask *a, picks *k, uint16_t *c)
{
    sb_solver_spec spec = a->spec;
    spec.max_trials = a->initial;
    sb_solver_plan plan;
    if (sb_solver__plan_build(&spec, &plan) != SB_SOLVER_OK)
        return SB_SOLVER_ENOMEM;
    for (size_t i = 0; i < plan.ntrials && k->n < k->cap; i++) {
        uint64_t idx = encode(a, plan.levels + i * plan.nparams);
        if (!sb_solver__set_has(&a->used, idx))
            take(a, k, idx, c);
    }
    sb_solver__plan_free(&plan);
    return SB_SOLVER_OK;
}

static int cmp_cand(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->tie != b->tie)
        return a->tie < b->tie ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Keeps the best `keep` candidates in top[0..*n), unordered but for the
 * worst, found by a scan (keep is small). */
static void offer(const ask *a, const sb_solver_effects *m, cand *top, size_t keep, size_t *n, uint64_t idx,
                  uint16_t *c)
{
    if (sb_solver__set_has(&a->used, idx))
        return;
    for (size_t i = 0; i < *n; i++)
        if (top[i].idx == idx)
            return;
    decode(a, idx, c);
    cand x = {idx, sb_solver__effects_score(m, c), mix64(a->spec.seed ^ mix64(idx + 0x9e3779b97f4a7c15ULL))};
    if (*n < keep) {
        top[(*n)++] = x;
        return;
    }
    size_t worst = 0;
    for (size_t i = 1; i < *n; i++)
        if (cmp_cand(&top[i], &top[worst]) > 0)
            worst = i;
    if (cmp_cand(&x, &top[worst]) < 0)
        top[worst] = x;
}

/* Phase 2: the model's best untried combinations. */
static sb_solver_status model_picks(ask *a, picks *k, uint16_t *c, sb_solver_effects *m)
{
    if (!sb_solver__effects_fit(m, &a->spec, a->obs, a->y, a->nobs))
        return SB_SOLVER_ENOMEM;
    size_t want = k->cap - k->n < SUGGEST_MODEL_MAX ? k->cap - k->n : SUGGEST_MODEL_MAX;
    size_t keep = want + SUGGEST_SPARE, n = 0;
    cand *top = sb_malloc(keep * sizeof *top);
    if (!top)
        return SB_SOLVER_ENOMEM;
    if (a->spec.grid <= SUGGEST_ENUM_LIMIT) {
        for (uint64_t idx = 0; idx < a->spec.grid; idx++)
            offer(a, m, top, keep, &n, idx, c);
    } else {
        /* The favourite (each parameter's best-scoring level), its
         * one-parameter neighbours, then seeded samples. */
        uint16_t *fav = sb_malloc(a->spec.nparams * sizeof *fav);
        if (!fav) {
            sb_free(top);
            return SB_SOLVER_ENOMEM;
        }
        for (size_t p = 0; p < a->spec.nparams; p++) {
            fav[p] = 0;
            for (size_t l = 1; l < a->spec.params[p].nlevels; l++)
                if (m->effect[m->off[p] + l] > m->effect[m->off[p] + fav[p]])
                    fav[p] = (uint16_t)l;
        }
        uint64_t base = encode(a, fav);
        offer(a, m, top, keep, &n, base, c);
        for (size_t p = 0; p < a->spec.nparams; p++)
            for (size_t l = 0; l < a->spec.params[p].nlevels; l++)
                if (l != fav[p])
                    offer(a, m, top, keep, &n, base + (l - fav[p]) * a->radix[p], c);
        uint64_t st = a->spec.seed ^ 0x5bd1e995ULL;
        for (int s = 0; s < SUGGEST_SAMPLES; s++) {
            st += 0x9e3779b97f4a7c15ULL;
            offer(a, m, top, keep, &n, mix64(st) % a->spec.grid, c);
        }
        sb_free(fav);
    }
    qsort(top, n, sizeof *top, cmp_cand);
    for (size_t i = 0; i < n && k->n < k->cap; i++)
        take(a, k, top[i].idx, c);
    sb_free(top);
    return SB_SOLVER_OK;
}

/* --- the result --- */

static double cents(double x)
{
    if (!(fabs(x) < 1e13))
        return x;
    double c = floor(fabs(x) * 100 + 0.5) / 100;
    return x < 0 ? -c : c;
}

static sb_val hyper_of(const ask *a, const uint16_t *c)
{
    sb_val hp = sb_map_new(a->spec.nparams);
    for (size_t p = 0; p < a->spec.nparams; p++)
        if (!sb_map_set(&hp, sb_val_ref(a->spec.params[p].name), sb_val_ref(a->spec.params[p].levels[c[p]]))) {
            sb_val_free(hp);
            return sb_oom();
        }
    return hp;
}

static sb_val result(ask *a, const picks *k, const char *phase, const char *stop, const sb_solver_effects *m,
                     uint16_t *c)
{
    sb_val out = sb_map_new(12), list = sb_list_new(k->n);
    bool ok = true;
    for (size_t i = 0; ok && i < k->n; i++) {
        decode(a, k->idx[i], c);
        double hours = sb_solver__hours(&a->spec, c);
        sb_val t = sb_map_new(4);
        ok = sb_solver__put(&t, "hyperparameters", hyper_of(a, c));
        ok =
            ok && sb_solver__put(&t, "estimated_cost_usd", sb_double(cents(sb_solver__cost_of_hours(&a->spec, hours))));
        ok = ok && sb_solver__put(&t, "estimated_duration_hours", sb_double(hours));
        ok = ok && sb_solver__put(&t, "source", sb_string_cstr(phase));
        ok = ok && t.kind == SB_MAP && sb_list_push(&list, t);
        if (!ok)
            sb_val_free(t);
    }
    ok = sb_solver__put(&out, "trials", ok ? list : (sb_val_free(list), sb_oom())) && ok;
    ok = ok && sb_solver__put(&out, "trial_count", sb_int((int64_t)k->n));
    ok = ok && sb_solver__put(&out, "phase", sb_string_cstr(phase));
    ok = ok && sb_solver__put(&out, "stop", stop ? sb_string_cstr(stop) : sb_null());
    ok = ok && sb_solver__put(&out, "estimated_cost_usd", sb_double(cents(k->total)));
    ok = ok && sb_solver__put(&out, "available_usd", sb_double(cents(a->available > 0 ? a->available : 0)));
    ok = ok && sb_solver__put(&out, "tried", sb_int((int64_t)a->ntried));
    ok = ok && sb_solver__put(&out, "observed", sb_int((int64_t)a->nobs));
    ok = ok && sb_solver__put(&out, "in_flight", sb_int((int64_t)a->in_flight));
    ok = ok && sb_solver__put(&out, "grid_size", sb_uint(a->spec.grid));
    if (ok && m && m->nobs) {
        /* The model's favourite over the whole space, tried or not. */
        sb_val best = sb_map_new(2);
        for (size_t p = 0; p < a->spec.nparams; p++) {
            c[p] = 0;
            for (size_t l = 1; l < a->spec.params[p].nlevels; l++)
                if (m->effect[m->off[p] + l] > m->effect[m->off[p] + c[p]])
                    c[p] = (uint16_t)l;
        }
        double pred = sb_solver__effects_predict(m, c);
        ok = sb_solver__put(&best, "hyperparameters", hyper_of(a, c));
        ok = ok && sb_solver__put(&best, "predicted", sb_double(a->minimize ? -pred : pred));
        ok = sb_solver__put(&out, "predicted_best", best) && ok;
    }
    sb_buf s = SB_BUF_INIT;
    sb_buf_printf(&s, "%zu trial%s suggested (%s", k->n, k->n == 1 ? "" : "s", phase);
    if (k->n) {
        sb_buf_puts(&s, ", estimated ");
        sb_solver__money(&s, k->total);
    }
    sb_buf_printf(&s, "); %zu of %" PRIu64 " tried, %zu observed, %zu in flight, ", a->ntried, a->spec.grid, a->nobs,
                  a->in_flight);
    sb_solver__money(&s, a->available > 0 ? a->available : 0);
    sb_buf_puts(&s, " free");
    if (stop)
        sb_buf_printf(&s, "; stopped by %s", stop);
    ok = ok && !sb_buf_failed(&s) && sb_solver__put(&out, "summary", sb_string(sb_buf_str(&s), s.len));
    sb_buf_free(&s);
    if (!ok) {
        sb_val_free(out);
        return sb_oom();
    }
    return out;
}

sb_solver_status sb_solver__suggest(sb_val args, sb_val *out, sb_buf *err)
{
    ask a;
    memset(&a, 0, sizeof a);
    sb_solver_effects m;
    memset(&m, 0, sizeof m);
    picks k = {0};
    uint16_t *c = NULL;
    sb_solver_status st = parse_ask(&a, args, err);
    const char *phase = "initial", *stop = NULL;
    if (st == SB_SOLVER_OK) {
        uint64_t untried = a.spec.grid - a.used.len;
        uint64_t slots = untried;
        if (a.max_in_flight)
            slots = a.in_flight >= a.max_in_flight          ? 0
                    : a.max_in_flight - a.in_flight < slots ? a.max_in_flight - a.in_flight
                                                            : slots;
        if (slots > SB_SOLVER_MAX_TRIALS)
            slots = SB_SOLVER_MAX_TRIALS;
        k.cap = (size_t)slots;
        k.idx = sb_malloc((k.cap ? k.cap : 1) * sizeof *k.idx);
        c = sb_malloc((a.spec.nparams ? a.spec.nparams : 1) * sizeof *c);
        if (!k.idx || !c || !sb_solver__set_reserve(&a.used, a.ntried + k.cap + 1))
            st = SB_SOLVER_ENOMEM;
        if (st == SB_SOLVER_OK && k.cap && a.ntried < a.initial)
            st = initial_design(&a, &k, c);
        if (st == SB_SOLVER_OK && k.n == 0 && k.cap && !k.money_short) {
            phase = "model";
            st = model_picks(&a, &k, c, &m);
        }
        if (untried == 0)
            stop = "space";
        else if (k.money_short && k.n < k.cap)
            stop = "budget";
        else if (k.cap == 0 || (a.max_in_flight && k.n == k.cap))
            stop = "in_flight";
    }
    if (st == SB_SOLVER_OK) {
        *out = result(&a, &k, phase, stop, m.off ? &m : NULL, c);
        if (sb_is_oom(*out))
            st = SB_SOLVER_ENOMEM;
    }
    sb_solver__effects_free(&m);
    sb_free(k.idx);
    sb_free(c);
    ask_free(&a);
    return st;
}
