/* The simulated Conductor through its tools, as a host would drive it. */
#include "csim_test_util.h"
#include "sb_test.h"

#define HOUR 3600000LL
#define BEST "{\"learning_rate\":0.001,\"batch_size\":64,\"dropout\":0.3}"

static sb_csim *make(uint64_t seed, double infra_rate)
{
    sb_csim_options o;
    sb_csim_options_init(&o);
    o.seed = seed;
    o.infra_failure_rate = infra_rate;
    return sb_csim_create(&o);
}

/* {"jobs":[{"hyperparameters":hp} x n]} */
static char *jobs_json(int n, const char *hp)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "{\"jobs\":[");
    for (int i = 0; i < n; i++)
        sb_buf_printf(&b, "%s{\"hyperparameters\":%s}", i ? "," : "", hp);
    sb_buf_puts(&b, "]}");
    return sb_buf_take(&b);
}

static sb_val submit_n(sb_csim *s, int64_t t, int n, const char *hp)
{
    char *args = jobs_json(n, hp);
    sb_val r = call(s, t, "submit_jobs", args);
    sb_free(args);
    return r;
}

static void test_lifecycle_and_concurrency(void)
{
    sb_csim *s = make(1, 0);
    sb_val sub = submit_n(s, 0, 8, BEST);
    CHECK_STR(gstr(sub, "handle_id"), "h_0001");
    CHECK_INT(geti(sub, "accepted"), 8);
    CHECK_INT(sb_list_len(*get(sub, "job_ids")), 8);
    CHECK(sb_str_eq(*sb_list_at(*get(sub, "job_ids"), 0), "job_001"));
    CHECK(sb_str_eq(*sb_list_at(*get(sub, "job_ids"), 7), "job_008"));
    sb_val_free(sub);

    sb_val st = call(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(count(st, "running"), 5);
    CHECK_INT(count(st, "queued"), 3);
    CHECK_INT(count(st, "total"), 8);
    CHECK(get(st, "done")->kind == SB_BOOL && !get(st, "done")->as.b);
    CHECK_INT(geti(*find_job(st, "job_005"), "started_at_ms"), 0);
    CHECK_STR(gstr(*find_job(st, "job_006"), "status"), "queued");
    CHECK(get(*find_job(st, "job_006"), "started_at_ms")->kind == SB_NULL);
    sb_val_free(st);

    /* The first end frees a slot for job_006 at that very millisecond. */
    int64_t t = sb_csim_next_event_ms(s, 0);
    CHECK(t >= 6480 * 1000LL && t <= 7920 * 1000LL);
    st = call(s, t, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(count(st, "completed"), 1);
    CHECK_INT(count(st, "running"), 5);
    CHECK_INT(count(st, "queued"), 2);
    CHECK_INT(geti(*find_job(st, "job_006"), "started_at_ms"), t);
    sb_val_free(st);

    /* Drive it event by event: never more than 5 running, FIFO starts. */
    int polls = 0;
    for (int64_t next; (next = sb_csim_next_event_ms(s, t)) >= 0; polls++) {
        CHECK(next > t);
        t = next;
        st = call(s, t, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
        CHECK(count(st, "running") <= 5);
        CHECK(count(st, "running") == 5 || count(st, "queued") == 0);
        sb_val_free(st);
    }
    CHECK(polls >= 7);
    st = call(s, t, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK(get(st, "done")->as.b);
    CHECK_INT(count(st, "completed"), 8);
    int64_t prev_start = 0;
    for (size_t i = 0; i < 8; i++) {
        sb_val j = *sb_list_at(*get(st, "jobs"), i);
        int64_t start = geti(j, "started_at_ms"), end = geti(j, "finished_at_ms"), secs = geti(j, "duration_seconds");
        CHECK(start >= prev_start);
        prev_start = start;
        CHECK(secs >= 6480 && secs <= 7920); /* 2 h x 0.9..1.1 */
        CHECK_INT(end - start, secs * 1000);
        double want = floor(secs / 3600.0 * 12.60 * 100 + 0.5) / 100;
        CHECK(fabs(getd(j, "cost_usd") - want) < 1e-9);
        CHECK(getd(j, "cost_usd") > 22.6 && getd(j, "cost_usd") < 27.8);
        CHECK(getd(*get(j, "metrics"), "val_acc") > 85);
        CHECK(getd(*get(j, "metrics"), "train_loss") > 0.1 && getd(*get(j, "metrics"), "train_loss") < 0.3);
    }
    sb_val_free(st);
    CHECK_INT(sb_csim_next_event_ms(s, t), -1);
    sb_csim_free(s);
}

static void test_since_cursor(void)
{
    sb_csim *s = make(2, 0);
    sb_val_free(submit_n(s, 0, 7, BEST));
    sb_val st = call(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(sb_list_len(*get(st, "jobs")), 7);
    char args[128];
    snprintf(args, sizeof args, "{\"handle_id\":\"h_0001\",\"since_cursor\":\"%s\"}", gstr(st, "cursor"));
    sb_val_free(st);

    /* Nothing happened: nothing reported, same cursor. */
    st = call(s, 1000, "get_jobs_status", args);
    CHECK_INT(sb_list_len(*get(st, "jobs")), 0);
    CHECK_INT(count(st, "running"), 5);
    sb_val_free(st);

    /* One job ends, one starts: exactly those two, each once. */
    int64_t t = sb_csim_next_event_ms(s, 1000);
    st = call(s, t, "get_jobs_status", args);
    CHECK_INT(sb_list_len(*get(st, "jobs")), 2);
    CHECK_STR(gstr(*sb_list_at(*get(st, "jobs"), 0), "status"), "completed");
    CHECK_STR(gstr(*sb_list_at(*get(st, "jobs"), 1), "job_id"), "job_006");
    CHECK_STR(gstr(*sb_list_at(*get(st, "jobs"), 1), "status"), "running");
    sb_val_free(st);
    /* A cursor is a position, not a token: asking again loses nothing. */
    st = call(s, t, "get_jobs_status", args);
    CHECK_INT(sb_list_len(*get(st, "jobs")), 2);
    snprintf(args, sizeof args, "{\"handle_id\":\"h_0001\",\"since_cursor\":\"%s\"}", gstr(st, "cursor"));
    sb_val_free(st);

    /* Far in the future: every job that changed, once, in its final state. */
    st = call(s, 100 * HOUR, "get_jobs_status", args);
    CHECK_INT(sb_list_len(*get(st, "jobs")), 6);
    for (size_t i = 0; i < sb_list_len(*get(st, "jobs")); i++)
        CHECK_STR(gstr(*sb_list_at(*get(st, "jobs"), i), "status"), "completed");
    CHECK(get(st, "done")->as.b);
    sb_val_free(st);

    CHECK(contains(call_err(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\",\"since_cursor\":\"c_999\"}"),
                   "is not a cursor of handle h_0001"));
    CHECK(contains(call_err(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\",\"since_cursor\":\"x\"}"),
                   "is not a cursor"));
    CHECK(contains(call_err(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\",\"since_cursor\":3}"),
                   "since_cursor must be a string"));
    sb_csim_free(s);
}

static void test_nan_failure_partial_cost(void)
{
    sb_csim *s = make(3, 0);
    sb_val_free(call(s, 0, "submit_jobs",
                     "{\"jobs\":[{\"hyperparameters\":{\"learning_rate\":0.01,\"batch_size\":128,\"dropout\":0.3}},"
                     "{\"hyperparameters\":{\"learning_rate\":0.01,\"batch_size\":64,\"dropout\":0.3}}]}"));
    int64_t t = 0;
    sb_val st = run_to_end(s, "h_0001", &t);
    const sb_val *j = find_job(st, "job_001");
    CHECK_STR(gstr(*j, "status"), "failed");
    CHECK_STR(gstr(*j, "error_type"), "transient");
    CHECK(contains(gstr(*j, "error"), "NaN loss detected at epoch "));
    int epoch = atoi(gstr(*j, "error") + strlen("NaN loss detected at epoch "));
    CHECK(epoch >= 4 && epoch <= 7); /* 20 epochs, 15-30% in */
    int64_t secs = geti(*j, "duration_seconds");
    CHECK(secs >= 0.15 * 6480 - 1 && secs <= 0.30 * 7920 + 1);
    CHECK_INT(geti(*j, "finished_at_ms") - geti(*j, "started_at_ms"), secs * 1000);
    CHECK(fabs(getd(*j, "cost_usd") - floor(secs / 3600.0 * 12.6 * 100 + 0.5) / 100) < 1e-9);
    CHECK(getd(*j, "cost_usd") > 2 && getd(*j, "cost_usd") < 9);
    CHECK(get(*j, "metrics")->kind == SB_NULL);
    /* Same learning rate with a smaller batch trains. */
    CHECK_STR(gstr(*find_job(st, "job_002"), "status"), "completed");
    sb_val_free(st);
    sb_csim_free(s);
}

static void test_permanent_errors(void)
{
    sb_csim *s = make(4, 0);
    sb_val_free(call(s, 5, "submit_jobs",
                     "{\"jobs\":[{\"hyperparameters\":{\"learning_rate\":-0.1,\"batch_size\":64}},"
                     "{\"hyperparameters\":{\"learning_rate\":0,\"batch_size\":64}},"
                     "{\"hyperparameters\":{\"learning_rate\":0.001,\"batch_size\":12.5}},"
                     "{\"hyperparameters\":{\"learning_rate\":0.001,\"batch_size\":0}},"
                     "{\"hyperparameters\":{\"learning_rate\":0.001,\"batch_size\":\"64\"}},"
                     "{\"hyperparameters\":{\"learning_rate\":0.001,\"dropout\":1}},"
                     "{\"hyperparameters\":{\"learning_rate\":0.001,\"dropout\":-0.1}},"
                     "{\"hyperparameters\":" BEST "}]}"));
    sb_val st = call(s, 5, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(count(st, "failed"), 7);
    CHECK_INT(count(st, "running"), 1); /* invalid jobs take no slot */
    const char *want[] = {
        "invalid config: learning_rate must be a number > 0 (got -0.1)",
        "invalid config: learning_rate must be a number > 0 (got 0)",
        "invalid config: batch_size must be a positive integer (got 12.5)",
        "invalid config: batch_size must be a positive integer (got 0)",
        "invalid config: batch_size must be a positive integer (got \"64\")",
        "invalid config: dropout must be a number in [0, 1) (got 1)",
        "invalid config: dropout must be a number in [0, 1) (got -0.1)",
    };
    for (size_t i = 0; i < 7; i++) {
        sb_val j = *sb_list_at(*get(st, "jobs"), i);
        CHECK_STR(gstr(j, "status"), "failed");
        CHECK_STR(gstr(j, "error_type"), "permanent");
        CHECK_STR(gstr(j, "error"), want[i]);
        CHECK_INT(geti(j, "finished_at_ms"), 5);
        CHECK(get(j, "started_at_ms")->kind == SB_NULL);
        CHECK_INT(geti(j, "duration_seconds"), 0);
        CHECK(getd(j, "cost_usd") == 0);
    }
    CHECK_STR(gstr(*find_job(st, "job_008"), "status"), "running");
    sb_val_free(st);
    sb_csim_free(s);
}

static void test_idempotent_submission(void)
{
    sb_csim *s = make(5, 0);
    const char *req = "{\"idempotency_key\":\"sweep-1\",\"jobs\":[{\"hyperparameters\":" BEST
                      "},{\"hyperparameters\":{\"dropout\":0.1,\"learning_rate\":0.001}}]}";
    sb_val a = call(s, 0, "submit_jobs", req);
    CHECK_STR(gstr(a, "handle_id"), "h_0001");
    CHECK(get(a, "replayed")->kind == SB_NULL);
    /* Same request later, keys in another order: the first answer again. */
    sb_val b = call(s, 60000, "submit_jobs",
                    "{\"jobs\":[{\"hyperparameters\":" BEST "},{\"hyperparameters\":{\"learning_rate\":0.001,"
                    "\"dropout\":0.1}}],\"idempotency_key\":\"sweep-1\"}");
    CHECK_STR(gstr(b, "handle_id"), "h_0001");
    CHECK(sb_val_equal(*get(a, "job_ids"), *get(b, "job_ids")));
    CHECK_INT(geti(b, "accepted"), 2);
    CHECK(get(b, "replayed")->kind == SB_BOOL && get(b, "replayed")->as.b);
    sb_val_free(a);
    sb_val_free(b);
    sb_val st = call(s, 60000, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(count(st, "total"), 2);
    sb_val_free(st);
    CHECK(contains(call_err(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0002\"}"), "unknown handle_id 'h_0002'"));
    /* The same key for another request is refused. */
    CHECK(contains(call_err(s, 60000, "submit_jobs",
                            "{\"idempotency_key\":\"sweep-1\",\"jobs\":[{\"hyperparameters\":" BEST "}]}"),
                   "idempotency_key 'sweep-1' was already used for a different request"));
    /* A job id already present is never run twice. */
    CHECK(contains(call_err(s, 60000, "submit_jobs",
                            "{\"handle_id\":\"h_0001\",\"jobs\":[{\"hyperparameters\":" BEST "},"
                            "{\"job_id\":\"job_002\",\"hyperparameters\":" BEST "}]}"),
                   "job_id 'job_002' already exists in handle h_0001"));
    CHECK(contains(call_err(s, 60000, "submit_jobs",
                            "{\"handle_id\":\"h_0001\",\"jobs\":[{\"job_id\":\"x\",\"hyperparameters\":" BEST "},"
                            "{\"job_id\":\"x\",\"hyperparameters\":" BEST "}]}"),
                   "job_id 'x' appears twice in this request"));
    st = call(s, 60000, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(count(st, "total"), 2); /* the refused calls added nothing */
    sb_val_free(st);
    sb_csim_free(s);
}

static void test_retry_joins_handle(void)
{
    sb_csim *s = make(6, 0);
    sb_val_free(call(s, 0, "submit_jobs",
                     "{\"jobs\":[{\"hyperparameters\":" BEST "},"
                     "{\"hyperparameters\":{\"learning_rate\":0.01,\"batch_size\":128,\"dropout\":0.3}}]}"));
    int64_t t = 0;
    sb_val st = run_to_end(s, "h_0001", &t);
    CHECK_STR(gstr(*find_job(st, "job_002"), "status"), "failed");
    char cursor[32];
    snprintf(cursor, sizeof cursor, "%s", gstr(st, "cursor"));
    sb_val_free(st);

    sb_val sub = call(s, t, "submit_jobs",
                      "{\"handle_id\":\"h_0001\",\"jobs\":[{\"job_id\":\"job_002_retry_1\",\"retry_of\":\"job_002\","
                      "\"estimated_cost_usd\":25.2,"
                      "\"hyperparameters\":{\"learning_rate\":0.005,\"batch_size\":128,\"dropout\":0.3}}]}");
    CHECK_STR(gstr(sub, "handle_id"), "h_0001");
    CHECK(sb_str_eq(*sb_list_at(*get(sub, "job_ids"), 0), "job_002_retry_1"));
    sb_val_free(sub);
    char args[128];
    snprintf(args, sizeof args, "{\"handle_id\":\"h_0001\",\"since_cursor\":\"%s\"}", cursor);
    st = call(s, t, "get_jobs_status", args);
    CHECK_INT(sb_list_len(*get(st, "jobs")), 1);
    CHECK_STR(gstr(*find_job(st, "job_002_retry_1"), "retry_of"), "job_002");
    CHECK_STR(gstr(*find_job(st, "job_002_retry_1"), "status"), "running");
    CHECK(getd(*find_job(st, "job_002_retry_1"), "estimated_cost_usd") == 25.2);
    CHECK(!get(st, "done")->as.b);
    sb_val_free(st);

    st = run_to_end(s, "h_0001", &t);
    CHECK_STR(gstr(*find_job(st, "job_002_retry_1"), "status"), "completed");
    CHECK_INT(count(st, "total"), 3);
    CHECK(get(st, "done")->as.b);
    sb_val_free(st);

    /* Default ids go on from the handle's own count. */
    sub = call(s, t, "submit_jobs", "{\"handle_id\":\"h_0001\",\"jobs\":[{\"hyperparameters\":" BEST "}]}");
    CHECK(sb_str_eq(*sb_list_at(*get(sub, "job_ids"), 0), "job_003"));
    sb_val_free(sub);
    CHECK(contains(call_err(s, t, "submit_jobs",
                            "{\"handle_id\":\"h_0001\",\"jobs\":[{\"retry_of\":\"job_404\",\"hyperparameters\":{}}]}"),
                   "retry_of 'job_404' is not a job of handle h_0001"));
    CHECK(contains(call_err(s, t, "submit_jobs", "{\"jobs\":[{\"retry_of\":\"job_001\",\"hyperparameters\":{}}]}"),
                   "retry_of needs handle_id"));
    sb_csim_free(s);
}

static void test_cancel(void)
{
    sb_csim *s = make(7, 0);
    sb_val_free(submit_n(s, 0, 8, BEST));
    sb_val c =
        call(s, HOUR, "cancel_jobs", "{\"handle_id\":\"h_0001\",\"job_ids\":[\"job_007\",\"job_001\",\"job_001\"]}");
    CHECK_INT(sb_list_len(*get(c, "cancelled")), 2);
    CHECK(sb_str_eq(*sb_list_at(*get(c, "cancelled"), 0), "job_001"));
    CHECK(sb_str_eq(*sb_list_at(*get(c, "cancelled"), 1), "job_007"));
    CHECK(getd(c, "cost_usd_charged") == 12.6); /* one running hour */
    sb_val_free(c);
    sb_val st = call(s, HOUR, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(count(st, "cancelled"), 2);
    CHECK_INT(count(st, "running"), 5);
    CHECK_INT(geti(*find_job(st, "job_006"), "started_at_ms"), HOUR); /* took the freed slot */
    CHECK_INT(geti(*find_job(st, "job_001"), "duration_seconds"), 3600);
    CHECK(getd(*find_job(st, "job_001"), "cost_usd") == 12.6);
    CHECK(get(*find_job(st, "job_007"), "cost_usd")->kind == SB_NULL); /* never ran */
    sb_val_free(st);

    CHECK(contains(call_err(s, HOUR, "cancel_jobs", "{\"handle_id\":\"h_0001\",\"job_ids\":[\"nope\"]}"),
                   "job 'nope' is not in handle h_0001"));
    /* All the rest: job_002..005 running 1.5 h, job_006 0.5 h, job_008 queued. */
    c = call(s, HOUR + HOUR / 2, "cancel_jobs", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(sb_list_len(*get(c, "cancelled")), 6);
    CHECK(fabs(getd(c, "cost_usd_charged") - (4 * 18.9 + 6.3)) < 1e-9);
    sb_val_free(c);
    st = call(s, 2 * HOUR, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK(get(st, "done")->as.b);
    CHECK_INT(count(st, "cancelled"), 8);
    sb_val_free(st);
    c = call(s, 2 * HOUR, "cancel_jobs", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(sb_list_len(*get(c, "cancelled")), 0);
    sb_val_free(c);
    CHECK_INT(sb_csim_next_event_ms(s, 2 * HOUR), -1);
    sb_csim_free(s);
}

/* A full scenario with failures of every kind; the JSON of every answer. */
static char *transcript(uint64_t seed)
{
    sb_csim *s = make(seed, 0.2);
    sb_buf b = SB_BUF_INIT;
    const char *lr[] = {"0.0001", "0.001", "0.01"}, *bs[] = {"32", "64", "128"}, *dr[] = {"0.1", "0.3", "0.5"};
    sb_buf jobs = SB_BUF_INIT;
    sb_buf_puts(&jobs, "{\"idempotency_key\":\"k\",\"jobs\":[");
    for (int i = 0; i < 27; i++)
        sb_buf_printf(&jobs, "%s{\"hyperparameters\":{\"learning_rate\":%s,\"batch_size\":%s,\"dropout\":%s}}",
                      i ? "," : "", lr[i / 9], bs[i / 3 % 3], dr[i % 3]);
    sb_buf_puts(&jobs, "]}");
    int64_t t = 0;
    sb_val r = call_raw(s, t, "submit_jobs", sb_buf_str(&jobs));
    sb_val_write_json(&b, r, 0);
    sb_val_free(r);
    sb_buf_free(&jobs);
    char cursor[64] = "c_0";
    for (int64_t next; (next = sb_csim_next_event_ms(s, t)) >= 0;) {
        t = next + 1500;
        char args[128];
        snprintf(args, sizeof args, "{\"handle_id\":\"h_0001\",\"since_cursor\":\"%s\"}", cursor);
        r = call_raw(s, t, "get_jobs_status", args);
        sb_val_write_json(&b, r, 0);
        sb_buf_putc(&b, '\n');
        snprintf(cursor, sizeof cursor, "%s", gstr(*get(r, "structuredContent"), "cursor"));
        sb_val_free(r);
    }
    sb_csim_free(s);
    return sb_buf_take(&b);
}

static void test_determinism(void)
{
    char *a = transcript(42), *b = transcript(42), *c = transcript(43);
    CHECK(a && b && c);
    CHECK(strcmp(a, b) == 0);
    CHECK(strcmp(a, c) != 0);
    CHECK(contains(a, "\"status\":\"failed\""));
    CHECK(contains(a, "NaN loss"));
    CHECK(strlen(a) > 10000);
    sb_free(a);
    sb_free(b);
    sb_free(c);
}

static void test_best_region(void)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        sb_csim *s = make(seed, 0);
        sb_buf jobs = SB_BUF_INIT;
        const char *lr[] = {"0.0001", "0.001", "0.01"}, *bs[] = {"32", "64", "128"}, *dr[] = {"0.1", "0.3", "0.5"};
        sb_buf_puts(&jobs, "{\"jobs\":[");
        for (int i = 0; i < 27; i++)
            sb_buf_printf(&jobs, "%s{\"hyperparameters\":{\"learning_rate\":%s,\"batch_size\":%s,\"dropout\":%s}}",
                          i ? "," : "", lr[i / 9], bs[i / 3 % 3], dr[i % 3]);
        sb_buf_puts(&jobs, "]}");
        sb_val_free(call(s, 0, "submit_jobs", sb_buf_str(&jobs)));
        sb_buf_free(&jobs);
        int64_t t = 0;
        sb_val st = run_to_end(s, "h_0001", &t);
        /* best = lr index 1, batch index 1, dropout index 1 = job 14 */
        const sb_val *best = find_job(st, "job_014");
        double best_acc = getd(*get(*best, "metrics"), "val_acc");
        double best_loss = getd(*get(*best, "metrics"), "train_loss");
        CHECK(best_acc >= 85.6 && best_acc <= 86.4);
        int completed = 0;
        for (size_t i = 0; i < 27; i++) {
            sb_val j = *sb_list_at(*get(st, "jobs"), i);
            if (i == 13 || !sb_str_eq(*get(j, "status"), "completed"))
                continue;
            completed++;
            double acc = getd(*get(j, "metrics"), "val_acc");
            CHECK(acc < best_acc);
            CHECK(acc > 60);
            CHECK(getd(*get(j, "metrics"), "train_loss") > best_loss);
        }
        CHECK_INT(completed, 26 - 3); /* lr 0.01 with batch 128: three NaN failures */
        /* Falling off smoothly: one step away costs less than two steps. */
        double one = getd(*get(*find_job(st, "job_013"), "metrics"), "val_acc"); /* dropout 0.1 */
        double two = getd(*get(*find_job(st, "job_010"), "metrics"), "val_acc"); /* batch 32, dropout 0.1 */
        double far = getd(*get(*find_job(st, "job_001"), "metrics"), "val_acc"); /* lr 1e-4, 32, 0.1 */
        CHECK(one > two && two > far);
        sb_val_free(st);
        sb_csim_free(s);
    }
}

static void test_infra_failures(void)
{
    /* Rate 1: every first attempt is struck; its retry never is. */
    sb_csim *s = make(8, 1.0);
    sb_val_free(submit_n(s, 0, 3, BEST));
    int64_t t = 0;
    sb_val st = run_to_end(s, "h_0001", &t);
    for (size_t i = 0; i < 3; i++) {
        sb_val j = *sb_list_at(*get(st, "jobs"), i);
        CHECK_STR(gstr(j, "status"), "failed");
        CHECK_STR(gstr(j, "error_type"), "transient");
        CHECK(sb_str_eq(*get(j, "error"), "CUDA out of memory") ||
              sb_str_eq(*get(j, "error"), "connection reset by peer"));
        CHECK(getd(j, "cost_usd") > 0);
    }
    sb_val_free(st);
    sb_val_free(call(s, t, "submit_jobs",
                     "{\"handle_id\":\"h_0001\",\"jobs\":[{\"job_id\":\"job_001_retry_1\",\"retry_of\":\"job_001\","
                     "\"hyperparameters\":" BEST "}]}"));
    st = run_to_end(s, "h_0001", &t);
    CHECK_STR(gstr(*find_job(st, "job_001_retry_1"), "status"), "completed");
    sb_val_free(st);
    /* A retry of that retry may be struck again (not twice in a row). */
    sb_val_free(
        call(s, t, "submit_jobs",
             "{\"handle_id\":\"h_0001\",\"jobs\":[{\"job_id\":\"job_001_retry_2\",\"retry_of\":\"job_001_retry_1\","
             "\"hyperparameters\":" BEST "}]}"));
    st = run_to_end(s, "h_0001", &t);
    CHECK_STR(gstr(*find_job(st, "job_001_retry_2"), "status"), "failed");
    sb_val_free(st);
    sb_csim_free(s);

    /* The default rate, about 3%. */
    sb_csim_options o;
    sb_csim_options_init(&o);
    o.seed = 9;
    o.max_concurrent = 1000;
    s = sb_csim_create(&o);
    sb_val_free(submit_n(s, 0, 2000, BEST));
    t = 0;
    st = run_to_end(s, "h_0001", &t);
    CHECK(count(st, "failed") >= 30 && count(st, "failed") <= 95);
    sb_val_free(st);
    sb_csim_free(s);
}

static void test_cost_model_options(void)
{
    sb_csim_options o;
    sb_csim_options_init(&o);
    sb_val cm = parse("{\"gpu_hour_usd\":10,\"gpus_per_trial\":2,\"base_hours\":1,"
                      "\"duration_scale\":{\"batch_size\":{\"32\":1.5,\"128\":0.5}}}");
    CHECK(sb_csim_options_from_cost_model(&o, cm));
    CHECK(o.gpu_hour_usd == 10 && o.gpus_per_trial == 2 && o.base_hours == 1);
    o.infra_failure_rate = 0;
    sb_csim *s = sb_csim_create(&o);
    sb_val_free(cm); /* copied at create */
    sb_val_free(call(s, 0, "submit_jobs",
                     "{\"jobs\":[{\"hyperparameters\":{\"batch_size\":32}},{\"hyperparameters\":{\"batch_size\":64}},"
                     "{\"hyperparameters\":{\"batch_size\":128.0}}]}"));
    int64_t t = 0;
    sb_val st = run_to_end(s, "h_0001", &t);
    double lo[] = {1.35, 0.9, 0.45}, hi[] = {1.65, 1.1, 0.55};
    for (size_t i = 0; i < 3; i++) {
        sb_val j = *sb_list_at(*get(st, "jobs"), i);
        double h = geti(j, "duration_seconds") / 3600.0;
        CHECK(h >= lo[i] - 1e-3 && h <= hi[i] + 1e-3);
        CHECK(fabs(getd(j, "cost_usd") - floor(h * 2 * 10 * 100 + 0.5) / 100) < 1e-9);
    }
    sb_val_free(st);
    sb_csim_free(s);

    sb_csim_options_init(&o);
    cm = parse("{\"gpu_hour_usd\":\"cheap\"}");
    CHECK(!sb_csim_options_from_cost_model(&o, cm));
    CHECK(o.gpu_hour_usd == 12.60);
    sb_val_free(cm);
    cm = parse("{\"base_hours\":0}");
    CHECK(!sb_csim_options_from_cost_model(&o, cm));
    sb_val_free(cm);
    CHECK(!sb_csim_options_from_cost_model(&o, sb_null()));
}

static void test_bad_calls(void)
{
    sb_csim *s = make(10, 0);
    CHECK(contains(call_err(s, 0, "launch_rockets", "{}"), "unknown tool 'launch_rockets'"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "[1]"), "arguments must be an object"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{}"), "jobs must be a non-empty list"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"jobs\":[]}"), "jobs must be a non-empty list"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"jobs\":[3]}"), "jobs[0] must be an object"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"jobs\":[{\"hyperparameters\":{}},{}]}"),
                   "jobs[1].hyperparameters must be an object"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"jobs\":[{\"job_id\":\"\",\"hyperparameters\":{}}]}"),
                   "jobs[0].job_id must be a non-empty string"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"jobs\":[{\"estimated_cost_usd\":\"1\",\"hyperparameters\":{}}]}"),
                   "estimated_cost_usd must be a number"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"handle_id\":7,\"jobs\":[{\"hyperparameters\":{}}]}"),
                   "handle_id must be a string"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"handle_id\":\"h_0001\",\"jobs\":[{\"hyperparameters\":{}}]}"),
                   "unknown handle_id 'h_0001'"));
    CHECK(contains(call_err(s, 0, "submit_jobs", "{\"idempotency_key\":5,\"jobs\":[{\"hyperparameters\":{}}]}"),
                   "idempotency_key must be a non-empty string"));
    CHECK(contains(call_err(s, 0, "get_jobs_status", "{}"), "get_jobs_status: handle_id must be a string"));
    CHECK(contains(call_err(s, 0, "cancel_jobs", "{\"handle_id\":\"h_1\"}"), "unknown handle_id 'h_1'"));
    sb_val_free(submit_n(s, 0, 1, BEST));
    CHECK(contains(call_err(s, 0, "get_jobs_status", "{\"handle_id\":\"h_01\"}"), "unknown handle_id 'h_01'"));
    CHECK(contains(call_err(s, 0, "cancel_jobs", "{\"handle_id\":\"h_0001\",\"job_ids\":\"job_001\"}"),
                   "job_ids must be a list"));
    CHECK(contains(call_err(s, 0, "cancel_jobs", "{\"handle_id\":\"h_0001\",\"job_ids\":[1]}"),
                   "job_ids[0] must be a string"));
    /* A successful result has the MCP shape, its text the JSON of structuredContent. */
    sb_val r = call_raw(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK(!is_error(r));
    char *sc = sb_val_to_json(*get(r, "structuredContent"), 0);
    CHECK_STR(gstr(*sb_list_at(*get(r, "content"), 0), "text"), sc);
    CHECK_STR(gstr(*sb_list_at(*get(r, "content"), 0), "type"), "text");
    sb_free(sc);
    sb_val_free(r);
    sb_csim_free(s);
}

static void test_time_and_events(void)
{
    sb_csim *s = make(11, 0);
    CHECK_INT(sb_csim_next_event_ms(s, 0), -1);
    sb_val_free(call_raw(s, 1000, "get_jobs_status", "{\"handle_id\":\"h_0001\"}")); /* error, but time is 1000 */
    sb_val sub = submit_n(s, 500, 1, BEST);                                          /* clock went back */
    sb_val_free(sub);
    sb_val st = call(s, 500, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    const sb_val *j = find_job(st, "job_001");
    CHECK_INT(geti(*j, "submitted_at_ms"), 1000);
    CHECK_INT(geti(*j, "started_at_ms"), 1000);
    int64_t end = sb_csim_next_event_ms(s, 1000);
    CHECK(end > 1000);
    /* A host that overslept is told to call now. */
    CHECK_INT(sb_csim_next_event_ms(s, end + 5), end + 5);
    sb_val_free(st);
    st = call(s, end - 1, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_STR(gstr(*find_job(st, "job_001"), "status"), "running");
    sb_val_free(st);
    st = call(s, end, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_STR(gstr(*find_job(st, "job_001"), "status"), "completed");
    CHECK_INT(geti(*find_job(st, "job_001"), "finished_at_ms"), end);
    sb_val_free(st);
    sb_csim_free(s);
    sb_csim_free(NULL);

    /* Times are clamped to [0, 2^62]. */
    s = make(12, 0);
    sb_val_free(submit_n(s, -5000, 1, BEST));
    st = call(s, -1, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(geti(*find_job(st, "job_001"), "submitted_at_ms"), 0);
    sb_val_free(st);
    st = call(s, INT64_MAX, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_STR(gstr(*find_job(st, "job_001"), "status"), "completed");
    CHECK(get(st, "done")->as.b);
    sb_val_free(st);
    sb_csim_free(s);
}

static void test_tools_list(void)
{
    size_t n = 0;
    const sb_tool_desc *t = sb_csim_tools(&n);
    CHECK_INT(n, 3);
    const char *names[] = {"submit_jobs", "get_jobs_status", "cancel_jobs"};
    for (size_t i = 0; i < n && i < 3; i++) {
        CHECK_STR(t[i].name, names[i]);
        CHECK(strlen(t[i].description) > 20);
        sb_val schema = parse(t[i].input_schema_json);
        CHECK(schema.kind == SB_MAP);
        CHECK_STR(gstr(schema, "type"), "object");
        sb_val_free(schema);
    }
}

SB_TEST_MAIN(TEST(test_lifecycle_and_concurrency) TEST(test_since_cursor) TEST(test_nan_failure_partial_cost)
                 TEST(test_permanent_errors) TEST(test_idempotent_submission) TEST(test_retry_joins_handle)
                     TEST(test_cancel) TEST(test_determinism) TEST(test_best_region) TEST(test_infra_failures)
                         TEST(test_cost_model_options) TEST(test_bad_calls) TEST(test_time_and_events)
                             TEST(test_tools_list))
