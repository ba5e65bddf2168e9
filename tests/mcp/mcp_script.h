/* Scripted HTTP exchanges for client tests: each step is the request the
 * client must ask for next and the answer the fake server gives. */
#ifndef MCP_SCRIPT_H
#define MCP_SCRIPT_H
#include "mcp/sb_mcp_client.h"
#include "sb_test.h"
#include "util/sb_alloc.h"

typedef struct step {
    /* the request expected (NULL fields must be NULL in the request) */
    const char *method;
    const char *body;
    const char *sid;
    const char *version;
    const char *last_event_id;
    int64_t not_before;
    /* the answer, delivered at host time `now` */
    int64_t now;
    int status;
    const char *ctype;
    const char *resp_sid;
    const char *resp;
} step;

#define JSON "application/json"
#define SSE "text/event-stream"
#define RPC "{\"jsonrpc\":\"2.0\","

#define CHECK_OPT_STR(got, want)                                                                                  \
    do {                                                                                                          \
        if (want)                                                                                                 \
            CHECK_STR(got, want);                                                                                 \
        else                                                                                                      \
            CHECK((got) == NULL);                                                                                 \
    } while (0)

/* Runs the steps in order; returns how many ran as scripted. */
static size_t run_script_at(sb_mcp_client *c, const step *steps, size_t n, int line)
{
    for (size_t i = 0; i < n; i++) {
        const step *s = &steps[i];
        sb_mcp_request r;
        if (!sb_mcp_client_next_request(c, s->now, &r)) {
            fprintf(stderr, "script at line %d: step %zu: the client has no request to send\n", line, i);
            sb_test_failures++;
            return i;
        }
        int before = sb_test_failures;
        CHECK_STR(r.method, s->method);
        CHECK_OPT_STR(r.body, s->body);
        CHECK_OPT_STR(r.session_id, s->sid);
        CHECK_OPT_STR(r.protocol_version, s->version);
        CHECK_OPT_STR(r.last_event_id, s->last_event_id);
        CHECK_INT(r.not_before_ms, s->not_before);
        if (strcmp(s->method, "POST") == 0) {
            CHECK_STR(r.accept, "application/json, text/event-stream");
            CHECK_STR(r.content_type, "application/json");
            CHECK(r.body && r.body_len == strlen(r.body));
        } else if (strcmp(s->method, "GET") == 0) {
            CHECK_STR(r.accept, "text/event-stream");
        }
        if (sb_test_failures != before)
            fprintf(stderr, "  (script at line %d, step %zu)\n", line, i);
        const char *resp = s->resp ? s->resp : "";
        sb_mcp_client_on_response(c, r.id, s->status, s->ctype, s->resp_sid, resp, strlen(resp), s->now);
    }
    return n;
}
#define run_script(c, steps) run_script_at(c, steps, sizeof steps / sizeof *steps, __LINE__)

/* Pops one completion and checks it is an error with exactly this message. */
static void expect_error_at(sb_mcp_client *c, uint64_t call, const char *msg, int line)
{
    uint64_t id = 0;
    sb_val r = sb_null();
    int before = sb_test_failures;
    CHECK(sb_mcp_client_next_completion(c, &id, &r));
    CHECK_INT(id, call);
    CHECK_INT(r.kind, SB_ERROR);
    if (r.kind == SB_ERROR)
        CHECK_STR(sb_str(r), msg);
    if (sb_test_failures != before)
        fprintf(stderr, "  (expect_error at line %d)\n", line);
    sb_val_free(r);
}
#define expect_error(c, call, msg) expect_error_at(c, call, msg, __LINE__)

/* Pops one completion and checks it is a result whose JSON is exactly json. */
static void expect_result_at(sb_mcp_client *c, uint64_t call, const char *json, int line)
{
    uint64_t id = 0;
    sb_val r = sb_null();
    int before = sb_test_failures;
    CHECK(sb_mcp_client_next_completion(c, &id, &r));
    CHECK_INT(id, call);
    char *got = sb_val_to_json(r, 0);
    CHECK_STR(got, json);
    sb_free(got);
    if (sb_test_failures != before)
        fprintf(stderr, "  (expect_result at line %d)\n", line);
    sb_val_free(r);
}
#define expect_result(c, call, json) expect_result_at(c, call, json, __LINE__)

#endif
