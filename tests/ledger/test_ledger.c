#include <math.h>
#include <stdint.h>

#include "ledger/sb_ledger.h"
#include "sb_test.h"
#include "sb_failalloc.h"
#include "util/sb_alloc.h"

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

/* Whole-dollar doubles currently print in exponent form ("5e+02", a
 * sb_buf_double matter, not the ledger's): those fields are checked by value
 * and taken out before the JSON text is compared. */
static void check_and_drop(sb_val *map, const char *key, double want, int line)
{
    const sb_val *v = sb_map_get_str(*map, key);
    if (!v || v->kind != SB_DOUBLE || v->as.d != want) {
        sb_test_failures++;
        fprintf(stderr, "%s:%d: %s is not %g\n", __FILE__, line, key, want);
    }
    sb_test_checks++;
    sb_val k = sb_string_cstr(key);
    sb_map_remove(map, k);
    sb_val_free(k);
}
#define CHECK_AND_DROP(map, key, want) check_and_drop(&(map), key, want, __LINE__)

static void test_headline_sweep_is_exact(void)
{
    sb_ledger *l = sb_ledger_new(500);
    char id[16];
    for (int i = 1; i <= 18; i++) {
        snprintf(id, sizeof id, "job_%03d", i);
        CHECK(sb_ledger_commit(l, "h", id, 25.20, false));
    }
    CHECK(sb_ledger_committed(l) == 453.60);
    CHECK(sb_ledger_remaining(l) == 46.40);
    CHECK(sb_ledger_spent(l) == 0);
    for (int i = 1; i <= 18; i++) {
        snprintf(id, sizeof id, "job_%03d", i);
        CHECK(sb_ledger_settle(l, "h", id, 25.20, SB_LEDGER_COMPLETED));
    }
    CHECK(sb_ledger_spent(l) == 453.60);
    CHECK(sb_ledger_committed(l) == 0);
    CHECK(sb_ledger_remaining(l) == 46.40);
    CHECK(sb_ledger_budget(l) == 500);
    sb_ledger_free(l);
    sb_ledger_free(NULL);
}

static void test_settle_releases_estimate(void)
{
    sb_ledger *l = sb_ledger_new(100);
    CHECK(sb_ledger_commit(l, "h", "a", 30, false));
    CHECK(sb_ledger_commit(l, "h", "b", 30, false));
    CHECK(!sb_ledger_commit(l, "h", "a", 5, false)); /* already known */
    CHECK(sb_ledger_committed(l) == 60);
    CHECK(sb_ledger_settle(l, "h", "a", 12.34, SB_LEDGER_FAILED)); /* partial cost */
    CHECK(sb_ledger_spent(l) == 12.34);
    CHECK(sb_ledger_committed(l) == 30);
    CHECK(sb_ledger_remaining(l) == 57.66);
    /* Settling twice is ignored. */
    CHECK(sb_ledger_settle(l, "h", "a", 99, SB_LEDGER_COMPLETED));
    CHECK(sb_ledger_spent(l) == 12.34);
    CHECK(sb_ledger_committed(l) == 30);
    CHECK(!sb_ledger_commit(l, "h", "a", 1, false)); /* settled ids stay known */
    sb_ledger_free(l);
}

/* Jobs are known by (handle, job): two handles numbering their jobs alike
 * keep two commitments and two costs. */
static void test_same_job_ids_on_two_handles(void)
{
    sb_ledger *l = sb_ledger_new(100);
    CHECK(sb_ledger_commit(l, "h_0001", "job_001", 10, false));
    CHECK(sb_ledger_commit(l, "h_0002", "job_001", 20, false));
    CHECK(!sb_ledger_commit(l, "h_0002", "job_001", 20, false));
    CHECK(sb_ledger_commit(l, NULL, "job_001", 1, false)); /* no handle is a handle of its own */
    CHECK(sb_ledger_committed(l) == 31);
    CHECK(sb_ledger_settle(l, "h_0001", "job_001", 9, SB_LEDGER_COMPLETED));
    CHECK(sb_ledger_settle(l, "h_0002", "job_001", 18, SB_LEDGER_COMPLETED));
    CHECK(sb_ledger_spent(l) == 27);
    CHECK(sb_ledger_committed(l) == 1);
    sb_ledger_free(l);
}

