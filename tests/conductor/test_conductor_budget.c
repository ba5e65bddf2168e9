/* The simulated Conductor's budget guard (docs/budget.md): every job has a
 * cost cap, a job that reaches its cap is stopped and charged the cap, a job
 * starts only while spent + caps of running jobs + its cap fit the handle's
 * budget, and a job that can never fit ends cancelled as unstarted. What a
 * handle is charged never exceeds its budget, whatever the estimates say. */
#include "csim_test_util.h"
#include "sb_test.h"

#include <math.h>

/* Sum of cost_usd over every job of a full status answer, in cents. */
static int64_t charged_cents(sb_val st)
{
    const sb_val *jobs = get(st, "jobs");
    int64_t c = 0;
    for (size_t i = 0; i < sb_list_len(*jobs); i++) {
        double d = 0;
        sb_val_as_double(*get(*sb_list_at(*jobs, i), "cost_usd"), &d);
        c += (int64_t)llround(d * 100);
    }
    return c;
}

static size_t with_error_type(sb_val st, const char *status, const char *type)
{
    const sb_val *jobs = get(st, "jobs");
    size_t n = 0;
    for (size_t i = 0; i < sb_list_len(*jobs); i++) {
        sb_val j = *sb_list_at(*jobs, i);
        n += sb_str_eq(*get(j, "status"), status) && sb_str_eq(*get(j, "error_type"), type);
    }
    return n;
}

/* The breach: jobs without estimated_cost_usd counted as $0, so a $1
 * budget spent $20. Now each gets the sim's quote as its cap ($25.20 x 1.1),
 * none fits $1, and every one ends unstarted at no cost. */
static void test_no_estimate_cannot_bypass(void)
{
    sb_csim *s = sb_csim_create(NULL);
    sb_val sub = call(s, 0, "submit_jobs",
                      "{\"budget_usd\":1,\"jobs\":[{\"hyperparameters\":{\"learning_rate\":0.001}},"
                      "{\"hyperparameters\":{\"learning_rate\":0.01}}]}");
    CHECK_INT(sb_list_len(*get(sub, "cost_caps_usd")), 2);
    double cap = -1;
    sb_val_as_double(*sb_list_at(*get(sub, "cost_caps_usd"), 0), &cap);
    CHECK(fabs(cap - 27.72) < 1e-9);
    int64_t t = 0;
    sb_val st = run_to_end(s, "h_0001", &t);
    CHECK_INT(count(st, "cancelled"), 2);
    CHECK_INT(count(st, "completed"), 0);
    CHECK_INT(charged_cents(st), 0);
    CHECK_INT(with_error_type(st, "cancelled", "budget"), 2);
    CHECK(st.kind == SB_MAP && get(st, "done")->as.b);
    sb_val_free(st);
    sb_val_free(sub);
    sb_csim_free(s);
}

/* Estimates far below the truth: each job reaches its cap and is stopped
 * there, failed with error_type budget, charged exactly the cap. */
static void test_stopped_at_cap(void)
{
    sb_csim_options o;
    sb_csim_options_init(&o);
    o.cap_margin_fraction = 0;
    sb_csim *s = sb_csim_create(&o);
    sb_val sub = call(s, 0, "submit_jobs",
                      "{\"budget_usd\":100,\"jobs\":[{\"hyperparameters\":{\"learning_rate\":0.001},"
                      "\"estimated_cost_usd\":5},{\"hyperparameters\":{\"learning_rate\":0.001},\"cost_cap_usd\":7.5}]}");
    int64_t t = 0;
    sb_val st = run_to_end(s, "h_0001", &t);
    const sb_val *a = find_job(st, "job_001"), *b = find_job(st, "job_002");
    CHECK_STR(gstr(*a, "status"), "failed");
    CHECK_STR(gstr(*a, "error_type"), "budget");
    CHECK(contains(gstr(*a, "error"), "stopped at its cost cap of $5.00"));
    CHECK(fabs(getd(*a, "cost_usd") - 5.0) < 1e-9);
    CHECK(fabs(getd(*b, "cost_usd") - 7.5) < 1e-9);
    CHECK(fabs(getd(*b, "cost_cap_usd") - 7.5) < 1e-9);
    /* A Slurm-style time limit: the cap divided by the rate, whole seconds. */
    CHECK_INT(geti(*a, "duration_seconds"), 1428); /* $5 / $12.60 per hour */
    CHECK_INT(charged_cents(st), 1250);
    sb_val_free(st);
    sb_val_free(sub);
    sb_csim_free(s);
}

/* The start rule: with a budget for three caps, only three run at once; the
 * rest wait for money to come back, and what cannot fit ends unstarted. */
