#include "sb_jsonrpc.h"

#include <string.h>

#include "../json/sb_json.h"
#include "../util/sb_alloc.h"

const char *sb_jsonrpc_error_name(int64_t code)
{
    switch (code) {
#define SB_JSONRPC_CASE_(name, c, msg)                                                                           \
    case c:                                                                                                      \
        return msg;
        SB_JSONRPC_ERRORS(SB_JSONRPC_CASE_)
#undef SB_JSONRPC_CASE_
    default:
        return "Server error";
    }
}

static void msg_init(sb_jsonrpc_msg *m)
{
    memset(m, 0, sizeof *m);
    m->id = m->method = m->params = m->result = sb_null();
    m->error_message = m->error_data = m->problem = sb_null();
}

void sb_jsonrpc_msg_clear(sb_jsonrpc_msg *m)
{
    sb_val_free(m->id);
    sb_val_free(m->method);
    sb_val_free(m->params);
    sb_val_free(m->result);
    sb_val_free(m->error_message);
    sb_val_free(m->error_data);
    sb_val_free(m->problem);
    msg_init(m);
}

/* Marks m invalid. problem is consumed (it is sb_oom() when the message could
 * not be built, and then the code says "internal"). */
static sb_jsonrpc_kind invalid(sb_jsonrpc_msg *m, int code, sb_val problem)
{
    sb_val id = m->id;
    m->id = sb_null();
    sb_jsonrpc_msg_clear(m);
    m->id = id;
    m->kind = SB_JSONRPC_INVALID;
    m->invalid_code = sb_is_oom(problem) ? SB_JSONRPC_INTERNAL_ERROR : code;
    m->problem = problem;
    return m->kind;
}

static bool id_ok(sb_val v) { return v.kind == SB_INT || v.kind == SB_STRING; }

static sb_val take_ref(const sb_val *v) { return v ? sb_val_ref(*v) : sb_null(); }

/* error -> {code: integer, message: string, data?: any} */
static sb_jsonrpc_kind classify_error(sb_jsonrpc_msg *m, const sb_val *err)
{
    if (err->kind != SB_MAP)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("\"error\" must be an object"));
    const sb_val *code = sb_map_get_str(*err, "code");
    const sb_val *text = sb_map_get_str(*err, "message");
    if (!code || code->kind != SB_INT)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("\"error.code\" must be an integer"));
    if (!text || text->kind != SB_STRING)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("\"error.message\" must be a string"));
    m->error_code = code->as.i;
    m->error_message = sb_val_ref(*text);
    m->error_data = take_ref(sb_map_get_str(*err, "data"));
    m->kind = SB_JSONRPC_ERROR_RESPONSE;
    return m->kind;
}

sb_jsonrpc_kind sb_jsonrpc_classify(sb_val v, sb_jsonrpc_msg *m)
{
    msg_init(m);
    if (v.kind == SB_LIST)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST,
                       sb_error("batch arrays are not supported (JSON-RPC batching was removed in MCP 2025-06-18)"));
    if (v.kind != SB_MAP)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST,
                       sb_errorf("a JSON-RPC message must be an object, not %s", sb_kind_name(sb_kind_of(v))));

    /* The id first, so that even an invalid request can be answered by id. */
    const sb_val *id = sb_map_get_str(v, "id");
    if (id && id->kind != SB_NULL && !id_ok(*id))
        return invalid(m, SB_JSONRPC_INVALID_REQUEST,
                       sb_errorf("\"id\" must be an integer or a string, not %s", sb_kind_name(sb_kind_of(*id))));
    if (id)
        m->id = sb_val_ref(*id);

    const sb_val *ver = sb_map_get_str(v, "jsonrpc");
    if (!ver)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("missing \"jsonrpc\": \"2.0\""));
    if (!sb_str_eq(*ver, "2.0"))
        return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("\"jsonrpc\" must be \"2.0\""));

    const sb_val *method = sb_map_get_str(v, "method");
    const sb_val *result = sb_map_get_str(v, "result");
    const sb_val *err = sb_map_get_str(v, "error");
    if (method) {
        if (method->kind != SB_STRING)
            return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("\"method\" must be a string"));
        if (result || err)
            return invalid(m, SB_JSONRPC_INVALID_REQUEST,
                           sb_error("a message cannot have both \"method\" and \"result\"/\"error\""));
        const sb_val *params = sb_map_get_str(v, "params");
        if (params && params->kind != SB_MAP && params->kind != SB_LIST)
            return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("\"params\" must be an object or an array"));
        if (id && id->kind == SB_NULL)
            return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("a request id must not be null"));
        m->method = sb_val_ref(*method);
        m->params = take_ref(params);
        m->kind = id ? SB_JSONRPC_REQUEST : SB_JSONRPC_NOTIFICATION;
        return m->kind;
    }
    if (result && err)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("a response cannot have both \"result\" and \"error\""));
    if (!result && !err)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST,
                       sb_error("a message needs \"method\" (request), \"result\" or \"error\" (response)"));
    if (!id)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("a response needs an \"id\""));
    if (err)
        return classify_error(m, err);
    if (id->kind == SB_NULL)
        return invalid(m, SB_JSONRPC_INVALID_REQUEST, sb_error("a result response needs a non-null \"id\""));
    m->result = sb_val_ref(*result);
    m->kind = SB_JSONRPC_RESPONSE;
    return m->kind;
}

