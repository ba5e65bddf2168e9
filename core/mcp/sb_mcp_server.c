#include "sb_mcp_server.h"

#include <string.h>

#include "../json/sb_json.h"
#include "../util/sb_alloc.h"
#include "sb_jsonrpc.h"
#include "sb_mcp_int.h"

struct sb_mcp_server {
    sb_val name, version, instructions; /* strings; instructions may be null */
    sb_val tools_result;                /* the tools/list result, built once */
    sb_mcp_tool_fn fn;
    void *ud;
};

/* Builds {name, description, inputSchema} for one tool; SB_ERROR on failure. */
static sb_val tool_entry(const sb_tool_desc *t)
{
    const char *schema_text = t->input_schema_json ? t->input_schema_json : "{\"type\":\"object\"}";
    sb_val schema = sb_json_parse(schema_text, strlen(schema_text));
    if (schema.kind != SB_MAP && schema.kind != SB_ERROR) {
        sb_val_free(schema);
        return sb_errorf("tool %s: inputSchema must be a JSON object", t->name);
    }
    if (schema.kind == SB_ERROR)
        return schema;
    sb_val e = sb_map_new(3);
    bool ok = sb_mcp_put(&e, "name", sb_string_cstr(t->name));
    ok = sb_mcp_put(&e, "description", sb_string_cstr(t->description ? t->description : "")) && ok;
    ok = sb_mcp_put(&e, "inputSchema", schema) && ok;
    if (!ok) {
        sb_val_free(e);
        return sb_oom();
    }
    return e;
}

static sb_val build_tools_result(const sb_tool_desc *tools, size_t ntools)
{
    sb_val list = sb_list_new(ntools);
    for (size_t i = 0; i < ntools && list.kind == SB_LIST; i++) {
        sb_val e = tool_entry(&tools[i]);
        if (e.kind == SB_ERROR) {
            sb_val_free(list);
            return e;
        }
        if (!sb_list_push(&list, e)) {
            sb_val_free(list);
            return sb_oom();
        }
    }
    sb_val r = sb_map_new(1);
    if (!sb_mcp_put(&r, "tools", list)) {
        sb_val_free(r);
        return sb_oom();
    }
    return r;
}

sb_mcp_server *sb_mcp_server_new(const char *name, const char *version, const char *instructions,
                                 const sb_tool_desc *tools, size_t ntools, sb_mcp_tool_fn fn, void *ud)
{
    sb_mcp_server *s = sb_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fn = fn;
    s->ud = ud;
    s->name = sb_string_cstr(name);
    s->version = sb_string_cstr(version);
    s->instructions = instructions ? sb_string_cstr(instructions) : sb_null();
    s->tools_result = build_tools_result(tools, ntools);
    if (s->name.kind == SB_ERROR || s->version.kind == SB_ERROR || s->instructions.kind == SB_ERROR ||
        s->tools_result.kind == SB_ERROR) {
        sb_mcp_server_free(s);
        return NULL;
    }
    return s;
}

void sb_mcp_server_free(sb_mcp_server *s)
{
    if (!s)
        return;
    sb_val_free(s->name);
    sb_val_free(s->version);
    sb_val_free(s->instructions);
    sb_val_free(s->tools_result);
    sb_free(s);
}

/* --- replies (each consumes what it is given) ---
 * An answer is the JSON-RPC message as a value: sb_mcp_server_answer hands
 * it over as it is, sb_mcp_server_handle writes it as text. SB_ERROR (out
 * of memory) becomes HTTP 500. */

static sb_val message(sb_val id, const char *member, sb_val v)
{
    sb_val m = sb_map_new(3);
    bool ok = sb_mcp_put(&m, "jsonrpc", sb_string_key("2.0", 3));
    ok = sb_mcp_put(&m, "id", sb_val_ref(id)) && ok;
    ok = sb_mcp_put(&m, member, v) && ok;
    if (!ok) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}

sb_val sb_mcp__reply(sb_val id, sb_val result)
{
    if (result.kind == SB_ERROR) {
        sb_val_free(result);
        return sb_oom();
    }
    return message(id, "result", result);
}

/* {code, message}: the same members, in the same order, as
 * sb_jsonrpc_error writes (without data). */
