/* The simulated cluster's `simulation:` settings (docs/workspace-format.md):
 * without them every number is what it always was; the optimum, best value,
 * noise, NaN rule and duration spread move with them; bad values are refused
 * whole. */
#include "csim_test_util.h"
#include "sb_test.h"

#include <math.h>

/* Runs each configuration as one job on a fresh cluster with seed 3 and
 * returns its finished record (a new reference). */
static sb_val run_one(const sb_csim_options *o, const char *hyper_json)
{
    sb_csim *s = sb_csim_create(o);
    char args[512];
    snprintf(args, sizeof args, "{\"jobs\":[{\"hyperparameters\":%s}]}", hyper_json);
    sb_val sub = call(s, 0, "submit_jobs", args);
    sb_val_free(sub);
    int64_t t = sb_csim_next_event_ms(s, 0);
    sb_val st = call(s, t, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    sb_val job = sb_val_ref(*sb_list_at(*get(st, "jobs"), 0));
    sb_val_free(st);
    sb_csim_free(s);
    return job;
}

static double val_acc(sb_val job)
{
    double d = NAN;
    sb_val_as_double(*get(*get(job, "metrics"), "val_acc"), &d);
    return d;
}

static void options(sb_csim_options *o, const char *sim_json)
{
    sb_csim_options_init(o);
    o->seed = 3;
    o->infra_failure_rate = 0;
    if (sim_json) {
        sb_val sim = parse(sim_json);
        CHECK(sb_csim_options_from_simulation(o, sim));
        sb_val_free(sim);
    }
}

/* An empty section and one that spells out the defaults change no byte. */
static void test_defaults_unchanged(void)
{
    sb_csim_options a, b, c;
    options(&a, NULL);
    options(&b, "{}");
    options(&c, "{\"surface\":{\"optimum\":{\"learning_rate\":0.001,\"batch_size\":64,\"dropout\":0.3},"
                "\"best_value\":86,\"noise\":0.3},\"duration_jitter\":0.1,"
                "\"nan_loss\":{\"learning_rate\":0.1,\"large_batch_learning_rate\":0.01,\"large_batch_size\":128}}");
    const char *hp[] = {"{\"learning_rate\":0.001,\"batch_size\":64,\"dropout\":0.3}",
                        "{\"learning_rate\":0.01,\"batch_size\":128,\"dropout\":0.5}",
                        "{\"learning_rate\":0.0001,\"batch_size\":32,\"dropout\":0.7}"};
    for (size_t i = 0; i < 3; i++) {
        sb_val x = run_one(&a, hp[i]), y = run_one(&b, hp[i]), z = run_one(&c, hp[i]);
        char *jx = sb_val_to_json(x, 0), *jy = sb_val_to_json(y, 0), *jz = sb_val_to_json(z, 0);
        CHECK_STR(jy, jx);
        CHECK_STR(jz, jx);
        sb_free(jx);
        sb_free(jy);
        sb_free(jz);
        sb_val_free(x);
        sb_val_free(y);
        sb_val_free(z);
    }
}

/* The optimum moves: the moved one scores best_value (within the noise), the
 * old one less. */
static void test_moved_optimum(void)
{
    sb_csim_options o;
    options(&o, "{\"surface\":{\"optimum\":{\"learning_rate\":0.0001,\"batch_size\":32,\"dropout\":0.7},"
                "\"best_value\":90,\"noise\":0}}");
    sb_val best = run_one(&o, "{\"learning_rate\":0.0001,\"batch_size\":32,\"dropout\":0.7}");
    sb_val old = run_one(&o, "{\"learning_rate\":0.001,\"batch_size\":64,\"dropout\":0.3}");
    CHECK(val_acc(best) == 90); /* noise 0: exactly the best value */
    CHECK(val_acc(old) < 85);
    CHECK_STR(sb_str(*get(best, "status")), "completed");
    sb_val_free(best);
    sb_val_free(old);
}

/* The NaN rule and the duration spread are settings too. */
static void test_nan_rule_and_durations(void)
{
    sb_csim_options o;
    options(&o, "{\"nan_loss\":{\"learning_rate\":0.001},\"duration_jitter\":0}");
    sb_val j = run_one(&o, "{\"learning_rate\":0.001,\"batch_size\":64,\"dropout\":0.3}");
    CHECK_STR(sb_str(*get(j, "status")), "failed");
    sb_val_free(j);
    j = run_one(&o, "{\"learning_rate\":0.0001,\"batch_size\":64,\"dropout\":0.3}");
    CHECK_STR(sb_str(*get(j, "status")), "completed");
    double secs = NAN;
    sb_val_as_double(*get(j, "duration_seconds"), &secs);
    CHECK(secs == 7200); /* no spread: exactly base_hours */
    sb_val_free(j);
    /* lr 0.01 with batch 128 no longer diverges when large batches start at 256 */
    options(&o, "{\"nan_loss\":{\"large_batch_size\":256}}");
    j = run_one(&o, "{\"learning_rate\":0.01,\"batch_size\":128,\"dropout\":0.3}");
    CHECK_STR(sb_str(*get(j, "status")), "completed");
    sb_val_free(j);
}

/* Bad values are refused and change nothing. */
static void test_bad_values(void)
{
    const char *bad[] = {"3",
                         "{\"max_concurrent\":0}",
                         "{\"max_concurrent\":2.5}",
                         "{\"infra_failure_rate\":2}",
                         "{\"duration_jitter\":1}",
                         "{\"surface\":5}",
                         "{\"surface\":{\"noise\":-1}}",
                         "{\"surface\":{\"optimum\":{\"learning_rate\":0}}}",
                         "{\"surface\":{\"optimum\":{\"dropout\":1}}}",
                         "{\"surface\":{\"best_value\":\"high\"}}",
                         "{\"nan_loss\":{\"large_batch_size\":0}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sb_csim_options o, before;
        options(&o, NULL);
        before = o;
        sb_val v = parse(bad[i]);
        CHECK(!sb_csim_options_from_simulation(&o, v));
        CHECK(memcmp(&o, &before, sizeof o) == 0);
        sb_val_free(v);
    }
    /* and good ones are taken */
    sb_csim_options o;
    options(&o, NULL);
    sb_val v = parse("{\"max_concurrent\":7,\"infra_failure_rate\":0.5}");
    CHECK(sb_csim_options_from_simulation(&o, v));
    CHECK(o.max_concurrent == 7 && o.infra_failure_rate == 0.5 && o.surface.set && o.surface.opt_batch == 64);
    sb_val_free(v);
}

SB_TEST_MAIN(TEST(test_defaults_unchanged) TEST(test_moved_optimum) TEST(test_nan_rule_and_durations)
                 TEST(test_bad_values))
