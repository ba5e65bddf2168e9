/* libFuzzer target for the servers' Streamable HTTP endpoint
 * (core/mcp/sb_mcp_endpoint.c) and the tool server behind it: every byte a
 * client controls (method, path, headers, body) comes from the input.
 *
 * The input is a sequence of requests separated by NUL bytes; each request
 * is lines: METHOD, PATH, Host, Origin, Content-Type, MCP-Session-Id,
 * MCP-Protocol-Version, Last-Event-ID, then the body (the rest). An empty
 * line means the header is absent; "$S" stands for the session that a
 * fixed initialize opened first, "$E" for the last event id sent, so the
 * fuzzer reaches sessions, streams and tasks.
 *
 * Checked (abort on failure): every response has a status in 200..599; an
 * SSE body is a sequence of well-formed events (lines "id: ", "data: ",
 * "retry: ", separated by blank lines); a JSON body is JSON; sessions never
 * exceed the requests made. ASan/UBSan/LSan check the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../servers/test_tools.h"
#include "mcp/sb_mcp_endpoint.h"
#include "json/sb_json.h"

#define FZ_ASSERT(cond, what)                                                                                          \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_endpoint: invariant failed: %s (%s)\n", what, #cond);                                \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static void check_sse(const char *b, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = strcspn(b + i, "\n");
        FZ_ASSERT(i + n < len, "an SSE line ends with a newline");
        const char *l = b + i;
        FZ_ASSERT(n == 0 || !strncmp(l, "id: ", 4) || !strncmp(l, "data: ", 6) || !strncmp(l, "retry: ", 7),
                  "SSE lines are id, data, retry or blank");
        i += n + 1;
    }
    FZ_ASSERT(len == 0 || (len >= 2 && b[len - 1] == '\n' && b[len - 2] == '\n'), "SSE ends with a blank line");
}

static const char *field(char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *nl = memchr(*p, '\n', (size_t)(end - *p));
    char *s = *p;
    if (nl) {
        *nl = 0;
        *p = nl + 1;
    } else {
        *p = end;
    }
    return *s ? s : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const origins[] = {"https://console.example"};
    sb_mcp_endpoint_config cfg = {.name = "fz",
                                  .version = "1",
                                  .allow_origins = origins,
                                  .nallow_origins = 1,
                                  .max_body_bytes = 2048,
                                  .retry_ms = 10,
                                  .session_idle_ms = 1000,
                                  .seed = 1};
    sb_mcp_app *app = sb_mcp_app_new("t", "1", NULL, test_tools, NTEST_TOOLS, test_tool, NULL);
    sb_mcp_endpoint *e = sb_mcp_endpoint_new(&cfg, app);
    char *copy = malloc(size + 1);
    FZ_ASSERT(app && e && copy, "setup");
    memcpy(copy, data, size);
    copy[size] = 0;

    char sid[64] = "", eid[64] = "";
    static const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
                               "\"protocolVersion\":\"2025-11-25\"}}";
    sb_http_req first = {.method = "POST",
                         .path = "/mcp",
                         .content_type = "application/json",
                         .body = init,
                         .body_len = sizeof init - 1};
    sb_http_resp r;
    sb_mcp_endpoint_handle(e, &first, 0, &r);
    snprintf(sid, sizeof sid, "%s",
             sb_http_resp_header(&r, "Mcp-Session-Id") ? sb_http_resp_header(&r, "Mcp-Session-Id") : "");
    sb_http_resp_clear(&r);

    size_t requests = 1;
    int64_t now = 0;
    for (char *p = copy, *end = copy + size; p < end && requests < 64; requests++) {
        char *stop = memchr(p, 0, (size_t)(end - p));
        char *rend = stop ? stop : end;
        const char *f[8];
        for (int k = 0; k < 8; k++) {
            f[k] = field(&p, rend);
            if (f[k] && !strcmp(f[k], "$S"))
                f[k] = sid;
            else if (f[k] && !strcmp(f[k], "$E"))
                f[k] = eid;
        }
        sb_http_req req = {.method = f[0],
                           .path = f[1],
                           .host = f[2],
                           .origin = f[3],
                           .content_type = f[4],
                           .session_id = f[5],
                           .protocol_version = f[6],
                           .last_event_id = f[7],
                           .body = p < rend ? p : NULL,
                           .body_len = p < rend ? (size_t)(rend - p) : 0};
        req.body_too_large = req.body_len > cfg.max_body_bytes;
        now += req.body_len % 700; /* time moves, so sessions and tasks expire */
        sb_mcp_endpoint_handle(e, &req, now, &r);
        FZ_ASSERT(r.status >= 200 && r.status <= 599, "an HTTP status");
        const char *ct = sb_http_resp_header(&r, "Content-Type");
        if (r.sse) {
            check_sse(r.body ? r.body : "", r.body_len);
            for (const char *q = r.body; q && (q = strstr(q, "id: ")); q += 4)
                snprintf(eid, sizeof eid, "%.*s", (int)strcspn(q + 4, "\n"), q + 4);
        } else if (ct && !strcmp(ct, "application/json") && r.body) {
            sb_val v = sb_json_parse(r.body, r.body_len);
            FZ_ASSERT(v.kind == SB_MAP, "a JSON body is an object");
            sb_val_free(v);
        }
        const char *ns = sb_http_resp_header(&r, "Mcp-Session-Id");
        if (ns)
            snprintf(sid, sizeof sid, "%s", ns);
        sb_http_resp_clear(&r);
        FZ_ASSERT(sb_mcp_endpoint_sessions(e) <= requests + 1, "no more sessions than requests");
        p = stop ? stop + 1 : end;
    }
    sb_mcp_endpoint_free(e);
    sb_mcp_app_free(app);
    free(copy);
    return 0;
}