sb_val sb_mcp__reply_error(sb_val id, int64_t code, sb_val detail)
{
    const char *name = sb_jsonrpc_error_name(code);
    sb_val msg = sb_errorf("%s: %s", name, sb_str(detail));
    sb_val_free(detail);
    if (sb_is_oom(msg))
        return msg;
    sb_val e = sb_map_new(2);
    bool ok = sb_mcp_put(&e, "code", sb_int(code));
    ok = sb_mcp_put(&e, "message", sb_string_cstr(sb_str(msg))) && ok; /* as the text writer: up to a NUL */
    sb_val_free(msg);
    if (!ok) {
        sb_val_free(e);
        return sb_oom();
    }
    return message(id, "error", e);
}

/* --- methods --- */

static sb_val map_of(const char *k1, sb_val v1, const char *k2, sb_val v2)
{
    sb_val m = sb_map_new(2);
    bool ok = sb_mcp_put(&m, k1, v1);
    if (k2)
        ok = sb_mcp_put(&m, k2, v2) && ok;
    if (!ok) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}

/* initialize {protocolVersion, capabilities, clientInfo} */
static sb_val do_initialize(sb_mcp_server *s, const sb_jsonrpc_msg *m)
{
    const sb_val *want = m->params.kind == SB_MAP ? sb_map_get_str(m->params, "protocolVersion") : NULL;
    if (!want || want->kind != SB_STRING)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS,
                                   sb_error("initialize needs \"protocolVersion\" (a string)"));
    /* Answer the client's revision when we speak it; otherwise ours, and the
     * client decides whether it can go on. */
    const char *v = sb_mcp_version_supported(sb_str(*want)) ? sb_str(*want) : SB_MCP_LATEST_VERSION;
    sb_val r = sb_map_new(4);
    bool ok = sb_mcp_put(&r, "protocolVersion", sb_string_cstr(v));
    ok = sb_mcp_put(&r, "capabilities",
                    map_of("tools", map_of("listChanged", sb_bool(false), NULL, sb_null()), NULL, sb_null())) &&
         ok;
    ok = sb_mcp_put(&r, "serverInfo", map_of("name", sb_val_ref(s->name), "version", sb_val_ref(s->version))) && ok;
    if (s->instructions.kind == SB_STRING)
        ok = sb_mcp_put(&r, "instructions", sb_val_ref(s->instructions)) && ok;
    if (!ok) {
        sb_val_free(r);
        return sb_oom();
    }
    return sb_mcp__reply(m->id, r);
}

static const sb_val *find_tool(const sb_mcp_server *s, const char *name)
{
    sb_val list = *sb_map_get_str(s->tools_result, "tools");
    for (size_t i = 0; i < sb_list_len(list); i++) {
        const sb_val *t = sb_list_at(list, i);
        if (sb_str_eq(*sb_map_get_str(*t, "name"), name))
            return t;
    }
    return NULL;
}

/* The official SDK answers an unknown tool with an isError result, not a
 * JSON-RPC error; clients must handle both, and sibyl's client does. */
static sb_val unknown_tool_result(const char *name)
{
    sb_val text = sb_errorf("unknown tool '%s'", name);
    if (sb_is_oom(text))
        return text;
    sb_val msg = sb_string(sb_str(text), sb_str_len(text));
    sb_val_free(text);
    sb_val item = map_of("type", sb_string_cstr("text"), "text", msg);
    sb_val content = sb_list_new(1);
    if (!sb_mcp_push(&content, item)) {
        sb_val_free(content);
        return sb_oom();
    }
    return map_of("content", content, "isError", sb_bool(true));
}

/* tools/call {name, arguments?, _meta?, task?}: task augmentation is not
 * offered (no tasks capability), so a task field is ignored and the call runs
 * normally, as the spec asks of receivers without task support. */
sb_val sb_mcp__call_params(const sb_jsonrpc_msg *m, const sb_val **name, const sb_val **args)
{
    if (m->params.kind != SB_MAP)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS,
                                   sb_error("tools/call needs params {name, arguments}"));
    *name = sb_map_get_str(m->params, "name");
    if (!*name || (*name)->kind != SB_STRING)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS, sb_error("tools/call needs \"name\" (a string)"));
    *args = sb_map_get_str(m->params, "arguments");
    if (*args && (*args)->kind != SB_MAP && (*args)->kind != SB_NULL)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS,
                                   sb_errorf("tools/call %s: \"arguments\" must be an object", sb_str(**name)));
    return sb_null();
}

