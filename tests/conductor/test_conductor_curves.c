/* Learning curves of the simulated Conductor (simulation.epochs): running
 * jobs report progress {step, epochs, metrics} that follows the response
 * surface; the since-cursor answers carry the running jobs whose epoch
 * advanced; cancel_jobs with reason "early_stopping" marks the job and
 * charges what it ran. Without epochs nothing changes. */
#include "csim_test_util.h"
#include "sb_test.h"

#include <math.h>

#define GOOD "{\"learning_rate\":0.001,\"batch_size\":64,\"dropout\":0.3}"
#define SLOW "{\"learning_rate\":0.0001,\"batch_size\":32,\"dropout\":0.7}"
#define HOUR_MS (3600LL * 1000)

static sb_csim *cluster(int epochs)
{
    sb_csim_options o;
    sb_csim_options_init(&o);
    o.seed = 3;
    o.infra_failure_rate = 0;
    o.epochs = epochs;
    sb_csim *s = sb_csim_create(&o);
    sb_val sub =
        call(s, 0, "submit_jobs", "{\"jobs\":[{\"hyperparameters\":" GOOD "},{\"hyperparameters\":" SLOW "}]}");
    CHECK(sub.kind == SB_MAP);
    sb_val_free(sub);
    return s;
}

static const sb_val *progress(sb_val st, const char *id)
{
    return get(*find_job(st, id), "progress");
}

static void test_progress_follows_the_surface(void)
{
    sb_csim *s = cluster(10);
    sb_val st = call(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK(progress(st, "job_001")->kind == SB_NULL); /* no epoch done yet */
    sb_val_free(st);
    st = call(s, HOUR_MS, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    const sb_val *g = progress(st, "job_001"), *w = progress(st, "job_002");
    CHECK(geti(*g, "epochs") == 10 && geti(*w, "epochs") == 10);
    CHECK(geti(*g, "step") >= 4 && geti(*g, "step") <= 5);
    double ga = getd(*get(*g, "metrics"), "val_acc"), wa = getd(*get(*w, "metrics"), "val_acc");
    CHECK(ga > 60 && ga < 86 && wa > 10 && wa < ga); /* saturating toward 86; the slow learner behind */
    CHECK(getd(*get(*g, "metrics"), "train_loss") > 0);
    sb_val_free(st);
    /* Later epochs are closer to the final value; the last one reported is
     * epochs - 1 (the last comes with the result). */
    st = call(s, 2 * HOUR_MS - 60000, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    g = progress(st, "job_001");
    if (g->kind == SB_MAP) {
        CHECK(geti(*g, "step") <= 9);
        CHECK(getd(*get(*g, "metrics"), "val_acc") > ga);
    }
    sb_val_free(st);
    int64_t t = 2 * HOUR_MS;
    st = run_to_end(s, "h_0001", &t);
    CHECK(progress(st, "job_001")->kind == SB_NULL); /* finished: metrics instead */
    CHECK(get(*find_job(st, "job_001"), "metrics")->kind == SB_MAP);
    sb_val_free(st);
    sb_csim_free(s);
}

static void test_since_cursor_reports_advanced_epochs(void)
{
    sb_csim *s = cluster(10);
    sb_val st = call(s, HOUR_MS, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    char args[128];
    snprintf(args, sizeof args, "{\"handle_id\":\"h_0001\",\"since_cursor\":\"%s\"}", gstr(st, "cursor"));
    CHECK(contains(gstr(st, "cursor"), "@3600000"));
    sb_val_free(st);
    st = call(s, HOUR_MS + 1000, "get_jobs_status", args); /* no epoch ends within a second here */
    CHECK(sb_list_len(*get(st, "jobs")) == 0);
    sb_val_free(st);
    st = call(s, HOUR_MS + 800000, "get_jobs_status", args); /* an epoch is ~720 s */
    CHECK(sb_list_len(*get(st, "jobs")) == 2);
    CHECK(progress(st, "job_002")->kind == SB_MAP);
    sb_val_free(st);
    /* A cursor from the future, or not a cursor, is refused. */
    CHECK(contains(call_err(s, HOUR_MS + 800000, "get_jobs_status",
                            "{\"handle_id\":\"h_0001\",\"since_cursor\":\"c_2@99999999999\"}"),
                   "is not a cursor of handle h_0001"));
    CHECK(contains(
        call_err(s, HOUR_MS + 800000, "get_jobs_status", "{\"handle_id\":\"h_0001\",\"since_cursor\":\"c_2@\"}"),
        "is not a cursor"));
    sb_csim_free(s);
}

static void test_cancel_for_early_stopping(void)
{
    sb_csim *s = cluster(10);
    CHECK(contains(call_err(s, HOUR_MS, "cancel_jobs", "{\"handle_id\":\"h_0001\",\"reason\":3}"),
                   "reason must be a string"));
    sb_val c = call(s, HOUR_MS, "cancel_jobs",
                    "{\"handle_id\":\"h_0001\",\"job_ids\":[\"job_002\"],\"reason\":\"early_stopping\"}");
    double charged = getd(c, "cost_usd_charged");
    CHECK(charged > 0 && charged < 25.2 * 0.8); /* about an hour of its 2.3 */
    sb_val_free(c);
    sb_val st = call(s, HOUR_MS, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    const sb_val *j = find_job(st, "job_002");
    CHECK_STR(gstr(*j, "status"), "cancelled");
    CHECK_STR(gstr(*j, "error_type"), "early_stopping");
    CHECK(getd(*j, "cost_usd") == charged);
    CHECK_STR(gstr(*find_job(st, "job_001"), "status"), "running");
    sb_val_free(st);
    sb_csim_free(s);
}

/* Same seed, same curves; without epochs no progress and the old cursors. */
static void test_deterministic_and_off_by_default(void)
{
    sb_csim *a = cluster(10), *b = cluster(10), *off = cluster(0);
    sb_val x = call(a, HOUR_MS + 12345, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    sb_val y = call(b, HOUR_MS + 12345, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    sb_val z = call(off, HOUR_MS + 12345, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    char *jx = sb_val_to_json(x, 0), *jy = sb_val_to_json(y, 0), *jz = sb_val_to_json(z, 0);
    CHECK_STR(jy, jx);
    CHECK(!contains(jz, "progress") && !contains(jz, "@"));
    sb_free(jx);
    sb_free(jy);
    sb_free(jz);
    sb_val_free(x);
    sb_val_free(y);
    sb_val_free(z);
    sb_csim_free(a);
    sb_csim_free(b);
    sb_csim_free(off);
}

static void test_simulation_epochs_setting(void)
{
    sb_csim_options o;
    sb_csim_options_init(&o);
    sb_val sim = parse("{\"epochs\":12}");
    CHECK(sb_csim_options_from_simulation(&o, sim) && o.epochs == 12);
    sb_val_free(sim);
    sim = parse("{\"epochs\":2.5}");
    CHECK(!sb_csim_options_from_simulation(&o, sim) && o.epochs == 12);
    sb_val_free(sim);
}

SB_TEST_MAIN(TEST(test_progress_follows_the_surface) TEST(test_since_cursor_reports_advanced_epochs)
                 TEST(test_cancel_for_early_stopping) TEST(test_deterministic_and_off_by_default)
                     TEST(test_simulation_epochs_setting))
