/* JSON-RPC 2.0 messages: building them, and classifying what arrives. */
#include "mcp/sb_jsonrpc.h"
#include "sb_test.h"
#include "sb_failalloc.h"
#include "util/sb_alloc.h"

static void test_builders(void)
{
    sb_val params = sb_map_new(0);
    sb_map_set_str(&params, "name", sb_string_cstr("add"));
    char *s = sb_jsonrpc_request(7, "tools/call", params);
    CHECK_STR(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"add\"}}");
    sb_free(s);
    s = sb_jsonrpc_request(1, "ping", sb_null());
    CHECK_STR(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    sb_free(s);
    s = sb_jsonrpc_notification("notifications/initialized", sb_null());
    CHECK_STR(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    sb_free(s);
    sb_val id = sb_string_cstr("a\"b");
    s = sb_jsonrpc_result(id, params);
    CHECK_STR(s, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"result\":{\"name\":\"add\"}}");
    sb_free(s);
    s = sb_jsonrpc_error(sb_null(), SB_JSONRPC_PARSE_ERROR, "Parse error", sb_null());
    CHECK_STR(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\"}}");
    sb_free(s);
    s = sb_jsonrpc_error(sb_int(3), -32602, "bad", sb_int(42));
    CHECK_STR(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32602,\"message\":\"bad\",\"data\":42}}");
    sb_free(s);
    sb_val_free(id);
    sb_val_free(params);
    CHECK_STR(sb_jsonrpc_error_name(-32601), "Method not found");
    CHECK_STR(sb_jsonrpc_error_name(-32000), "Server error");
}

/* Valid messages: text -> kind and the fields that matter. */
static void test_valid_messages(void)
{
    sb_jsonrpc_msg m;
    const char *t = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    CHECK_INT(sb_jsonrpc_parse(t, strlen(t), &m), SB_JSONRPC_REQUEST);
    CHECK_INT(m.id.kind, SB_INT);
    CHECK_INT(m.id.as.i, 1);
    CHECK_STR(sb_str(m.method), "ping");
    CHECK_INT(m.params.kind, SB_NULL);
    sb_jsonrpc_msg_clear(&m);

    t = "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"tools/list\",\"params\":{}}";
    CHECK_INT(sb_jsonrpc_parse(t, strlen(t), &m), SB_JSONRPC_REQUEST);
    CHECK_STR(sb_str(m.id), "abc");
    CHECK_INT(m.params.kind, SB_MAP);
    sb_jsonrpc_msg_clear(&m);

    t = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}";
    CHECK_INT(sb_jsonrpc_parse(t, strlen(t), &m), SB_JSONRPC_NOTIFICATION);
    CHECK_INT(m.id.kind, SB_NULL);
    sb_jsonrpc_msg_clear(&m);

    t = "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"ok\":true}}";
    CHECK_INT(sb_jsonrpc_parse(t, strlen(t), &m), SB_JSONRPC_RESPONSE);
    CHECK_INT(m.result.kind, SB_MAP);
    sb_jsonrpc_msg_clear(&m);

    t = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\",\"data\":[1]}}";
    CHECK_INT(sb_jsonrpc_parse(t, strlen(t), &m), SB_JSONRPC_ERROR_RESPONSE);
    CHECK_INT(m.error_code, -32700);
    CHECK_STR(sb_str(m.error_message), "Parse error");
    CHECK_INT(m.error_data.kind, SB_LIST);
    sb_jsonrpc_msg_clear(&m);

    /* Unknown members are ignored; a null result is still a result. */
    t = "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":null,\"extra\":1}";
    CHECK_INT(sb_jsonrpc_parse(t, strlen(t), &m), SB_JSONRPC_RESPONSE);
    sb_jsonrpc_msg_clear(&m);
}

/* Invalid messages: text, the code a server answers with, the exact reason,
 * and whether the id could still be read. */
static const struct invalid_case {
    const char *text;
    int code;
    const char *problem;
    bool id_read;
} invalid_cases[] = {
    {"", SB_JSONRPC_PARSE_ERROR, "not JSON: line 1, column 1: unexpected end of JSON text", false},
    {"{\"jsonrpc\":", SB_JSONRPC_PARSE_ERROR, "not JSON: line 1, column 12: unexpected end of JSON text", false},
    {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", SB_JSONRPC_INVALID_REQUEST,
     "batch arrays are not supported (JSON-RPC batching was removed in MCP 2025-06-18)", false},
    {"42", SB_JSONRPC_INVALID_REQUEST, "a JSON-RPC message must be an object, not int", false},
    {"{\"id\":1,\"method\":\"ping\"}", SB_JSONRPC_INVALID_REQUEST, "missing \"jsonrpc\": \"2.0\"", true},
    {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", SB_JSONRPC_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"",
     true},
    {"{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}", SB_JSONRPC_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"", true},
    {"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", SB_JSONRPC_INVALID_REQUEST,
     "\"id\" must be an integer or a string, not double", false},
    {"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", SB_JSONRPC_INVALID_REQUEST,
     "\"id\" must be an integer or a string, not bool", false},
    {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", SB_JSONRPC_INVALID_REQUEST,
     "\"id\" must be an integer or a string, not map", false},
    {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", SB_JSONRPC_INVALID_REQUEST,
     "a request id must not be null", false},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", SB_JSONRPC_INVALID_REQUEST, "\"method\" must be a string", true},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":3}", SB_JSONRPC_INVALID_REQUEST,
     "\"params\" must be an object or an array", true},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"result\":{}}", SB_JSONRPC_INVALID_REQUEST,
     "a message cannot have both \"method\" and \"result\"/\"error\"", true},
    {"{\"jsonrpc\":\"2.0\",\"id\":1}", SB_JSONRPC_INVALID_REQUEST,
     "a message needs \"method\" (request), \"result\" or \"error\" (response)", true},
    {"{\"jsonrpc\":\"2.0\",\"result\":{}}", SB_JSONRPC_INVALID_REQUEST, "a response needs an \"id\"", false},
    {"{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}", SB_JSONRPC_INVALID_REQUEST,
     "a result response needs a non-null \"id\"", false},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}", SB_JSONRPC_INVALID_REQUEST,
     "a response cannot have both \"result\" and \"error\"", true},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"boom\"}", SB_JSONRPC_INVALID_REQUEST, "\"error\" must be an object",
     true},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"m\"}}", SB_JSONRPC_INVALID_REQUEST,
     "\"error.code\" must be an integer", true},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-1.5,\"message\":\"m\"}}", SB_JSONRPC_INVALID_REQUEST,
     "\"error.code\" must be an integer", true},
    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1}}", SB_JSONRPC_INVALID_REQUEST,
     "\"error.message\" must be a string", true},
};

