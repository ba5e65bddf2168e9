/* The Streamable HTTP endpoint (core/mcp/sb_mcp_endpoint.h) as a script of
 * HTTP exchanges: request fields in; status, headers and body substrings
 * out. "$S" stands for the session id initialize gave, "$E" for the last
 * SSE event id of the previous response. Then the same script under failing
 * allocations. */
#include "mcp/sb_mcp_endpoint.h"
#include "sb_failalloc.h"
#include "sb_test.h"
#include "test_tools.h"
#include "util/sb_alloc.h"

#define RPC "{\"jsonrpc\":\"2.0\","
#define JSON "application/json"
#define ACCEPT "application/json, text/event-stream"
#define INIT RPC "\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}"
#define CALL(id, tool, rest) RPC "\"id\":" #id ",\"method\":\"tools/call\",\"params\":{\"name\":\"" tool "\"" rest "}}"
#define T0 1796527926123LL
#define IDLE_MS 600000

typedef struct step {
    int64_t dt; /* ms after T0 */
    const char *method, *path, *host, *origin, *ctype, *session, *version, *last_id, *body;
    bool too_large;
    int status;
    const char *hdr, *hdr_value; /* a response header and its value ("*": present; NULL value: absent) */
    const char *has;             /* a substring of the body */
    const char *lacks;           /* a string the body must not contain */
} step;

