/* What answers do to the session: initialize and its notification, session
 * expiry, task status, and the completion of calls. */
#include <string.h>

#include "../util/sb_alloc.h"
#include "sb_mcp_client_int.h"
#include "sb_mcp_int.h"

static bool session_id_ok(const char *s)
{
    /* The spec allows visible ASCII only (0x21-0x7E). */
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7E)
            return false;
    return n > 0 && n <= 1024;
}

/* initialize's result {protocolVersion, capabilities, serverInfo, ...} */
static void init_answer(sb_mcp_client *c, const sb_jsonrpc_msg *m)
{
    if (m->kind == SB_JSONRPC_ERROR_RESPONSE) {
        sb_mcp__fail_init(c, sb_errorf("initialize: JSON-RPC error %lld: %s", (long long)m->error_code,
                               sb_str(m->error_message)));
        return;
    }
    const sb_val *pv = m->result.kind == SB_MAP ? sb_map_get_str(m->result, "protocolVersion") : NULL;
    if (!pv || pv->kind != SB_STRING) {
        sb_mcp__fail_init(c, sb_error("initialize: the result has no protocolVersion"));
        return;
    }
    if (!sb_mcp_version_supported(sb_str(*pv))) {
        sb_mcp__fail_init(c, sb_errorf("initialize: server chose protocol version \"%s\"; sibyl speaks %s", sb_str(*pv),
                               sb_mcp_versions_text()));
        return;
    }
    char *sid = c->new_session;
    c->new_session = NULL;
    if (sid && !session_id_ok(sid)) {
        sb_free(sid);
        sb_mcp__fail_init(c, sb_error("initialize: the server sent an invalid MCP-Session-Id"));
        return;
    }
    c->version = sb_strdup(sb_str(*pv));
    if (!c->version) {
        sb_free(sid);
        sb_mcp__fail_init(c, sb_oom());
        return;
    }
    c->session_id = sid;
    const sb_val *info = sb_map_get_str(m->result, "serverInfo");
    c->server_info = info ? sb_val_ref(*info) : sb_null();
    sb_mcp__op_free(c->init);
    c->init = NULL;
    c->state = CS_NOTIFY;
    c->notify_sent = false;
}

static void notify_answer(sb_mcp_client *c, int status, const char *ctype, const char *body, size_t len)
{
    /* 202 is the rule; some servers answer 200 with a body: fine too. */
    if (status >= 200 && status < 300) {
        c->state = CS_READY;
        return;
    }
    sb_val d = status == 0 ? sb_errorf("transport error: %.*s", (int)(len > 500 ? 500 : len), body)
                           : sb_mcp__http_detail(status, ctype, body, len);
    sb_val e = sb_is_oom(d) ? d : sb_errorf("notifications/initialized: %s", sb_str(d));
    if (!sb_is_oom(d))
        sb_val_free(d);
    sb_mcp__fail_init(c, e);
}

/* Puts op back in the queue to be sent in the next session, once. */
static void requeue(sb_mcp_client *c, sb_mcp_op *op)
{
    if (op->resent) {
        sb_mcp__op_fail(c, op, sb_error("HTTP 404: the session expired again after re-initializing"));
        return;
    }
    op->resent = true;
    op->state = ST_QUEUED;
    sb_mcp__op_reset_stream(op);
}

/* A 404 to a request that carried a session id: the session is gone. */
static void session_expired(sb_mcp_client *c, sb_mcp_op *op)
{
    if (op->epoch == c->epoch) {
        sb_mcp__drop_session(c);
        c->epoch++;
        c->state = CS_IDLE;
        /* A stream of the dead session cannot be resumed: send those again. */
        for (size_t i = 0; i < c->nops; i++)
            if (c->ops[i] != op && c->ops[i]->state == ST_RESUME)
                requeue(c, c->ops[i]);
    }
    requeue(c, op);
}

static bool terminal_status(const char *s) { return strcmp(s, "completed") == 0 || strcmp(s, "failed") == 0; }

/* A Task {taskId, status, statusMessage?, pollInterval?}: decide what next. */
static void task_update(sb_mcp_client *c, sb_mcp_op *op, sb_val task, int64_t now_ms)
{
    const sb_val *tid = task.kind == SB_MAP ? sb_map_get_str(task, "taskId") : NULL;
    const sb_val *st = task.kind == SB_MAP ? sb_map_get_str(task, "status") : NULL;
    if (!tid || tid->kind != SB_STRING || !st || st->kind != SB_STRING) {
        sb_mcp__op_fail(c, op, sb_error("task without taskId/status"));
        return;
    }
    if (!op->task_id) {
        op->task_id = sb_strdup(sb_str(*tid));
        if (!op->task_id) {
            sb_mcp__op_fail(c, op, sb_oom());
            return;
        }
    }
    const char *status = sb_str(*st);
    const sb_val *msg = sb_map_get_str(task, "statusMessage");
    const char *why = msg && msg->kind == SB_STRING ? sb_str(*msg) : "no message";
    if (strcmp(status, "working") == 0) {
        const sb_val *pi = sb_map_get_str(task, "pollInterval");
        int64_t wait = pi && pi->kind == SB_INT && pi->as.i >= 0 ? pi->as.i : SB_MCP_DEFAULT_POLL_MS;
        op->phase = PH_TASK_GET;
        op->state = ST_POLL;
        op->not_before = now_ms + (wait < SB_MCP_MIN_POLL_MS ? SB_MCP_MIN_POLL_MS : wait);
    } else if (terminal_status(status)) {
        /* tasks/result gives the tool's own result, isError and all. */
        op->phase = PH_TASK_RESULT;
        op->state = ST_QUEUED;
    } else if (strcmp(status, "input_required") == 0) {
        sb_mcp__op_fail(c, op, sb_errorf("task %s needs input (input_required), which sibyl cannot give", op->task_id));
    } else if (strcmp(status, "cancelled") == 0) {
        sb_mcp__op_fail(c, op, sb_errorf("task %s was cancelled: %s", op->task_id, why));
    } else {
        sb_mcp__op_fail(c, op, sb_errorf("task %s has unknown status \"%s\"", op->task_id, status));
    }
}

