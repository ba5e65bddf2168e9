/* Failing allocations: every allocation of a plan_search_grid call, in turn,
 * fails (N = 0, 1, ... until the call succeeds), in two ways: only the Nth
 * (the error result can then be built: "out of memory" with isError) and the
 * Nth and every later one (then sb_oom() itself). Each time the call must end
 * cleanly: nothing leaked (LeakSanitizer checks at exit), no wrong plan or
 * message. */
#include "solver_test_util.h"

static long fail_after, allocations;
static bool fail_one; /* only the Nth allocation fails */

static void *failing(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    allocations++;
    long left = fail_after--;
    if (fail_one ? left == 0 : left <= 0)
        return NULL;
    return realloc(p, n);
}

static long oom_loop_mode(const char *args_json, bool want_error, bool one, long *oom_values);

/* Both modes. With one failure the "out of memory" result can always be
 * built, so sb_oom() itself comes back only when everything fails. */
static long oom_loop(const char *args_json, bool want_error)
{
    long raw_one = 0, raw_all = 0;
    long n = oom_loop_mode(args_json, want_error, true, &raw_one);
    long m = oom_loop_mode(args_json, want_error, false, &raw_all);
    CHECK_INT(m, n);
    CHECK_INT(raw_one, 0);
    CHECK(raw_all > 0 && raw_all <= n);
    return n;
}

/* Runs the call with the Nth allocation failing until it succeeds; returns
 * how many allocations a successful call made. */
static long oom_loop_mode(const char *args_json, bool want_error, bool one, long *oom_values)
{
    sb_val args = parse_json(args_json);
    sb_val good = sb_solver_call("plan_search_grid", args);
    CHECK(is_error_result(good) == want_error);
    char *want = sb_val_to_json(good, 0);
    sb_val_free(good);
    long n = 0;
    for (;; n++) {
        fail_after = n;
        allocations = 0;
        fail_one = one;
        sb_alloc_set(failing, NULL);
        sb_val r = sb_solver_call("plan_search_grid", args);
        sb_alloc_set(NULL, NULL);
        if (allocations <= n) { /* nothing failed: the full answer */
            char *got = sb_val_to_json(r, 0);
            CHECK_STR(got, want);
            sb_free(got);
            sb_val_free(r);
            break;
        }
        if (sb_is_oom(r)) {
            ++*oom_values;
            sb_val_free(r);
            continue;
        }
        /* Whatever failed, the answer is "out of memory" or, where the failed
         * allocation was only an optimisation (a map's hash index), the full
         * right answer: never a wrong plan or message. */
        char *got = sb_val_to_json(r, 0);
        if (strcmp(got, want) != 0) {
            CHECK(is_error_result(r));
            CHECK_STR(result_text(r), "out of memory");
        }
        sb_free(got);
        sb_val_free(r);
        if (n > 100000) {
            CHECK(!"the loop does not end");
            break;
        }
    }
    sb_free(want);
    sb_val_free(args);
    return n;
}

static void test_oom_headline(void)
{
    long n = oom_loop("{\"budget_usd\":500,\"parameter_space\":{\"learning_rate\":[0.0001,0.001,0.01],"
                      "\"batch_size\":[32,64,128],\"dropout\":[0.1,0.3,0.5]},\"cost_model\":{\"gpu_hour_usd\":12.60,"
                      "\"gpus_per_trial\":1,\"base_hours\":2.0,\"duration_scale\":{\"batch_size\":{\"32\":1.15,"
                      "\"64\":1.0,\"128\":0.85}},\"retry_reserve_fraction\":0.08},\"max_concurrent\":5}",
                      false);
    CHECK(n > 100);
    printf("  headline: %ld allocations\n", n);
}

/* The dense path (an exclude set) and ranges with samples. */
static void test_oom_dense_and_ranges(void)
{
    long n = oom_loop("{\"budget_usd\":26,\"parameter_space\":{\"a\":{\"min\":1,\"max\":3,\"steps\":3},"
                      "\"b\":{\"min\":0.01,\"max\":1,\"scale\":\"log\",\"samples\":3},\"c\":[\"x\",\"y\",\"z\"]},"
                      "\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,\"retry_reserve_fraction\":0}}",
                      false);
    CHECK(n > 50);
}

/* Error results need memory too: a bad argument and an unreachable budget. */
static void test_oom_errors(void)
{
    oom_loop("{\"budget_usd\":5,\"parameter_space\":{\"a\":[1,2]},\"cost_model\":{\"gpu_hour_usd\":1,"
             "\"base_hours\":1,\"duration_scale\":{\"a\":{\"3\":\"x\"}}}}",
             true);
    /* Entries for a level and a parameter the space lacks are skipped. */
    oom_loop("{\"budget_usd\":5,\"parameter_space\":{\"a\":[1,2]},\"cost_model\":{\"gpu_hour_usd\":1,"
             "\"base_hours\":1,\"duration_scale\":{\"b\":{\"1\":2},\"a\":{\"3\":2,\"2\":1.5}}}}",
             false);
    oom_loop("{\"budget_usd\":1,\"parameter_space\":{\"a\":[1,2]},\"cost_model\":{\"gpu_hour_usd\":1,"
             "\"base_hours\":1}}",
             true);
}

SB_TEST_MAIN(TEST(test_oom_headline) TEST(test_oom_dense_and_ranges) TEST(test_oom_errors))