static const step steps[] = {
    /* /health and paths */
    {0, "GET", "/health", "127.0.0.1:8080", NULL, NULL, NULL, NULL, NULL, NULL, false, 200, "Content-Type", JSON,
     "{\"status\":\"ok\",\"name\":\"sibyl-test\",\"version\":\"9.9\"}", NULL},
    {0, "POST", "/health", NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, 405, "Allow", "GET", NULL, NULL},
    {0, "GET", "/other", NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, 404, NULL, NULL, "Not Found", NULL},
    /* DNS rebinding and Origin */
    {0, "POST", "/mcp", "evil.example.com", NULL, JSON, NULL, NULL, NULL, INIT, false, 403, NULL, NULL,
     "Host not allowed", NULL},
    {0, "POST", "/mcp", "evil.example.com:8080", NULL, JSON, NULL, NULL, NULL, INIT, false, 403, NULL, NULL, NULL,
     NULL},
    {0, "POST", "/mcp", "localhost:1", "http://evil.example.com", JSON, NULL, NULL, NULL, INIT, false, 403,
     "Access-Control-Allow-Origin", NULL, "Origin not allowed", NULL},
    {0, "POST", "/mcp", "localhost:1", "http://localhost.evil.example.com", JSON, NULL, NULL, NULL, INIT, false, 403,
     NULL, NULL, NULL, NULL},
    {0, "POST", "/mcp", "localhost:1", "null", JSON, NULL, NULL, NULL, INIT, false, 403, NULL, NULL, NULL, NULL},
    {0, "GET", "/health", "tools.example:80", NULL, NULL, NULL, NULL, NULL, NULL, false, 200, NULL, NULL, NULL, NULL},
    /* CORS preflight: any localhost origin, and the configured one */
    {0, "OPTIONS", "/mcp", "127.0.0.1:1", "http://localhost:5173", NULL, NULL, NULL, NULL, NULL, false, 204,
     "Access-Control-Allow-Origin", "http://localhost:5173", NULL, NULL},
    {0, "OPTIONS", "/mcp", "127.0.0.1:1", "http://127.0.0.1:5173", NULL, NULL, NULL, NULL, NULL, false, 204,
     "Access-Control-Allow-Headers",
     "Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Authorization", NULL, NULL},
    {0, "OPTIONS", "/mcp", "127.0.0.1:1", "https://console.example", NULL, NULL, NULL, NULL, NULL, false, 204,
     "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS", NULL, NULL},
    /* no session yet */
    {0, "POST", "/mcp", NULL, NULL, JSON, NULL, NULL, NULL, RPC "\"id\":2,\"method\":\"ping\"}", false, 400, NULL, NULL,
     "Mcp-Session-Id header is required", NULL},
    {0, "POST", "/mcp", NULL, NULL, JSON, "feedfacefeedfacefeedfacefeedface", NULL, NULL,
     RPC "\"id\":2,\"method\":\"ping\"}", false, 404, NULL, NULL, "Session not found", NULL},
    {0, "POST", "/mcp", NULL, NULL, "text/plain", NULL, NULL, NULL, INIT, false, 415, NULL, NULL, NULL, NULL},
    {0, "POST", "/mcp", NULL, NULL, JSON, NULL, NULL, NULL, NULL, true, 413, NULL, NULL, "the body exceeds 4096 bytes",
     NULL},
    /* initialize: a session, with CORS headers for a browser */
    {0, "POST", "/mcp", "localhost:8080", "http://localhost:3000", JSON, NULL, NULL, NULL, INIT, false, 200,
     "Access-Control-Expose-Headers", "Mcp-Session-Id", "\"serverInfo\":{\"name\":\"t\",\"version\":\"1\"}", NULL},
    {0, "POST", "/mcp", NULL, NULL, JSON, NULL, NULL, NULL, INIT, false, 200, "Mcp-Session-Id", "*", NULL, NULL},
    {0, "POST", "/mcp", NULL, NULL, "application/json; charset=utf-8", "$S", "2025-11-25", NULL,
     RPC "\"method\":\"notifications/initialized\"}", false, 202, "Content-Type", NULL, NULL, NULL},
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-11-25", NULL, RPC "\"id\":3,\"method\":\"ping\"}", false, 200,
     "Content-Type", JSON, RPC "\"id\":3,\"result\":{}}", NULL},
    /* MCP-Protocol-Version: absent is 2025-03-26; unknown is 400 */
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", NULL, NULL, RPC "\"id\":4,\"method\":\"ping\"}", false, 200, NULL, NULL,
     "\"result\":{}", NULL},
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", "2024-11-05", NULL, RPC "\"id\":5,\"method\":\"ping\"}", false, 400,
     NULL, NULL, "unsupported MCP-Protocol-Version", NULL},
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-06-18", NULL, "{nope", false, 400, NULL, NULL, "\"code\":-32700",
     NULL},
    /* a plain call answers as JSON */
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-11-25", NULL, CALL(6, "echo", ",\"arguments\":{\"text\":\"a\"}"),
     false, 200, "Content-Type", JSON, "\"text\":\"a\"", NULL},
    /* notifications make it SSE: the priming event first */
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-11-25", NULL, CALL(7, "logs", ""), false, 200, "Content-Type",
     "text/event-stream",
     "id: 1-1\ndata: \n\nid: 1-2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{"
     "\"level\":\"info\",\"logger\":\"t\",\"data\":\"news\"}}\n\nid: 1-3\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,"
     "\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"logged\"}]}}\n\n",
     "retry:"},
    /* a progressToken makes it SSE even with nothing to report yet */
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-11-25", NULL, CALL(8, "echo", ",\"_meta\":{\"progressToken\":7}"),
     false, 200, "Content-Type", "text/event-stream",
     "id: 2-1\ndata: \n\nid: 2-2\ndata: {\"jsonrpc\":\"2.0\",\"id\":8,", NULL},
    /* an answer not ready: progress, retry, the body ends; GET resumes */
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-11-25", NULL,
     CALL(9, "slow", ",\"_meta\":{\"progressToken\":\"t9\"}"), false, 200, "Cache-Control", "no-cache",
     "id: 3-1\ndata: \n\nid: 3-2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{"
     "\"progressToken\":\"t9\",\"progress\":0,\"total\":2}}\n\nretry: 250\n\n",
     "\"id\":9"},
    {0, "GET", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", "$E", NULL, false, 200, "Content-Type",
     "text/event-stream",
     "id: 3-3\ndata: \n\nid: 3-4\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"", "\"id\":9"},
    {0, "GET", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", "$E", NULL, false, 200, NULL, NULL,
     "id: 3-7\ndata: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done after 3 "
     "runs\"}]}}\n\n",
     "retry:"},
    /* asking again with an older id replays the answer; with the answer's id, nothing */
    {0, "GET", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", "3-4", NULL, false, 200, NULL, NULL,
     "id: 3-7\ndata: {\"jsonrpc\":\"2.0\",\"id\":9,", NULL},
    {0, "GET", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", "3-7", NULL, false, 200, NULL, NULL, NULL, "data:"},
    /* a tool that hangs up at once (SEP-1699): only the priming event and retry */
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-11-25", NULL, CALL(10, "hangup", ""), false, 200, NULL, NULL,
     "id: 4-1\ndata: \n\nretry: 250\n\n", "\"id\":10"},
    {0, "GET", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", "$E", NULL, false, 200, NULL, NULL,
     "\"id\":10,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"back\"}]}", NULL},
    /* GET: no standalone stream; unknown or malformed event ids */
    {0, "GET", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", NULL, NULL, false, 405, "Allow", "POST, DELETE, OPTIONS",
     NULL, NULL},
    {0, "GET", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", "99-1", NULL, false, 400, NULL, NULL,
     "Last-Event-ID names no stream", NULL},
    {0, "GET", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", "3-x", NULL, false, 400, NULL, NULL, NULL, NULL},
    {0, "GET", "/mcp", NULL, NULL, NULL, NULL, "2025-11-25", "3-1", NULL, false, 400, NULL, NULL, NULL, NULL},
    {0, "PUT", "/mcp", NULL, NULL, NULL, "$S", NULL, NULL, NULL, false, 405, "Allow", "GET, POST, DELETE, OPTIONS",
     NULL, NULL},
    /* a task, polled through tasks/get */
    {0, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-11-25", NULL, CALL(11, "slow", ",\"task\":{\"ttl\":1000}"), false,
     200, "Content-Type", JSON, "\"task\":{\"taskId\":\"task-1\",\"status\":\"working\"", NULL},
    {5, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-11-25", NULL,
     RPC "\"id\":12,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"task-1\"}}", false, 200, "Content-Type",
     "text/event-stream", "retry: 250", NULL},
    {6, "GET", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", "$E", NULL, false, 200, NULL, NULL,
     "\"id\":12,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done after 3 runs\"}],\"_meta\":{"
     "\"io.modelcontextprotocol/related-task\":{\"taskId\":\"task-1\"}}}",
     NULL},
    /* DELETE ends the session; then 404 */
    {10, "DELETE", "/mcp", NULL, NULL, NULL, "$S", "2025-11-25", NULL, NULL, false, 200, NULL, NULL, NULL, NULL},
    {10, "POST", "/mcp", NULL, NULL, JSON, "$S", "2025-11-25", NULL, RPC "\"id\":13,\"method\":\"ping\"}", false, 404,
     NULL, NULL, "Session not found", NULL},
    {10, "DELETE", "/mcp", NULL, NULL, NULL, "$S", NULL, NULL, NULL, false, 404, NULL, NULL, NULL, NULL},
    /* a session idle longer than the limit is gone */
    {20, "POST", "/mcp", NULL, NULL, JSON, NULL, NULL, NULL, INIT, false, 200, "Mcp-Session-Id", "*", NULL, NULL},
    {20 + IDLE_MS, "POST", "/mcp", NULL, NULL, JSON, "$S", NULL, NULL, RPC "\"id\":14,\"method\":\"ping\"}", false, 200,
     NULL, NULL, "\"result\":{}", NULL},
    {21 + 2 * IDLE_MS, "POST", "/mcp", NULL, NULL, JSON, "$S", NULL, NULL, RPC "\"id\":15,\"method\":\"ping\"}", false,
     404, NULL, NULL, NULL, NULL},
};