/* No budget: everything fits and no figure is made up for one. */
static void test_no_budget(void)
{
    sb_ledger *l = sb_ledger_new(INFINITY);
    CHECK(!sb_ledger_has_budget(l));
    CHECK(sb_ledger_fits(l, 1e12));
    CHECK(sb_ledger_commit(l, "h", "a", 5, false));
    CHECK(sb_ledger_settle(l, "h", "a", 4, SB_LEDGER_COMPLETED));
    sb_val b = sb_ledger_breakdown(l);
    CHECK(sb_map_get_str(b, "budget_usd") && sb_map_get_str(b, "budget_usd")->kind == SB_NULL);
    CHECK(sb_map_get_str(b, "remaining_usd") && sb_map_get_str(b, "remaining_usd")->kind == SB_NULL);
    CHECK(sb_map_get_str(b, "utilization") && sb_map_get_str(b, "utilization")->kind == SB_NULL);
    sb_val_free(b);
    sb_ledger_free(l);
    l = sb_ledger_new(50);
    CHECK(sb_ledger_has_budget(l));
    sb_ledger_free(l);
}

static void test_fits_at_boundary(void)
{
    sb_ledger *l = sb_ledger_new(100);
    CHECK(sb_ledger_commit(l, "h", "a", 74.80, false));
    CHECK(sb_ledger_remaining(l) == 25.20);
    CHECK(sb_ledger_fits(l, 25.20)); /* estimate == remaining fits */
    CHECK(sb_ledger_fits(l, 25.199999));
    CHECK(!sb_ledger_fits(l, 25.200001));
    CHECK(!sb_ledger_fits(l, 25.21));
    CHECK(sb_ledger_fits(l, 0));
    CHECK(sb_ledger_commit(l, "h", "b", 25.20, true));
    CHECK(sb_ledger_remaining(l) == 0);
    CHECK(sb_ledger_fits(l, 0));
    CHECK(!sb_ledger_fits(l, 0.01));
    /* Overruns (actual above estimate) show as negative remaining. */
    CHECK(sb_ledger_settle(l, "h", "a", 80, SB_LEDGER_COMPLETED));
    CHECK(sb_ledger_remaining(l) == -5.20);
    CHECK(!sb_ledger_fits(l, 0));
    CHECK(!sb_ledger_fits(NULL, 0));
    sb_ledger_free(l);
}

static void test_unknown_job_settle(void)
{
    sb_ledger *l = sb_ledger_new(50);
    CHECK(sb_ledger_settle(l, "h", "stranger", 7.5, SB_LEDGER_COMPLETED));
    CHECK(sb_ledger_spent(l) == 7.5);
    CHECK(sb_ledger_committed(l) == 0);
    CHECK(sb_ledger_remaining(l) == 42.5);
    CHECK(!sb_ledger_commit(l, "h", "stranger", 1, false));
    CHECK(sb_ledger_settle(l, "h", "other", 1, SB_LEDGER_CANCELLED));
    sb_val b = sb_ledger_breakdown(l);
    CHECK_AND_DROP(b, "budget_usd", 50);
    CHECK_JSON(b, "{\"successful_usd\":7.5,\"failed_partial_usd\":1.0,\"retries_usd\":0.0,"
                  "\"total_usd\":8.5,\"committed_usd\":0.0,\"remaining_usd\":41.5,\"utilization\":0.17,"
                  "\"jobs\":{\"completed\":1,\"failed\":0,\"cancelled\":1,\"stopped_at_cap\":0,\"unstarted\":0,"
                  "\"retries\":0,\"running_or_queued\":0},"
                  "\"stopped_at_cap\":{\"jobs\":0,\"cost_usd\":0.0},\"unstarted\":{\"jobs\":0,\"estimated_cost_usd\":0.0},"
                  "\"skipped_retries\":[]}");
    sb_val_free(b);
    sb_ledger_free(l);
}

