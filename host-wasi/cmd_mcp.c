/* sibyl mcp call URL TOOL: one MCP tool call over Streamable HTTP, from the
 * command line. The session (initialize, MCP-Session-Id, SSE, resumption,
 * tasks) is core/mcp's sans-I/O client; this file only moves its requests
 * through the HTTP host (transport.h) on the real clock.
 *
 * It is also the client the official conformance suite drives: run with only
 * a URL and MCP_CONFORMANCE_SCENARIO set, it does what that scenario needs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "transport.h"

#ifdef __wasi__
/* sibyl.wasm has no sockets: one line, before anything else. */
int cli_cmd_mcp(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sibyl: error: mcp: %s\n", http_unavailable_msg);
    return CLI_INVALID;
}
#else
#include "cli_run.h"
#include "json/sb_json.h"
#include "mcp/sb_mcp_client.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"
#include "util/sb_grow.h"

static const char call_help[] =
    "usage: sibyl mcp call URL TOOL [options]\n\n"
    "Calls one tool of the MCP server at URL (Streamable HTTP): initializes a session,\n"
    "calls TOOL, prints the result as JSON on stdout: its structuredContent, else the\n"
    "whole CallToolResult. Native binary only (sibyl.wasm has no sockets).\n\n"
    "options:\n"
    "  --args JSON          the tool's arguments, a JSON object (default {})\n"
    "  --header 'K: V'      an extra HTTP header (repeatable; K:V works too)\n"
    "  --bearer-token-env NAME  send Authorization: Bearer <value of $NAME>\n"
    "  --timeout-ms N       per-request timeout in milliseconds (default 30000)\n"
    "  --progress           ask for progress notifications; print them on stderr\n"
    "  --task               call as an MCP task (ttl 60 s) and poll it until it ends\n"
    "  --raw                print the whole CallToolResult\n\n"
    "With only URL and MCP_CONFORMANCE_SCENARIO set (the conformance suite's client mode),\n"
    "does what the scenario needs: initialize lists the tools, tools_call calls add_numbers,\n"
    "any other scenario calls the first tool the server lists.\n"
    "exit: 0 success, 1 invalid input, 2 usage, 3 the tool or the server reported an error,\n"
    "      4 no answer (connection, timeout, HTTP error, malformed answer)\n";

typedef struct mcp_ctx {
    sb_mcp_client *client;
    http_host *http;
    http_later later;
    bool progress;
    /* what finished */
    uint64_t list_id, call_id;
    sb_val list_result, call_result;
    bool list_done, call_done;
} mcp_ctx;

static void on_answer(void *ud, uint64_t id, int status, const char *ct, const char *sid, const char *body, size_t len)
{
    mcp_ctx *m = ud;
    sb_mcp_client_on_response(m->client, id, status, ct, sid, body, len, host_now_ms());
}

/* Sends what the client wants sent now; keeps copies of delayed requests. */
static bool send_ready(mcp_ctx *m, const char *server, int64_t now)
{
    sb_mcp_request q;
    while (sb_mcp_client_next_request(m->client, now, &q))
        if (!http_later_send(&m->later, m->http, server, &q, now))
            return false;
    http_later_send_due(&m->later, m->http, now);
    return true;
}

static void print_event(const sb_mcp_event *ev)
{
    if (ev->params.kind != SB_MAP || ev->method.kind != SB_STRING)
        return;
    sb_buf b = SB_BUF_INIT;
    if (sb_str_eq(ev->method, "notifications/progress")) {
        const sb_val *p = sb_map_get_str(ev->params, "progress"), *t = sb_map_get_str(ev->params, "total"),
                     *msg = sb_map_get_str(ev->params, "message");
        sb_buf_puts(&b, "progress ");
        if (p)
            sb_val_write_json(&b, *p, 0);
        if (t) {
            sb_buf_putc(&b, '/');
            sb_val_write_json(&b, *t, 0);
        }
        if (msg && msg->kind == SB_STRING)
            sb_buf_printf(&b, ": %s", sb_str(*msg));
    } else if (sb_str_eq(ev->method, "notifications/message")) {
        const sb_val *l = sb_map_get_str(ev->params, "level"), *d = sb_map_get_str(ev->params, "data");
        sb_buf_printf(&b, "log %s: ", l && l->kind == SB_STRING ? sb_str(*l) : "?");
        if (d && d->kind == SB_STRING)
            sb_buf_puts(&b, sb_str(*d));
        else if (d)
            sb_val_write_json(&b, *d, 0);
    }
    if (b.len && !sb_buf_failed(&b))
        fprintf(stderr, "sibyl: %s\n", sb_buf_str(&b));
    sb_buf_free(&b);
}

/* Runs the session until the calls asked for have completed (or the client
 * has nothing more to do). */
