/* `sibyl handle` over HTTP (native builds; see cmd_handle.c). A Conductor
 * handle is polled by sb_handle_watch with the workspace's backoff, one
 * status call at a time; an MCP task is followed by sb_mcp_client at the
 * server's pollInterval. Lines look like a pipeline run's, and a watch writes
 * the same stream file (one chunk per finished job, flushed per line). */
#ifndef __wasi__
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_outdir.h"
#include "cli_run.h"
#include "cmd_handle_http.h"
#include "config/sb_schema.h"
#include "engine/sb_handle.h"
#include "mcp/sb_mcp_client.h"
#include "sched/sb_backoff.h"
#include "sched/sb_rng.h"
#include "spec/sb_spec.h"
#include "transport.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"
#include "util/sb_grow.h"

typedef struct follow {
    const char *server;
    const char *text; /* the handle as given, for messages */
    http_host *http;
    sb_handle_watch *w; /* a conductor_handle */
    sb_mcp_client *c;   /* an mcp_task */
    http_later later;
    bool oom;
    term t;
} follow;

static void on_answer(void *ud, uint64_t id, int status, const char *ct, const char *sid, const char *body, size_t len)
{
    follow *f = ud;
    if (f->w)
        sb_handle_watch_on_response(f->w, id, status, ct, sid, body, len, host_now_ms());
    else
        sb_mcp_client_on_response(f->c, id, status, ct, sid, body, len, host_now_ms());
}

/* Sends what the session wants sent now; keeps copies of delayed requests
 * (a task's next tasks/get waits for its pollInterval). */
static void send_ready(follow *f, int64_t now)
{
    sb_mcp_request q;
    while (f->w ? sb_handle_watch_next_request(f->w, now, &q) : sb_mcp_client_next_request(f->c, now, &q))
        if (!http_later_send(&f->later, f->http, f->server, &q, now)) {
            f->oom = true;
            return;
        }
    http_later_send_due(&f->later, f->http, now);
}

static bool busy(const follow *f)
{
    return f->w ? sb_handle_watch_busy(f->w) : sb_mcp_client_busy(f->c);
}

/* Moves requests and answers until the session has nothing unanswered, or
 * until `until` (host time) when it is not 0: a wait between polls. */
