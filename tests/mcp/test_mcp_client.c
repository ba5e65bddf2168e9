/* The client against scripted server answers: every step is the request the
 * client must send next and what the server says back. */
#include "sb_failalloc.h"
#include "mcp_script.h"
#include "util/sb_alloc.h"

#define INIT_BODY(id)                                                                                             \
    RPC "\"id\":" #id ",\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","              \
        "\"capabilities\":{},\"clientInfo\":{\"name\":\"sibyl\",\"version\":\"0.1.0\"}}}"
#define INIT_OK(id, ver)                                                                                          \
    RPC "\"id\":" #id ",\"result\":{\"protocolVersion\":\"" ver "\",\"capabilities\":{\"tools\":{}},"            \
        "\"serverInfo\":{\"name\":\"conductor-ref\",\"version\":\"9\"}}}"
#define NOTIFY_BODY RPC "\"method\":\"notifications/initialized\"}"
#define CALL_BODY(id) RPC "\"id\":" #id ",\"method\":\"tools/call\",\"params\":{\"name\":\"submit_jobs\",\"arguments\":{\"n\":1}}}"
#define RESULT_JSON "{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"structuredContent\":{\"handle\":\"h1\"}}"
#define RESULT(id) RPC "\"id\":" #id ",\"result\":" RESULT_JSON "}"
#define V "2025-11-25"

/* The handshake every session starts with (rpc id 1, session s1). */
#define HANDSHAKE(SID)                                                                                            \
    {.method = "POST", .body = INIT_BODY(1), .status = 200, .ctype = JSON, .resp_sid = SID, .resp = INIT_OK(1, V)}, \
    {.method = "POST", .body = NOTIFY_BODY, .sid = SID, .version = V, .status = 202}

static sb_mcp_client *client(void) { return sb_mcp_client_new("conductor", "sibyl", "0.1.0"); }

static uint64_t submit(sb_mcp_client *c)
{
    sb_val args = sb_map_new(1);
    sb_map_set_str(&args, "n", sb_int(1));
    uint64_t id = sb_mcp_client_call_tool(c, "submit_jobs", args);
    sb_val_free(args);
    return id;
}

static void test_json_answer(void)
{
    sb_mcp_client *c = client();
    sb_mcp_request r;
    CHECK(!sb_mcp_client_next_request(c, 0, &r)); /* nothing queued: no session yet */
    uint64_t call = submit(c);
    CHECK_INT(call, 1);
    CHECK(sb_mcp_client_busy(c));
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = CALL_BODY(2), .sid = "s1", .version = V, .status = 200, .ctype = JSON,
         .resp = RESULT(2)},
    };
    run_script(c, script);
    expect_result(c, call, RESULT_JSON);
    CHECK(!sb_mcp_client_next_request(c, 0, &r));
    CHECK(!sb_mcp_client_busy(c));
    CHECK_STR(sb_mcp_client_protocol_version(c), V);
    CHECK_STR(sb_str(*sb_map_get_str(sb_mcp_client_server_info(c), "name")), "conductor-ref");
    sb_mcp_client_free(c);
    sb_mcp_client_free(NULL);
}

/* An SSE answer: a priming event, progress and a log line, then the
 * response split over two data lines. */
static void test_sse_answer_with_progress(void)
{
    sb_mcp_client *c = client();
    sb_val args = sb_map_new(0);
    sb_mcp_call_opts opts = {.progress = true};
    uint64_t call = sb_mcp_client_call_tool_ex(c, "plan", args, &opts);
    sb_val_free(args);
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST",
         .body = RPC "\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"plan\",\"arguments\":{},"
                     "\"_meta\":{\"progressToken\":1}}}",
         .sid = "s1", .version = V, .status = 200, .ctype = "Text/Event-Stream; charset=utf-8",
         .resp = "id: ev0\ndata: \n\n"
                 "event: message\nid: ev1\n"
                 "data: " RPC "\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1,"
                 "\"total\":3}}\n\n"
                 "id: ev2\r\ndata: " RPC "\"method\":\"notifications/message\",\"params\":{\"level\":\"info\","
                 "\"data\":\"half way\"}}\r\n\r\n"
                 ": keep-alive\n\n"
                 "id: ev3\ndata: " RPC "\"id\":2,\ndata: \"result\":" RESULT_JSON "}\n\n"},
    };
    run_script(c, script);
    sb_mcp_event ev;
    CHECK(sb_mcp_client_next_event(c, &ev));
    CHECK_INT(ev.call_id, call);
    CHECK_STR(sb_str(ev.method), "notifications/progress");
    CHECK_INT(sb_map_get_str(ev.params, "total")->as.i, 3);
    sb_mcp_event_clear(&ev);
    CHECK(sb_mcp_client_next_event(c, &ev));
    CHECK_INT(ev.call_id, call);
    CHECK_STR(sb_str(ev.method), "notifications/message");
    CHECK_STR(sb_str(*sb_map_get_str(ev.params, "data")), "half way");
    sb_mcp_event_clear(&ev);
    CHECK(!sb_mcp_client_next_event(c, &ev));
    expect_result(c, call, RESULT_JSON);
    sb_mcp_client_free(c);
}

