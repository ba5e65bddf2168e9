#include <stdint.h>

#include "aggregate/sb_aggregate.h"
#include "json/sb_json.h"
#include "sb_test.h"
#include "sb_failalloc.h"
#include "util/sb_alloc.h"

static sb_val parse(const char *text)
{
    sb_val v = sb_json_parse(text, strlen(text));
    if (v.kind == SB_ERROR)
        fprintf(stderr, "bad test JSON: %s\n", sb_str(v));
    return v;
}

static void check_json(sb_val v, const char *want, int line)
{
    char *j = sb_val_to_json(v, 0);
    if (!j || strcmp(j, want) != 0) {
        sb_test_failures++;
        fprintf(stderr, "%s:%d: json\n  got:  %s\n  want: %s\n", __FILE__, line, j ? j : "(null)", want);
    }
    sb_test_checks++;
    sb_free(j);
}
#define CHECK_JSON(v, want) check_json(v, want, __LINE__)

/* The job ids of a list of results, joined by commas. */
static void check_ids(sb_val list, const char *want, int line)
{
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < sb_list_len(list); i++) {
        const sb_val *id = sb_map_get_str(*sb_list_at(list, i), "job_id");
        sb_buf_printf(&b, "%s%s", i ? "," : "", id ? sb_str(*id) : "?");
    }
    if (strcmp(sb_buf_str(&b), want) != 0) {
        sb_test_failures++;
        fprintf(stderr, "%s:%d: ids\n  got:  %s\n  want: %s\n", __FILE__, line, sb_buf_str(&b), want);
    }
    sb_test_checks++;
    sb_buf_free(&b);
}
#define CHECK_IDS(list, want) check_ids(list, want, __LINE__)

static const sb_val *get(sb_val m, const char *path)
{
    const sb_val *v = sb_path_get(m, path);
    static const sb_val null_val = {SB_NULL, 0, 0, 0, {.i = 0}};
    return v ? v : &null_val;
}

static const char RESULTS[] =
    "[{\"job_id\":\"a\",\"metrics\":{\"val_acc\":84.2,\"train_loss\":0.3},\"cost_usd\":25.2},"
    " {\"job_id\":\"b\",\"metrics\":{\"val_acc\":86,\"train_loss\":0.1},\"cost_usd\":50},"
    " {\"job_id\":\"c\",\"metrics\":{\"val_acc\":80,\"train_loss\":0.2},\"cost_usd\":10},"
    " {\"job_id\":\"d\",\"metrics\":{\"train_loss\":0.9},\"cost_usd\":5},"
    " {\"job_id\":\"e\",\"metrics\":{\"val_acc\":84.2,\"train_loss\":0.3},\"cost_usd\":0},"
    " {\"job_id\":\"f\",\"metrics\":{\"val_acc\":\"high\"}},"
    " 7,"
    " {\"job_id\":\"g\",\"metrics\":{\"val_acc\":78,\"train_loss\":0.3}}]";

static void test_rank_maximize(void)
{
    sb_val in = parse(RESULTS);
    sb_val r = sb_aggregate_rank(in, "metrics.val_acc", true, 3);
    CHECK(r.kind == SB_MAP);
    CHECK_IDS(*get(r, "ranked"), "b,a,e,c,g"); /* a and e tie: input order kept */
    CHECK_IDS(*get(r, "top"), "b,a,e");
    CHECK_JSON(*get(r, "best.job_id"), "\"b\"");
    CHECK_INT(get(r, "missing")->as.i, 3); /* d: absent, f: not a number, 7: not a map */
    /* per dollar: a 84.2/25.2=3.34, b 1.72, c 8.0; e has no positive cost, g none */
    CHECK_JSON(*get(r, "best_per_dollar.job_id"), "\"c\"");
    /* Results are shared, not copied. */
    CHECK(get(r, "best")->as.o == sb_list_at(in, 1)->as.o);
    sb_val_free(r);
    sb_val_free(in);
}

static void test_rank_minimize(void)
{
    sb_val in = parse(RESULTS);
    sb_val r = sb_aggregate_rank(in, "metrics.train_loss", false, 2);
    CHECK_IDS(*get(r, "ranked"), "b,c,a,e,g,d"); /* 0.3 three times: a, e, g in input order */
    CHECK_IDS(*get(r, "top"), "b,c");
    CHECK_JSON(*get(r, "best.job_id"), "\"b\"");
    CHECK_JSON(*get(r, "best_per_dollar"), "null");
    CHECK_INT(get(r, "missing")->as.i, 2);
    sb_val_free(r);
    sb_val_free(in);
}

