/* sibyl pipeline run: drives a run with the embedded services, on a virtual
 * clock (the default: a 36-hour sweep in well under a second, every delay as
 * configured) or the real one. */
#include <errno.h>
#ifndef __wasi__
#include <signal.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "config/sb_config.h"
#include "util/sb_alloc.h"

static const char run_help[] =
    "usage: sibyl pipeline run NAME [options]\n\n"
    "Runs pipeline NAME. With embedded services (the default workspace) the\n"
    "Solver and a simulated Conductor answer in-process and a virtual clock\n"
    "jumps from one deadline to the next.\n\n"
    "options:\n"
    "  --config FILE        pipelines file (default: pipelines.yaml)\n"
    "  --workspace FILE     workspace file (default: workspace.yaml beside --config)\n"
    "  --input NAME=VALUE   an input; VALUE is read as JSON when it parses, else as text\n"
    "  --input-file FILE    a JSON object of inputs (--input wins over it)\n"
    "  --stream             also print each finished job's chunk as a STREAM line\n"
    "  --seed N             seed of the simulation and of jitter (default: simulation.seed, else 42)\n"
    "  --clock virtual|real virtual (default) jumps to each deadline; real waits\n"
    "  --time-scale X       with --clock real: simulated seconds per real second (default 1)\n"
    "  --start-time T       virtual clock start, epoch seconds or YYYY-MM-DDTHH:MM:SSZ (default: now)\n"
    "  --output-dir DIR     where result and stream files go (default: workspace outputs.dir, else .)\n"
    "  --verbose            print every poll, not only those where a job changed state\n"
    "  --no-progress        no live progress line (also when NO_COLOR is set or stderr is no terminal)\n\n"
    "Writes the result file (sweep_output.json) at the end, also when the run fails,\n"
    "and appends one JSON line per finished job to the stream file as it happens.\n"
    "exit: 0 succeeded, 1 invalid input, 2 usage, 3 the run failed or was cancelled\n";

typedef struct queued {
    char *server;
    uint64_t id;
    char *body;
    size_t len;
} queued;

typedef struct host_ctx {
    term term;
    sb_services *services;
    queued *q;
    size_t nq, cap;
    bool oom;
} host_ctx;

static void on_send(void *ud, const sb_run_request *req)
{
    host_ctx *h = ud;
    if (h->nq == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        queued *q = sb_realloc(h->q, cap * sizeof *q);
        if (!q) {
            h->oom = true;
            return;
        }
        h->q = q;
        h->cap = cap;
    }
    queued *e = &h->q[h->nq];
    e->server = sb_strdup(req->server);
    e->id = req->id;
    e->body = req->body ? sb_strndup(req->body, req->body_len) : NULL;
    e->len = req->body_len;
    if (!e->server || (req->body && !e->body)) {
        sb_free(e->server);
        sb_free(e->body);
        h->oom = true;
        return;
    }
    h->nq++;
}

static void on_event(void *ud, const sb_event *ev) { term_event(&((host_ctx *)ud)->term, ev); }

static int on_write(void *ud, const char *name, const char *data, size_t len)
{
    return term_write_file(&((host_ctx *)ud)->term, name, data, len);
}

/* Answers every queued request; the answers may queue more. */
static void deliver(host_ctx *h, sb_run *run, int64_t now)
{
    while (h->nq) {
        queued e = h->q[0];
        memmove(h->q, h->q + 1, (h->nq - 1) * sizeof *h->q);
        h->nq--;
        int status = 0;
        char *resp = NULL;
        if (sb_services_has(h->services, e.server)) {
            resp = sb_services_handle(h->services, e.server, now, e.body ? e.body : "", e.len, &status);
            sb_run_on_response(run, e.id, status, resp ? "application/json" : NULL, NULL, resp ? resp : "",
                               resp ? strlen(resp) : 0, now);
        } else {
            static const char msg[] = "no embedded service answers this server, and this build has no HTTP client";
            sb_run_on_response(run, e.id, 0, NULL, NULL, msg, sizeof msg - 1, now);
        }
        sb_free(resp);
        sb_free(e.server);
        sb_free(e.body);
    }
}

#ifdef __wasi__
static const int interrupted = 0; /* WASI preview 1 has no signals */
#else
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}
#endif

static bool parse_time(const char *s, int64_t *out_ms)
{
    char *end;
    errno = 0;
    long long secs = strtoll(s, &end, 10);
    if (*s && !*end && !errno) {
        *out_ms = secs * 1000;
        return true;
    }
    int y, mo, d, hh, mm, ss;
    char z = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &hh, &mm, &ss, &z) != 7 || z != 'Z')
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
        return false;
    /* days from civil (the inverse of sb_time_format's algorithm) */
    int64_t yy = mo <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    *out_ms = ((days * 86400) + hh * 3600 + mm * 60 + ss) * 1000;
    return true;
}

