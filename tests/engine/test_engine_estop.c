/* Early stopping in poll steps (core/engine/run_estop.c), as data: a
 * scripted Conductor answers each status call with the next answer of a
 * table (jobs' progress, then their ends), and the test checks what the
 * engine decides: which jobs it stops and when (cancel_jobs with reason
 * early_stopping), how it settles them (stopped_early, job_stopped chunks,
 * WARN lines, the breakdown), that they are never ranked, progress chunks
 * only when asked, and that nothing leaks when allocations fail. */
#include "engine_test_util.h"
#include "sb_failalloc.h"
#include "sb_test.h"
#include "json/sb_json.h"

#define LIMIT ((int64_t)10 * 3600 * 1000)

static const char pipelines_fmt[] =
    "version: 1\n"
    "pipelines:\n"
    "  es:\n"
    "    budget_usd: 100\n"
    "    steps:\n"
    "      submit:\n"
    "        call: conductor.submit_jobs\n"
    "        with: {jobs: [{hyperparameters: {a: 1}}]}\n"
    "        handle: {id: \"{{ result.handle_id }}\", jobs: \"{{ result.job_ids }}\"}\n"
    "      monitor:\n"
    "        needs: [submit]\n"
    "        poll: \"{{ steps.submit.handle }}\"\n"
    "        stream_progress: %s\n"
    "        early_stopping: {rule: asha, metric: val_acc, rungs: [3], reduction_factor: 2, grace: 2}\n"
    "      rank:\n"
    "        needs: [monitor]\n"
    "        aggregate: {from: \"{{ steps.monitor.output.results }}\", metric: metrics.val_acc}\n"
    "    outputs:\n"
    "      best: \"{{ steps.rank.output.ranked[0].job_id }}\"\n"
    "      ranked: \"{{ size(steps.rank.output.ranked) }}\"\n"
    "      stopped: \"{{ steps.monitor.output.stopped.map(c, c.job_id) }}\"\n"
    "      counts: \"{{ steps.monitor.output.counts }}\"\n"
    "      breakdown: \"{{ ledger }}\"\n";

#define RUN(id, step, acc)                                                                                             \
    "{\"job_id\":\"" id "\",\"status\":\"running\",\"progress\":{\"step\":" #step                                      \
    ",\"epochs\":10,\"metrics\":{\"val_acc\":" #acc "}}}"
#define DONE(id, acc)                                                                                                  \
    "{\"job_id\":\"" id "\",\"status\":\"completed\",\"metrics\":{\"val_acc\":" #acc                                   \
    "},\"duration_seconds\":100,\"cost_usd\":10}"

/* The status answers in order (the last repeats). At rung 3 (asha, keep
 * floor(n/2), grace 2): j1 58 (alone), j2 62 (keep 1: the best), j3 45 (keep
 * 1: stopped), j4 71 (keep 2: goes on). j3 is stopped; the answer after the
 * cancel reports it cancelled with what it ran. j3's 45 at step 2 was below
 * everyone but came before any rung. */
static const char *const answers[] = {
    "{\"jobs\":[" RUN("j1", 1, 50) "," RUN("j2", 1, 60) "," RUN("j3", 2, 45) "," RUN("j4", 1, 70) "]}",
    "{\"jobs\":[" RUN("j1", 3, 58) "," RUN("j2", 3, 62) "," RUN("j3", 3, 45) "," RUN("j4", 4, 71) "]}",
    "{\"jobs\":[" RUN("j1", 5, 70) "," RUN(
        "j2", 5, 72) ",{\"job_id\":\"j3\",\"status\":\"cancelled\","
                     "\"error_type\":\"early_stopping\",\"duration_seconds\":30,\"cost_usd\":3.5}," RUN("j4", 6,
                                                                                                        75) "]}",
    "{\"jobs\":[" DONE("j1", 80) "," DONE("j2", 81) "," DONE("j4", 84) "]}",
};

typedef struct script {
    size_t status_calls;
    int cancels;
    char cancel_args[256];
} script;