static void test_ties_are_stable(void)
{
    /* Enough equal scores that an unstable sort would visibly reorder them. */
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "[");
    for (int i = 0; i < 200; i++)
        sb_buf_printf(&b, "%s{\"job_id\":\"%d\",\"s\":%d}", i ? "," : "", i, i % 3 == 0 ? 5 : 1);
    sb_buf_puts(&b, "]");
    sb_val in = parse(sb_buf_str(&b));
    sb_buf_free(&b);
    for (int max = 0; max < 2; max++) {
        sb_val r = sb_aggregate_rank(in, "s", max, 1000);
        sb_val ranked = *get(r, "ranked");
        CHECK_INT(sb_list_len(ranked), 200);
        long prev_id = -1;
        double prev_score = max ? 5 : 1;
        size_t bad = 0;
        for (size_t i = 0; i < sb_list_len(ranked); i++) {
            long id = strtol(sb_str(*get(*sb_list_at(ranked, i), "job_id")), NULL, 10);
            double s = (double)get(*sb_list_at(ranked, i), "s")->as.i;
            if (s != prev_score) {
                prev_score = s;
                prev_id = -1;
            }
            if (id <= prev_id)
                bad++;
            prev_id = id;
        }
        CHECK_INT(bad, 0);
        CHECK_INT(sb_list_len(*get(r, "top")), 200); /* top_k larger than the list */
        sb_val_free(r);
    }
    sb_val_free(in);
}

static void test_stats(void)
{
    sb_val in = parse("[{\"m\":1},{\"m\":2.0},{\"m\":3},{\"m\":4},{\"x\":9}]");
    sb_val r = sb_aggregate_rank(in, "m", true, 0);
    CHECK_INT(sb_list_len(*get(r, "top")), 0);
    CHECK_INT(get(r, "stats.count")->as.i, 4);
    /* mean 2.5; squared deviations 2.25+0.25+0.25+2.25 = 5; sample variance 5/3 */
    CHECK(get(r, "stats.mean")->as.d == 2.5);
    CHECK(get(r, "stats.std")->as.d == sqrt(5.0 / 3.0));
    CHECK(get(r, "stats.min")->as.d == 1);
    CHECK(get(r, "stats.max")->as.d == 4);
    CHECK_INT(get(r, "missing")->as.i, 1);
    CHECK_JSON(*get(r, "best_per_dollar"), "null"); /* no costs at all */
    sb_val_free(r);
    sb_val_free(in);

    /* Welford keeps a large offset from swamping a small spread:
     * 1e9+4, 1e9+7, 1e9+13, 1e9+16: mean 1e9+10, sample variance 90/3 = 30. */
    in = parse("[{\"m\":1000000004},{\"m\":1000000007},{\"m\":1000000013},{\"m\":1000000016}]");
    r = sb_aggregate_rank(in, "m", true, 1);
    CHECK(get(r, "stats.mean")->as.d == 1000000010.0);
    CHECK(get(r, "stats.std")->as.d == sqrt(30.0));
    sb_val_free(r);
    sb_val_free(in);

    in = parse("[{\"m\":84.2}]");
    r = sb_aggregate_rank(in, "m", true, 3);
    CHECK_JSON(*get(r, "stats"), "{\"count\":1,\"mean\":84.2,\"std\":0.0,\"min\":84.2,\"max\":84.2}");
    sb_val_free(r);
    sb_val_free(in);
}

static void test_empty_and_all_missing(void)
{
    sb_val in = parse("[{\"m\":null},{\"m\":true},{}]");
    sb_val r = sb_aggregate_rank(in, "m", true, 3);
    CHECK_JSON(r, "{\"ranked\":[],\"top\":[],\"best\":null,"
                  "\"stats\":{\"count\":0,\"mean\":null,\"std\":0.0,\"min\":null,\"max\":null},"
                  "\"best_per_dollar\":null,\"missing\":3}");
    sb_val_free(r);
    sb_val_free(in);
    in = sb_list_new(0);
    r = sb_aggregate_rank(in, "m", false, 3);
    CHECK_JSON(*get(r, "missing"), "0");
    CHECK_JSON(*get(r, "best"), "null");
    sb_val_free(r);
    sb_val_free(in);
}