typedef struct run_args {
    const char *name, *config, *workspace, *out_dir, *clock, *start;
    bool stream, verbose, no_progress, seed_given;
    uint64_t seed;
    double time_scale;
    sb_val inputs;
} run_args;

static int parse_args(int argc, char **argv, run_args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (cli_is_help(o)) {
            fputs(run_help, stdout);
            return -1;
        }
        static const char *const with_value[] = {"--config", "--workspace", "--input", "--input-file", "--seed",
                                                 "--clock", "--time-scale", "--output-dir", "--start-time", NULL};
        bool needs = false;
        for (const char *const *w = with_value; *w; w++)
            needs |= strcmp(o, *w) == 0;
        if (needs && i + 1 >= argc)
            return cli_usage_error("%s needs a value (see sibyl pipeline run --help)", o);
        const char *v = needs ? argv[++i] : NULL;
        int rc = CLI_OK;
        if (strcmp(o, "--config") == 0)
            a->config = v;
        else if (strcmp(o, "--workspace") == 0)
            a->workspace = v;
        else if (strcmp(o, "--output-dir") == 0)
            a->out_dir = v;
        else if (strcmp(o, "--start-time") == 0)
            a->start = v;
        else if (strcmp(o, "--input") == 0)
            rc = cli_input_arg(&a->inputs, v);
        else if (strcmp(o, "--input-file") == 0)
            rc = cli_input_file(&a->inputs, v);
        else if (strcmp(o, "--stream") == 0)
            a->stream = true;
        else if (strcmp(o, "--verbose") == 0)
            a->verbose = true;
        else if (strcmp(o, "--no-progress") == 0)
            a->no_progress = true;
        else if (strcmp(o, "--seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (!*v || *end || errno || v[0] == '-')
                return cli_usage_error("--seed expects a non-negative integer, got '%s'", v);
            a->seed = s;
            a->seed_given = true;
        } else if (strcmp(o, "--clock") == 0) {
            if (strcmp(v, "virtual") != 0 && strcmp(v, "real") != 0)
                return cli_usage_error("--clock expects virtual or real, got '%s'", v);
            a->clock = v;
        } else if (strcmp(o, "--time-scale") == 0) {
            char *end;
            a->time_scale = strtod(v, &end);
            if (!*v || *end || !(a->time_scale > 0) || a->time_scale > 1e9)
                return cli_usage_error("--time-scale expects a number > 0, got '%s'", v);
        } else if (o[0] == '-')
            return cli_usage_error("pipeline run: unknown option '%s' (see sibyl pipeline run --help)", o);
        else if (!a->name)
            a->name = o;
        else
            return cli_usage_error("pipeline run: unexpected argument '%s' (one pipeline name only)", o);
        if (rc != CLI_OK)
            return rc;
    }
    if (!a->name)
        return cli_usage_error("pipeline run: which pipeline? (sibyl pipeline run NAME --config FILE)");
    return CLI_OK;
}

static char *sibling(const char *path, const char *name)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return sb_strdup(name);
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "%.*s/%s", (int)(slash - path), path, name);
    return sb_buf_take(&b);
}

static int load(const char *path, bool workspace, sb_val ws, sb_val *out)
{
    size_t len;
    char *text = cli_read_file(path, &len);
    if (!text)
        return CLI_INVALID;
    sb_diags *d = sb_diags_new();
    bool ok = workspace ? sb_config_workspace(path, text, len, d, out) : sb_config_pipelines(path, text, len, ws, d, out);
    cli_print_diags(d);
    sb_diags_free(d);
    sb_free(text);
    return ok ? CLI_OK : CLI_INVALID;
}

