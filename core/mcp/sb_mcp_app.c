#include "sb_mcp_app.h"

#include <stdio.h>
#include <string.h>

#include "../json/sb_json.h"
#include "../util/sb_alloc.h"
#include "sb_jsonrpc.h"
#include "sb_mcp_app_int.h"
#include "sb_mcp_int.h"
#include "sb_mcp_server.h"

/* --- the call context --- */

int64_t sb_mcp_call_now(const sb_mcp_call *c)
{
    return c->now_ms;
}
unsigned sb_mcp_call_attempt(const sb_mcp_call *c)
{
    return c->attempt;
}
bool sb_mcp_call_is_task(const sb_mcp_call *c)
{
    return c->is_task;
}

void sb_mcp_call_defer(sb_mcp_call *c, bool disconnect)
{
    c->deferred = true;
    c->disconnect = disconnect;
}

static bool note(sb_mcp_call *c, const char *method, sb_val params)
{
    sb_val m = sb_map_new(3);
    bool ok = sb_mcp_put(&m, "jsonrpc", sb_string_key("2.0", 3));
    ok = sb_mcp_put(&m, "method", sb_string_cstr(method)) && ok;
    ok = sb_mcp_put(&m, "params", params) && ok;
    if (!ok) {
        sb_val_free(m);
        return false;
    }
    return sb_list_push(c->notes, m); /* consumes m either way */
}

/* Whole numbers as integers ("progress":50, not 50.0), as peers write them. */
static sb_val number(double d)
{
    if (d > -9e15 && d < 9e15 && (double)(int64_t)d == d)
        return sb_int((int64_t)d);
    return sb_double(d);
}

bool sb_mcp_call_progress(sb_mcp_call *c, double progress, double total, const char *message)
{
    if (c->is_task || c->progress_token.kind == SB_NULL || !c->notes)
        return true;
    sb_val p = sb_map_new(4);
    bool ok = sb_mcp_put(&p, "progressToken", sb_val_ref(c->progress_token));
    ok = sb_mcp_put(&p, "progress", number(progress)) && ok;
    if (total >= 0)
        ok = sb_mcp_put(&p, "total", number(total)) && ok;
    if (message)
        ok = sb_mcp_put(&p, "message", sb_string_cstr(message)) && ok;
    if (!ok) {
        sb_val_free(p);
        return false;
    }
    return note(c, "notifications/progress", p);
}

static const char *const levels[] = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};

int sb_mcp__log_level(const char *name)
{
    for (int i = 0; i < (int)(sizeof levels / sizeof *levels); i++)
        if (strcmp(levels[i], name) == 0)
            return i;
    return -1;
}

bool sb_mcp_call_log(sb_mcp_call *c, const char *level, sb_val data)
{
    int l = sb_mcp__log_level(level);
    if (c->is_task || !c->notes || l < 0 || l < c->log_level)
        return true;
    sb_val p = sb_map_new(3);
    bool ok = sb_mcp_put(&p, "level", sb_string_cstr(level));
    ok = sb_mcp_put(&p, "logger", sb_string_cstr(c->logger)) && ok;
    ok = sb_mcp_put(&p, "data", sb_val_ref(data)) && ok;
    if (!ok) {
        sb_val_free(p);
        return false;
    }
    return note(c, "notifications/message", p);
}

/* --- the app --- */

static sb_val tool_entry(const sb_mcp_app_tool *t)
{
    const char *in = t->input_schema_json ? t->input_schema_json : "{\"type\":\"object\"}";
    sb_val e = sb_map_new(5);
    bool ok = sb_mcp_put(&e, "name", sb_string_cstr(t->name));
    ok = sb_mcp_put(&e, "description", sb_string_cstr(t->description ? t->description : "")) && ok;
    sb_val schema = sb_json_parse(in, strlen(in));
    if (schema.kind != SB_MAP) {
        sb_val_free(schema);
        sb_val_free(e);
        return sb_errorf("tool %s: inputSchema must be a JSON object", t->name);
    }
    ok = sb_mcp_put(&e, "inputSchema", schema) && ok;
    if (t->output_schema_json) {
        schema = sb_json_parse(t->output_schema_json, strlen(t->output_schema_json));
        if (schema.kind != SB_MAP) {
            sb_val_free(schema);
            sb_val_free(e);
            return sb_errorf("tool %s: outputSchema must be a JSON object", t->name);
        }
        ok = sb_mcp_put(&e, "outputSchema", schema) && ok;
    }
    static const char *const support[] = {"forbidden", "optional", "required"};
    sb_val ex = sb_map_new(1);
    ok = sb_mcp_put(&ex, "taskSupport", sb_string_cstr(support[t->tasks])) && ok;
    ok = sb_mcp_put(&e, "execution", ex) && ok;
    if (!ok) {
        sb_val_free(e);
        return sb_oom();
    }
    return e;
}