static const char *phase_name(op_phase p)
{
    return p == PH_TASK_GET ? "tasks/get: " : p == PH_TASK_RESULT ? "tasks/result: " : "";
}

static void rpc_answer(sb_mcp_client *c, sb_mcp_op *op, const sb_jsonrpc_msg *m, int64_t now_ms)
{
    if (m->kind == SB_JSONRPC_ERROR_RESPONSE) {
        sb_mcp__op_fail(c, op, sb_errorf("%sJSON-RPC error %lld: %s", phase_name(op->phase), (long long)m->error_code,
                                 sb_str(m->error_message)));
        return;
    }
    sb_val r = m->result;
    if (op->phase == PH_TASK_GET) {
        task_update(c, op, r, now_ms);
        return;
    }
    const sb_val *task = op->phase == PH_CALL && op->task_ttl_ms > 0 && r.kind == SB_MAP
                             ? sb_map_get_str(r, "task") : NULL;
    if (task && task->kind == SB_MAP && !sb_map_get_str(r, "content")) {
        task_update(c, op, *task, now_ms);
        return;
    }
    if (op->tool && r.kind != SB_MAP) {
        sb_mcp__op_fail(c, op, sb_errorf("%sthe result is %s, not an object", phase_name(op->phase),
                                 sb_kind_name(sb_kind_of(r))));
        return;
    }
    sb_mcp__op_done(c, op, sb_val_ref(r));
}

static sb_mcp_op *find_sent(sb_mcp_client *c, uint64_t id)
{
    if (c->init && c->init->state == ST_SENT && c->init->http_id == id)
        return c->init;
    for (size_t i = 0; i < c->nops; i++)
        if (c->ops[i]->state == ST_SENT && c->ops[i]->http_id == id)
            return c->ops[i];
    return NULL;
}

/* Acts on what reading op's answer gave: *m (ANS_FOUND, cleared here), a
 * resumable stream, or the failure why. */
static void dispatch_answer(sb_mcp_client *c, sb_mcp_op *op, answer_kind k, sb_jsonrpc_msg *m, sb_val why,
                            int64_t now_ms)
{
    switch (k) {
    case ANS_FOUND:
        if (op == c->init)
            init_answer(c, m);
        else
            rpc_answer(c, op, m, now_ms);
        sb_jsonrpc_msg_clear(m);
        break;
    case ANS_RESUME:
        op->state = ST_RESUME;
        op->not_before = now_ms + (op->retry_ms >= 0 ? op->retry_ms : SB_MCP_DEFAULT_RETRY_MS);
        break;
    case ANS_FAIL:
        sb_mcp__op_fail(c, op, why);
        break;
    }
}

void sb_mcp_client_on_response(sb_mcp_client *c, uint64_t id, int status, const char *content_type,
                               const char *session_id, const char *body, size_t len, int64_t now_ms)
{
    if (!body)
        len = 0, body = "";
    if (id != 0 && id == c->notify_http) {
        c->notify_http = 0;
        notify_answer(c, status, content_type, body, len);
        return;
    }
    if (id != 0 && id == c->delete_http) {
        c->delete_http = 0;
        return;
    }
    sb_mcp_op *op = find_sent(c, id);
    if (!op)
        return;
    op->http_id = 0;
    if (status == 0) {
        sb_mcp__op_fail(c, op, sb_errorf("transport error: %.*s", (int)(len > 500 ? 500 : len), body));
        return;
    }
    if (status == 404 && op->had_session) {
        session_expired(c, op);
        return;
    }
    if (status < 200 || status > 299) {
        sb_mcp__op_fail(c, op, sb_mcp__http_detail(status, content_type, body, len));
        return;
    }
    if (op == c->init && session_id && !c->new_session) {
        c->new_session = sb_strdup(session_id);
        if (!c->new_session) {
            sb_mcp__fail_init(c, sb_oom());
            return;
        }
    }
    sb_jsonrpc_msg m;
    sb_val why = sb_null();
    dispatch_answer(c, op, sb_mcp__read_answer(c, op, status, content_type, body, len, &m, &why), &m, why, now_ms);
}

void sb_mcp_client_on_message(sb_mcp_client *c, uint64_t id, sb_val message, int64_t now_ms)
{
    sb_mcp_op *op = id != 0 && id != c->notify_http && id != c->delete_http ? find_sent(c, id) : NULL;
    if (!op || op == c->init) {
        /* Not a tools call in flight: the text path has every case. */
        char *text = sb_val_to_json(message, 0);
        sb_val_free(message);
        if (text)
            sb_mcp_client_on_response(c, id, 200, "application/json", NULL, text, strlen(text), now_ms);
        else if (op == c->init && op)
            sb_mcp__fail_init(c, sb_oom());
        else if (op)
            sb_mcp__op_fail(c, op, sb_oom());
        sb_free(text);
        return;
    }
    op->http_id = 0;
    sb_jsonrpc_msg m;
    sb_val why = sb_null();
    answer_kind k = sb_mcp__read_message(op, message, &m, &why);
    sb_val_free(message);
    dispatch_answer(c, op, k, &m, why, now_ms);
}