/* mkdir -p: the output folder may be new. */
static int make_dirs(const char *dir)
{
    char path[4096];
    if (!dir || !*dir || strlen(dir) >= sizeof path)
        return 0;
    strcpy(path, dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

static int drive(run_args *a, sb_val ws, sb_val pl, const char *ws_path)
{
    host_ctx h;
    memset(&h, 0, sizeof h);
    const sb_val *outs = sb_map_get_str(ws, "outputs");
    const sb_val *dir = outs ? sb_map_get_str(*outs, "dir") : NULL;
    h.term.out_dir = a->out_dir ? a->out_dir : dir ? sb_str(*dir) : ".";
    h.term.stream = a->stream;
    h.term.verbose = a->verbose;
    h.term.progress = !a->no_progress && !getenv("NO_COLOR") && isatty(2);
    if (!a->seed_given) {
        const sb_val *sim = sb_map_get_str(ws, "simulation");
        const sb_val *s = sim ? sb_map_get_str(*sim, "seed") : NULL;
        a->seed = s && s->kind == SB_INT ? (uint64_t)s->as.i : 42;
    }
    h.services = sb_services_new(ws, a->seed);
    if (!h.services) {
        fprintf(stderr, "sibyl: error: out of memory\n");
        return CLI_INTERNAL;
    }
    sb_host host = {SB_HOST_VERSION, &h, on_send, on_event, on_write};
    sb_run_config cfg = {ws, pl, a->name, ws_path, a->config, a->inputs, a->seed, NULL, h.term.out_dir};
    sb_diags *d = sb_diags_new();
    sb_run *run = sb_run_new(&cfg, &host, d);
    cli_print_diags(d);
    sb_diags_free(d);
    if (!run) {
        sb_services_free(h.services);
        return CLI_INVALID;
    }
    if (a->stream && !sb_run_stream_file(run))
        fprintf(stderr, "sibyl: warning: --stream given but the workspace disables streaming "
                        "(streaming.enabled: false): STREAM lines are printed, no stream file is written\n");
    if (make_dirs(h.term.out_dir) != 0) {
        fprintf(stderr, "%s: error: cannot create the output folder: %s\n", h.term.out_dir, strerror(errno));
        sb_run_free(run);
        sb_services_free(h.services);
        return CLI_INVALID;
    }
    char *stream_path = sb_run_stream_file(run) ? term_path(h.term.out_dir, sb_run_stream_file(run)) : NULL;
    if (stream_path) {
        h.term.stream_path = stream_path;
        h.term.stream_file = fopen(stream_path, "w");
        if (!h.term.stream_file) {
            fprintf(stderr, "%s: error: cannot create the stream file: %s\n", stream_path, strerror(errno));
            sb_free(stream_path);
            sb_run_free(run);
            sb_services_free(h.services);
            return CLI_INVALID;
        }
    }
#ifndef __wasi__
    signal(SIGINT, on_sigint);
#endif
    bool real = a->clock && strcmp(a->clock, "real") == 0;
    double scale = a->time_scale > 0 ? a->time_scale : 1.0;
    int64_t start = host_now_ms() / 1000 * 1000;
    if (a->start && !parse_time(a->start, &start)) {
        sb_free(stream_path);
        sb_run_free(run);
        sb_services_free(h.services);
        if (h.term.stream_file)
            fclose(h.term.stream_file);
        return cli_usage_error("--start-time expects epoch seconds or YYYY-MM-DDTHH:MM:SSZ, got '%s'", a->start);
    }
    int64_t real_start = host_now_ms(), now = start;
    sb_run_start(run, now);
    while (!sb_run_done(run)) {
        deliver(&h, run, now);
        if (h.oom) {
            sb_run_cancel(run, "out of memory in the host", now);
            break;
        }
        if (sb_run_done(run))
            break;
        if (interrupted) {
            sb_run_cancel(run, "interrupted (Ctrl-C)", now);
            deliver(&h, run, now);
            break;
        }
        int64_t next = sb_run_next_deadline(run);
        if (next == INT64_MAX) {
            sb_run_cancel(run, "internal error: the run waits for nothing", now);
            break;
        }
        if (real) {
            int64_t sim_now = start + (int64_t)((double)(host_now_ms() - real_start) * scale);
            if (next > sim_now)
                host_sleep_ms((int64_t)((double)(next - sim_now) / scale) + 1);
            now = start + (int64_t)((double)(host_now_ms() - real_start) * scale);
            if (now < next)
                continue;
        } else if (next > now) {
            now = next;
        }
        sb_run_on_time(run, now);
    }
    deliver(&h, run, now); /* answer the last requests (e.g. cancel_jobs) */
    term_clear_progress(&h.term);
    int rc = sb_run_get_status(run) == SB_RUN_SUCCEEDED ? CLI_OK : CLI_RUN_FAILED;
    if (h.term.stream_file && fclose(h.term.stream_file) != 0)
        rc = CLI_INTERNAL;
    if (h.term.write_errors)
        rc = CLI_INTERNAL;
    for (size_t i = 0; i < h.nq; i++) {
        sb_free(h.q[i].server);
        sb_free(h.q[i].body);
    }
    sb_free(h.q);
    sb_free(stream_path);
    sb_run_free(run);
    sb_services_free(h.services);
    return rc;
}

int cli_pipeline_run(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    a.inputs = sb_map_new(0);
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK) {
        sb_val_free(a.inputs);
        return rc < 0 ? CLI_OK : rc;
    }
    if (!a.config)
        a.config = "pipelines.yaml";
    char *ws_path = a.workspace ? sb_strdup(a.workspace) : sibling(a.config, "workspace.yaml");
    sb_val ws = sb_null(), pl = sb_null();
    rc = ws_path ? load(ws_path, true, sb_null(), &ws) : CLI_INTERNAL;
    int rc2 = load(a.config, false, ws, &pl);
    if (rc == CLI_OK)
        rc = rc2;
    if (rc == CLI_OK)
        rc = drive(&a, ws, pl, ws_path);
    sb_val_free(ws);
    sb_val_free(pl);
    sb_val_free(a.inputs);
    sb_free(ws_path);
    return rc;
}
