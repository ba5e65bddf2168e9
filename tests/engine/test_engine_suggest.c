/* Suggest steps (core/engine/run_suggest.c) against the fake Conductor and
 * the real embedded Solver: the balanced start, then suggestions submitted to
 * the same handle as jobs finish, never a configuration twice, the budget
 * held; a Solver error; and every engine allocation failing in turn (the run
 * ends, leaks nothing, and a run that succeeds writes the reference result). */
#include "engine_test_util.h"
#include "sb_test.h"
#include "solver/sb_solver.h"

#define LIMIT ((int64_t)100 * 3600 * 1000)

#define SPACE "{a: [1, 2, 3, 4], b: [1, 2, 3]}"
#define COST "{gpu_hour_usd: 10, base_hours: 1, retry_reserve_fraction: 0}"
static const char pipelines[] =
    "version: 1\n"
    "pipelines:\n"
    "  search:\n"
    "    budget_usd: 100\n"
    "    inputs:\n"
    "      direction: {type: string, default: max}\n"
    "    steps:\n"
    "      start:\n"
    "        call: solver.suggest_trials\n"
    "        with: {budget_usd: 100, parameter_space: " SPACE ", cost_model: " COST ", metric: val_acc}\n"
    "      submit:\n"
    "        needs: [start]\n"
    "        call: conductor.submit_jobs\n"
    "        with:\n"
    "          jobs: \"{{ steps.start.output.trials.map(t, {'hyperparameters': t.hyperparameters, "
    "'estimated_cost_usd': t.estimated_cost_usd}) }}\"\n"
    "        handle: {id: \"{{ result.handle_id }}\", jobs: \"{{ result.job_ids }}\"}\n"
    "      monitor:\n"
    "        needs: [submit]\n"
    "        poll: \"{{ steps.submit.handle }}\"\n"
    "      more:\n"
    "        on: monitor.job_finished\n"
    "        suggest:\n"
    "          call: solver.suggest_trials\n"
    "          with:\n"
    "            budget_usd: 100\n"
    "            remaining_usd: \"{{ ledger.remaining_usd }}\"\n"
    "            parameter_space: " SPACE "\n"
    "            cost_model: " COST "\n"
    "            metric: val_acc\n"
    "            direction: \"{{ inputs.direction }}\"\n"
    "            trials: \"{{ jobs.trials }}\"\n"
    "            max_in_flight: 2\n"
    "    outputs:\n"
    "      results: \"{{ steps.monitor.output.results }}\"\n"
    "      total: \"{{ ledger.total_usd }}\"\n";

/* Every job completes after 10 s with a val_acc that depends on its id. */
static fc_fate fate(void *ud, const char *job_id, uint64_t nth)
{
    (void)ud;
    (void)job_id;
    fc_fate f = {0};
    f.run_ms = 10000 + (int64_t)(nth % 3) * 1000;
    f.val_acc = 80 + (double)(nth % 5);
    f.cost_usd = 10;
    return f;
}

static bool open_run(fake_host *h, fake_conductor **fc)
{
    fh_init(h);
    *fc = fc_new(2, NULL, fate, NULL);
    size_t n;
    const sb_tool_desc *tools = sb_solver_tools(&n);
    char *ws = fh_read_file("cases/workspace.yaml");
    bool ok = *fc && ws && fh_add_conductor(h, *fc) && fh_add_server(h, "solver", tools, n, sb_solver_mcp_tool, NULL) &&
              fh_load_config(h, ws, pipelines);
    sb_free(ws);
    return ok;
}

