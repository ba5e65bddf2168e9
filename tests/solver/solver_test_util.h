/* Helpers for the Solver tests: calling plan_search_grid from JSON text and
 * checking the invariants every plan must keep. Included by one test file
 * each (static functions). */
#ifndef SOLVER_TEST_UTIL_H
#define SOLVER_TEST_UTIL_H
#include "sb_test.h"
#include "solver/sb_solver.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

#include <stdint.h>

static inline sb_val parse_json(const char *s)
{
    sb_val v = sb_json_parse(s, strlen(s));
    if (v.kind == SB_ERROR)
        fprintf(stderr, "bad test JSON: %s\n", sb_str(v));
    return v;
}

static inline sb_val call_json(const char *args_json)
{
    sb_val a = parse_json(args_json);
    sb_val r = sb_solver_call("plan_search_grid", a);
    sb_val_free(a);
    return r;
}

static inline const sb_val *get(sb_val m, const char *k)
{
    return m.kind == SB_MAP ? sb_map_get_str(m, k) : NULL;
}

static inline bool is_error_result(sb_val r)
{
    const sb_val *e = get(r, "isError");
    return e && e->kind == SB_BOOL && e->as.b;
}

/* The text of the first content item ("" if missing). */
static inline const char *result_text(sb_val r)
{
    const sb_val *c = get(r, "content");
    if (!c || c->kind != SB_LIST || sb_list_len(*c) < 1)
        return "";
    const sb_val *t = get(*sb_list_at(*c, 0), "text");
    return t && t->kind == SB_STRING ? sb_str(*t) : "";
}

static inline sb_val sc_of(sb_val r)
{
    const sb_val *s = get(r, "structuredContent");
    return s ? *s : sb_null();
}

static inline double num(const sb_val *v)
{
    double d = NAN;
    if (!v || !sb_val_as_double(*v, &d))
        return NAN;
    return d;
}

static inline long long int_of(const sb_val *v)
{
    return v && v->kind == SB_INT ? (long long)v->as.i : -1;
}

/* A level's key as the Solver shows it: a string's own text, else its JSON. */
static inline char *level_key(sb_val v)
{
    return v.kind == SB_STRING ? sb_strndup(sb_str(v), sb_str_len(v)) : sb_val_to_json(v, 0);
}

typedef struct plan_stats {
    long trials;
    int level_spread; /* worst max - min level count over parameters (over all levels of level_counts) */
    int pair_spread;  /* worst max - min pair count over parameter pairs (cells never used count as 0) */
    int duplicates;
    double cost_sum;       /* of estimated_cost_usd, plain sum */
    double max_cost_error; /* worst |cost - hours * rate| */
} plan_stats;

/* Recounts everything from the trials; also checks level_counts against the
 * recount and the text content against the structured content. */
