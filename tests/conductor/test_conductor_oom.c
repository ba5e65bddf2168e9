/* Fail the Nth allocation, for N = 0, 1, ... until a whole scenario runs
 * without a failure: every call must then either answer properly or return
 * sb_oom() having changed nothing, and nothing may leak (ASan/LSan). */
#include "csim_test_util.h"
#include "sb_test.h"

#include <stdlib.h>

static long fail_after;
static bool failed_once;
static void *failing(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    if (fail_after-- <= 0) {
        failed_once = true;
        return NULL;
    }
    return realloc(p, n);
}

static const struct {
    int64_t t;
    const char *tool, *args;
} steps[] = {
    {0, "submit_jobs",
     "{\"idempotency_key\":\"a\",\"jobs\":["
     "{\"hyperparameters\":{\"learning_rate\":-1}},"
     "{\"hyperparameters\":{\"learning_rate\":0.01,\"batch_size\":128,\"dropout\":0.3}},"
     "{\"hyperparameters\":{\"learning_rate\":0.001,\"batch_size\":64,\"dropout\":0.3}},"
     "{\"hyperparameters\":{\"learning_rate\":0.001,\"batch_size\":32,\"dropout\":0.3}}]}"},
    {0, "get_jobs_status", "{\"handle_id\":\"h_0001\"}"},
    {3600000, "submit_jobs", "{\"jobs\":[{\"hyperparameters\":{\"learning_rate\":0.001}}],\"idempotency_key\":\"a\"}"},
    {3600000, "submit_jobs",
     "{\"idempotency_key\":\"a\",\"jobs\":["
     "{\"hyperparameters\":{\"learning_rate\":-1}},"
     "{\"hyperparameters\":{\"learning_rate\":0.01,\"batch_size\":128,\"dropout\":0.3}},"
     "{\"hyperparameters\":{\"learning_rate\":0.001,\"batch_size\":64,\"dropout\":0.3}},"
     "{\"hyperparameters\":{\"learning_rate\":0.001,\"batch_size\":32,\"dropout\":0.3}}]}"},
    {3600000, "submit_jobs",
     "{\"handle_id\":\"h_0001\",\"jobs\":[{\"job_id\":\"job_002_retry_1\",\"retry_of\":\"job_002\","
     "\"hyperparameters\":{\"learning_rate\":0.005,\"batch_size\":128,\"dropout\":0.3}},"
     "{\"hyperparameters\":{\"dropout\":0.5}}]}"},
    {3600000, "cancel_jobs", "{\"handle_id\":\"h_0001\",\"job_ids\":[\"job_004\"]}"},
    {3 * 3600000, "get_jobs_status", "{\"handle_id\":\"h_0001\",\"since_cursor\":\"c_2\"}"},
    {10 * 3600000, "submit_jobs", "{\"jobs\":[{\"hyperparameters\":{}},{\"job_id\":\"z\",\"hyperparameters\":{}}]}"},
    {10 * 3600000, "cancel_jobs", "{\"handle_id\":\"h_0002\"}"},
    {10 * 3600000, "no_such_tool", "{}"},
    /* The budget guard: a job stopped at its cap, one left unstarted. */
    {10 * 3600000, "submit_jobs",
     "{\"budget_usd\":8,\"cap_margin_fraction\":0,\"jobs\":[{\"hyperparameters\":{},\"estimated_cost_usd\":5},"
     "{\"hyperparameters\":{},\"cost_cap_usd\":6}]}"},
    {14 * 3600000, "get_jobs_status", "{\"handle_id\":\"h_0003\"}"},
    {10 * 3600000, "submit_jobs", "{\"jobs\":[{\"job_id\":7,\"hyperparameters\":{}}]}"},
    {20 * 3600000, "get_jobs_status", "{\"handle_id\":\"h_0001\"}"},
};
#define NSTEPS (sizeof steps / sizeof *steps)

/* One run with the Nth allocation failing; true when nothing failed. */
static bool run(long n)
{
    sb_val args[NSTEPS];
    for (size_t i = 0; i < NSTEPS; i++)
        args[i] = parse(steps[i].args);
    long accepted = 0;
    failed_once = false;
    fail_after = n;
    sb_alloc_set(failing, NULL);
    sb_csim *s = sb_csim_create(NULL);
    for (size_t i = 0; s && i < NSTEPS; i++) {
        sb_val r = sb_csim_call(s, steps[i].t, steps[i].tool, args[i]);
        if (!sb_is_oom(r)) {
            CHECK(r.kind == SB_MAP);
            CHECK(get(r, "isError")->kind == SB_BOOL);
            CHECK(sb_list_len(*get(r, "content")) == 1);
            sb_val sc = *get(r, "structuredContent");
            if (!is_error(r) && !strcmp(steps[i].tool, "submit_jobs") && get(sc, "replayed")->kind == SB_NULL)
                accepted += (long)geti(sc, "accepted");
        }
        sb_val_free(r);
    }
    sb_alloc_set(NULL, NULL);
    /* Whatever failed, the cluster holds exactly the jobs it said it took,
     * and runs them to the end. */
    long total = 0;
    for (int h = 1; s && h <= 9; h++) {
        char a[64];
        snprintf(a, sizeof a, "{\"handle_id\":\"h_%04d\"}", h);
        sb_val r = call_raw(s, 40 * 3600000, "get_jobs_status", a);
        if (is_error(r)) {
            sb_val_free(r);
            break;
        }
        sb_val sc = *get(r, "structuredContent");
        total += (long)count(sc, "total");
        CHECK(get(sc, "done")->as.b);
        CHECK_INT(sb_list_len(*get(sc, "jobs")), count(sc, "total"));
        sb_val_free(r);
    }
    CHECK_INT(total, accepted);
    sb_csim_free(s);
    for (size_t i = 0; i < NSTEPS; i++)
        sb_val_free(args[i]);
    return !failed_once;
}

static void test_failing_allocations(void)
{
    long n = 0;
    while (!run(n) && n < 100000)
        n++;
    CHECK(n > 100); /* the scenario does allocate; the loop did run */
    CHECK(n < 100000);
    printf("# clean after failing each of the first %ld allocations\n", n);
}

SB_TEST_MAIN(TEST(test_failing_allocations))