static void test_breakdown(void)
{
    sb_ledger *l = sb_ledger_new(500);
    char id[32];
    for (int i = 1; i <= 18; i++) {
        snprintf(id, sizeof id, "job_%03d", i);
        CHECK(sb_ledger_commit(l, "h", id, 25.20, false));
    }
    for (int i = 1; i <= 15; i++) {
        snprintf(id, sizeof id, "job_%03d", i);
        CHECK(sb_ledger_settle(l, "h", id, i == 8 ? 6.3 : 25.20, i == 8 ? SB_LEDGER_FAILED : SB_LEDGER_COMPLETED));
    }
    CHECK(sb_ledger_commit(l, "h", "job_008_retry_1", 25.20, true));
    CHECK(sb_ledger_settle(l, "h", "job_008_retry_1", 25.20, SB_LEDGER_COMPLETED));
    CHECK(sb_ledger_commit(l, "h", "job_012_retry_1", 25.20, true));
    CHECK(sb_ledger_settle(l, "h", "job_012_retry_1", 3.15, SB_LEDGER_FAILED));
    CHECK(sb_ledger_fits(l, 36.95) && !sb_ledger_fits(l, 36.96));
    CHECK(sb_ledger_record_skip(l, "h", "job_012_retry_2", 25.20, "estimated cost exceeds remaining budget"));
    CHECK(sb_ledger_record_skip(l, "h", "job_x", 1.005, NULL));
    /* 14 x 25.20 = 352.80 ok; 6.30 failed; retries 28.35; 3 open x 25.20 = 75.60 */
    CHECK(sb_ledger_spent(l) == 387.45);
    CHECK(sb_ledger_committed(l) == 75.60);
    CHECK(sb_ledger_remaining(l) == 36.95);
    sb_val b = sb_ledger_breakdown(l);
    CHECK_AND_DROP(b, "budget_usd", 500);
    CHECK_JSON(b, "{\"successful_usd\":352.8,\"failed_partial_usd\":6.3,\"retries_usd\":28.35,"
                  "\"total_usd\":387.45,\"committed_usd\":75.6,\"remaining_usd\":36.95,\"utilization\":0.7749,"
                  "\"jobs\":{\"completed\":15,\"failed\":2,\"cancelled\":0,\"stopped_at_cap\":0,\"unstarted\":0,"
                  "\"retries\":2,\"running_or_queued\":3},"
                  "\"stopped_at_cap\":{\"jobs\":0,\"cost_usd\":0.0},\"unstarted\":{\"jobs\":0,\"estimated_cost_usd\":0.0},"
                  "\"skipped_retries\":[{\"job_id\":\"job_012_retry_2\",\"estimated_cost_usd\":25.2,"
                  "\"reason\":\"estimated cost exceeds remaining budget\"},"
                  "{\"job_id\":\"job_x\",\"estimated_cost_usd\":1.01,\"reason\":\"\"}]}");
    sb_val_free(b);
    sb_ledger_free(l);
}

static void test_cents_rounding_in_breakdown(void)
{
    /* Each line rounds on its own; total is the sum of the rounded lines. */
    sb_ledger *l = sb_ledger_new(10);
    CHECK(sb_ledger_settle(l, "h", "a", 0.005, SB_LEDGER_COMPLETED));
    CHECK(sb_ledger_settle(l, "h", "b", 0.004, SB_LEDGER_FAILED));
    sb_val b = sb_ledger_breakdown(l);
    CHECK_JSON(*sb_map_get_str(b, "successful_usd"), "0.01");
    CHECK_JSON(*sb_map_get_str(b, "failed_partial_usd"), "0.0");
    CHECK_JSON(*sb_map_get_str(b, "total_usd"), "0.01");
    CHECK_JSON(*sb_map_get_str(b, "remaining_usd"), "9.99");
    sb_val_free(b);
    sb_ledger_free(l);
}

