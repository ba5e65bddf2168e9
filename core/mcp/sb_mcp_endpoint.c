#include "sb_mcp_endpoint.h"

#include <stdio.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_buf.h"
#include "sb_jsonrpc.h"
#include "sb_mcp_proto.h"

/* A stream of SSE events a POST opened: resumable while its answer is
 * pending; once answered, the answer is kept so a client that lost it can
 * ask again with the previous event id. */
typedef struct stream {
    uint64_t id;
    uint64_t pending; /* the app's pending id; 0 once answered */
    unsigned seq;     /* the last event id given out was <id>-<seq> */
    char *final;      /* the answer's event text (with its id), once answered */
    unsigned final_seq;
} stream;

typedef struct session {
    char id[33];
    int64_t last_seen;
    stream *streams;
    size_t nstreams, cap;
} session;

struct sb_mcp_endpoint {
    sb_mcp_endpoint_config cfg;
    sb_mcp_app *app;
    session *sessions;
    size_t nsessions, cap;
    uint64_t rng;
    uint64_t next_stream;
};

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

sb_mcp_endpoint *sb_mcp_endpoint_new(const sb_mcp_endpoint_config *cfg, sb_mcp_app *app)
{
    sb_mcp_endpoint *e = sb_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->cfg = *cfg;
    if (!e->cfg.path)
        e->cfg.path = "/mcp";
    if (!e->cfg.max_body_bytes)
        e->cfg.max_body_bytes = 1u << 20;
    if (e->cfg.retry_ms <= 0)
        e->cfg.retry_ms = 1000;
    if (!e->cfg.max_sessions)
        e->cfg.max_sessions = 4096;
    if (e->cfg.session_idle_ms <= 0)
        e->cfg.session_idle_ms = 60 * 60 * 1000;
    e->rng = cfg->seed;
    e->app = app;
    return e;
}

static void session_clear(sb_mcp_endpoint *e, session *s)
{
    for (size_t i = 0; i < s->nstreams; i++) {
        if (s->streams[i].pending)
            sb_mcp_app_drop(e->app, s->streams[i].pending);
        sb_free(s->streams[i].final);
    }
    sb_free(s->streams);
    sb_mcp_app_end_session(e->app, s->id);
}

void sb_mcp_endpoint_free(sb_mcp_endpoint *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nsessions; i++)
        session_clear(e, &e->sessions[i]);
    sb_free(e->sessions);
    sb_free(e);
}

size_t sb_mcp_endpoint_max_body(const sb_mcp_endpoint *e)
{
    return e->cfg.max_body_bytes;
}
size_t sb_mcp_endpoint_sessions(const sb_mcp_endpoint *e)
{
    return e->nsessions;
}

