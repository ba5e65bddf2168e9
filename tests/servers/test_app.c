/* The full MCP tool server (core/mcp/sb_mcp_app.h) as exchanges: a session,
 * a time and a body in; status, the answer, the notifications and whether it
 * is pending out. Then the same script under failing allocations. */
#include "sb_failalloc.h"
#include "sb_test.h"
#include "test_tools.h"
#include "util/sb_alloc.h"

#define RPC "{\"jsonrpc\":\"2.0\","
#define CALL(id, tool, rest) RPC "\"id\":" #id ",\"method\":\"tools/call\",\"params\":{\"name\":\"" tool "\"" rest "}}"
#define T0 1796527926123LL /* 2026-12-06T03:32:06.123Z */

static const struct step {
    const char *session;
    int64_t now;
    const char *in;
    int status;
    const char *out;   /* a substring of the answer's JSON; NULL: no answer */
    const char *notes; /* a substring of the notifications' JSON; NULL: none sent */
    int poll;          /* 0: handle `in`; n: poll the pending answer of step n-1 steps back ... see run() */
} steps[] = {
    {"s1", T0, RPC "\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}", 200,
     "\"capabilities\":{\"tools\":{\"listChanged\":false},\"logging\":{},\"completions\":{},\"tasks\":{\"list\":{},"
     "\"cancel\":{},\"requests\":{\"tools\":{\"call\":{}}}}}",
     NULL, 0},
    {"s1", T0, RPC "\"id\":2,\"method\":\"ping\"}", 200, RPC "\"id\":2,\"result\":{}}", NULL, 0},
    /* tools/list: output schemas and execution.taskSupport */
    {"s1", T0, RPC "\"id\":3,\"method\":\"tools/list\"}", 200,
     "{\"name\":\"echo\",\"description\":\"Echoes text.\",\"inputSchema\":{\"type\":\"object\",\"properties\":{"
     "\"text\":{\"type\":\"string\"}}},\"outputSchema\":{\"type\":\"object\",\"properties\":{\"text\":{\"type\":"
     "\"string\"}}},\"execution\":{\"taskSupport\":\"forbidden\"}}",
     NULL, 0},
    {"s1", T0, RPC "\"id\":4,\"method\":\"tools/list\"}", 200,
     "{\"name\":\"slow\",\"description\":\"Takes three runs.\",\"inputSchema\":{\"type\":\"object\"},"
     "\"execution\":{\"taskSupport\":\"optional\"}}",
     NULL, 0},
    {"s1", T0, CALL(5, "echo", ",\"arguments\":{\"text\":\"hi\"}"), 200,
     RPC "\"id\":5,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}", NULL, 0},
    /* the spec's answer to an unknown tool: -32602 */
    {"s1", T0, CALL(6, "nope", ""), 200, "\"code\":-32602,\"message\":\"Invalid params: unknown tool 'nope'\"", NULL,
     0},
    {"s1", T0, CALL(7, "broken", ""), 200, "\"code\":-32601", NULL, 0},
    {"s1", T0, CALL(8, "echo", ",\"arguments\":[1]"), 200, "\"code\":-32602", NULL, 0},
    /* logging: info by default, debug once set; a bad level is -32602 */
    {"s1", T0, CALL(9, "logs", ""), 200, "\"text\":\"logged\"",
     "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"logger\":\"t\","
     "\"data\":\"news\"}}]",
     0},
    {"s1", T0, RPC "\"id\":10,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"loud\"}}", 200, "\"code\":-32602",
     NULL, 0},
    {"s1", T0, RPC "\"id\":11,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"debug\"}}", 200,
     RPC "\"id\":11,\"result\":{}}", NULL, 0},
    {"s1", T0, CALL(12, "logs", ""), 200, "\"text\":\"logged\"",
     "\"level\":\"debug\",\"logger\":\"t\",\"data\":\"details\"", 0},
    {"s2", T0, CALL(13, "logs", ""), 200, "\"text\":\"logged\"", "\"level\":\"info\"", 0}, /* another session: info */
    {"s1", T0,
     RPC "\"id\":14,\"method\":\"completion/complete\",\"params\":{\"ref\":{\"type\":\"ref/prompt\","
         "\"name\":\"x\"},\"argument\":{\"name\":\"a\",\"value\":\"b\"}}}",
     200, "\"result\":{\"completion\":{\"values\":[],\"total\":0,\"hasMore\":false}}", NULL, 0},
    {"s1", T0, RPC "\"id\":15,\"method\":\"completion/complete\",\"params\":{}}", 200, "\"code\":-32602", NULL, 0},
    /* a deferred plain call with a progressToken: pending, polled twice */
    {"s1", T0, CALL(16, "slow", ",\"_meta\":{\"progressToken\":\"p1\"}"), 200, NULL,
     "\"params\":{\"progressToken\":\"p1\",\"progress\":0,\"total\":2}", 0},
    {"s1", T0 + 10, NULL, 200, NULL, "\"progress\":1,", 1},
    {"s1", T0 + 20, NULL, 200,
     RPC "\"id\":16,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done after 3 runs\"}]}}", "\"progress\":2,",
     1},
    {"s1", T0 + 30, NULL, 404, NULL, NULL, 1}, /* spent */
    /* tasks */
    {"s1", T0, CALL(17, "slow", ",\"task\":{\"ttl\":60000}"), 200,
     "\"result\":{\"task\":{\"taskId\":\"task-1\",\"status\":\"working\",\"createdAt\":\"2026-12-06T03:32:06.123Z\","
     "\"lastUpdatedAt\":\"2026-12-06T03:32:06.123Z\",\"ttl\":60000,\"pollInterval\":500}}",
     NULL, 0},
    {"s2", T0, RPC "\"id\":18,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"task-1\"}}", 200,
     "\"code\":-32602,\"message\":\"Invalid params: no task task-1\"", NULL, 0}, /* not this session's */
    {"s1", T0 + 1000, RPC "\"id\":19,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"task-1\"}}", 200,
     "\"status\":\"working\"", NULL, 0},
    {"s1", T0 + 2000, RPC "\"id\":20,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"task-1\"}}", 200,
     RPC "\"id\":20,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done after 3 runs\"}],\"_meta\":{"
         "\"io.modelcontextprotocol/related-task\":{\"taskId\":\"task-1\"}}}}",
     NULL, 0},
    {"s1", T0 + 2000, RPC "\"id\":21,\"method\":\"tasks/list\"}", 200,
     "\"tasks\":[{\"taskId\":\"task-1\",\"status\":\"completed\",\"createdAt\":\"2026-12-06T03:32:06.123Z\","
     "\"lastUpdatedAt\":\"2026-12-06T03:32:08.123Z\"",
     NULL, 0},
    {"s1", T0 + 2000, RPC "\"id\":22,\"method\":\"tasks/cancel\",\"params\":{\"taskId\":\"task-1\"}}", 200,
     "\"message\":\"Invalid params: task task-1 has already finished\"", NULL, 0},
    /* tasks/result of a working task is pending until it ends */
    {"s1", T0, CALL(23, "slow", ",\"task\":{}"), 200, "\"taskId\":\"task-2\",\"status\":\"working\"", NULL, 0},
    {"s1", T0, RPC "\"id\":24,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"task-2\"}}", 200, NULL, NULL, 0},
    {"s1", T0 + 5, NULL, 200, "\"id\":24,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done after 3 runs\"}]",
     NULL, 1},
    /* cancel a working task; its result is then an error */
    {"s1", T0, CALL(25, "slow", ",\"task\":{}"), 200, "\"taskId\":\"task-3\"", NULL, 0},
    {"s1", T0, RPC "\"id\":26,\"method\":\"tasks/cancel\",\"params\":{\"taskId\":\"task-3\"}}", 200,
     "\"status\":\"cancelled\",\"statusMessage\":\"cancelled by the client\"", NULL, 0},
    {"s1", T0, RPC "\"id\":27,\"method\":\"tasks/result\",\"params\":{\"taskId\":\"task-3\"}}", 200,
     "\"message\":\"Invalid params: task task-3 was cancelled\"", NULL, 0},
    {"s1", T0, RPC "\"id\":28,\"method\":\"tasks/get\",\"params\":{}}", 200, "\"code\":-32602", NULL, 0},
    {"s1", T0, RPC "\"id\":29,\"method\":\"tasks/nope\",\"params\":{}}", 200, "\"code\":-32601", NULL, 0},
    /* a task's ttl runs from its creation (task-1: 60 s) */
    {"s1", T0 + 61000, RPC "\"id\":30,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"task-1\"}}", 200,
     "\"message\":\"Invalid params: no task task-1\"", NULL, 0},
    /* notifications/cancelled drops a deferred answer of that request (and
     * only of this session) */
    {"s1", T0, CALL(32, "slow", ""), 200, NULL, NULL, 0},
    {"s2", T0, RPC "\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":32}}", 202, NULL, NULL, 0},
    {"s1", T0, NULL, 200, NULL, NULL, 1}, /* still there: another session's cancel */
    {"s1", T0, RPC "\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":32}}", 202, NULL, NULL, 0},
    {"s1", T0, NULL, 404, NULL, NULL, 1},
    /* notifications, responses and bad messages as sb_mcp_server */
    {"s1", T0, RPC "\"method\":\"notifications/initialized\"}", 202, NULL, NULL, 0},
    {"s1", T0, "{oops", 400, "\"code\":-32700", NULL, 0},
    {"s1", T0, RPC "\"id\":31,\"method\":\"resources/list\"}", 200, "\"code\":-32601", NULL, 0},
};

