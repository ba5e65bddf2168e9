/* MCP sessions, one per server the run talks to, and the plumbing between
 * them and the host: requests go out through host.send, answers come back
 * through sb_run_on_response, finished calls are dispatched to whoever made
 * them. */
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"
#include "run_int.h"

#ifndef SIBYL_VERSION
#define SIBYL_VERSION "0"
#endif

static size_t server_index(sb_run *r, const char *name)
{
    for (size_t i = 0; i < r->nservers; i++)
        if (strcmp(r->servers[i].name, name) == 0)
            return i;
    server_conn *s = sb_realloc(r->servers, (r->nservers + 1) * sizeof *s);
    if (!s)
        return (size_t)-1;
    r->servers = s;
    server_conn *c = &s[r->nservers];
    c->name = sb_strdup(name);
    c->client = sb_mcp_client_new(name, "sibyl", SIBYL_VERSION);
    if (!c->name || !c->client) {
        sb_free(c->name);
        sb_mcp_client_free(c->client);
        return (size_t)-1;
    }
    return r->nservers++;
}

bool sb_run__call(sb_run *r, const char *server, const char *tool, sb_val args, call_kind kind, size_t step,
              size_t extra, int64_t now)
{
    return sb_run__call_ex(r, server, tool, args, NULL, kind, step, extra, now);
}

bool sb_run__call_ex(sb_run *r, const char *server, const char *tool, sb_val args, const sb_mcp_call_opts *opts,
                     call_kind kind, size_t step, size_t extra, int64_t now)
{
    (void)now;
    size_t si = server_index(r, server);
    if (si == (size_t)-1)
        return false;
    if (!SB_GROW(r->calls, r->ccap, r->ncalls + 1))
        return false;
    uint64_t id = opts ? sb_mcp_client_call_tool_ex(r->servers[si].client, tool, args, opts)
                       : sb_mcp_client_call_tool(r->servers[si].client, tool, args);
    if (!id)
        return false;
    r->calls[r->ncalls++] = (pending_call){id, si, kind, step, extra};
    r->calls_made++;
    return true;
}

static bool add_wire(sb_run *r, size_t server, uint64_t client_id, uint64_t *run_id)
{
    if (!SB_GROW(r->wires, r->wcap, r->nwires + 1))
        return false;
    *run_id = ++r->next_wire;
    r->wires[r->nwires++] = (wire){*run_id, server, client_id};
    return true;
}

static void send_now(sb_run *r, size_t server, uint64_t client_id, const sb_run_request *req_in, int64_t now)
{
    uint64_t id;
    if (!add_wire(r, server, client_id, &id)) {
        /* Tell the client its request failed, so its call completes. */
        static const char msg[] = "out of memory";
        r->fatal = "out of memory";
        sb_mcp_client_on_response(r->servers[server].client, client_id, 0, NULL, NULL, msg, sizeof msg - 1, now);
        return;
    }
    sb_run_request req = *req_in;
    req.id = id;
    req.server = r->servers[server].name;
    if (r->host.send)
        r->host.send(r->host.ud, &req);
}

static char *dup_or_null(const char *s) { return s ? sb_strdup(s) : NULL; }

static void delayed_clear(delayed_req *x)
{
    sb_free(x->method);
    sb_free(x->body);
    sb_free(x->session_id);
    sb_free(x->protocol_version);
    sb_free(x->last_event_id);
    sb_free(x->accept);
    sb_free(x->content_type);
    memset(x, 0, sizeof *x);
    x->used = true;
}

/* A long run against a server that streams (SSE resumption) or runs tasks
 * delays a request every few seconds: the array grows geometrically and a
 * sent entry keeps nothing but its slot. */
static void delay_request(sb_run *r, size_t server, const sb_mcp_request *q, int64_t now)
{
    if (!SB_GROW(r->delayed, r->dcap, r->ndelayed + 1)) {
        static const char msg[] = "out of memory";
        r->fatal = "out of memory";
        sb_mcp_client_on_response(r->servers[server].client, q->id, 0, NULL, NULL, msg, sizeof msg - 1, now);
        return;
    }
    delayed_req *x = &r->delayed[r->ndelayed];
    memset(x, 0, sizeof *x);
    x->server = server;
    x->client_id = q->id;
    x->method = dup_or_null(q->method);
    x->body = q->body ? sb_strndup(q->body, q->body_len) : NULL;
    x->body_len = q->body_len;
    x->session_id = dup_or_null(q->session_id);
    x->protocol_version = dup_or_null(q->protocol_version);
    x->last_event_id = dup_or_null(q->last_event_id);
    x->accept = dup_or_null(q->accept);
    x->content_type = dup_or_null(q->content_type);
    if (!x->method || (q->body && !x->body) || (q->session_id && !x->session_id) ||
        (q->protocol_version && !x->protocol_version) || (q->last_event_id && !x->last_event_id) ||
        (q->accept && !x->accept) || (q->content_type && !x->content_type)) {
        static const char msg[] = "out of memory";
        r->fatal = "out of memory";
        delayed_clear(x); /* the slot is taken again by the next delayed request */
        sb_mcp_client_on_response(r->servers[server].client, q->id, 0, NULL, NULL, msg, sizeof msg - 1, now);
        return;
    }
    size_t which = r->ndelayed++;
    if (!sb_timers_add(r->timers, q->not_before_ms, TIMER_TAG(TT_SEND, which)))
        sb_run__send_delayed(r, which, now);
}

