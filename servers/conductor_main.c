/* sibyl-conductor: the Conductor's tools over Streamable HTTP. The `sim`
 * backend is the simulated cluster of core/conductor (the code the embedded
 * service runs) on a real clock: simulated time is the real time since start
 * times --time-scale, so a 2-hour job can end in seconds. The `local` and
 * `slurm` backends run real jobs (backend_local.c, backend_slurm.c) for the
 * same bookkeeping run as an external executor (sb_conductor_exec.h).
 *
 * Besides the cluster's tools it serves wait_jobs, which answers once every
 * job of a handle has finished: the long-running tool, offered as an MCP
 * task (execution.taskSupport "optional") and, for plain callers, answered
 * over SSE polling. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend_local.h"
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
    /* --backend local: the core runs as an external executor (conductor
     * time = monotonic ms since start x time scale) and the tools, on the
     * HTTP thread, and the loop's tick, on the main thread, share it and
     * the backend under one lock. */
    local_backend *local;
    slurm_backend *slurm; /* --backend slurm: the same, jobs as Slurm batch jobs */
    int64_t mono_start;
    pthread_mutex_t lock;
} conductor;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t scaled(const conductor *k, int64_t ms)
{
    double t = (double)ms * k->time_scale;
    return t <= 0 ? 0 : t >= 4e18 ? (int64_t)4e18 : (int64_t)t;
}

/* Hands the core's effects to the backend until there are none (a trial
 * that cannot start is reported at once, which may start the next). */
static void pump(conductor *k, int64_t core_now)
{
    if (k->slurm) {
        slurm_backend_sync(k->slurm, k->sim, core_now, server_now_ms(), false);
        return;
    }
    sb_csim_effect e;
    while (sb_csim_next_effect(k->sim, &e))
        local_apply(k->local, k->sim, core_now, &e, mono_ms());
}

/* The loop's tick (local backend): reap, kill what reached its cap, start
 * what may start; then sleep until the next cap deadline or kill grace, at
 * most a second. */
static int64_t local_tick(void *ud)
{
    conductor *k = ud;
    pthread_mutex_lock(&k->lock);
    int64_t now = mono_ms(), core_now = scaled(k, now - k->mono_start);
    /* slurm: no query here (state comes from one squeue per status call),
     * but jobs that reach their cap are cancelled on time */
    int64_t delay = 1000, grace = k->local ? local_poll(k->local, k->sim, core_now, now) : -1;
    sb_csim_tick(k->sim, core_now);
    pump(k, core_now);
    int64_t next = sb_csim_next_event_ms(k->sim, core_now);
    if (next >= 0) {
        double d = ceil((double)(next - core_now) / k->time_scale);
        if (d < (double)delay)
            delay = (int64_t)d;
    }
    if (grace >= 0 && grace < delay)
        delay = grace;
    pthread_mutex_unlock(&k->lock);
    return delay < 1 ? 1 : delay;
}

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
    int64_t now = k->local || k->slurm ? scaled(k, mono_ms() - k->mono_start) : sim_ms(k, sb_mcp_call_now(c));
    sb_val st = sb_csim_call(k->sim, now, "get_jobs_status", a);
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

static sb_val conductor_tool(void *ud, sb_mcp_call *c, const char *tool, sb_val args)
{
    conductor *k = ud;
    if (fixture_is(tool))
        return fixture_call(c, tool, args);
    if (!k->local && !k->slurm) {
        if (strcmp(tool, "wait_jobs") == 0)
            return wait_jobs(k, c, args);
        return sb_csim_call(k->sim, sim_ms(k, sb_mcp_call_now(c)), tool, args);
    }
    /* One line per tool call: how tests count status calls per poll. */
    const sb_val *h = args.kind == SB_MAP ? sb_map_get_str(args, "handle_id") : NULL;
    server_log(LOG_INFO, "tool %s %s", tool, h && h->kind == SB_STRING ? sb_str(*h) : "(new handle)");
    pthread_mutex_lock(&k->lock);
    int64_t core_now = scaled(k, mono_ms() - k->mono_start);
    if (k->local && strcmp(tool, "get_jobs_status") == 0)
        local_progress(k->local, k->sim); /* the trials' latest epochs, read at the status call */
    /* slurm: a status call first brings the jobs up to date, with one
     * squeue for every job in flight */
    if (k->slurm && (strcmp(tool, "get_jobs_status") == 0 || strcmp(tool, "wait_jobs") == 0))
        slurm_backend_sync(k->slurm, k->sim, core_now, server_now_ms(), true);
    sb_val r = strcmp(tool, "wait_jobs") == 0 ? wait_jobs(k, c, args) : sb_csim_call(k->sim, core_now, tool, args);
    pump(k, core_now);
    pthread_mutex_unlock(&k->lock);
    return r;
}

