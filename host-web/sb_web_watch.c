/* sb_web_watch: see sb_web_watch.h. */
#include <stdio.h>
#include <string.h>

#include "config/sb_config.h"
#include "config/sb_schema.h"
#include "engine/sb_handle.h"
#include "sb_web_int.h"
#include "sb_web_watch.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

struct sb_web_watch {
    sb_handle_watch *watch;
    char *server; /* the handle's server */
    sb_buf out;
    int errors;   /* polls in a row that failed */
    bool polling; /* a poll is unanswered */
    bool finished;
    int64_t now;
};

static void refuse(sb_web_watch *w, sb_diags *d)
{
    sb_web__diags_json(&w->out, d);
    sb_buf_putc(&w->out, '\n');
    sb_diags_sort(d);
    const char *first = sb_diags_count(d) ? sb_diags_at(d, 0)->msg : "the watch could not start";
    sb_web__done_json(&w->out, "failed", SB_WEB_EXIT_INVALID, first, w->now);
    w->finished = true;
}

/* "key":n with the workspace's value or the schema's default */
static void polling_field(sb_buf *b, sb_val ws, const char *key, bool first)
{
    const sb_val *p = sb_map_get_str(ws, "polling");
    const sb_val *v = p ? sb_map_get_str(*p, key) : NULL;
    char path[64];
    snprintf(path, sizeof path, "polling.%s", key);
    sb_val dflt = v ? sb_null() : sb_schema_default(&sb_schema_workspace, path);
    sb_buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    sb_val_write_json(b, v ? *v : dflt, 0);
    sb_val_free(dflt);
}

/* {"start": {server, servers: {...}, polling: {...}}} */
static void start_json(sb_web_watch *w, sb_val ws)
{
    sb_buf *b = &w->out;
    sb_buf_puts(b, "{\"start\":{\"server\":");
    sb_buf_json_string(b, w->server, strlen(w->server));
    sb_buf_puts(b, ",\"servers\":");
    sb_web__servers_json(b, ws);
    sb_buf_puts(b, ",\"polling\":{");
    polling_field(b, ws, "initial_delay_ms", true);
    polling_field(b, ws, "max_delay_ms", false);
    polling_field(b, ws, "multiplier", false);
    sb_buf_puts(b, "}}}\n");
}

static int start(sb_web_watch *w, const char *handle_json, size_t handle_len, sb_val ws, const char *ws_file,
                 sb_val urls, sb_diags *d)
{
    sb_val h = sb_json_parse(handle_json ? handle_json : "", handle_json ? handle_len : 0);
    const sb_val *server = h.kind == SB_MAP ? sb_map_get_str(h, "server") : NULL;
    if (server && server->kind == SB_STRING)
        w->watch = sb_handle_watch_new(h);
    if (!w->watch) {
        sb_diags_add(d, "<handle>", 0, 0,
                     "not a PollableJobHandle: expected {\"$type\": \"PollableJobHandle\", \"server\", "
                     "\"handle_id\", ...} as a call step with handle: produces it");
        sb_val_free(h);
        return SB_WEB_EXIT_INVALID;
    }
    w->server = sb_strdup(sb_str(*server));
    sb_val_free(h);
    if (!w->server) {
        sb_diags_add(d, "<host>", 0, 0, "out of memory");
        return SB_WEB_EXIT_INVALID;
    }
    /* The handle's server must be reachable over HTTP: an embedded service
     * here would be a fresh one that never saw the handle. */
    sb_val http = sb_val_ref(ws);
    bool ok = sb_web__apply_mode(&http, ws_file, "servers", urls, w->server, d);
    if (ok) {
        const sb_val *servers = sb_map_get_str(http, "servers");
        if (!servers || !sb_map_get_str(*servers, w->server)) {
            sb_diags_add(d, ws_file, 0, 0, "the handle's server '%s' is not in the workspace", w->server);
            ok = false;
        } else {
            start_json(w, http);
        }
    }
    sb_val_free(http);
    return ok ? 0 : SB_WEB_EXIT_INVALID;
}

