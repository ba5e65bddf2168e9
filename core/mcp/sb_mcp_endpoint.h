/* The Streamable HTTP endpoint of the reference servers, sans-I/O: one HTTP
 * request in (method, path, the headers that matter, body), one complete
 * response out (status, headers, body). No sockets, no clock (now_ms is an
 * input, Unix epoch milliseconds), no randomness of its own (session ids
 * come from the host's random source). The host (servers/) does the I/O.
 *
 *   POST /mcp     a JSON-RPC message -> application/json, or an SSE body when
 *                 the request carries a progressToken, the tool sent
 *                 notifications, or the answer is not ready yet. An SSE body
 *                 opens with a priming event (an id, no data); an answer not
 *                 ready ends with `retry:` and the body ends: the client
 *                 resumes with GET + Last-Event-ID after that delay and gets
 *                 the answer, or another retry (SEP-1699 polling). So every
 *                 response is complete and no connection is ever held.
 *   GET /mcp      with Last-Event-ID: resumes a stream; without: 405 (no
 *                 server-initiated stream).
 *   DELETE /mcp   ends the session.
 *   OPTIONS       CORS preflight, 204.
 *   GET /health   {"status":"ok","name":...,"version":...}
 *
 * Sessions: initialize gets an MCP-Session-Id; every other request needs it
 * (missing 400, unknown or idle longer than session_idle_ms 404); at most
 * max_sessions at once (initialize gets 503). The answers of the latest 32
 * streams of a session are kept for replay.
 * MCP-Protocol-Version: absent means 2025-03-26; unsupported 400.
 * Origin: absent, a localhost origin, or one of allow_origins ("*" any), else
 * 403. Host: its name must be localhost, 127.0.0.1, [::1] or one of
 * allow_hosts, else 403 (DNS rebinding). A body over max_body_bytes: 413
 * (the host sets body_too_large instead of passing it).
 *
 * Ownership: the config's strings and the app are borrowed for the
 * endpoint's lifetime; request fields are borrowed; a filled response owns
 * its header values and body (sb_http_resp_clear). */
#ifndef SB_MCP_ENDPOINT_H
#define SB_MCP_ENDPOINT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_mcp_app.h"

typedef struct sb_mcp_endpoint_config {
    const char *name, *version; /* for /health */
    const char *path;           /* NULL: "/mcp" */
    const char *const *allow_origins;
    size_t nallow_origins;
    const char *const *allow_hosts;
    size_t nallow_hosts;
    size_t max_body_bytes;   /* 0: 1 MiB */
    int64_t retry_ms;        /* the SSE retry a pending answer asks for; 0: 1000 */
    int64_t session_idle_ms; /* 0: one hour */
    size_t max_sessions;     /* 0: 4096; initialize beyond it gets 503 */
    /* Session ids: 16 bytes from random(random_ud, buf, 16), the host's
     * cryptographic source (getrandom). Without one, a generator seeded with
     * `seed` (tests, fuzzing: not unguessable). */
    void (*random)(void *random_ud, unsigned char *buf, size_t len);
    void *random_ud;
    uint64_t seed;
} sb_mcp_endpoint_config;

typedef struct sb_http_req {
    const char *method, *path; /* path without the query */
    /* Header values, NULL when absent. */
    const char *host, *origin, *accept, *content_type, *session_id, *protocol_version, *last_event_id;
    const char *body;
    size_t body_len;
    bool body_too_large;
} sb_http_req;

#define SB_HTTP_MAX_HEADERS 12
typedef struct sb_http_header {
    const char *name; /* static */
    char *value;      /* owned */
} sb_http_header;

typedef struct sb_http_resp {
    int status;
    sb_http_header headers[SB_HTTP_MAX_HEADERS];
    size_t nheaders;
    char *body; /* owned, may be NULL */
    size_t body_len;
    bool sse;
    char rpc[48]; /* the JSON-RPC method, for the host's log ("" if none); "tools/call TOOL"
                     for a tool call (truncated to fit) */
} sb_http_resp;

typedef struct sb_mcp_endpoint sb_mcp_endpoint;

sb_mcp_endpoint *sb_mcp_endpoint_new(const sb_mcp_endpoint_config *cfg, sb_mcp_app *app);
void sb_mcp_endpoint_free(sb_mcp_endpoint *e);
size_t sb_mcp_endpoint_max_body(const sb_mcp_endpoint *e);
size_t sb_mcp_endpoint_sessions(const sb_mcp_endpoint *e);

/* Fills *out (clear it afterwards); never fails: out of memory is a 500. */
void sb_mcp_endpoint_handle(sb_mcp_endpoint *e, const sb_http_req *req, int64_t now_ms, sb_http_resp *out);
void sb_http_resp_clear(sb_http_resp *r);
/* A header value of the response, or NULL. Case-insensitive. */
const char *sb_http_resp_header(const sb_http_resp *r, const char *name);

#endif