static void stopping(void *ud)
{
    conductor *k = ud;
    size_t queued, running;
    if (k->local) {
        pthread_mutex_lock(&k->lock);
        size_t n = local_active(k->local);
        local_stop_all(k->local);
        pthread_mutex_unlock(&k->lock);
        server_log(LOG_INFO, "stopped %zu trial process(es)", n);
    }
    if (k->slurm) {
        pthread_mutex_lock(&k->lock);
        slurm_backend_cancel_all(k->slurm);
        pthread_mutex_unlock(&k->lock);
    }
    sb_csim_active(k->sim, &queued, &running);
    server_log(LOG_INFO, "in-flight jobs at exit: %zu running, %zu queued (simulated; not persisted)", running, queued);
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

static double num(sb_val map, const char *key, double dflt)
{
    const sb_val *v = sb_map_get_str(map, key);
    double d;
    return v && sb_val_as_double(*v, &d) ? d : dflt;
}

/* --backend local: the workspace's backends.local, the work folder, the
 * backend, and the core switched to an external executor. false after a
 * message. */
static bool local_setup(const char *prog, const server_opts *o, sb_val ws, sb_csim_options *opt, conductor *k,
                        char *work_dir, size_t n)
{
    const sb_val *be = ws.kind == SB_MAP ? sb_map_get_str(ws, "backends") : NULL;
    const sb_val *lc = be && be->kind == SB_MAP ? sb_map_get_str(*be, "local") : NULL;
    if (!lc || lc->kind != SB_MAP) {
        fprintf(stderr, "%s: --backend local needs --workspace FILE with backends.local.command (docs/backends.md)\n",
                prog);
        return false;
    }
    const sb_val *wd = sb_map_get_str(*lc, "work_dir"), *mf = sb_map_get_str(*lc, "metrics_file");
    if (o->work_dir) {
        snprintf(work_dir, n, "%s", o->work_dir);
    } else if (wd && wd->kind == SB_STRING) {
        /* relative to the workspace file's folder, as outputs.dir is */
        const char *slash = strrchr(o->workspace, '/');
        if (sb_str(*wd)[0] == '/' || !slash)
            snprintf(work_dir, n, "%s", sb_str(*wd));
        else
            snprintf(work_dir, n, "%.*s/%s", (int)(slash - o->workspace), o->workspace, sb_str(*wd));
    } else {
        snprintf(work_dir, n, "sibyl-jobs-XXXXXX");
        if (!mkdtemp(work_dir)) {
            fprintf(stderr, "%s: cannot create a work folder in the current one\n", prog);
            return false;
        }
    }
    const sb_val *errors = sb_map_get_str(ws, "errors"), *cmd = sb_map_get_str(*lc, "command"),
                 *env = sb_map_get_str(*lc, "env");
    local_config c = {.command = cmd ? *cmd : sb_null(),
                      .env = env ? *env : sb_null(),
                      .errors = errors ? *errors : sb_null(),
                      .work_dir = work_dir,
                      .metrics_file = mf && mf->kind == SB_STRING ? sb_str(*mf) : "metrics.json",
                      .kill_grace_s = num(*lc, "kill_grace_s", 5),
                      .seed = opt->seed,
                      .file = o->workspace};
    char err[1024];
    if (!(k->local = local_new(&c, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return false;
    }
    opt->max_concurrent = o->max_concurrent ? o->max_concurrent : (int)num(*lc, "max_concurrent", 5);
    return true;
}

/* The jobs' folder for a real backend: --work-dir, else the backend's
 * work_dir relative to the workspace file's folder, else def. */
static void work_dir_of(const server_opts *o, sb_val cfg, const char *def, char *out, size_t n)
{
    const sb_val *wd = cfg.kind == SB_MAP ? sb_map_get_str(cfg, "work_dir") : NULL;
    const char *slash = o->workspace ? strrchr(o->workspace, '/') : NULL;
    if (o->work_dir)
        snprintf(out, n, "%s", o->work_dir);
    else if (wd && wd->kind == SB_STRING && sb_str(*wd)[0] != '/' && slash)
        snprintf(out, n, "%.*s/%s", (int)(slash - o->workspace), o->workspace, sb_str(*wd));
    else
        snprintf(out, n, "%s", wd && wd->kind == SB_STRING ? sb_str(*wd) : def);
}

/* --backend slurm: the workspace's backends.slurm, the backend, and the
 * options for the external executor. false after a message. */
static bool slurm_setup(const char *prog, const server_opts *o, sb_val ws, sb_csim_options *opt, conductor *k,
                        char *work_dir, size_t n)
{
    const sb_val *be = ws.kind == SB_MAP ? sb_map_get_str(ws, "backends") : NULL;
    const sb_val *sc = be && be->kind == SB_MAP ? sb_map_get_str(*be, "slurm") : NULL;
    if (!sc || sc->kind != SB_MAP) {
        fprintf(stderr, "%s: --backend slurm needs --workspace FILE with backends.slurm.command (docs/slurm.md)\n",
                prog);
        return false;
    }
    work_dir_of(o, *sc, ".", work_dir, n);
    const sb_val *errors = sb_map_get_str(ws, "errors");
    slurm_config c = {.slurm = *sc, .errors = errors ? *errors : sb_null(), .file = o->workspace,
                      .seed = opt->seed, .work_dir = work_dir};
    char err[1024];
    if (!(k->slurm = slurm_backend_new(&c, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return false;
    }
    snprintf(work_dir, n, "%s", slurm_backend_run_dir(k->slurm));
    opt->max_concurrent = o->max_concurrent ? o->max_concurrent : (int)num(*sc, "max_concurrent", 5);
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
    conductor k = {.start_ms = server_now_ms(), .time_scale = o.time_scale, .mono_start = mono_ms()};
    pthread_mutex_init(&k.lock, NULL);
    char work_dir[4096] = "";
    if ((strcmp(o.backend, "local") == 0 && !local_setup(prog, &o, ws, &opt, &k, work_dir, sizeof work_dir)) ||
        (strcmp(o.backend, "slurm") == 0 && !slurm_setup(prog, &o, ws, &opt, &k, work_dir, sizeof work_dir))) {
        sb_val_free(ws);
        return 2;
    }
    k.sim = k.local || k.slurm ? sb_csim_create_external(&opt, o.time_scale) : sb_csim_create(&opt);
    sb_val_free(ws); /* the sim and the backend copied what they keep */
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
        local_free(k.local);
        slurm_backend_free(k.slurm);
        return 1;
    }
    server_log(LOG_INFO, "backend %s, time scale %g, seed %llu, %d running slots%s%s", o.backend, o.time_scale,
               (unsigned long long)opt.seed, opt.max_concurrent, k.local || k.slurm ? ", jobs in " : "", work_dir);
    server_loop loop = {local_tick, &k};
    rc = server_run_loop(prog, &o, app, stopping, &k, k.local || k.slurm ? &loop : NULL);
    sb_mcp_app_free(app);
    sb_csim_free(k.sim);
    local_free(k.local);
    slurm_backend_free(k.slurm);
    pthread_mutex_destroy(&k.lock);
    return rc;
}