void sb_run__send_delayed(sb_run *r, size_t which, int64_t now)
{
    if (which >= r->ndelayed || r->delayed[which].used)
        return;
    delayed_req *x = &r->delayed[which];
    x->used = true;
    sb_run_request req = {NULL, 0, x->method, x->body, x->body_len, x->session_id, x->protocol_version,
                          x->last_event_id, x->accept, x->content_type};
    send_now(r, x->server, x->client_id, &req, now);
    delayed_clear(x); /* the host copied what it needs */
}

static void dispatch(sb_run *r, pending_call pc, sb_val result, int64_t now)
{
    switch (pc.kind) {
    case CALL_STEP: sb_run__call_done(r, pc.step, result, now); break;
    case CALL_POLL_STATUS: sb_run__poll_on_status(r, pc.step, result, now); break;
    case CALL_RETRY_SUBMIT: sb_run__retry_on_submitted(r, pc.step, pc.extra, result, now); break;
    case CALL_CANCEL: sb_run__poll_on_cancelled(r, pc.step, result, now); break;
    case CALL_ESTOP_CANCEL: sb_run__estop_on_cancelled(r, pc.step, result, now); break;
    case CALL_SUGGEST: sb_run__suggest_on_answer(r, pc.step, result, now); break;
    case CALL_SUGGEST_SUBMIT: sb_run__suggest_on_submitted(r, pc.step, result, now); break;
    }
}

/* Sends what the clients want sent and dispatches finished calls; true if
 * anything happened. */
static bool pump_once(sb_run *r, int64_t now)
{
    bool any = false;
    for (size_t s = 0; s < r->nservers; s++) {
        sb_mcp_client *c = r->servers[s].client;
        sb_mcp_request q;
        while (sb_mcp_client_next_request(c, now, &q)) {
            any = true;
            if (q.not_before_ms > now) {
                delay_request(r, s, &q, now);
                continue;
            }
            sb_run_request req = {NULL,       0,          q.method,           q.body,          q.body_len,
                                  q.session_id, q.protocol_version, q.last_event_id, q.accept, q.content_type};
            send_now(r, s, q.id, &req, now);
        }
        sb_mcp_event ev;
        while (sb_mcp_client_next_event(c, &ev)) {
            sb_run__server_event(r, r->servers[s].name, &ev);
            sb_mcp_event_clear(&ev);
        }
        uint64_t id;
        sb_val result;
        while (sb_mcp_client_next_completion(c, &id, &result)) {
            any = true;
            size_t k = 0;
            while (k < r->ncalls && !(r->calls[k].server == s && r->calls[k].call_id == id))
                k++;
            if (k == r->ncalls) {
                sb_val_free(result);
                continue;
            }
            pending_call pc = r->calls[k];
            r->calls[k] = r->calls[--r->ncalls];
            dispatch(r, pc, result, now);
        }
    }
    return any;
}

void sb_run__pump(sb_run *r, int64_t now)
{
    for (;;) {
        uint64_t before = r->calls_made;
        bool any = pump_once(r, now);
        sb_run__schedule(r, now);
        if (!any && r->calls_made == before)
            break;
    }
    if (r->fatal && r->status == SB_RUN_RUNNING)
        sb_run__stop(r, SB_RUN_FAILED, r->fatal, r->fatal, now);
}

/* The wire of request id, removed from the in-flight set; false when id is
 * unknown or already answered. Advances the run's clock to now_ms. */
static bool take_wire(sb_run *r, uint64_t id, int64_t now_ms, wire *out)
{
    if (now_ms > r->now)
        r->now = now_ms;
    size_t k = 0;
    while (k < r->nwires && r->wires[k].run_id != id)
        k++;
    if (k == r->nwires)
        return false;
    *out = r->wires[k];
    r->wires[k] = r->wires[--r->nwires];
    return true;
}

void sb_run_on_response(sb_run *r, uint64_t id, int status, const char *content_type, const char *session_id,
                        const char *body, size_t len, int64_t now_ms)
{
    wire w;
    if (!r || !take_wire(r, id, now_ms, &w))
        return;
    sb_mcp_client_on_response(r->servers[w.server].client, w.client_id, status, content_type, session_id, body, len,
                              now_ms);
    sb_run__pump(r, now_ms);
}

void sb_run_on_message(sb_run *r, uint64_t id, sb_val message, int64_t now_ms)
{
    wire w;
    if (!r || !take_wire(r, id, now_ms, &w)) {
        sb_val_free(message); /* consumed, whatever happens */
        return;
    }
    sb_mcp_client_on_message(r->servers[w.server].client, w.client_id, message, now_ms);
    sb_run__pump(r, now_ms);
}

size_t sb_run_in_flight(const sb_run *r) { return r ? r->nwires : 0; }

void sb_run__mcp_free(sb_run *r)
{
    for (size_t i = 0; i < r->nservers; i++) {
        sb_free(r->servers[i].name);
        sb_mcp_client_free(r->servers[i].client);
    }
    sb_free(r->servers);
    for (size_t i = 0; i < r->ndelayed; i++)
        delayed_clear(&r->delayed[i]);
    sb_free(r->delayed);
    sb_free(r->calls);
    sb_free(r->wires);
}
