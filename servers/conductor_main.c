/* sibyl-conductor: the Conductor's tools over Streamable HTTP. The `sim`
 * backend is the simulated cluster of core/conductor (the code the embedded
 * service runs) on a real clock: simulated time is the real time since start
 * times --time-scale, so a 2-hour job can end in seconds. Other backends
 * (local processes, Slurm) would plug in where conductor_backend is chosen.
 *
 * Besides the cluster's tools it serves wait_jobs, which answers once every
 * job of a handle has finished: the long-running tool, offered as an MCP
 * task (execution.taskSupport "optional") and, for plain callers, answered
 * over SSE polling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_slurm.h"
#include "conductor/sb_conductor_exec.h"
#include "conductor/sb_conductor_sim.h"
#include "conductor/sb_csim_active.h"
#include "config/sb_config.h"
#include "server_common.h"
#include "services/sb_services.h"

#define STATUS_SCHEMA                                                                                                  \
    "{\"type\":\"object\",\"properties\":{"                                                                            \
    "\"handle_id\":{\"type\":\"string\"},\"cursor\":{\"type\":\"string\"},\"done\":{\"type\":\"boolean\"},"            \
    "\"counts\":{\"type\":\"object\"},\"jobs\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"                  \
    "\"error\":{\"type\":\"string\"}}}"

/* Output schemas; each admits the error shape {"error": message} too. */
static const struct {
    const char *tool, *schema;
} outputs[] = {
    {"submit_jobs", "{\"type\":\"object\",\"properties\":{\"handle_id\":{\"type\":\"string\"},"
                    "\"job_ids\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
                    "\"replayed\":{\"type\":\"boolean\"},\"error\":{\"type\":\"string\"}}}"},
    {"get_jobs_status", STATUS_SCHEMA},
    {"cancel_jobs", "{\"type\":\"object\",\"properties\":{\"cancelled\":{\"type\":\"array\",\"items\":{\"type\":"
                    "\"string\"}},\"cost_usd_charged\":{\"type\":\"number\"},\"error\":{\"type\":\"string\"}}}"},
    {"wait_jobs", STATUS_SCHEMA},
};

static const sb_mcp_app_tool wait_tool = {
    "wait_jobs",
    "Waits until no job of a handle is queued or running, then answers as get_jobs_status does (every job). "
    "Long-running: call it as a task (execution.taskSupport optional) or follow the SSE stream; progress is "
    "reported as jobs finished of all jobs when the call has a progressToken.",
    "{\"type\":\"object\",\"required\":[\"handle_id\"],\"properties\":{\"handle_id\":{\"type\":\"string\"}}}",
    STATUS_SCHEMA, SB_MCP_TASK_OPTIONAL};

typedef struct conductor {
    sb_csim *sim;
    int64_t start_ms;
    double time_scale;
    slurm_backend *slurm; /* --backend slurm: the core is external, jobs run there */
} conductor;

static const char *output_schema(const char *tool)
{
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++)
        if (strcmp(outputs[i].tool, tool) == 0)
            return outputs[i].schema;
    return NULL;
}

static int64_t sim_ms(const conductor *k, int64_t now_ms)
{
    double t = (double)(now_ms - k->start_ms) * k->time_scale;
    return t <= 0 ? 0 : t >= 4e18 ? (int64_t)4e18 : (int64_t)t;
}

static double count(sb_val counts, const char *key)
{
    const sb_val *v = sb_map_get_str(counts, key);
    double d = 0;
    return v && sb_val_as_double(*v, &d) ? d : 0;
}

static sb_val wait_jobs(conductor *k, sb_mcp_call *c, sb_val args)
{
    const sb_val *h = sb_map_get_str(args, "handle_id");
    sb_val a = sb_map_new(1);
    if (h && !sb_map_set_str(&a, "handle_id", sb_val_ref(*h))) {
        sb_val_free(a);
        return sb_oom();
    }
    sb_val st = sb_csim_call(k->sim, sim_ms(k, sb_mcp_call_now(c)), "get_jobs_status", a);
    sb_val_free(a);
    const sb_val *sc = st.kind == SB_MAP ? sb_map_get_str(st, "structuredContent") : NULL;
    const sb_val *done = sc && sc->kind == SB_MAP ? sb_map_get_str(*sc, "done") : NULL;
    if (!done || done->kind != SB_BOOL || done->as.b)
        return st; /* finished, a tool error, or out of memory */
    const sb_val *counts = sb_map_get_str(*sc, "counts");
    if (counts && counts->kind == SB_MAP) {
        double total = count(*counts, "total");
        double left = count(*counts, "queued") + count(*counts, "running");
        if (!sb_mcp_call_progress(c, total - left, total, NULL)) {
            sb_val_free(st);
            return sb_oom();
        }
    }
    sb_val_free(st);
    sb_mcp_call_defer(c, false);
    return sb_null();
}

/* A real backend is brought up to date before each call (a status call
 * with one query to the cluster) and does what the call decided after it
 * (starts, kills). */
static void backend_sync(conductor *k, sb_mcp_call *c, bool query)
{
    if (k->slurm) {
        int64_t host = sb_mcp_call_now(c);
        slurm_backend_sync(k->slurm, k->sim, sim_ms(k, host), host, query);
    }
}

