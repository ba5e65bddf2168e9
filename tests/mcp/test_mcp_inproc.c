/* The client and the server talking to each other in-process, as the
 * embedded services do, and the same exchange with every allocation failing
 * in turn. */
#include "mcp/sb_mcp_client.h"
#include "mcp/sb_mcp_server.h"
#include "sb_test.h"
#include "util/sb_alloc.h"

static const sb_tool_desc tools[] = {
    {"add", "Adds integers a and b.",
     "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}}}"},
};

/* add {a, b}: structuredContent {sum}; bad input: an isError result. */
static sb_val add_tool(void *ud, int64_t now_ms, const char *tool, sb_val args)
{
    (void)now_ms;
    ++*(int *)ud;
    const sb_val *a = sb_map_get_str(args, "a"), *b = sb_map_get_str(args, "b");
    bool bad = strcmp(tool, "add") != 0 || !a || !b || a->kind != SB_INT || b->kind != SB_INT;
    char text[64];
    snprintf(text, sizeof text, bad ? "a and b must be integers" : "%lld",
             bad ? 0LL : (long long)(a->as.i + b->as.i));
    sb_val item = sb_map_new(2), content = sb_list_new(1), r = sb_map_new(2);
    bool ok = sb_map_set_str(&item, "type", sb_string_cstr("text"));
    ok = sb_map_set_str(&item, "text", sb_string_cstr(text)) && ok;
    ok = sb_list_push(&content, item) && ok;
    ok = sb_map_set_str(&r, "content", content) && ok;
    if (bad) {
        ok = sb_map_set_str(&r, "isError", sb_bool(true)) && ok;
    } else {
        sb_val sc = sb_map_new(1);
        ok = sb_map_set_str(&sc, "sum", sb_int(a->as.i + b->as.i)) && ok;
        ok = sb_map_set_str(&r, "structuredContent", sc) && ok;
    }
    if (!ok) {
        sb_val_free(r);
        return sb_oom();
    }
    return r;
}

/* The host's loop for an embedded server: every POST goes to the server;
 * GET and DELETE get 405, as from a server without streams or sessions.
 * Returns the number of HTTP requests made. */
static int pump(sb_mcp_client *c, sb_mcp_server *s, int64_t now)
{
    sb_mcp_request r;
    int n = 0;
    while (n < 100 && sb_mcp_client_next_request(c, now, &r)) {
        n++;
        if (strcmp(r.method, "POST") != 0) {
            sb_mcp_client_on_response(c, r.id, 405, NULL, NULL, "", 0, now);
            continue;
        }
        int status;
        char *body = sb_mcp_server_handle(s, now, r.body, r.body_len, &status);
        sb_mcp_client_on_response(c, r.id, status, body ? "application/json" : NULL, NULL, body,
                                  body ? strlen(body) : 0, now);
        sb_free(body);
    }
    return n;
}

static sb_val args_ab(int64_t a, int64_t b)
{
    sb_val m = sb_map_new(2);
    sb_map_set_str(&m, "a", sb_int(a));
    sb_map_set_str(&m, "b", sb_int(b));
    return m;
}

static char *pop_json(sb_mcp_client *c, uint64_t want)
{
    uint64_t id = 0;
    sb_val r = sb_null();
    if (!sb_mcp_client_next_completion(c, &id, &r))
        return NULL;
    CHECK_INT(id, want);
    char *s = r.kind == SB_ERROR ? sb_strdup(sb_str(r)) : sb_val_to_json(r, 0);
    sb_val_free(r);
    return s;
}

