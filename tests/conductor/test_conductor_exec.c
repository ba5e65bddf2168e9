/* The Conductor with an external executor (sb_conductor_exec.h), driven by a
 * fake host: the effects it is handed are written down as one line each
 * ("START job_001 cap 4000", "KILL job_002 cancel") and compared with what
 * the contract says; the host's reports are calls. Prices are chosen so a
 * second costs a dollar (gpu_hour_usd 3600) and caps are whole dollars. */
#include "conductor/sb_conductor_exec.h"
#include "csim_test_util.h"
#include "sb_failalloc.h"
#include "sb_test.h"

#include <math.h>

static sb_csim *make(int slots, double time_scale)
{
    sb_csim_options o;
    sb_csim_options_init(&o);
    o.max_concurrent = slots;
    o.gpu_hour_usd = 3600;
    o.cap_margin_fraction = 0;
    return sb_csim_create_external(&o, time_scale);
}

/* Every effect pending, one line each, in order. */
static const char *drain(sb_csim *s)
{
    static char buf[1024];
    size_t n = 0;
    buf[0] = 0;
    sb_csim_effect e;
    while (sb_csim_next_effect(s, &e) && n < sizeof buf - 80) {
        if (e.kind == SB_CSIM_START)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%sSTART %s cap %lld", n ? "; " : "", e.job_id,
                                  (long long)e.cap_ms);
        else
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%sKILL %s %s", n ? "; " : "", e.job_id,
                                  e.reason == SB_CSIM_KILL_CAP ? "cap" : "cancel");
    }
    return buf;
}

/* A job's ref by id: refs are submission indices. */
static sb_csim_job_ref ref_of(sb_csim *s, const char *job_id)
{
    (void)s;
    return (sb_csim_job_ref)(atoi(job_id + 4) - 1);
}

static void finish_ok(sb_csim *s, int64_t t, const char *id, int64_t run_ms, double acc)
{
    sb_val m = sb_map_new(1);
    sb_map_set_str(&m, "val_acc", sb_double(acc));
    sb_csim_result r = {.ok = true, .metrics = m, .run_ms = run_ms};
    CHECK(sb_csim_job_finished(s, t, ref_of(s, id), &r));
    sb_val_free(m);
}

static void finish_failed(sb_csim *s, int64_t t, const char *id, int64_t run_ms, const char *err, const char *type)
{
    sb_csim_result r = {.ok = false, .metrics = sb_null(), .error = err, .error_type = type, .run_ms = run_ms};
    CHECK(sb_csim_job_finished(s, t, ref_of(s, id), &r));
}

