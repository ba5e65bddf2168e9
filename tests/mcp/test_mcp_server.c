/* The server dispatcher, as exchanges: body in -> status and body out. */
#include "mcp/sb_mcp_server.h"
#include "sb_test.h"
#include "util/sb_alloc.h"

static const sb_tool_desc tools[] = {
    {"add", "Adds a and b.",
     "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"number\"}},"
     "\"required\":[\"a\",\"b\"]}"},
    {"fail", "Always fails inside.", NULL},
    {"oops", "Returns something that is not a result.", NULL},
};

/* add {a, b} -> {content:[{type:text,text:"<sum>"}], structuredContent:{sum}};
 * a missing operand is an isError result, as tool input errors should be. */
static sb_val run_tool(void *ud, int64_t now_ms, const char *tool, sb_val args)
{
    (void)ud;
    if (strcmp(tool, "fail") == 0)
        return sb_errorf("disk on fire at %lld", (long long)now_ms);
    if (strcmp(tool, "oops") == 0)
        return sb_int(3);
    const sb_val *a = sb_map_get_str(args, "a"), *b = sb_map_get_str(args, "b");
    sb_val r = sb_map_new(2);
    sb_val item = sb_map_new(2);
    sb_val content = sb_list_new(1);
    bool bad = !a || !b || a->kind != SB_INT || b->kind != SB_INT;
    char text[64];
    if (bad)
        snprintf(text, sizeof text, "a and b must be integers");
    else
        snprintf(text, sizeof text, "%lld", (long long)(a->as.i + b->as.i));
    sb_map_set_str(&item, "type", sb_string_cstr("text"));
    sb_map_set_str(&item, "text", sb_string_cstr(text));
    sb_list_push(&content, item);
    sb_map_set_str(&r, "content", content);
    if (bad) {
        sb_map_set_str(&r, "isError", sb_bool(true));
    } else {
        sb_val sc = sb_map_new(1);
        sb_map_set_str(&sc, "sum", sb_int(a->as.i + b->as.i));
        sb_map_set_str(&r, "structuredContent", sc);
    }
    return r;
}

#define RPC "{\"jsonrpc\":\"2.0\","

