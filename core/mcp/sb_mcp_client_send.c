/* Handing out HTTP requests: the session's own initialize and notification,
 * then calls, resumptions and task polls. */
#include <string.h>

#include "../util/sb_alloc.h"
#include "sb_mcp_client_int.h"
#include "sb_mcp_int.h"

static const char ACCEPT_POST[] = "application/json, text/event-stream";
static const char ACCEPT_GET[] = "text/event-stream";
static const char JSON_TYPE[] = "application/json";

static void start_init(sb_mcp_client *c)
{
    sb_val caps = sb_map_new(0);
    sb_val info = sb_map_new(2);
    bool ok = sb_mcp_put(&info, "name", sb_string_cstr(c->client_name));
    ok = sb_mcp_put(&info, "version", sb_string_cstr(c->client_version)) && ok;
    sb_val p = sb_map_new(3);
    ok = sb_mcp_put(&p, "protocolVersion", sb_string_cstr(SB_MCP_LATEST_VERSION)) && ok;
    ok = sb_mcp_put(&p, "capabilities", caps) && ok;
    ok = sb_mcp_put(&p, "clientInfo", info) && ok;
    c->init = ok ? sb_mcp__op_new("initialize", NULL, p) : NULL;
    if (!ok)
        sb_val_free(p);
    if (!c->init) {
        sb_mcp__fail_init(c, sb_oom());
        return;
    }
    c->state = CS_INITIALIZING;
}

static void fill(sb_mcp_client *c, sb_mcp_request *out, const char *method, const char *version)
{
    out->id = c->next_http++;
    out->method = method;
    out->session_id = c->session_id;
    out->protocol_version = version;
    if (method[0] == 'P') {
        out->body = c->cur_body;
        out->body_len = strlen(c->cur_body);
        out->accept = ACCEPT_POST;
        out->content_type = JSON_TYPE;
    } else if (method[0] == 'G') {
        out->accept = ACCEPT_GET;
    }
}

/* The JSON-RPC request op sends now (its phase decides what that is). */
static char *op_body(sb_mcp_client *c, sb_mcp_op *op)
{
    op->rpc_id = c->next_rpc++;
    if (op->phase == PH_CALL)
        return sb_jsonrpc_request(op->rpc_id, op->method, op->params);
    sb_val p = sb_mcp__one("taskId", sb_string_cstr(op->task_id));
    char *body = p.kind == SB_MAP
                     ? sb_jsonrpc_request(op->rpc_id, op->phase == PH_TASK_GET ? "tasks/get" : "tasks/result", p)
                     : NULL;
    sb_val_free(p);
    return body;
}

static bool emit_op(sb_mcp_client *c, sb_mcp_op *op, sb_mcp_request *out)
{
    const char *version = op == c->init ? NULL : c->version;
    if (op->state == ST_RESUME) {
        fill(c, out, "GET", version);
        out->last_event_id = op->last_event_id;
        out->not_before_ms = op->not_before;
    } else {
        c->cur_body = op_body(c, op);
        if (!c->cur_body) {
            sb_mcp__op_fail(c, op, sb_oom());
            return false;
        }
        fill(c, out, "POST", version);
        out->not_before_ms = op->state == ST_POLL ? op->not_before : 0;
        if (op->state == ST_QUEUED)
            sb_mcp__op_reset_stream(op);
    }
    op->http_id = out->id;
    op->state = ST_SENT;
    op->epoch = c->epoch;
    op->had_session = c->session_id != NULL;
    return true;
}

static bool emit_notify(sb_mcp_client *c, sb_mcp_request *out)
{
    c->cur_body = sb_jsonrpc_notification("notifications/initialized", sb_null());
    if (!c->cur_body) {
        sb_mcp__fail_init(c, sb_oom());
        return false;
    }
    fill(c, out, "POST", c->version);
    c->notify_sent = true;
    c->notify_http = out->id;
    return true;
}

static bool any_waiting(const sb_mcp_client *c)
{
    for (size_t i = 0; i < c->nops; i++)
        if (sb_mcp__waiting(c->ops[i]))
            return true;
    return false;
}

bool sb_mcp_client_next_request(sb_mcp_client *c, int64_t now_ms, sb_mcp_request *out)
{
    sb_free(c->cur_body);
    c->cur_body = NULL;
    memset(out, 0, sizeof *out);
    if (c->state == CS_CLOSED) {
        if (!c->delete_pending)
            return false;
        c->delete_pending = false;
        fill(c, out, "DELETE", c->version);
        c->delete_http = out->id;
        return true;
    }
    if (c->nout > 0) {
        c->cur_body = c->outbox[0];
        memmove(c->outbox, c->outbox + 1, --c->nout * sizeof *c->outbox);
        fill(c, out, "POST", c->version);
        return true;
    }
    if (c->state == CS_IDLE && any_waiting(c))
        start_init(c);
    if (c->state == CS_INITIALIZING)
        return sb_mcp__waiting(c->init) && emit_op(c, c->init, out);
    if (c->state == CS_NOTIFY)
        return !c->notify_sent && emit_notify(c, out);
    if (c->state != CS_READY)
        return false;
    /* What can go now first, in call order; then the delayed one due
     * soonest, so a host that sends in the order given loses no time. */
    for (size_t i = 0; i < c->nops; i++) {
        sb_mcp_op *op = c->ops[i];
        bool due = op->state == ST_QUEUED || op->not_before <= now_ms;
        if (sb_mcp__waiting(op) && due && emit_op(c, op, out))
            return true;
    }
    for (;;) {
        sb_mcp_op *soonest = NULL;
        for (size_t i = 0; i < c->nops; i++)
            if (sb_mcp__waiting(c->ops[i]) && (!soonest || c->ops[i]->not_before < soonest->not_before))
                soonest = c->ops[i];
        if (!soonest)
            return false;
        if (emit_op(c, soonest, out))
            return true;
    }
}

