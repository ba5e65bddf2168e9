/* tools/call, deferred answers and MCP tasks for sb_mcp_app.
 *
 * A tool that defers is simply run again later: a plain call on each poll of
 * its pending id, a task on each tasks/get, tasks/result or tasks/list of its
 * session. So a tool's state lives where it belongs (the Conductor's jobs),
 * never in here, and a server that is never asked never spends anything. */
#include <stdio.h>
#include <string.h>

#include "../json/sb_json.h"
#include "sb_mcp_app_int.h"
#include "sb_mcp_int.h"

#define TASK_TTL_DEFAULT_MS (60 * 60 * 1000)
#define TASK_TTL_MAX_MS (24 * 60 * 60 * 1000)
#define TASK_POLL_INTERVAL_MS 500

static sb_val run(sb_mcp_app *a, const char *session, int64_t now_ms, const char *tool, sb_val args, unsigned attempt,
                  bool is_task, sb_val token, sb_val *notes, sb_mcp_call *c)
{
    memset(c, 0, sizeof *c);
    c->now_ms = now_ms;
    c->attempt = attempt;
    c->is_task = is_task;
    c->progress_token = token;
    c->log_level = sb_mcp__session_level(a, session);
    c->logger = a->logger;
    c->notes = notes && notes->kind == SB_LIST ? notes : NULL;
    sb_val r = a->fn ? a->fn(a->ud, c, tool, args) : sb_error("no tool runner");
    if (c->deferred && r.kind == SB_NULL)
        return r;
    c->deferred = false;
    if (r.kind == SB_MAP || r.kind == SB_ERROR)
        return r;
    sb_val why = sb_errorf("tool %s returned %s, not a result object", tool, sb_kind_name(sb_kind_of(r)));
    sb_val_free(r);
    return why;
}

/* A finished run as the answer to request id. */
static sb_val answer(sb_val id, sb_val r)
{
    if (sb_is_oom(r))
        return r;
    if (r.kind == SB_ERROR)
        return sb_mcp__reply_error(id, SB_JSONRPC_INTERNAL_ERROR, r);
    return sb_mcp__reply(id, r);
}

static sb_val pend_new(sb_mcp_app *a, int kind, const char *session, const char *tool, const char *task_id,
                       sb_val req_id, sb_val args, sb_val token, sb_mcp_app_reply *out, bool disconnect)
{
    if (!SB_MCP__GROW(a->pend, a->npend, a->cappend))
        return sb_oom();
    sb_mcp__pend *p = &a->pend[a->npend];
    memset(p, 0, sizeof *p);
    p->id = ++a->next_pend;
    p->kind = kind;
    p->session = sb_strdup(session);
    p->tool = tool ? sb_strdup(tool) : NULL;
    p->task_id = task_id ? sb_strdup(task_id) : NULL;
    p->req_id = sb_val_ref(req_id);
    p->args = sb_val_ref(args);
    p->progress_token = sb_val_ref(token);
    p->attempt = 1;
    a->npend++;
    if (!p->session || (tool && !p->tool) || (task_id && !p->task_id)) {
        sb_mcp__pend_remove(a, a->npend - 1);
        return sb_oom();
    }
    out->pending = p->id;
    out->disconnect = disconnect;
    return sb_null();
}

/* --- tasks --- */

static sb_mcp__task *find_task(sb_mcp_app *a, const char *session, const char *id)
{
    for (size_t i = 0; i < a->ntasks; i++)
        if (strcmp(a->tasks[i].session, session) == 0 && strcmp(a->tasks[i].id, id) == 0)
            return &a->tasks[i];
    return NULL;
}

/* Runs a working task once more; false on OOM. */
static bool advance(sb_mcp_app *a, sb_mcp__task *t, int64_t now_ms)
{
    if (t->status != SB_MCP__WORKING)
        return true;
    sb_mcp_call c;
    sb_val r = run(a, t->session, now_ms, t->tool, t->args, t->attempt++, true, sb_null(), NULL, &c);
    if (c.deferred)
        return true;
    if (sb_is_oom(r))
        return false;
    if (r.kind == SB_ERROR) {
        /* an internal error ends the task as a failed tool result */
        sb_val item = sb_map_new(2), content = sb_list_new(1), res = sb_map_new(2);
        bool ok = sb_mcp_put(&item, "type", sb_string_cstr("text"));
        ok = sb_mcp_put(&item, "text", sb_string_cstr(sb_str(r))) && ok;
        ok = sb_mcp_push(&content, item) && ok;
        ok = sb_mcp_put(&res, "content", content) && ok;
        ok = sb_mcp_put(&res, "isError", sb_bool(true)) && ok;
        sb_val_free(r);
        if (!ok) {
            sb_val_free(res);
            return false;
        }
        r = res;
    }
    const sb_val *err = sb_map_get_str(r, "isError");
    t->status = err && err->kind == SB_BOOL && err->as.b ? SB_MCP__FAILED : SB_MCP__COMPLETED;
    t->result = r;
    t->updated = now_ms;
    return true;
}