static void test_bad_amounts(void)
{
    sb_ledger *l = sb_ledger_new(-5);
    CHECK(sb_ledger_budget(l) == 0);
    CHECK(sb_ledger_commit(l, "h", "n", NAN, false));
    CHECK(sb_ledger_commit(l, "h", "m", -3, false));
    CHECK(sb_ledger_committed(l) == 0);
    CHECK(sb_ledger_fits(l, -1));
    CHECK(!sb_ledger_commit(l, "h", NULL, 1, false));
    CHECK(!sb_ledger_settle(l, "h", NULL, 1, SB_LEDGER_COMPLETED));
    CHECK(!sb_ledger_record_skip(l, "h", NULL, 1, "x"));
    sb_val b = sb_ledger_breakdown(l);
    CHECK_JSON(*sb_map_get_str(b, "utilization"), "0.0");
    sb_val_free(b);
    sb_ledger_free(l);
}

/* 100,000 jobs: lookups go through the hash index, sums stay exact. */
static void test_many_jobs(void)
{
    sb_ledger *l = sb_ledger_new(1000000);
    char id[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "job_%06d", i);
        CHECK(sb_ledger_commit(l, "h", id, 2.52, i % 10 == 0));
    }
    CHECK(sb_ledger_committed(l) == 252000);
    CHECK(!sb_ledger_commit(l, "h", "job_054321", 1, false));
    for (int i = 0; i < 100000; i += 2) {
        snprintf(id, sizeof id, "job_%06d", i);
        CHECK(sb_ledger_settle(l, "h", id, 2.52, SB_LEDGER_COMPLETED));
    }
    CHECK(sb_ledger_spent(l) == 126000);
    CHECK(sb_ledger_committed(l) == 126000);
    CHECK(sb_ledger_remaining(l) == 748000);
    sb_val b = sb_ledger_breakdown(l);
    CHECK_JSON(*sb_map_get_str(b, "jobs"),
               "{\"completed\":50000,\"failed\":0,\"cancelled\":0,\"stopped_at_cap\":0,\"unstarted\":0,"
               "\"retries\":10000,\"running_or_queued\":50000}");
    CHECK_AND_DROP(b, "retries_usd", 25200);
    sb_val_free(b);
    sb_ledger_free(l);
}


/* Caps: a queued job holds its estimate (its cap without one), a running job
 * its cap; jobs stopped at their cap and left unstarted are counted apart. */
static void test_caps_and_budget_outcomes(void)
{
    sb_ledger *l = sb_ledger_new(100);
    CHECK(sb_ledger_commit_capped(l, "h", "a", 20, 22, false));
    CHECK(sb_ledger_commit_capped(l, "h", "b", 0, 27.72, false)); /* no estimate: the Conductor's quote */
    CHECK(sb_ledger_commit_capped(l, "h", "c", 20, 0, false));    /* no cap known yet */
    CHECK(sb_ledger_committed(l) == 20 + 27.72 + 20);
    sb_ledger_start(l, "h", "a");
    CHECK(sb_ledger_committed(l) == 22 + 27.72 + 20);
    sb_ledger_start(l, "h", "a"); /* once */
    CHECK(sb_ledger_committed(l) == 22 + 27.72 + 20);
    sb_ledger_set_cap(l, "h", "c", 25); /* queued with an estimate: still holds the estimate */
    CHECK(sb_ledger_committed(l) == 22 + 27.72 + 20);
    sb_ledger_start(l, "h", "c");
    CHECK(sb_ledger_committed(l) == 22 + 27.72 + 25);
    CHECK(!sb_ledger_fits(l, 25.29) && sb_ledger_fits(l, 25.28));
    CHECK(sb_ledger_settle(l, "h", "a", 22, SB_LEDGER_STOPPED));
    CHECK(sb_ledger_settle(l, "h", "b", 0, SB_LEDGER_UNSTARTED));
    sb_ledger_start(l, "h", "b"); /* settled: ignored */
    CHECK(sb_ledger_committed(l) == 25);
    CHECK(sb_ledger_spent(l) == 22);
    sb_val b = sb_ledger_breakdown(l);
    CHECK_JSON(*sb_map_get_str(b, "stopped_at_cap"), "{\"jobs\":1,\"cost_usd\":22.0}");
    CHECK_JSON(*sb_map_get_str(b, "unstarted"), "{\"jobs\":1,\"estimated_cost_usd\":27.72}");
    CHECK_JSON(*sb_map_get_str(b, "failed_partial_usd"), "22.0");
    sb_val_free(b);
    sb_ledger_free(l);
}

