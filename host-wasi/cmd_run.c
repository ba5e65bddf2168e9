/* sibyl pipeline run: drives a run with the embedded services, on a virtual
 * clock (the default: a 36-hour sweep in well under a second, every delay as
 * configured) or the real one; with HTTP servers (transport.h) on the real
 * clock, waiting on the network up to the run's next deadline. */
#include <errno.h>
#ifndef __wasi__
#include <signal.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_drive.h"
#include "cli_journal.h"
#include "cli_outdir.h"
#include "cli_resend.h"
#include "cli_run.h"
#include "transport.h"
#include "config/sb_config.h"
#include "util/sb_alloc.h"
#include "util/sb_grow.h"

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
    "  --seed N             seed of the simulation and of jitter, 0..2^64-1 (default: simulation.seed, else 42)\n"
    "  --clock virtual|real virtual (default) jumps to each deadline; real waits (always, with HTTP servers)\n"
    "  --time-scale X       with --clock real: simulated seconds per real second, 0.001..1e9 (default 1)\n"
    "  --start-time T       virtual clock start, epoch seconds or YYYY-MM-DDTHH:MM:SSZ, 1970..9999 (default: now)\n"
    "  --output-dir DIR     where result and stream files go (default: workspace outputs.dir, relative to\n"
    "                       the workspace file's folder; else the current folder); made before the run starts\n"
    "  --verbose            every poll, and what servers say (DEBUG lines)\n"
    "  --no-progress        no live progress line (also when NO_COLOR is set or stderr is no terminal)\n"
    "  --no-journal         write no journal (" CLI_JOURNAL_FILE "): the run cannot be resumed\n\n"
    "Writes the result file (sweep_output.json) at the end, also when the run fails,\n"
    "and appends one JSON line per finished job to the stream file as it happens.\n"
    "Every fact the run learns from outside goes to the journal first, so that\n"
    "`sibyl pipeline resume --output-dir DIR` can finish an interrupted run.\n"
    "exit: 0 succeeded, 1 invalid input, 2 usage, 3 the run failed or was cancelled,\n"
    "      4 the output folder or an output file could not be written (also after a failed run)\n";

typedef struct host_ctx {
    term term;
    sb_services *services;
    embedded_queue *emb;
    http_host *http; /* NULL: no server uses HTTP */
    bool oom;
    char *stream_path; /* owned; term.stream_path borrows it */
    sb_run *run;
    cli_journal journal;
    /* While a journal is replayed: HTTP requests are held in resend (sent
     * once the replay is over, unless their answer is in the journal). */
    bool replaying;
    cli_resend resend;
} host_ctx;

static void note(host_ctx *h, sb_jtype type, int64_t now)
{
    sb_jfact f = {.type = (uint8_t)type, .now_ms = now};
    cli_journal_put(&h->journal, &f);
}

static void on_send(void *ud, const sb_run_request *req)
{
    host_ctx *h = ud;
    if (h->http && http_host_has(h->http, req->server)) {
        if (h->replaying)
            cli_resend_add(&h->resend, req);
        else
            http_host_send(h->http, req);
    }
    else if (!embedded_push(h->emb, req))
        h->oom = true;
}

static void on_event(void *ud, const sb_event *ev) { term_event(&((host_ctx *)ud)->term, ev); }

static int on_write(void *ud, const char *name, const char *data, size_t len)
{
    return term_write_file(&((host_ctx *)ud)->term, name, data, len);
}

#ifndef __wasi__
static void on_http_answer(void *ud, uint64_t id, int status, const char *content_type, const char *session_id,
                           const char *body, size_t len)
{
    host_ctx *h = ud;
    /* Journaled before the run sees it: an answer cannot be asked for twice. */
    sb_jfact f = {.type = SB_J_RESPONSE, .id = id, .now_ms = host_now_ms(), .status = status,
                  .content_type = content_type, .session_id = session_id, .body = body, .body_len = len};
    cli_journal_put(&h->journal, &f);
    sb_run_on_response(h->run, id, status, content_type, session_id, body, len, f.now_ms);
}
#endif

