/* The HTTP host: libmicrohttpd reads requests and writes responses; the
 * endpoint (core/mcp/sb_mcp_endpoint.c) decides everything else. One
 * internal polling thread serves every connection, so the endpoint, the app
 * and the tools only ever run on that thread; every response is complete
 * (SSE polling instead of held streams), so no handler ever waits. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mcp/sb_mcp_endpoint.h"
#include "server_common.h"

typedef struct host {
    sb_mcp_endpoint *ep;
    size_t max_body;
} host;

/* One request's state across the handler's calls. */
typedef struct conn {
    char *body;
    size_t len, cap;
    bool too_large;
    struct timespec t0;
} conn;

static const char *hdr(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static enum MHD_Result respond(host *h, struct MHD_Connection *c, conn *k, const char *url, const char *method)
{
    sb_http_req req = {
        .method = method,
        .path = url,
        .host = hdr(c, "Host"),
        .origin = hdr(c, "Origin"),
        .accept = hdr(c, "Accept"),
        .content_type = hdr(c, "Content-Type"),
        .session_id = hdr(c, "Mcp-Session-Id"),
        .protocol_version = hdr(c, "MCP-Protocol-Version"),
        .last_event_id = hdr(c, "Last-Event-ID"),
        .body = k->body,
        .body_len = k->len,
        .body_too_large = k->too_large,
    };
    sb_http_resp r;
    sb_mcp_endpoint_handle(h->ep, &req, server_now_ms(), &r);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r.body_len, r.body ? r.body : (char *)"", MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok = MHD_NO;
    if (resp) {
        for (size_t i = 0; i < r.nheaders; i++)
            MHD_add_response_header(resp, r.headers[i].name, r.headers[i].value);
        if (k->too_large) /* the rest of the body is not read */
            MHD_add_response_header(resp, "Connection", "close");
        ok = MHD_queue_response(c, (unsigned)r.status, resp);
        MHD_destroy_response(resp);
    }
    server_log(LOG_INFO, "%s %s%s%s %d %zuB %.2fms", method, url, r.rpc[0] ? " " : "", r.rpc, r.status, r.body_len,
               ms_since(&k->t0));
    sb_http_resp_clear(&r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    host *h = cls;
    conn *k = *con_cls;
    if (!k) {
        if (!(k = calloc(1, sizeof *k)))
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &k->t0);
        *con_cls = k;
        const char *cl = hdr(c, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > h->max_body) {
            /* answer before reading a body that will be refused */
            k->too_large = true;
            return respond(h, c, k, url, method);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!k->too_large && k->len + *upload_size > h->max_body) {
            k->too_large = true;
            free(k->body);
            k->body = NULL;
            k->len = k->cap = 0;
        }
        if (!k->too_large) {
            if (k->len + *upload_size + 1 > k->cap) {
                size_t cap = (k->len + *upload_size + 1) * 2;
                char *p = realloc(k->body, cap);
                if (!p)
                    return MHD_NO;
                k->body = p;
                k->cap = cap;
            }
            memcpy(k->body + k->len, upload, *upload_size);
            k->len += *upload_size;
            k->body[k->len] = 0;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return respond(h, c, k, url, method);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    conn *k = *con_cls;
    if (k) {
        free(k->body);
        free(k);
        *con_cls = NULL;
    }
}

/* Session ids from the kernel's random source; a short read aborts rather
 * than hand out a guessable id. */
static void urandom(void *ud, unsigned char *buf, size_t len)
{
    if (fread(buf, 1, len, ud) != len) {
        fprintf(stderr, "reading /dev/urandom failed\n");
        abort();
    }
}

/* Waits for SIGTERM or SIGINT; with a loop, also runs its tick on SIGCHLD
 * and on its timeout. Returns the signal that ends the wait. */
static int wait_for_stop(const sigset_t *set, const server_loop *loop)
{
    int64_t delay = 0;
    for (;;) {
        int sig;
        if (!loop) {
            if (sigwait(set, &sig) == 0)
                return sig;
            continue;
        }
        if (delay < 0) {
            if (sigwait(set, &sig) != 0)
                continue;
        } else {
            struct timespec ts = {(time_t)(delay / 1000), (long)(delay % 1000) * 1000000L};
            sig = sigtimedwait(set, NULL, &ts);
        }
        if (sig == SIGTERM || sig == SIGINT)
            return sig;
        delay = loop->tick(loop->ud); /* SIGCHLD, the timeout, or EINTR */
    }
}

int server_run(const char *prog, const server_opts *o, sb_mcp_app *app, void (*stopping)(void *ud), void *ud)
{
    return server_run_loop(prog, o, app, stopping, ud, NULL);
}

int server_run_loop(const char *prog, const server_opts *o, sb_mcp_app *app, void (*stopping)(void *ud), void *ud,
                    const server_loop *loop)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1) {
        fprintf(stderr, "%s: --host: '%s' is not an IPv4 address\n", prog, o->host);
        return 2;
    }
    FILE *rnd = fopen("/dev/urandom", "rb");
    if (!rnd) {
        fprintf(stderr, "%s: cannot open /dev/urandom (session ids need it)\n", prog);
        return 1;
    }
    const char *hosts[SERVER_MAX_ALLOW + 1];
    size_t nhosts = 0;
    for (size_t i = 0; i < o->nhosts; i++)
        hosts[nhosts++] = o->hosts[i];
    if (strcmp(o->host, "0.0.0.0") != 0)
        hosts[nhosts++] = o->host; /* a client may name the address it was given */
    sb_mcp_endpoint_config cfg = {
        .name = prog,
        .version = SIBYL_VERSION,
        .allow_origins = o->origins,
        .nallow_origins = o->norigins,
        .allow_hosts = hosts,
        .nallow_hosts = nhosts,
        .max_body_bytes = o->max_body,
        .retry_ms = o->retry_ms,
        .random = urandom,
        .random_ud = rnd,
    };
    host h = {.ep = sb_mcp_endpoint_new(&cfg, app), .max_body = o->max_body};
    if (!h.ep) {
        fprintf(stderr, "%s: out of memory\n", prog);
        fclose(rnd);
        return 1;
    }
    /* The daemon's thread inherits this mask, so the signals reach sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (loop)
        sigaddset(&set, SIGCHLD); /* children end into the loop's tick */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &h,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                         MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "%s: cannot listen on %s:%d\n", prog, o->host, o->port);
        sb_mcp_endpoint_free(h.ep);
        fclose(rnd);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = info ? (int)info->port : o->port;
    fprintf(stderr, "%s listening on http://%s:%d/mcp\n", prog, o->host, port);
    fflush(stderr);

    int sig = wait_for_stop(&set, loop);
    server_log(LOG_INFO, "%s: stopping, no new connections", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    MHD_socket ls = MHD_quiesce_daemon(d);
    MHD_stop_daemon(d); /* finishes the requests in progress */
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    if (stopping)
        stopping(ud);
    server_log(LOG_INFO, "%zu session(s) open at exit, %zu task(s) working", sb_mcp_endpoint_sessions(h.ep),
               sb_mcp_app_task_count(app, true));
    sb_mcp_endpoint_free(h.ep);
    fclose(rnd);
    return 0;
}