/* 404 to a request with a session id: re-initialize, resend once. */
static void test_session_expiry(void)
{
    sb_mcp_client *c = client();
    uint64_t call = submit(c);
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = CALL_BODY(2), .sid = "s1", .version = V, .status = 404},
        {.method = "POST", .body = INIT_BODY(3), .status = 200, .ctype = JSON, .resp_sid = "s2", .resp = INIT_OK(3, V)},
        {.method = "POST", .body = NOTIFY_BODY, .sid = "s2", .version = V, .status = 202},
        {.method = "POST", .body = CALL_BODY(4), .sid = "s2", .version = V, .status = 200, .ctype = JSON,
         .resp = RESULT(4)},
    };
    run_script(c, script);
    expect_result(c, call, RESULT_JSON);

    /* Expiring again right after re-initializing is an error, not a loop. */
    call = submit(c);
    static const step again[] = {
        {.method = "POST", .body = CALL_BODY(5), .sid = "s2", .version = V, .status = 404},
        {.method = "POST", .body = INIT_BODY(6), .status = 200, .ctype = JSON, .resp_sid = "s3", .resp = INIT_OK(6, V)},
        {.method = "POST", .body = NOTIFY_BODY, .sid = "s3", .version = V, .status = 202},
        {.method = "POST", .body = CALL_BODY(7), .sid = "s3", .version = V, .status = 404},
    };
    run_script(c, again);
    expect_error(c, call,
                 "server 'conductor': tools/call submit_jobs: HTTP 404: the session expired again after re-initializing");
    sb_mcp_request r;
    CHECK(!sb_mcp_client_next_request(c, 0, &r));
    sb_mcp_client_free(c);
}

/* Without a session id, 404 is just an HTTP error. */
static void test_404_without_session(void)
{
    sb_mcp_client *c = client();
    uint64_t call = submit(c);
    static const step script[] = {
        HANDSHAKE(NULL),
        {.method = "POST", .body = CALL_BODY(2), .version = V, .status = 404, .ctype = "text/plain", .resp = "nope"},
    };
    run_script(c, script);
    expect_error(c, call, "server 'conductor': tools/call submit_jobs: HTTP 404");
    sb_mcp_client_free(c);
}

static void test_protocol_versions(void)
{
    sb_mcp_client *c = client();
    uint64_t a = submit(c), b = submit(c);
    static const step refused[] = {
        {.method = "POST", .body = INIT_BODY(1), .status = 200, .ctype = JSON, .resp_sid = "s1",
         .resp = INIT_OK(1, "2024-11-05")},
    };
    run_script(c, refused);
    const char *msg = "server 'conductor': tools/call submit_jobs: initialize: server chose protocol version "
                      "\"2024-11-05\"; sibyl speaks 2025-11-25, 2025-06-18, 2025-03-26";
    expect_error(c, a, msg);
    expect_error(c, b, msg);
    sb_mcp_request r;
    CHECK(!sb_mcp_client_next_request(c, 0, &r));
    CHECK(sb_mcp_client_protocol_version(c) == NULL);

    /* An older revision we speak is used in every header after initialize. */
    uint64_t d = submit(c);
    static const step older[] = {
        {.method = "POST", .body = INIT_BODY(2), .status = 200, .ctype = JSON, .resp = INIT_OK(2, "2025-03-26")},
        {.method = "POST", .body = NOTIFY_BODY, .version = "2025-03-26", .status = 202},
        {.method = "POST", .body = CALL_BODY(3), .version = "2025-03-26", .status = 200, .ctype = JSON,
         .resp = RESULT(3)},
    };
    run_script(c, older);
    expect_result(c, d, RESULT_JSON);
    sb_mcp_client_free(c);
}