#ifdef __wasi__
static const int interrupted = 0; /* WASI preview 1 has no signals */
#define SIGINT_NUMBER 2
#else
static volatile sig_atomic_t interrupted; /* the signal's number */
#define SIGINT_NUMBER SIGINT
static void on_signal(int sig)
{
    interrupted = sig;
}
#endif

/* The latest second sb_time_format prints with a four-digit year. */
#define LAST_EPOCH_S 253402300799LL /* 9999-12-31T23:59:59Z */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int days_in_month(int y, int mo)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mo == 2 && leap ? 29 : days[mo - 1];
}

/* Epoch seconds or YYYY-MM-DDTHH:MM:SSZ (UTC), from 1970-01-01T00:00:00Z to
 * 9999-12-31T23:59:59Z: the log prints four-digit years, and a date a
 * reader cannot check (Feb 30, hour 24, trailing text) is refused, not
 * normalized. */
static bool parse_time(const char *s, int64_t *out_ms)
{
    size_t n = strlen(s);
    if (all_digits(s, n)) {
        if (n > 12) /* more digits than LAST_EPOCH_S; also keeps strtoll in range */
            return false;
        long long secs = strtoll(s, NULL, 10);
        if (secs > LAST_EPOCH_S)
            return false;
        *out_ms = (int64_t)secs * 1000;
        return true;
    }
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (n != sizeof shape - 1)
        return false;
    for (size_t i = 0; i < n; i++)
        if (shape[i] == 'd' ? !all_digits(s + i, 1) : s[i] != shape[i])
            return false;
    int y = digits_value(s, 4), mo = digits_value(s + 5, 2), d = digits_value(s + 8, 2);
    int hh = digits_value(s + 11, 2), mm = digits_value(s + 14, 2), ss = digits_value(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || hh > 23 || mm > 59 || ss > 59)
        return false;
    /* days from civil (the inverse of sb_time_format's algorithm); y >= 1970 */
    int64_t yy = mo <= 2 ? y - 1 : y;
    int64_t era = yy / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    *out_ms = ((days * 86400) + hh * 3600 + mm * 60 + ss) * 1000;
    return true;
}

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
        /* "--output-dir --stream" is a forgotten value, not a folder name */
        if (v && (!*v || strncmp(v, "--", 2) == 0))
            return cli_usage_error("%s needs a value, got %s%s%s (see sibyl pipeline run --help)", o,
                                   *v ? "the option '" : "an empty string", v, *v ? "'" : "");
        int rc = CLI_OK;
        if (strcmp(o, "--config") == 0)
            a->config = v;
        else if (strcmp(o, "--workspace") == 0)
            a->workspace = v;
        else if (strcmp(o, "--output-dir") == 0)
            a->out_dir = v;
        else if (strcmp(o, "--start-time") == 0) {
            if (!parse_time(v, &a->start_ms))
                return cli_usage_error("--start-time expects epoch seconds or YYYY-MM-DDTHH:MM:SSZ, a valid UTC time "
                                       "from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z, got '%s'",
                                       v);
            a->start_given = true;
        } else if (strcmp(o, "--input") == 0)
            rc = cli_input_arg(&a->inputs, v);
        else if (strcmp(o, "--input-file") == 0)
            rc = cli_input_file(&a->inputs, v);
        else if (strcmp(o, "--stream") == 0)
            a->stream = true;
        else if (strcmp(o, "--verbose") == 0)
            a->verbose = true;
        else if (strcmp(o, "--no-progress") == 0)
            a->no_progress = true;
        else if (strcmp(o, "--no-journal") == 0)
            a->no_journal = true;
        else if (strcmp(o, "--seed") == 0) {
            /* digits only: strtoull alone takes " 7", "+7" and wraps "-1" */
            errno = 0;
            unsigned long long s = all_digits(v, strlen(v)) ? strtoull(v, NULL, 10) : 0;
            if (!all_digits(v, strlen(v)) || errno)
                return cli_usage_error("--seed expects an integer from 0 to %llu, got '%s'",
                                       (unsigned long long)UINT64_MAX, v);
            a->seed = s;
            a->seed_given = true;
        } else if (strcmp(o, "--clock") == 0) {
            if (strcmp(v, "virtual") != 0 && strcmp(v, "real") != 0)
                return cli_usage_error("--clock expects virtual or real, got '%s'", v);
            a->clock = v;
        } else if (strcmp(o, "--time-scale") == 0) {
            /* Bounded so that a real-clock wait (ms / scale) stays a sane
             * int64; strtod alone takes " 2", "0x10", "inf". */
            char *end;
            a->time_scale = strtod(v, &end);
            bool decimal = strchr("0123456789.", v[0]) && strspn(v, "0123456789.eE+-") == strlen(v);
            if (!decimal || *end || !(a->time_scale >= 1e-3) || a->time_scale > 1e9)
                return cli_usage_error("--time-scale expects a number from 0.001 to 1000000000, got '%s'", v);
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
    /* A scale the virtual clock would ignore is a mistake worth naming. */
    if (a->time_scale > 0 && !(a->clock && strcmp(a->clock, "real") == 0))
        return cli_usage_error("--time-scale needs --clock real (the virtual clock jumps to each deadline)");
    return CLI_OK;
}