static sb_val task_object(const sb_mcp__task *t)
{
    static const char *const names[] = {"working", "completed", "failed", "cancelled"};
    char created[32], updated[32];
    sb_mcp__iso8601(t->created, created);
    sb_mcp__iso8601(t->updated, updated);
    sb_val o = sb_map_new(7);
    bool ok = sb_mcp_put(&o, "taskId", sb_string_cstr(t->id));
    ok = sb_mcp_put(&o, "status", sb_string_cstr(names[t->status])) && ok;
    if (t->status == SB_MCP__CANCELLED)
        ok = sb_mcp_put(&o, "statusMessage", sb_string_cstr("cancelled by the client")) && ok;
    ok = sb_mcp_put(&o, "createdAt", sb_string_cstr(created)) && ok;
    ok = sb_mcp_put(&o, "lastUpdatedAt", sb_string_cstr(updated)) && ok;
    ok = sb_mcp_put(&o, "ttl", t->ttl < 0 ? sb_null() : sb_int(t->ttl)) && ok;
    ok = sb_mcp_put(&o, "pollInterval", sb_int(TASK_POLL_INTERVAL_MS)) && ok;
    if (!ok) {
        sb_val_free(o);
        return sb_oom();
    }
    return o;
}

static sb_val task_create(sb_mcp_app *a, const char *session, int64_t now_ms, const sb_jsonrpc_msg *m, const char *tool,
                          sb_val args, sb_val task)
{
    const sb_val *ttl = sb_map_get_str(task, "ttl");
    int64_t ms = ttl && ttl->kind == SB_INT && ttl->as.i > 0 ? ttl->as.i : TASK_TTL_DEFAULT_MS;
    if (ms > TASK_TTL_MAX_MS)
        ms = TASK_TTL_MAX_MS;
    if (!SB_MCP__GROW(a->tasks, a->ntasks, a->captasks))
        return sb_oom();
    char id[32];
    snprintf(id, sizeof id, "task-%llu", (unsigned long long)++a->next_task);
    sb_mcp__task *t = &a->tasks[a->ntasks];
    memset(t, 0, sizeof *t);
    t->id = sb_strdup(id);
    t->session = sb_strdup(session);
    t->tool = sb_strdup(tool);
    t->args = sb_val_ref(args);
    t->result = sb_null();
    t->created = t->updated = now_ms;
    t->ttl = ms;
    a->ntasks++;
    if (!t->id || !t->session || !t->tool || !advance(a, t, now_ms)) {
        sb_mcp__task_remove(a, a->ntasks - 1);
        return sb_oom();
    }
    sb_val r = sb_map_new(1);
    if (!sb_mcp_put(&r, "task", task_object(t))) {
        sb_val_free(r);
        return sb_oom();
    }
    return sb_mcp__reply(m->id, r);
}

/* tasks/result of a terminal task: its tools/call result, with the task named
 * in _meta as the spec asks. */
static sb_val task_result(sb_val id, const sb_mcp__task *t)
{
    if (t->status == SB_MCP__CANCELLED)
        return sb_mcp__reply_error(id, SB_JSONRPC_INVALID_PARAMS, sb_errorf("task %s was cancelled", t->id));
    sb_val r = sb_val_clone(t->result);
    sb_val rel = sb_map_new(1), meta = sb_map_new(1);
    bool ok = sb_mcp_put(&rel, "taskId", sb_string_cstr(t->id)); /* each put consumes its value */
    ok = sb_mcp_put(&meta, "io.modelcontextprotocol/related-task", rel) && ok;
    ok = sb_mcp_put(&r, "_meta", meta) && ok;
    if (!ok || r.kind != SB_MAP) {
        sb_val_free(r);
        return sb_oom();
    }
    return sb_mcp__reply(id, r);
}

sb_val sb_mcp__tasks_method(sb_mcp_app *a, const char *session, int64_t now_ms, const sb_jsonrpc_msg *m,
                            sb_mcp_app_reply *out)
{
    const char *method = sb_str(m->method) + 6;
    if (strcmp(method, "list") == 0) {
        sb_val list = sb_list_new(a->ntasks);
        for (size_t i = 0; i < a->ntasks; i++)
            if (strcmp(a->tasks[i].session, session) == 0) {
                if (!advance(a, &a->tasks[i], now_ms) || !sb_mcp_push(&list, task_object(&a->tasks[i]))) {
                    sb_val_free(list);
                    return sb_oom();
                }
            }
        sb_val r = sb_map_new(1);
        if (!sb_mcp_put(&r, "tasks", list)) {
            sb_val_free(r);
            return sb_oom();
        }
        return sb_mcp__reply(m->id, r);
    }
    bool get = strcmp(method, "get") == 0, result = strcmp(method, "result") == 0,
         cancel = strcmp(method, "cancel") == 0;
    if (!get && !result && !cancel)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_METHOD_NOT_FOUND, sb_errorf("%s", sb_str(m->method)));
    const sb_val *tid = m->params.kind == SB_MAP ? sb_map_get_str(m->params, "taskId") : NULL;
    if (!tid || tid->kind != SB_STRING)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS,
                                   sb_errorf("%s needs \"taskId\" (a string)", sb_str(m->method)));
    sb_mcp__task *t = find_task(a, session, sb_str(*tid));
    if (!t)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS, sb_errorf("no task %s", sb_str(*tid)));
    if (!advance(a, t, now_ms))
        return sb_oom();
    if (get)
        return sb_mcp__reply(m->id, task_object(t));
    if (cancel) {
        if (t->status != SB_MCP__WORKING)
            return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS,
                                       sb_errorf("task %s has already finished", t->id));
        t->status = SB_MCP__CANCELLED;
        t->updated = now_ms;
        return sb_mcp__reply(m->id, task_object(t));
    }
    if (t->status != SB_MCP__WORKING)
        return task_result(m->id, t);
    return pend_new(a, SB_MCP__PEND_TASK_RESULT, session, NULL, t->id, m->id, sb_null(), sb_null(), out, false);
}

