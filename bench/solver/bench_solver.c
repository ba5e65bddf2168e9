/* Benchmark and quality survey of plan_search_grid (not a test: it prints
 * figures, asserts nothing about time).
 *
 *   bench_solver survey     every shape with up to 4 parameters of 1..5 levels
 *                           (and a few larger), every trial count up to the
 *                           grid: prints the worst pair spread and any plan
 *                           that stopped short of its budget
 *   bench_solver time       planning time and pair spread for large spaces
 *
 * Levels are the integers 0..L-1 and every trial costs $1, so the planning
 * budget is the trial count asked for. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "solver/sb_solver.h"
#include "util/sb_alloc.h"

static sb_val make_args(const int *L, int P, double budget, const char *scale_json_unused)
{
    (void)scale_json_unused;
    sb_val a = sb_map_new(0), space = sb_map_new(0), cm = sb_map_new(0);
    for (int p = 0; p < P; p++) {
        char name[8];
        snprintf(name, sizeof name, "p%d", p);
        sb_val l = sb_list_new(0);
        for (int i = 0; i < L[p]; i++)
            sb_list_push(&l, sb_int(i));
        sb_map_set_str(&space, name, l);
    }
    sb_map_set_str(&cm, "gpu_hour_usd", sb_int(1));
    sb_map_set_str(&cm, "base_hours", sb_int(1));
    sb_map_set_str(&cm, "retry_reserve_fraction", sb_int(0));
    sb_map_set_str(&a, "budget_usd", sb_double(budget));
    sb_map_set_str(&a, "parameter_space", space);
    sb_map_set_str(&a, "cost_model", cm);
    sb_map_set_str(&a, "max_concurrent", sb_int(4));
    return a;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct quality {
    long n;
    int level_spread; /* max - min level count over parameters */
    int pair_spread;  /* max over parameter pairs of (max - min) pair count */
    int dupes;
    const char *by;
} quality;

static quality measure(sb_val r, const int *L, int P)
{
    quality q = {0, 0, 0, 0, "?"};
    const sb_val *sc = sb_map_get_str(r, "structuredContent");
    const sb_val *trials = sc ? sb_map_get_str(*sc, "trials") : NULL;
    if (!trials) {
        q.n = -1;
        return q;
    }
    const sb_val *ex = sb_map_get_str(*sc, "excluded");
    const sb_val *by = sb_map_get_str(*ex, "by");
    q.by = by->kind == SB_STRING ? sb_str(*by) : "-";
    long n = (long)sb_list_len(*trials);
    q.n = n;
    int *lv = malloc(sizeof *lv * (size_t)(n * P + 1));
    for (long i = 0; i < n; i++) {
        const sb_val *hp = sb_map_get_str(*sb_list_at(*trials, (size_t)i), "hyperparameters");
        for (int p = 0; p < P; p++)
            lv[i * P + p] = (int)sb_map_val_at(*hp, (size_t)p)->as.i;
    }
    for (int p = 0; p < P; p++) {
        long *c = calloc((size_t)L[p], sizeof *c);
        for (long i = 0; i < n; i++)
            c[lv[i * P + p]]++;
        long mn = c[0], mx = c[0];
        for (int l = 0; l < L[p]; l++) {
            mn = c[l] < mn ? c[l] : mn;
            mx = c[l] > mx ? c[l] : mx;
        }
        if (mx - mn > q.level_spread)
            q.level_spread = (int)(mx - mn);
        free(c);
        for (int p2 = p + 1; p2 < P; p2++) {
            long *pc = calloc((size_t)(L[p] * L[p2]), sizeof *pc);
            for (long i = 0; i < n; i++)
                pc[lv[i * P + p] * L[p2] + lv[i * P + p2]]++;
            long a = pc[0], b = pc[0];
            for (int k = 0; k < L[p] * L[p2]; k++) {
                a = pc[k] < a ? pc[k] : a;
                b = pc[k] > b ? pc[k] : b;
            }
            if (b - a > q.pair_spread)
                q.pair_spread = (int)(b - a);
            free(pc);
        }
    }
    /* duplicates: sort combination indices */
    if (n < 200000) {
        uint64_t *ix = malloc(sizeof *ix * (size_t)(n + 1));
        for (long i = 0; i < n; i++) {
            uint64_t x = 0;
            for (int p = 0; p < P; p++)
                x = x * (uint64_t)L[p] + (uint64_t)lv[i * P + p];
            ix[i] = x;
        }
        qsort(ix, (size_t)n, sizeof *ix, cmp_u64);
        for (long i = 1; i < n; i++)
            q.dupes += ix[i] == ix[i - 1];
        free(ix);
    }
    free(lv);
    return q;
}