void sb_http_resp_clear(sb_http_resp *r)
{
    for (size_t i = 0; i < r->nheaders; i++)
        sb_free(r->headers[i].value);
    sb_free(r->body);
    memset(r, 0, sizeof *r);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ieq(const char *a, const char *b)
{
    while (*a && lower((unsigned char)*a) == lower((unsigned char)*b))
        a++, b++;
    return lower((unsigned char)*a) == lower((unsigned char)*b);
}

/* Case-insensitive substring test (media types in Accept/Content-Type). */
static bool icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && lower((unsigned char)hay[i]) == lower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

const char *sb_http_resp_header(const sb_http_resp *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (ieq(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

static void header(sb_http_resp *r, const char *name, const char *value)
{
    if (r->nheaders == SB_HTTP_MAX_HEADERS)
        return;
    char *v = sb_strdup(value);
    if (!v)
        return; /* a lost header on OOM; the status still tells */
    r->headers[r->nheaders++] = (sb_http_header){name, v};
}

static void body_take(sb_http_resp *r, sb_buf *b)
{
    r->body_len = b->len;
    r->body = sb_buf_take(b);
    if (!r->body) {
        r->status = 500;
        r->body_len = 0;
    }
}

/* A JSON-RPC error body for failures of the HTTP layer (id null). */
static void fail(sb_http_resp *r, int status, int64_t code, const char *msg)
{
    r->status = status;
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%lld,\"message\":", (long long)code);
    sb_buf_json_string(&b, msg, strlen(msg));
    sb_buf_puts(&b, "}}");
    header(r, "Content-Type", "application/json");
    body_take(r, &b);
}

/* --- Origin and Host --- */

/* The host part of "name", "name:port", "[v6]" or "[v6]:port". */
static bool host_is(const char *h, size_t len, const char *name)
{
    return strlen(name) == len && strncmp(h, name, len) == 0;
}

static bool local_host(const char *h, size_t len)
{
    return host_is(h, len, "localhost") || host_is(h, len, "127.0.0.1") || host_is(h, len, "[::1]");
}

static size_t host_len(const char *h)
{
    if (*h == '[') {
        const char *end = strchr(h, ']');
        return end ? (size_t)(end - h + 1) : strlen(h);
    }
    size_t n = strcspn(h, ":/");
    return n;
}

static bool host_ok(const sb_mcp_endpoint *e, const char *host)
{
    if (!host)
        return true; /* HTTP/1.0 without Host: nothing to rebind */
    size_t n = host_len(host);
    if (local_host(host, n))
        return true;
    for (size_t i = 0; i < e->cfg.nallow_hosts; i++)
        if (host_is(host, n, e->cfg.allow_hosts[i]) || strcmp(e->cfg.allow_hosts[i], "*") == 0)
            return true;
    return false;
}

static bool origin_ok(const sb_mcp_endpoint *e, const char *origin)
{
    if (!origin)
        return true; /* not a browser */
    for (size_t i = 0; i < e->cfg.nallow_origins; i++)
        if (strcmp(e->cfg.allow_origins[i], "*") == 0 || ieq(e->cfg.allow_origins[i], origin))
            return true;
    const char *h = NULL;
    if (strncmp(origin, "http://", 7) == 0)
        h = origin + 7;
    else if (strncmp(origin, "https://", 8) == 0)
        h = origin + 8;
    if (!h)
        return false;
    size_t n = host_len(h);
    const char *rest = h + n;
    if (*rest == ':') {
        rest++;
        while (*rest >= '0' && *rest <= '9')
            rest++;
    }
    return local_host(h, n) && *rest == 0;
}

static void cors(sb_http_resp *r, const char *origin)
{
    if (!origin)
        return;
    header(r, "Access-Control-Allow-Origin", origin);
    header(r, "Access-Control-Expose-Headers", "Mcp-Session-Id");
    header(r, "Vary", "Origin");
}

/* --- sessions --- */

static void expire_sessions(sb_mcp_endpoint *e, int64_t now_ms)
{
    for (size_t i = 0; i < e->nsessions;)
        if (now_ms - e->sessions[i].last_seen > e->cfg.session_idle_ms) {
            session_clear(e, &e->sessions[i]);
            e->sessions[i] = e->sessions[--e->nsessions];
        } else {
            i++;
        }
}

static session *find_session(sb_mcp_endpoint *e, const char *id)
{
    for (size_t i = 0; id && i < e->nsessions; i++)
        if (strcmp(e->sessions[i].id, id) == 0)
            return &e->sessions[i];
    return NULL;
}

static session *new_session(sb_mcp_endpoint *e, int64_t now_ms)
{
    if (e->nsessions >= e->cfg.max_sessions)
        return NULL;
    if (e->nsessions == e->cap) {
        size_t c = e->cap ? e->cap * 2 : 16;
        session *p = sb_realloc(e->sessions, c * sizeof *p);
        if (!p)
            return NULL;
        e->sessions = p;
        e->cap = c;
    }
    session *s = &e->sessions[e->nsessions++];
    memset(s, 0, sizeof *s);
    unsigned char r[16];
    if (e->cfg.random) {
        e->cfg.random(e->cfg.random_ud, r, sizeof r);
    } else {
        uint64_t a = splitmix(&e->rng), b = splitmix(&e->rng);
        memcpy(r, &a, 8);
        memcpy(r + 8, &b, 8);
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof r; i++) {
        s->id[2 * i] = hex[r[i] >> 4];
        s->id[2 * i + 1] = hex[r[i] & 15];
    }
    s->id[32] = 0;
    s->last_seen = now_ms;
    return s;
}

static void end_session(sb_mcp_endpoint *e, session *s)
{
    session_clear(e, s);
    *s = e->sessions[--e->nsessions];
}

/* The session a request names: NULL after filling a 400/404 response. */
static session *session_of(sb_mcp_endpoint *e, const sb_http_req *req, int64_t now_ms, sb_http_resp *out)
{
    if (!req->session_id) {
        fail(out, 400, SB_JSONRPC_INVALID_REQUEST, "Bad Request: Mcp-Session-Id header is required");
        return NULL;
    }
    session *s = find_session(e, req->session_id);
    if (!s) {
        fail(out, 404, -32001, "Session not found");
        return NULL;
    }
    if (req->protocol_version && !sb_mcp_version_supported(req->protocol_version)) {
        char msg[160];
        snprintf(msg, sizeof msg, "Bad Request: unsupported MCP-Protocol-Version (supported: %s)",
                 sb_mcp_versions_text());
        fail(out, 400, SB_JSONRPC_INVALID_REQUEST, msg);
        return NULL;
    }
    s->last_seen = now_ms;
    return s;
}

/* --- SSE --- */

/* Answered streams kept per session for replay; older ones are forgotten. */
#define KEPT_STREAMS 32

static stream *new_stream(sb_mcp_endpoint *e, session *s)
{
    if (s->nstreams >= KEPT_STREAMS) {
        for (size_t i = 0; i < s->nstreams; i++)
            if (!s->streams[i].pending) { /* the oldest answered one */
                sb_free(s->streams[i].final);
                memmove(&s->streams[i], &s->streams[i + 1], (s->nstreams - i - 1) * sizeof *s->streams);
                s->nstreams--;
                break;
            }
    }
    if (s->nstreams == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 4;
        stream *p = sb_realloc(s->streams, c * sizeof *p);
        if (!p)
            return NULL;
        s->streams = p;
        s->cap = c;
    }
    stream *st = &s->streams[s->nstreams++];
    memset(st, 0, sizeof *st);
    st->id = ++e->next_stream;
    return st;
}

static void event(sb_buf *b, stream *st, const char *data)
{
    sb_buf_printf(b, "id: %llu-%u\n", (unsigned long long)st->id, ++st->seq);
    /* JSON written by sb_val_to_json has no raw newlines: one data line */
    sb_buf_printf(b, "data: %s\n\n", data);
}

static bool event_value(sb_buf *b, stream *st, sb_val msg)
{
    char *text = sb_val_to_json(msg, 0);
    if (!text)
        return false;
    event(b, st, text);
    sb_free(text);
    return true;
}

/* Writes what the app said onto stream st: notifications, then the answer,
 * or a retry when it is pending. false on OOM. */
static bool stream_write(sb_mcp_endpoint *e, sb_buf *b, stream *st, const sb_mcp_app_reply *r)
{
    for (size_t i = 0; i < sb_list_len(r->notes); i++)
        if (!event_value(b, st, *sb_list_at(r->notes, i)))
            return false;
    if (r->pending) {
        st->pending = r->pending;
        sb_buf_printf(b, "retry: %lld\n\n", (long long)e->cfg.retry_ms);
        return true;
    }
    st->pending = 0;
    char *text = r->message.kind == SB_MAP ? sb_val_to_json(r->message, 0) : NULL;
    if (!text)
        return false;
    sb_buf ev = SB_BUF_INIT;
    event(&ev, st, text);
    sb_free(text);
    st->final_seq = st->seq;
    sb_free(st->final);
    st->final = sb_buf_take(&ev);
    if (!st->final)
        return false;
    sb_buf_puts(b, st->final);
    return true;
}

static void sse_begin(sb_http_resp *out, sb_buf *b, stream *st)
{
    out->status = 200;
    out->sse = true;
    header(out, "Content-Type", "text/event-stream");
    header(out, "Cache-Control", "no-cache");
    /* the priming event: an id and no data, so the client can resume */
    sb_buf_printf(b, "id: %llu-%u\ndata: \n\n", (unsigned long long)st->id, ++st->seq);
}

/* --- methods --- */

static void method_of(const char *body, size_t len, sb_jsonrpc_msg *m, char rpc[48])
{
    sb_jsonrpc_parse(body, len, m);
    rpc[0] = 0;
    if (m->method.kind != SB_STRING)
        return;
    /* A tools/call names its tool too: a server's log then says what was
     * asked (how many submit_jobs a sweep made), not only that a tool ran. */
    const sb_val *tool = m->params.kind == SB_MAP ? sb_map_get_str(m->params, "name") : NULL;
    if (sb_str_eq(m->method, "tools/call") && tool && tool->kind == SB_STRING)
        snprintf(rpc, 48, "tools/call %s", sb_str(*tool));
    else
        snprintf(rpc, 48, "%s", sb_str(m->method));
}

static void post(sb_mcp_endpoint *e, const sb_http_req *req, int64_t now_ms, sb_http_resp *out)
{
    if (req->body_too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "Payload Too Large: the body exceeds %zu bytes", e->cfg.max_body_bytes);
        fail(out, 413, SB_JSONRPC_INVALID_REQUEST, msg);
        return;
    }
    if (!req->content_type || !icontains(req->content_type, "application/json")) {
        fail(out, 415, SB_JSONRPC_INVALID_REQUEST, "Unsupported Media Type: Content-Type must be application/json");
        return;
    }
    sb_jsonrpc_msg m;
    method_of(req->body ? req->body : "", req->body_len, &m, out->rpc);
    bool init = m.kind == SB_JSONRPC_REQUEST && strcmp(out->rpc, "initialize") == 0;
    sb_jsonrpc_msg_clear(&m);

    session *s = NULL;
    if (!init && !(s = session_of(e, req, now_ms, out)))
        return;
    if (init && e->nsessions >= e->cfg.max_sessions) {
        fail(out, 503, SB_JSONRPC_INTERNAL_ERROR, "Service Unavailable: too many sessions; end one with DELETE");
        return;
    }
    sb_mcp_app_reply r;
    sb_mcp_app_handle(e->app, s ? s->id : "", now_ms, req->body ? req->body : "", req->body_len, &r);
    if (init && r.status == 200) {
        s = new_session(e, now_ms);
        if (s) {
            header(out, "Mcp-Session-Id", s->id);
        } else { /* out of memory: no session, so no answer either */
            r.status = 500;
            sb_val_free(r.message);
            r.message = sb_null();
        }
    }
    bool want_sse = r.pending || sb_list_len(r.notes) > 0 || r.wants_stream;
    if (r.status != 200) {
        out->status = r.status;
        if (r.message.kind == SB_MAP) {
            char *text = sb_val_to_json(r.message, 0);
            if (text) {
                header(out, "Content-Type", "application/json");
                out->body = text;
                out->body_len = strlen(text);
            } else {
                out->status = 500;
            }
        }
    } else if (!want_sse || !s) {
        char *text = r.message.kind == SB_MAP ? sb_val_to_json(r.message, 0) : NULL;
        if (text) {
            out->status = 200;
            header(out, "Content-Type", "application/json");
            out->body = text;
            out->body_len = strlen(text);
        } else {
            out->status = 500;
        }
    } else {
        stream *st = new_stream(e, s);
        sb_buf b = SB_BUF_INIT;
        if (st)
            sse_begin(out, &b, st);
        if (!st || !stream_write(e, &b, st, &r)) {
            if (r.pending)
                sb_mcp_app_drop(e->app, r.pending);
            if (st)
                st->pending = 0;
            sb_buf_free(&b);
            out->status = 500;
        } else {
            body_take(out, &b);
        }
    }
    sb_mcp_app_reply_clear(&r);
}

/* "<stream>-<seq>" */
static stream *find_stream(session *s, const char *last_event_id, unsigned *seq)
{
    unsigned long long sid;
    int used = 0;
    if (sscanf(last_event_id, "%llu-%u%n", &sid, seq, &used) != 2 || last_event_id[used] != 0)
        return NULL;
    for (size_t i = 0; i < s->nstreams; i++)
        if (s->streams[i].id == sid)
            return &s->streams[i];
    return NULL;
}

static void get(sb_mcp_endpoint *e, const sb_http_req *req, int64_t now_ms, sb_http_resp *out)
{
    if (!req->last_event_id) {
        /* no server-initiated messages: there is nothing to stream */
        header(out, "Allow", "POST, DELETE, OPTIONS");
        fail(out, 405, SB_JSONRPC_INVALID_REQUEST, "Method Not Allowed: no standalone SSE stream");
        return;
    }
    session *s = session_of(e, req, now_ms, out);
    if (!s)
        return;
    unsigned seq = 0;
    stream *st = find_stream(s, req->last_event_id, &seq);
    if (!st) {
        fail(out, 400, SB_JSONRPC_INVALID_REQUEST, "Bad Request: Last-Event-ID names no stream of this session");
        return;
    }
    sb_mcp_app_reply r;
    bool polled = st->pending != 0;
    if (polled) {
        sb_mcp_app_poll(e->app, st->pending, now_ms, &r);
        if (r.status == 404) {
            st->pending = 0;
            sb_mcp_app_reply_clear(&r);
            fail(out, 400, SB_JSONRPC_INVALID_REQUEST, "Bad Request: the stream's request is gone");
            return;
        }
    }
    sb_buf b = SB_BUF_INIT;
    out->status = 200;
    out->sse = true;
    header(out, "Content-Type", "text/event-stream");
    header(out, "Cache-Control", "no-cache");
    if (!polled) {
        /* answered already: replay the answer if the client has not seen it */
        if (st->final && seq < st->final_seq)
            sb_buf_puts(&b, st->final);
        body_take(out, &b);
        return;
    }
    sb_buf_printf(&b, "id: %llu-%u\ndata: \n\n", (unsigned long long)st->id, ++st->seq);
    bool ok = r.status == 200 && stream_write(e, &b, st, &r);
    sb_mcp_app_reply_clear(&r);
    if (!ok) {
        sb_buf_free(&b);
        out->status = 500;
        return;
    }
    body_take(out, &b);
}

static void del(sb_mcp_endpoint *e, const sb_http_req *req, int64_t now_ms, sb_http_resp *out)
{
    session *s = session_of(e, req, now_ms, out);
    if (!s)
        return;
    end_session(e, s);
    out->status = 200;
}

void sb_mcp_endpoint_handle(sb_mcp_endpoint *e, const sb_http_req *req, int64_t now_ms, sb_http_resp *out)
{
    memset(out, 0, sizeof *out);
    expire_sessions(e, now_ms);
    const char *method = req->method ? req->method : "";
    const char *path = req->path ? req->path : "";
    if (!host_ok(e, req->host)) {
        fail(out, 403, SB_JSONRPC_INVALID_REQUEST, "Forbidden: Host not allowed");
        return;
    }
    if (!origin_ok(e, req->origin)) {
        fail(out, 403, SB_JSONRPC_INVALID_REQUEST, "Forbidden: Origin not allowed");
        return;
    }
    cors(out, req->origin);
    if (strcmp(path, "/health") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            header(out, "Allow", "GET");
            fail(out, 405, SB_JSONRPC_INVALID_REQUEST, "Method Not Allowed");
            return;
        }
        sb_buf b = SB_BUF_INIT;
        sb_buf_puts(&b, "{\"status\":\"ok\",\"name\":");
        sb_buf_json_string(&b, e->cfg.name, strlen(e->cfg.name));
        sb_buf_puts(&b, ",\"version\":");
        sb_buf_json_string(&b, e->cfg.version, strlen(e->cfg.version));
        sb_buf_puts(&b, "}");
        out->status = 200;
        header(out, "Content-Type", "application/json");
        body_take(out, &b);
        return;
    }
    if (strcmp(path, e->cfg.path) != 0) {
        fail(out, 404, SB_JSONRPC_INVALID_REQUEST, "Not Found");
        return;
    }
    if (strcmp(method, "OPTIONS") == 0) {
        out->status = 204;
        header(out, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        header(out, "Access-Control-Allow-Headers",
               "Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Authorization");
        header(out, "Access-Control-Max-Age", "600");
        return;
    }
    if (strcmp(method, "POST") == 0)
        post(e, req, now_ms, out);
    else if (strcmp(method, "GET") == 0)
        get(e, req, now_ms, out);
    else if (strcmp(method, "DELETE") == 0)
        del(e, req, now_ms, out);
    else {
        header(out, "Allow", "GET, POST, DELETE, OPTIONS");
        fail(out, 405, SB_JSONRPC_INVALID_REQUEST, "Method Not Allowed");
    }
}
