/* The client session: its ops, queueing calls, finishing them, and what the
 * host pops. Sending is sb_mcp_client_send.c, answers sb_mcp_client_answer.c,
 * reading bodies sb_mcp_client_read.c. */
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"
#include "sb_mcp_client_int.h"
#include "sb_mcp_int.h"
#include "sb_mcp_proto.h"

/* --- ops --- */

void sb_mcp__op_free(sb_mcp_op *op)
{
    if (!op)
        return;
    sb_free(op->method);
    sb_free(op->tool);
    sb_val_free(op->params);
    sb_free(op->last_event_id);
    sb_free(op->task_id);
    sb_val_free(op->result);
    sb_free(op);
}

sb_mcp_op *sb_mcp__op_new(const char *method, const char *tool, sb_val params)
{
    sb_mcp_op *op = sb_calloc(1, sizeof *op);
    if (!op) {
        sb_val_free(params);
        return NULL;
    }
    op->params = params;
    op->result = sb_null();
    op->retry_ms = -1;
    op->method = sb_strdup(method);
    op->tool = tool ? sb_strdup(tool) : NULL;
    if (!op->method || (tool && !op->tool) || params.kind == SB_ERROR) {
        sb_mcp__op_free(op);
        return NULL;
    }
    return op;
}

void sb_mcp__op_reset_stream(sb_mcp_op *op)
{
    sb_free(op->last_event_id);
    op->last_event_id = NULL;
    op->retry_ms = -1;
    op->idle_resumes = 0;
}

bool sb_mcp__waiting(const sb_mcp_op *op)
{
    return op->state == ST_QUEUED || op->state == ST_RESUME || op->state == ST_POLL;
}

/* --- client --- */

sb_mcp_client *sb_mcp_client_new(const char *server_name, const char *client_name, const char *client_version)
{
    sb_mcp_client *c = sb_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->server_info = sb_null();
    c->next_call = c->next_http = 1;
    c->next_rpc = 1;
    c->server = sb_strdup(server_name);
    c->client_name = sb_strdup(client_name);
    c->client_version = sb_strdup(client_version);
    if (!c->server || !c->client_name || !c->client_version) {
        sb_mcp_client_free(c);
        return NULL;
    }
    return c;
}

void sb_mcp__drop_session(sb_mcp_client *c)
{
    sb_free(c->session_id);
    sb_free(c->version);
    sb_free(c->new_session);
    c->session_id = c->version = c->new_session = NULL;
    c->borrowed = false; /* a session made after this one is the client's own */
    sb_val_free(c->server_info);
    c->server_info = sb_null();
    c->notify_sent = false;
    c->notify_http = 0;
}

void sb_mcp_client_free(sb_mcp_client *c)
{
    if (!c)
        return;
    sb_mcp__drop_session(c);
    sb_mcp__op_free(c->init);
    for (size_t i = 0; i < c->nops; i++)
        sb_mcp__op_free(c->ops[i]);
    sb_free(c->ops);
    for (size_t i = 0; i < c->nout; i++)
        sb_free(c->outbox[i]);
    sb_free(c->outbox);
    for (size_t i = 0; i < c->nev; i++)
        sb_mcp_event_clear(&c->events[i]);
    sb_free(c->events);
    sb_free(c->server);
    sb_free(c->client_name);
    sb_free(c->client_version);
    sb_free(c->cur_body);
    sb_free(c);
}

/* --- finishing ops --- */

void sb_mcp__op_done(sb_mcp_client *c, sb_mcp_op *op, sb_val result)
{
    sb_val_free(op->result);
    op->result = result;
    op->state = ST_DONE;
    op->http_id = 0;
    op->done_seq = c->done_seq++;
}

void sb_mcp__op_fail(sb_mcp_client *c, sb_mcp_op *op, sb_val detail)
{
    if (op == c->init) {
        sb_val d = sb_is_oom(detail) ? detail : sb_errorf("initialize: %s", sb_str(detail));
        if (!sb_is_oom(detail))
            sb_val_free(detail);
        sb_mcp__fail_init(c, d);
        return;
    }
    sb_val e = sb_oom();
    if (!sb_is_oom(detail))
        e = op->tool ? sb_errorf("server '%s': %s %s: %s", c->server, op->method, op->tool, sb_str(detail))
                     : sb_errorf("server '%s': %s: %s", c->server, op->method, sb_str(detail));
    sb_val_free(detail);
    sb_mcp__op_done(c, op, e);
}

void sb_mcp__fail_init(sb_mcp_client *c, sb_val detail)
{
    sb_mcp__op_free(c->init);
    c->init = NULL;
    sb_mcp__drop_session(c);
    if (c->state != CS_CLOSED)
        c->state = CS_IDLE;
    for (size_t i = 0; i < c->nops; i++)
        if (sb_mcp__waiting(c->ops[i]))
            sb_mcp__op_fail(c, c->ops[i], sb_is_oom(detail) ? sb_oom() : sb_error(sb_str(detail)));
    sb_val_free(detail);
}

/* --- queueing --- */

static uint64_t enqueue(sb_mcp_client *c, sb_mcp_op *op)
{
    if (!op)
        return 0;
    if (!SB_GROW(c->ops, c->capops, c->nops + 1)) {
        sb_mcp__op_free(op);
        return 0;
    }
    op->call_id = c->next_call++;
    c->ops[c->nops++] = op;
    if (c->state == CS_CLOSED)
        sb_mcp__op_fail(c, op, sb_error("client closed"));
    return op->call_id;
}