char *cli_sibling(const char *path, const char *name)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return sb_strdup(name);
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "%.*s/%s", (int)(slash - path), path, name);
    return sb_buf_take(&b);
}

int cli_load_config(const char *path, bool workspace, sb_val ws, sb_val *out, uint64_t *hash)
{
    size_t len;
    char *text = cli_read_file(path, &len);
    if (!text)
        return CLI_INVALID;
    *hash = sb_journal_hash(*hash, text, len + 1); /* with its NUL: where one file ends */
    sb_diags *d = sb_diags_new();
    bool ok = workspace ? sb_config_workspace(path, text, len, d, out) : sb_config_pipelines(path, text, len, ws, d, out);
    cli_print_diags(d);
    sb_diags_free(d);
    sb_free(text);
    return ok ? CLI_OK : CLI_INVALID;
}

/* Before the first job: the output folder made and shown writable, the
 * stream file created (a resume keeps its complete lines and appends). A
 * failure here costs nothing yet (exit 4). */
static bool open_outputs(host_ctx *h, sb_run *run, bool resume)
{
    char *probe = term_path(h->term.out_dir, sb_run_result_file(run));
    sb_buf tmp = SB_BUF_INIT;
    /* Not the .tmp name: a complete result kept there by an earlier run
     * whose rename failed must survive this check. */
    sb_buf_printf(&tmp, "%s.probe", probe ? probe : "");
    sb_free(probe);
    if (sb_buf_failed(&tmp)) {
        fprintf(stderr, "sibyl: error: out of memory\n");
        return false;
    }
    bool ok = cli_outdir_prepare(h->term.out_dir, sb_buf_str(&tmp));
    sb_buf_free(&tmp);
    if (!ok || !sb_run_stream_file(run))
        return ok;
    char *stream_path = term_path(h->term.out_dir, sb_run_stream_file(run));
    if (!stream_path) {
        fprintf(stderr, "sibyl: error: out of memory\n");
        return false;
    }
    h->stream_path = stream_path;
    h->term.stream_path = stream_path;
    if (!cli_path_reachable(stream_path))
        return false;
    if (resume && !cli_stream_keep_lines(stream_path, &h->term.stream_skip))
        return false;
    h->term.stream_skip_total = h->term.stream_skip;
    h->term.stream_file = fopen(stream_path, resume ? "a" : "w");
    if (!h->term.stream_file) {
        fprintf(stderr, "%s: error: cannot create the stream file: %s\n", stream_path, strerror(errno));
        return false;
    }
    return true;
}

/* How long a run may go on answering after Ctrl-C or SIGTERM, so that
 * cancel_jobs reaches the servers and its answer is settled in the ledger. */
#define CANCEL_GRACE_MS 10000
/* The longest single wait: a signal is noticed within this. */
#define MAX_WAIT_MS 200

static void free_host(host_ctx *h)
{
    http_host_free(h->http);
    embedded_free(h->emb);
    sb_services_free(h->services);
    cli_resend_free(&h->resend);
    cli_journal_close(&h->journal);
}