static const char *subst(const char *v, const char *sid, const char *eid)
{
    if (v && strcmp(v, "$S") == 0)
        return sid;
    if (v && strcmp(v, "$E") == 0)
        return eid;
    return v;
}

static void run(bool check)
{
    static const char *const origins[] = {"https://console.example"};
    sb_mcp_endpoint_config cfg = {.name = "sibyl-test",
                                  .version = "9.9",
                                  .allow_origins = origins,
                                  .nallow_origins = 1,
                                  .max_body_bytes = 4096,
                                  .retry_ms = 250,
                                  .session_idle_ms = IDLE_MS,
                                  .seed = 42};
    static const char *const hosts[] = {"tools.example"};
    cfg.allow_hosts = hosts;
    cfg.nallow_hosts = 1;
    sb_mcp_app *app = sb_mcp_app_new("t", "1", NULL, test_tools, NTEST_TOOLS, test_tool, NULL);
    sb_mcp_endpoint *e = app ? sb_mcp_endpoint_new(&cfg, app) : NULL;
    if (!e) {
        CHECK(!check);
        sb_mcp_app_free(app);
        return;
    }
    char sid[64] = "", eid[64] = "";
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        const step *s = &steps[i];
        sb_http_req req = {s->method,
                           s->path,
                           s->host,
                           s->origin,
                           ACCEPT,
                           s->ctype,
                           subst(s->session, sid, eid),
                           s->version,
                           subst(s->last_id, sid, eid),
                           s->body,
                           s->body ? strlen(s->body) : 0,
                           s->too_large};
        sb_http_resp r;
        sb_mcp_endpoint_handle(e, &req, T0 + s->dt, &r);
        const char *got_sid = sb_http_resp_header(&r, "Mcp-Session-Id");
        if (got_sid)
            snprintf(sid, sizeof sid, "%s", got_sid);
        for (const char *p = r.body; p && (p = strstr(p, "id: ")); p += 4)
            if (p == r.body || p[-1] == '\n')
                snprintf(eid, sizeof eid, "%.*s", (int)strcspn(p + 4, "\n"), p + 4);
        if (check) {
            const char *body = r.body ? r.body : "";
            if (r.status != s->status)
                fprintf(stderr, "step %zu: status %d, want %d; body %s\n", i, r.status, s->status, body);
            CHECK_INT(r.status, s->status);
            if (s->hdr) {
                const char *v = sb_http_resp_header(&r, s->hdr);
                bool ok = !s->hdr_value                    ? !v
                          : strcmp(s->hdr_value, "*") == 0 ? v != NULL
                                                           : v && !strcmp(v, s->hdr_value);
                if (!ok)
                    fprintf(stderr, "step %zu: header %s: %s\n", i, s->hdr, v ? v : "(absent)");
                CHECK(ok);
            }
            if (s->has && !strstr(body, s->has))
                fprintf(stderr, "step %zu: body\n%s\n  lacks\n%s\n", i, body, s->has);
            CHECK(!s->has || strstr(body, s->has));
            if (s->lacks && strstr(body, s->lacks))
                fprintf(stderr, "step %zu: body\n%s\n  has %s\n", i, body, s->lacks);
            CHECK(!s->lacks || !strstr(body, s->lacks));
            CHECK(r.sse == (sb_http_resp_header(&r, "Content-Type") &&
                            !strcmp(sb_http_resp_header(&r, "Content-Type"), "text/event-stream")));
        }
        sb_http_resp_clear(&r);
    }
    if (check)
        CHECK_INT(sb_mcp_endpoint_sessions(e), 0); /* all expired or deleted */
    sb_mcp_endpoint_free(e);
    sb_mcp_app_free(app);
}