uint64_t sb_mcp_client_request(sb_mcp_client *c, const char *method, sb_val params)
{
    return enqueue(c, sb_mcp__op_new(method, NULL, params.kind == SB_NULL ? params : sb_val_ref(params)));
}

uint64_t sb_mcp_client_call_tool(sb_mcp_client *c, const char *tool, sb_val args)
{
    return sb_mcp_client_call_tool_ex(c, tool, args, NULL);
}

sb_val sb_mcp__one(const char *key, sb_val v)
{
    sb_val m = sb_map_new(1);
    if (!sb_mcp_put(&m, key, v)) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}

uint64_t sb_mcp_client_call_tool_ex(sb_mcp_client *c, const char *tool, sb_val args, const sb_mcp_call_opts *opts)
{
    sb_mcp_call_opts none = {false, 0};
    if (!opts)
        opts = &none;
    sb_val p = sb_map_new(4);
    bool ok = sb_mcp_put(&p, "name", sb_string_cstr(tool));
    ok = sb_mcp_put(&p, "arguments", args.kind == SB_NULL ? sb_map_new(0) : sb_val_ref(args)) && ok;
    /* The token is the call id (enqueue hands out next_call): unique in this
     * client, and it leads a progress notification back to its call. */
    if (opts->progress)
        ok = sb_mcp_put(&p, "_meta", sb_mcp__one("progressToken", sb_int((int64_t)c->next_call))) && ok;
    if (opts->task_ttl_ms > 0)
        ok = sb_mcp_put(&p, "task", sb_mcp__one("ttl", sb_int(opts->task_ttl_ms))) && ok;
    if (!ok) {
        sb_val_free(p);
        return 0;
    }
    sb_mcp_op *op = sb_mcp__op_new("tools/call", tool, p);
    if (!op)
        return 0;
    op->task_ttl_ms = opts->task_ttl_ms;
    return enqueue(c, op);
}

bool sb_mcp_client_use_session(sb_mcp_client *c, const char *session_id, const char *version)
{
    if (c->state != CS_IDLE || c->nops || !session_id || !*session_id)
        return false;
    char *sid = sb_strdup(session_id), *v = sb_strdup(version ? version : SB_MCP_LATEST_VERSION);
    if (!sid || !v) {
        sb_free(sid);
        sb_free(v);
        return false;
    }
    c->session_id = sid;
    c->version = v;
    c->borrowed = true;
    c->state = CS_READY;
    return true;
}

uint64_t sb_mcp_client_follow_task(sb_mcp_client *c, const char *task_id)
{
    if (!task_id || !*task_id)
        return 0;
    /* A task someone else started: the op begins where a task-augmented
     * call's would after the server answered with the task, at tasks/get,
     * and goes on the same way (pollInterval, then tasks/result). */
    /* Named "task <id>" in its errors (method and tool are only words here:
     * the op never sends a request of its own method). */
    sb_mcp_op *op = sb_mcp__op_new("task", task_id, sb_null());
    if (!op)
        return 0;
    op->task_id = sb_strdup(task_id);
    if (!op->task_id) {
        sb_mcp__op_free(op);
        return 0;
    }
    op->phase = PH_TASK_GET;
    return enqueue(c, op);
}

/* --- results out --- */

bool sb_mcp_client_next_completion(sb_mcp_client *c, uint64_t *call_id, sb_val *result)
{
    size_t best = c->nops;
    for (size_t i = 0; i < c->nops; i++)
        if (c->ops[i]->state == ST_DONE && (best == c->nops || c->ops[i]->done_seq < c->ops[best]->done_seq))
            best = i;
    if (best == c->nops)
        return false;
    sb_mcp_op *op = c->ops[best];
    memmove(c->ops + best, c->ops + best + 1, (c->nops - best - 1) * sizeof *c->ops);
    c->nops--;
    *call_id = op->call_id;
    *result = op->result;
    op->result = sb_null();
    sb_mcp__op_free(op);
    return true;
}

bool sb_mcp_client_next_event(sb_mcp_client *c, sb_mcp_event *ev)
{
    if (c->nev == 0)
        return false;
    *ev = c->events[0];
    memmove(c->events, c->events + 1, --c->nev * sizeof *c->events);
    return true;
}

void sb_mcp_event_clear(sb_mcp_event *ev)
{
    sb_val_free(ev->method);
    sb_val_free(ev->params);
    ev->method = ev->params = sb_null();
    ev->call_id = 0;
}

size_t sb_mcp_client_events_dropped(const sb_mcp_client *c) { return c->dropped; }

void sb_mcp_client_close(sb_mcp_client *c)
{
    if (c->state == CS_CLOSED)
        return;
    for (size_t i = 0; i < c->nops; i++)
        if (c->ops[i]->state != ST_DONE)
            sb_mcp__op_fail(c, c->ops[i], sb_error("client closed"));
    sb_mcp__op_free(c->init);
    c->init = NULL;
    c->notify_http = 0;
    /* A borrowed session is its owner's to end. */
    c->delete_pending = c->session_id != NULL && !c->borrowed;
    c->state = CS_CLOSED;
}

bool sb_mcp_client_busy(const sb_mcp_client *c)
{
    if (c->init || c->notify_http || c->nout || c->delete_pending || c->delete_http)
        return true;
    if (c->state == CS_NOTIFY)
        return true;
    for (size_t i = 0; i < c->nops; i++)
        if (c->ops[i]->state != ST_DONE)
            return true;
    return false;
}

const char *sb_mcp_client_protocol_version(const sb_mcp_client *c) { return c->version; }
sb_val sb_mcp_client_server_info(const sb_mcp_client *c) { return c->server_info; }