static void test_client_meets_server(void)
{
    int runs = 0;
    sb_mcp_server *s = sb_mcp_server_new("calc", "1.0", NULL, tools, 1, add_tool, &runs);
    sb_mcp_client *c = sb_mcp_client_new("calc", "sibyl", "0.1.0");
    uint64_t list = sb_mcp_client_request(c, "tools/list", sb_null());
    sb_val a = args_ab(2, 40);
    uint64_t sum = sb_mcp_client_call_tool(c, "add", a);
    sb_val_free(a);
    sb_val bad_args = sb_list_new(0);
    uint64_t bad = sb_mcp_client_call_tool(c, "add", bad_args);
    sb_val_free(bad_args);
    uint64_t unknown = sb_mcp_client_call_tool(c, "mul", sb_null());
    uint64_t ping = sb_mcp_client_request(c, "ping", sb_null());
    uint64_t nomethod = sb_mcp_client_request(c, "prompts/list", sb_null());
    /* initialize, notifications/initialized, then the six calls */
    CHECK_INT(pump(c, s, 5), 8);
    CHECK_STR(sb_mcp_client_protocol_version(c), "2025-11-25");
    char *j = pop_json(c, list);
    CHECK_STR(j, "{\"tools\":[{\"name\":\"add\",\"description\":\"Adds integers a and b.\",\"inputSchema\":{\"type\":"
                 "\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}}}}]}");
    sb_free(j);
    j = pop_json(c, sum);
    CHECK_STR(j, "{\"content\":[{\"type\":\"text\",\"text\":\"42\"}],\"structuredContent\":{\"sum\":42}}");
    sb_free(j);
    j = pop_json(c, bad);
    CHECK_STR(j, "server 'calc': tools/call add: JSON-RPC error -32602: Invalid params: tools/call add: "
                 "\"arguments\" must be an object");
    sb_free(j);
    j = pop_json(c, unknown);
    CHECK_STR(j, "{\"content\":[{\"type\":\"text\",\"text\":\"unknown tool 'mul'\"}],\"isError\":true}");
    sb_free(j);
    j = pop_json(c, ping);
    CHECK_STR(j, "{}");
    sb_free(j);
    j = pop_json(c, nomethod);
    CHECK_STR(j, "server 'calc': prompts/list: JSON-RPC error -32601: Method not found: prompts/list");
    sb_free(j);
    CHECK_INT(runs, 1);
    CHECK(!sb_mcp_client_busy(c));

    /* The session stays up: a later call goes straight out. */
    a = args_ab(1, 1);
    uint64_t again = sb_mcp_client_call_tool(c, "add", a);
    sb_val_free(a);
    CHECK_INT(pump(c, s, 6), 1);
    j = pop_json(c, again);
    CHECK_STR(j, "{\"content\":[{\"type\":\"text\",\"text\":\"2\"}],\"structuredContent\":{\"sum\":2}}");
    sb_free(j);
    sb_mcp_client_close(c);
    CHECK_INT(pump(c, s, 7), 0); /* no session id: nothing to DELETE */
    sb_mcp_client_free(c);
    sb_mcp_server_free(s);
}

/* --- failing allocations --- */

static long fail_after;
static long allocations;
static void *failing(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    allocations++;
    if (fail_after-- <= 0)
        return NULL;
    return realloc(p, n);
}

/* One full exchange under the failing allocator. Every accepted call must
 * complete exactly once, with its result or an error; returns true when
 * everything succeeded. */
static bool exchange_under_failures(void)
{
    int runs = 0;
    bool all_ok = false;
    sb_mcp_server *s = sb_mcp_server_new("calc", "1.0", "Adds.", tools, 1, add_tool, &runs);
    sb_mcp_client *c = sb_mcp_client_new("calc", "sibyl", "0.1.0");
    if (!s || !c)
        goto out;
    sb_val a = args_ab(20, 22);
    uint64_t ids[3] = {
        sb_mcp_client_request(c, "tools/list", sb_null()),
        a.kind == SB_MAP ? sb_mcp_client_call_tool(c, "add", a) : 0,
        sb_mcp_client_call_tool(c, "nope", sb_null()),
    };
    sb_val_free(a);
    pump(c, s, 1);
    int done[3] = {0, 0, 0};
    int ok = 0;
    uint64_t id;
    sb_val r;
    while (sb_mcp_client_next_completion(c, &id, &r)) {
        for (int i = 0; i < 3; i++)
            if (ids[i] == id)
                done[i]++;
        /* A failure is either memory running out or what the other side
         * made of that (a parse error for a truncated text, a 500). */
        CHECK(r.kind == SB_MAP || r.kind == SB_ERROR);
        if (r.kind == SB_MAP)
            ok++;
        sb_val_free(r);
    }
    for (int i = 0; i < 3; i++)
        CHECK_INT(done[i], ids[i] ? 1 : 0);
    CHECK(!sb_mcp_client_busy(c));
    all_ok = ok == 3;
out:
    sb_mcp_client_free(c);
    sb_mcp_server_free(s);
    return all_ok;
}

static void test_oom_is_clean(void)
{
    /* How many allocations a clean run makes: the loop must reach it. */
    allocations = 0;
    fail_after = 1L << 40;
    sb_alloc_set(failing, NULL);
    CHECK(exchange_under_failures());
    sb_alloc_set(NULL, NULL);
    long total = allocations;
    CHECK(total > 50);

    bool succeeded = false;
    long n;
    for (n = 0; n <= total && !succeeded; n++) {
        fail_after = n;
        sb_alloc_set(failing, NULL);
        succeeded = exchange_under_failures();
        sb_alloc_set(NULL, NULL);
    }
    CHECK(succeeded);
    CHECK_INT(n, total + 1); /* only the run without a failure succeeds fully */
}

SB_TEST_MAIN(TEST(test_client_meets_server) TEST(test_oom_is_clean))
