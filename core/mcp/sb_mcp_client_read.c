/* Reading answers: JSON bodies, SSE streams, and what rides along on them. */
#include <ctype.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"
#include "sb_mcp_client_int.h"
#include "sb_mcp_int.h"
#include "sb_sse.h"

bool sb_mcp__media_is(const char *ctype, const char *type)
{
    if (!ctype)
        return false;
    while (*ctype == ' ' || *ctype == '\t')
        ctype++;
    size_t n = strlen(type);
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)ctype[i]) != type[i])
            return false;
    char end = ctype[n];
    return end == '\0' || end == ';' || end == ' ' || end == '\t';
}

sb_val sb_mcp__http_detail(int status, const char *ctype, const char *body, size_t len)
{
    sb_val d = sb_null();
    if (len > 0 && (!ctype || sb_mcp__media_is(ctype, "application/json"))) {
        sb_jsonrpc_msg m;
        if (sb_jsonrpc_parse(body, len, &m) == SB_JSONRPC_ERROR_RESPONSE)
            d = sb_errorf("HTTP %d: JSON-RPC error %lld: %s", status, (long long)m.error_code, sb_str(m.error_message));
        sb_jsonrpc_msg_clear(&m);
    }
    return d.kind == SB_ERROR ? d : sb_errorf("HTTP %d", status);
}

/* --- things that ride along on a stream --- */

static void push_event(sb_mcp_client *c, uint64_t call_id, sb_val method, sb_val params)
{
    if (c->nev == SB_MCP_MAX_EVENTS) {
        c->dropped++;
        return;
    }
    if (!SB_GROW(c->events, c->capev, c->nev + 1)) {
        c->dropped++;
        return;
    }
    c->events[c->nev++] = (sb_mcp_event){call_id, sb_val_ref(method), sb_val_ref(params)};
}

/* A progress notification names its call by progressToken (we use call ids
 * as tokens); anything else belongs to the stream it came on. */
static uint64_t event_call(const sb_mcp_client *c, const sb_mcp_op *op, sb_val params)
{
    const sb_val *tok = params.kind == SB_MAP ? sb_map_get_str(params, "progressToken") : NULL;
    if (tok && tok->kind == SB_INT && tok->as.i > 0)
        for (size_t i = 0; i < c->nops; i++)
            if (c->ops[i]->call_id == (uint64_t)tok->as.i)
                return c->ops[i]->call_id;
    return op->call_id;
}

/* The server asked us something (sampling, elicitation, roots, ping...). We
 * offer no client capabilities, so everything but ping gets -32601: better a
 * quick refusal than a server waiting forever. */
static void queue_reply(sb_mcp_client *c, const sb_jsonrpc_msg *m)
{
    if (c->nout == SB_MCP_MAX_OUTBOX)
        return;
    char *body;
    if (sb_str_eq(m->method, "ping")) {
        sb_val empty = sb_map_new(0);
        body = empty.kind == SB_MAP ? sb_jsonrpc_result(m->id, empty) : NULL;
        sb_val_free(empty);
    } else {
        sb_val text = sb_errorf("Method not found: sibyl's MCP client does not support %s", sb_str(m->method));
        body = sb_is_oom(text) ? NULL : sb_jsonrpc_error(m->id, SB_JSONRPC_METHOD_NOT_FOUND, sb_str(text), sb_null());
        sb_val_free(text);
    }
    if (!body)
        return;
    if (!SB_GROW(c->outbox, c->capout, c->nout + 1)) {
        sb_free(body);
        return;
    }
    c->outbox[c->nout++] = body;
}

/* --- SSE --- */

typedef struct scan {
    sb_mcp_client *c;
    sb_mcp_op *op;
    sb_jsonrpc_msg *msg;
    bool have;   /* *msg holds our response */
    bool new_id; /* the stream carried an event id */
    bool oom;
} scan;

static bool is_ours(const sb_jsonrpc_msg *m, int64_t rpc_id)
{
    return (m->kind == SB_JSONRPC_RESPONSE || m->kind == SB_JSONRPC_ERROR_RESPONSE) && m->id.kind == SB_INT &&
           m->id.as.i == rpc_id;
}

static bool on_event(void *ud, const sb_sse_event *ev)
{
    scan *s = ud;
    if (ev->has_id)
        s->new_id = true;
    /* Priming events have an id and empty data; other event types are not
     * JSON-RPC. */
    if (ev->data_len == 0 || strcmp(ev->type, "message") != 0)
        return true;
    sb_jsonrpc_msg m;
    switch (sb_jsonrpc_parse(ev->data, ev->data_len, &m)) {
    case SB_JSONRPC_RESPONSE:
    case SB_JSONRPC_ERROR_RESPONSE:
        if (!s->have && is_ours(&m, s->op->rpc_id)) {
            *s->msg = m;
            s->have = true;
            return true;
        }
        break;
    case SB_JSONRPC_NOTIFICATION:
        push_event(s->c, event_call(s->c, s->op, m.params), m.method, m.params);
        break;
    case SB_JSONRPC_REQUEST:
        queue_reply(s->c, &m);
        break;
    case SB_JSONRPC_INVALID:
        /* Garbage on a stream is skipped, but not hidden memory failure. */
        if (sb_is_oom(m.problem))
            s->oom = true;
        break;
    }
    sb_jsonrpc_msg_clear(&m);
    return true;
}