static void test_script(void)
{
    run(true);
}

/* Out of memory anywhere gives some answer (often a 500) and leaks nothing. */
static void test_script_failing_allocations(void)
{
    fprintf(stderr, "the script needs %ld allocations\n", sb_failalloc_until_enough(run));
}

static int post_init(sb_mcp_endpoint *e, char sid[64])
{
    sb_http_req req = {.method = "POST", .path = "/mcp", .content_type = JSON, .body = INIT, .body_len = strlen(INIT)};
    sb_http_resp r;
    sb_mcp_endpoint_handle(e, &req, T0, &r);
    const char *v = sb_http_resp_header(&r, "Mcp-Session-Id");
    snprintf(sid, 64, "%s", v ? v : "");
    int status = r.status;
    sb_http_resp_clear(&r);
    return status;
}

static int request(sb_mcp_endpoint *e, const char *method, const char *sid, const char *last, const char *body,
                   char *last_id)
{
    sb_http_req req = {.method = method,
                       .path = "/mcp",
                       .content_type = JSON,
                       .session_id = sid,
                       .last_event_id = last,
                       .body = body,
                       .body_len = body ? strlen(body) : 0};
    sb_http_resp r;
    sb_mcp_endpoint_handle(e, &req, T0, &r);
    if (last_id && r.body && strstr(r.body, "id: "))
        snprintf(last_id, 64, "%.*s", (int)strcspn(strstr(r.body, "id: ") + 4, "\n"), strstr(r.body, "id: ") + 4);
    int status = r.status;
    sb_http_resp_clear(&r);
    return status;
}

/* At most max_sessions at once; a session keeps the answers of its latest
 * 32 streams for replay, not every one it ever had. */
static void test_limits(void)
{
    sb_mcp_endpoint_config cfg = {.name = "n", .version = "v", .max_sessions = 2, .seed = 7};
    sb_mcp_app *app = sb_mcp_app_new("t", "1", NULL, test_tools, NTEST_TOOLS, test_tool, NULL);
    sb_mcp_endpoint *e = sb_mcp_endpoint_new(&cfg, app);
    char a[64], b[64], c[64];
    CHECK_INT(post_init(e, a), 200);
    CHECK_INT(post_init(e, b), 200);
    CHECK_INT(post_init(e, c), 503);
    CHECK_INT(request(e, "DELETE", a, NULL, NULL, NULL), 200);
    CHECK_INT(post_init(e, c), 200);

    char first[64] = "", id[64] = "";
    for (int i = 0; i < 40; i++) {
        CHECK_INT(request(e, "POST", b, NULL, CALL(5, "logs", ""), id), 200);
        if (i == 0)
            snprintf(first, sizeof first, "%s", id);
    }
    CHECK_INT(request(e, "GET", b, first, NULL, NULL), 400); /* forgotten */
    CHECK_INT(request(e, "GET", b, id, NULL, NULL), 200);    /* the latest: replayed */
    sb_mcp_endpoint_free(e);
    sb_mcp_app_free(app);
}

SB_TEST_MAIN(TEST(test_script) TEST(test_script_failing_allocations) TEST(test_limits))
