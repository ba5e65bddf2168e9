#include "sb_aggregate.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"

/* Segments up to this long are looked up through the map's hash index from a
 * stack copy; longer ones (unheard of in practice) by a linear scan. */
#define AGG_KEY_MAX 128

static const sb_val *agg_get_key(sb_val map, const char *key, size_t len)
{
    if (len < AGG_KEY_MAX) {
        char tmp[AGG_KEY_MAX];
        memcpy(tmp, key, len);
        tmp[len] = '\0';
        /* A key with an embedded NUL cannot match a C-string lookup; scan. */
        if (strlen(tmp) == len)
            return sb_map_get_str(map, tmp);
    }
    for (size_t i = 0; i < sb_map_len(map); i++) {
        sb_val k = *sb_map_key_at(map, i);
        if (k.kind == SB_STRING && sb_str_len(k) == len && memcmp(sb_str(k), key, len) == 0)
            return sb_map_val_at(map, i);
    }
    return NULL;
}

/* An empty path yields NULL: root is passed by value, so there is no
 * container to borrow a pointer to it from. */
const sb_val *sb_path_get(sb_val root, const char *path)
{
    if (!path || !*path)
        return NULL;
    const sb_val *cur = &root;
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        if (cur->kind != SB_MAP)
            return NULL;
        cur = agg_get_key(*cur, path, len);
        if (!cur || !dot)
            return cur;
        path = dot + 1;
    }
}

typedef struct agg_item {
    double score;
    size_t pos; /* position in the input: the tiebreak that makes qsort stable */
} agg_item;

static int agg_cmp_max(const void *a, const void *b)
{
    const agg_item *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int agg_cmp_min(const void *a, const void *b)
{
    const agg_item *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Adds key -> v unless an earlier step failed; v is always consumed, and a
 * value that is an error (OOM from its constructor) counts as a failure. */
static bool agg_put(sb_val *m, bool ok, const char *key, sb_val v)
{
    if (!ok || v.kind == SB_ERROR) {
        sb_val_free(v);
        return false;
    }
    return sb_map_set_str(m, key, v);
}

/* Welford's running mean and sum of squared deviations: no catastrophic
 * cancellation from summing squares. Stats are over the scores as doubles. */
static sb_val agg_stats(const agg_item *items, size_t n)
{
    double mean = 0, m2 = 0, lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        double x = items[i].score;
        double delta = x - mean;
        mean += delta / (double)(i + 1);
        m2 += delta * (x - mean);
        if (i == 0 || x < lo)
            lo = x;
        if (i == 0 || x > hi)
            hi = x;
    }
    sb_val m = sb_map_new(5);
    bool ok = m.kind == SB_MAP;
    ok = agg_put(&m, ok, "count", sb_int((int64_t)n));
    /* With nothing ranked there is no mean, min or max to report. */
    ok = agg_put(&m, ok, "mean", n ? sb_double(mean) : sb_null());
    ok = agg_put(&m, ok, "std", sb_double(n > 1 ? sqrt(m2 / (double)(n - 1)) : 0));
    ok = agg_put(&m, ok, "min", n ? sb_double(lo) : sb_null());
    ok = agg_put(&m, ok, "max", n ? sb_double(hi) : sb_null());
    if (!ok) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}

/* Highest score per dollar of cost_usd; on equal ratios the better-ranked
 * result wins. Results without a positive, finite cost are left out. */
static sb_val agg_best_per_dollar(sb_val results, const agg_item *items, size_t n)
{
    const sb_val *best = NULL;
    double best_ratio = 0;
    for (size_t i = 0; i < n; i++) {
        const sb_val *r = sb_list_at(results, items[i].pos);
        const sb_val *c = sb_map_get_str(*r, "cost_usd");
        double cost;
        if (!c || !sb_val_as_double(*c, &cost) || !(cost > 0) || !isfinite(cost))
            continue;
        double ratio = items[i].score / cost;
        if (!best || ratio > best_ratio) {
            best = r;
            best_ratio = ratio;
        }
    }
    return best ? sb_val_ref(*best) : sb_null();
}

static sb_val agg_refs(sb_val results, const agg_item *items, size_t n)
{
    sb_val list = sb_list_new(n);
    for (size_t i = 0; i < n && list.kind == SB_LIST; i++) {
        if (!sb_list_push(&list, sb_val_ref(*sb_list_at(results, items[i].pos)))) {
            sb_val_free(list);
            return sb_oom();
        }
    }
    return list;
}

static sb_val agg_build(sb_val results, const agg_item *items, size_t n, size_t missing, bool maximize,
                        size_t top_k)
{
    sb_val m = sb_map_new(6);
    bool ok = m.kind == SB_MAP;
    ok = agg_put(&m, ok, "ranked", ok ? agg_refs(results, items, n) : sb_null());
    ok = agg_put(&m, ok, "top", ok ? agg_refs(results, items, top_k < n ? top_k : n) : sb_null());
    ok = agg_put(&m, ok, "best", n ? sb_val_ref(*sb_list_at(results, items[0].pos)) : sb_null());
    ok = agg_put(&m, ok, "stats", ok ? agg_stats(items, n) : sb_null());
    ok = agg_put(&m, ok, "best_per_dollar", maximize ? agg_best_per_dollar(results, items, n) : sb_null());
    ok = agg_put(&m, ok, "missing", sb_int((int64_t)missing));
    if (!ok) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}

/* A result counts as ranked when it is a map whose metric is an int, uint or
 * double other than NaN (NaN has no place in an order). */
sb_val sb_aggregate_rank(sb_val results, const char *metric_path, bool maximize, size_t top_k)
{
    if (results.kind != SB_LIST)
        return sb_errorf("aggregate: results must be a list, got %s", sb_kind_name(sb_kind_of(results)));
    if (!metric_path || !*metric_path)
        return sb_error("aggregate: empty metric path");
    size_t len = sb_list_len(results), n = 0;
    agg_item *items = sb_malloc(len * sizeof *items);
    if (!items)
        return sb_oom();
    for (size_t i = 0; i < len; i++) {
        const sb_val *v = sb_path_get(*sb_list_at(results, i), metric_path);
        double score;
        if (v && sb_val_as_double(*v, &score) && score == score)
            items[n++] = (agg_item){score, i};
    }
    if (n > 1)
        qsort(items, n, sizeof *items, maximize ? agg_cmp_max : agg_cmp_min);
    sb_val out = agg_build(results, items, n, len - n, maximize, top_k);
    sb_free(items);
    return out;
}