sb_mcp_app *sb_mcp_app_new(const char *name, const char *version, const char *instructions,
                           const sb_mcp_app_tool *tools, size_t ntools, sb_mcp_app_fn fn, void *ud)
{
    sb_mcp_app *a = sb_calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->fn = fn;
    a->ud = ud;
    a->logger = sb_strdup(name);
    a->inner = sb_mcp_server_new(name, version, instructions, NULL, 0, NULL, NULL);
    a->tools = sb_calloc(ntools ? ntools : 1, sizeof *a->tools);
    a->tools_result = sb_map_new(1);
    sb_val list = sb_list_new(ntools);
    bool ok = a->logger && a->inner && a->tools && list.kind == SB_LIST;
    for (size_t i = 0; ok && i < ntools; i++) {
        sb_val e = tool_entry(&tools[i]);
        if (e.kind == SB_MAP) {
            ok = sb_list_push(&list, e); /* consumes e */
        } else {
            sb_val_free(e);
            ok = false;
        }
        a->tools[i].name = sb_strdup(tools[i].name);
        a->tools[i].tasks = tools[i].tasks;
        a->ntools = i + 1;
        ok = ok && a->tools[i].name;
    }
    if (!ok || !sb_mcp_put(&a->tools_result, "tools", list)) {
        if (!ok)
            sb_val_free(list);
        sb_mcp_app_free(a);
        return NULL;
    }
    return a;
}

static void task_free(sb_mcp__task *t)
{
    sb_free(t->id);
    sb_free(t->session);
    sb_free(t->tool);
    sb_val_free(t->args);
    sb_val_free(t->result);
}

static void pend_free(sb_mcp__pend *p)
{
    sb_free(p->session);
    sb_free(p->tool);
    sb_free(p->task_id);
    sb_val_free(p->req_id);
    sb_val_free(p->args);
    sb_val_free(p->progress_token);
}

void sb_mcp_app_free(sb_mcp_app *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->ntools; i++)
        sb_free(a->tools[i].name);
    sb_free(a->tools);
    for (size_t i = 0; i < a->ntasks; i++)
        task_free(&a->tasks[i]);
    sb_free(a->tasks);
    for (size_t i = 0; i < a->npend; i++)
        pend_free(&a->pend[i]);
    sb_free(a->pend);
    for (size_t i = 0; i < a->nsessions; i++)
        sb_free(a->sessions[i].id);
    sb_free(a->sessions);
    sb_val_free(a->tools_result);
    sb_mcp_server_free(a->inner);
    sb_free(a->logger);
    sb_free(a);
}

void sb_mcp_app_reply_clear(sb_mcp_app_reply *r)
{
    sb_val_free(r->notes);
    sb_val_free(r->message);
    memset(r, 0, sizeof *r);
    r->notes = sb_null();
    r->message = sb_null();
}

/* --- sessions --- */

int sb_mcp__session_level(const sb_mcp_app *a, const char *session)
{
    for (size_t i = 0; i < a->nsessions; i++)
        if (strcmp(a->sessions[i].id, session) == 0)
            return a->sessions[i].level;
    return 1; /* info */
}

static bool set_session_level(sb_mcp_app *a, const char *session, int level)
{
    for (size_t i = 0; i < a->nsessions; i++)
        if (strcmp(a->sessions[i].id, session) == 0) {
            a->sessions[i].level = level;
            return true;
        }
    if (!SB_MCP__GROW(a->sessions, a->nsessions, a->capsessions))
        return false;
    char *id = sb_strdup(session);
    if (!id)
        return false;
    a->sessions[a->nsessions++] = (sb_mcp__session){id, level};
    return true;
}