/* Failures of one call, each with the message the engine shows. */
static const struct failure {
    int status;
    const char *ctype, *resp, *msg;
} failures[] = {
    {200, JSON, RPC "\"id\":2,\"error\":{\"code\":-32602,\"message\":\"Invalid params: n must be > 1\"}}",
     "server 'conductor': tools/call submit_jobs: JSON-RPC error -32602: Invalid params: n must be > 1"},
    {500, "text/html", "<h1>oops</h1>", "server 'conductor': tools/call submit_jobs: HTTP 500"},
    {400, JSON, RPC "\"id\":null,\"error\":{\"code\":-32000,\"message\":\"Bad Request: No valid session ID\"}}",
     "server 'conductor': tools/call submit_jobs: HTTP 400: JSON-RPC error -32000: Bad Request: No valid session ID"},
    {0, NULL, "connection refused", "server 'conductor': tools/call submit_jobs: transport error: connection refused"},
    {202, NULL, "", "server 'conductor': tools/call submit_jobs: HTTP 202 without a response body"},
    {200, "text/html", "<p>hi</p>",
     "server 'conductor': tools/call submit_jobs: HTTP 200 with unexpected Content-Type 'text/html'"},
    {200, JSON, RPC "\"id\":99,\"result\":{}}", "server 'conductor': tools/call submit_jobs: the answer has id 99, not 2"},
    {200, JSON, "{\"jsonrpc\":\"2.0\",\"id\":2", "server 'conductor': tools/call submit_jobs: invalid answer: not JSON: "
                                               "line 1, column 24: unexpected end of JSON text"},
    {200, JSON, RPC "\"id\":2,\"result\":[1]}", "server 'conductor': tools/call submit_jobs: the result is list, not an object"},
    {200, SSE, "data: " RPC "\"method\":\"notifications/progress\",\"params\":{}}\n\n",
     "server 'conductor': tools/call submit_jobs: the SSE stream ended without the response (and without an event "
     "id to resume from)"},
};

static void test_call_failures(void)
{
    for (size_t i = 0; i < sizeof failures / sizeof *failures; i++) {
        const struct failure *f = &failures[i];
        sb_mcp_client *c = client();
        uint64_t call = submit(c);
        const step script[] = {
            HANDSHAKE("s1"),
            {.method = "POST", .body = CALL_BODY(2), .sid = "s1", .version = V, .status = f->status,
             .ctype = f->ctype, .resp = f->resp},
        };
        run_script(c, script);
        expect_error(c, call, f->msg);
        sb_mcp_client_free(c);
    }
}

/* isError results come back as results: the engine needs structuredContent. */
static void test_is_error_result(void)
{
    sb_mcp_client *c = client();
    uint64_t call = submit(c);
#define TOOL_ERR                                                                                                  \
    "{\"content\":[{\"type\":\"text\",\"text\":\"budget too small\"},{\"type\":\"image\",\"data\":\"\"},"         \
    "{\"type\":\"text\",\"text\":\"need $40\"}],\"structuredContent\":{\"error_type\":\"permanent\"},"            \
    "\"isError\":true}"
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = CALL_BODY(2), .sid = "s1", .version = V, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":2,\"result\":" TOOL_ERR "}"},
    };
    run_script(c, script);
    uint64_t id;
    sb_val r;
    CHECK(sb_mcp_client_next_completion(c, &id, &r));
    CHECK_INT(id, call);
    CHECK(sb_mcp_result_is_error(r));
    sb_val e = sb_mcp_result_error("conductor", "submit_jobs", r);
    CHECK_STR(sb_str(e), "server 'conductor': tools/call submit_jobs: tool error: budget too small\nneed $40");
    sb_val_free(e);
    CHECK_STR(sb_str(*sb_map_get_str(*sb_map_get_str(r, "structuredContent"), "error_type")), "permanent");
    sb_val t = sb_mcp_result_text(r);
    CHECK_STR(sb_str(t), "budget too small\nneed $40");
    sb_val_free(t);
    sb_val_free(r);
    sb_mcp_client_free(c);

    /* No text content: the structured content says what went wrong. */
    sb_val res = sb_map_new(2);
    sb_map_set_str(&res, "isError", sb_bool(true));
    sb_map_set_str(&res, "structuredContent", sb_string_cstr("x"));
    e = sb_mcp_result_error("s", "t", res);
    CHECK_STR(sb_str(e), "server 's': tools/call t: tool error: \"x\"");
    sb_val_free(e);
    sb_map_set_str(&res, "isError", sb_bool(false));
    CHECK(sb_mcp_result_error("s", "t", res).kind == SB_NULL);
    sb_val_free(res);
}