static const sb_tool_desc tools[] = {
    {"submit_jobs", "", "{\"type\":\"object\"}"},
    {"get_jobs_status", "", "{\"type\":\"object\"}"},
    {"cancel_jobs", "", "{\"type\":\"object\"}"},
};

static sb_val scripted(void *ud, int64_t now, const char *tool, sb_val args)
{
    (void)now;
    script *s = ud;
    const char *text = NULL;
    if (strcmp(tool, "submit_jobs") == 0) {
        text = "{\"handle_id\":\"h1\",\"job_ids\":[\"j1\",\"j2\",\"j3\",\"j4\"]}";
    } else if (strcmp(tool, "get_jobs_status") == 0) {
        size_t n = sizeof answers / sizeof *answers;
        text = answers[s->status_calls < n ? s->status_calls : n - 1];
        s->status_calls++;
    } else {
        char *a = sb_val_to_json(args, 0);
        snprintf(s->cancel_args, sizeof s->cancel_args, "%s", a ? a : "");
        sb_free(a);
        s->cancels++;
        text = "{\"cancelled\":[\"j3\"],\"cost_usd_charged\":3.5}";
    }
    sb_val v = sb_json_parse(text, strlen(text));
    if (v.kind != SB_MAP) {
        sb_val_free(v);
        return sb_oom();
    }
    return fh_tool_result(v);
}

static bool open_run(fake_host *h, script *s, bool progress)
{
    memset(s, 0, sizeof *s);
    fh_init(h);
    char pl[sizeof pipelines_fmt + 16];
    snprintf(pl, sizeof pl, pipelines_fmt, progress ? "true" : "false");
    char *ws = fh_read_file("cases/workspace.yaml");
    bool ok = ws && fh_add_server(h, "conductor", tools, 3, scripted, s) && fh_load_config(h, ws, pl);
    sb_free(ws);
    return ok;
}

static const sb_val *out(sb_val r, const char *key)
{
    return sb_map_get_str(r, key); /* the pipeline's outputs are the result's top-level keys */
}

static void test_the_rule_stops_a_laggard(void)
{
    fake_host h;
    script s;
    CHECK(open_run(&h, &s, false) && fh_run(&h, "es", 1, NULL, LIMIT));
    CHECK_INT(s.cancels, 1);
    CHECK_STR(s.cancel_args, "{\"handle_id\":\"h1\",\"job_ids\":[\"j3\"],\"reason\":\"early_stopping\"}");
    CHECK_INT(fh_count(&h, "LOG INFO Stopping job j3 at rung 3 (step 3): val_acc 45 below the bar 62 of 3 at the rung "
                           "(asha)"),
              1);
    CHECK_INT(fh_count(&h, "LOG WARN Job j3 stopped early at rung 3 (early_stopping: val_acc 45, bar 62): charged "
                           "$3.50 for what it ran"),
              1);
    CHECK_INT(fh_count(&h, "STREAM {\"type\":\"job_stopped\",\"job_id\":\"j3\",\"hyperparameters\":null,"
                           "\"reason\":\"early_stopping\",\"step\":3,\"epochs\":10,\"rung\":3,\"bar\":62.0,"
                           "\"metrics\":{\"val_acc\":45},\"duration_seconds\":30,\"cost_usd\":3.5}"),
              1);
    CHECK_INT(fh_count(&h, "Stopping job"), 1); /* j4 at rung 3 was kept, no other rung */
    CHECK_INT(fh_count(&h, "job_progress"), 0); /* not asked */
    sb_val r = fh_result(&h);
    if (getenv("ESTOP_DEBUG")) {
        char *j = sb_val_to_json(r, 0);
        fprintf(stderr, "%s\n%s\n", j ? j : "?", sb_buf_str(&h.transcript));
        sb_free(j);
    }
    const sb_val *best = out(r, "best"), *ranked = out(r, "ranked"), *stopped = out(r, "stopped");
    CHECK(best && sb_str_eq(*best, "j4"));
    CHECK(ranked && ranked->kind == SB_INT && ranked->as.i == 3);
    char *st = stopped ? sb_val_to_json(*stopped, 0) : NULL;
    CHECK_STR(st, "[\"j3\"]");
    sb_free(st);
    const sb_val *counts = out(r, "counts");
    const sb_val *se = counts ? sb_map_get_str(*counts, "stopped_early") : NULL;
    CHECK(se && se->kind == SB_INT && se->as.i == 1);
    const sb_val *b = out(r, "breakdown");
    const sb_val *bj = b ? sb_map_get_str(*b, "jobs") : NULL;
    const sb_val *bse = b ? sb_map_get_str(*b, "stopped_early") : NULL;
    char *bs = bse ? sb_val_to_json(*bse, 0) : NULL;
    CHECK_STR(bs, "{\"jobs\":1,\"cost_usd\":3.5}");
    sb_free(bs);
    const sb_val *bjs = bj ? sb_map_get_str(*bj, "stopped_early") : NULL;
    CHECK(bjs && bjs->kind == SB_INT && bjs->as.i == 1);
    const sb_val *total = b ? sb_map_get_str(*b, "total_usd") : NULL;
    double t = 0;
    CHECK(total && sb_val_as_double(*total, &t) && t == 33.5);
    sb_val_free(r);
    fh_free(&h);
}

