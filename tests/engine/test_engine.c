/* The pipeline engine against scripted servers on a virtual clock: polling
 * and backoff, cursors, retries and the budget guard, when/needs, failures
 * and partial results, stalls and timeouts, cancel, determinism, and every
 * allocation failing in turn. The pipelines are tests/engine/cases/ (YAML);
 * the tests run from tests/engine (ctest sets the working directory), natively
 * under ASan+UBSan and as wasm32-wasi under Node. */
#include "engine_test_util.h"
#include "sb_test.h"

#define HOURS(h) ((int64_t)(h)*3600 * 1000)
#define LIMIT HOURS(100)

#define CHECK_AT(val, path, want)                                                                                      \
    do {                                                                                                               \
        char *g__ = et_json_at(val, path);                                                                             \
        CHECK_STR(g__, want);                                                                                          \
        sb_free(g__);                                                                                                  \
    } while (0)

#define CHECK_ARG(call, path, want)                                                                                    \
    do {                                                                                                               \
        char *g__ = et_json_at_text((call)->args, path);                                                               \
        CHECK_STR(g__, want);                                                                                          \
        sb_free(g__);                                                                                                  \
    } while (0)

#define CHECK_LINE(sc, needle) CHECK_INT(fh_count(&(sc)->h, needle), 1)

typedef struct sc {
    fake_host h;
    fake_conductor *fc;
    sb_val result; /* the result file, parsed */
    int failures_at_open;
} sc;

static bool sc_open_ex(sc *s, const fc_rule *rules, fc_fate_fn fn, const char *from, const char *to)
{
    fh_init(&s->h);
    s->fc = fc_new(0, rules, fn, NULL);
    s->result = sb_null();
    s->failures_at_open = sb_test_failures;
    bool ok = s->fc && fh_add_conductor(&s->h, s->fc) && et_load(&s->h, from, to);
    CHECK(ok);
    return ok;
}

static bool sc_open(sc *s, const fc_rule *rules)
{
    return sc_open_ex(s, rules, NULL, NULL, NULL);
}

static bool sc_run(sc *s, const char *pipeline, const char *inputs)
{
    bool done = fh_run(&s->h, pipeline, 7, inputs, LIMIT);
    s->result = fh_result(&s->h);
    CHECK(done);
    CHECK(!s->h.stuck);
    return done;
}

static sb_run_status sc_status(const sc *s)
{
    return s->h.run ? sb_run_get_status(s->h.run) : SB_RUN_PENDING;
}

/* Shows the transcript when a check of this scenario failed. */
static void sc_close(sc *s)
{
    if (sb_test_failures != s->failures_at_open)
        fprintf(stderr, "--- transcript ---\n%s--- end ---\n", sb_buf_str(&s->h.transcript));
    sb_val_free(s->result);
    fh_free(&s->h);
    fc_free(s->fc);
}

static size_t calls(const sc *s, const char *tool, const fh_call **out, size_t max)
{
    return fh_calls_of(&s->h, tool, out, max);
}

/* --- polling --- */

static const fc_rule one_minute[] = {{"*", {.run_ms = 60000, .val_acc = 80, .cost_usd = 5}}, FC_END};

static void test_poll_delays(void)
{
    sc s;
    if (sc_open(&s, one_minute) && sc_run(&s, "watch", NULL)) {
        /* Delays 2000, 3000, 4500, 6750, then 10000 (capped), from time 0. */
        static const int64_t want[] = {2000, 5000, 9500, 16250, 26250, 36250, 46250, 56250, 66250};
        const fh_call *st[16];
        size_t n = calls(&s, "get_jobs_status", st, 16);
        CHECK_INT(n, 9);
        for (size_t i = 0; i < n && i < 9; i++)
            CHECK_INT(st[i]->at, want[i]);
        CHECK_LINE(&s, "POLL Poll #4 - Jobs status (delay: 6750ms): running 2, queued 0, completed 0, failed 0");
        CHECK_LINE(&s, "POLL Poll #9 - Jobs status (delay: 10000ms): running 0, queued 0, completed 2, failed 0");
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_AT(s.result, "polls", "9");
    }
    sc_close(&s);
}

/* Records the cursor each status answer gives, to check the next call sends it back. */
typedef struct cursor_spy {
    fake_conductor *fc;
    char *cursors[512];
    size_t n;
} cursor_spy;

static sb_val spy_tool(void *ud, int64_t now, const char *tool, sb_val args)
{
    cursor_spy *spy = ud;
    sb_val r = fc_tool(spy->fc, now, tool, args);
    if (strcmp(tool, "get_jobs_status") == 0 && spy->n < 512)
        spy->cursors[spy->n++] = et_json_at(r, "structuredContent.cursor");
    return r;
}

static fc_fate staggered(void *ud, const char *id, uint64_t nth)
{
    (void)ud;
    (void)id;
    return (fc_fate){.run_ms = 10000 * (int64_t)(nth + 1), .val_acc = 50 + (double)nth, .cost_usd = 1};
}

static void test_one_status_call_per_poll(void)
{
    size_t n_small = 0;
    for (int jobs = 2; jobs <= 40; jobs += 38) {
        fake_host h;
        fh_init(&h);
        cursor_spy spy = {fc_new(0, one_minute, NULL, NULL), {0}, 0};
        size_t nt;
        const sb_tool_desc *t = fc_tools(&nt);
        char *in = et_jobs_input(jobs, 1, NULL);
        bool ok = spy.fc && fh_add_server(&h, "conductor", t, nt, spy_tool, &spy) && et_load(&h, NULL, NULL) &&
                  fh_run(&h, "watch", 7, in, LIMIT);
        CHECK(ok);
        const fh_call *st[64];
        size_t n = fh_calls_of(&h, "get_jobs_status", st, 64);
        /* One status call per poll, whatever the number of jobs. */
        CHECK_INT(n, fh_count(&h, "POLL Poll #"));
        if (jobs == 2)
            n_small = n;
        else
            CHECK_INT(n, n_small);
        CHECK_INT(fc_count(spy.fc, "completed"), jobs);
        for (size_t i = 0; i < n && i < 64; i++) {
            CHECK_ARG(st[i], "handle_id", "\"h_0001\"");
            CHECK(strstr(st[i]->args, "job_") == NULL); /* no per-job polling */
            char *since = et_json_at_text(st[i]->args, "since_cursor");
            if (i == 0)
                CHECK(since == NULL);
            else
                CHECK_STR(since, spy.cursors[i - 1] ? spy.cursors[i - 1] : "?");
            sb_free(since);
        }
        CHECK_INT(sb_run_get_status(h.run), SB_RUN_SUCCEEDED);
        for (size_t i = 0; i < spy.n; i++)
            sb_free(spy.cursors[i]);
        sb_free(in);
        fh_free(&h);
        fc_free(spy.fc);
    }
    /* Jobs finishing at different times: the changes come through the cursor. */
    sc s;
    char *in = et_jobs_input(20, 1, NULL);
    if (sc_open_ex(&s, NULL, staggered, NULL, NULL) && sc_run(&s, "watch", in)) {
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_INT(fh_count(&s.h, "STREAM {\"type\":\"job_completed\""), 20);
        CHECK_AT(s.result, "results.19", "\"job_020\"");
    }
    sb_free(in);
    sc_close(&s);
}

/* A server whose streams end before the answer (SSE with an event id and
 * retry): the client resumes with GET + Last-Event-ID after `retry`, a
 * request the run holds on a timer; polling goes on from the late answers. */
