/* libFuzzer target for JSON-RPC classification and the server dispatcher.
 * Checked (abort on failure):
 *   - an invalid message has a reason and a code the server can answer with;
 *   - a valid message rebuilt with the builders classifies the same, with
 *     equal fields (the builders write what the parser reads);
 *   - the server answers every body with 200/202/400 and, when it answers
 *     with a body, that body is a response or error response. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/sb_jsonrpc.h"
#include "mcp/sb_mcp_server.h"
#include "util/sb_alloc.h"

#define FZ_ASSERT(cond, what)                                                                                     \
    do {                                                                                                          \
        if (!(cond)) {                                                                                            \
            fprintf(stderr, "fuzz_jsonrpc: invariant failed: %s (%s)\n", what, #cond);                            \
            abort();                                                                                              \
        }                                                                                                         \
    } while (0)

static sb_val echo_tool(void *ud, int64_t now_ms, const char *tool, sb_val args)
{
    (void)ud;
    (void)now_ms;
    (void)tool;
    sb_val r = sb_map_new(2);
    sb_map_set_str(&r, "content", sb_list_new(0));
    sb_map_set_str(&r, "structuredContent", sb_val_ref(args));
    return r;
}

static char *rebuild(const sb_jsonrpc_msg *m)
{
    switch (m->kind) {
    case SB_JSONRPC_REQUEST:
        if (m->id.kind != SB_INT)
            return NULL;
        return sb_jsonrpc_request(m->id.as.i, sb_str(m->method), m->params);
    case SB_JSONRPC_NOTIFICATION:
        return sb_jsonrpc_notification(sb_str(m->method), m->params);
    case SB_JSONRPC_RESPONSE:
        return sb_jsonrpc_result(m->id, m->result);
    case SB_JSONRPC_ERROR_RESPONSE:
        return sb_jsonrpc_error(m->id, m->error_code, sb_str(m->error_message), m->error_data);
    default:
        return NULL;
    }
}

static bool has_nul(sb_val s) { return s.kind == SB_STRING && strlen(sb_str(s)) != sb_str_len(s); }

static void check_roundtrip(const sb_jsonrpc_msg *m)
{
    if (has_nul(m->method) || has_nul(m->error_message))
        return; /* the builders take C strings */
    char *text = rebuild(m);
    if (!text)
        return;
    sb_jsonrpc_msg again;
    FZ_ASSERT(sb_jsonrpc_parse(text, strlen(text), &again) == m->kind, "rebuilt message classifies the same");
    FZ_ASSERT(sb_val_equal(again.id, m->id), "id");
    FZ_ASSERT(sb_val_equal(again.method, m->method), "method");
    FZ_ASSERT(sb_val_equal(again.params, m->params), "params");
    FZ_ASSERT(sb_val_equal(again.result, m->result), "result");
    FZ_ASSERT(again.error_code == m->error_code, "error code");
    FZ_ASSERT(sb_val_equal(again.error_message, m->error_message), "error message");
    FZ_ASSERT(sb_val_equal(again.error_data, m->error_data), "error data");
    sb_jsonrpc_msg_clear(&again);
    sb_free(text);
}

/* 1e999 reads as infinity, which JSON can only write back as null. */
static bool has_nonfinite(sb_val v)
{
    switch (v.kind) {
    case SB_DOUBLE:
        return !isfinite(v.as.d);
    case SB_LIST:
        for (size_t i = 0; i < sb_list_len(v); i++)
            if (has_nonfinite(*sb_list_at(v, i)))
                return true;
        return false;
    case SB_MAP:
        for (size_t i = 0; i < sb_map_len(v); i++)
            if (has_nonfinite(*sb_map_val_at(v, i)))
                return true;
        return false;
    default:
        return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sb_mcp_server *server;
    static const sb_tool_desc tools[] = {{"echo", "Echoes its arguments.", NULL}};
    if (!server)
        server = sb_mcp_server_new("fuzz", "1", NULL, tools, 1, echo_tool, NULL);
    const char *text = (const char *)data;

    sb_jsonrpc_msg m;
    sb_jsonrpc_kind k = sb_jsonrpc_parse(text, size, &m);
    if (k == SB_JSONRPC_INVALID) {
        FZ_ASSERT(m.problem.kind == SB_ERROR, "an invalid message says why");
        FZ_ASSERT(m.invalid_code == SB_JSONRPC_PARSE_ERROR || m.invalid_code == SB_JSONRPC_INVALID_REQUEST,
                  "invalid code");
    } else if (!has_nonfinite(m.params) && !has_nonfinite(m.result) && !has_nonfinite(m.error_data)) {
        check_roundtrip(&m);
    }
    sb_jsonrpc_msg_clear(&m);

    int status = 0;
    char *out = sb_mcp_server_handle(server, 0, text, size, &status);
    FZ_ASSERT(status == 200 || status == 202 || status == 400, "status");
    FZ_ASSERT((out == NULL) == (status == 202), "a body unless 202");
    if (out) {
        sb_jsonrpc_kind rk = sb_jsonrpc_parse(out, strlen(out), &m);
        FZ_ASSERT(rk == SB_JSONRPC_RESPONSE || rk == SB_JSONRPC_ERROR_RESPONSE, "the answer is a response");
        sb_jsonrpc_msg_clear(&m);
        sb_free(out);
    }
    return 0;
}