static answer_kind read_sse(sb_mcp_client *c, sb_mcp_op *op, const char *body, size_t len, sb_jsonrpc_msg *msg,
                            sb_val *why)
{
    scan s = {c, op, msg, false, false, false};
    sb_sse *p = sb_sse_new(0, on_event, &s);
    if (!p) {
        *why = sb_oom();
        return ANS_FAIL;
    }
    bool ok = sb_sse_feed(p, body, len) && sb_sse_finish(p);
    answer_kind k = ANS_FAIL;
    if (s.have) {
        /* Whatever follows our response cannot take it back. */
        k = ANS_FOUND;
    } else if (!ok) {
        const char *e = sb_sse_error(p);
        *why = strcmp(e, "out of memory") == 0 ? sb_oom() : sb_errorf("SSE stream: %s", e);
    } else if (s.oom) {
        *why = sb_oom();
    } else {
        const char *last = sb_sse_last_event_id(p);
        if (*last) {
            char *dup = sb_strdup(last);
            if (dup) {
                sb_free(op->last_event_id);
                op->last_event_id = dup;
            } else {
                s.oom = true;
            }
        }
        if (sb_sse_retry_ms(p) >= 0)
            op->retry_ms = sb_sse_retry_ms(p);
        op->idle_resumes = s.new_id ? 0 : op->idle_resumes + 1;
        if (s.oom)
            *why = sb_oom();
        else if (!op->last_event_id)
            *why = sb_error("the SSE stream ended without the response (and without an event id to resume from)");
        else if (op->idle_resumes > SB_MCP_MAX_IDLE_RESUMES)
            *why = sb_errorf("the SSE stream was resumed %d times without progress", SB_MCP_MAX_IDLE_RESUMES);
        else
            k = ANS_RESUME;
    }
    sb_sse_free(p);
    return k;
}

/* --- JSON --- */

/* The one message of a JSON body, read into *msg as kind k: the answer to
 * op, or a failure. */
static answer_kind check_json(sb_mcp_op *op, sb_jsonrpc_kind k, sb_jsonrpc_msg *msg, sb_val *why)
{
    switch (k) {
    case SB_JSONRPC_ERROR_RESPONSE:
        /* A null id: the server could not read our request. One request,
         * one body: it is still the answer. */
        if (msg->id.kind == SB_NULL || is_ours(msg, op->rpc_id))
            return ANS_FOUND;
        break;
    case SB_JSONRPC_RESPONSE:
        if (is_ours(msg, op->rpc_id))
            return ANS_FOUND;
        break;
    case SB_JSONRPC_INVALID:
        *why = sb_is_oom(msg->problem) ? sb_oom() : sb_errorf("invalid answer: %s", sb_str(msg->problem));
        sb_jsonrpc_msg_clear(msg);
        return ANS_FAIL;
    default:
        *why = sb_error("the answer is a request or notification, not the response");
        sb_jsonrpc_msg_clear(msg);
        return ANS_FAIL;
    }
    sb_val id_json = sb_val_ref(msg->id);
    char *txt = sb_val_to_json(id_json, 0);
    *why = txt ? sb_errorf("the answer has id %s, not %lld", txt, (long long)op->rpc_id) : sb_oom();
    sb_free(txt);
    sb_val_free(id_json);
    sb_jsonrpc_msg_clear(msg);
    return ANS_FAIL;
}

static answer_kind read_json(sb_mcp_op *op, int status, const char *body, size_t len, sb_jsonrpc_msg *msg, sb_val *why)
{
    if (len == 0) {
        *why = sb_errorf("HTTP %d without a response body", status);
        return ANS_FAIL;
    }
    return check_json(op, sb_jsonrpc_parse(body, len, msg), msg, why);
}

answer_kind sb_mcp__read_message(sb_mcp_op *op, sb_val message, sb_jsonrpc_msg *msg, sb_val *why)
{
    return check_json(op, sb_jsonrpc_classify(message, msg), msg, why);
}

answer_kind sb_mcp__read_answer(sb_mcp_client *c, sb_mcp_op *op, int status, const char *ctype, const char *body,
                                size_t len, sb_jsonrpc_msg *msg, sb_val *why)
{
    if (sb_mcp__media_is(ctype, "text/event-stream"))
        return read_sse(c, op, body, len, msg, why);
    if (!ctype || sb_mcp__media_is(ctype, "application/json"))
        return read_json(op, status, body, len, msg, why);
    *why = sb_errorf("HTTP %d with unexpected Content-Type '%s'", status, ctype);
    return ANS_FAIL;
}