static bool drive(mcp_ctx *m, const char *server, const char *scenario_next_call, sb_val call_args)
{
    for (;;) {
        int64_t now = host_now_ms();
        if (!send_ready(m, server, now))
            return false;
        sb_mcp_event ev;
        while (sb_mcp_client_next_event(m->client, &ev)) {
            if (m->progress)
                print_event(&ev);
            sb_mcp_event_clear(&ev);
        }
        uint64_t id;
        sb_val res;
        bool got = false;
        while (sb_mcp_client_next_completion(m->client, &id, &res)) {
            got = true;
            if (id == m->list_id) {
                m->list_result = res;
                m->list_done = true;
                /* A scenario that calls "the tool the server offers". */
                if (scenario_next_call && res.kind == SB_MAP) {
                    const sb_val *tools = sb_map_get_str(res, "tools");
                    const sb_val *t0 = tools && sb_list_len(*tools) ? sb_list_at(*tools, 0) : NULL;
                    const sb_val *name = t0 ? sb_map_get_str(*t0, "name") : NULL;
                    if (name && name->kind == SB_STRING)
                        m->call_id = sb_mcp_client_call_tool(m->client, sb_str(*name), call_args);
                }
            } else if (id == m->call_id) {
                m->call_result = res;
                m->call_done = true;
            } else {
                sb_val_free(res);
            }
        }
        if (got)
            continue;
        bool want_list = m->list_id && !m->list_done;
        bool want_call = m->call_id && !m->call_done;
        if (!want_list && !want_call)
            return true;
        if (!http_host_in_flight(m->http) && !m->later.n && !sb_mcp_client_busy(m->client))
            return true;
        int64_t next = http_later_next(&m->later), wait = next - now < 200 ? next - now : 200;
        http_host_pump(m->http, wait < 0 ? 0 : (int)wait, on_answer, m);
    }
}

/* 3 when the server answered with an error, 4 when there was no usable answer. */
static int error_exit(sb_val err)
{
    fprintf(stderr, "sibyl: error: %s\n", sb_str(err));
    return strstr(sb_str(err), ": JSON-RPC error ") ? CLI_RUN_FAILED : CLI_INTERNAL;
}

static int report(const mcp_ctx *m, bool raw)
{
    sb_val r = m->call_id ? m->call_result : m->list_result;
    if (!(m->call_id ? m->call_done : m->list_done)) {
        fprintf(stderr, "sibyl: error: the server gave no answer\n");
        return CLI_INTERNAL;
    }
    if (r.kind == SB_ERROR)
        return error_exit(r);
    const sb_val *sc = m->call_id && !raw ? sb_map_get_str(r, "structuredContent") : NULL;
    char *json = sb_val_to_json(sc ? *sc : r, 0);
    if (!json) {
        fprintf(stderr, "sibyl: error: out of memory\n");
        return CLI_INTERNAL;
    }
    puts(json);
    sb_free(json);
    if (m->call_id && sb_mcp_result_is_error(r)) {
        sb_val text = sb_mcp_result_text(r);
        fprintf(stderr, "sibyl: error: the tool reported an error: %s\n",
                text.kind == SB_STRING && sb_str_len(text) ? sb_str(text) : "(no message)");
        sb_val_free(text);
        return CLI_RUN_FAILED;
    }
    return CLI_OK;
}

typedef struct call_args {
    const char *url, *tool, *args, *timeout, *token_env;
    const char *headers[32];
    size_t nheaders;
    bool progress, task, raw;
} call_args;

static int parse(int argc, char **argv, call_args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (cli_is_help(o)) {
            fputs(call_help, stdout);
            return -1;
        }
        bool needs = strcmp(o, "--args") == 0 || strcmp(o, "--header") == 0 || strcmp(o, "--timeout-ms") == 0 ||
                     strcmp(o, "--bearer-token-env") == 0;
        if (needs && i + 1 >= argc)
            return cli_usage_error("%s needs a value (see sibyl mcp call --help)", o);
        const char *v = needs ? argv[++i] : NULL;
        if (strcmp(o, "--args") == 0)
            a->args = v;
        else if (strcmp(o, "--timeout-ms") == 0)
            a->timeout = v;
        else if (strcmp(o, "--bearer-token-env") == 0)
            a->token_env = v;
        else if (strcmp(o, "--header") == 0) {
            if (a->nheaders == sizeof a->headers / sizeof *a->headers)
                return cli_usage_error("--header: at most %zu headers", sizeof a->headers / sizeof *a->headers);
            if (!strchr(v, ':') || v[0] == ':')
                return cli_usage_error("--header expects 'Name: value', got '%s'", v);
            a->headers[a->nheaders++] = v;
        } else if (strcmp(o, "--progress") == 0)
            a->progress = true;
        else if (strcmp(o, "--task") == 0)
            a->task = true;
        else if (strcmp(o, "--raw") == 0)
            a->raw = true;
        else if (o[0] == '-' && o[1])
            return cli_usage_error("mcp call: unknown option '%s' (see sibyl mcp call --help)", o);
        else if (!a->url)
            a->url = o;
        else if (!a->tool)
            a->tool = o;
        else
            return cli_usage_error("mcp call: unexpected argument '%s'", o);
    }
    return CLI_OK;
}