static void test_invalid_messages(void)
{
    for (size_t i = 0; i < sizeof invalid_cases / sizeof *invalid_cases; i++) {
        const struct invalid_case *c = &invalid_cases[i];
        sb_jsonrpc_msg m;
        CHECK_INT(sb_jsonrpc_parse(c->text, strlen(c->text), &m), SB_JSONRPC_INVALID);
        CHECK_INT(m.invalid_code, c->code);
        CHECK_INT(m.problem.kind, SB_ERROR);
        CHECK_STR(sb_str(m.problem), c->problem);
        CHECK_INT(m.id.kind != SB_NULL, c->id_read);
        sb_jsonrpc_msg_clear(&m);
    }
}


static void test_oom_is_clean(void)
{
    const char *t = "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-1,\"message\":\"m\",\"data\":{\"a\":[1]}}}";
    bool finished = false;
    for (long n = 0; n < 500 && !finished; n++) {
        sb_failalloc_left = n;
        sb_alloc_set(sb_failalloc_fn, NULL);
        sb_jsonrpc_msg m;
        sb_jsonrpc_kind k = sb_jsonrpc_parse(t, strlen(t), &m);
        char *s = sb_jsonrpc_error(m.id, m.error_code, "m", m.error_data);
        finished = k == SB_JSONRPC_ERROR_RESPONSE && s;
        sb_free(s);
        sb_jsonrpc_msg_clear(&m);
        sb_alloc_set(NULL, NULL);
    }
    CHECK(finished);
}

SB_TEST_MAIN(TEST(test_builders) TEST(test_valid_messages) TEST(test_invalid_messages) TEST(test_oom_is_clean))