static void cancel(host_ctx *h, const char *reason, int64_t now)
{
    sb_jfact f = {.type = SB_J_CANCEL, .now_ms = now, .body = reason, .body_len = strlen(reason)};
    cli_journal_put(&h->journal, &f);
    sb_run_cancel(h->run, reason, now);
}

static const char *signal_reason(void)
{
    return interrupted == SIGINT_NUMBER ? "interrupted (Ctrl-C)" : "terminated (SIGTERM)";
}

/* The loop with only embedded services: everything is answered at once,
 * so the clock (virtual, or real scaled) only moves between deadlines.
 * Journaled: each clock reading before the timers it fires, and a cancel;
 * the services' answers follow from the seed. */
static void loop_embedded(host_ctx *h, sb_run *run, const run_args *a, int64_t start)
{
    bool real = a->clock && strcmp(a->clock, "real") == 0;
    double scale = a->time_scale > 0 ? a->time_scale : 1.0;
    int64_t real_start = host_now_ms(), now = start;
    while (!sb_run_done(run)) {
        embedded_drain(h->emb, h->services, run, now);
        if (h->oom) {
            cancel(h, "out of memory in the host", now);
            break;
        }
        if (sb_run_done(run))
            break;
        if (interrupted) {
            cancel(h, signal_reason(), now);
            embedded_drain(h->emb, h->services, run, now);
            break;
        }
        int64_t next = sb_run_next_deadline(run);
        if (next == INT64_MAX) {
            cancel(h, "internal error: the run waits for nothing", now);
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
        note(h, SB_J_TIME, now);
        sb_run_on_time(run, now);
    }
    embedded_drain(h->emb, h->services, run, now); /* answer the last requests (e.g. cancel_jobs) */
}

#ifndef __wasi__
/* In-process answers in an HTTP run come at host times the run cannot
 * re-derive: the time is journaled before they are given. */
static void drain_noted(host_ctx *h, sb_run *run, int64_t now)
{
    if (embedded_pending(h->emb))
        note(h, SB_J_DRAIN, now);
    embedded_drain(h->emb, h->services, run, now);
}

/* The loop with HTTP servers (and maybe embedded ones): the real clock;
 * waits in curl_multi_poll up to the run's next deadline. After a signal
 * the run is cancelled and pumped on for up to CANCEL_GRACE_MS so its
 * cancel_jobs go out and their answers come back (give_up: when that grace
 * ends; INT64_MAX: no cancel yet). */
static void loop_http(host_ctx *h, sb_run *run, int64_t give_up)
{
    while (!sb_run_done(run)) {
        int64_t now = host_now_ms();
        drain_noted(h, run, now);
        if (h->oom) {
            cancel(h, "out of memory in the host", now);
            give_up = now; /* no grace: the host cannot keep up */
        }
        if (interrupted && give_up == INT64_MAX) {
            cancel(h, signal_reason(), now);
            give_up = now + CANCEL_GRACE_MS;
        }
        if (sb_run_done(run) || now >= give_up)
            break;
        if (embedded_pending(h->emb))
            continue;
        int64_t next = sb_run_next_deadline(run);
        if (next == INT64_MAX && http_host_in_flight(h->http) == 0) {
            cancel(h, "internal error: the run waits for nothing", now);
            break;
        }
        int64_t wait = next == INT64_MAX ? MAX_WAIT_MS : next - now;
        wait = wait < 0 ? 0 : wait > MAX_WAIT_MS ? MAX_WAIT_MS : wait;
        http_host_pump(h->http, (int)wait, on_http_answer, h);
        now = host_now_ms();
        if (sb_run_next_deadline(run) <= now) {
            note(h, SB_J_TIME, now);
            sb_run_on_time(run, now);
        }
    }
    drain_noted(h, run, host_now_ms());
}
#else
static void loop_http(host_ctx *h, sb_run *run, int64_t give_up) /* never called: sibyl.wasm has no HTTP host */
{
    (void)h;
    (void)run;
    (void)give_up;
}
#endif

/* Feeds the journal's facts to the run in the order the live loops gave
 * them (embedded: a drain before each; HTTP: drains where journaled),
 * with output suppressed but for stream chunks not yet in the file. Sets
 * *now to the last time fed and *cancelled when the journal holds a
 * cancel. */
static void replay(host_ctx *h, sb_run *run, const cli_resume *res, bool http, int64_t *now, bool *cancelled,
                   bool *started)
{
    h->replaying = true;
    h->term.quiet = true;
    for (size_t i = 0; i < res->n; i++) {
        const sb_jfact *f = &res->facts[i];
        if (f->type == SB_J_START) {
            *now = f->now_ms;
            *started = true;
            sb_run_start(run, f->now_ms);
            continue;
        }
        if (!http)
            embedded_drain(h->emb, h->services, run, *now);
        switch (f->type) {
        case SB_J_TIME:
            *now = f->now_ms;
            sb_run_on_time(run, f->now_ms);
            break;
        case SB_J_DRAIN:
            *now = f->now_ms;
            embedded_drain(h->emb, h->services, run, f->now_ms);
            break;
#ifndef __wasi__ /* sibyl.wasm has no HTTP runs (refused before), and leaves the HTTP answer path out */
        case SB_J_RESPONSE:
            *now = f->now_ms;
            cli_resend_drop(&h->resend, f->id);
            sb_run_on_response(run, f->id, f->status, f->content_type, f->session_id, f->body, f->body_len,
                               f->now_ms);
            break;
#endif
        case SB_J_CANCEL:
            *now = f->now_ms;
            sb_run_cancel(run, f->body, f->now_ms);
            *cancelled = true;
            if (!http)
                embedded_drain(h->emb, h->services, run, *now);
            break;
        default:
            break;
        }
    }
    h->replaying = false;
    h->term.quiet = false;
}

int cli_drive(run_args *a, sb_val ws, sb_val pl, const char *ws_path, uint64_t files_hash, const cli_resume *res)
{
    host_ctx h;
    memset(&h, 0, sizeof h);
    h.journal.fd = -1;
    http_servers servers;
    if (!http_servers_from_workspace(ws, ws_path, &servers))
        return CLI_INVALID;
    if (servers.n) {
        /* Checked before anything is submitted. */
        if (!http_available()) {
            fprintf(stderr, "sibyl: error: %s: server '%s' uses transport http: %s\n", ws_path, servers.v[0].name,
                    http_unavailable_msg);
            http_servers_free(&servers);
            return CLI_INVALID;
        }
        if (a->clock && strcmp(a->clock, "virtual") == 0) {
            int rc = cli_usage_error("--clock virtual cannot be used with HTTP servers (server '%s'): a remote "
                                     "server runs on the real clock, so the run does too",
                                     servers.v[0].name);
            http_servers_free(&servers);
            return rc;
        }
        if (a->time_scale > 0 || a->start_given) {
            http_servers_free(&servers);
            return cli_usage_error("%s cannot be used with HTTP servers: the run follows the real clock",
                                   a->time_scale > 0 ? "--time-scale" : "--start-time");
        }
    }
    const sb_val *outs = sb_map_get_str(ws, "outputs");
    const sb_val *dir = outs ? sb_map_get_str(*outs, "dir") : NULL;
    char *out_dir = cli_outdir_resolve(a->out_dir, dir ? sb_str(*dir) : NULL, ws_path);
    if (!out_dir) {
        fprintf(stderr, "sibyl: error: out of memory\n");
        http_servers_free(&servers);
        return CLI_INTERNAL;
    }
    h.term.out_dir = out_dir;
    h.term.stream = a->stream;
    h.term.verbose = a->verbose;
    h.term.progress = !a->no_progress && !getenv("NO_COLOR") && isatty(2);
    if (!a->seed_given) {
        const sb_val *sim = sb_map_get_str(ws, "simulation");
        const sb_val *s = sim ? sb_map_get_str(*sim, "seed") : NULL;
        a->seed = s && s->kind == SB_INT ? (uint64_t)s->as.i : 42;
    }
    h.services = sb_services_new(ws, a->seed);
    h.emb = embedded_new();
    if (servers.n)
        h.http = http_host_new(&servers);
    if (!h.services || !h.emb || (servers.n && !h.http)) {
        if (!servers.n || h.http)
            fprintf(stderr, "sibyl: error: out of memory\n");
        free_host(&h);
        http_servers_free(&servers);
        sb_free(out_dir);
        return CLI_INTERNAL;
    }
    if (res && (res->header->mode == SB_JMODE_HTTP) != (h.http != NULL)) {
        fprintf(stderr, "sibyl: error: the journal's run %s HTTP servers and the workspace %s: cannot resume\n",
                res->header->mode == SB_JMODE_HTTP ? "used" : "used no", h.http ? "has some" : "has none");
        free_host(&h);
        http_servers_free(&servers);
        sb_free(out_dir);
        return CLI_INVALID;
    }
    sb_host host = {SB_HOST_VERSION, &h, on_send, on_event, on_write};
    /* The run id goes into idempotency keys. With embedded services each run
     * has fresh servers and "run-<seed>" keeps runs reproducible; real
     * servers remember keys, so each run gets its own (seed and start time),
     * which a resume takes from the journal: the same keys again. */
    char run_id[64];
    if (res && res->header->run_id)
        snprintf(run_id, sizeof run_id, "%s", res->header->run_id);
    else if (h.http)
        snprintf(run_id, sizeof run_id, "run-%llu-%llx", (unsigned long long)a->seed,
                 (unsigned long long)host_now_ms());
    bool has_id = h.http || (res && res->header->run_id);
    sb_run_config cfg = {ws, pl, a->name, ws_path, a->config, a->inputs, a->seed, has_id ? run_id : NULL,
                         h.term.out_dir};
    sb_diags *d = sb_diags_new();
    sb_run *run = sb_run_new(&cfg, &host, d);
    h.run = run;
    cli_print_diags(d);
    sb_diags_free(d);
    if (!run) {
        free_host(&h);
        http_servers_free(&servers);
        sb_free(out_dir);
        return CLI_INVALID;
    }
    if (a->stream && !sb_run_stream_file(run))
        fprintf(stderr, "sibyl: warning: --stream given but the workspace disables streaming "
                        "(streaming.enabled: false): STREAM lines are printed, no stream file is written\n");
    bool opened = open_outputs(&h, run, res != NULL);
    char *jpath = opened ? term_path(h.term.out_dir, CLI_JOURNAL_FILE) : NULL;
    char *inputs_json = opened ? sb_val_to_json(a->inputs, 0) : NULL;
    bool real = a->clock && strcmp(a->clock, "real") == 0;
    if (opened && (!jpath || !inputs_json)) {
        fprintf(stderr, "sibyl: error: out of memory\n");
        opened = false;
    } else if (opened && res) {
        opened = cli_journal_reopen(&h.journal, jpath, res->good_len, h.http != NULL);
    } else if (opened && a->no_journal) {
        a->start_ms = a->start_given ? a->start_ms : host_now_ms() / 1000 * 1000;
        remove(jpath); /* an earlier run's journal must not be resumed into this run's files */
    } else if (opened) {
        a->start_ms = a->start_given ? a->start_ms : host_now_ms() / 1000 * 1000;
        double scale = a->time_scale;
        uint64_t scale_bits = 0;
        memcpy(&scale_bits, &scale, sizeof scale_bits);
        sb_jfact hdr = {.type = SB_J_HEADER,
                        .sibyl_version = SIBYL_VERSION,
                        .config_hash = cli_config_hash(files_hash, a->name, inputs_json, a->seed),
                        .pipeline = a->name,
                        .pipelines_file = a->config,
                        .workspace_file = ws_path,
                        .inputs_json = inputs_json,
                        .seed = a->seed,
                        .run_id = h.http ? run_id : NULL,
                        .mode = (uint8_t)(h.http ? SB_JMODE_HTTP : real ? SB_JMODE_REAL : SB_JMODE_VIRTUAL),
                        .time_scale = scale_bits,
                        .start_ms = a->start_ms};
        opened = cli_journal_create(&h.journal, jpath, &hdr, h.http != NULL);
    }
    sb_free(jpath);
    sb_free(inputs_json);
    if (!opened) {
        if (h.term.stream_file)
            fclose(h.term.stream_file);
        sb_free(h.stream_path);
        sb_run_free(run);
        free_host(&h);
        http_servers_free(&servers);
        sb_free(out_dir);
        return CLI_INTERNAL;
    }
#ifndef __wasi__
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
#endif
    int64_t now = 0;
    bool cancelled = false, started = false;
    if (res) {
        replay(&h, run, res, h.http != NULL, &now, &cancelled, &started);
        if (h.resend.oom)
            fprintf(stderr, "sibyl: error: out of memory\n");
        size_t resent = h.http ? h.resend.n : 0;
        for (size_t i = 0; i < resent; i++)
            http_host_send(h.http, &h.resend.v[i].req); /* in flight at the crash: their keys make this safe */
        cli_resend_free(&h.resend);
        fprintf(stderr,
                "sibyl: resumed from the journal: %zu fact%s replayed, %ld stream line%s kept, %zu request%s in "
                "flight sent again\n",
                res->n, res->n == 1 ? "" : "s", h.term.stream_skip_total, h.term.stream_skip_total == 1 ? "" : "s",
                resent, resent == 1 ? "" : "s");
    }
    if (h.http) {
        if (!started) {
            now = host_now_ms();
            note(&h, SB_J_START, now);
            sb_run_start(run, now);
        }
        if (!sb_run_done(run))
            loop_http(&h, run, cancelled ? host_now_ms() + CANCEL_GRACE_MS : INT64_MAX);
    } else {
        if (!started) {
            now = a->start_ms;
            note(&h, SB_J_START, now);
            sb_run_start(run, now);
        }
        if (!cancelled)
            loop_embedded(&h, run, a, now);
        else
            embedded_drain(h.emb, h.services, run, now);
    }
    term_clear_progress(&h.term);
    int rc = sb_run_get_status(run) == SB_RUN_SUCCEEDED ? CLI_OK : CLI_RUN_FAILED;
    if (h.term.stream_file && fclose(h.term.stream_file) != 0)
        rc = CLI_INTERNAL;
    if (h.term.write_errors)
        rc = CLI_INTERNAL;
    if (sb_run_done(run) && rc != CLI_INTERNAL && sb_run_result_written(run)) {
        /* The outputs are complete: a resume has nothing to do. */
        sb_jfact end = {.type = SB_J_END, .status = (int32_t)sb_run_get_status(run)};
        cli_journal_put(&h.journal, &end);
    }
    sb_free(h.stream_path);
    sb_free(out_dir);
    sb_run_free(run);
    free_host(&h);
    http_servers_free(&servers);
    return rc;
}

uint64_t cli_config_hash(uint64_t files_hash, const char *pipeline, const char *inputs_json, uint64_t seed)
{
    uint64_t h = sb_journal_hash(files_hash, pipeline, strlen(pipeline) + 1);
    h = sb_journal_hash(h, inputs_json, strlen(inputs_json) + 1);
    uint8_t s[8];
    for (int i = 0; i < 8; i++)
        s[i] = (uint8_t)(seed >> (8 * i));
    return sb_journal_hash(h, s, sizeof s);
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
    char *ws_path = a.workspace ? sb_strdup(a.workspace) : cli_sibling(a.config, "workspace.yaml");
    sb_val ws = sb_null(), pl = sb_null();
    uint64_t hash = SB_JOURNAL_HASH_INIT;
    rc = ws_path ? cli_load_config(ws_path, true, sb_null(), &ws, &hash) : CLI_INTERNAL;
    int rc2 = cli_load_config(a.config, false, ws, &pl, &hash);
    if (rc == CLI_OK)
        rc = rc2;
    if (rc == CLI_OK)
        rc = cli_drive(&a, ws, pl, ws_path, hash, NULL);
    sb_val_free(ws);
    sb_val_free(pl);
    sb_val_free(a.inputs);
    sb_free(ws_path);
    return rc;
}