sb_web_watch *sb_web_watch_new(const char *handle_json, size_t handle_len, const char *ws_file, const char *ws_text,
                               size_t ws_len, const char *servers_json, size_t servers_len, double now_ms)
{
    sb_web_watch *w = sb_calloc(1, sizeof *w);
    sb_diags *d = sb_diags_new();
    if (!w || !d) {
        sb_free(w);
        sb_diags_free(d);
        return NULL;
    }
    w->now = (int64_t)now_ms;
    ws_file = ws_file ? ws_file : "workspace.yaml";
    sb_val ws = sb_null();
    sb_val urls = servers_json ? sb_json_parse(servers_json, servers_len) : sb_null();
    int rc = SB_WEB_EXIT_INVALID;
    if (sb_config_workspace(ws_file, ws_text ? ws_text : "", ws_text ? ws_len : 0, d, &ws))
        rc = start(w, handle_json, handle_len, ws, ws_file, urls, d);
    if (rc)
        refuse(w, d);
    sb_val_free(urls);
    sb_val_free(ws);
    sb_diags_free(d);
    return w;
}

void sb_web_watch_free(sb_web_watch *w)
{
    if (!w)
        return;
    sb_handle_watch_free(w->watch);
    sb_free(w->server);
    sb_buf_free(&w->out);
    sb_free(w);
}

/* Every request the watcher has ready goes to the JS host. */
static void pump(sb_web_watch *w)
{
    sb_mcp_request r;
    while (sb_handle_watch_next_request(w->watch, w->now, &r)) {
        sb_run_request req = {w->server,  r.id,          r.method,           r.body,
                              r.body_len, r.session_id,  r.protocol_version, r.last_event_id,
                              r.accept,   r.content_type};
        sb_web__send_json(&w->out, &req, r.not_before_ms);
    }
}

int sb_web_watch_poll(sb_web_watch *w, double now_ms)
{
    if (!w || !w->watch || w->finished || w->polling)
        return 0;
    if ((int64_t)now_ms > w->now)
        w->now = (int64_t)now_ms;
    if (!sb_handle_watch_poll(w->watch))
        return 0;
    w->polling = true;
    pump(w);
    return 1;
}

/* ,"queued":n,... from the status's counts */
static void counts_fields(sb_buf *b, sb_val counts)
{
    for (size_t i = 0; counts.kind == SB_MAP && i < sb_map_len(counts); i++) {
        const sb_val *k = sb_map_key_at(counts, i);
        sb_buf_putc(b, ',');
        sb_buf_json_string(b, sb_str(*k), sb_str_len(*k));
        sb_buf_putc(b, ':');
        sb_val_write_json(b, *sb_map_val_at(counts, i), 0);
    }
}

static int64_t count(sb_val counts, const char *key)
{
    const sb_val *v = sb_map_get_str(counts, key);
    return v && v->kind == SB_INT ? v->as.i : 0;
}

/* After an answered poll: the jobs it finished, then poll, progress, and
 * maybe done. */