static void test_non_list_is_error(void)
{
    sb_val in = parse("{\"a\":1}");
    sb_val r = sb_aggregate_rank(in, "a", true, 1);
    CHECK(r.kind == SB_ERROR);
    CHECK_STR(sb_str(r), "aggregate: results must be a list, got map");
    sb_val_free(r);
    sb_val_free(in);
    r = sb_aggregate_rank(sb_null(), "a", true, 1);
    CHECK_STR(sb_str(r), "aggregate: results must be a list, got null");
    sb_val_free(r);
    in = sb_list_new(0);
    r = sb_aggregate_rank(in, "", true, 1);
    CHECK(r.kind == SB_ERROR);
    sb_val_free(r);
    sb_val_free(in);
}

static void test_path_get(void)
{
    sb_val v = parse("{\"a\":{\"b\":{\"c\":42},\"x.y\":1,\"\":{\"z\":2}},\"list\":[1],"
                     "\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10}");
    CHECK_JSON(*get(v, "a.b.c"), "42");
    CHECK_JSON(*get(v, "a.b"), "{\"c\":42}");
    CHECK(sb_path_get(v, "a.b.c.d") == NULL); /* through a number */
    CHECK(sb_path_get(v, "a.q") == NULL);
    CHECK(sb_path_get(v, "list.0") == NULL); /* lists are not indexed */
    CHECK(sb_path_get(v, "a.x.y") == NULL);  /* dots always split */
    CHECK_JSON(*get(v, "a..z"), "2");       /* an empty segment is the key "" */
    CHECK(sb_path_get(v, "") == NULL);
    CHECK(sb_path_get(v, NULL) == NULL);
    CHECK(sb_path_get(sb_int(3), "a") == NULL);
    CHECK_JSON(*get(v, "k10"), "10"); /* a map big enough to be hash-indexed */

    /* A segment longer than the stack copy still resolves. */
    char longkey[300];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    sb_val m = sb_map_new(0);
    sb_val inner = sb_map_new(0);
    sb_map_set_str(&inner, "leaf", sb_int(5));
    sb_map_set_str(&m, longkey, inner);
    char path[320];
    snprintf(path, sizeof path, "%s.leaf", longkey);
    CHECK_JSON(*get(m, path), "5");
    sb_val_free(m);
    sb_val_free(v);
}


static void test_oom_is_clean(void)
{
    sb_val in = parse(RESULTS);
    sb_val want = sb_aggregate_rank(in, "metrics.val_acc", true, 2);
    char *want_json = sb_val_to_json(want, 0);
    bool completed = false;
    long n = 0;
    for (; !completed && n < 1000; n++) {
        sb_failalloc_left = n;
        sb_alloc_set(sb_failalloc_fn, NULL);
        sb_val r = sb_aggregate_rank(in, "metrics.val_acc", true, 2);
        sb_alloc_set(NULL, NULL);
        if (r.kind == SB_MAP) {
            char *j = sb_val_to_json(r, 0);
            CHECK_STR(j, want_json);
            sb_free(j);
            completed = true;
        } else {
            CHECK(sb_is_oom(r));
        }
        sb_val_free(r);
    }
    CHECK(completed);
    CHECK(n > 5); /* the loop did fail allocations along the way (map keys are shared, so fewer now) */
    sb_free(want_json);
    sb_val_free(want);
    /* The input is untouched by every failed attempt. */
    CHECK_INT(sb_list_len(in), 8);
    CHECK(sb_list_at(in, 0)->as.o != NULL);
    sb_val_free(in);

    /* The error path under OOM: the message cannot be built, OOM comes back. */
    sb_failalloc_left = 0;
    sb_alloc_set(sb_failalloc_fn, NULL);
    sb_val e = sb_aggregate_rank(sb_int(1), "m", true, 1);
    sb_alloc_set(NULL, NULL);
    CHECK(e.kind == SB_ERROR);
    sb_val_free(e);
}

SB_TEST_MAIN(TEST(test_rank_maximize) TEST(test_rank_minimize) TEST(test_ties_are_stable) TEST(test_stats)
                 TEST(test_empty_and_all_missing) TEST(test_non_list_is_error) TEST(test_path_get)
                 TEST(test_oom_is_clean))