static const struct exchange {
    const char *in;
    int status;
    const char *out; /* NULL: no body */
} exchanges[] = {
    /* initialize: the client's revision when known, else ours. */
    {RPC "\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
         "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}",
     200,
     RPC "\"id\":1,\"result\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"tools\":{\"listChanged\":false}},"
         "\"serverInfo\":{\"name\":\"calc\",\"version\":\"1.2\"},\"instructions\":\"Use add.\"}}"},
    {RPC "\"id\":2,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2099-01-01\"}}", 200,
     RPC "\"id\":2,\"result\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":{\"listChanged\":false}},"
         "\"serverInfo\":{\"name\":\"calc\",\"version\":\"1.2\"},\"instructions\":\"Use add.\"}}"},
    {RPC "\"id\":3,\"method\":\"initialize\",\"params\":{}}", 200,
     RPC "\"id\":3,\"error\":{\"code\":-32602,\"message\":\"Invalid params: initialize needs \\\"protocolVersion\\\" "
         "(a string)\"}}"},
    {RPC "\"method\":\"notifications/initialized\"}", 202, NULL},
    {RPC "\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1}}", 202, NULL},
    {RPC "\"id\":4,\"result\":{}}", 202, NULL},
    {RPC "\"id\":\"p\",\"method\":\"ping\"}", 200, RPC "\"id\":\"p\",\"result\":{}}"},
    {RPC "\"id\":5,\"method\":\"tools/list\"}", 200,
     RPC "\"id\":5,\"result\":{\"tools\":[{\"name\":\"add\",\"description\":\"Adds a and b.\",\"inputSchema\":{"
         "\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"number\"}},"
         "\"required\":[\"a\",\"b\"]}},{\"name\":\"fail\",\"description\":\"Always fails inside.\","
         "\"inputSchema\":{\"type\":\"object\"}},{\"name\":\"oops\",\"description\":\"Returns something that is not "
         "a result.\",\"inputSchema\":{\"type\":\"object\"}}]}}"},
    {RPC "\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":{\"a\":2,\"b\":40}}}", 200,
     RPC "\"id\":6,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"42\"}],\"structuredContent\":{\"sum\":42}}}"},
    /* Tool input errors are results with isError. */
    {RPC "\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"add\"}}", 200,
     RPC "\"id\":7,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"a and b must be integers\"}],"
         "\"isError\":true}}"},
    /* An unknown tool is an isError result too, as the official SDK does. */
    {RPC "\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\",\"arguments\":{}}}", 200,
     RPC "\"id\":8,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"unknown tool 'nope'\"}],\"isError\":true}}"},
    /* Malformed params are the protocol's business: -32602. */
    {RPC "\"id\":9,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}", 200,
     RPC "\"id\":9,\"error\":{\"code\":-32602,\"message\":\"Invalid params: tools/call needs \\\"name\\\" (a "
         "string)\"}}"},
    {RPC "\"id\":10,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":[1,2]}}", 200,
     RPC "\"id\":10,\"error\":{\"code\":-32602,\"message\":\"Invalid params: tools/call add: \\\"arguments\\\" must "
         "be an object\"}}"},
    {RPC "\"id\":11,\"method\":\"tools/call\",\"params\":[\"add\"]}", 200,
     RPC "\"id\":11,\"error\":{\"code\":-32602,\"message\":\"Invalid params: tools/call needs params {name, "
         "arguments}\"}}"},
    /* A tool runner's own failure is an internal error carrying its message. */
    {RPC "\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":\"fail\"}}", 200,
     RPC "\"id\":12,\"error\":{\"code\":-32603,\"message\":\"Internal error: disk on fire at 77\"}}"},
    {RPC "\"id\":13,\"method\":\"tools/call\",\"params\":{\"name\":\"oops\"}}", 200,
     RPC "\"id\":13,\"error\":{\"code\":-32603,\"message\":\"Internal error: tool oops returned int, not a result "
         "object\"}}"},
    /* A task-augmented call to a server without task support runs normally. */
    {RPC "\"id\":14,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":{\"a\":1,\"b\":1},"
         "\"task\":{\"ttl\":60000}}}",
     200,
     RPC "\"id\":14,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"2\"}],\"structuredContent\":{\"sum\":2}}}"},
    {RPC "\"id\":15,\"method\":\"resources/list\"}", 200,
     RPC "\"id\":15,\"error\":{\"code\":-32601,\"message\":\"Method not found: resources/list\"}}"},
    /* Not JSON, not JSON-RPC, batches: 400, with the id when it was readable. */
    {"{nope", 400,
     RPC "\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error: not JSON: line 1, column 2: expected a "
         "string in double quotes as the key, found 'n'\"}}"},
    {"[" RPC "\"id\":1,\"method\":\"ping\"}]", 400,
     RPC "\"id\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request: batch arrays are not supported "
         "(JSON-RPC batching was removed in MCP 2025-06-18)\"}}"},
    {"{\"jsonrpc\":\"1.0\",\"id\":16,\"method\":\"ping\"}", 400,
     RPC "\"id\":16,\"error\":{\"code\":-32600,\"message\":\"Invalid Request: \\\"jsonrpc\\\" must be \\\"2.0\\\"\"}}"},
};

static void test_exchanges(void)
{
    sb_mcp_server *s = sb_mcp_server_new("calc", "1.2", "Use add.", tools, 3, run_tool, NULL);
    CHECK(s != NULL);
    for (size_t i = 0; i < sizeof exchanges / sizeof *exchanges; i++) {
        const struct exchange *e = &exchanges[i];
        int status = -1;
        char *out = sb_mcp_server_handle(s, 77, e->in, strlen(e->in), &status);
        CHECK_INT(status, e->status);
        if (e->out)
            CHECK_STR(out, e->out);
        else
            CHECK(out == NULL);
        sb_free(out);
    }
    sb_mcp_server_free(s);
}

static void test_new_rejects_bad_schema(void)
{
    sb_tool_desc bad[] = {{"x", "d", "[1]"}};
    CHECK(sb_mcp_server_new("n", "1", NULL, bad, 1, run_tool, NULL) == NULL);
    sb_tool_desc broken[] = {{"x", "d", "{"}};
    CHECK(sb_mcp_server_new("n", "1", NULL, broken, 1, run_tool, NULL) == NULL);
    sb_mcp_server_free(NULL);
    /* No instructions: the member is left out. */
    sb_mcp_server *s = sb_mcp_server_new("n", "1", NULL, NULL, 0, run_tool, NULL);
    int status;
    const char *in = RPC "\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-03-26\"}}";
    char *out = sb_mcp_server_handle(s, 0, in, strlen(in), &status);
    CHECK_STR(out, RPC "\"id\":1,\"result\":{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{\"tools\":{"
                       "\"listChanged\":false}},\"serverInfo\":{\"name\":\"n\",\"version\":\"1\"}}}");
    sb_free(out);
    sb_mcp_server_free(s);
}

SB_TEST_MAIN(TEST(test_exchanges) TEST(test_new_rejects_bad_schema))