static int call(int argc, char **argv)
{
    call_args a;
    memset(&a, 0, sizeof a);
    int rc = parse(argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    const char *scenario = getenv("MCP_CONFORMANCE_SCENARIO");
    if (!a.url || (!a.tool && !(scenario && *scenario)))
        return cli_usage_error("mcp call: which server and tool? (sibyl mcp call URL TOOL [--args JSON])");
    if (strncmp(a.url, "http://", 7) != 0 && strncmp(a.url, "https://", 8) != 0)
        return cli_usage_error("mcp call: expected an http:// or https:// URL, got '%s'", a.url);
    long timeout = 30000;
    if (a.timeout) {
        char *end;
        timeout = strtol(a.timeout, &end, 10);
        if (*end || end == a.timeout || timeout < 1 || timeout > 86400000)
            return cli_usage_error("--timeout-ms expects milliseconds from 1 to 86400000, got '%s'", a.timeout);
    }
    if (!http_available()) {
        fprintf(stderr, "sibyl: error: mcp call: %s\n", http_unavailable_msg);
        return CLI_INVALID;
    }
    sb_val args = a.args ? sb_json_parse(a.args, strlen(a.args)) : sb_map_new(0);
    if (args.kind != SB_MAP) {
        fprintf(stderr, "sibyl: error: --args: expected a JSON object%s%s\n", args.kind == SB_ERROR ? ": " : "",
                args.kind == SB_ERROR ? sb_str(args) : "");
        sb_val_free(args);
        return CLI_INVALID;
    }
    const char *token = NULL;
    if (a.token_env) {
        token = getenv(a.token_env);
        if (!token || !*token) {
            fprintf(stderr, "sibyl: error: --bearer-token-env: the environment variable %s is %s\n", a.token_env,
                    token ? "empty" : "not set");
            sb_val_free(args);
            return CLI_INVALID;
        }
    }
    /* The one server, named by its URL in messages. */
    http_server srv = {(char *)a.url, (char *)a.url, timeout, (char **)a.headers, a.nheaders, (char *)token};
    http_servers servers = {&srv, 1};
    mcp_ctx m;
    memset(&m, 0, sizeof m);
    m.progress = a.progress;
    m.list_result = m.call_result = sb_null();
    m.http = http_host_new(&servers);
    m.client = sb_mcp_client_new(a.url, "sibyl", SIBYL_VERSION);
    if (!m.http || !m.client) {
        http_host_free(m.http);
        sb_mcp_client_free(m.client);
        sb_val_free(args);
        return CLI_INTERNAL;
    }
    const char *next_call = NULL;
    if (a.tool) {
        sb_mcp_call_opts opts = {a.progress, a.task ? 60000 : 0};
        m.call_id = sb_mcp_client_call_tool_ex(m.client, a.tool, args, &opts);
    } else if (strcmp(scenario, "tools_call") == 0) {
        sb_val_free(args);
        args = sb_json_parse("{\"a\":5,\"b\":3}", 13);
        m.call_id = sb_mcp_client_call_tool(m.client, "add_numbers", args);
    } else {
        m.list_id = sb_mcp_client_request(m.client, "tools/list", sb_null());
        if (strcmp(scenario, "initialize") != 0)
            next_call = "first";
    }
    if (drive(&m, a.url, next_call, args))
        rc = report(&m, a.raw);
    else {
        fprintf(stderr, "sibyl: error: out of memory\n");
        rc = CLI_INTERNAL;
    }
    /* End the session politely (DELETE), bounded. */
    sb_mcp_client_close(m.client);
    int64_t until = host_now_ms() + 1000;
    while (host_now_ms() < until && (send_ready(&m, a.url, host_now_ms()), http_host_in_flight(m.http)))
        http_host_pump(m.http, 100, on_answer, &m);
    http_later_free(&m.later);
    sb_val_free(m.list_result);
    sb_val_free(m.call_result);
    sb_val_free(args);
    http_host_free(m.http);
    sb_mcp_client_free(m.client);
    fflush(stdout);
    return rc;
}

int cli_cmd_mcp(int argc, char **argv)
{
    if (argc >= 2 && cli_is_help(argv[1])) {
        fputs(call_help, stdout);
        return CLI_OK;
    }
    if (argc < 2 || strcmp(argv[1], "call") != 0)
        return cli_usage_error("mcp: expected 'mcp call URL TOOL' (see sibyl mcp --help)");
    return call(argc - 2, argv + 2);
}
#endif