static sb_val conductor_tool(void *ud, sb_mcp_call *c, const char *tool, sb_val args)
{
    conductor *k = ud;
    if (fixture_is(tool))
        return fixture_call(c, tool, args);
    bool status = strcmp(tool, "get_jobs_status") == 0 || strcmp(tool, "wait_jobs") == 0;
    backend_sync(k, c, status);
    sb_val r = strcmp(tool, "wait_jobs") == 0 ? wait_jobs(k, c, args)
                                              : sb_csim_call(k->sim, sim_ms(k, sb_mcp_call_now(c)), tool, args);
    backend_sync(k, c, false);
    return r;
}

static void stopping(void *ud)
{
    conductor *k = ud;
    size_t queued, running;
    sb_csim_active(k->sim, &queued, &running);
    server_log(LOG_INFO, "in-flight jobs at exit: %zu running, %zu queued (%s; not persisted)", running, queued,
               k->slurm ? "Slurm" : "simulated");
    if (k->slurm)
        slurm_backend_cancel_all(k->slurm);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *p = realloc(buf, cap *= 2);
            if (!p) {
                free(buf);
                buf = NULL;
            }
            buf = p;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

/* The sim's options from the workspace (cost_model, simulation) and the
 * command line, which wins. false after a message. */
static bool sim_options(const char *prog, const server_opts *o, sb_csim_options *opt, sb_val *ws)
{
    sb_csim_options_init(opt);
    *ws = sb_null();
    if (o->workspace) {
        size_t len = 0;
        char *text = read_file(o->workspace, &len);
        if (!text) {
            fprintf(stderr, "%s: --workspace: cannot read %s\n", prog, o->workspace);
            return false;
        }
        sb_diags *d = sb_diags_new();
        bool ok = d && sb_config_workspace(o->workspace, text, len, d, ws);
        free(text);
        if (!ok) {
            sb_buf b = SB_BUF_INIT;
            if (d)
                sb_diags_write(d, &b);
            fprintf(stderr, "%s", d ? sb_buf_str(&b) : "out of memory\n");
            sb_buf_free(&b);
            sb_diags_free(d);
            return false;
        }
        sb_diags_free(d);
        sb_services_sim_options(*ws, opt);
        const sb_val *sim = sb_map_get_str(*ws, "simulation"), *v;
        if (sim && (v = sb_map_get_str(*sim, "seed")) && v->kind == SB_INT)
            opt->seed = (uint64_t)v->as.i;
    }
    if (o->seed_set)
        opt->seed = o->seed;
    if (o->max_concurrent)
        opt->max_concurrent = o->max_concurrent;
    return true;
}

int main(int argc, char **argv)
{
    const char *prog = "sibyl-conductor";
    server_opts o;
    int rc = server_parse(argc, argv, prog, true, &o);
    if (rc >= 0)
        return rc;
    sb_csim_options opt;
    sb_val ws;
    if (!sim_options(prog, &o, &opt, &ws)) {
        sb_val_free(ws);
        return 2;
    }
    conductor k = {.start_ms = server_now_ms(), .time_scale = o.time_scale};
    if (strcmp(o.backend, "slurm") == 0) {
        const sb_val *bk = ws.kind == SB_MAP ? sb_map_get_str(ws, "backends") : NULL;
        const sb_val *cfg = bk && bk->kind == SB_MAP ? sb_map_get_str(*bk, "slurm") : NULL;
        const sb_val *errors = ws.kind == SB_MAP ? sb_map_get_str(ws, "errors") : NULL;
        slurm_config sc = {.slurm = cfg ? *cfg : sb_null(), .errors = errors ? *errors : sb_null(),
                           .file = o.workspace, .seed = opt.seed};
        char err[1024];
        k.slurm = slurm_backend_new(&sc, err, sizeof err);
        if (!k.slurm) {
            fprintf(stderr, "%s: %s%s\n", prog, o.workspace ? "" : "--backend slurm needs --workspace: ", err);
            sb_val_free(ws);
            return 2;
        }
        opt.external = true;
        opt.time_scale = o.time_scale;
        if (!o.max_concurrent && slurm_backend_max_concurrent(k.slurm) > 0)
            opt.max_concurrent = slurm_backend_max_concurrent(k.slurm);
    }
    k.sim = sb_csim_create(&opt);
    sb_val_free(ws); /* the sim cloned what it keeps */
    size_t n = 0;
    const sb_tool_desc *desc = sb_csim_tools(&n);
    sb_mcp_app_tool *own = calloc(n + 1, sizeof *own);
    if (!own || !k.sim)
        return 1;
    for (size_t i = 0; i < n; i++)
        own[i] = (sb_mcp_app_tool){desc[i].name, desc[i].description, desc[i].input_schema_json,
                                   output_schema(desc[i].name), SB_MCP_TASK_FORBIDDEN};
    own[n++] = wait_tool;
    size_t nall = 0;
    sb_mcp_app_tool *all = server_tools(own, n, o.fixtures, &nall);
    sb_mcp_app *app = all ? sb_mcp_app_new(prog, SIBYL_VERSION, "A GPU cluster running training jobs (simulated).", all,
                                           nall, conductor_tool, &k)
                          : NULL;
    free(own);
    free(all);
    if (!app) {
        fprintf(stderr, "%s: out of memory\n", prog);
        sb_csim_free(k.sim);
        return 1;
    }
    server_log(LOG_INFO, "backend %s, time scale %g, seed %llu, %d running slots", o.backend, o.time_scale,
               (unsigned long long)opt.seed, opt.max_concurrent);
    rc = server_run(prog, &o, app, stopping, &k);
    sb_mcp_app_free(app);
    sb_csim_free(k.sim);
    slurm_backend_free(k.slurm);
    return rc;
}
