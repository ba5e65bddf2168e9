/* The deterministic fake host and the fake Conductor (see fake_host.h). */
#include "fake_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/sb_config.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"
#include "sb_test_file.h"

/* --- where the time goes, and who is allocating --- */

static int engine_depth, callback_depth;

bool fh_in_engine(void)
{
    return engine_depth > 0 && callback_depth == 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct span {
    int64_t t0, cb0;
} span;

static span engine_enter(fake_host *h)
{
    engine_depth++;
    return (span){h->timing ? mono_ns() : 0, h->callback_ns};
}

static void engine_leave(fake_host *h, span s)
{
    engine_depth--;
    if (h->timing)
        h->engine_ns += mono_ns() - s.t0 - (h->callback_ns - s.cb0);
}

/* Runs `call` as engine time. */
#define ENGINE(h, call)                                                                                                \
    do {                                                                                                               \
        span s_ = engine_enter(h);                                                                                     \
        call;                                                                                                          \
        engine_leave(h, s_);                                                                                           \
    } while (0)

static span callback_enter(fake_host *h)
{
    callback_depth++;
    return (span){h->timing ? mono_ns() : 0, 0};
}

static void callback_leave(fake_host *h, span s)
{
    callback_depth--;
    if (h->timing)
        h->callback_ns += mono_ns() - s.t0;
}

/* --- transcript --- */

static void tline(fake_host *h, int64_t at, const char *fmt, ...)
{
    if (!h->record)
        return;
    sb_buf_printf(&h->transcript, "%9lld ", (long long)(at - FH_START_MS));
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&h->transcript, fmt, ap);
    va_end(ap);
    sb_buf_putc(&h->transcript, '\n');
    if (sb_buf_failed(&h->transcript))
        h->host_oom = true;
}

/* --- host callbacks --- */

static void on_send(void *ud, const sb_run_request *req)
{
    fake_host *h = ud;
    span s = callback_enter(h);
    size_t si = (size_t)-1;
    for (size_t i = 0; i < h->nservers; i++)
        if (strcmp(h->servers[i].name, req->server) == 0)
            si = i;
    tline(h, h->now, "SEND %s %s %.*s%s%s", req->server, req->method, (int)(req->body ? req->body_len : 0),
          req->body ? req->body : "", req->last_event_id ? "Last-Event-ID: " : "",
          req->last_event_id ? req->last_event_id : "");
    if (h->nq == h->qcap) {
        size_t cap = h->qcap ? h->qcap * 2 : 16;
        fh_req *q = sb_realloc(h->q, cap * sizeof *q);
        if (!q) {
            h->host_oom = true;
            callback_leave(h, s);
            return;
        }
        h->q = q;
        h->qcap = cap;
    }
    fh_req *e = &h->q[h->nq];
    e->server = si;
    e->id = req->id;
    e->due = h->now + h->latency_ms;
    e->method = sb_strdup(req->method);
    e->body = req->body ? sb_strndup(req->body, req->body_len) : NULL;
    e->len = req->body ? req->body_len : 0;
    e->last_event_id = req->last_event_id ? sb_strdup(req->last_event_id) : NULL;
    if (!e->method || (req->body && !e->body) || (req->last_event_id && !e->last_event_id)) {
        sb_free(e->method);
        sb_free(e->body);
        sb_free(e->last_event_id);
        h->host_oom = true;
    } else {
        h->nq++;
    }
    callback_leave(h, s);
}

static void on_event(void *ud, const sb_event *ev)
{
    fake_host *h = ud;
    span s = callback_enter(h);
    if (h->record) {
        switch (ev->kind) {
        case SB_EVENT_LOG:
            tline(h, ev->time_ms, "LOG %s %s", sb_log_level_name(ev->level), ev->message);
            break;
        case SB_EVENT_STREAM:
            tline(h, ev->time_ms, "STREAM %s", ev->message);
            break;
        case SB_EVENT_POLL:
            tline(h, ev->time_ms, "POLL %s", ev->message);
            break;
        case SB_EVENT_STEP: {
            const sb_val *st = sb_map_get_str(ev->data, "status"), *why = sb_map_get_str(ev->data, "reason");
            tline(h, ev->time_ms, "STEP %s %s%s%s", ev->message, st ? sb_str(*st) : "?", why ? ": " : "",
                  why ? sb_str(*why) : "");
            break;
        }
        case SB_EVENT_PROGRESS:
            if (h->progress) {
                char *j = sb_val_to_json(ev->data, 0);
                tline(h, ev->time_ms, "PROGRESS %s", j ? j : "?");
                sb_free(j);
            }
            break;
        }
    }
    callback_leave(h, s);
}

