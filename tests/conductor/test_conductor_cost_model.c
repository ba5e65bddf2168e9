/* The Solver and the simulated Conductor read the workspace's one cost model
 * whatever the parameter space: a duration_scale parameter the space lacks,
 * or a level it does not have, changes nothing, and a level the table does
 * not list scales by 1 (docs/workspace-format.md). Each space is planned by
 * the Solver, then run on the Conductor, and both must use the same factor
 * for every trial. */
#include "csim_test_util.h"
#include "sb_test.h"
#include "solver/sb_solver.h"

#include <math.h>

/* The example workspace's cost model (examples/.../workspace.yaml). */
#define COST_MODEL                                                                                                     \
    "{\"gpu_hour_usd\":12.6,\"base_hours\":2.0,\"retry_reserve_fraction\":0.08,"                                       \
    "\"duration_scale\":{\"batch_size\":{\"32\":1.15,\"64\":1.0,\"128\":0.85}}}"

/* The factor the table gives a trial: 1 without batch_size or for a level it
 * does not list. */
static double factor(sb_val hp)
{
    const sb_val *bs = sb_map_get_str(hp, "batch_size");
    if (!bs || bs->kind != SB_INT)
        return 1.0;
    return bs->as.i == 32 ? 1.15 : bs->as.i == 128 ? 0.85 : 1.0;
}

static void plan_and_run(const char *space, size_t want_trials)
{
    sb_buf args = SB_BUF_INIT;
    sb_buf_printf(&args, "{\"budget_usd\":500,\"parameter_space\":%s,\"cost_model\":%s}", space, COST_MODEL);
    sb_val a = parse(sb_buf_str(&args));
    sb_buf_free(&args);
    sb_val r = sb_solver_call("plan_search_grid", a);
    sb_val_free(a);
    bool planned = r.kind == SB_MAP && !is_error(r);
    CHECK(planned);
    if (!planned) {
        char *j = sb_val_to_json(r, 0);
        fprintf(stderr, "  %s: the Solver refused: %s\n", space, j ? j : "?");
        sb_free(j);
        sb_val_free(r);
        return;
    }
    sb_val trials = *get(*get(r, "structuredContent"), "trials");
    CHECK_INT(sb_list_len(trials), want_trials);

    sb_val jobs = sb_list_new(sb_list_len(trials));
    for (size_t i = 0; i < sb_list_len(trials); i++) {
        sb_val t = *sb_list_at(trials, i), hp = *get(t, "hyperparameters");
        CHECK(fabs(getd(t, "estimated_duration_hours") - 2.0 * factor(hp)) < 1e-12);
        sb_val job = sb_map_new(1);
        sb_map_set_str(&job, "hyperparameters", sb_val_ref(hp));
        sb_list_push(&jobs, job);
    }
    sb_val submit = sb_map_new(1);
    sb_map_set_str(&submit, "jobs", jobs);

    sb_csim_options o;
    sb_csim_options_init(&o);
    sb_val cm = parse(COST_MODEL);
    CHECK(sb_csim_options_from_cost_model(&o, cm));
    o.infra_failure_rate = 0;
    o.seed = 11;
    sb_csim *s = sb_csim_create(&o);
    sb_val_free(cm);
    sb_val sr = sb_csim_call(s, 0, "submit_jobs", submit);
    CHECK(sr.kind == SB_MAP && !is_error(sr));
    sb_val_free(sr);
    sb_val_free(submit);
    int64_t t = 0;
    sb_val st = run_to_end(s, "h_0001", &t);
    size_t completed = 0;
    for (size_t i = 0; i < sb_list_len(*get(st, "jobs")); i++) {
        sb_val j = *sb_list_at(*get(st, "jobs"), i);
        if (strcmp(gstr(j, "status"), "completed") != 0)
            continue;
        completed++;
        /* duration = estimate * u, u in [0.9, 1.1), whole seconds */
        double h = geti(j, "duration_seconds") / 3600.0, want = 2.0 * factor(*get(j, "hyperparameters"));
        CHECK(h >= 0.9 * want - 1e-3 && h < 1.1 * want + 1e-3);
    }
    CHECK(completed > 0);
    sb_val_free(st);
    sb_csim_free(s);
    sb_val_free(r);
}

/* The sweep space without batch_size: the table's parameter is ignored. */
static void test_space_without_the_scaled_parameter(void)
{
    plan_and_run("{\"learning_rate\":[0.0001,0.001],\"dropout\":[0.1,0.3]}", 4);
}

/* Levels 16 and 256 are not in the table (factor 1); 64 and 128 are in the
 * table but not in the space. */
static void test_levels_the_table_does_not_list(void)
{
    plan_and_run("{\"learning_rate\":[0.0001,0.001],\"batch_size\":[16,32,256]}", 6);
}

SB_TEST_MAIN(TEST(test_space_without_the_scaled_parameter) TEST(test_levels_the_table_does_not_list))