static void test_resumed_streams(void)
{
    sc s;
    if (sc_open(&s, one_minute)) {
        s.h.servers[0].sse_retry_ms = 3000;
        if (sc_run(&s, "watch", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
            const fh_call *st[16];
            size_t n = calls(&s, "get_jobs_status", st, 16);
            /* Every answer comes 3000 ms late: submit_jobs at 3000, the first
             * poll 2000 later, its answer at 8000, the next poll 3000 later... */
            CHECK(n >= 3);
            if (n >= 3) {
                CHECK_INT(st[0]->at, 5000);
                CHECK_INT(st[1]->at, 11000);
                CHECK_INT(st[2]->at, 18500);
            }
            CHECK_INT(fh_count(&s.h, "SEND conductor GET Last-Event-ID: ev"), n + 1); /* and submit_jobs */
            CHECK_LINE(&s, "     8000 SEND conductor GET Last-Event-ID: ev2");
            CHECK_AT(s.result, "results", "[\"job_001\",\"job_002\"]");
        }
    }
    sc_close(&s);
}

/* --- retries --- */

static const fc_rule nan_once[] = {
    {"job_001", {.run_ms = 600000, .val_acc = 80, .cost_usd = 10}},
    {"job_002",
     {.run_ms = 60000, .fail = true, .error = "NaN loss at step 300", .error_type = "transient", .cost_usd = 2}},
    {"job_002_retry_*", {.run_ms = 120000, .val_acc = 90, .cost_usd = 10}},
    {"job_003", {.run_ms = 600000, .val_acc = 85, .cost_usd = 10}},
    FC_END};

static void test_transient_failure_retried(void)
{
    sc s;
    if (sc_open(&s, nan_once) && sc_run(&s, "sweep", NULL)) {
        const fh_call *sub[4], *st[256];
        CHECK_INT(calls(&s, "submit_jobs", sub, 4), 2);
        const fh_call *retry = sub[1];
        /* The retry joins the same handle under its own id, learning rate halved. */
        CHECK_ARG(retry, "handle_id", "\"h_0001\"");
        CHECK_ARG(retry, "jobs.0.job_id", "\"job_002_retry_1\"");
        CHECK_ARG(retry, "jobs.0.retry_of", "\"job_002\"");
        CHECK_ARG(retry, "jobs.0.hyperparameters", "{\"learning_rate\":0.01,\"batch_size\":64}");
        CHECK_ARG(retry, "idempotency_key", "\"run-7:job_002_retry_1\"");
        CHECK_INT(retry->at, 66250); /* the poll that saw the failure (no retry backoff configured) */
        CHECK_LINE(&s, "LOG WARN Job job_002 failed (transient): NaN loss at step 300; partial cost $2.00");
        CHECK_LINE(&s, "LOG INFO Retrying job job_002 as job_002_retry_1 (attempt 1 of 2) in 0ms: learning_rate "
                       "0.02 -> 0.01; estimated $10.00");
        /* Polling went on over the other jobs while the retry ran. */
        size_t n = calls(&s, "get_jobs_status", st, 256), during = 0;
        for (size_t i = 0; i < n && i < 256; i++)
            during += st[i]->at > retry->at && st[i]->at < 600000;
        CHECK(during >= 10);
        CHECK_INT(fc_jobs(s.fc), 4);
        /* The retried job's chunk names the job it retries. */
        CHECK_LINE(&s, "STREAM {\"type\":\"job_completed\",\"job_id\":\"job_002_retry_1\",\"retry_of\":\"job_002\","
                       "\"hyperparameters\":{\"learning_rate\":0.01,\"batch_size\":64},\"metrics\":{\"val_acc\":90,"
                       "\"train_loss\":0},\"duration_seconds\":120,\"cost_usd\":10}");
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_AT(s.result, "best_job", "\"job_002_retry_1\"");
        CHECK_AT(s.result, "failed", "[\"job_002\"]");
        CHECK_AT(s.result, "cost_breakdown.retries_usd", "10");
        CHECK_AT(s.result, "cost_breakdown.jobs.retries", "1");
    }
    sc_close(&s);
}

/* A handle this run did not make (issue 13): another run submitted and was
 * gone; a second run takes the handle as input, learns the jobs from the
 * server's first answer (no cursor), adopts them in the ledger apart from
 * what it spends itself (the retry, which joins the same handle), and ends
 * with every result. An unknown handle fails at once, naming server and id. */
static void test_follow_external_handle(void)
{
    sc s;
    if (!sc_open(&s, nan_once) || !sc_run(&s, "submit_only", NULL)) {
        sc_close(&s);
        return;
    }
    CHECK_LINE(&s, "LOG INFO Handle conductor:conductor_handle:h_0001 (follow it with `sibyl handle watch "
                   "conductor:conductor_handle:h_0001` or a pipeline input of type handle)");
    CHECK_AT(s.result, "steps.submit.handle",
             "{\"$type\":\"ExternalHandle\",\"server\":\"conductor\",\"kind\":\"conductor_handle\",\"id\":\"h_0001\","
             "\"status_tool\":\"get_jobs_status\",\"submit_tool\":\"submit_jobs\"}");
    fake_host h2;
    fh_init(&h2);
    int before = sb_test_failures;
    if (fh_add_conductor(&h2, s.fc) && et_load(&h2, NULL, NULL)) {
        CHECK(fh_run(&h2, "follow", 7, "{\"handle\":\"conductor:conductor_handle:h_0001\"}", LIMIT));
        CHECK_INT(sb_run_get_status(h2.run), SB_RUN_SUCCEEDED);
        sb_val r = fh_result(&h2);
        CHECK_AT(r, "completed", "[\"job_002_retry_1\",\"job_001\",\"job_003\"]"); /* finish order */
        CHECK_AT(r, "failed", "[\"job_002\"]");
        CHECK_AT(r, "total_cost", "32");
        CHECK_AT(r, "cost_breakdown.adopted", "{\"jobs\":3,\"cost_usd\":22}");
        CHECK_AT(r, "cost_breakdown.spent_usd", "10");
        CHECK_INT(fh_count(&h2, "LOG INFO     of it, this run's    $10.00"), 1);
        CHECK_INT(fh_count(&h2, "LOG INFO     of it, adopted       $22.00"), 1);
        sb_val_free(r);
        const fh_call *sub[4], *st[4];
        CHECK_INT(fh_calls_of(&h2, "submit_jobs", sub, 4), 1);
        CHECK_ARG(sub[0], "handle_id", "\"h_0001\"");
        CHECK_ARG(sub[0], "jobs.0.job_id", "\"job_002_retry_1\"");
        CHECK_ARG(sub[0], "jobs.0.retry_of", "\"job_002\"");
        CHECK(fh_calls_of(&h2, "get_jobs_status", st, 4) >= 2);
        CHECK(!strstr(st[0]->args, "since_cursor")); /* the first answer lists every job */
        CHECK_INT(fc_jobs(s.fc), 4);
        CHECK_INT(fh_count(&h2, "LOG INFO Following handle h_0001 on conductor: its jobs come from the server's answers"), 1);
    }
    if (sb_test_failures != before)
        fprintf(stderr, "--- transcript ---\n%s--- end ---\n", sb_buf_str(&h2.transcript));
    fh_free(&h2);

    fake_host h3;
    fh_init(&h3);
    if (fh_add_conductor(&h3, s.fc) && et_load(&h3, NULL, NULL)) {
        CHECK(fh_run(&h3, "follow", 7, "{\"handle\":\"conductor:conductor_handle:h_0404\"}", LIMIT));
        CHECK_INT(sb_run_get_status(h3.run), SB_RUN_FAILED);
        CHECK_STR(sb_run_error(h3.run), "step 'monitor': handle h_0404 on server conductor: server 'conductor': tools/call "
                                        "get_jobs_status: tool error: get_jobs_status: unknown handle_id");
        const fh_call *st[4];
        CHECK_INT(fh_calls_of(&h3, "get_jobs_status", st, 4), 1);
        CHECK_INT(fh_calls_of(&h3, "submit_jobs", st, 4), 0);
    }
    fh_free(&h3);
    /* A handle of a server the workspace does not have: refused before the start. */
    fake_host h4;
    fh_init(&h4);
    if (fh_add_conductor(&h4, s.fc) && et_load(&h4, NULL, NULL))
        CHECK(!fh_start(&h4, "follow", 7, "{\"handle\":\"gpu:conductor_handle:h_0001\"}"));
    fh_free(&h4);

    /* A follower stopped (Ctrl-C) while its retry runs cancels that retry
     * only: the adopted jobs are the other run's sweep and go on. */
    sc s5;
    if (sc_open(&s5, nan_once) && sc_run(&s5, "submit_only", NULL)) {
        fake_host h5;
        fh_init(&h5);
        h5.cancel_at = 100000; /* the retry runs from 66250 to 186250; job_001 and job_003 until 600000 */
        if (fh_add_conductor(&h5, s5.fc) && et_load(&h5, NULL, NULL)) {
            fh_run(&h5, "follow", 7, "{\"handle\":\"conductor:conductor_handle:h_0001\"}", LIMIT);
            CHECK_INT(sb_run_get_status(h5.run), SB_RUN_CANCELLED);
            const fh_call *c[4];
            CHECK_INT(fh_calls_of(&h5, "cancel_jobs", c, 4), 1);
            CHECK_ARG(c[0], "job_ids", "[\"job_002_retry_1\"]");
            CHECK_INT(fh_count(&h5, "LOG WARN Cancelling the unfinished jobs this run submitted to handle h_0001 (the "
                                    "adopted ones are left running)"), 1);
            CHECK_INT(fc_count(s5.fc, "cancelled"), 1);
        }
        fh_free(&h5);
    }
    sc_close(&s5);
    sc_close(&s);
}

/* No error_type from the server: the workspace's patterns decide. */
static const fc_rule unclassified[] = {
    {"job_002", {.run_ms = 60000, .fail = true, .error = "NaN Loss detected at epoch 3", .cost_usd = 2}},
    {"job_003", {.run_ms = 60000, .fail = true, .error = "segmentation fault in data loader", .cost_usd = 1}},
    {"*", {.run_ms = 300000, .val_acc = 80, .cost_usd = 10}},
    FC_END};

static void test_failures_classified_by_patterns(void)
{
    sc s;
    if (sc_open(&s, unclassified) && sc_run(&s, "sweep", NULL)) {
        const fh_call *sub[4];
        CHECK_INT(calls(&s, "submit_jobs", sub, 4), 2);
        CHECK_ARG(sub[1], "jobs.0.job_id", "\"job_002_retry_1\"");
        CHECK_LINE(&s, "LOG WARN Job job_002 failed (transient): NaN Loss detected at epoch 3; partial cost $2.00");
        CHECK_LINE(&s,
                   "LOG WARN Job job_003 failed (permanent): segmentation fault in data loader; partial cost $1.00");
        CHECK_LINE(&s, "LOG WARN Job job_003 is not retried (retry.when is false: the error is not transient)");
        CHECK_LINE(&s, "\"job_id\":\"job_003\",\"hyperparameters\":{\"learning_rate\":0.04,\"batch_size\":128},"
                       "\"error\":\"segmentation fault in data loader\",\"error_type\":\"permanent\"");
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
    }
    sc_close(&s);
}

static const fc_rule permanent[] = {
    {"job_002",
     {.run_ms = 1000, .fail = true, .error = "invalid config: dropout 1.5", .error_type = "permanent", .cost_usd = 0}},
    {"*", {.run_ms = 60000, .val_acc = 80, .cost_usd = 10}},
    FC_END};

static void test_permanent_failure_not_retried(void)
{
    sc s;
    if (sc_open(&s, permanent) && sc_run(&s, "sweep", NULL)) {
        const fh_call *sub[4];
        CHECK_INT(calls(&s, "submit_jobs", sub, 4), 1);
        CHECK_LINE(&s, "LOG WARN Job job_002 is not retried (retry.when is false: the error is not transient)");
        CHECK_INT(fh_count(&s.h, "Retrying"), 0);
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_AT(s.result, "completed", "2");
        CHECK_AT(s.result, "failed", "[\"job_002\"]");
    }
    sc_close(&s);
}

static const fc_rule always_nan[] = {
    {"job_002*", {.run_ms = 30000, .fail = true, .error = "NaN loss", .error_type = "transient", .cost_usd = 1}},
    {"*", {.run_ms = 600000, .val_acc = 80, .cost_usd = 10}},
    FC_END};

static void test_retry_max_attempts(void)
{
    sc s;
    if (sc_open(&s, always_nan) && sc_run(&s, "sweep", NULL)) {
        const fh_call *sub[8];
        CHECK_INT(calls(&s, "submit_jobs", sub, 8), 3); /* the sweep and exactly max_attempts (2) retries */
        CHECK_ARG(sub[1], "jobs.0.job_id", "\"job_002_retry_1\"");
        CHECK_ARG(sub[1], "jobs.0.hyperparameters.learning_rate", "0.01");
        CHECK_ARG(sub[2], "jobs.0.job_id", "\"job_002_retry_2\"");
        CHECK_ARG(sub[1], "jobs.0.retry_of", "\"job_002\"");
        CHECK_ARG(sub[2], "jobs.0.retry_of", "\"job_002_retry_1\""); /* the job it retries */
        CHECK_ARG(sub[2], "jobs.0.hyperparameters.learning_rate", "0.005");
        /* A retry with another learning rate goes without the old estimate:
         * the Conductor prices and caps it (docs/budget.md). */
        char *spec = et_json_at_text(sub[1]->args, "jobs.0");
        CHECK(spec && !strstr(spec, "estimated_cost_usd"));
        sb_free(spec);
        CHECK_LINE(&s, "LOG WARN Job job_002_retry_2 is not retried: its chain reached retry.max_attempts (2)");
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_AT(s.result, "failed", "[\"job_002\",\"job_002_retry_1\",\"job_002_retry_2\"]");
    }
    sc_close(&s);
}

/* The Conductor's budget guard ended job_002: stopped at its cap. */
static const fc_rule capped[] = {
    {"job_002", {.run_ms = 60000, .fail = true, .error = "stopped at its cost cap of $11.00", .error_type = "budget",
                 .cost_usd = 11}},
    {"*", {.run_ms = 600000, .val_acc = 80, .cost_usd = 10}},
    FC_END};

static void test_budget_passed_and_cap_stops(void)
{
    /* Every submission carries the handle's budget and the cap margin (the
     * workspace sets none: 0.10); a job the Conductor stopped at its cap is
     * settled as such, warned about, not retried (error_type budget is not
     * transient), and counted apart in the outputs. */
    sc s;
    char *in = et_jobs_input(2, 10, "\"budget_usd\":40");
    if (sc_open(&s, capped) && sc_run(&s, "sweep", in)) {
        const fh_call *sub[4];
        CHECK_INT(calls(&s, "submit_jobs", sub, 4), 1);
        CHECK_ARG(sub[0], "budget_usd", "40");
        CHECK_ARG(sub[0], "cap_margin_fraction", "0.1");
        CHECK_LINE(&s, "LOG WARN Job job_002 stopped at its cost cap: charged $11.00 (the Conductor's budget guard)");
        CHECK_AT(s.result, "cost_breakdown.stopped_at_cap", "{\"jobs\":1,\"cost_usd\":11}");
        CHECK_AT(s.result, "cost_breakdown.jobs.failed", "0");
        CHECK_AT(s.result, "total_cost", "21");
    }
    sb_free(in);
    sc_close(&s);
}

static const fc_rule nan_costly[] = {
    {"job_002", {.run_ms = 60000, .fail = true, .error = "NaN loss", .error_type = "transient", .cost_usd = 4}},
    {"*", {.run_ms = 600000, .val_acc = 80, .cost_usd = 10}},
    FC_END};

static void test_budget_guard(void)
{
    /* $22: $20 committed by the sweep; after job_002 fails at $4, $8 are
     * left uncommitted, less than the retry's cap ($10 estimated, x 1.1:
     * the guard counts caps, what a job may cost, not estimates). */
    sc s;
    char *in = et_jobs_input(2, 10, "\"budget_usd\":22");
    if (sc_open(&s, nan_costly) && sc_run(&s, "sweep", in)) {
        const fh_call *sub[4];
        CHECK_INT(calls(&s, "submit_jobs", sub, 4), 1);
        CHECK_LINE(&s, "LOG WARN Retry of job job_002 skipped by the budget guard: its cost cap is $11.00 but only $8.00 "
                       "of the budget is uncommitted");
        CHECK_AT(s.result, "cost_breakdown.skipped_retries",
                 "[{\"job_id\":\"job_002_retry_1\",\"estimated_cost_usd\":10,\"reason\":\"over budget\"}]");
        CHECK_AT(s.result, "total_cost", "14");
        CHECK_AT(s.result, "within_budget", "true");
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
    }
    sb_free(in);
    sc_close(&s);

    /* $24 leaves $10, short of the $11 cap; $25 leaves $11: the retry fits,
     * and the total stays within the budget. */
    in = et_jobs_input(2, 10, "\"budget_usd\":24");
    if (sc_open(&s, nan_costly) && sc_run(&s, "sweep", in)) {
        const fh_call *sub[4];
        CHECK_INT(calls(&s, "submit_jobs", sub, 4), 1);
        CHECK_AT(s.result, "total_cost", "14");
    }
    sb_free(in);
    sc_close(&s);
    in = et_jobs_input(2, 10, "\"budget_usd\":25");
    if (sc_open(&s, nan_costly) && sc_run(&s, "sweep", in)) {
        const fh_call *sub[4];
        CHECK_INT(calls(&s, "submit_jobs", sub, 4), 2);
        CHECK_AT(s.result, "cost_breakdown.skipped_retries", "[]");
        CHECK_AT(s.result, "total_cost", "24");
        CHECK_AT(s.result, "within_budget", "true");
    }
    sb_free(in);
    sc_close(&s);

    /* A sweep estimated above the budget is never submitted. */
    in = et_jobs_input(2, 10, "\"budget_usd\":15");
    if (sc_open(&s, nan_costly) && sc_run(&s, "sweep", in)) {
        const fh_call *sub[4];
        CHECK_INT(calls(&s, "submit_jobs", sub, 4), 0);
        CHECK_INT(sc_status(&s), SB_RUN_FAILED);
        CHECK_STR(sb_run_error(s.h.run), "step 'submit': the jobs are estimated at $20.00, more than the $15.00 left "
                                         "in the budget; nothing was submitted");
        CHECK_AT(s.result, "cost_breakdown.total_usd", "0");
    }
    sb_free(in);
    sc_close(&s);
}

/* --- when, failures, outputs --- */

static void test_when_false_skips(void)
{
    sc s;
    if (sc_open(&s, one_minute) && sc_run(&s, "conditional", NULL)) {
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_LINE(&s, "STEP optional skipped: when is false: {{ inputs.enabled }}");
        CHECK_LINE(&s, "STEP after_optional skipped: not run: it needs 'optional', which was skipped");
        CHECK_LINE(&s, "STEP independent succeeded");
        CHECK_AT(s.result, "steps.optional",
                 "{\"status\":\"skipped\",\"reason\":\"when is false: {{ inputs.enabled }}\"}");
        CHECK_AT(s.result, "steps.after_optional.status", "\"skipped\"");
        CHECK_AT(s.result, "steps.independent.status", "\"succeeded\"");
        CHECK_AT(s.result, "plus_one", "4");
        CHECK_AT(s.result, "optional_status", "\"skipped\"");
    }
    sc_close(&s);
    if (sc_open(&s, one_minute) && sc_run(&s, "conditional", "{\"enabled\":true}")) {
        CHECK_AT(s.result, "steps.optional.status", "\"succeeded\"");
        CHECK_AT(s.result, "steps.after_optional.status", "\"succeeded\"");
        CHECK_INT(fh_count(&s.h, "skipped"), 0);
    }
    sc_close(&s);
}

/* The Solver of the `checked` pipeline, per test mode. */
typedef enum { PLAN_OK, PLAN_EMPTY, PLAN_TOOL_ERROR, PLAN_RPC_ERROR } plan_mode;

static sb_val plan_tool(void *ud, int64_t now, const char *tool, sb_val args)
{
    (void)now;
    (void)tool;
    (void)args;
    static const char two[] = "{\"trial_count\":2,\"trials\":["
                              "{\"hyperparameters\":{\"learning_rate\":0.01},\"estimated_cost_usd\":1},"
                              "{\"hyperparameters\":{\"learning_rate\":0.02},\"estimated_cost_usd\":1}]}";
    static const char none[] = "{\"trial_count\":0,\"trials\":[]}";
    switch (*(plan_mode *)ud) {
    case PLAN_OK:
        return fh_tool_result(sb_json_parse(two, sizeof two - 1));
    case PLAN_EMPTY:
        return fh_tool_result(sb_json_parse(none, sizeof none - 1));
    case PLAN_TOOL_ERROR:
        return fh_tool_error("plan_search_grid: budget_usd is too small for one trial");
    default:
        return sb_error("the planner crashed");
    }
}

static void run_checked(sc *s, plan_mode *mode, const char *inputs)
{
    static const sb_tool_desc plan_desc[] = {{"plan_search_grid", "scripted", NULL}};
    if (sc_open(s, one_minute) && fh_add_server(&s->h, "solver", plan_desc, 1, plan_tool, mode))
        sc_run(s, "checked", inputs);
}

static void check_failed_dependents(sc *s, const char *first, const char *const *rest)
{
    char want[200];
    for (const char *prev = first; *rest; prev = *rest++) {
        snprintf(want, sizeof want, "STEP %s failed: not run: it needs '%s', which failed", *rest, prev);
        CHECK_LINE(s, want);
    }
}

static void test_failed_step_fails_dependents(void)
{
    static const char *const after_plan[] = {"check_plan", "submit", "monitor", "verify", "report", NULL};
    sc s;
    plan_mode mode = PLAN_TOOL_ERROR;
    run_checked(&s, &mode, NULL);
    CHECK_INT(sc_status(&s), SB_RUN_FAILED);
    CHECK_STR(sb_run_error(s.h.run),
              "step 'plan': solver.plan_search_grid: plan_search_grid: budget_usd is too small for one trial");
    check_failed_dependents(&s, "plan", after_plan);
    CHECK_INT(s.h.writes, 1); /* the partial result */
    CHECK_STR(s.h.file_name, "result.json");
    CHECK_AT(s.result, "status", "\"failed\"");
    CHECK_AT(s.result, "steps.report.reason", "\"not run: it needs 'verify', which failed\"");
    CHECK_AT(s.result, "cost_breakdown.total_usd", "0");
    sc_close(&s);

    mode = PLAN_RPC_ERROR;
    run_checked(&s, &mode, NULL);
    CHECK_INT(sc_status(&s), SB_RUN_FAILED);
    const char *e = sb_run_error(s.h.run);
    CHECK(e && strstr(e, "step 'plan': server 'solver': tools/call plan_search_grid: JSON-RPC error -32603") == e);
    CHECK(e && strstr(e, "the planner crashed"));
    check_failed_dependents(&s, "plan", after_plan);
    CHECK_INT(s.h.writes, 1);
    sc_close(&s);

    mode = PLAN_EMPTY;
    run_checked(&s, &mode, NULL);
    CHECK_INT(sc_status(&s), SB_RUN_FAILED);
    CHECK_STR(sb_run_error(s.h.run), "step 'check_plan': assertion failed: the plan has no trials ({{ "
                                     "steps.plan.output.trial_count > 0 }})");
    check_failed_dependents(&s, "check_plan", after_plan + 1);
    CHECK_AT(s.result, "steps.plan.status", "\"succeeded\"");
    sc_close(&s);

    /* A failure after money was spent: the partial result carries the ledger. */
    mode = PLAN_OK;
    run_checked(&s, &mode, "{\"min_completed\":3}");
    CHECK_INT(sc_status(&s), SB_RUN_FAILED);
    CHECK_STR(sb_run_error(s.h.run), "step 'verify': assertion failed: too few jobs completed ({{ "
                                     "size(steps.monitor.output.results) >= inputs.min_completed }})");
    CHECK_LINE(&s, "STEP report failed: not run: it needs 'verify', which failed");
    CHECK_INT(s.h.writes, 1);
    CHECK_AT(s.result, "completed", "2");
    CHECK_AT(s.result, "cost_breakdown.total_usd", "10");
    CHECK_AT(s.result, "cost_breakdown.jobs.completed", "2");
    CHECK_AT(s.result, "report", "null"); /* its step never ran */
    sc_close(&s);
}

static const fc_rule three_scores[] = {{"job_001", {.run_ms = 60000, .val_acc = 81.5, .cost_usd = 10}},
                                       {"job_002", {.run_ms = 90000, .val_acc = 84.25, .cost_usd = 12.5}},
                                       {"job_003", {.run_ms = 30000, .val_acc = 79, .cost_usd = 7.75}},
                                       FC_END};

static void test_outputs_evaluated(void)
{
    sc s;
    if (sc_open(&s, three_scores) && sc_run(&s, "sweep", NULL)) {
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_AT(s.result, "status", "\"succeeded\"");
        CHECK_AT(s.result, "best_job", "\"job_002\"");
        CHECK_AT(s.result, "best_score", "84.25");
        CHECK_AT(s.result, "top", "[\"job_002\",\"job_001\"]");
        CHECK_AT(s.result, "completed", "3");
        CHECK_AT(s.result, "failed", "[]");
        CHECK_AT(s.result, "total_cost", "30.25");
        CHECK_AT(s.result, "within_budget", "true");
        CHECK_AT(s.result, "cost_breakdown.successful_usd", "30.25");
        CHECK_AT(s.result, "cost_breakdown.remaining_usd", "969.75");
        CHECK_INT(s.h.writes, 1);
        CHECK(sb_val_equal(s.result, sb_run_result(s.h.run)));
    }
    sc_close(&s);
}

/* --- stalls, timeouts, cancel --- */

/* While a retry waits for its backoff, polls that see nothing running are
 * not "without progress": the wait is sibyl's own, the handle is not stalled. */
static const fc_rule nan_then_quiet[] = {
    {"job_001", {.run_ms = 5000, .val_acc = 80, .cost_usd = 5}},
    {"job_002", {.run_ms = 5000, .fail = true, .error = "NaN loss", .error_type = "transient", .cost_usd = 1}},
    {"job_002_retry_*", {.run_ms = 30000, .val_acc = 83, .cost_usd = 5}},
    FC_END};

static void test_retry_backoff_is_not_a_stall(void)
{
    sc s;
    if (sc_open(&s, nan_then_quiet) && sc_run(&s, "slow_retry", NULL)) {
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        const fh_call *sub[4];
        CHECK_INT(calls(&s, "submit_jobs", sub, 4), 2);
        if (calls(&s, "submit_jobs", sub, 4) == 2)
            CHECK_INT(sub[1]->at, 5000 + 120000); /* seen failed at 5000, then the backoff */
        CHECK_AT(s.result, "results", "[\"job_001\",\"job_002_retry_1\"]");
    }
    sc_close(&s);
}

static const fc_rule one_stuck[] = {
    {"job_001", {.run_ms = 5000, .val_acc = 80, .cost_usd = 5}}, {"job_002", {.start_after_ms = FH_NEVER}}, FC_END};

static void test_stalled_handle(void)
{
    sc s;
    if (sc_open(&s, one_stuck) && sc_run(&s, "watch", NULL)) {
        /* job_001 completes (seen at 5000); then 5 polls without progress. */
        CHECK_INT(sc_status(&s), SB_RUN_FAILED);
        CHECK_STR(sb_run_error(s.h.run),
                  "step 'monitor': handle h_0001 stalled: 5 polls in a row without progress (no job ran or changed "
                  "state; polling.max_attempts); 1 completed and 0 failed results kept");
        const fh_call *st[16], *cancel[2];
        /* 7 polls, then cancel_jobs for the queued job and one more status
         * call that settles it. */
        CHECK_INT(calls(&s, "get_jobs_status", st, 16), 8);
        CHECK_INT(calls(&s, "cancel_jobs", cancel, 2), 1);
        CHECK_INT(cancel[0]->at, 46250);
        CHECK_INT(st[7]->at, 46250);
        CHECK_AT(s.result, "results", "[\"job_001\"]"); /* the results gathered so far are kept */
        CHECK_AT(s.result, "steps.summary.status", "\"failed\"");
        CHECK_INT(fc_count(s.fc, "cancelled"), 1);
        CHECK_AT(s.result, "cost_breakdown.jobs", "{\"completed\":1,\"failed\":0,\"cancelled\":1,\"stopped_at_cap\":0,"
                                                  "\"unstarted\":0,\"retries\":0,\"running_or_queued\":0}");
        CHECK_AT(s.result, "cost_breakdown.committed_usd", "0");
    }
    sc_close(&s);
}

/* Status calls that keep failing stall the handle too. */
typedef struct flaky {
    fake_conductor *fc;
    int status_calls;
} flaky;

static sb_val flaky_tool(void *ud, int64_t now, const char *tool, sb_val args)
{
    flaky *f = ud;
    if (strcmp(tool, "get_jobs_status") == 0 && ++f->status_calls > 1)
        return fh_tool_error("get_jobs_status: the scheduler is down");
    return fc_tool(f->fc, now, tool, args);
}

static void test_failing_status_calls_stall(void)
{
    fake_host h;
    fh_init(&h);
    flaky f = {fc_new(0, one_minute, NULL, NULL), 0};
    size_t nt;
    const sb_tool_desc *t = fc_tools(&nt);
    CHECK(f.fc && fh_add_server(&h, "conductor", t, nt, flaky_tool, &f) && et_load(&h, NULL, NULL) &&
          fh_run(&h, "watch", 7, NULL, LIMIT));
    CHECK_INT(sb_run_get_status(h.run), SB_RUN_FAILED);
    CHECK_INT(fh_count(&h, "LOG WARN Poll #3 of handle h_0001 failed: server 'conductor': tools/call get_jobs_status: "
                           "tool error: get_jobs_status: the scheduler is down"),
              1);
    CHECK_INT(f.status_calls, 7); /* one good answer (jobs running), 5 failures, the settling call */
    const char *e = sb_run_error(h.run);
    CHECK(e && strstr(e, "handle h_0001 stalled: 5 polls in a row without progress"));
    fh_free(&h);
    fc_free(f.fc);
}

static const fc_rule ten_hours[] = {{"*", {.run_ms = HOURS(10), .val_acc = 80, .cost_usd = 126}}, FC_END};

/* Status answers that break the contract: each is a failed poll whose
 * message names the server, the tool and what is wrong. */
static sb_val malformed_tool(void *ud, int64_t now, const char *tool, sb_val args)
{
    flaky *f = ud;
    static const char *const answers[] = {
        "{\"counts\":{\"running\":1}}",
        "{\"jobs\":[{\"job_id\":3,\"status\":\"running\"}]}",
        "{\"jobs\":[{\"job_id\":\"job_001\",\"status\":\"sleeping\"}]}",
        "{\"jobs\":[],\"counts\":{\"running\":\"two\"}}",
        "[1,2]",
        "{\"jobs\":[{\"job_id\":\"job_001\",\"status\":\"completed\",\"cost_usd\":\"free\"}]}",
    };
    if (strcmp(tool, "get_jobs_status") == 0 && f->status_calls < 6) {
        const char *a = answers[f->status_calls++];
        return fh_tool_result(sb_json_parse(a, strlen(a)));
    }
    return fc_tool(f->fc, now, tool, args);
}

static void test_malformed_status_answers(void)
{
    fake_host h;
    fh_init(&h);
    flaky f = {fc_new(0, one_minute, NULL, NULL), 0};
    size_t nt;
    const sb_tool_desc *t = fc_tools(&nt);
    CHECK(f.fc && fh_add_server(&h, "conductor", t, nt, malformed_tool, &f) &&
          et_load(&h, "max_attempts: 5", "max_attempts: 6") && fh_run(&h, "watch", 7, NULL, LIMIT));
    static const char *const want[] = {
        "Poll #1 of handle h_0001 failed: server 'conductor': tools/call get_jobs_status: malformed answer: no jobs "
        "list",
        "Poll #2 of handle h_0001 failed: server 'conductor': tools/call get_jobs_status: malformed answer: "
        "jobs[0].job_id must be a non-empty string (found 3)",
        "Poll #3 of handle h_0001 failed: server 'conductor': tools/call get_jobs_status: malformed answer: "
        "jobs[0].status must be queued, running, completed, failed or cancelled (found \"sleeping\")",
        "Poll #4 of handle h_0001 failed: server 'conductor': tools/call get_jobs_status: malformed answer: "
        "counts.running must be an integer >= 0 (found \"two\")",
        "Poll #5 of handle h_0001 failed: server 'conductor': tools/call get_jobs_status: malformed answer: "
        "expected a JSON object (found [1,2])",
        "Poll #6 of handle h_0001 failed: server 'conductor': tools/call get_jobs_status: malformed answer: "
        "jobs[0].cost_usd must be a number (found \"free\")",
    };
    for (size_t k = 0; k < 6; k++)
        CHECK_INT(fh_count(&h, want[k]), 1);
    /* Six failed polls in a row: max_attempts (6 here) calls that a stall. */
    CHECK_INT(sb_run_get_status(h.run), SB_RUN_FAILED);
    const char *e = sb_run_error(h.run);
    CHECK(e && strstr(e, "stalled: 6 polls in a row without progress"));
    if (sb_test_failures)
        fprintf(stderr, "--- transcript ---\n%s", sb_buf_str(&h.transcript));
    fh_free(&h);
    fc_free(f.fc);
}

static void test_long_sweep_not_stalled(void)
{
    sc s;
    if (sc_open(&s, ten_hours) && sc_run(&s, "watch", NULL)) {
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_AT(s.result, "results", "[\"job_001\",\"job_002\"]");
        /* 4 growing delays to 26250, then every 10 s until 10 h have passed. */
        CHECK_AT(s.result, "polls", "3603");
    }
    sc_close(&s);
}

static const fc_rule half_minute_and_ten[] = {{"job_001", {.run_ms = 30000, .val_acc = 80, .cost_usd = 5}},
                                              {"*", {.run_ms = 600000, .val_acc = 80, .cost_usd = 5}},
                                              FC_END};

static void test_poll_timeout(void)
{
    sc s;
    if (sc_open(&s, half_minute_and_ten) && sc_run(&s, "watch_timeout", NULL)) {
        CHECK_INT(sc_status(&s), SB_RUN_FAILED);
        CHECK_STR(sb_run_error(s.h.run), "step 'monitor': polling handle h_0001 timed out after 60000 ms; 1 "
                                         "completed and 0 failed results kept");
        CHECK_LINE(&s, "    60000 STEP monitor failed: polling handle h_0001 timed out after 60000 ms; 1 completed "
                       "and 0 failed results kept");
        const fh_call *cancel[2];
        CHECK_INT(calls(&s, "cancel_jobs", cancel, 2), 1);
        CHECK_INT(cancel[0]->at, 60000);
        CHECK_AT(s.result, "results", "[\"job_001\"]");
    }
    sc_close(&s);
}

static const fc_rule ten_minutes[] = {{"job_001", {.run_ms = 10000, .val_acc = 80, .cost_usd = 1}},
                                      {"*", {.run_ms = 600000, .val_acc = 80, .cost_usd = 10}},
                                      FC_END};

static void test_cancel_mid_run(void)
{
    sc s;
    if (sc_open(&s, ten_minutes)) {
        s.h.cancel_at = 30000;
        sc_run(&s, "sweep", NULL);
        CHECK_INT(sc_status(&s), SB_RUN_CANCELLED);
        CHECK_STR(sb_run_error(s.h.run), "cancelled by the test");
        const fh_call *cancel[2];
        CHECK_INT(calls(&s, "cancel_jobs", cancel, 2), 1);
        CHECK_INT(cancel[0]->at, 30000);
        CHECK_ARG(cancel[0], "handle_id", "\"h_0001\"");
        CHECK_INT(fc_count(s.fc, "cancelled"), 2);
        /* At once, then again once the cancelled jobs are settled. */
        CHECK_INT(s.h.writes, 2);
        CHECK_AT(s.result, "status", "\"cancelled\"");
        CHECK_AT(s.result, "steps.monitor", "{\"status\":\"failed\",\"reason\":\"cancelled\"}");
        CHECK_AT(s.result, "steps.submit.status", "\"succeeded\"");
        CHECK_AT(s.result, "completed", "1"); /* what finished before the cancel is kept */
        /* Nothing left running or committed: the two cancelled jobs ran 30 s
         * of their 600 s and were charged for it ($10 * 30/600 each). */
        CHECK_AT(s.result, "cost_breakdown.committed_usd", "0");
        CHECK_AT(s.result, "cost_breakdown.jobs.cancelled", "2");
        CHECK_AT(s.result, "cost_breakdown.jobs.running_or_queued", "0");
        CHECK_AT(s.result, "cost_breakdown.failed_partial_usd", "1");
        CHECK_AT(s.result, "total_cost", "2");
        CHECK_INT(fh_count(&s.h, "STREAM {\"type\":\"job_cancelled\""), 2);
        CHECK_LINE(&s, "LOG WARN Cancelling: cancelled by the test");
        /* After the cancel: cancel_jobs, one status call that reports the
         * cancelled jobs, and no poll. */
        const fh_call *st[16];
        size_t n = calls(&s, "get_jobs_status", st, 16);
        CHECK(n > 1 && st[n - 1]->at == 30000 && st[n - 2]->at < 30000);
        CHECK(strstr(sb_buf_str(&s.h.transcript), "LOG ERROR Pipeline sweep cancelled after 0h 00m 30s: cancelled by "
                                                   "the test; partial results in result.json\n") != NULL);
    }
    sc_close(&s);
}

/* A cancel that overtakes a call in flight: the late answer must not bring
 * the run back to life, and jobs it reports as submitted get cancelled too. */
static void test_cancel_with_call_in_flight(void)
{
    sc s;
    if (sc_open(&s, ten_minutes)) {
        s.h.latency_ms = 500; /* initialize 0-500, initialized 500-1000, submit_jobs 1000-1500 */
        s.h.cancel_at = 1200;
        sc_run(&s, "sweep", NULL);
        CHECK_INT(sc_status(&s), SB_RUN_CANCELLED);
        CHECK_LINE(&s, "     1200 WRITE result.json");
        CHECK_INT(s.h.writes, 2); /* at once, then once the call in flight came back */
        CHECK_AT(s.result, "status", "\"cancelled\"");
        CHECK_AT(s.result, "steps.submit", "{\"status\":\"failed\",\"reason\":\"cancelled\"}");
        CHECK_INT(fh_count(&s.h, "STEP submit succeeded"), 0);
        CHECK_LINE(&s, "     1500 LOG WARN Cancelling the jobs of handle h_0001: they were submitted as the run was "
                       "cancelled");
        const fh_call *cancel[2];
        CHECK_INT(calls(&s, "cancel_jobs", cancel, 2), 1);
        CHECK_INT(fc_count(s.fc, "cancelled"), 3);
        CHECK_INT(fc_count(s.fc, "queued") + fc_count(s.fc, "running"), 0);
    }
    sc_close(&s);
}

/* --- determinism --- */

static char *transcript_of(const char *jitter, uint64_t seed, const fc_rule *rules)
{
    fake_host h;
    fh_init(&h);
    h.progress = true;
    fake_conductor *fc = fc_new(2, rules, NULL, NULL);
    char line[40];
    snprintf(line, sizeof line, "jitter: %s", jitter);
    bool ok =
        fc && fh_add_conductor(&h, fc) && et_load(&h, "jitter: none", line) && fh_run(&h, "sweep", seed, NULL, LIMIT);
    CHECK(ok);
    sb_buf_printf(&h.transcript, "RESULT %s", h.file_text ? h.file_text : "(none)\n");
    char *t = sb_buf_take(&h.transcript);
    fh_free(&h);
    fc_free(fc);
    return t;
}

/* Delays between the status calls of a transcript. */
static size_t poll_delays(const char *t, int64_t *out, size_t max)
{
    size_t n = 0;
    long long prev = -1;
    for (const char *p = t; (p = strstr(p, "\"name\":\"get_jobs_status\"")) != NULL; p++) {
        const char *bol = p;
        while (bol > t && bol[-1] != '\n')
            bol--;
        long long at = atoll(bol);
        if (prev >= 0 && n < max)
            out[n++] = at - prev;
        prev = at;
    }
    return n;
}

static void test_same_seed_same_transcript(void)
{
    static const int64_t base[] = {3000, 4500, 6750, 10000};
    for (int mode = 0; mode < 3; mode++) {
        const char *jitter = mode == 0 ? "none" : mode == 1 ? "full" : "equal";
        char *a = transcript_of(jitter, 7, nan_once), *b = transcript_of(jitter, 7, nan_once);
        char *c = transcript_of(jitter, 8, nan_once);
        CHECK(a && b && strcmp(a, b) == 0);
        CHECK(strstr(a, "SEND conductor POST") && strstr(a, "STREAM {") && strstr(a, "PROGRESS {"));
        CHECK(strstr(a, "RESULT {\n  \"pipeline\": \"sweep\""));
        int64_t d[512], e[512];
        size_t n = poll_delays(a, d, 512), m = poll_delays(c, e, 512);
        /* Jitter is drawn from the seed: another seed, other delays. */
        CHECK(mode == 0 ? n == m && memcmp(d, e, n * sizeof *d) == 0 : n != m || memcmp(d, e, n * sizeof *d) != 0);
        CHECK(n > 20);
        /* Delays after a retry submission are not measured: it sits between two polls. */
        for (size_t i = 0; i < 4 && i < n; i++) {
            if (mode == 0)
                CHECK_INT(d[i], base[i]);
            else if (mode == 1)
                CHECK(d[i] >= 0 && d[i] <= base[i]);
            else
                CHECK(d[i] >= (base[i] + 1) / 2 && d[i] <= base[i]);
        }
        for (size_t i = 4; i < n; i++)
            CHECK(mode == 0 ? d[i] == 10000 : mode == 1 ? d[i] <= 10000 : d[i] >= 5000 && d[i] <= 10000);
        sb_free(a);
        sb_free(b);
        sb_free(c);
    }
}

/* --- every allocation failing in turn --- */

static long fail_at = -1, allocs;
static long live; /* blocks allocated and not freed */

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

static const fc_rule small_sweep[] = {
    {"job_001", {.run_ms = 20000, .val_acc = 80, .cost_usd = 3}},
    {"job_002", {.run_ms = 5000, .fail = true, .error = "NaN loss", .error_type = "transient", .cost_usd = 1}},
    {"*", {.run_ms = 10000, .val_acc = 82, .cost_usd = 3}},
    FC_END};

typedef struct oom_outcome {
    bool made, done, stuck;
    sb_run_status status;
    char *result; /* the result file (malloc'd) */
} oom_outcome;

typedef struct oom_case {
    const char *what;
    int64_t sse_retry_ms; /* > 0: the Conductor's streams end early (fake_host.h) */
    int64_t cancel_at;    /* FH_NEVER: no cancel */
    bool notify;          /* the Conductor sends notifications (fh_server.notify) */
    int fail_calls;       /* its first tools/call requests get no answer */
} oom_case;

static oom_outcome oom_run(long n, const char *inputs, const oom_case *c)
{
    oom_outcome o = {0};
    fake_host h;
    fh_init(&h);
    fake_conductor *fc = fc_new(0, small_sweep, NULL, NULL);
    if (!fc || !fh_add_conductor(&h, fc) || !et_load(&h, NULL, NULL)) {
        CHECK(0);
    } else {
        h.servers[0].sse_retry_ms = c->sse_retry_ms;
        h.servers[0].notify = c->notify;
        h.servers[0].fail_calls = c->fail_calls;
        h.cancel_at = c->cancel_at;
        fail_at = n;
        allocs = 0;
        o.made = fh_start(&h, "sweep", 7, inputs);
        o.done = o.made && fh_drive(&h, LIMIT);
        o.stuck = h.stuck;
        o.status = o.made ? sb_run_get_status(h.run) : SB_RUN_PENDING;
        fail_at = -1;
        o.result = strdup(h.file_text ? h.file_text : "");
    }
    fh_free(&h);
    fc_free(fc);
    return o;
}

/* Every allocation the engine makes, failing in turn (allocations of the
 * fake host and its servers never fail). Each run must end: sb_run_new
 * refuses, or the run finishes. A run that still succeeds (the failure cost
 * only a log line) must have written exactly the result of a run without
 * failures: memory exhaustion may fail a run, never change its answer. A
 * run cancelled at a fixed time ends cancelled or failed; its result may
 * differ (a poll that failed for want of memory moves what follows, and a
 * cancel_jobs that could not be sent leaves the jobs committed, and says so). */
static void oom_loop(const oom_case *c)
{
    char *in = et_jobs_input(2, 3, NULL);
    sb_alloc_set(failing, NULL);
    long base = live;
    oom_outcome ref = oom_run(-1, in, c);
    long total = allocs;
    CHECK(total > 100);
    CHECK_INT(ref.status, c->cancel_at == FH_NEVER ? SB_RUN_SUCCEEDED : SB_RUN_CANCELLED);
    int made = 0, failed = 0, as_ref = 0;
    /* ENGINE_OOM_FROM=N starts at N and names each N (to find a crash);
     * ENGINE_OOM_SHOW=1 prints both results when one differs. */
    const char *from = getenv("ENGINE_OOM_FROM");
    for (long n = from ? atol(from) : 0; n <= total; n++) {
        if (from)
            fprintf(stderr, "failing allocation %ld\n", n);
        oom_outcome o = oom_run(n, in, c);
        bool ok = !o.made || (o.done && !o.stuck && o.status != SB_RUN_RUNNING);
        bool same = !o.made || (ref.status == SB_RUN_SUCCEEDED
                                    ? o.status != SB_RUN_SUCCEEDED || strcmp(o.result, ref.result) == 0
                                    : o.status == SB_RUN_CANCELLED || o.status == SB_RUN_FAILED);
        if (!ok || !same || live != base)
            fprintf(stderr,
                    "%s, allocation %ld of %ld failing: made %d done %d stuck %d status %s, %ld blocks leaked%s\n",
                    c->what, n, total, o.made, o.done, o.stuck, sb_run_status_name(o.status), live - base,
                    same ? "" : "; the result differs");
        if (!same && getenv("ENGINE_OOM_SHOW"))
            fprintf(stderr, "--- reference ---\n%s--- this one ---\n%s", ref.result, o.result);
        CHECK(ok);
        CHECK(same);
        CHECK_INT(live, base);
        live = base;
        made += o.made;
        failed += o.made && o.status == SB_RUN_FAILED;
        as_ref += o.made && o.status == ref.status;
        free(o.result);
    }
    free(ref.result);
    sb_alloc_set(NULL, NULL);
    sb_free(in);
    printf("  %s: %ld engine allocations; with one failing: %d runs made, %d failed, %d %s\n", c->what, total,
           made, failed, as_ref, sb_run_status_name(ref.status));
}

/* --- budgets, outcomes with nothing to show, result files that cannot be written --- */

/* Opens a scenario on cases/workspace.yaml and the given pipelines text. */
static bool sc_open_text(sc *s, const fc_rule *rules, const char *pipelines)
{
    fh_init(&s->h);
    s->fc = fc_new(0, rules, NULL, NULL);
    s->result = sb_null();
    s->failures_at_open = sb_test_failures;
    char *ws = fh_read_file("cases/workspace.yaml");
    bool ok = s->fc && ws && fh_add_conductor(&s->h, s->fc) && fh_load_config(&s->h, ws, pipelines);
    sb_free(ws);
    CHECK(ok);
    return ok;
}

static void test_no_budget(void)
{
    sc s;
    /* `watch` sets no budget_usd. */
    if (sc_open(&s, one_minute) && sc_run(&s, "watch", NULL)) {
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_LINE(&s, "LOG INFO Budget: no budget (the pipeline sets no budget_usd): spending is not limited");
        CHECK_INT(fh_count(&s.h, "4611686018427"), 0);
        CHECK_AT(s.result, "cost_breakdown.budget_usd", "null");
        CHECK_AT(s.result, "cost_breakdown.remaining_usd", "null");
        CHECK_AT(s.result, "cost_breakdown.utilization", "null");
        CHECK_AT(s.result, "cost_breakdown.total_usd", "10");
    }
    sc_close(&s);
}

static void test_non_finite_budget(void)
{
    static const char *const exprs[][2] = {{"{{ 1.0 / 0.0 }}", "infinity"}, {"{{ 0.0 / 0.0 }}", "NaN"}};
    for (size_t k = 0; k < 2; k++) {
        sb_buf pl = SB_BUF_INIT;
        sb_buf_printf(&pl, "version: 1\npipelines:\n  p:\n    budget_usd: \"%s\"\n    steps:\n      a:\n"
                           "        compute: {x: 1}\n",
                      exprs[k][0]);
        sc s;
        if (sc_open_text(&s, one_minute, sb_buf_str(&pl))) {
            CHECK(!fh_start(&s.h, "p", 7, NULL));
            sb_buf want = SB_BUF_INIT;
            sb_buf_printf(&want, "pipelines.yaml:4:17: error: budget_usd: %s gives %s; a budget must be a finite number >= 0",
                          exprs[k][0], exprs[k][1]);
            CHECK(s.h.diags && strstr(s.h.diags, sb_buf_str(&want)));
            if (!s.h.diags || !strstr(s.h.diags, sb_buf_str(&want)))
                fprintf(stderr, "diagnostics: %s\nwanted: %s\n", s.h.diags ? s.h.diags : "(none)", sb_buf_str(&want));
            CHECK_INT(s.h.writes, 0);
            sb_buf_free(&want);
        }
        sc_close(&s);
        sb_buf_free(&pl);
    }
}

static const char every_job_fails_yaml[] =
    "version: 1\n"
    "pipelines:\n"
    "  sweep:\n"
    "    budget_usd: 100\n"
    "    steps:\n"
    "      submit:\n"
    "        call: conductor.submit_jobs\n"
    "        with:\n"
    "          jobs:\n"
    "            - {hyperparameters: {learning_rate: 0.01}, estimated_cost_usd: 5}\n"
    "            - {hyperparameters: {learning_rate: 0.02}, estimated_cost_usd: 5}\n"
    "            - {hyperparameters: {learning_rate: 0.04}, estimated_cost_usd: 5}\n"
    "        handle:\n"
    "          id: \"{{ result.handle_id }}\"\n"
    "          jobs: \"{{ result.job_ids }}\"\n"
    "      monitor:\n"
    "        needs: [submit]\n"
    "        poll: \"{{ steps.submit.handle }}\"\n"
    "      rank:\n"
    "        needs: [monitor]\n"
    "        aggregate:\n"
    "          from: \"{{ steps.monitor.output.results }}\"\n"
    "          metric: metrics.val_acc\n"
    "      best:\n"
    "        needs: [rank]\n"
    "        select:\n"
    "          from: \"{{ steps.rank.output.ranked }}\"\n"
    "          index: 0\n"
    "      report:\n"
    "        needs: [best]\n"
    "        when: \"{{ size(steps.rank.output.ranked) > 0 }}\"\n"
    "        compute:\n"
    "          best_job: \"{{ steps.best.output.job_id }}\"\n"
    "      cost:\n"
    "        needs: [monitor]\n"
    "        compute:\n"
    "          total: \"{{ ledger.total_usd }}\"\n"
    "    outputs:\n"
    "      best: \"{{ steps.best.output }}\"\n"
    "      top: \"{{ steps.rank.output.top }}\"\n"
    "      failed: \"{{ steps.monitor.output.failed.map(r, r.job_id) }}\"\n";

static void test_every_job_fails(void)
{
    static const fc_rule all_fail[] = {
        {"*", {.run_ms = 60000, .fail = true, .error = "invalid config", .error_type = "permanent", .cost_usd = 2}},
        FC_END};
    sc s;
    if (sc_open_text(&s, all_fail, every_job_fails_yaml) && sc_run(&s, "sweep", NULL)) {
        CHECK_INT(sc_status(&s), SB_RUN_FAILED);
        CHECK_LINE(&s, "LOG WARN Step 3/6: rank: nothing to rank (best null, top []): no job completed (3 failed)");
        CHECK_LINE(&s, "LOG WARN Step 4/6: best: nothing to select (output null): no job completed (3 failed)");
        CHECK_LINE(&s, "STEP best succeeded");
        CHECK_LINE(&s, "LOG INFO Step 5/6: report skipped (when is false: {{ size(steps.rank.output.ranked) > 0 }})");
        CHECK_LINE(&s, "STEP cost succeeded");
        CHECK_LINE(&s, "Pipeline sweep failed after 0h 01m 06s: no job completed (3 failed); every result kept in "
                       "result.json");
        CHECK_INT(fh_count(&s.h, "LOG SUCCESS"), 0);
        CHECK_AT(s.result, "status", "\"failed\"");
        CHECK_AT(s.result, "error", "\"no job completed (3 failed)\"");
        CHECK_AT(s.result, "best", "null");
        CHECK_AT(s.result, "top", "[]");
        CHECK_AT(s.result, "failed", "[\"job_001\",\"job_002\",\"job_003\"]");
        CHECK_AT(s.result, "cost_breakdown.failed_partial_usd", "6");
        CHECK_AT(s.result, "steps.report.status", "\"skipped\"");
    }
    sc_close(&s);
}

static void test_result_write_fails(void)
{
    sc s;
    if (sc_open(&s, one_minute)) {
        s.h.write_rc = 1;
        if (sc_run(&s, "watch", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_FAILED);
            CHECK_LINE(&s, "LOG ERROR could not write the result file result.json");
            CHECK_INT(fh_count(&s.h, "LOG SUCCESS"), 0);
            CHECK_INT(s.h.writes, 1);
            CHECK(!sb_run_result_written(s.h.run));
            CHECK_STR(sb_run_error(s.h.run), "could not write the result file result.json");
            CHECK_LINE(&s, "LOG ERROR Pipeline watch failed after 0h 01m 06s: could not write the result file "
                           "result.json");
        }
    }
    sc_close(&s);
    /* Written: the accessor says so. */
    if (sc_open(&s, one_minute) && sc_run(&s, "watch", NULL))
        CHECK(sb_run_result_written(s.h.run));
    sc_close(&s);
}

/* --- options that change what the run emits --- */

static const char quiet_watch_yaml[] =
    "version: 1\n"
    "pipelines:\n"
    "  quiet:\n"
    "    steps:\n"
    "      submit:\n"
    "        call: conductor.submit_jobs\n"
    "        with:\n"
    "          jobs:\n"
    "            - {hyperparameters: {learning_rate: 0.01}, estimated_cost_usd: 5}\n"
    "            - {hyperparameters: {learning_rate: 0.02}, estimated_cost_usd: 5}\n"
    "        handle:\n"
    "          id: \"{{ result.handle_id }}\"\n"
    "          jobs: \"{{ result.job_ids }}\"\n"
    "      monitor:\n"
    "        needs: [submit]\n"
    "        poll: \"{{ steps.submit.handle }}\"\n"
    "        stream: false\n"
    "    outputs:\n"
    "      results: \"{{ steps.monitor.output.results.map(r, r.job_id) }}\"\n";

static void test_stream_false(void)
{
    sc s;
    if (sc_open_text(&s, one_minute, quiet_watch_yaml) && sc_run(&s, "quiet", NULL)) {
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_INT(fh_count(&s.h, "STREAM "), 0);
        CHECK_AT(s.result, "results", "[\"job_001\",\"job_002\"]");
    }
    sc_close(&s);
    /* The same with streaming on (the default): one chunk per job. */
    if (sc_open(&s, one_minute) && sc_run(&s, "watch", NULL))
        CHECK_INT(fh_count(&s.h, "STREAM {\"type\":\"job_completed\""), 2);
    sc_close(&s);
}

static void test_progress_fields(void)
{
    static const fc_rule one_fails[] = {
        {"job_002", {.run_ms = 60000, .fail = true, .error = "bad config", .error_type = "permanent", .cost_usd = 1}},
        {"*", {.run_ms = 60000, .val_acc = 80, .cost_usd = 5}},
        FC_END};
    sc s;
    if (sc_open(&s, one_fails)) {
        s.h.progress = true;
        if (sc_run(&s, "watch", NULL)) {
            CHECK(fh_count(&s.h, "PROGRESS {\"done\":0,\"queued\":0,\"running\":2,\"completed\":0,\"failed\":0,"
                                 "\"cancelled\":0,\"total\":2,") > 0);
            CHECK_INT(fh_count(&s.h, "PROGRESS {\"done\":2,\"queued\":0,\"running\":0,\"completed\":1,\"failed\":1,"
                                     "\"cancelled\":0,\"total\":2,"),
                      1);
        }
    }
    sc_close(&s);
    /* Cancelled jobs count as done, and as cancelled. */
    if (sc_open(&s, one_minute)) {
        s.h.progress = true;
        s.h.cancel_at = 30000;
        if (sc_run(&s, "watch", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_CANCELLED);
            CHECK(fh_count(&s.h, "PROGRESS {\"done\":2,\"queued\":0,\"running\":0,\"completed\":0,\"failed\":0,"
                                 "\"cancelled\":2,\"total\":2,") > 0);
        }
    }
    sc_close(&s);
}

/* Two handles whose jobs are both numbered job_001, job_002: the ledger
 * keeps four jobs, four costs. */
static const char two_handles_yaml[] =
    "version: 1\n"
    "pipelines:\n"
    "  two:\n"
    "    budget_usd: 100\n"
    "    steps:\n"
    "      submit_a:\n"
    "        call: conductor.submit_jobs\n"
    "        with:\n"
    "          jobs:\n"
    "            - {hyperparameters: {learning_rate: 0.01}, estimated_cost_usd: 6}\n"
    "            - {hyperparameters: {learning_rate: 0.02}, estimated_cost_usd: 6}\n"
    "        handle: {id: \"{{ result.handle_id }}\", jobs: \"{{ result.job_ids }}\"}\n"
    "      submit_b:\n"
    "        call: conductor.submit_jobs\n"
    "        with:\n"
    "          jobs:\n"
    "            - {hyperparameters: {learning_rate: 0.03}, estimated_cost_usd: 6}\n"
    "            - {hyperparameters: {learning_rate: 0.04}, estimated_cost_usd: 6}\n"
    "        handle: {id: \"{{ result.handle_id }}\", jobs: \"{{ result.job_ids }}\"}\n"
    "      watch_a:\n"
    "        needs: [submit_a]\n"
    "        poll: \"{{ steps.submit_a.handle }}\"\n"
    "      watch_b:\n"
    "        needs: [submit_b]\n"
    "        poll: \"{{ steps.submit_b.handle }}\"\n"
    "    outputs:\n"
    "      a: \"{{ steps.watch_a.output.results.map(r, r.job_id) }}\"\n"
    "      b: \"{{ steps.watch_b.output.results.map(r, r.job_id) }}\"\n";

static void test_same_job_ids_on_two_handles(void)
{
    sc s;
    if (sc_open_text(&s, one_minute, two_handles_yaml) && sc_run(&s, "two", NULL)) {
        CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
        CHECK_AT(s.result, "a", "[\"job_001\",\"job_002\"]");
        CHECK_AT(s.result, "b", "[\"job_001\",\"job_002\"]");
        CHECK_AT(s.result, "cost_breakdown.total_usd", "20");
        CHECK_AT(s.result, "cost_breakdown.committed_usd", "0");
        CHECK_AT(s.result, "cost_breakdown.jobs.completed", "4");
        CHECK_LINE(&s, "LOG INFO Submitted 2 jobs to conductor (handle h_0002), estimated $12.00");
    }
    sc_close(&s);
}

/* --- public entry points check what they are given --- */

static void noop_send(void *ud, const sb_run_request *req)
{
    (void)ud;
    (void)req;
}

/* sb_run_new's diagnostics as text (sb_free it). */
static char *new_diags(const sb_run_config *cfg, const sb_host *host, sb_run **out)
{
    sb_diags *d = sb_diags_new();
    *out = sb_run_new(cfg, host, d);
    sb_buf b = SB_BUF_INIT;
    sb_diags_write(d, &b);
    sb_diags_free(d);
    return sb_buf_take(&b);
}

static void test_entry_points(void)
{
    sc s;
    if (!sc_open(&s, one_minute)) {
        sc_close(&s);
        return;
    }
    sb_host host = {SB_HOST_VERSION, NULL, noop_send, NULL, NULL};
    sb_run_config cfg = {s.h.workspace, s.h.pipelines, "watch", "workspace.yaml", "pipelines.yaml", sb_null(), 1,
                         NULL, NULL};
    sb_run *r;
    char *m = new_diags(NULL, &host, &r);
    CHECK(!r && m && strstr(m, "no run configuration"));
    sb_free(m);
    m = new_diags(&cfg, NULL, &r);
    CHECK(!r && m && strstr(m, "no host table"));
    sb_free(m);
    /* A version from the future (slots this core does not know) or none at all. */
    int versions[] = {0, SB_HOST_VERSION + 1, -3};
    for (size_t k = 0; k < 3; k++) {
        host.version = versions[k];
        m = new_diags(&cfg, &host, &r);
        char want[96];
        snprintf(want, sizeof want, "host table version %d is not supported", versions[k]);
        CHECK(!r && m && strstr(m, want));
        sb_free(m);
    }
    host.version = SB_HOST_VERSION;
    /* A tree that failed validation: an unknown need, a step of two kinds. */
    fake_host bad;
    fh_init(&bad);
    char *ws = fh_read_file("cases/workspace.yaml");
    static const char broken[] = "version: 1\npipelines:\n  p:\n    steps:\n      a:\n        needs: [nope]\n"
                                 "        compute: {x: 1}\n        assert: []\n";
    CHECK(ws && !fh_load_config(&bad, ws, broken));
    sb_run_config bcfg = cfg;
    bcfg.workspace = bad.workspace;
    bcfg.pipelines = bad.pipelines;
    bcfg.pipeline = "p";
    m = new_diags(&bcfg, &host, &r);
    CHECK(!r && m && strstr(m, "pipelines.yaml:6:17: error: pipelines.p.steps.a.needs: unknown step 'nope'"));
    if (!m || !strstr(m, "unknown step 'nope'"))
        fprintf(stderr, "diagnostics: %s\n", m ? m : "(none)");
    sb_free(m);
    /* Not a tree at all. */
    bcfg.pipelines = sb_int(3);
    m = new_diags(&bcfg, &host, &r);
    CHECK(!r && m && strstr(m, "expected a mapping with version and pipelines"));
    sb_free(m);
    fh_free(&bad);
    sb_free(ws);
    /* NULL runs and calls in the wrong state do nothing. */
    sb_run_start(NULL, 0);
    sb_run_on_time(NULL, 0);
    sb_run_on_response(NULL, 1, 200, NULL, NULL, "", 0, 0);
    sb_run_cancel(NULL, "x", 0);
    sb_run_free(NULL);
    CHECK(sb_run_done(NULL));
    CHECK_INT(sb_run_in_flight(NULL), 0);
    CHECK_INT(sb_run_next_deadline(NULL), INT64_MAX);
    m = new_diags(&cfg, &host, &r);
    CHECK(r != NULL);
    sb_free(m);
    if (r) {
        sb_run_on_time(r, 5);                                   /* before the start */
        sb_run_on_response(r, 42, 200, NULL, NULL, "{}", 2, 5); /* nothing was asked */
        CHECK_INT(sb_run_get_status(r), SB_RUN_PENDING);
        sb_run_start(r, 10);
        sb_run_start(r, 10); /* twice */
        CHECK_INT(sb_run_get_status(r), SB_RUN_RUNNING);
        CHECK_INT(sb_run_in_flight(r), 1);
        sb_run_on_response(r, 42, 200, NULL, NULL, "{}", 2, 11); /* an id never sent */
        CHECK_INT(sb_run_in_flight(r), 1);
        sb_run_free(r);
    }
    sc_close(&s);
}

/* --- the spec refuses expressions that cannot work (the type check at run start) --- */

static void test_spec_type_errors(void)
{
    static const char ws[] = "version: 1\nservers:\n  conductor: {transport: http, url: http://c.test/mcp}\n";
    static const char pl[] =
        "version: 1\n"
        "pipelines:\n"
        "  p:\n"
        "    inputs: {epochs: {type: integer, default: 2}}\n"
        "    steps:\n"
        "      submit:\n"
        "        call: conductor.submit_jobs\n"
        "        with: {n: \"{{ inputs.epochs + 1 }}\"}\n"
        "        handle: {id: \"{{ result.handle_id }}\", jobs: \"{{ result.job_ids }}\"}\n"
        "      watch:\n"
        "        needs: [submit]\n"
        "        when: \"{{ inputs.epochs }}\"\n"
        "        poll: \"{{ steps.submit.handle }}\"\n"
        "      again:\n"
        "        on: watch.job_failed\n"
        "        retry: {when: \"{{ job.attempt < 3 && error.type == 'transient' }}\"}\n"
        "    outputs:\n"
        "      n: \"{{ steps.watch.output.counts.complete }}\"\n"
        "      j: \"{{ job.job_id }}\"\n";
    fake_host h;
    fh_init(&h);
    CHECK(fh_load_config(&h, ws, pl));
    sb_diags *d = sb_diags_new();
    sb_spec *sp = sb_spec_compile(h.workspace, h.pipelines, "p", "workspace.yaml", "pipelines.yaml", d);
    CHECK(sp == NULL);
    CHECK_INT(sb_diags_count(d), 3);
    if (sb_diags_count(d) == 3) {
        CHECK_INT(sb_diags_at(d, 0)->line, 12);
        CHECK_STR(sb_diags_at(d, 0)->msg, "in '{{ inputs.epochs }}': must evaluate to a bool, got int");
        CHECK_INT(sb_diags_at(d, 1)->line, 18);
        CHECK_STR(sb_diags_at(d, 1)->msg, "in '{{ steps.watch.output.counts.complete }}': col 27: no such key: "
                                          "'complete' (known: completed, failed, cancelled, stopped_at_cap, unstarted, "
                                          "total)");
        CHECK_STR(sb_diags_at(d, 2)->msg, "in '{{ job.job_id }}': col 1: 'job' is only available in "
                                          "event-triggered steps (on:)");
    }
    sb_spec_free(sp);
    sb_diags_free(d);
    fh_free(&h);
}

/* --- the spec: typed fields, defaults from the schema table --- */

static void test_spec_defaults(void)
{
    static const char ws[] = "version: 1\nservers:\n  conductor: {transport: http, url: http://c.test/mcp}\n";
    static const char pl[] =
        "version: 1\n"
        "pipelines:\n"
        "  p:\n"
        "    steps:\n"
        "      submit:\n"
        "        call: conductor.submit_jobs\n"
        "        handle: {id: \"{{ result.handle_id }}\", jobs: \"{{ result.job_ids }}\"}\n"
        "      watch:\n"
        "        needs: [submit]\n"
        "        poll: \"{{ steps.submit.handle }}\"\n"
        "        polling: {max_delay_ms: 5000}\n"
        "      again:\n"
        "        on: watch.job_failed\n"
        "        retry: {}\n"
        "      rank:\n"
        "        needs: [watch]\n"
        "        aggregate: {from: [], metric: m}\n";
    fake_host h;
    fh_init(&h);
    CHECK(fh_load_config(&h, ws, pl));
    sb_diags *d = sb_diags_new();
    sb_spec *sp = sb_spec_compile(h.workspace, h.pipelines, "p", "workspace.yaml", "pipelines.yaml", d);
    CHECK(sp != NULL);
    if (sp) {
        /* Workspace: every default from the table. */
        CHECK_INT(sp->polling.backoff.initial_ms, 2000);
        CHECK_INT(sp->polling.backoff.max_ms, 10000);
        CHECK(sp->polling.backoff.multiplier == 1.5);
        CHECK_INT(sp->polling.max_attempts, 50);
        CHECK_INT(sp->polling.timeout_ms, 0);
        CHECK_STR(sp->stream_file, "sweep_output_stream.jsonl");
        CHECK_STR(sp->result_file, "sweep_output.json");
        CHECK_INT(sp->ntransient, 3);
        CHECK_INT(sp->npermanent, 0);
        CHECK(!sp->default_transient);
        CHECK(!sp->budget);
        /* Steps: kinds, needs as indices, on: resolved, numbers in run order. */
        CHECK_INT(sp->nsteps, 4);
        size_t watch = sb_spec_step_index(sp, "watch"), again = sb_spec_step_index(sp, "again");
        CHECK_INT(watch, 1);
        CHECK_INT(sp->steps[watch].kind, SB_SPEC_POLL);
        CHECK_INT(sp->steps[watch].nneeds, 1);
        CHECK_INT(sp->steps[watch].needs[0], 0);
        CHECK_INT(sp->steps[watch].polling.backoff.initial_ms, 2000); /* the workspace's */
        CHECK_INT(sp->steps[watch].polling.backoff.max_ms, 5000);     /* the step's */
        CHECK(sp->steps[watch].stream);
        CHECK_INT(sp->steps[again].on_step, watch);
        CHECK_INT(sp->steps[again].on_event, SB_SPEC_JOB_FAILED);
        CHECK_INT(sp->steps[again].number, 3); /* right after its poll step */
        CHECK_INT(sp->steps[again].max_attempts, 1);
        CHECK_INT(sp->steps[again].retry_backoff.initial_ms, 0);
        CHECK_INT(sp->steps[again].retry_backoff.max_ms, 60000);
        CHECK(sp->steps[again].retry_backoff.multiplier == 2.0);
        CHECK(sp->steps[again].retry_when != NULL);
        CHECK_STR(sp->steps[0].server, "conductor");
        CHECK_STR(sp->steps[0].tool, "submit_jobs");
        CHECK(sp->steps[0].handle_id && sp->steps[0].handle_jobs && !sp->steps[0].handle_server);
        const sb_spec_step *rank = &sp->steps[sb_spec_step_index(sp, "rank")];
        CHECK(rank->direction && rank->top_k && rank->from && rank->metric);
        CHECK_INT(rank->number, 4);
    }
    sb_spec_free(sp);
    sb_spec_free(NULL);
    /* The table's defaults as the published schema carries them. */
    sb_val v = sb_schema_default(&sb_schema_workspace, "polling.initial_delay_ms");
    CHECK(v.kind == SB_INT && v.as.i == 2000);
    sb_val_free(v);
    v = sb_schema_default(&sb_schema_pipelines, "pipelines.*.steps.*.aggregate.top_k");
    CHECK(v.kind == SB_INT && v.as.i == 3);
    sb_val_free(v);
    v = sb_schema_default(&sb_schema_workspace, "polling.timeout_ms"); /* none */
    CHECK(v.kind == SB_NULL);
    sb_diags_free(d);
    fh_free(&h);
}

/* --- many steps: scheduling is a loop, not a recursion --- */

/* A pipeline of n compute steps, written in the order `order` gives (a
 * permutation of 0..n-1). chain: step s<i> needs s<i-1> and adds one to its
 * output, so the last output is n only if they ran in dependency order;
 * otherwise the steps are independent. */
static char *many_steps_yaml(size_t n, const size_t *order, bool chain)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "version: 1\npipelines:\n  many:\n    outputs:\n      last: \"{{ steps.s%zu.output.v }}\"\n"
                      "    steps:\n",
                  n - 1);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        if (chain && i > 0)
            sb_buf_printf(&b, "      s%zu:\n        needs: [s%zu]\n        compute: {v: \"{{ steps.s%zu.output.v + 1 }}\"}\n", i,
                          i - 1, i - 1);
        else
            sb_buf_printf(&b, "      s%zu:\n        compute: {v: %s}\n", i, chain ? "1" : "\"{{ 1 }}\"");
    }
    return sb_buf_take(&b);
}

