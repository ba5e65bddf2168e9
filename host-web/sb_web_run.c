/* sb_web_run: `sibyl pipeline run` for the JS host (see sb_web_run.h). The
 * loops are cmd_run.c's, cut into calls: the JS host yields to its event
 * loop between them instead of sleeping or polling sockets. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/sb_config.h"
#include "sb_web_int.h"
#include "sb_web_run.h"
#include "transport.h"
#include "util/sb_alloc.h"
#include "util/sb_grow.h"
#include "json/sb_json.h"

typedef struct file_list {
    char **text;
    size_t n, cap;
} file_list;

static void files_clear(file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        sb_free(l->text[i]);
    sb_free(l->text);
    memset(l, 0, sizeof *l);
}

struct sb_web_run {
    sb_services *services;
    embedded_queue *emb;
    sb_run *run;
    sb_val ws, pl; /* the trees the run borrows */
    sb_buf out;    /* messages for the JS host */
    /* File texts, kept out of the messages: a 10,000-trial result is
     * megabytes, which JSON escaping and parsing would double. `pending`
     * fills during a call; sb_web_run_take hands it over as `taken`, whose
     * texts sb_web_run_file reads until the next take. */
    file_list pending, taken;
    bool virtual_clock;
    bool oom;         /* the host ran out of memory */
    bool oom_handled; /* ... and the run was cancelled for it */
    bool finished;    /* "done" is queued */
    int64_t now;
};

/* --- the host table ------------------------------------------------------ */

static void on_send(void *ud, const sb_run_request *req)
{
    sb_web_run *w = ud;
    if (sb_services_has(w->services, req->server)) {
        if (!embedded_push(w->emb, req))
            w->oom = true;
    } else {
        sb_web__send_json(&w->out, req, 0);
    }
}

/* The stream file is the JS host's to assemble: a "chunk" event carries the
 * line's exact text (sb_web__event_json), and "start" names the file. */
static void on_event(void *ud, const sb_event *ev)
{
    sb_web__event_json(&((sb_web_run *)ud)->out, ev);
}

/* Files live in the JS host's memory: a write cannot fail but for OOM.
 * The message names the slot of the text (sb_web_run_file). */
static int on_write(void *ud, const char *name, const char *data, size_t len)
{
    sb_web_run *w = ud;
    char *copy = sb_strndup(data, len);
    if (!copy || !SB_GROW(w->pending.text, w->pending.cap, w->pending.n + 1)) {
        sb_free(copy);
        return -1;
    }
    w->pending.text[w->pending.n] = copy;
    sb_buf_puts(&w->out, "{\"file\":{\"name\":");
    sb_buf_json_string(&w->out, name, strlen(name));
    sb_buf_printf(&w->out, ",\"slot\":%zu}}\n", w->pending.n++);
    return sb_buf_failed(&w->out) ? -1 : 0;
}

/* --- creating ------------------------------------------------------------ */

/* The run could not start: its diagnostics, then "done" whose error is the
 * first diagnostic's line as the CLI prints it. */
static void refuse(sb_web_run *w, sb_diags *d, int exit_code, int64_t now)
{
    sb_web__diags_json(&w->out, d);
    sb_buf_putc(&w->out, '\n');
    sb_buf first = SB_BUF_INIT;
    if (sb_diags_count(d)) {
        sb_diags_write(d, &first);
        char *nl = first.data ? memchr(first.data, '\n', first.len) : NULL;
        if (nl) {
            *nl = '\0';
            first.len = (size_t)(nl - first.data);
        }
    }
    sb_web__done_json(&w->out, "failed", exit_code, first.len ? sb_buf_str(&first) : "the run could not start", now);
    sb_buf_free(&first);
    w->finished = true;
}

static const char *opt_str(sb_val opts, const char *key)
{
    const sb_val *v = sb_map_get_str(opts, key);
    return v && v->kind == SB_STRING ? sb_str(*v) : NULL;
}