/* A failed initialize fails the waiting calls; the next call starts over. */
static void test_init_failure_then_retry(void)
{
    sb_mcp_client *c = client();
    uint64_t a = submit(c);
    static const step fail[] = {
        {.method = "POST", .body = INIT_BODY(1), .status = 0, .resp = "timed out after 30000 ms"},
    };
    run_script(c, fail);
    expect_error(c, a, "server 'conductor': tools/call submit_jobs: initialize: transport error: timed out after 30000 ms");
    uint64_t b = submit(c);
    static const step notify_fails[] = {
        {.method = "POST", .body = INIT_BODY(2), .status = 200, .ctype = JSON, .resp_sid = "s1", .resp = INIT_OK(2, V)},
        {.method = "POST", .body = NOTIFY_BODY, .sid = "s1", .version = V, .status = 500},
    };
    run_script(c, notify_fails);
    expect_error(c, b, "server 'conductor': tools/call submit_jobs: notifications/initialized: HTTP 500");
    uint64_t d = submit(c);
    static const step ok[] = {
        /* Some servers answer the notification with 200 and a body: fine. */
        {.method = "POST", .body = INIT_BODY(3), .status = 200, .ctype = JSON, .resp_sid = "s2", .resp = INIT_OK(3, V)},
        {.method = "POST", .body = NOTIFY_BODY, .sid = "s2", .version = V, .status = 200, .ctype = JSON, .resp = "{}"},
        {.method = "POST", .body = CALL_BODY(4), .sid = "s2", .version = V, .status = 200, .ctype = JSON,
         .resp = RESULT(4)},
    };
    run_script(c, ok);
    expect_result(c, d, RESULT_JSON);
    uint64_t e = submit(c);
    static const step bad_sid[] = {
        {.method = "POST", .body = CALL_BODY(5), .sid = "s2", .version = V, .status = 404},
        {.method = "POST", .body = INIT_BODY(6), .status = 200, .ctype = JSON, .resp_sid = "bad id",
         .resp = INIT_OK(6, V)},
    };
    run_script(c, bad_sid);
    expect_error(c, e, "server 'conductor': tools/call submit_jobs: initialize: the server sent an invalid MCP-Session-Id");
    sb_mcp_client_free(c);
}

/* The stream ends early with an id and retry: GET + Last-Event-ID after
 * retry ms, and the response arrives on the resumed stream. */
static void test_sse_resumption(void)
{
    sb_mcp_client *c = client();
    uint64_t call = submit(c);
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = CALL_BODY(2), .sid = "s1", .version = V, .now = 10000, .status = 200, .ctype = SSE,
         .resp = "id: e1\nretry: 500\ndata: \n\n"
                 "id: e2\ndata: " RPC "\"method\":\"notifications/progress\",\"params\":{\"progressToken\":7,"
                 "\"progress\":1}}\n\n"},
        /* A resumed stream that again ends early: same retry (it persists), last id kept. */
        {.method = "GET", .sid = "s1", .version = V, .last_event_id = "e2", .not_before = 10500, .now = 10600,
         .status = 200, .ctype = SSE, .resp = ": nothing yet\n\n"},
        {.method = "GET", .sid = "s1", .version = V, .last_event_id = "e2", .not_before = 11100, .now = 11200,
         .status = 200, .ctype = SSE, .resp = "retry: 2000\nid: e3\ndata: " RESULT(2) "\n\n"},
    };
    run_script(c, script);
    expect_result(c, call, RESULT_JSON);
    sb_mcp_event ev;
    CHECK(sb_mcp_client_next_event(c, &ev));
    CHECK_INT(ev.call_id, call); /* unknown token 7: the stream's call */
    sb_mcp_event_clear(&ev);

    /* A stream with an id but no retry is resumed after the default second;
     * GET refused (405) is an error. */
    call = submit(c);
    static const step no_retry[] = {
        {.method = "POST", .body = CALL_BODY(3), .sid = "s1", .version = V, .now = 50000, .status = 200, .ctype = SSE,
         .resp = "id: x\ndata:\n\n"},
        {.method = "GET", .sid = "s1", .version = V, .last_event_id = "x", .not_before = 51000, .status = 405},
    };
    run_script(c, no_retry);
    expect_error(c, call, "server 'conductor': tools/call submit_jobs: HTTP 405");
    sb_mcp_client_free(c);
}