sb_jsonrpc_kind sb_jsonrpc_parse(const char *text, size_t len, sb_jsonrpc_msg *out)
{
    sb_val v = sb_json_parse(text, len);
    if (v.kind == SB_ERROR) {
        msg_init(out);
        if (sb_is_oom(v))
            return invalid(out, SB_JSONRPC_INTERNAL_ERROR, v);
        sb_val p = sb_errorf("not JSON: %s", sb_str(v));
        sb_val_free(v);
        return invalid(out, SB_JSONRPC_PARSE_ERROR, p);
    }
    sb_jsonrpc_kind k = sb_jsonrpc_classify(v, out);
    sb_val_free(v);
    return k;
}

/* --- builders --- */

static void open_msg(sb_buf *b) { sb_buf_puts(b, "{\"jsonrpc\":\"2.0\""); }

/* Built with appends, not printf: a request is written per poll and per
 * job, and printf's parsing was a fifth of writing one. */
static void put_member(sb_buf *b, const char *name, sb_val v)
{
    sb_buf_puts(b, ",\"");
    sb_buf_puts(b, name);
    sb_buf_puts(b, "\":");
    sb_val_write_json(b, v, 0);
}

static char *close_msg(sb_buf *b)
{
    sb_buf_putc(b, '}');
    return sb_buf_take(b); /* NULL (and freed) if any append failed */
}

char *sb_jsonrpc_request(int64_t id, const char *method, sb_val params)
{
    sb_buf b = SB_BUF_INIT;
    open_msg(&b);
    sb_buf_puts(&b, ",\"id\":");
    sb_buf_int(&b, id);
    sb_buf_puts(&b, ",\"method\":");
    sb_buf_json_string(&b, method, strlen(method));
    if (params.kind != SB_NULL)
        put_member(&b, "params", params);
    return close_msg(&b);
}

char *sb_jsonrpc_notification(const char *method, sb_val params)
{
    sb_buf b = SB_BUF_INIT;
    open_msg(&b);
    sb_buf_puts(&b, ",\"method\":");
    sb_buf_json_string(&b, method, strlen(method));
    if (params.kind != SB_NULL)
        put_member(&b, "params", params);
    return close_msg(&b);
}

char *sb_jsonrpc_result(sb_val id, sb_val result)
{
    sb_buf b = SB_BUF_INIT;
    open_msg(&b);
    put_member(&b, "id", id);
    put_member(&b, "result", result);
    return close_msg(&b);
}

char *sb_jsonrpc_error(sb_val id, int64_t code, const char *message, sb_val data)
{
    sb_buf b = SB_BUF_INIT;
    open_msg(&b);
    put_member(&b, "id", id);
    sb_buf_puts(&b, ",\"error\":{\"code\":");
    sb_buf_int(&b, code);
    sb_buf_puts(&b, ",\"message\":");
    sb_buf_json_string(&b, message, strlen(message));
    if (data.kind != SB_NULL)
        put_member(&b, "data", data);
    sb_buf_putc(&b, '}');
    return close_msg(&b);
}
