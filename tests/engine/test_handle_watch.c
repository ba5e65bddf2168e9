/* sb_handle_watch: a handle polled on its own, against the embedded
 * simulated Conductor reached through real MCP messages (core/services). */
#include "sb_test.h"
#include "sb_failalloc.h"

#include "config/sb_yaml.h"
#include "engine/sb_handle.h"
#include "json/sb_json.h"
#include "services/sb_services.h"

static const char workspace_yaml[] = "version: 1\n"
                                     "servers:\n"
                                     "  conductor: {transport: embedded, service: conductor_sim}\n"
                                     "simulation: {seed: 3, max_concurrent: 2, infra_failure_rate: 0}\n";

static const char submit_body[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"submit_jobs\",\"arguments\":{"
    "\"jobs\":[{\"hyperparameters\":{\"learning_rate\":0.001,\"batch_size\":64,\"dropout\":0.3}},"
    "{\"hyperparameters\":{\"learning_rate\":0.01,\"batch_size\":128,\"dropout\":0.1}},"
    "{\"hyperparameters\":{\"learning_rate\":0.0001,\"batch_size\":32,\"dropout\":0.5}}]}}}";

static const char handle_json[] = "{\"$type\":\"PollableJobHandle\",\"server\":\"conductor\",\"handle_id\":\"h_0001\","
                                  "\"job_ids\":[\"job_001\",\"job_002\",\"job_003\"],"
                                  "\"status_tool\":\"get_jobs_status\",\"submit_tool\":\"submit_jobs\"}";

/* Answers every request the watcher has; counts status calls with a cursor. */
static void pump(sb_services *svc, sb_handle_watch *w, int64_t now, int *with_cursor)
{
    sb_mcp_request q;
    while (sb_handle_watch_next_request(w, now, &q)) {
        if (q.body && strstr(q.body, "since_cursor"))
            ++*with_cursor;
        int status = 0;
        char *resp = sb_services_handle(svc, "conductor", now, q.body ? q.body : "", q.body_len, &status);
        sb_handle_watch_on_response(w, q.id, status, resp ? "application/json" : NULL, NULL, resp ? resp : "",
                                    resp ? strlen(resp) : 0, now);
        sb_free(resp);
    }
}

/* Returns true when the whole scenario ran; *finished counts handed-out jobs. */
static bool scenario(int *finished, int *nan_failures, int *polls_with_cursor)
{
    *finished = *nan_failures = *polls_with_cursor = 0;
    sb_diags *d = sb_diags_new();
    sb_val ws = sb_null(), handle = sb_null();
    bool ok = d && sb_yaml_load("ws.yaml", workspace_yaml, sizeof workspace_yaml - 1, d, &ws);
    sb_services *svc = ok ? sb_services_new(ws, 3) : NULL;
    int status = 0;
    char *resp = svc ? sb_services_handle(svc, "conductor", 0, submit_body, sizeof submit_body - 1, &status) : NULL;
    ok = resp && status == 200 && strstr(resp, "h_0001");
    handle = ok ? sb_json_parse(handle_json, sizeof handle_json - 1) : sb_null();
    sb_handle_watch *w = handle.kind == SB_MAP ? sb_handle_watch_new(handle) : NULL;
    ok = w != NULL;
    bool done = false;
    for (int64_t now = 600000; ok && !done && now < 48 * 3600000LL; now += 600000) {
        if (!sb_handle_watch_poll(w)) {
            ok = false;
            break;
        }
        pump(svc, w, now, polls_with_cursor);
        sb_val job;
        while (sb_handle_watch_next_result(w, &job)) {
            ++*finished;
            const sb_val *e = sb_map_get_str(job, "error");
            if (e && strstr(sb_str(*e), "NaN"))
                ++*nan_failures;
            sb_val_free(job);
        }
        sb_val st = sb_handle_watch_status(w);
        const sb_val *dn = sb_map_get_str(st, "done");
        if (sb_map_get_str(st, "error") || st.kind != SB_MAP)
            ok = false;
        done = dn && dn->kind == SB_BOOL && dn->as.b;
        sb_val_free(st);
    }
    sb_handle_watch_free(w);
    sb_val_free(handle);
    sb_free(resp);
    sb_services_free(svc);
    sb_val_free(ws);
    sb_diags_free(d);
    return ok && done;
}

static void test_poll_once_and_iterate(void)
{
    int finished, nan, cursor;
    CHECK(scenario(&finished, &nan, &cursor));
    CHECK_INT(finished, 3); /* each job exactly once */
    CHECK_INT(nan, 1);      /* lr 0.01 with batch 128 */
    CHECK(cursor > 0);      /* later polls pass the since-cursor */
}

static void test_rejects_what_is_not_a_handle(void)
{
    sb_val v = sb_json_parse("{\"handle_id\":\"h\"}", 17);
    CHECK(sb_handle_watch_new(v) == NULL);
    sb_val_free(v);
    sb_val h = sb_json_parse(handle_json, sizeof handle_json - 1);
    sb_handle_watch *w = sb_handle_watch_new(h);
    CHECK(w && sb_handle_watch_poll(w));
    CHECK(w && !sb_handle_watch_poll(w)); /* one status call at a time */
    sb_handle_watch_free(w);
    sb_val_free(h);
}

/* The same handle as text (an ExternalHandle): the first answer, without a
 * cursor, lists every job; cancel_jobs stops the unfinished ones, and the
 * next answer reports them cancelled with their partial cost, as chunks in
 * the stream format. An mcp_task handle is not a job handle. */
static void test_external_handle_and_cancel(void)
{
    sb_diags *d = sb_diags_new();
    sb_val ws = sb_null();
    CHECK(sb_yaml_load("ws.yaml", workspace_yaml, sizeof workspace_yaml - 1, d, &ws));
    sb_services *svc = sb_services_new(ws, 3);
    int status = 0, cursor = 0;
    char *resp = sb_services_handle(svc, "conductor", 0, submit_body, sizeof submit_body - 1, &status);
    sb_val h = sb_handle_parse("conductor:conductor_handle:h_0001", 33);
    sb_val task = sb_handle_parse("conductor:mcp_task:t1", 21);
    CHECK(sb_handle_watch_new(task) == NULL);
    sb_handle_watch *w = sb_handle_watch_new(h);
    CHECK(w != NULL);
    if (w) {
        /* An hour in: two jobs run, the NaN-loss one (lr 0.01, batch 128) failed early. */
        CHECK(sb_handle_watch_poll(w));
        pump(svc, w, 3600000, &cursor);
        CHECK_INT(cursor, 0);
        sb_val st = sb_handle_watch_status(w);
        char *js = sb_val_to_json(st, 0);
        CHECK(js && strstr(js, "\"counts\":{\"queued\":0,\"running\":2,\"completed\":0,\"failed\":1,\"cancelled\":0,"
                               "\"total\":3}"));
        CHECK(js && strstr(js, "\"handle\":{\"$type\":\"ExternalHandle\""));
        sb_free(js);
        sb_val_free(st);
        CHECK(sb_handle_watch_cancel(w));
        CHECK(!sb_handle_watch_cancel(w)); /* one at a time */
        pump(svc, w, 3600000, &cursor);
        sb_val c = sb_handle_watch_cancelled(w);
        const sb_val *ids = sb_map_get_str(c, "cancelled");
        CHECK(ids && sb_list_len(*ids) == 2);
        CHECK(sb_handle_watch_poll(w));
        pump(svc, w, 3600000, &cursor);
        int cancelled = 0, charged = 0;
        sb_val job;
        while (sb_handle_watch_next_result(w, &job)) {
            sb_val chunk = sb_handle_chunk(job);
            const sb_val *t = sb_map_get_str(chunk, "type"), *cost = sb_map_get_str(chunk, "cost_usd");
            double x = 0;
            cancelled += t && sb_str_eq(*t, "job_cancelled");
            charged += cost && sb_val_as_double(*cost, &x) && x > 0;
            CHECK(sb_map_get_str(chunk, "hyperparameters") && sb_map_get_str(chunk, "duration_seconds"));
            sb_val_free(chunk);
            sb_val_free(job);
        }
        CHECK_INT(cancelled, 2);
        CHECK_INT(charged, 3); /* the failed one's partial cost, and the two that ran for an hour */
        CHECK(!sb_handle_watch_busy(w));
    }
    sb_handle_watch_free(w);
    sb_val_free(h);
    sb_val_free(task);
    sb_free(resp);
    sb_services_free(svc);
    sb_val_free(ws);
    sb_diags_free(d);
}

static void test_oom_is_clean(void)
{
    int finished, nan, cursor;
    bool completed = false;
    for (long n = 0; !completed && n < 20000; n++) {
        sb_failalloc_arm(n);
        completed = scenario(&finished, &nan, &cursor);
        sb_failalloc_disarm();
    }
    CHECK(completed);
}

SB_TEST_MAIN(TEST(test_poll_once_and_iterate) TEST(test_rejects_what_is_not_a_handle)
                 TEST(test_external_handle_and_cancel) TEST(test_oom_is_clean))
