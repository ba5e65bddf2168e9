/* sibyl.wasm's HTTP host: WASI preview 1 has no sockets, so a workspace with
 * an HTTP server is refused in one line before anything is submitted. */
#ifdef __wasi__
#include <stdio.h>

#include "transport.h"

const char http_unavailable_msg[] =
    "remote servers need the native binary (./sibyl runs it when built) or the web host: sibyl.wasm has no sockets";

http_host *http_host_new(const http_servers *servers)
{
    (void)servers;
    fprintf(stderr, "sibyl: error: %s\n", http_unavailable_msg);
    return NULL;
}
void http_host_free(http_host *h) { (void)h; }
bool http_host_has(const http_host *h, const char *server)
{
    (void)h;
    (void)server;
    return false;
}
void http_host_send(http_host *h, const sb_run_request *req)
{
    (void)h;
    (void)req;
}
size_t http_host_in_flight(const http_host *h)
{
    (void)h;
    return 0;
}
void http_host_pump(http_host *h, int wait_ms, transport_answer_fn fn, void *ud)
{
    (void)h;
    (void)wait_ms;
    (void)fn;
    (void)ud;
}
#endif