static inline plan_stats check_plan(sb_val r, double usd_per_hour)
{
    plan_stats st = {0, 0, 0, 0, 0, 0};
    CHECK(!is_error_result(r));
    sb_val sc = sc_of(r);
    char *json = sb_val_to_json(sc, 0);
    CHECK(json && strcmp(json, result_text(r)) == 0);
    sb_free(json);
    const sb_val *trials = get(sc, "trials"), *lc = get(sc, "level_counts");
    if (!trials || !lc) {
        CHECK(trials && lc);
        return st;
    }
    size_t n = sb_list_len(*trials), P = sb_map_len(*lc);
    st.trials = (long)n;
    CHECK_INT(int_of(get(sc, "trial_count")), n);
    sb_val seen = sb_map_new(n);
    sb_val *counts = calloc(P, sizeof *counts), *pairs = calloc(P * P, sizeof *pairs);
    for (size_t p = 0; p < P; p++) {
        counts[p] = sb_map_new(0);
        for (size_t q = p + 1; q < P; q++)
            pairs[p * P + q] = sb_map_new(0);
    }
    for (size_t i = 0; i < n; i++) {
        sb_val t = *sb_list_at(*trials, i);
        const sb_val *hp = get(t, "hyperparameters");
        char id[32];
        int width = 3;
        for (size_t m = n; m >= 1000; m /= 10)
            width++;
        snprintf(id, sizeof id, "trial_%0*zu", width, i + 1);
        CHECK_STR(sb_str(*get(t, "trial_id")), id);
        double cost = num(get(t, "estimated_cost_usd")), hours = num(get(t, "estimated_duration_hours"));
        st.cost_sum += cost;
        double err = fabs(cost - hours * usd_per_hour);
        st.max_cost_error = err > st.max_cost_error ? err : st.max_cost_error;
        char *whole = sb_val_to_json(*hp, 0);
        if (sb_map_get_str(seen, whole))
            st.duplicates++;
        sb_map_set_str(&seen, whole, sb_bool(true));
        sb_free(whole);
        CHECK(sb_map_len(*hp) == P);
        for (size_t p = 0; p < P && p < sb_map_len(*hp); p++) {
            char *k = level_key(*sb_map_val_at(*hp, p));
            const sb_val *c = sb_map_get_str(counts[p], k);
            sb_map_set_str(&counts[p], k, sb_int(c ? c->as.i + 1 : 1));
            for (size_t q = p + 1; q < P; q++) {
                char *k2 = level_key(*sb_map_val_at(*hp, q));
                char *both = malloc(strlen(k) + strlen(k2) + 2);
                sprintf(both, "%s\x1f%s", k, k2);
                const sb_val *pc = sb_map_get_str(pairs[p * P + q], both);
                sb_map_set_str(&pairs[p * P + q], both, sb_int(pc ? pc->as.i + 1 : 1));
                free(both);
                sb_free(k2);
            }
            sb_free(k);
        }
    }
    for (size_t p = 0; p < P; p++) {
        sb_val want = *sb_map_val_at(*lc, p);
        long long mn = -1, mx = -1;
        for (size_t l = 0; l < sb_map_len(want); l++) {
            const sb_val *got = sb_map_get(counts[p], *sb_map_key_at(want, l));
            long long g = got ? got->as.i : 0;
            CHECK_INT(g, sb_map_val_at(want, l)->as.i);
            mn = mn < 0 || g < mn ? g : mn;
            mx = g > mx ? g : mx;
        }
        if (mx - mn > st.level_spread)
            st.level_spread = (int)(mx - mn);
        for (size_t q = p + 1; q < P; q++) {
            size_t cells = sb_map_len(*sb_map_val_at(*lc, p)) * sb_map_len(*sb_map_val_at(*lc, q));
            sb_val m = pairs[p * P + q];
            long long a = sb_map_len(m) < cells ? 0 : -1, b = 0;
            for (size_t i = 0; i < sb_map_len(m); i++) {
                long long c = sb_map_val_at(m, i)->as.i;
                a = a < 0 || c < a ? c : a;
                b = c > b ? c : b;
            }
            if (b - a > st.pair_spread)
                st.pair_spread = (int)(b - a);
            sb_val_free(m);
        }
        sb_val_free(counts[p]);
    }
    free(counts);
    free(pairs);
    sb_val_free(seen);
    double total = num(get(sc, "total_estimated_cost_usd")), planning = num(get(sc, "planning_budget_usd"));
    CHECK(total <= planning);
    /* Amounts in the result are rounded to cents: each within half a cent of
     * the model, the total within half a cent of the exact sum. */
    CHECK(fabs(total - st.cost_sum) <= 0.005 * (double)(n + 1) + 1e-9 * total);
    CHECK(st.max_cost_error <= 0.005 + 1e-9 * (1 + total));
    const sb_val *ex = get(sc, "excluded");
    CHECK_INT(int_of(get(*ex, "count")), int_of(get(sc, "grid_size")) - (long long)n);
    return st;
}

#endif
