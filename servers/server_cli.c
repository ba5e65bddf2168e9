/* The servers' command line and log. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_common.h"

static int log_threshold = LOG_INFO;

int64_t server_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void server_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < log_threshold)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s\n", names[level], line);
}

static void usage(FILE *f, const char *prog, bool conductor)
{
    fprintf(f,
            "usage: %s [options]\n"
            "A reference MCP server over Streamable HTTP (POST/GET/DELETE /mcp, GET /health).\n\noptions:\n"
            "  --host ADDR             address to bind (default 127.0.0.1)\n"
            "  --port N                port (default %d; 0 = any free port)\n"
            "  --allow-origin ORIGIN   a browser Origin to accept besides localhost ones (repeatable; * = any)\n"
            "  --allow-host NAME       a Host header name to accept besides localhost ones (repeatable)\n"
            "  --max-body-bytes N      largest request body (default 1048576)\n"
            "  --sse-retry-ms N        the retry an unfinished answer's stream asks for (default 1000)\n"
            "  --log-level L           debug, info, warn or error (default info)\n"
            "  --conformance-fixtures  also serve the conformance suite's fixture tools\n"
            "  --help, --version\n",
            prog, conductor ? 8080 : 8081);
    if (conductor)
        fprintf(f, "  --backend B             where jobs run: sim (the simulated cluster, default), local\n"
                   "                          (child processes running the workspace's backends.local.command)\n"
                   "                          or slurm (Slurm batch jobs: backends.slurm, docs/slurm.md)\n"
                   "  --work-dir DIR          local, slurm: the jobs' folders (default: the workspace's\n"
                   "                          backends.<name>.work_dir, else a new folder under the current one)\n"
                   "  --time-scale X          simulated (local, slurm: billed) seconds per real second (default 1)\n"
                   "  --seed N                the simulation's seed (default: the workspace's, else 0)\n"
                   "  --max-concurrent N      running slots (default: the workspace's, else 5)\n"
                   "  --workspace FILE        read cost_model and simulation settings from a workspace YAML\n");
}

static bool number(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

int server_parse(int argc, char **argv, const char *prog, bool conductor, server_opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = conductor ? 8080 : 8081;
    o->max_body = 1u << 20;
    o->log_level = LOG_INFO;
    o->retry_ms = 1000;
    o->backend = "sim";
    o->time_scale = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        bool takes = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, prog, conductor);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("%s %s\n", prog, SIBYL_VERSION);
            return 0;
        } else if (strcmp(a, "--conformance-fixtures") == 0) {
            o->fixtures = true;
            takes = false;
        } else if (!v) {
            fprintf(stderr, "%s: %s needs a value (see --help)\n", prog, a);
            return 2;
        } else if (strcmp(a, "--host") == 0) {
            o->host = v;
        } else if (strcmp(a, "--port") == 0 && number(v, 0, 65535, &d)) {
            o->port = (int)d;
        } else if (strcmp(a, "--allow-origin") == 0 && o->norigins < SERVER_MAX_ALLOW) {
            o->origins[o->norigins++] = v;
        } else if (strcmp(a, "--allow-host") == 0 && o->nhosts < SERVER_MAX_ALLOW) {
            o->hosts[o->nhosts++] = v;
        } else if (strcmp(a, "--max-body-bytes") == 0 && number(v, 64, 1 << 30, &d)) {
            o->max_body = (size_t)d;
        } else if (strcmp(a, "--sse-retry-ms") == 0 && number(v, 1, 3600000, &d)) {
            o->retry_ms = (int64_t)d;
        } else if (strcmp(a, "--log-level") == 0) {
            static const char *const names[] = {"debug", "info", "warn", "error"};
            int l = -1;
            for (int k = 0; k < 4; k++)
                if (strcmp(v, names[k]) == 0)
                    l = k;
            if (l < 0) {
                fprintf(stderr, "%s: --log-level: expected debug, info, warn or error, got '%s'\n", prog, v);
                return 2;
            }
            o->log_level = l;
        } else if (conductor && strcmp(a, "--backend") == 0) {
            if (strcmp(v, "sim") != 0 && strcmp(v, "local") != 0 && strcmp(v, "slurm") != 0) {
                fprintf(stderr, "%s: --backend: expected sim, local or slurm, got '%s'\n", prog, v);
                return 2;
            }
            o->backend = v;
        } else if (conductor && strcmp(a, "--work-dir") == 0) {
            o->work_dir = v;
        } else if (conductor && strcmp(a, "--time-scale") == 0 && number(v, 1e-3, 1e9, &d)) {
            o->time_scale = d;
        } else if (conductor && strcmp(a, "--seed") == 0 && number(v, 0, 9007199254740992.0, &d)) {
            o->seed = (uint64_t)d;
            o->seed_set = true;
        } else if (conductor && strcmp(a, "--max-concurrent") == 0 && number(v, 1, 1000000, &d)) {
            o->max_concurrent = (int)d;
        } else if (conductor && strcmp(a, "--workspace") == 0) {
            o->workspace = v;
        } else {
            fprintf(stderr, "%s: bad option or value: %s %s (see --help)\n", prog, a, v);
            return 2;
        }
        i += takes;
    }
    log_threshold = o->log_level;
    return -1;
}

sb_mcp_app_tool *server_tools(const sb_mcp_app_tool *own, size_t nown, bool fixtures, size_t *n)
{
    size_t nf = 0;
    const sb_mcp_app_tool *fx = fixtures ? fixture_tools(&nf) : NULL;
    sb_mcp_app_tool *all = calloc(nown + nf + 1, sizeof *all);
    if (!all)
        return NULL;
    memcpy(all, own, nown * sizeof *own);
    if (nf)
        memcpy(all + nown, fx, nf * sizeof *fx);
    *n = nown + nf;
    return all;
}