/* Runs the script; returns false at the first mismatch when `check` is set
 * (under failing allocations nothing is checked: it must only end cleanly). */
static void run(bool check)
{
    sb_mcp_app *a = sb_mcp_app_new("t", "1", NULL, test_tools, NTEST_TOOLS, test_tool, NULL);
    if (!a) {
        CHECK(!check);
        return;
    }
    uint64_t pending = 0;
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        const struct step *s = &steps[i];
        sb_mcp_app_reply r;
        if (s->poll)
            sb_mcp_app_poll(a, pending, s->now, &r);
        else
            sb_mcp_app_handle(a, s->session, s->now, s->in, strlen(s->in), &r);
        if (r.pending)
            pending = r.pending;
        if (check) {
            char *msg = r.message.kind == SB_MAP ? sb_val_to_json(r.message, 0) : NULL;
            char *notes = sb_list_len(r.notes) ? sb_val_to_json(r.notes, 0) : NULL;
            CHECK_INT(r.status, s->status);
            if (s->out && (!msg || !strstr(msg, s->out)))
                fprintf(stderr, "step %zu: answer %s\n  lacks %s\n", i, msg ? msg : "(none)", s->out);
            CHECK(s->out ? msg && strstr(msg, s->out) : !msg);
            if (s->notes && (!notes || !strstr(notes, s->notes)))
                fprintf(stderr, "step %zu: notes %s\n  lack %s\n", i, notes ? notes : "(none)", s->notes);
            CHECK(s->notes ? notes && strstr(notes, s->notes) : !notes);
            sb_free(msg);
            sb_free(notes);
        }
        sb_mcp_app_reply_clear(&r);
    }
    if (check) {
        CHECK_INT(sb_mcp_app_task_count(a, false), 2);
        sb_mcp_app_end_session(a, "s1");
        CHECK_INT(sb_mcp_app_task_count(a, false), 0);
    }
    sb_mcp_app_free(a);
}

static void test_script(void)
{
    run(true);
}

static void test_script_failing_allocations(void)
{
    fprintf(stderr, "the script needs %ld allocations\n", sb_failalloc_until_enough(run));
}

static void test_iso8601(void)
{
    char b[32];
    sb_mcp__iso8601(0, b);
    CHECK_STR(b, "1970-01-01T00:00:00.000Z");
    sb_mcp__iso8601(951782400000LL, b);
    CHECK_STR(b, "2000-02-29T00:00:00.000Z");
    sb_mcp__iso8601(T0, b);
    CHECK_STR(b, "2026-12-06T03:32:06.123Z");
}

SB_TEST_MAIN(TEST(test_script) TEST(test_script_failing_allocations) TEST(test_iso8601))