static int on_write(void *ud, const char *name, const char *data, size_t len)
{
    fake_host *h = ud;
    span s = callback_enter(h);
    tline(h, h->now, "WRITE %s (%zu bytes)", name, len);
    sb_free(h->file_name);
    sb_free(h->file_text);
    h->file_name = sb_strdup(name);
    h->file_text = sb_strndup(data, len);
    if (!h->file_name || !h->file_text)
        h->host_oom = true;
    h->writes++;
    callback_leave(h, s);
    return h->write_rc;
}

/* --- servers --- */

static sb_val trampoline(void *ud, int64_t now_ms, const char *tool, sb_val args)
{
    fh_server *s = ud;
    fake_host *h = s->host;
    if (h->record) {
        if (h->ncalls == h->ccap) {
            size_t cap = h->ccap ? h->ccap * 2 : 32;
            fh_call *c = sb_realloc(h->calls, cap * sizeof *c);
            if (!c) {
                h->host_oom = true;
                return sb_oom();
            }
            h->calls = c;
            h->ccap = cap;
        }
        fh_call *c = &h->calls[h->ncalls++];
        c->server = s->name;
        c->tool = sb_strdup(tool);
        c->args = sb_val_to_json(args, 0);
        c->at = now_ms - FH_START_MS;
        if (!c->tool || !c->args)
            h->host_oom = true;
    }
    return s->fn(s->ud, now_ms, tool, args);
}

bool fh_add_server(fake_host *h, const char *name, const sb_tool_desc *tools, size_t ntools, sb_mcp_tool_fn fn,
                   void *ud)
{
    if (h->nservers == sizeof h->servers / sizeof *h->servers)
        return false;
    fh_server *s = &h->servers[h->nservers];
    s->name = sb_strdup(name);
    s->fn = fn;
    s->ud = ud;
    s->host = h;
    s->srv = sb_mcp_server_new(name, "test", NULL, tools, ntools, trampoline, s);
    if (!s->name || !s->srv) {
        sb_free(s->name);
        sb_mcp_server_free(s->srv);
        return false;
    }
    h->nservers++;
    return true;
}

sb_val fh_tool_result(sb_val structured)
{
    char *text = sb_val_to_json(structured, 0);
    sb_val item = sb_map_new(2), content = sb_list_new(1), r = sb_map_new(3);
    bool ok = text != NULL;
    ok = sb_map_set_str(&item, "type", sb_string_cstr("text")) && ok;
    ok = sb_map_set_str(&item, "text", sb_string_cstr(text ? text : "")) && ok;
    ok = sb_list_push(&content, item) && ok;
    ok = sb_map_set_str(&r, "content", content) && ok;
    ok = sb_map_set_str(&r, "structuredContent", structured) && ok;
    ok = sb_map_set_str(&r, "isError", sb_bool(false)) && ok;
    sb_free(text);
    if (!ok) {
        sb_val_free(r);
        return sb_oom();
    }
    return r;
}

sb_val fh_tool_error(const char *message)
{
    sb_val item = sb_map_new(2), content = sb_list_new(1), r = sb_map_new(3), sc = sb_map_new(1);
    bool ok = sb_map_set_str(&item, "type", sb_string_cstr("text"));
    ok = sb_map_set_str(&item, "text", sb_string_cstr(message)) && ok;
    ok = sb_list_push(&content, item) && ok;
    ok = sb_map_set_str(&sc, "error", sb_string_cstr(message)) && ok;
    ok = sb_map_set_str(&r, "content", content) && ok;
    ok = sb_map_set_str(&r, "structuredContent", sc) && ok;
    ok = sb_map_set_str(&r, "isError", sb_bool(true)) && ok;
    if (!ok) {
        sb_val_free(r);
        return sb_oom();
    }
    return r;
}

static const sb_tool_desc solver_tools[] = {{"plan_search_grid", "Returns the scripted plan.", NULL}};