static void test_progress_chunks_when_asked(void)
{
    fake_host h;
    script s;
    CHECK(open_run(&h, &s, true) && fh_run(&h, "es", 1, NULL, LIMIT));
    /* One per new step of a running job: 4 + 4 + 3 (j3 cancelled), none for a repeat. */
    CHECK_INT(fh_count(&h, "STREAM {\"type\":\"job_progress\""), 11);
    CHECK_INT(fh_count(&h, "STREAM {\"type\":\"job_progress\",\"job_id\":\"j3\",\"step\":3,\"epochs\":10,"
                           "\"metrics\":{\"val_acc\":45}}"),
              1);
    fh_free(&h);
}

/* Turned off through enabled (an expression): nothing is stopped, the
 * outputs read as without the rule. */
static void test_disabled(void)
{
    fake_host h;
    script s;
    memset(&s, 0, sizeof s);
    fh_init(&h);
    char *ws = fh_read_file("cases/workspace.yaml");
    char pl[sizeof pipelines_fmt + 64];
    snprintf(pl, sizeof pl, pipelines_fmt, "false");
    char *off = et_replace(pl, "grace: 2}", "grace: 2, enabled: \"{{ 1 > 2 }}\"}");
    CHECK(ws && off && fh_add_server(&h, "conductor", tools, 3, scripted, &s) && fh_load_config(&h, ws, off));
    sb_free(ws);
    sb_free(off);
    /* j3 never gets cancelled by the script unless asked; it stays running,
     * so cut the run short: what matters is that no stop was asked. */
    fh_run(&h, "es", 1, NULL, 60000);
    CHECK_INT(s.cancels, 0);
    CHECK_INT(fh_count(&h, "Early stopping on handle"), 0);
    fh_free(&h);
}

static void run_oom(bool check)
{
    fake_host h;
    script s;
    bool ok = open_run(&h, &s, true);
    if (ok)
        fh_run(&h, "es", 1, NULL, LIMIT);
    if (check) {
        CHECK(ok && s.cancels == 1);
        CHECK_INT(fh_count(&h, "STREAM {\"type\":\"job_stopped\""), 1);
    }
    fh_free(&h);
}

/* Each engine allocation failing in turn: the run ends cleanly (ASan: no
 * leak), and with enough memory it does what the first test checks. */
static void test_out_of_memory(void)
{
    long n = 0;
    for (;; n += 7) { /* every 7th allocation: enough to cross every path, quick enough */
        sb_failalloc_arm(n);
        run_oom(false);
        bool enough = sb_failalloc_left >= 0;
        sb_failalloc_disarm();
        if (enough)
            break;
    }
    run_oom(true);
}

SB_TEST_MAIN(TEST(test_the_rule_stops_a_laggard) TEST(test_progress_chunks_when_asked) TEST(test_disabled)
                 TEST(test_out_of_memory))