static void test_suggestions_join_the_handle(void)
{
    fake_host h;
    fake_conductor *fc;
    CHECK(open_run(&h, &fc));
    CHECK(fh_run(&h, "search", 7, NULL, LIMIT));
    CHECK_INT(sb_run_get_status(h.run), SB_RUN_SUCCEEDED);
    sb_val r = fh_result(&h);
    if (getenv("SHOW"))
        fprintf(stderr, "%s\n", h.file_text ? h.file_text : "(no result)");
    const sb_val *res = et_at(&r, "results");
    /* $100 at $10 a trial, each held at its $11 cap while it runs: the start
     * of 8, then 1 suggested, 9 in all, all different; the Solver stops
     * where a 10th trial's cap no longer fits ($10 left), so the guard never
     * has to refuse one. */
    CHECK(res && sb_list_len(*res) == 9);
    for (size_t i = 0; res && i < sb_list_len(*res); i++)
        for (size_t k = 0; k < i; k++)
            CHECK(!sb_val_equal(*et_at(sb_list_at(*res, i), "hyperparameters"),
                                *et_at(sb_list_at(*res, k), "hyperparameters")));
    double total = 0;
    const sb_val *tv = et_at(&r, "total");
    CHECK(tv && sb_val_as_double(*tv, &total) && total <= 100);
    CHECK_INT(fc_jobs(fc), 9);
    CHECK(fh_count(&h, "Suggested job_009: ") == 1 && fh_count(&h, "Suggested job_010: ") == 0);
    CHECK(fh_count(&h, "skipped by the budget guard") == 0);
    const sb_val *skips = et_at(&r, "cost_breakdown");
    skips = skips ? sb_map_get_str(*skips, "skipped_retries") : NULL;
    CHECK(skips && skips->kind == SB_LIST && sb_list_len(*skips) == 0);
    CHECK(fh_count(&h, "suggested trial to handle") >= 1);
    sb_val_free(r);
    fh_free(&h);
    fc_free(fc);
}

static void test_solver_error_is_a_warning(void)
{
    fake_host h;
    fake_conductor *fc;
    CHECK(open_run(&h, &fc));
    CHECK(fh_run(&h, "search", 7, "{\"direction\":\"sideways\"}", LIMIT));
    CHECK_INT(sb_run_get_status(h.run), SB_RUN_SUCCEEDED);
    CHECK(fh_count(&h, "Step more: solver.suggest_trials: direction: expected \"max\" or \"min\", got \"sideways\"; "
                       "no trials suggested") >= 1);
    CHECK_INT(fc_jobs(fc), 8);
    fh_free(&h);
    fc_free(fc);
}

/* --- every engine allocation failing in turn --- */

static long fail_at = -1, allocs, live;

static void *failing(void *ud, void *ptr, size_t size)
{
    (void)ud;
    if (size == 0) {
        if (ptr)
            live--;
        free(ptr);
        return NULL;
    }
    if (fh_in_engine() && allocs++ == fail_at)
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        live++;
    return p;
}

static void test_every_allocation_failing(void)
{
    sb_alloc_set(failing, NULL);
    long base = live;
    char *want = NULL;
    long total = 0;
    int made = 0, succeeded = 0;
    for (long n = -1; n < 0 || n <= total; n++) {
        fake_host h;
        fake_conductor *fc;
        fail_at = -1;
        bool opened = open_run(&h, &fc);
        CHECK(opened);
        fail_at = n;
        allocs = 0;
        bool started = opened && fh_start(&h, "search", 7, NULL);
        bool done = started && fh_drive(&h, LIMIT);
        sb_run_status st = started ? sb_run_get_status(h.run) : SB_RUN_PENDING;
        fail_at = -1;
        if (n < 0) {
            total = allocs;
            want = strdup(h.file_text ? h.file_text : "");
            CHECK_INT(st, SB_RUN_SUCCEEDED);
        } else if (started) {
            made++;
            CHECK(done && !h.stuck && st != SB_RUN_RUNNING);
            if (st == SB_RUN_SUCCEEDED) {
                succeeded++;
                CHECK(h.file_text && strcmp(h.file_text, want) == 0);
            }
        }
        fh_free(&h);
        fc_free(fc);
        CHECK_INT(live, base);
        live = base;
    }
    sb_alloc_set(NULL, NULL);
    free(want);
    printf("  %ld engine allocations; with one failing: %d runs made, %d succeeded\n", total, made, succeeded);
}

SB_TEST_MAIN(TEST(test_suggestions_join_the_handle) TEST(test_solver_error_is_a_warning)
                 TEST(test_every_allocation_failing))