static void test_start_rule(void)
{
    sb_csim *s = sb_csim_create(NULL);
    /* caps 27.72 each: 3 fit $85 (83.16), a 4th does not until one ends. */
    sb_val sub = call(s, 0, "submit_jobs",
                      "{\"budget_usd\":85,\"jobs\":["
                      "{\"hyperparameters\":{\"learning_rate\":0.001},\"estimated_cost_usd\":25.2},"
                      "{\"hyperparameters\":{\"learning_rate\":0.001},\"estimated_cost_usd\":25.2},"
                      "{\"hyperparameters\":{\"learning_rate\":0.001},\"estimated_cost_usd\":25.2},"
                      "{\"hyperparameters\":{\"learning_rate\":0.001},\"estimated_cost_usd\":25.2},"
                      "{\"hyperparameters\":{\"learning_rate\":0.001},\"estimated_cost_usd\":25.2}]}");
    sb_val st = call(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(count(st, "running"), 3);
    CHECK_INT(count(st, "queued"), 2);
    CHECK(fabs(getd(*get(st, "budget"), "running_caps_usd") - 83.16) < 1e-9);
    sb_val_free(st);
    int64_t t = 0;
    st = run_to_end(s, "h_0001", &t);
    CHECK(charged_cents(st) <= 8500);
    CHECK_INT(count(st, "completed") + count(st, "failed") + count(st, "cancelled"), 5);
    CHECK(count(st, "cancelled") >= 1); /* three jobs spend ~$75: no room for two more caps */
    CHECK_INT(with_error_type(st, "cancelled", "budget"), count(st, "cancelled"));
    sb_val_free(st);
    sb_val_free(sub);
    sb_csim_free(s);
}

/* A later submission may lower the handle's budget, never raise it. */
static void test_budget_only_lowers(void)
{
    sb_csim *s = sb_csim_create(NULL);
    sb_val a = call(s, 0, "submit_jobs", "{\"budget_usd\":50,\"jobs\":[{\"hyperparameters\":{}}]}");
    sb_val b = call(s, 0, "submit_jobs",
                    "{\"handle_id\":\"h_0001\",\"budget_usd\":900,\"jobs\":[{\"hyperparameters\":{}}]}");
    CHECK_INT(geti(b, "budget_usd"), 50);
    sb_val c = call(s, 0, "submit_jobs",
                    "{\"handle_id\":\"h_0001\",\"budget_usd\":30,\"jobs\":[{\"hyperparameters\":{}}]}");
    CHECK_INT(geti(c, "budget_usd"), 30);
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"budget_usd\":-1,\"jobs\":[{\"hyperparameters\":{}}]}"),
                   "budget_usd must be a finite number >= 0"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"jobs\":[{\"hyperparameters\":{},\"cost_cap_usd\":0}]}"),
                   "jobs[0].cost_cap_usd must be a number >= 0.01"));
    sb_val_free(a);
    sb_val_free(b);
    sb_val_free(c);
    sb_csim_free(s);
}

/* Many seeded handles with random budgets, estimates (some missing, some
 * far too low), failure rates and late additions: never over budget, and
 * every job ends in one of the final states. */
static void test_random_handles_never_overspend(void)
{
    uint64_t x = 12345;
    for (int run = 0; run < 300; run++) {
        sb_csim_options o;
        sb_csim_options_init(&o);
        o.seed = (uint64_t)run;
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        o.cap_margin_fraction = (double)((x >> 33) % 40) / 100.0;
        o.infra_failure_rate = (double)((x >> 20) % 30) / 100.0;
        o.max_concurrent = 1 + (int)((x >> 40) % 6);
        sb_csim *s = sb_csim_create(&o);
        int budget = 1 + (int)((x >> 45) % 300);
        sb_buf b = SB_BUF_INIT;
        sb_buf_printf(&b, "{\"budget_usd\":%d,\"jobs\":[", budget);
        int n = 1 + (int)((x >> 50) % 12);
        for (int k = 0; k < n; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            int kind = (int)((x >> 33) % 3);
            sb_buf_printf(&b, "%s{\"hyperparameters\":{\"learning_rate\":%s,\"batch_size\":%d}", k ? "," : "",
                          (x >> 40) % 4 ? "0.001" : "0.01", (x >> 44) % 2 ? 128 : 32);
            if (kind == 1)
                sb_buf_printf(&b, ",\"estimated_cost_usd\":%d", 1 + (int)((x >> 50) % 30));
            sb_buf_puts(&b, "}");
        }
        sb_buf_puts(&b, "]}");
        sb_val sub = call(s, 0, "submit_jobs", sb_buf_str(&b));
        sb_buf_free(&b);
        int64_t t = 3600 * 1000;
        sb_val more = call(s, t, "submit_jobs",
                           "{\"handle_id\":\"h_0001\",\"jobs\":[{\"hyperparameters\":{\"learning_rate\":0.001}}]}");
        sb_val st = run_to_end(s, "h_0001", &t);
        int64_t c = charged_cents(st);
        if (c > budget * 100)
            fprintf(stderr, "  run %d: charged %lld cents of a %d USD budget\n", run, (long long)c, budget);
        CHECK(c <= budget * 100);
        CHECK_INT(count(st, "completed") + count(st, "failed") + count(st, "cancelled"), n + 1);
        sb_val_free(st);
        sb_val_free(sub);
        sb_val_free(more);
        sb_csim_free(s);
    }
}

SB_TEST_MAIN(TEST(test_no_estimate_cannot_bypass) TEST(test_stopped_at_cap) TEST(test_start_rule)
                 TEST(test_budget_only_lowers) TEST(test_random_handles_never_overspend))