/* The options JSON is written by sibyl-api.mjs, which checks types first:
 * what fails here is reported, not trusted. */
static bool read_seed(sb_val opts, sb_val ws, uint64_t *seed, sb_diags *d)
{
    const char *s = opt_str(opts, "seed");
    if (s) {
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (!*s || *end || errno || s[0] < '0' || s[0] > '9') {
            sb_diags_add(d, "<options>", 0, 0, "seed expects an integer from 0 to %llu, got '%s'",
                         (unsigned long long)UINT64_MAX, s);
            return false;
        }
        *seed = v;
        return true;
    }
    const sb_val *sim = sb_map_get_str(ws, "simulation");
    const sb_val *sv = sim ? sb_map_get_str(*sim, "seed") : NULL;
    *seed = sv && sv->kind == SB_INT ? (uint64_t)sv->as.i : 42; /* the CLI's default */
    return true;
}

static const char *first_http_server(sb_val ws)
{
    const sb_val *servers = sb_map_get_str(ws, "servers");
    for (size_t i = 0; servers && servers->kind == SB_MAP && i < sb_map_len(*servers); i++) {
        const sb_val *t = sb_map_get_str(*sb_map_val_at(*servers, i), "transport");
        if (t && sb_str_eq(*t, "http"))
            return sb_str(*sb_map_key_at(*servers, i));
    }
    return NULL;
}

/* The part of sb_web_run_new after the texts loaded: options, services, the
 * run. Returns the exit code of a refusal (diagnostics in d), 0 when the
 * run started. */
static int start(sb_web_run *w, sb_val opts, const char *ws_file, const char *pl_file, sb_diags *d)
{
    const char *mode = opt_str(opts, "mode"), *clock = opt_str(opts, "clock"), *pipeline = opt_str(opts, "pipeline");
    const sb_val *urls = sb_map_get_str(opts, "servers"), *inputs = sb_map_get_str(opts, "inputs");
    if (!sb_web__apply_mode(&w->ws, ws_file, mode, urls ? *urls : sb_null(), NULL, d))
        return SB_WEB_EXIT_USAGE;
    const char *http = first_http_server(w->ws);
    if (http && clock && strcmp(clock, "virtual") == 0) {
        sb_diags_add(d, ws_file, 0, 0,
                     "clock 'virtual' cannot be used with HTTP servers (server '%s'): a remote server runs on the "
                     "real clock, so the run does too",
                     http);
        return SB_WEB_EXIT_USAGE;
    }
    w->virtual_clock = !http && !(clock && strcmp(clock, "real") == 0);
    uint64_t seed;
    if (!read_seed(opts, w->ws, &seed, d))
        return SB_WEB_EXIT_USAGE;
    w->services = sb_services_new(w->ws, seed);
    w->emb = embedded_new();
    if (!w->services || !w->emb) {
        sb_diags_add(d, "<host>", 0, 0, "out of memory");
        return SB_WEB_EXIT_INVALID;
    }
    static const sb_host table = {SB_HOST_VERSION, NULL, on_send, on_event, on_write};
    sb_host host = table;
    host.ud = w;
    /* As the CLI: fresh embedded servers make "run-<seed>" reproducible;
     * real servers remember idempotency keys, so each run gets its own. */
    char run_id[64];
    if (http)
        snprintf(run_id, sizeof run_id, "run-%llu-%llx", (unsigned long long)seed, (unsigned long long)w->now);
    sb_run_config cfg = {
        .workspace = w->ws,
        .pipelines = w->pl,
        .pipeline = pipeline ? pipeline : "",
        .workspace_file = ws_file,
        .pipelines_file = pl_file,
        .inputs = inputs ? *inputs : sb_null(),
        .seed = seed,
        .run_id = http ? run_id : NULL,
    };
    w->run = sb_run_new(&cfg, &host, d);
    if (!w->run)
        return SB_WEB_EXIT_INVALID;
    sb_buf_puts(&w->out, "{\"start\":{\"seed\":\"");
    sb_buf_printf(&w->out, "%llu\",\"virtual\":%s,\"result_file\":", (unsigned long long)seed,
                  w->virtual_clock ? "true" : "false");
    const char *rf = sb_run_result_file(w->run), *sf = sb_run_stream_file(w->run);
    sb_buf_json_string(&w->out, rf, strlen(rf));
    sb_buf_puts(&w->out, ",\"stream_file\":");
    if (sf)
        sb_buf_json_string(&w->out, sf, strlen(sf));
    else
        sb_buf_puts(&w->out, "null");
    sb_buf_puts(&w->out, ",\"servers\":");
    sb_web__servers_json(&w->out, w->ws);
    sb_buf_puts(&w->out, "}}\n");
    sb_run_start(w->run, w->now);
    return 0;
}