static sb_val solver_tool(void *ud, int64_t now_ms, const char *tool, sb_val args)
{
    (void)now_ms;
    (void)args;
    (void)tool;
    const char *plan = ud;
    sb_val v = sb_json_parse(plan, strlen(plan));
    if (v.kind == SB_ERROR)
        return v;
    return fh_tool_result(v);
}

bool fh_add_solver(fake_host *h, const char *plan_json)
{
    return fh_add_server(h, "solver", solver_tools, 1, solver_tool, (void *)plan_json);
}

/* --- driving --- */

void fh_init(fake_host *h)
{
    memset(h, 0, sizeof *h);
    h->now = FH_START_MS;
    h->record = true;
    h->workspace = sb_null();
    h->pipelines = sb_null();
    h->cancel_at = FH_NEVER;
    const char *ip = getenv("SIBYL_FH_IN_PROCESS");
    h->in_process = ip && strcmp(ip, "1") == 0;
}

void fh_free(fake_host *h)
{
    sb_run_free(h->run);
    for (size_t i = 0; i < h->nservers; i++) {
        sb_free(h->servers[i].name);
        sb_mcp_server_free(h->servers[i].srv);
        for (size_t k = 0; k < h->servers[i].nstash; k++)
            sb_free(h->servers[i].stash[k]);
        sb_free(h->servers[i].stash);
    }
    for (size_t i = 0; i < h->nq; i++) {
        sb_free(h->q[i].method);
        sb_free(h->q[i].body);
        sb_free(h->q[i].last_event_id);
    }
    sb_free(h->q);
    for (size_t i = 0; i < h->ncalls; i++) {
        sb_free(h->calls[i].tool);
        sb_free(h->calls[i].args);
    }
    sb_free(h->calls);
    sb_free(h->file_name);
    sb_free(h->file_text);
    sb_free(h->diags);
    sb_val_free(h->workspace);
    sb_val_free(h->pipelines);
    sb_buf_free(&h->transcript);
    memset(h, 0, sizeof *h);
}

bool fh_load_config(fake_host *h, const char *ws, const char *pl)
{
    sb_diags *d = sb_diags_new();
    bool ok = sb_config_workspace("workspace.yaml", ws, strlen(ws), d, &h->workspace);
    ok = sb_config_pipelines("pipelines.yaml", pl, strlen(pl), h->workspace, d, &h->pipelines) && ok;
    if (!ok) {
        sb_buf b = SB_BUF_INIT;
        sb_diags_write(d, &b);
        fprintf(stderr, "fake host: invalid config:\n%s", sb_buf_str(&b));
        sb_buf_free(&b);
    }
    sb_diags_free(d);
    return ok;
}

bool fh_start(fake_host *h, const char *pipeline, uint64_t seed, const char *inputs_json)
{
    sb_val inputs = inputs_json ? sb_json_parse(inputs_json, strlen(inputs_json)) : sb_null();
    sb_host host = {SB_HOST_VERSION, h, on_send, on_event, on_write};
    sb_run_config cfg = {h->workspace, h->pipelines, pipeline, "workspace.yaml", "pipelines.yaml", inputs, seed,
                         NULL,         NULL};
    sb_diags *d = sb_diags_new();
    ENGINE(h, h->run = sb_run_new(&cfg, &host, d));
    sb_buf b = SB_BUF_INIT;
    sb_diags_write(d, &b);
    sb_free(h->diags);
    h->diags = sb_buf_take(&b);
    sb_diags_free(d);
    sb_val_free(inputs);
    if (!h->run)
        return false;
    ENGINE(h, sb_run_start(h->run, h->now));
    return true;
}

/* SSE mode: a tools/call is run now and its answer kept for the GET that
 * resumes the stream; the POST gets a stream that ends early. */