/* tools/call with task {ttl}: poll tasks/get at pollInterval, then tasks/result. */
static void test_task_polling(void)
{
    sb_mcp_client *c = client();
    sb_val args = sb_map_new(0);
    sb_mcp_call_opts opts = {.task_ttl_ms = 60000};
    uint64_t call = sb_mcp_client_call_tool_ex(c, "train", args, &opts);
    uint64_t cancelled = sb_mcp_client_call_tool_ex(c, "train", args, &opts);
    sb_val_free(args);
#define TASK(id, st, extra)                                                                                       \
    "{\"taskId\":\"" id "\",\"status\":\"" st "\",\"createdAt\":\"2025-11-25T10:00:00Z\",\"lastUpdatedAt\":"      \
    "\"2025-11-25T10:00:00Z\",\"ttl\":60000" extra "}"
#define TCALL(id) RPC "\"id\":" #id ",\"method\":\"tools/call\",\"params\":{\"name\":\"train\",\"arguments\":{},\"task\":{\"ttl\":60000}}}"
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = TCALL(2), .sid = "s1", .version = V, .now = 1000, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":2,\"result\":{\"task\":" TASK("t1", "working", ",\"pollInterval\":2000") "}}"},
        {.method = "POST", .body = TCALL(3), .sid = "s1", .version = V, .now = 1000, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":3,\"result\":{\"task\":" TASK("t2", "working", ",\"pollInterval\":0") "}}"},
        {.method = "POST", .body = RPC "\"id\":4,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"t1\"}}", .sid = "s1",
         .version = V, .not_before = 3000, .now = 3000, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":4,\"result\":" TASK("t1", "working", "") "}"},
        {.method = "POST", .body = RPC "\"id\":5,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"t2\"}}", .sid = "s1",
         .version = V, .not_before = 1010, .now = 3000, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":5,\"result\":" TASK("t2", "cancelled", ",\"statusMessage\":\"by operator\"") "}"},
        {.method = "POST", .body = RPC "\"id\":6,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"t1\"}}", .sid = "s1",
         .version = V, .not_before = 4000, .now = 4000, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":6,\"result\":" TASK("t1", "completed", "") "}"},
        {.method = "POST", .body = RPC "\"id\":7,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"t1\"}}",
         .sid = "s1", .version = V, .now = 4000, .status = 200, .ctype = JSON, .resp = RESULT(7)},
    };
    run_script(c, script);
    expect_error(c, cancelled, "server 'conductor': tools/call train: task t2 was cancelled: by operator");
    expect_result(c, call, RESULT_JSON);
    sb_mcp_client_free(c);
}

/* A task this client did not start (an ExternalHandle of kind mcp_task):
 * tasks/get at once, again after pollInterval, tasks/result when it ended;
 * an unknown task fails naming it. */