sb_web_run *sb_web_run_new(const char *ws_file, const char *ws_text, size_t ws_len, const char *pl_file,
                           const char *pl_text, size_t pl_len, const char *opts_text, size_t opts_len)
{
    sb_web_run *w = sb_calloc(1, sizeof *w);
    sb_diags *d = sb_diags_new();
    if (!w || !d) {
        sb_free(w);
        sb_diags_free(d);
        return NULL;
    }
    w->ws = w->pl = sb_null();
    ws_file = ws_file ? ws_file : "workspace.yaml";
    pl_file = pl_file ? pl_file : "pipelines.yaml";
    sb_val opts = sb_json_parse(opts_text ? opts_text : "", opts_text ? opts_len : 0);
    const sb_val *start_ms = opts.kind == SB_MAP ? sb_map_get_str(opts, "start_ms") : NULL;
    double t0 = 0;
    if (start_ms)
        sb_val_as_double(*start_ms, &t0);
    w->now = (int64_t)t0;
    int rc = 0;
    if (opts.kind != SB_MAP) {
        sb_diags_add(d, "<options>", 0, 0, "the run options are not a JSON object");
        rc = SB_WEB_EXIT_USAGE;
    } else {
        /* Both files are checked, so every problem shows at once (as the CLI). */
        bool ok = sb_config_workspace(ws_file, ws_text ? ws_text : "", ws_text ? ws_len : 0, d, &w->ws);
        ok = sb_config_pipelines(pl_file, pl_text ? pl_text : "", pl_text ? pl_len : 0, w->ws, d, &w->pl) && ok;
        rc = ok ? start(w, opts, ws_file, pl_file, d) : SB_WEB_EXIT_INVALID;
    }
    if (rc)
        refuse(w, d, rc, w->now);
    sb_val_free(opts);
    sb_diags_free(d);
    return w;
}

void sb_web_run_free(sb_web_run *w)
{
    if (!w)
        return;
    sb_run_free(w->run);
    embedded_free(w->emb);
    sb_services_free(w->services);
    sb_val_free(w->ws);
    sb_val_free(w->pl);
    sb_buf_free(&w->out);
    files_clear(&w->pending);
    files_clear(&w->taken);
    sb_free(w);
}

int sb_web_run_virtual(const sb_web_run *w)
{
    return w && w->virtual_clock;
}

/* --- driving ------------------------------------------------------------- */

/* Answers up to max queued embedded requests (their answers may queue
 * more, answered in the same call while max lasts). */
static void drain_some(sb_web_run *w, size_t max)
{
    embedded_drain_some(w->emb, w->services, w->run, w->now, max);
    if (w->oom || sb_buf_failed(&w->out)) {
        /* What could not be queued is gone: stop spending. */
        w->oom = true;
        sb_buf_reset(&w->out);
        w->out.failed = false;
        if (!w->oom_handled) {
            w->oom_handled = true;
            sb_run_cancel(w->run, "out of memory in the host", w->now);
            embedded_drain(w->emb, w->services, w->run, w->now);
        }
    }
}

static void drain(sb_web_run *w)
{
    drain_some(w, SIZE_MAX);
}