static sb_val do_tools_call(sb_mcp_server *s, int64_t now_ms, const sb_jsonrpc_msg *m)
{
    const sb_val *name, *args;
    sb_val bad = sb_mcp__call_params(m, &name, &args);
    if (bad.kind != SB_NULL)
        return bad;
    if (!find_tool(s, sb_str(*name)))
        return sb_mcp__reply(m->id, unknown_tool_result(sb_str(*name)));

    sb_val empty = sb_null();
    if (!args || args->kind == SB_NULL) {
        empty = sb_map_new(0);
        if (empty.kind == SB_ERROR)
            return sb_oom();
        args = &empty;
    }
    sb_val r = s->fn ? s->fn(s->ud, now_ms, sb_str(*name), *args) : sb_error("no tool runner");
    sb_val_free(empty);
    if (sb_is_oom(r))
        return sb_oom();
    if (r.kind == SB_ERROR)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INTERNAL_ERROR, r);
    if (r.kind != SB_MAP) {
        sb_val why = sb_errorf("tool %s returned %s, not a result object", sb_str(*name), sb_kind_name(sb_kind_of(r)));
        sb_val_free(r);
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INTERNAL_ERROR, why);
    }
    return sb_mcp__reply(m->id, r);
}

static sb_val dispatch(sb_mcp_server *s, int64_t now_ms, const sb_jsonrpc_msg *m)
{
    const char *method = sb_str(m->method);
    if (strcmp(method, "initialize") == 0)
        return do_initialize(s, m);
    if (strcmp(method, "ping") == 0)
        return sb_mcp__reply(m->id, sb_map_new(0));
    if (strcmp(method, "tools/list") == 0)
        return sb_mcp__reply(m->id, sb_val_ref(s->tools_result));
    if (strcmp(method, "tools/call") == 0)
        return do_tools_call(s, now_ms, m);
    return sb_mcp__reply_error(m->id, SB_JSONRPC_METHOD_NOT_FOUND, sb_errorf("%s", method));
}

/* The answer message as the tools built it (SB_NULL: no body). */
static sb_val answer(sb_mcp_server *s, int64_t now_ms, const char *body, size_t len, int *status)
{
    sb_jsonrpc_msg m;
    sb_val out = sb_null();
    *status = 200;
    switch (sb_jsonrpc_parse(body, len, &m)) {
    case SB_JSONRPC_REQUEST:
        out = dispatch(s, now_ms, &m);
        break;
    case SB_JSONRPC_NOTIFICATION:     /* notifications/initialized, cancelled, ... */
    case SB_JSONRPC_RESPONSE:         /* we never send requests, so nothing awaits them */
    case SB_JSONRPC_ERROR_RESPONSE:
        *status = 202;
        break;
    case SB_JSONRPC_INVALID:
        *status = 400;
        if (sb_is_oom(m.problem)) {
            out = sb_oom();
        } else {
            out = sb_mcp__reply_error(m.id, m.invalid_code, m.problem);
            m.problem = sb_null();
        }
        break;
    }
    sb_jsonrpc_msg_clear(&m);
    if (out.kind == SB_ERROR) {
        sb_val_free(out);
        out = sb_null();
        *status = 500;
    }
    return out;
}

sb_val sb_mcp_server_answer(sb_mcp_server *s, int64_t now_ms, const char *body, size_t len, int *status)
{
    sb_val m = answer(s, now_ms, body, len, status);
    if (m.kind != SB_MAP)
        return m;
    m = sb_json_round_trip(m);
    if (m.kind == SB_ERROR) {
        sb_val_free(m);
        *status = 500;
        return sb_null();
    }
    return m;
}

char *sb_mcp_server_handle(sb_mcp_server *s, int64_t now_ms, const char *body, size_t len, int *status)
{
    sb_val m = answer(s, now_ms, body, len, status);
    char *out = m.kind == SB_MAP ? sb_val_to_json(m, 0) : NULL;
    sb_val_free(m);
    if (!out && *status != 202)
        *status = 500;
    return out;
}