static sb_val status(sb_csim *s, int64_t t)
{
    return call(s, t, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
}

#define FOUR_JOBS                                                                                                      \
    "{\"jobs\":[{\"hyperparameters\":{\"lr\":1},\"cost_cap_usd\":4},{\"hyperparameters\":{\"lr\":2},"                  \
    "\"cost_cap_usd\":4},{\"hyperparameters\":{\"lr\":3},\"cost_cap_usd\":4},{\"hyperparameters\":{\"lr\":4},"         \
    "\"cost_cap_usd\":4}]}"

/* FIFO order into the slots; a launched job shows queued until reported
 * running; a finished job's slot goes to the next one at once. */
static void test_start_order_and_slots(void)
{
    sb_csim *s = make(2, 1);
    sb_val sub = call(s, 0, "submit_jobs", FOUR_JOBS);
    CHECK_STR(drain(s), "START job_001 cap 4000; START job_002 cap 4000");
    sb_val st = status(s, 0);
    CHECK_INT(count(st, "queued"), 4);
    CHECK_INT(count(st, "running"), 0);
    sb_val_free(st);
    sb_csim_job_running(s, 100, ref_of(s, "job_001"));
    sb_csim_job_running(s, 100, ref_of(s, "job_002"));
    CHECK_STR(drain(s), "");
    st = status(s, 200);
    CHECK_INT(count(st, "running"), 2);
    CHECK_INT(count(st, "queued"), 2);
    CHECK_STR(gstr(*find_job(st, "job_001"), "status"), "running");
    sb_val_free(st);
    finish_ok(s, 1100, "job_002", 1000, 91.5);
    CHECK_STR(drain(s), "START job_003 cap 4000");
    st = status(s, 1100);
    const sb_val *j2 = find_job(st, "job_002");
    CHECK_STR(gstr(*j2, "status"), "completed");
    CHECK(fabs(getd(*get(*j2, "metrics"), "val_acc") - 91.5) < 1e-9);
    CHECK(fabs(getd(*j2, "cost_usd") - 1.0) < 1e-9);
    CHECK_INT(geti(*j2, "duration_seconds"), 1);
    sb_val_free(st);
    sb_val_free(sub);
    sb_csim_free(s);
}

/* The budget rule with costs the host measured: $10, caps of $4: two fit;
 * job_001 is charged $2 for 1.5 s (whole seconds, as durations are), which
 * leaves room for a third (2 + 4 + 4 <= 10). With time scale 2 the same
 * 1.5 s costs $3. */
static void test_budget_rule_with_real_costs(void)
{
    sb_csim *s = make(5, 1);
    sb_val sub = call(s, 0, "submit_jobs",
                      "{\"budget_usd\":10,\"jobs\":[{\"hyperparameters\":{},\"cost_cap_usd\":4},"
                      "{\"hyperparameters\":{},\"cost_cap_usd\":4},{\"hyperparameters\":{},\"cost_cap_usd\":4}]}");
    CHECK_STR(drain(s), "START job_001 cap 4000; START job_002 cap 4000");
    sb_csim_job_running(s, 0, 0);
    finish_ok(s, 1500, "job_001", 1500, 50);
    CHECK_STR(drain(s), "START job_003 cap 4000");
    sb_val st = status(s, 1500);
    CHECK(fabs(getd(*get(st, "budget"), "spent_usd") - 2) < 1e-9);
    CHECK(fabs(getd(*get(st, "budget"), "running_caps_usd") - 8) < 1e-9);
    sb_val_free(st);
    sb_val_free(sub);
    sb_csim_free(s);

    s = make(5, 2);
    sub = call(s, 0, "submit_jobs", "{\"jobs\":[{\"hyperparameters\":{},\"cost_cap_usd\":4}]}");
    CHECK_STR(drain(s), "START job_001 cap 2000"); /* 4 conductor s = 2 host s */
    sb_csim_job_running(s, 0, 0);
    finish_ok(s, 3000, "job_001", 1500, 50);
    st = status(s, 3000);
    CHECK(fabs(getd(*find_job(st, "job_001"), "cost_usd") - 3.0) < 1e-9);
    CHECK_INT(geti(*find_job(st, "job_001"), "duration_seconds"), 3);
    sb_val_free(st);
    sb_val_free(sub);
    sb_csim_free(s);
}

/* At its cap deadline the core asks for the kill (once); whatever the host
 * then reports, the job fails with error_type budget, charged its cap. */
static void test_cap_kill(void)
{
    sb_csim *s = make(1, 1);
    sb_val sub = call(s, 0, "submit_jobs",
                      "{\"jobs\":[{\"hyperparameters\":{},\"cost_cap_usd\":4},"
                      "{\"hyperparameters\":{},\"cost_cap_usd\":4}]}");
    CHECK_STR(drain(s), "START job_001 cap 4000");
    sb_csim_job_running(s, 1000, 0);
    CHECK_INT(sb_csim_next_event_ms(s, 1000), 5000);
    sb_csim_tick(s, 4999);
    CHECK_STR(drain(s), "");
    sb_csim_tick(s, 5000);
    CHECK_STR(drain(s), "KILL job_001 cap");
    sb_csim_tick(s, 6000);
    CHECK_STR(drain(s), "");
    CHECK_INT(sb_csim_next_event_ms(s, 6000), -1);
    finish_failed(s, 6200, "job_001", 5200, "Terminated", "permanent");
    CHECK_STR(drain(s), "START job_002 cap 4000");
    sb_val st = status(s, 6200);
    const sb_val *j = find_job(st, "job_001");
    CHECK_STR(gstr(*j, "status"), "failed");
    CHECK_STR(gstr(*j, "error_type"), "budget");
    CHECK_STR(gstr(*j, "error"), "stopped at its cost cap of $4.00");
    CHECK(fabs(getd(*j, "cost_usd") - 4.0) < 1e-9);
    sb_val_free(st);
    sb_val_free(sub);
    sb_csim_free(s);
}

/* Cancel: a running job and a launched one are killed, a queued one just
 * ends; the money settles at the cancel, but the slots stay held until the
 * host reports the processes gone, so no more than max_concurrent run. */
static void test_cancel_running_and_queued(void)
{
    sb_csim *s = make(2, 1);
    sb_val sub = call(s, 0, "submit_jobs", FOUR_JOBS);
    CHECK_STR(drain(s), "START job_001 cap 4000; START job_002 cap 4000");
    sb_csim_job_running(s, 0, 0);
    sb_val r =
        call(s, 2000, "cancel_jobs", "{\"handle_id\":\"h_0001\",\"job_ids\":[\"job_001\",\"job_002\",\"job_003\"]}");
    CHECK(fabs(getd(r, "cost_usd_charged") - 2.0) < 1e-9);
    CHECK_INT(sb_list_len(*get(r, "cancelled")), 3);
    sb_val_free(r);
    CHECK_STR(drain(s), "KILL job_001 cancel; KILL job_002 cancel");
    sb_val st = status(s, 2000);
    CHECK_INT(count(st, "cancelled"), 3);
    CHECK_INT(count(st, "queued"), 1);
    CHECK(fabs(getd(*find_job(st, "job_001"), "cost_usd") - 2.0) < 1e-9);
    sb_val_free(st);
    /* the kill took a while: still billed as at the cancel */
    finish_failed(s, 2600, "job_001", 2600, "killed", NULL);
    CHECK_STR(drain(s), "START job_004 cap 4000");
    finish_failed(s, 2700, "job_002", -1, "killed", NULL);
    CHECK_STR(drain(s), "");
    st = status(s, 2700);
    CHECK_STR(gstr(*find_job(st, "job_001"), "status"), "cancelled");
    CHECK(fabs(getd(*find_job(st, "job_001"), "cost_usd") - 2.0) < 1e-9);
    sb_val_free(st);
    sb_val_free(sub);
    sb_csim_free(s);
}

/* A cursor returns the jobs changed since; launching is no change (the job
 * still reads queued), running and finishing are. A failure without a class
 * carries no error_type (the client classifies it); with one it does. */
static void test_since_cursor_and_classes(void)
{
    sb_csim *s = make(2, 1);
    sb_val sub = call(s, 0, "submit_jobs", FOUR_JOBS);
    drain(s);
    sb_val st = status(s, 0);
    CHECK_STR(gstr(st, "cursor"), "c_4");
    sb_val_free(st);
    st = call(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\",\"since_cursor\":\"c_4\"}");
    CHECK_INT(sb_list_len(*get(st, "jobs")), 0);
    sb_val_free(st);
    sb_csim_job_running(s, 10, 1);
    finish_failed(s, 20, "job_002", 10, "NaN loss at epoch 3", "transient");
    finish_failed(s, 30, "job_001", 30, "exit status 1: bad flag", NULL);
    st = call(s, 40, "get_jobs_status", "{\"handle_id\":\"h_0001\",\"since_cursor\":\"c_4\"}");
    CHECK_INT(sb_list_len(*get(st, "jobs")), 2);
    const sb_val *a = find_job(st, "job_001"), *b = find_job(st, "job_002");
    CHECK_STR(gstr(*b, "error_type"), "transient");
    CHECK_STR(gstr(*b, "error"), "NaN loss at epoch 3");
    CHECK(get(*a, "error_type")->kind == SB_NULL);
    CHECK_STR(gstr(*a, "error"), "exit status 1: bad flag");
    CHECK_STR(gstr(st, "cursor"), "c_8");
    sb_val_free(st);
    CHECK_STR(drain(s), "START job_003 cap 4000; START job_004 cap 4000");
    sb_val_free(sub);
    sb_csim_free(s);
}

/* A repeated idempotency key starts nothing more. */
static void test_idempotent_submit_starts_once(void)
{
    sb_csim *s = make(5, 1);
    const char *req = "{\"idempotency_key\":\"k1\",\"jobs\":[{\"hyperparameters\":{},\"cost_cap_usd\":4}]}";
    sb_val a = call(s, 0, "submit_jobs", req), b = call(s, 10, "submit_jobs", req);
    CHECK_STR(drain(s), "START job_001 cap 4000");
    CHECK(get(b, "replayed")->kind == SB_BOOL);
    sb_val_free(a);
    sb_val_free(b);
    sb_csim_free(s);
}

/* Reports for unknown jobs, or twice, change nothing. */
static void test_stray_reports(void)
{
    sb_csim *s = make(1, 1);
    sb_val sub = call(s, 0, "submit_jobs", "{\"jobs\":[{\"hyperparameters\":{},\"cost_cap_usd\":4}]}");
    drain(s);
    finish_ok(s, 100, "job_001", 100, 1);
    finish_ok(s, 200, "job_001", 100, 2);
    sb_csim_job_running(s, 300, 0);
    sb_csim_job_running(s, 300, 99);
    finish_ok(s, 300, "job_099", 100, 1);
    sb_val st = status(s, 300);
    CHECK_INT(count(st, "completed"), 1);
    CHECK(fabs(getd(*get(*find_job(st, "job_001"), "metrics"), "val_acc") - 1) < 1e-9);
    sb_val_free(st);
    sb_val_free(sub);
    sb_csim_free(s);
}

/* A whole fake-host session with allocations failing: every call either
 * works or changes nothing (a report that returns false is made again once
 * memory is back), nothing leaks, and the jobs the core took all end. */
/* A tool call whose arguments are parsed with allocations working (the
 * parse is the test's, not the core's), then made with them failing as
 * armed. */
static bool oom_armed;
static sb_val call_armed(sb_csim *s, int64_t t, const char *tool, const char *json)
{
    long left = sb_failalloc_left;
    sb_failalloc_disarm();
    sb_val args = parse(json);
    if (oom_armed)
        sb_failalloc_arm(left);
    sb_val r = sb_csim_call(s, t, tool, args);
    long left2 = sb_failalloc_left;
    sb_failalloc_disarm();
    sb_val_free(args);
    if (oom_armed)
        sb_failalloc_arm(left2);
    return r;
}

static void oom_session(bool check)
{
    oom_armed = !check;
    sb_csim *s = make(2, 1);
    if (!s)
        return;
    sb_val r = call_armed(s, 0, "submit_jobs", FOUR_JOBS);
    bool took = !sb_is_oom(r) && !is_error(r);
    sb_val_free(r);
    sb_csim_effect e;
    sb_val m = sb_map_new(1);
    sb_map_set_str(&m, "val_acc", sb_double(90));
    sb_csim_job_ref started[8];
    size_t n = 0;
    for (int round = 0; round < 6; round++) {
        while (sb_csim_next_effect(s, &e))
            if (e.kind == SB_CSIM_START && n < 8)
                started[n++] = e.job;
        for (size_t k = 0; k < n; k++)
            sb_csim_job_running(s, 100 * round, started[k]);
        if (round == 1) {
            r = call_armed(s, 150, "cancel_jobs", "{\"handle_id\":\"h_0001\",\"job_ids\":[\"job_004\"]}");
            sb_val_free(r);
        }
        for (size_t k = 0; k < n; k++) {
            sb_csim_result res = {
                .ok = k % 2 == 0, .metrics = m, .error = "NaN loss", .error_type = "transient", .run_ms = 50};
            if (!sb_csim_job_finished(s, 100 * round + 50, started[k], &res)) {
                sb_failalloc_disarm();
                oom_armed = false;
                CHECK(sb_csim_job_finished(s, 100 * round + 50, started[k], &res));
            }
        }
        n = 0;
        r = call_armed(s, 100 * round + 60, "get_jobs_status", "{\"handle_id\":\"h_0001\",\"since_cursor\":\"c_1\"}");
        sb_val_free(r);
    }
    sb_failalloc_disarm();
    if (took) {
        sb_val st = status(s, 1000);
        CHECK(get(st, "done")->kind == SB_BOOL && get(st, "done")->as.b);
        CHECK_INT(count(st, "total"), 4);
        if (check)
            CHECK_INT(count(st, "completed") + count(st, "failed") + count(st, "cancelled"), 4);
        sb_val_free(st);
    }
    sb_val_free(m);
    sb_csim_free(s);
}

static void test_failing_allocations(void)
{
    long n = sb_failalloc_until_enough(oom_session);
    CHECK(n > 20);
    printf("# clean after failing each of the first %ld allocations\n", n);
}

SB_TEST_MAIN(TEST(test_failing_allocations) TEST(test_start_order_and_slots) TEST(test_budget_rule_with_real_costs)
                 TEST(test_cap_kill) TEST(test_cancel_running_and_queued) TEST(test_since_cursor_and_classes)
                     TEST(test_idempotent_submit_starts_once) TEST(test_stray_reports))