void sb_mcp_app_end_session(sb_mcp_app *a, const char *session)
{
    for (size_t i = 0; i < a->nsessions;)
        if (strcmp(a->sessions[i].id, session) == 0) {
            sb_free(a->sessions[i].id);
            a->sessions[i] = a->sessions[--a->nsessions];
        } else {
            i++;
        }
    for (size_t i = 0; i < a->ntasks;)
        if (strcmp(a->tasks[i].session, session) == 0) {
            task_free(&a->tasks[i]);
            a->tasks[i] = a->tasks[--a->ntasks];
        } else {
            i++;
        }
    for (size_t i = 0; i < a->npend;)
        if (strcmp(a->pend[i].session, session) == 0) {
            pend_free(&a->pend[i]);
            a->pend[i] = a->pend[--a->npend];
        } else {
            i++;
        }
}

const sb_mcp__tool *sb_mcp__find_tool(const sb_mcp_app *a, const char *name)
{
    for (size_t i = 0; i < a->ntools; i++)
        if (strcmp(a->tools[i].name, name) == 0)
            return &a->tools[i];
    return NULL;
}

/* --- dispatch --- */

/* initialize and ping, answered by sb_mcp_server; initialize's capabilities
 * are this server's. */
static sb_val inner_answer(sb_mcp_app *a, bool init, const char *body, size_t len, int *status)
{
    sb_val m = sb_mcp_server_answer(a->inner, 0, body, len, status);
    sb_val *r = init && m.kind == SB_MAP ? (sb_val *)sb_map_get_str(m, "result") : NULL;
    if (!r || r->kind != SB_MAP)
        return m;
    /* The capabilities this server adds to what sb_mcp_server announces. */
    static const char caps[] = "{\"tools\":{\"listChanged\":false},\"logging\":{},\"completions\":{},"
                               "\"tasks\":{\"list\":{},\"cancel\":{},\"requests\":{\"tools\":{\"call\":{}}}}}";
    if (!sb_mcp_put(r, "capabilities", sb_json_parse(caps, sizeof caps - 1))) {
        sb_val_free(m);
        *status = 500;
        return sb_null();
    }
    return m;
}

static sb_val set_level(sb_mcp_app *a, const char *session, const sb_jsonrpc_msg *m)
{
    const sb_val *lv = m->params.kind == SB_MAP ? sb_map_get_str(m->params, "level") : NULL;
    int level = lv && lv->kind == SB_STRING ? sb_mcp__log_level(sb_str(*lv)) : -1;
    if (level < 0)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS,
                                   sb_error("logging/setLevel needs \"level\": debug, info, notice, warning, error, "
                                            "critical, alert or emergency"));
    if (!set_session_level(a, session, level))
        return sb_oom();
    return sb_mcp__reply(m->id, sb_map_new(0));
}

/* No tool argument of these servers has completions worth offering; the
 * capability is declared so clients may ask, and get an empty list. */
static sb_val complete(const sb_jsonrpc_msg *m)
{
    const sb_val *ref = m->params.kind == SB_MAP ? sb_map_get_str(m->params, "ref") : NULL;
    const sb_val *arg = m->params.kind == SB_MAP ? sb_map_get_str(m->params, "argument") : NULL;
    if (!ref || ref->kind != SB_MAP || !arg || arg->kind != SB_MAP)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS,
                                   sb_error("completion/complete needs \"ref\" and \"argument\" (objects)"));
    static const char empty[] = "{\"completion\":{\"values\":[],\"total\":0,\"hasMore\":false}}";
    return sb_mcp__reply(m->id, sb_json_parse(empty, sizeof empty - 1));
}

static sb_val dispatch(sb_mcp_app *a, const char *session, int64_t now_ms, const sb_jsonrpc_msg *m,
                       sb_mcp_app_reply *out)
{
    const char *method = sb_str(m->method);
    if (strcmp(method, "tools/list") == 0)
        return sb_mcp__reply(m->id, sb_val_ref(a->tools_result));
    if (strcmp(method, "tools/call") == 0)
        return sb_mcp__tools_call(a, session, now_ms, m, out);
    if (strcmp(method, "logging/setLevel") == 0)
        return set_level(a, session, m);
    if (strcmp(method, "completion/complete") == 0)
        return complete(m);
    if (strncmp(method, "tasks/", 6) == 0)
        return sb_mcp__tasks_method(a, session, now_ms, m, out);
    return sb_mcp__reply_error(m->id, SB_JSONRPC_METHOD_NOT_FOUND, sb_errorf("%s", method));
}