static void report(sb_web_watch *w)
{
    sb_buf *b = &w->out;
    int64_t changed = 0;
    sb_val job;
    while (sb_handle_watch_next_result(w->watch, &job)) {
        sb_buf_puts(b, "{\"event\":{\"type\":\"chunk\",\"time_ms\":");
        sb_buf_int(b, w->now);
        sb_buf_puts(b, ",\"chunk\":");
        sb_val_write_json(b, job, 0);
        sb_buf_puts(b, "}}\n");
        sb_val_free(job);
        changed++;
    }
    sb_val st = sb_handle_watch_status(w->watch);
    const sb_val *counts = sb_map_get_str(st, "counts"), *polls = sb_map_get_str(st, "polls"),
                 *done = sb_map_get_str(st, "done"), *err = sb_map_get_str(st, "error");
    sb_val c = counts ? *counts : sb_null();
    const char *error = err && err->kind == SB_STRING ? sb_str(*err) : NULL;
    int64_t n = polls && polls->kind == SB_INT ? polls->as.i : 0;
    w->errors = error ? w->errors + 1 : 0;
    if (error) {
        sb_buf_puts(b, "{\"event\":{\"type\":\"log\",\"time_ms\":");
        sb_buf_int(b, w->now);
        sb_buf_printf(b, ",\"level\":\"WARN\",\"message\":");
        sb_buf_json_string(b, error, strlen(error));
        sb_buf_puts(b, "}}\n");
    }
    sb_buf_puts(b, "{\"event\":{\"type\":\"poll\",\"time_ms\":");
    sb_buf_int(b, w->now);
    sb_buf_printf(b, ",\"step\":null,\"poll\":%lld,\"delay_ms\":0,\"counts\":", (long long)n);
    sb_val_write_json(b, c, 0);
    sb_buf_printf(b, ",\"changed\":%lld,\"message\":", (long long)changed);
    sb_buf msg = SB_BUF_INIT;
    sb_buf_printf(&msg, "Poll %lld: %lld completed, %lld running, %lld queued, %lld failed%s%s", (long long)n,
                  (long long)count(c, "completed"), (long long)count(c, "running"), (long long)count(c, "queued"),
                  (long long)count(c, "failed"), error ? "; " : "", error ? error : "");
    sb_buf_json_string(b, sb_buf_str(&msg), msg.len);
    sb_buf_free(&msg);
    sb_buf_puts(b, "}}\n");
    if (!error) {
        int64_t fin = count(c, "completed") + count(c, "failed") + count(c, "cancelled");
        sb_buf_puts(b, "{\"event\":{\"type\":\"progress\",\"time_ms\":");
        sb_buf_int(b, w->now);
        sb_buf_puts(b, ",\"done\":");
        sb_buf_int(b, fin);
        counts_fields(b, c);
        sb_buf_puts(b, "}}\n");
    }
    if (done && done->kind == SB_BOOL && done->as.b) {
        sb_web__done_json(b, "succeeded", SB_WEB_EXIT_OK, NULL, w->now);
        w->finished = true;
    } else if (w->errors >= SB_WEB_WATCH_MAX_ERRORS) {
        sb_buf e = SB_BUF_INIT;
        sb_buf_printf(&e, "%d polls in a row failed; the last: %s", w->errors, error);
        sb_web__done_json(b, "failed", SB_WEB_EXIT_RUN_FAILED, sb_buf_str(&e), w->now);
        sb_buf_free(&e);
        w->finished = true;
    }
    sb_val_free(st);
}

void sb_web_watch_on_response(sb_web_watch *w, double id, int status, const char *content_type, const char *session_id,
                              const char *body, size_t len, double now_ms)
{
    if (!w || !w->watch || w->finished)
        return;
    if ((int64_t)now_ms > w->now)
        w->now = (int64_t)now_ms;
    sb_handle_watch_on_response(w->watch, (uint64_t)id, status, content_type, session_id, body ? body : "",
                                body ? len : 0, w->now);
    pump(w);
    sb_val st = sb_handle_watch_status(w->watch);
    const sb_val *in_flight = sb_map_get_str(st, "in_flight");
    bool busy = in_flight && in_flight->kind == SB_BOOL && in_flight->as.b;
    sb_val_free(st);
    if (w->polling && !busy) {
        w->polling = false;
        report(w);
    }
}

void sb_web_watch_stop(sb_web_watch *w, double now_ms)
{
    if (!w || w->finished)
        return;
    if ((int64_t)now_ms > w->now)
        w->now = (int64_t)now_ms;
    sb_web__done_json(&w->out, "cancelled", SB_WEB_EXIT_RUN_FAILED, "stopped", w->now);
    w->finished = true;
}

char *sb_web_watch_take(sb_web_watch *w)
{
    if (!w || !w->out.len)
        return NULL;
    return sb_buf_take(&w->out);
}