void sb_mcp__expire_tasks(sb_mcp_app *a, int64_t now_ms)
{
    for (size_t i = 0; i < a->ntasks;)
        if (a->tasks[i].ttl >= 0 && now_ms - a->tasks[i].created > a->tasks[i].ttl)
            sb_mcp__task_remove(a, i);
        else
            i++;
}

/* --- tools/call --- */

sb_val sb_mcp__tools_call(sb_mcp_app *a, const char *session, int64_t now_ms, const sb_jsonrpc_msg *m,
                          sb_mcp_app_reply *out)
{
    const sb_val *name, *args;
    sb_val bad = sb_mcp__call_params(m, &name, &args);
    if (bad.kind != SB_NULL)
        return bad;
    /* The spec treats an unknown tool as a protocol error. */
    const sb_mcp__tool *tool = sb_mcp__find_tool(a, sb_str(*name));
    if (!tool)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_INVALID_PARAMS, sb_errorf("unknown tool '%s'", sb_str(*name)));
    const sb_val *task = sb_map_get_str(m->params, "task");
    bool as_task = task && task->kind == SB_MAP && tool->tasks != SB_MCP_TASK_FORBIDDEN;
    if (!as_task && tool->tasks == SB_MCP_TASK_REQUIRED)
        return sb_mcp__reply_error(m->id, SB_JSONRPC_METHOD_NOT_FOUND,
                                   sb_errorf("tool %s runs only as a task (give \"task\": {})", sb_str(*name)));

    sb_val argv = args && args->kind == SB_MAP ? sb_val_ref(*args) : sb_map_new(0);
    if (argv.kind == SB_ERROR)
        return argv;
    if (as_task) {
        sb_val r = task_create(a, session, now_ms, m, sb_str(*name), argv, *task);
        sb_val_free(argv);
        return r;
    }
    const sb_val *meta = sb_map_get_str(m->params, "_meta");
    const sb_val *tok = meta && meta->kind == SB_MAP ? sb_map_get_str(*meta, "progressToken") : NULL;
    sb_val token = tok && (tok->kind == SB_STRING || tok->kind == SB_INT) ? *tok : sb_null();
    out->wants_stream = token.kind != SB_NULL;
    sb_mcp_call c;
    sb_val r = run(a, session, now_ms, sb_str(*name), argv, 0, false, token, &out->notes, &c);
    if (c.deferred)
        r = pend_new(a, SB_MCP__PEND_CALL, session, sb_str(*name), NULL, m->id, argv, token, out, c.disconnect);
    else
        r = answer(m->id, r);
    sb_val_free(argv);
    return r;
}

sb_val sb_mcp__poll(sb_mcp_app *a, uint64_t pending, int64_t now_ms, sb_mcp_app_reply *out)
{
    size_t i = 0;
    while (i < a->npend && a->pend[i].id != pending)
        i++;
    if (i == a->npend) {
        out->status = 404;
        return sb_null();
    }
    sb_mcp__pend *p = &a->pend[i];
    sb_val id = sb_val_ref(p->req_id), r;
    if (p->kind == SB_MCP__PEND_CALL) {
        sb_mcp_call c;
        out->wants_stream = p->progress_token.kind != SB_NULL;
        r = run(a, p->session, now_ms, p->tool, p->args, p->attempt++, false, p->progress_token, &out->notes, &c);
        if (c.deferred) {
            out->pending = pending;
            out->disconnect = c.disconnect;
            sb_val_free(id);
            return sb_null();
        }
        r = answer(id, r);
    } else {
        sb_mcp__task *t = find_task(a, p->session, p->task_id);
        if (!t) {
            r = sb_mcp__reply_error(id, SB_JSONRPC_INVALID_PARAMS, sb_errorf("task %s has expired", p->task_id));
        } else if (!advance(a, t, now_ms)) {
            r = sb_oom();
        } else if (t->status == SB_MCP__WORKING) {
            out->pending = pending;
            sb_val_free(id);
            return sb_null();
        } else {
            r = task_result(id, t);
        }
    }
    sb_val_free(id);
    sb_mcp__pend_remove(a, i);
    return r;
}