static char *sse_answer(fake_host *h, fh_server *s, const fh_req *e, int *status, const char **ctype)
{
    sb_buf b = SB_BUF_INIT;
    *ctype = "text/event-stream";
    if (strcmp(e->method, "GET") == 0) {
        for (size_t k = 0; e->last_event_id && k + 1 < s->nstash; k += 2)
            if (s->stash[k] && strcmp(s->stash[k], e->last_event_id) == 0) {
                sb_buf_printf(&b, "id: %s.1\ndata: %s\n\n", s->stash[k], s->stash[k + 1]);
                sb_free(s->stash[k]);
                sb_free(s->stash[k + 1]);
                s->stash[k] = s->stash[k + 1] = NULL;
                *status = 200;
                return sb_buf_take(&b);
            }
        *status = 404;
        *ctype = NULL;
        return sb_strdup("");
    }
    sb_val msg = sb_json_parse(e->body ? e->body : "", e->len);
    const sb_val *m = sb_map_get_str(msg, "method");
    bool call = m && sb_str_eq(*m, "tools/call");
    sb_val_free(msg);
    char *resp = sb_mcp_server_handle(s->srv, h->now, e->body ? e->body : "", e->len, status);
    if (!call || !resp) {
        *ctype = resp ? "application/json" : NULL;
        return resp;
    }
    char **st = sb_realloc(s->stash, (s->nstash + 2) * sizeof *st);
    if (!st) {
        h->host_oom = true;
        return resp;
    }
    s->stash = st;
    sb_buf_printf(&b, "ev%zu", s->nstash / 2 + 1);
    st[s->nstash++] = sb_buf_take(&b);
    st[s->nstash++] = resp;
    sb_buf_printf(&b, "id: %s\nretry: %lld\ndata:\n\n", st[s->nstash - 2], (long long)s->sse_retry_ms);
    return sb_buf_take(&b);
}

/* A tools/call answer with notifications before it (fh_server.notify). */
static char *notify_answer(fake_host *h, fh_server *s, const fh_req *e, int *status, const char **ctype)
{
    char *resp = sb_mcp_server_handle(s->srv, h->now, e->body ? e->body : "", e->len, status);
    sb_val msg = sb_json_parse(e->body ? e->body : "", e->len);
    const sb_val *m = sb_map_get_str(msg, "method");
    const sb_val *params = m && sb_str_eq(*m, "tools/call") ? sb_map_get_str(msg, "params") : NULL;
    if (!params || !resp || *status != 200) {
        sb_val_free(msg);
        *ctype = resp ? "application/json" : NULL;
        return resp;
    }
    const sb_val *meta = sb_map_get_str(*params, "_meta");
    const sb_val *tok = meta ? sb_map_get_str(*meta, "progressToken") : NULL;
    const sb_val *tool = sb_map_get_str(*params, "name");
    sb_buf b = SB_BUF_INIT;
    if (tok) {
        sb_buf_puts(&b, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":");
        sb_val_write_json(&b, *tok, 0);
        sb_buf_puts(&b, ",\"progress\":1,\"total\":2,\"message\":\"half way\"}}\n\n");
    }
    sb_buf_printf(&b,
                  "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\","
                  "\"logger\":\"fake\",\"data\":\"called %s\"}}\n\ndata: %s\n\n",
                  tool && tool->kind == SB_STRING ? sb_str(*tool) : "?", resp);
    sb_val_free(msg);
    sb_free(resp);
    *ctype = "text/event-stream";
    return sb_buf_take(&b);
}

/* true (and the request failed) when it is a tools/call the server is
 * scripted to fail (fh_server.fail_calls). */
static bool scripted_failure(fh_server *s, const fh_req *e, int *status, char **resp)
{
    if (s->fail_calls <= 0 || !e->body || !strstr(e->body, "\"method\":\"tools/call\""))
        return false;
    s->fail_calls--;
    *status = s->fail_status;
    *resp = sb_strdup(s->fail_status ? "" : "connection reset by peer (scripted)");
    return true;
}

/* Answers the queued requests that are due (answers may queue more). A
 * server handles a request when its answer arrives. */