/* Grants: a handle with unsettled jobs reserves its whole budget; once its
 * jobs are settled, only what it spent. */
static void test_grants(void)
{
    sb_ledger *l = sb_ledger_new(500);
    CHECK(sb_ledger_grant_for(l, NULL) == 500);
    CHECK(sb_ledger_grant(l, "h1", 500));
    CHECK(sb_ledger_commit_capped(l, "h1", "a", 100, 110, false));
    CHECK(sb_ledger_grant_for(l, NULL) == 0);
    CHECK(sb_ledger_grant_for(l, "h1") == 500);
    CHECK(sb_ledger_settle(l, "h1", "a", 104.5, SB_LEDGER_COMPLETED));
    CHECK(sb_ledger_grant_for(l, NULL) == 395.5);
    CHECK(sb_ledger_grant(l, "h2", 395.5));
    CHECK(sb_ledger_grant(l, "h2", 900)); /* only lowers */
    CHECK(sb_ledger_commit(l, "h2", "a", 10, false));
    CHECK(sb_ledger_grant_for(l, "h1") == 104.5);
    CHECK(sb_ledger_grant_for(l, "h2") == 395.5);
    sb_ledger *u = sb_ledger_new(INFINITY);
    CHECK(isinf(sb_ledger_grant_for(u, NULL)));
    sb_ledger_free(u);
    sb_ledger_free(l);
}

/* One scenario under an allocator that fails the Nth allocation. Each call
 * either succeeds or fails leaving the sums as they were; returns true when
 * everything succeeded. */
static bool oom_scenario(void)
{
    sb_ledger *l = sb_ledger_new(100);
    if (!l)
        return false;
    bool all = true;
    char id[16];
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "j%d", i);
        double before = sb_ledger_committed(l);
        if (!sb_ledger_commit(l, "h", id, 1.25, i % 4 == 0)) {
            CHECK(sb_ledger_committed(l) == before);
            all = false;
        }
    }
    for (int i = 0; i < 50; i += 2) {
        snprintf(id, sizeof id, "j%d", i);
        double before = sb_ledger_spent(l);
        if (!sb_ledger_settle(l, "h", id, 1, SB_LEDGER_COMPLETED)) {
            CHECK(sb_ledger_spent(l) == before);
            all = false;
        }
    }
    for (int i = 0; i < 3; i++)
        if (!sb_ledger_record_skip(l, "h", "late", 99, "does not fit"))
            all = false;
    for (int i = 0; i < 4; i++) {
        char h[8];
        snprintf(h, sizeof h, "h%d", i);
        if (!sb_ledger_grant(l, h, 10))
            all = false;
    }
    sb_val b = sb_ledger_breakdown(l);
    if (b.kind != SB_MAP) {
        CHECK(sb_is_oom(b));
        all = false;
    }
    char *j = sb_val_to_json(b, SB_JSON_PRETTY);
    if (!j)
        all = false;
    sb_free(j);
    sb_val_free(b);
    sb_ledger_free(l);
    return all;
}

static void test_oom_is_clean(void)
{
    bool completed = false;
    long n = 0;
    for (; !completed && n < 5000; n++) {
        sb_failalloc_left = n;
        sb_alloc_set(sb_failalloc_fn, NULL);
        completed = oom_scenario();
        sb_alloc_set(NULL, NULL);
    }
    CHECK(completed);
    CHECK(n > 10);
}

SB_TEST_MAIN(TEST(test_same_job_ids_on_two_handles) TEST(test_no_budget) TEST(test_headline_sweep_is_exact) TEST(test_settle_releases_estimate) TEST(test_fits_at_boundary)
                 TEST(test_unknown_job_settle) TEST(test_breakdown) TEST(test_cents_rounding_in_breakdown)
                 TEST(test_bad_amounts) TEST(test_many_jobs) TEST(test_caps_and_budget_outcomes) TEST(test_grants)
                 TEST(test_oom_is_clean))