static void test_follow_task(void)
{
    sb_mcp_client *c = client();
    uint64_t call = sb_mcp_client_follow_task(c, "t9");
    uint64_t unknown = sb_mcp_client_follow_task(c, "nope");
    CHECK(call > 0 && unknown > 0 && sb_mcp_client_follow_task(c, "") == 0);
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = RPC "\"id\":2,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"t9\"}}", .sid = "s1",
         .version = V, .now = 1000, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":2,\"result\":" TASK("t9", "working", ",\"pollInterval\":2500") "}"},
        {.method = "POST", .body = RPC "\"id\":3,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"nope\"}}",
         .sid = "s1", .version = V, .now = 1000, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":3,\"error\":{\"code\":-32602,\"message\":\"unknown task nope\"}}"},
        {.method = "POST", .body = RPC "\"id\":4,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"t9\"}}", .sid = "s1",
         .version = V, .not_before = 3500, .now = 3500, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":4,\"result\":" TASK("t9", "completed", "") "}"},
        {.method = "POST", .body = RPC "\"id\":5,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"t9\"}}",
         .sid = "s1", .version = V, .now = 3500, .status = 200, .ctype = JSON, .resp = RESULT(5)},
    };
    run_script(c, script);
    expect_error(c, unknown, "server 'conductor': task nope: tasks/get: JSON-RPC error -32602: unknown task nope");
    expect_result(c, call, RESULT_JSON);
    sb_mcp_client_free(c);

    /* In the session the task belongs to (borrowed): no initialize, and no
     * DELETE when done, since the session is its owner's. */
    c = client();
    CHECK(sb_mcp_client_use_session(c, "owner-s7", NULL));
    call = sb_mcp_client_follow_task(c, "t1");
    CHECK(!sb_mcp_client_use_session(c, "other", NULL)); /* only before the first request */
    static const step borrowed[] = {
        {.method = "POST", .body = RPC "\"id\":1,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"t1\"}}",
         .sid = "owner-s7", .version = V, .now = 0, .status = 200, .ctype = JSON,
         .resp = RPC "\"id\":1,\"result\":" TASK("t1", "completed", "") "}"},
        {.method = "POST", .body = RPC "\"id\":2,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"t1\"}}",
         .sid = "owner-s7", .version = V, .now = 0, .status = 200, .ctype = JSON, .resp = RESULT(2)},
    };
    run_script(c, borrowed);
    expect_result(c, call, RESULT_JSON);
    sb_mcp_client_close(c);
    sb_mcp_request q;
    CHECK(!sb_mcp_client_next_request(c, 0, &q));
    sb_mcp_client_free(c);
}

/* Requests from the server on a stream get an answer: ping a result, the
 * rest -32601, since sibyl offers no client capabilities. */
static void test_server_requests_answered(void)
{
    sb_mcp_client *c = client();
    uint64_t call = submit(c);
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = CALL_BODY(2), .sid = "s1", .version = V, .status = 200, .ctype = SSE,
         .resp = "data: " RPC "\"id\":\"srv1\",\"method\":\"sampling/createMessage\",\"params\":{}}\n\n"
                 "data: " RPC "\"id\":\"srv2\",\"method\":\"ping\"}\n\n"
                 "data: not json at all\n\n"
                 "data: " RESULT(2) "\n\n"},
        {.method = "POST",
         .body = RPC "\"id\":\"srv1\",\"error\":{\"code\":-32601,\"message\":\"Method not found: sibyl's MCP client "
                     "does not support sampling/createMessage\"}}",
         .sid = "s1", .version = V, .status = 202},
        {.method = "POST", .body = RPC "\"id\":\"srv2\",\"result\":{}}", .sid = "s1", .version = V, .status = 202},
    };
    run_script(c, script);
    expect_result(c, call, RESULT_JSON);
    sb_mcp_client_free(c);
}

static void test_close(void)
{
    sb_mcp_client *c = client();
    uint64_t a = submit(c);
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = CALL_BODY(2), .sid = "s1", .version = V, .status = 200, .ctype = JSON,
         .resp = RESULT(2)},
    };
    run_script(c, script);
    uint64_t b = submit(c);
    sb_mcp_request r;
    CHECK(sb_mcp_client_next_request(c, 0, &r)); /* b is in flight when we close */
    uint64_t b_http = r.id;
    sb_mcp_client_close(c);
    expect_result(c, a, RESULT_JSON);
    expect_error(c, b, "server 'conductor': tools/call submit_jobs: client closed");
    static const step bye[] = {{.method = "DELETE", .sid = "s1", .version = V, .status = 405}};
    run_script(c, bye);
    const char *late = RESULT(3);
    sb_mcp_client_on_response(c, b_http, 200, JSON, NULL, late, strlen(late), 0); /* ignored */
    uint64_t d = submit(c);
    expect_error(c, d, "server 'conductor': tools/call submit_jobs: client closed");
    CHECK(!sb_mcp_client_next_request(c, 0, &r));
    CHECK(!sb_mcp_client_busy(c));
    sb_mcp_client_free(c);
}