static void deliver(fake_host *h)
{
    while (h->nq && h->q[0].due <= h->now) {
        fh_req e = h->q[0];
        memmove(h->q, h->q + 1, (h->nq - 1) * sizeof *h->q);
        h->nq--;
        int status = 405;
        char *resp = NULL;
        const char *ctype = NULL;
        if (e.server == (size_t)-1) {
            status = 0;
            resp = sb_strdup("connection refused (no such server in the fake host)");
        } else if (scripted_failure(&h->servers[e.server], &e, &status, &resp)) {
            /* status and resp set */
        } else if (h->servers[e.server].notify && strcmp(e.method, "POST") == 0) {
            resp = notify_answer(h, &h->servers[e.server], &e, &status, &ctype);
        } else if (h->servers[e.server].sse_retry_ms > 0) {
            resp = sse_answer(h, &h->servers[e.server], &e, &status, &ctype);
        } else if (strcmp(e.method, "POST") == 0 && h->in_process) {
            sb_val msg = sb_mcp_server_answer(h->servers[e.server].srv, h->now, e.body ? e.body : "", e.len, &status);
            if (status == 200 && msg.kind == SB_MAP) {
                ENGINE(h, sb_run_on_message(h->run, e.id, msg, h->now));
                status = -1; /* answered */
            } else {
                resp = msg.kind == SB_MAP ? sb_val_to_json(msg, 0) : NULL;
                sb_val_free(msg);
                ctype = resp ? "application/json" : NULL;
            }
        } else if (strcmp(e.method, "POST") == 0) {
            resp = sb_mcp_server_handle(h->servers[e.server].srv, h->now, e.body ? e.body : "", e.len, &status);
            ctype = resp ? "application/json" : NULL;
        }
        if (status != -1)
            ENGINE(h, sb_run_on_response(h->run, e.id, status, ctype, NULL, resp ? resp : "", resp ? strlen(resp) : 0,
                                         h->now));
        sb_free(resp);
        sb_free(e.method);
        sb_free(e.body);
        sb_free(e.last_event_id);
    }
}

bool fh_drive(fake_host *h, int64_t limit_ms)
{
    sb_run *r = h->run;
    while (r && !sb_run_done(r) && !h->host_oom) {
        deliver(h);
        if (sb_run_done(r))
            break;
        /* A cancel, then on as before: the answers in flight settle it. */
        bool cancel_due = h->cancel_at != FH_NEVER && !h->cancelled;
        if (cancel_due && h->now - FH_START_MS >= h->cancel_at) {
            h->cancelled = true;
            ENGINE(h, sb_run_cancel(r, "cancelled by the test", h->now));
            continue;
        }
        int64_t next = sb_run_next_deadline(r);
        if (h->nq && h->q[0].due < next)
            next = h->q[0].due;
        if (cancel_due && FH_START_MS + h->cancel_at < next)
            next = FH_START_MS + h->cancel_at;
        if (next == INT64_MAX) {
            h->stuck = true;
            tline(h, h->now, "STUCK: the run waits for nothing (%zu in flight)", sb_run_in_flight(r));
            break;
        }
        if (next - FH_START_MS > limit_ms)
            break;
        if (next > h->now)
            h->now = next;
        ENGINE(h, sb_run_on_time(r, h->now));
    }
    /* Answers to requests the run no longer waits for. */
    while (r && h->nq && !h->host_oom) {
        if (h->q[0].due > h->now)
            h->now = h->q[0].due;
        deliver(h);
    }
    return r && sb_run_done(r);
}

bool fh_run(fake_host *h, const char *pipeline, uint64_t seed, const char *inputs_json, int64_t limit_ms)
{
    return fh_start(h, pipeline, seed, inputs_json) && fh_drive(h, limit_ms);
}

/* --- reading what happened --- */

char *fh_read_file(const char *path)
{
    size_t len;
    char *text = sb_test_read_file(path, &len);
    if (!text)
        fprintf(stderr, "cannot open %s (tests run from tests/engine)\n", path);
    return text;
}

sb_val fh_result(const fake_host *h)
{
    if (!h->file_text)
        return sb_null();
    return sb_json_parse(h->file_text, strlen(h->file_text));
}

size_t fh_count(const fake_host *h, const char *needle)
{
    size_t n = 0;
    const char *p = sb_buf_str(&h->transcript);
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        size_t nl = strlen(needle);
        for (size_t i = 0; i + nl <= len; i++)
            if (memcmp(p + i, needle, nl) == 0) {
                n++;
                break;
            }
        p += len + (eol ? 1 : 0);
    }
    return n;
}

size_t fh_calls_of(const fake_host *h, const char *tool, const fh_call **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < h->ncalls; i++)
        if (strcmp(h->calls[i].tool, tool) == 0) {
            if (n < max)
                out[n] = &h->calls[i];
            n++;
        }
    return n;
}