static void run_many(const char *what, size_t n, const size_t *order, bool chain, int64_t want_last)
{
    char *pl = many_steps_yaml(n, order, chain), *ws = fh_read_file("cases/workspace.yaml");
    fake_host h;
    fh_init(&h);
    h.record = false;
    bool loaded = pl && ws && fh_load_config(&h, ws, pl);
    CHECK(loaded);
    if (loaded) {
        bool done = fh_run(&h, "many", 7, NULL, LIMIT);
        CHECK(done);
        CHECK_INT(h.run ? sb_run_get_status(h.run) : SB_RUN_PENDING, SB_RUN_SUCCEEDED);
        sb_val res = fh_result(&h);
        const sb_val *last = et_at(&res, "last");
        CHECK(last && last->kind == SB_INT && last->as.i == want_last);
        if (!last || last->kind != SB_INT || last->as.i != want_last)
            fprintf(stderr, "%s: the last output is not %lld\n", what, (long long)want_last);
        sb_val_free(res);
    }
    fh_free(&h);
    sb_free(pl);
    sb_free(ws);
}

static void test_ten_thousand_steps(void)
{
    enum { N = 10000 };
    size_t *order = sb_calloc(N, sizeof *order);
    if (!order)
        return;
    for (size_t i = 0; i < N; i++)
        order[i] = i;
    run_many("independent steps", N, order, false, 1);
    run_many("a chain in order", N, order, true, N);
    for (size_t i = 0; i < N; i++)
        order[i] = N - 1 - i;
    run_many("a chain written in reverse", N, order, true, N);
    uint64_t x = 12345; /* a fixed shuffle (xorshift), the same on every platform */
    for (size_t i = N - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t j = (size_t)(x % (i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    run_many("a shuffled chain", N, order, true, N);
    sb_free(order);
}

/* --- what servers say, call options, repeated calls (issue 9) --- */

static void test_server_notifications(void)
{
    sc s;
    if (sc_open(&s, one_minute)) {
        s.h.servers[0].notify = true;
        if (sc_run(&s, "notify", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
            /* The step's options went out: a progress token and a task. */
            CHECK_INT(fh_count(&s.h, "\"method\":\"tools/call\",\"params\":{\"name\":\"submit_jobs\""), 1);
            CHECK_INT(fh_count(&s.h, "\"_meta\":{\"progressToken\":"), 1);
            CHECK_INT(fh_count(&s.h, "\"task\":{\"ttl\":60000}"), 1);
            /* What the server said became DEBUG log events naming it. */
            CHECK_LINE(&s, "LOG DEBUG server 'conductor': progress 1/2: half way");
            CHECK_LINE(&s, "LOG DEBUG server 'conductor' (fake) info: called submit_jobs");
            CHECK(fh_count(&s.h, "LOG DEBUG server 'conductor' (fake) info: called get_jobs_status") >= 1);
            CHECK_AT(s.result, "results", "[\"job_001\"]");
        }
    }
    sc_close(&s);
}

static void test_failed_submit_repeated(void)
{
    sc s;
    if (sc_open(&s, one_minute)) {
        s.h.servers[0].fail_calls = 2; /* the submit's first two attempts get no answer */
        if (sc_run(&s, "notify", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
            const fh_call *c[4];
            CHECK_INT(calls(&s, "submit_jobs", c, 4), 1); /* the server saw one submit */
            CHECK_LINE(&s, "LOG WARN Step 1/2: submit: attempt 1/3 got no answer: server 'conductor': tools/call "
                           "submit_jobs: transport error: connection reset by peer (scripted); trying again in 1000 ms");
            CHECK_LINE(&s, "LOG WARN Step 1/2: submit: attempt 2/3 got no answer: server 'conductor': tools/call "
                           "submit_jobs: transport error: connection reset by peer (scripted); trying again in 2000 ms");
            CHECK_LINE(&s, "     3000 LOG INFO Calling conductor.submit_jobs again (attempt 3/3)");
            /* The same idempotency key each time. */
            CHECK_INT(fh_count(&s.h, "\"idempotency_key\":\"run-7-submit\""), 3);
            CHECK_AT(s.result, "results", "[\"job_001\"]");
        }
    }
    sc_close(&s);
}

static void test_failed_submit_gives_up(void)
{
    sc s;
    if (sc_open(&s, one_minute)) {
        s.h.servers[0].fail_calls = 3;
        s.h.servers[0].fail_status = 503;
        if (sc_run(&s, "notify", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_FAILED);
            CHECK_AT(s.result, "steps.submit.status", "\"failed\"");
            CHECK_AT(s.result, "error",
                     "\"step 'submit': server 'conductor': tools/call submit_jobs: HTTP 503 (gave up after 3 "
                     "attempts)\"");
            CHECK(s.h.writes >= 1);
        }
    }
    sc_close(&s);
}

static void test_plain_call_not_repeated(void)
{
    sc s;
    if (sc_open(&s, one_minute)) {
        s.h.servers[0].fail_calls = 1;
        if (sc_run(&s, "plain_call", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_FAILED);
            CHECK_INT(fh_count(&s.h, "again (attempt"), 0);
        }
    }
    sc_close(&s);
    if (sc_open(&s, one_minute)) {
        s.h.servers[0].fail_calls = 1;
        if (sc_run(&s, "retried_call", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_SUCCEEDED);
            CHECK_LINE(&s, "      500 LOG INFO Calling conductor.submit_jobs again (attempt 2/2)");
        }
    }
    sc_close(&s);
    /* A submission without an idempotency key: a repeat might submit twice. */
    if (sc_open(&s, one_minute)) {
        s.h.servers[0].fail_calls = 1;
        if (sc_run(&s, "unkeyed_submit", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_FAILED);
            CHECK_INT(fh_count(&s.h, "again (attempt"), 0);
        }
    }
    sc_close(&s);
    /* A refusal (JSON-RPC error, HTTP 4xx) is not repeated. */
    if (sc_open(&s, one_minute)) {
        s.h.servers[0].fail_calls = 1;
        s.h.servers[0].fail_status = 400;
        if (sc_run(&s, "retried_call", NULL)) {
            CHECK_INT(sc_status(&s), SB_RUN_FAILED);
            CHECK_INT(fh_count(&s.h, "again (attempt"), 0);
        }
    }
    sc_close(&s);
}

static void test_every_allocation_failing(void)
{
    static const oom_case cases[] = {
        {"sweep with a retry", 0, FH_NEVER, false, 0},
        {"the same over resumed streams", 3000, FH_NEVER, false, 0},
        {"the same cancelled while the retry runs", 0, 12000, false, 0},
        {"the same with server notifications and a repeated submit", 0, FH_NEVER, true, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        oom_loop(&cases[i]);
}

SB_TEST_MAIN(TEST(test_poll_delays) TEST(test_one_status_call_per_poll) TEST(test_resumed_streams)
                 TEST(test_transient_failure_retried) TEST(test_follow_external_handle) TEST(test_failures_classified_by_patterns)
                     TEST(test_permanent_failure_not_retried) TEST(test_retry_max_attempts) TEST(test_budget_guard) TEST(test_budget_passed_and_cap_stops)
                         TEST(test_when_false_skips) TEST(test_failed_step_fails_dependents)
                             TEST(test_outputs_evaluated) TEST(test_retry_backoff_is_not_a_stall)
                                 TEST(test_stalled_handle) TEST(test_failing_status_calls_stall)
                                     TEST(test_malformed_status_answers) TEST(test_long_sweep_not_stalled) TEST(test_poll_timeout) TEST(test_cancel_mid_run)
                                         TEST(test_cancel_with_call_in_flight) TEST(test_same_seed_same_transcript) TEST(test_ten_thousand_steps) TEST(test_no_budget) TEST(test_non_finite_budget) TEST(test_every_job_fails) TEST(test_result_write_fails) TEST(test_entry_points) TEST(test_spec_defaults) TEST(test_spec_type_errors) TEST(test_same_job_ids_on_two_handles) TEST(test_stream_false) TEST(test_progress_fields) TEST(test_server_notifications) TEST(test_failed_submit_repeated) TEST(test_failed_submit_gives_up) TEST(test_plain_call_not_repeated)
                                             TEST(test_every_allocation_failing))