/* Calls in flight at once; answers in any order; completions in the order
 * they finished. */
static void test_concurrent_calls(void)
{
    sb_mcp_client *c = client();
    uint64_t a = submit(c), b = submit(c);
    static const step hs[] = {HANDSHAKE("s1")};
    run_script(c, hs);
    sb_mcp_request ra, rb, rx;
    CHECK(sb_mcp_client_next_request(c, 0, &ra));
    CHECK_STR(ra.body, CALL_BODY(2));
    uint64_t ida = ra.id;
    CHECK(sb_mcp_client_next_request(c, 0, &rb));
    CHECK_STR(rb.body, CALL_BODY(3));
    CHECK(!sb_mcp_client_next_request(c, 0, &rx));
    const char *r3 = RPC "\"id\":3,\"result\":{\"content\":[]}}";
    sb_mcp_client_on_response(c, rb.id, 200, JSON, NULL, r3, strlen(r3), 0);
    sb_mcp_client_on_response(c, rb.id, 200, JSON, NULL, r3, strlen(r3), 0); /* duplicate: ignored */
    sb_mcp_client_on_response(c, 999, 200, JSON, NULL, r3, strlen(r3), 0);   /* unknown: ignored */
    const char *r2 = RESULT(2);
    sb_mcp_client_on_response(c, ida, 200, JSON, NULL, r2, strlen(r2), 0);
    expect_result(c, b, "{\"content\":[]}");
    expect_result(c, a, RESULT_JSON);
    uint64_t id;
    sb_val v;
    CHECK(!sb_mcp_client_next_completion(c, &id, &v));
    sb_mcp_client_free(c);
}

/* The session expires while a stream waits to be resumed: the call is sent
 * again in a new session rather than resumed in the dead one. */
static void test_resumption_after_expiry(void)
{
    sb_mcp_client *c = client();
    uint64_t call = submit(c);
    static const step script[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = CALL_BODY(2), .sid = "s1", .version = V, .status = 200, .ctype = SSE,
         .resp = "id: e1\nretry: 100\ndata:\n\n"},
        {.method = "GET", .sid = "s1", .version = V, .last_event_id = "e1", .not_before = 100, .now = 100,
         .status = 404},
        {.method = "POST", .body = INIT_BODY(3), .now = 100, .status = 200, .ctype = SSE, .resp_sid = "s2",
         .resp = "data: " INIT_OK(3, "2025-06-18") "\n\n"},
        {.method = "POST", .body = NOTIFY_BODY, .sid = "s2", .version = "2025-06-18", .status = 202},
        {.method = "POST", .body = CALL_BODY(4), .sid = "s2", .version = "2025-06-18", .status = 200, .ctype = JSON,
         .resp = RESULT(4)},
    };
    run_script(c, script);
    expect_result(c, call, RESULT_JSON);
    sb_mcp_client_free(c);
}

/* Events wait for the host, but only so many: the rest are counted. */
static void test_event_queue_is_bounded(void)
{
    sb_mcp_client *c = client();
    uint64_t call = submit(c);
    static const step hs[] = {HANDSHAKE("s1")};
    run_script(c, hs);
    sb_buf sse = SB_BUF_INIT;
    for (int i = 0; i < SB_MCP_MAX_EVENTS + 6; i++)
        sb_buf_printf(&sse, "data: " RPC "\"method\":\"notifications/message\",\"params\":{\"n\":%d}}\n\n", i);
    sb_buf_puts(&sse, "data: " RESULT(2) "\n\n");
    sb_mcp_request r;
    CHECK(sb_mcp_client_next_request(c, 0, &r));
    sb_mcp_client_on_response(c, r.id, 200, SSE, NULL, sse.data, sse.len, 0);
    sb_buf_free(&sse);
    expect_result(c, call, RESULT_JSON);
    CHECK_INT(sb_mcp_client_events_dropped(c), 6);
    sb_mcp_event ev;
    size_t n = 0;
    while (sb_mcp_client_next_event(c, &ev)) {
        CHECK_INT(sb_map_get_str(ev.params, "n")->as.i, (int64_t)n);
        n++;
        sb_mcp_event_clear(&ev);
    }
    CHECK_INT(n, SB_MCP_MAX_EVENTS);
    sb_mcp_client_free(c);
}