/* The best pair spread possible for n trials: pair counts can all be within one
 * of each other in principle, so 1 when n is not a multiple of the cell count. */
static long over_one; /* plans whose pair spread exceeds one */
static long plans;

static void survey_shape(const int *L, int P, long *worst_stall, int *worst_pair_excess)
{
    long G = 1;
    for (int p = 0; p < P; p++)
        G *= L[p];
    for (long n = 1; n <= G; n++) {
        sb_val a = make_args(L, P, (double)n, NULL);
        sb_val r = sb_solver_call("plan_search_grid", a);
        quality q = measure(r, L, P);
        if (q.n != n || q.level_spread > 1 || q.dupes) {
            printf("  shape");
            for (int p = 0; p < P; p++)
                printf(" %d", L[p]);
            printf(": asked %ld got %ld (by %s) level spread %d dupes %d\n", n, q.n, q.by, q.level_spread, q.dupes);
            if (G - q.n > *worst_stall)
                *worst_stall = G - q.n;
        }
        plans++;
        over_one += q.pair_spread > 1;
        if (q.pair_spread > 1 + *worst_pair_excess) {
            *worst_pair_excess = q.pair_spread - 1;
            printf("  shape");
            for (int p = 0; p < P; p++)
                printf(" %d", L[p]);
            printf(" n=%ld: pair spread %d\n", n, q.pair_spread);
        }
        sb_val_free(r);
        sb_val_free(a);
    }
}

static void survey(int maxp, int maxl)
{
    long worst_stall = 0;
    int worst_pair = 0, shapes = 0;
    int L[8];
    for (int P = 1; P <= maxp; P++) {
        for (int p = 0; p < P; p++)
            L[p] = 1;
        for (;;) {
            bool sorted = true; /* nondecreasing shapes only; order is covered by a few extras */
            for (int p = 1; p < P; p++)
                sorted = sorted && L[p - 1] <= L[p];
            if (sorted) {
                survey_shape(L, P, &worst_stall, &worst_pair);
                shapes++;
            }
            int p = 0;
            while (p < P && ++L[p] > maxl)
                L[p++] = 1;
            if (p == P)
                break;
        }
    }
    printf("survey: %d shapes, %ld plans, worst shortfall %ld, worst pair spread %d, %ld plans with pair spread > 1\n",
           shapes, plans, worst_stall, worst_pair + 1, over_one);
}

static void timed(const int *L, int P, double budget)
{
    sb_val a = make_args(L, P, budget, NULL);
    clock_t t0 = clock();
    sb_val r = sb_solver_call("plan_search_grid", a);
    double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    quality q = measure(r, L, P);
    long G = 1;
    for (int p = 0; p < P; p++)
        G *= L[p];
    printf("grid %ld, budget %.0f: %ld trials (by %s) in %.3f s, level spread %d, pair spread %d, dupes %d\n", G,
           budget, q.n, q.by, s, q.level_spread, q.pair_spread, q.dupes);
    sb_val_free(r);
    sb_val_free(a);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "time";
    if (strcmp(mode, "survey") == 0) {
        survey(argc > 2 ? atoi(argv[2]) : 3, argc > 3 ? atoi(argv[3]) : 5);
        return 0;
    }
    int a[] = {10, 10, 10, 10, 10};
    timed(a, 5, 5000);
    timed(a, 5, 50000);
    timed(a, 5, 99999);
    int b[] = {5, 5, 5, 4};
    timed(b, 4, 200);
    int c[] = {4, 4, 4, 4, 4, 4, 4, 4, 4};
    timed(c, 9, 100000);
    int d[] = {1000, 1000};
    timed(d, 2, 100000);
    return 0;
}
