/* The HTTP host: MCP requests over libcurl's multi interface (native builds).
 * Several transfers run at once; each has the server's timeout_ms; TLS is
 * libcurl's. An answer is handed over complete (status, Content-Type,
 * MCP-Session-Id, body), as sb_mcp_client_on_response wants it.
 *
 * SSE answers: a server may keep a stream open after the JSON-RPC response
 * it carries (a resumption GET typically does). The body is watched as it
 * arrives and the transfer ends as soon as an event carries a JSON-RPC
 * response; what arrived so far is the answer.
 *
 * Secrets: the bearer token goes only into the Authorization header; libcurl
 * runs without CURLOPT_VERBOSE and no header is ever printed. */
#ifndef __wasi__
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json/sb_json.h"
#include "mcp/sb_sse.h"
#include "transport.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"
#include "util/sb_grow.h"

const char http_unavailable_msg[] = "";

typedef struct xfer {
    CURL *easy;              /* NULL: failed to start, answered with status 0 */
    uint64_t id;
    const http_server *srv;
    struct curl_slist *hdrs;
    char *req_body;
    sb_buf body;
    char *session_id;
    sb_sse *sse;             /* created when the answer turns out to be SSE */
    bool sse_checked;
    bool answered;           /* an SSE event carried the JSON-RPC response */
    char errbuf[CURL_ERROR_SIZE];
    char *fail;              /* a start failure's message */
} xfer;

struct http_host {
    const http_servers *servers;
    CURLM *multi;
    xfer **x;
    size_t n, cap;
};

static const http_server *find_server(const http_host *h, const char *name)
{
    for (size_t i = 0; i < h->servers->n; i++)
        if (strcmp(h->servers->v[i].name, name) == 0)
            return &h->servers->v[i];
    return NULL;
}

bool http_host_has(const http_host *h, const char *server) { return h && find_server(h, server) != NULL; }

http_host *http_host_new(const http_servers *servers)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "sibyl: error: libcurl could not be initialized\n");
        return NULL;
    }
    http_host *h = sb_calloc(1, sizeof *h);
    if (!h || !(h->multi = curl_multi_init())) {
        sb_free(h);
        curl_global_cleanup();
        fprintf(stderr, "sibyl: error: out of memory\n");
        return NULL;
    }
    h->servers = servers;
    return h;
}

static void xfer_free(http_host *h, xfer *x)
{
    if (x->easy) {
        curl_multi_remove_handle(h->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->hdrs); /* holds the Authorization header */
    sb_free(x->req_body);
    sb_buf_free(&x->body);
    sb_free(x->session_id);
    sb_free(x->fail);
    sb_sse_free(x->sse);
    sb_free(x);
}

void http_host_free(http_host *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        xfer_free(h, h->x[i]);
    sb_free(h->x);
    curl_multi_cleanup(h->multi);
    sb_free(h);
    curl_global_cleanup();
}

size_t http_host_in_flight(const http_host *h) { return h ? h->n : 0; }

/* A JSON-RPC response (not a request or notification) in an SSE event ends
 * the wait: it is all the client needs from this stream. */
static bool on_sse_event(void *ud, const sb_sse_event *ev)
{
    xfer *x = ud;
    if (!ev->has_data || !ev->data_len)
        return true;
    sb_val m = sb_json_parse(ev->data, ev->data_len);
    if (m.kind == SB_MAP && sb_map_get_str(m, "id") && !sb_map_get_str(m, "method") &&
        (sb_map_get_str(m, "result") || sb_map_get_str(m, "error")))
        x->answered = true;
    sb_val_free(m);
    return true;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    sb_buf_append(&x->body, p, len);
    if (sb_buf_failed(&x->body))
        return 0;
    if (!x->sse_checked) {
        x->sse_checked = true;
        char *ct = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
        if (ct && strncasecmp(ct, "text/event-stream", 17) == 0)
            x->sse = sb_sse_new(0, on_sse_event, x);
    }
    if (x->sse && !x->answered) {
        sb_sse_feed(x->sse, p, len);
        if (x->answered)
            return 0; /* ends the transfer (CURLE_WRITE_ERROR, read as done) */
    }
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n;
    static const char name[] = "mcp-session-id:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1, *end = p + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        sb_free(x->session_id);
        x->session_id = sb_strndup(v, (size_t)(end - v));
    }
    /* A redirect or 1xx answer starts over: only the final answer counts. */
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        sb_buf_reset(&x->body);
        x->sse_checked = false;
        x->answered = false;
        sb_sse_free(x->sse);
        x->sse = NULL;
    }
    return len;
}

static bool add_header(xfer *x, const char *name, const char *value)
{
    if (!value)
        return true;
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s: %s", name, value);
    struct curl_slist *l = sb_buf_failed(&b) ? NULL : curl_slist_append(x->hdrs, sb_buf_str(&b));
    /* the Authorization line is copied by libcurl: wipe ours */
    if (!sb_buf_failed(&b))
        memset((char *)sb_buf_str(&b), 0, b.len);
    sb_buf_free(&b);
    if (!l)
        return false;
    x->hdrs = l;
    return true;
}

