/* What both reference servers share: the command line, the log, and the
 * HTTP host (libmicrohttpd) that feeds the sans-I/O endpoint
 * (core/mcp/sb_mcp_endpoint.h). This folder is a host like host-wasi: the
 * only code here that does I/O. */
#ifndef SERVER_COMMON_H
#define SERVER_COMMON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcp/sb_mcp_app.h"

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define SERVER_MAX_ALLOW 16

typedef struct server_opts {
    const char *host;
    int port;
    const char *origins[SERVER_MAX_ALLOW], *hosts[SERVER_MAX_ALLOW];
    size_t norigins, nhosts;
    size_t max_body;
    int log_level;
    int64_t retry_ms;
    bool fixtures;
    /* the Conductor's */
    const char *backend;
    double time_scale;
    uint64_t seed;
    bool seed_set;
    int max_concurrent;
    const char *workspace;
    const char *work_dir; /* --backend local */
} server_opts;

/* Parses argv. Returns -1 to go on, else the exit status (0 after --help or
 * --version, 2 after a message on stderr). conductor enables its options. */
int server_parse(int argc, char **argv, const char *prog, bool conductor, server_opts *o);

void server_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int64_t server_now_ms(void);

/* own tools (+ the conformance fixtures when asked): a new array (free()). */
sb_mcp_app_tool *server_tools(const sb_mcp_app_tool *own, size_t nown, bool fixtures, size_t *n);

/* Serves app on the endpoint until SIGTERM or SIGINT, then calls stopping(ud)
 * (to report what is in flight) and returns the exit status. Prints
 * "<prog> listening on http://HOST:PORT/mcp" on stderr once bound. */
int server_run(const char *prog, const server_opts *o, sb_mcp_app *app, void (*stopping)(void *ud), void *ud);

/* A host's own work on the main thread while the HTTP thread serves (the
 * local backend reaps its children here). tick runs after every SIGCHLD and
 * whenever the delay it returned last has passed (ms; < 0: only on SIGCHLD;
 * the first call comes at once). Tools run on the HTTP thread meanwhile: the
 * host locks what both touch. */
typedef struct server_loop {
    int64_t (*tick)(void *ud);
    void *ud;
} server_loop;

/* server_run with a loop (NULL: none). */
int server_run_loop(const char *prog, const server_opts *o, sb_mcp_app *app, void (*stopping)(void *ud), void *ud,
                    const server_loop *loop);

/* The conformance fixtures (notes/mcp.md), for --conformance-fixtures. */
const sb_mcp_app_tool *fixture_tools(size_t *n);
bool fixture_is(const char *tool);
sb_val fixture_call(sb_mcp_call *c, const char *tool, sb_val args);

#endif