/* A server that keeps closing the stream without progress is given up on. */
static void test_idle_resumptions_end(void)
{
    sb_mcp_client *c = client();
    uint64_t call = submit(c);
    static const step hs[] = {
        HANDSHAKE("s1"),
        {.method = "POST", .body = CALL_BODY(2), .sid = "s1", .version = V, .status = 200, .ctype = SSE,
         .resp = "id: 1\nretry: 10\ndata:\n\n"},
    };
    run_script(c, hs);
    sb_mcp_request r;
    int gets = 0;
    uint64_t id;
    sb_val v;
    while (!sb_mcp_client_next_completion(c, &id, &v) && gets < 1000) {
        CHECK(sb_mcp_client_next_request(c, 0, &r));
        CHECK_STR(r.method, "GET");
        sb_mcp_client_on_response(c, r.id, 200, SSE, NULL, ": ping\n\n", 8, 0);
        gets++;
    }
    CHECK_INT(gets, 101);
    CHECK_INT(id, call);
    CHECK_STR(sb_str(v), "server 'conductor': tools/call submit_jobs: the SSE stream was resumed 100 times without "
                         "progress");
    sb_val_free(v);
    sb_mcp_client_free(c);
}

/* --- failing allocations over an SSE session with a resumption --- */


/* Answers each request by what it is; returns true if the call succeeded.
 * Whatever fails, the call must complete exactly once. */
static bool sse_session_under_failures(void)
{
    sb_mcp_client *c = client();
    if (!c)
        return false;
    sb_mcp_call_opts opts = {.progress = true};
    uint64_t call = sb_mcp_client_call_tool_ex(c, "submit_jobs", sb_null(), &opts);
    sb_mcp_request r;
    for (int i = 0; i < 20 && sb_mcp_client_next_request(c, 0, &r); i++) {
        const char *ans = "", *ctype = NULL;
        int status = 202;
        if (strcmp(r.method, "GET") == 0) {
            status = 200, ctype = SSE, ans = "id: e2\ndata: " RESULT(2) "\n\n";
        } else if (strstr(r.body, "\"initialize\"")) {
            status = 200, ctype = JSON, ans = INIT_OK(1, V);
        } else if (strstr(r.body, "tools/call")) {
            status = 200, ctype = SSE,
            ans = "id: e1\nretry: 5\ndata: " RPC "\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,"
                  "\"progress\":1}}\n\ndata: " RPC "\"id\":\"s\",\"method\":\"elicitation/create\"}\n\n";
        }
        sb_mcp_client_on_response(c, r.id, status, ctype, "sess", ans, strlen(ans), 0);
    }
    sb_mcp_client_close(c);
    int completions = 0;
    bool ok = false;
    uint64_t id;
    sb_val v;
    while (sb_mcp_client_next_completion(c, &id, &v)) {
        completions++;
        CHECK_INT(id, call);
        ok = v.kind == SB_MAP;
        sb_val_free(v);
    }
    CHECK_INT(completions, call ? 1 : 0);
    sb_mcp_event ev;
    while (sb_mcp_client_next_event(c, &ev))
        sb_mcp_event_clear(&ev);
    sb_mcp_client_free(c);
    return ok;
}

static void test_oom_is_clean(void)
{
    CHECK(sse_session_under_failures());
    bool succeeded = false;
    for (long n = 0; n < 5000 && !succeeded; n++) {
        sb_failalloc_left = n;
        sb_alloc_set(sb_failalloc_fn, NULL);
        succeeded = sse_session_under_failures();
        sb_alloc_set(NULL, NULL);
    }
    CHECK(succeeded);
}

SB_TEST_MAIN(TEST(test_json_answer) TEST(test_sse_answer_with_progress) TEST(test_session_expiry)
                 TEST(test_404_without_session) TEST(test_protocol_versions) TEST(test_call_failures)
                     TEST(test_is_error_result) TEST(test_init_failure_then_retry) TEST(test_sse_resumption)
                         TEST(test_task_polling) TEST(test_follow_task) TEST(test_server_requests_answered) TEST(test_close)
                             TEST(test_concurrent_calls) TEST(test_resumption_after_expiry) TEST(test_event_queue_is_bounded)
                                 TEST(test_idle_resumptions_end) TEST(test_oom_is_clean))