/* notifications/cancelled {requestId}: a deferred answer to that request
 * of this session is not wanted any more (a task is cancelled with
 * tasks/cancel instead, as the spec asks). */
static void cancelled(sb_mcp_app *a, const char *session, sb_val params)
{
    const sb_val *id = params.kind == SB_MAP ? sb_map_get_str(params, "requestId") : NULL;
    for (size_t i = 0; id && i < a->npend; i++)
        if (strcmp(a->pend[i].session, session) == 0 && sb_val_equal(a->pend[i].req_id, *id)) {
            sb_mcp__pend_remove(a, i);
            return;
        }
}

static void reply_init(sb_mcp_app_reply *out)
{
    memset(out, 0, sizeof *out);
    out->notes = sb_list_new(0);
    out->message = sb_null();
    out->status = 200;
}

static void finish(sb_mcp_app_reply *out, sb_val msg)
{
    if (msg.kind == SB_ERROR || out->notes.kind != SB_LIST) {
        sb_val_free(msg);
        sb_val_free(out->notes);
        out->notes = sb_list_new(0);
        out->message = sb_null();
        out->pending = 0;
        out->status = 500;
        return;
    }
    out->message = msg;
}

void sb_mcp_app_handle(sb_mcp_app *a, const char *session, int64_t now_ms, const char *body, size_t len,
                       sb_mcp_app_reply *out)
{
    reply_init(out);
    sb_mcp__expire_tasks(a, now_ms);
    sb_jsonrpc_msg m;
    sb_jsonrpc_kind k = sb_jsonrpc_parse(body, len, &m);
    sb_val msg = sb_null();
    if (k == SB_JSONRPC_REQUEST) {
        const char *method = sb_str(m.method);
        bool init = strcmp(method, "initialize") == 0;
        if (init || strcmp(method, "ping") == 0)
            msg = inner_answer(a, init, body, len, &out->status);
        else
            msg = dispatch(a, session, now_ms, &m, out);
    } else {
        if (k == SB_JSONRPC_NOTIFICATION && sb_str_eq(m.method, "notifications/cancelled"))
            cancelled(a, session, m.params);
        /* notifications, responses, invalid messages: as sb_mcp_server */
        msg = sb_mcp_server_answer(a->inner, now_ms, body, len, &out->status);
    }
    sb_jsonrpc_msg_clear(&m);
    if (out->status == 500) {
        sb_val_free(msg);
        msg = sb_oom();
    }
    finish(out, msg);
}

void sb_mcp_app_poll(sb_mcp_app *a, uint64_t pending, int64_t now_ms, sb_mcp_app_reply *out)
{
    reply_init(out);
    sb_mcp__expire_tasks(a, now_ms);
    finish(out, sb_mcp__poll(a, pending, now_ms, out));
}

void sb_mcp_app_drop(sb_mcp_app *a, uint64_t pending)
{
    for (size_t i = 0; i < a->npend; i++)
        if (a->pend[i].id == pending) {
            pend_free(&a->pend[i]);
            a->pend[i] = a->pend[--a->npend];
            return;
        }
}

void sb_mcp__pend_remove(sb_mcp_app *a, size_t i)
{
    pend_free(&a->pend[i]);
    a->pend[i] = a->pend[--a->npend];
}

void sb_mcp__task_remove(sb_mcp_app *a, size_t i)
{
    task_free(&a->tasks[i]);
    a->tasks[i] = a->tasks[--a->ntasks];
}

size_t sb_mcp_app_task_count(const sb_mcp_app *a, bool working_only)
{
    size_t n = 0;
    for (size_t i = 0; i < a->ntasks; i++)
        n += !working_only || a->tasks[i].status == SB_MCP__WORKING;
    return n;
}

/* Days to civil date (proleptic Gregorian), after H. Hinnant's algorithm. */
void sb_mcp__iso8601(int64_t ms, char buf[32])
{
    int64_t s = ms >= 0 ? ms / 1000 : 0, msr = ms >= 0 ? ms % 1000 : 0;
    int64_t z = s / 86400 + 719468, sod = s % 86400;
    int64_t era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, mo = mp < 10 ? mp + 3 : mp - 9;
    y += mo <= 2;
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)(y % 10000), (int)mo, (int)d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60), (int)msr);
}
