/* How the terminal front end gets answers to MCP requests: in-process from
 * the embedded services (transport_embedded.c), or over HTTP (transport_http.c,
 * libcurl's multi interface, native builds only; sibyl.wasm has no sockets and
 * links transport_http_stub.c, which refuses in one line).
 *
 * Ownership: requests are copied when handed over; an answer's strings are
 * valid only during the answer callback. Nothing here logs a header value:
 * the bearer token goes into the Authorization header and nowhere else. */
#ifndef SIBYL_TRANSPORT_H
#define SIBYL_TRANSPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/sb_run.h"
#include "mcp/sb_mcp_client.h"
#include "services/sb_services.h"

/* One finished request: HTTP status (0: transport failure, body says why,
 * naming the URL), Content-Type and MCP-Session-Id (NULL when absent). */
typedef void (*transport_answer_fn)(void *ud, uint64_t id, int status, const char *content_type,
                                    const char *session_id, const char *body, size_t len);

/* --- embedded services: answered synchronously when drained --- */
typedef struct embedded_queue embedded_queue;
embedded_queue *embedded_new(void);
void embedded_free(embedded_queue *q); /* NULL-safe */
/* false on OOM (the request is lost: the caller cancels the run) */
bool embedded_push(embedded_queue *q, const sb_run_request *req);
size_t embedded_pending(const embedded_queue *q);
/* Answers every queued request through sb_run_on_message/_on_response; the
 * answers may queue more, which are answered too. A server no service
 * answers gets a status-0 answer saying so. */
void embedded_drain(embedded_queue *q, sb_services *svc, sb_run *run, int64_t now_ms);
/* The same, answering at most max requests (the oldest first); returns how
 * many it answered. A host that must stay responsive (the web module) cuts
 * a burst of in-process answers into slices with it. */
size_t embedded_drain_some(embedded_queue *q, sb_services *svc, sb_run *run, int64_t now_ms, size_t max);

/* --- HTTP servers of a workspace --- */
typedef struct http_server {
    char *name;
    char *url;
    long timeout_ms;      /* per request; workspace timeout_ms, default 30000 */
    char **headers;       /* "Name: value", the workspace's headers map */
    size_t nheaders;
    char *bearer_token;   /* from the environment variable bearer_token_env; NULL: none */
} http_server;

typedef struct http_servers {
    http_server *v;
    size_t n;
} http_servers;

/* Reads the servers with transport http from a validated workspace tree and
 * resolves their bearer_token_env. On a problem (a variable unset or empty)
 * prints "FILE:L:C: error: ..." and returns false. */
bool http_servers_from_workspace(sb_val ws, const char *ws_file, http_servers *out);
void http_servers_free(http_servers *s);

/* --- the HTTP host --- */
typedef struct http_host http_host;
/* true when this build can talk HTTP (native); false for sibyl.wasm, where
 * the code behind it compiles away. */
static inline bool http_available(void)
{
#ifdef __wasi__
    return false;
#else
    return true;
#endif
}
/* The one line sibyl.wasm prints instead of contacting a server. */
extern const char http_unavailable_msg[];
/* The servers are borrowed and must outlive the host. NULL on failure (a
 * message is printed). */
http_host *http_host_new(const http_servers *servers);
void http_host_free(http_host *h); /* NULL-safe; aborts transfers in flight */
bool http_host_has(const http_host *h, const char *server);
/* Starts the transfer for req (req->server must be one of the servers). A
 * transfer that cannot start is answered with status 0 at the next pump. */
void http_host_send(http_host *h, const sb_run_request *req);
size_t http_host_in_flight(const http_host *h);
/* Waits at most wait_ms (0: do not wait) for network activity, then hands
 * every finished transfer to fn, after the transfer bookkeeping is done (fn
 * may send more). */
void http_host_pump(http_host *h, int wait_ms, transport_answer_fn fn, void *ud);

/* --- requests an MCP client wants sent later --- */
/* sb_mcp_client_next_request may hand out a request with not_before_ms in
 * the future (an SSE retry, a task's pollInterval); the host keeps a copy
 * and sends it when due. Used by the commands that drive a client or a
 * handle watcher directly (`mcp call`, `handle`). */
typedef struct http_later {
    struct http_later_req *items;
    size_t n, cap;
} http_later;
/* Sends req now when it is due, else keeps a copy for later; false on OOM. */
bool http_later_send(http_later *q, http_host *h, const char *server, const sb_mcp_request *req, int64_t now);
/* Sends the kept requests that are due by now. */
void http_later_send_due(http_later *q, http_host *h, int64_t now);
/* The earliest time a kept request is due, or INT64_MAX with none. */
int64_t http_later_next(const http_later *q);
void http_later_free(http_later *q);

#endif
