/* sibyl handle status|watch|cancel HANDLE: follow work an MCP server owns
 * that this process did not start (an ExternalHandle, docs/handles.md): a
 * Conductor handle printed by another run, or an MCP task. The handle's
 * server is the workspace's; the session and the polling are core's
 * (sb_handle_watch, sb_mcp_client_follow_task), this file only moves their
 * requests over HTTP on the real clock and prints what they learn.
 *
 * sibyl.wasm reads and checks the handle and the workspace like the native
 * binary, then says why it cannot follow it: a handle of an embedded service
 * lives only in the process that made it, and it has no sockets for HTTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_outdir.h"
#include "cli_run.h"
#include "config/sb_config.h"
#include "config/sb_schema.h"
#include "engine/sb_handle.h"
#include "sched/sb_backoff.h"
#include "sched/sb_rng.h"
#include "spec/sb_spec.h"
#include "transport.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"

static const char help[] =
    "usage: sibyl handle status|watch|cancel HANDLE [options]\n\n"
    "Follows work an MCP server owns that this process did not start: a Conductor\n"
    "handle another run printed (\"Handle conductor:conductor_handle:h_0001 ...\"), or\n"
    "an MCP task. HANDLE is SERVER:KIND:ID (KIND conductor_handle or mcp_task) or an\n"
    "ExternalHandle as JSON; SERVER is a server of the workspace.\n\n"
    "  status   one look: the handle's counts and finished jobs (a task: its state), as JSON\n"
    "  watch    poll with the workspace's backoff until every job finished, one stream\n"
    "           chunk per finished job to the stream file (a task: tasks/get at the\n"
    "           server's pollInterval, then its result)\n"
    "  cancel   cancel the unfinished jobs (a task: tasks/cancel); reports their partial costs\n\n"
    "options:\n"
    "  --workspace FILE     the workspace naming the servers (default: workspace.yaml)\n"
    "  --stream             watch: print each finished job's chunk as a STREAM line\n"
    "  --output-dir DIR     watch: where the stream file goes (default: the workspace's outputs.dir)\n\n"
    "A handle of an embedded service (transport embedded, and every server of\n"
    "sibyl.wasm) lives only in the process that made it: follow such a sweep from\n"
    "that run, or run it against an HTTP server. Native binary for HTTP servers.\n"
    "exit: 0 done, 1 invalid handle, workspace or unknown handle, 2 usage, 3 the\n"
    "      server refused or a watched job set stalled, 4 no answer or an output error\n";

typedef struct handle_args {
    const char *verb, *text, *workspace, *out_dir;
    bool stream;
} handle_args;

static int parse(int argc, char **argv, handle_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (cli_is_help(o)) {
            fputs(help, stdout);
            return -1;
        }
        bool needs = strcmp(o, "--workspace") == 0 || strcmp(o, "--output-dir") == 0;
        if (needs && (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] == '-')))
            return cli_usage_error("%s needs a value (see sibyl handle --help)", o);
        if (strcmp(o, "--workspace") == 0)
            a->workspace = argv[++i];
        else if (strcmp(o, "--output-dir") == 0)
            a->out_dir = argv[++i];
        else if (strcmp(o, "--stream") == 0)
            a->stream = true;
        else if (o[0] == '-' && o[1])
            return cli_usage_error("handle: unknown option '%s' (see sibyl handle --help)", o);
        else if (!a->verb)
            a->verb = o;
        else if (!a->text)
            a->text = o;
        else
            return cli_usage_error("handle: unexpected argument '%s'", o);
    }
    if (!a->verb)
        return cli_usage_error("handle: expected status, watch or cancel (see sibyl handle --help)");
    if (strcmp(a->verb, "status") && strcmp(a->verb, "watch") && strcmp(a->verb, "cancel"))
        return cli_usage_error("handle: unknown action '%s' (expected status, watch or cancel)", a->verb);
    if (!a->text)
        return cli_usage_error("handle %s: which handle? (SERVER:KIND:ID, e.g. conductor:conductor_handle:h_0001)",
                               a->verb);
    if ((a->stream || a->out_dir) && strcmp(a->verb, "watch") != 0)
        return cli_usage_error("handle %s: %s is only for watch", a->verb, a->stream ? "--stream" : "--output-dir");
    return CLI_OK;
}

/* The handle read and checked against the workspace: the handle (an
 * ExternalHandle) and the workspace tree, or an exit code. */
static int resolve(const handle_args *a, sb_val *handle, sb_val *ws)
{
    *handle = sb_handle_parse(a->text, strlen(a->text));
    if (handle->kind != SB_MAP) {
        fprintf(stderr, "sibyl: error: handle '%s': %s\n", a->text,
                sb_is_oom(*handle) ? "out of memory" : sb_str(*handle));
        return sb_is_oom(*handle) ? CLI_INTERNAL : CLI_INVALID;
    }
    size_t len;
    char *text = cli_read_file(a->workspace, &len);
    if (!text)
        return CLI_INVALID;
    sb_diags *d = sb_diags_new();
    bool ok = d && sb_config_workspace(a->workspace, text, len, d, ws);
    cli_print_diags(d);
    sb_diags_free(d);
    sb_free(text);
    if (!ok)
        return CLI_INVALID;
    sb_buf why = SB_BUF_INIT;
    if (!sb_handle_check_server(*handle, *ws, &why)) {
        fprintf(stderr, "sibyl: error: handle '%s': %s; nothing was sent\n", a->text, sb_buf_str(&why));
        sb_buf_free(&why);
        return CLI_INVALID;
    }
    sb_buf_free(&why);
    const char *server = sb_handle_field(*handle, "server", "?");
    const sb_val *servers = sb_map_get_str(*ws, "servers");
    const sb_val *srv = servers ? sb_map_get_str(*servers, server) : NULL;
    const sb_val *tr = srv ? sb_map_get_str(*srv, "transport") : NULL;
    if (!tr || !sb_str_eq(*tr, "http")) {
        fprintf(
            stderr,
            "sibyl: error: handle '%s': server '%s' is an embedded service: a handle of an embedded service "
            "lives only in the process that made it (the run that submitted the jobs), so another run cannot "
            "follow it; follow the sweep from that run, or run it against an HTTP server (%s: servers.%s.transport: "
            "http)\n",
            a->text, server, a->workspace, server);
        return CLI_INVALID;
    }
    if (!http_available()) {
        fprintf(stderr, "sibyl: error: handle '%s': server '%s' uses transport http: %s\n", a->text, server,
                http_unavailable_msg);
        return CLI_INVALID;
    }
    return CLI_OK;
}

#ifdef __wasi__
int cli_cmd_handle(int argc, char **argv)
{
    handle_args a = {0};
    a.workspace = "workspace.yaml";
    int rc = parse(argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    sb_val h = sb_null(), ws = sb_null();
    rc = resolve(&a, &h, &ws);
    sb_val_free(h);
    sb_val_free(ws);
    return rc == CLI_OK ? CLI_INVALID : rc; /* resolve refuses every handle here */
}
#else
#include "cmd_handle_http.h"

int cli_cmd_handle(int argc, char **argv)
{
    handle_args a = {0};
    a.workspace = "workspace.yaml";
    int rc = parse(argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    sb_val h = sb_null(), ws = sb_null();
    rc = resolve(&a, &h, &ws);
    if (rc == CLI_OK)
        rc = handle_follow(a.verb, a.text, h, ws, a.workspace, a.out_dir, a.stream);
    sb_val_free(h);
    sb_val_free(ws);
    fflush(stdout);
    return rc;
}
#endif