/* Once the run is over: "done". */
static void finish(sb_web_run *w)
{
    if (w->finished || !w->run || !sb_run_done(w->run))
        return;
    w->finished = true;
    sb_run_status st = sb_run_get_status(w->run);
    sb_web__done_json(&w->out, sb_run_status_name(st), st == SB_RUN_SUCCEEDED ? 0 : SB_WEB_EXIT_RUN_FAILED,
                      st == SB_RUN_SUCCEEDED ? NULL : sb_run_error(w->run), w->now);
}

static int state(sb_web_run *w)
{
    finish(w);
    if (w->finished)
        return 0;
    return w->virtual_clock ? 1 : 2;
}

int sb_web_run_advance(sb_web_run *w, double now_ms, int max_steps)
{
    if (!w || !w->run || w->finished)
        return 0;
    if (w->virtual_clock) {
        /* cmd_run.c's loop_embedded, max_steps turns at a time, a turn being
         * one answer or one jump of the clock: a burst of answers (plan a
         * 10,000-trial grid, submit it, ...) spreads over several calls.
         * The order is the loop's: every queued answer, oldest first, before
         * the clock moves. */
        for (int i = 0; i < max_steps && !sb_run_done(w->run); i++) {
            if (embedded_pending(w->emb)) {
                drain_some(w, 1);
                continue;
            }
            int64_t next = sb_run_next_deadline(w->run);
            if (next == INT64_MAX) {
                sb_run_cancel(w->run, "internal error: the run waits for nothing", w->now);
                drain(w);
                break;
            }
            if (next > w->now)
                w->now = next;
            sb_run_on_time(w->run, w->now);
        }
        if (sb_run_done(w->run))
            drain(w); /* the last answers (cancel_jobs), as the CLI */
        return state(w);
    }
    if ((int64_t)now_ms > w->now)
        w->now = (int64_t)now_ms;
    drain(w);
    if (!sb_run_done(w->run) && sb_run_next_deadline(w->run) <= w->now) {
        sb_run_on_time(w->run, w->now);
        drain(w);
    }
    if (!sb_run_done(w->run) && sb_run_next_deadline(w->run) == INT64_MAX && sb_run_in_flight(w->run) == 0) {
        sb_run_cancel(w->run, "internal error: the run waits for nothing", w->now);
        drain(w);
    }
    return state(w);
}

double sb_web_run_next_deadline(const sb_web_run *w)
{
    int64_t t = w && w->run ? sb_run_next_deadline(w->run) : INT64_MAX;
    return t == INT64_MAX ? SB_WEB_NO_DEADLINE : (double)t;
}

void sb_web_run_on_response(sb_web_run *w, double id, int status, const char *content_type, const char *session_id,
                            const char *body, size_t len, double now_ms)
{
    if (!w || !w->run || w->finished)
        return;
    if ((int64_t)now_ms > w->now && !w->virtual_clock)
        w->now = (int64_t)now_ms;
    sb_run_on_response(w->run, (uint64_t)id, status, content_type, session_id, body ? body : "", body ? len : 0,
                       w->now);
    drain(w);
    finish(w);
}

void sb_web_run_cancel(sb_web_run *w, const char *reason, double now_ms)
{
    if (!w || !w->run || w->finished)
        return;
    if ((int64_t)now_ms > w->now && !w->virtual_clock)
        w->now = (int64_t)now_ms;
    sb_run_cancel(w->run, reason && *reason ? reason : "cancelled", w->now);
    drain(w);
    finish(w);
}

char *sb_web_run_take(sb_web_run *w)
{
    if (!w)
        return NULL;
    files_clear(&w->taken);
    w->taken = w->pending;
    memset(&w->pending, 0, sizeof w->pending);
    return w->out.len ? sb_buf_take(&w->out) : NULL;
}

const char *sb_web_run_file(const sb_web_run *w, int slot)
{
    return w && slot >= 0 && (size_t)slot < w->taken.n ? w->taken.text[slot] : NULL;
}