static bool setup(xfer *x, const sb_run_request *req)
{
    const http_server *s = x->srv;
    CURL *e = x->easy;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, s->url) == CURLE_OK;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "sibyl/" SIBYL_VERSION);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(req->method, "POST") == 0) {
        x->req_body = sb_strndup(req->body ? req->body : "", req->body_len);
        ok = ok && x->req_body;
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req_body);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
    ok = ok && add_header(x, "Accept", req->accept) && add_header(x, "Content-Type", req->content_type) &&
         add_header(x, "MCP-Session-Id", req->session_id) &&
         add_header(x, "MCP-Protocol-Version", req->protocol_version) &&
         add_header(x, "Last-Event-ID", req->last_event_id) && add_header(x, "Expect", "");
    for (size_t i = 0; ok && i < s->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(x->hdrs, s->headers[i]);
        ok = l != NULL;
        if (l)
            x->hdrs = l;
    }
    if (ok && s->bearer_token) {
        sb_buf b = SB_BUF_INIT;
        sb_buf_puts(&b, "Bearer ");
        sb_buf_puts(&b, s->bearer_token);
        ok = !sb_buf_failed(&b) && add_header(x, "Authorization", sb_buf_str(&b));
        if (!sb_buf_failed(&b))
            memset((char *)sb_buf_str(&b), 0, b.len);
        sb_buf_free(&b);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    return ok;
}

void http_host_send(http_host *h, const sb_run_request *req)
{
    xfer *x = sb_calloc(1, sizeof *x);
    if (!x || !SB_GROW(h->x, h->cap, h->n + 1)) {
        /* Nowhere to keep it: the request is lost and the run would wait
         * forever, so answer it at once. */
        sb_free(x);
        fprintf(stderr, "sibyl: error: out of memory sending a request\n");
        return;
    }
    x->id = req->id;
    x->body = (sb_buf)SB_BUF_INIT;
    x->srv = find_server(h, req->server);
    h->x[h->n++] = x;
    if (!x->srv) {
        sb_buf b = SB_BUF_INIT;
        sb_buf_printf(&b, "no HTTP server named '%s' in the workspace", req->server);
        x->fail = sb_buf_take(&b);
        return;
    }
    x->easy = curl_easy_init();
    if (!x->easy || !setup(x, req) || curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        if (x->easy)
            curl_easy_cleanup(x->easy);
        x->easy = NULL;
        sb_buf b = SB_BUF_INIT;
        sb_buf_printf(&b, "%s: could not start the request (out of memory)", x->srv->url);
        x->fail = sb_buf_take(&b);
    }
}

static void answer(xfer *x, CURLcode rc, transport_answer_fn fn, void *ud)
{
    if (x->fail || !x->easy) {
        const char *m = x->fail ? x->fail : "out of memory";
        fn(ud, x->id, 0, NULL, NULL, m, strlen(m));
        return;
    }
    long status = 0;
    char *ct = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    /* An SSE stream cut mid-way (reset, timeout) is a stream that ended
     * early, not a failed request: the client resumes it with Last-Event-ID
     * when its events had ids, and fails the call when they had none. */
    bool cut = x->sse && status == 200 &&
               (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_OPERATION_TIMEDOUT);
    bool done = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && x->answered) || cut;
    if (done && !sb_buf_failed(&x->body)) {
        fn(ud, x->id, (int)status, ct, x->session_id, x->body.len ? sb_buf_str(&x->body) : "", x->body.len);
        return;
    }
    sb_buf m = SB_BUF_INIT;
    if (sb_buf_failed(&x->body))
        sb_buf_printf(&m, "%s: out of memory reading the answer", x->srv->url);
    else
        sb_buf_printf(&m, "%s: %s", x->srv->url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    const char *s = sb_buf_failed(&m) ? "transport error" : sb_buf_str(&m);
    fn(ud, x->id, 0, NULL, NULL, s, strlen(s));
    sb_buf_free(&m);
}

void http_host_pump(http_host *h, int wait_ms, transport_answer_fn fn, void *ud)
{
    int running = 0;
    curl_multi_perform(h->multi, &running);
    bool failed_start = false;
    for (size_t i = 0; i < h->n; i++)
        failed_start |= h->x[i]->easy == NULL;
    if (wait_ms > 0 && !failed_start) {
        curl_multi_poll(h->multi, NULL, 0, wait_ms, NULL);
        curl_multi_perform(h->multi, &running);
    }
    /* Finished transfers leave the set first; fn may start new ones. */
    xfer **done = NULL;
    CURLcode *codes = NULL;
    size_t nd = 0;
    if (h->n) {
        done = sb_calloc(h->n, sizeof *done);
        codes = sb_calloc(h->n, sizeof *codes);
        if (!done || !codes) {
            sb_free(done);
            sb_free(codes);
            return; /* try again at the next pump */
        }
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        for (size_t i = 0; i < h->n; i++)
            if (h->x[i]->easy == msg->easy_handle) {
                done[nd] = h->x[i];
                codes[nd++] = msg->data.result;
                h->x[i] = h->x[--h->n];
                break;
            }
    }
    for (size_t i = 0; i < h->n;)
        if (!h->x[i]->easy) {
            done[nd] = h->x[i];
            codes[nd++] = CURLE_OK;
            h->x[i] = h->x[--h->n];
        } else {
            i++;
        }
    for (size_t i = 0; i < nd; i++) {
        answer(done[i], codes[i], fn, ud);
        xfer_free(h, done[i]);
    }
    sb_free(done);
    sb_free(codes);
}
#endif