static void pump(follow *f, int64_t until)
{
    for (;;) {
        int64_t now = host_now_ms();
        send_ready(f, now);
        bool waiting = busy(f) || http_host_in_flight(f->http) || f->later.n;
        if (f->oom || (until ? now >= until && !waiting : !waiting))
            return;
        int64_t wait = until && !waiting ? until - now : 200;
        if (http_later_next(&f->later) - now < wait)
            wait = http_later_next(&f->later) - now;
        if (wait > 200)
            wait = 200;
        if (!http_host_in_flight(f->http) && wait > 0)
            host_sleep_ms(wait);
        else
            http_host_pump(f->http, wait < 0 ? 0 : (int)wait, on_answer, f);
    }
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
say(follow *f, sb_log_level level, const char *fmt, ...)
{
    sb_buf b = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    sb_event ev = {SB_EVENT_LOG, host_now_ms(), level, sb_buf_failed(&b) ? "out of memory" : sb_buf_str(&b), sb_null()};
    term_event(&f->t, &ev);
    sb_buf_free(&b);
}

static void usd(sb_buf *b, double x)
{
    sb_buf_printf(b, "%.2f", x);
}

/* A failed status call: the server refused the handle (1 on the first
 * answer: an unknown id), refused later (3), or gave no answer (4). */
static int status_error(follow *f, const char *err, bool first)
{
    bool refused = strstr(err, ": tool error: ") || strstr(err, "JSON-RPC error");
    fprintf(stderr, "sibyl: error: handle '%s' on server %s: %s\n", f->text, f->server, err);
    return !refused ? CLI_INTERNAL : first ? CLI_INVALID : CLI_RUN_FAILED;
}

/* --- Conductor handles --- */

/* The watcher's status after its last answer; *err its error or NULL. */
static sb_val look(follow *f, const char **err)
{
    sb_val st = sb_handle_watch_status(f->w);
    const sb_val *e = sb_map_get_str(st, "error");
    *err = e && e->kind == SB_STRING ? sb_str(*e) : NULL;
    return st;
}

static int64_t count(sb_val st, const char *key)
{
    const sb_val *c = sb_map_get_str(st, "counts");
    const sb_val *v = c ? sb_map_get_str(*c, key) : NULL;
    return v && v->kind == SB_INT ? v->as.i : 0;
}

static int conductor_status(follow *f)
{
    if (!sb_handle_watch_poll(f->w))
        return CLI_INTERNAL;
    pump(f, 0);
    const char *err;
    sb_val st = look(f, &err);
    int rc = CLI_OK;
    if (err) {
        rc = status_error(f, err, true);
    } else {
        sb_val fin = sb_list_new(0);
        sb_val job;
        while (sb_handle_watch_next_result(f->w, &job)) {
            sb_list_push(&fin, sb_handle_chunk(job));
            sb_val_free(job);
        }
        sb_map_set_str(&st, "finished", fin);
        char *json = sb_val_to_json(st, 0);
        if (!json)
            rc = CLI_INTERNAL;
        else
            puts(json);
        sb_free(json);
    }
    sb_val_free(st);
    return rc;
}

/* Hands out the jobs that finished since the last answer; their costs are
 * added to *cost. */
static void stream_finished(follow *f, double *cost, size_t *n)
{
    sb_val job;
    while (sb_handle_watch_next_result(f->w, &job)) {
        sb_val chunk = sb_handle_chunk(job);
        sb_val_free(job);
        char *json = chunk.kind == SB_MAP ? sb_val_to_json(chunk, 0) : NULL;
        const sb_val *c = sb_map_get_str(chunk, "cost_usd");
        double x = 0;
        if (c && sb_val_as_double(*c, &x))
            *cost += x;
        if (json) {
            sb_event ev = {SB_EVENT_STREAM, host_now_ms(), SB_LOG_STREAM, json, chunk};
            term_event(&f->t, &ev);
            ++*n;
        } else {
            f->oom = true;
        }
        sb_free(json);
        sb_val_free(chunk);
    }
}

static int conductor_watch(follow *f, sb_val ws)
{
    sb_spec_polling pol = sb_spec_workspace_polling(ws);
    sb_rng rng;
    sb_rng_seed(&rng, 1);
    say(f, SB_LOG_INFO,
        "Watching handle %s (backoff %lldms x%g up to %lldms; stall after %d polls that fail or "
        "show nothing running or changing)",
        f->text, (long long)pol.backoff.initial_ms, pol.backoff.multiplier, (long long)pol.backoff.max_ms,
        pol.max_attempts);
    double cost = 0;
    size_t finished = 0, last_finished = 0;
    int no_progress = 0;
    for (uint32_t polls = 0;; polls++) {
        int64_t delay = polls ? sb_backoff_delay(&pol.backoff, polls - 1, &rng) : 0;
        if (delay)
            pump(f, host_now_ms() + delay);
        if (!sb_handle_watch_poll(f->w))
            return CLI_INTERNAL;
        pump(f, 0);
        const char *err;
        sb_val st = look(f, &err);
        if (err && polls == 0) {
            int rc = status_error(f, err, true);
            sb_val_free(st);
            return rc;
        }
        if (err)
            say(f, SB_LOG_WARN, "Poll #%u of handle %s failed: %s", polls + 1, f->text, err);
        stream_finished(f, &cost, &finished);
        if (f->oom) {
            sb_val_free(st);
            fprintf(stderr, "sibyl: error: out of memory\n");
            return CLI_INTERNAL;
        }
        bool changed = finished != last_finished;
        last_finished = finished;
        if (!err)
            say(f, SB_LOG_INFO,
                "Poll #%u - Jobs status (delay: %lldms): running %lld, queued %lld, completed %lld, "
                "failed %lld",
                polls + 1, (long long)delay, (long long)count(st, "running"), (long long)count(st, "queued"),
                (long long)count(st, "completed"), (long long)count(st, "failed"));
        const sb_val *done = sb_map_get_str(st, "done");
        bool all = !err && done && done->kind == SB_BOOL && done->as.b;
        no_progress = err || (!changed && count(st, "running") == 0) ? no_progress + 1 : 0;
        int64_t total = count(st, "total"), ok = count(st, "completed"), bad = count(st, "failed"),
                cancelled = count(st, "cancelled");
        sb_val_free(st);
        if (all) {
            sb_buf m = SB_BUF_INIT;
            sb_buf_printf(&m,
                          "Handle %s: all %lld jobs finished: %lld completed, %lld failed, %lld cancelled; "
                          "their cost $",
                          f->text, (long long)total, (long long)ok, (long long)bad, (long long)cancelled);
            usd(&m, cost);
            say(f, SB_LOG_SUCCESS, "%s", sb_buf_str(&m));
            sb_buf_free(&m);
            return f->t.write_errors ? CLI_INTERNAL : CLI_OK;
        }
        if (no_progress >= pol.max_attempts) {
            say(f, SB_LOG_ERROR,
                "Handle %s stalled: %d polls in a row without progress (polling.max_attempts); "
                "%zu finished jobs streamed",
                f->text, no_progress, finished);
            return CLI_RUN_FAILED;
        }
    }
}

static int conductor_cancel(follow *f)
{
    if (!sb_handle_watch_cancel(f->w))
        return CLI_INTERNAL;
    pump(f, 0);
    sb_val r = sb_handle_watch_cancelled(f->w);
    if (r.kind == SB_ERROR)
        return status_error(f, sb_str(r), true);
    const sb_val *ids = sb_map_get_str(r, "cancelled");
    size_t n = ids && ids->kind == SB_LIST ? sb_list_len(*ids) : 0;
    say(f, SB_LOG_INFO, "Cancelled %zu unfinished job%s of handle %s", n, n == 1 ? "" : "s", f->text);
    /* One status call without a cursor: every job, the cancelled ones with
     * what they were charged. */
    if (!sb_handle_watch_poll(f->w))
        return CLI_INTERNAL;
    pump(f, 0);
    const char *err;
    sb_val st = look(f, &err);
    if (err) {
        int rc = status_error(f, err, false);
        sb_val_free(st);
        return rc;
    }
    sb_val_free(st);
    double partial = 0, all = 0;
    size_t reported = 0;
    sb_val job;
    while (sb_handle_watch_next_result(f->w, &job)) {
        sb_val chunk = sb_handle_chunk(job);
        const sb_val *id = sb_map_get_str(job, "job_id"), *c = sb_map_get_str(chunk, "cost_usd"),
                     *d = sb_map_get_str(chunk, "duration_seconds");
        double x = 0, secs = 0;
        if (c)
            sb_val_as_double(*c, &x);
        if (d)
            sb_val_as_double(*d, &secs);
        all += x;
        bool now = false;
        for (size_t k = 0; id && k < n; k++)
            now = now || sb_val_equal(*sb_list_at(*ids, k), *id);
        if (now) {
            sb_buf m = SB_BUF_INIT;
            sb_buf_printf(&m, "Job %s cancelled after %gs: partial cost $", sb_str(*id), secs);
            usd(&m, x);
            say(f, SB_LOG_WARN, "%s", sb_buf_str(&m));
            sb_buf_free(&m);
            partial += x;
            reported++;
        }
        sb_val_free(chunk);
        sb_val_free(job);
    }
    sb_buf m = SB_BUF_INIT;
    sb_buf_printf(&m, "Handle %s cancelled: %zu job%s stopped, their partial costs $", f->text, reported,
                  reported == 1 ? "" : "s");
    usd(&m, partial);
    sb_buf_puts(&m, "; every job of the handle cost $");
    usd(&m, all);
    say(f, SB_LOG_SUCCESS, "%s", sb_buf_str(&m));
    sb_buf_free(&m);
    return CLI_OK;
}

/* --- MCP tasks --- */

/* Waits for call's completion: the result, or an error value. */
static sb_val complete(follow *f, uint64_t call)
{
    sb_val res = sb_errorf("the server gave no answer");
    bool got = false;
    while (!got) {
        pump(f, 0);
        uint64_t id;
        sb_val r;
        bool any = false;
        while (sb_mcp_client_next_completion(f->c, &id, &r)) {
            any = true;
            if (id == call && !got) {
                sb_val_free(res);
                res = r;
                got = true;
            } else {
                sb_val_free(r);
            }
        }
        sb_mcp_event ev;
        while (sb_mcp_client_next_event(f->c, &ev))
            sb_mcp_event_clear(&ev);
        if (!any && !busy(f))
            break;
    }
    return res;
}

static int task_print(follow *f, sb_val r, bool result)
{
    if (r.kind == SB_ERROR)
        return status_error(f, sb_str(r), true);
    const sb_val *sc = result ? sb_map_get_str(r, "structuredContent") : NULL;
    char *json = sb_val_to_json(sc ? *sc : r, 0);
    if (!json)
        return CLI_INTERNAL;
    if (!result) {
        puts(json);
    } else {
        say(f, sb_mcp_result_is_error(r) ? SB_LOG_ERROR : SB_LOG_SUCCESS, "Task %s %s; its result: %s", f->text,
            sb_mcp_result_is_error(r) ? "failed" : "completed", json);
    }
    sb_free(json);
    return result && sb_mcp_result_is_error(r) ? CLI_RUN_FAILED : CLI_OK;
}

static int task_verb(follow *f, const char *verb, const char *id)
{
    if (strcmp(verb, "watch") == 0) {
        say(f, SB_LOG_INFO, "Watching task %s (tasks/get at the server's pollInterval, then tasks/result)", f->text);
        sb_val r = complete(f, sb_mcp_client_follow_task(f->c, id));
        int rc = task_print(f, r, true);
        sb_val_free(r);
        return rc;
    }
    sb_val p = sb_map_new(1);
    sb_map_set_str(&p, "taskId", sb_string_cstr(id));
    uint64_t call = sb_mcp_client_request(f->c, strcmp(verb, "cancel") == 0 ? "tasks/cancel" : "tasks/get", p);
    sb_val_free(p);
    sb_val r = complete(f, call);
    int rc = task_print(f, r, false);
    sb_val_free(r);
    return rc;
}

/* --- the command --- */

static bool open_stream(follow *f, sb_val ws, const char *ws_path, const char *out_arg, char **out_dir, char **path)
{
    const sb_val *streaming = sb_map_get_str(ws, "streaming"), *outs = sb_map_get_str(ws, "outputs");
    const sb_val *en = streaming ? sb_map_get_str(*streaming, "enabled") : NULL;
    const sb_val *file = streaming ? sb_map_get_str(*streaming, "file") : NULL;
    const sb_val *dir = outs ? sb_map_get_str(*outs, "dir") : NULL;
    if (en && en->kind == SB_BOOL && !en->as.b)
        return true;
    sb_val dflt = file ? sb_null() : sb_schema_default(&sb_schema_workspace, "streaming.file");
    const char *name = file && file->kind == SB_STRING ? sb_str(*file)
                       : dflt.kind == SB_STRING        ? sb_str(dflt)
                                                       : "sweep_output_stream.jsonl";
    *out_dir = cli_outdir_resolve(out_arg, dir && dir->kind == SB_STRING ? sb_str(*dir) : NULL, ws_path);
    *path = *out_dir ? term_path(*out_dir, name) : NULL;
    sb_val_free(dflt);
    if (!*path || !cli_outdir_prepare(*out_dir, NULL))
        return false;
    f->t.stream_file = fopen(*path, "w");
    f->t.stream_path = *path;
    if (!f->t.stream_file) {
        fprintf(stderr, "%s: error: cannot create the stream file: %s\n", *path, strerror(errno));
        return false;
    }
    return true;
}

int handle_follow(const char *verb, const char *text, sb_val h, sb_val ws, const char *ws_path, const char *out_arg,
                  bool stream)
{
    follow f;
    memset(&f, 0, sizeof f);
    f.server = sb_handle_field(h, "server", "?");
    f.text = text;
    f.t.stream = stream;
    http_servers servers;
    if (!http_servers_from_workspace(ws, ws_path, &servers))
        return CLI_INVALID;
    bool task = sb_handle_kind_of(h) == SB_HANDLE_MCP_TASK;
    f.http = http_host_new(&servers);
    if (task) {
        f.c = sb_mcp_client_new(f.server, "sibyl", SIBYL_VERSION);
        const char *session = sb_handle_field(h, "session", NULL);
        if (f.c && session && !sb_mcp_client_use_session(f.c, session, NULL)) {
            sb_mcp_client_free(f.c);
            f.c = NULL;
        }
    } else
        f.w = sb_handle_watch_new(h);
    char *out_dir = NULL, *path = NULL;
    int rc;
    if (!f.http || (!f.c && !f.w)) {
        fprintf(stderr, "sibyl: error: out of memory\n");
        rc = CLI_INTERNAL;
    } else if (!task && strcmp(verb, "watch") == 0 && !open_stream(&f, ws, ws_path, out_arg, &out_dir, &path)) {
        rc = CLI_INTERNAL;
    } else if (task) {
        rc = task_verb(&f, verb, sb_handle_field(h, "id", ""));
    } else {
        rc = strcmp(verb, "status") == 0  ? conductor_status(&f)
             : strcmp(verb, "watch") == 0 ? conductor_watch(&f, ws)
                                          : conductor_cancel(&f);
    }
    if (f.oom && rc == CLI_OK)
        rc = CLI_INTERNAL;
    if (f.t.stream_file && fclose(f.t.stream_file) != 0 && rc == CLI_OK)
        rc = CLI_INTERNAL;
    /* End the session politely (DELETE), bounded. */
    if (f.c)
        sb_mcp_client_close(f.c);
    if (f.http) {
        int64_t until = host_now_ms() + 1000;
        while (f.c && host_now_ms() < until && (send_ready(&f, host_now_ms()), http_host_in_flight(f.http)))
            http_host_pump(f.http, 100, on_answer, &f);
    }
    http_later_free(&f.later);
    sb_free(out_dir);
    sb_free(path);
    sb_handle_watch_free(f.w);
    sb_mcp_client_free(f.c);
    http_host_free(f.http);
    http_servers_free(&servers);
    return rc;
}
#endif
