/* Engine events, requests and diagnostics written as the JSON messages the
 * JS host reads (the message shapes: sb_web_int.h). */
#include <string.h>

#include "sb_web_int.h"
#include "util/sb_alloc.h"

static void put_str(sb_buf *b, const char *s)
{
    sb_buf_json_string(b, s, strlen(s));
}

/* ,"key":value for every entry of a map (nothing for anything else). */
static void put_entries(sb_buf *b, sb_val map)
{
    if (map.kind != SB_MAP)
        return;
    for (size_t i = 0; i < sb_map_len(map); i++) {
        const sb_val *k = sb_map_key_at(map, i);
        sb_buf_putc(b, ',');
        sb_buf_json_string(b, sb_str(*k), sb_str_len(*k));
        sb_buf_putc(b, ':');
        sb_val_write_json(b, *sb_map_val_at(map, i), 0);
    }
}

void sb_web__event_json(sb_buf *b, const sb_event *ev)
{
    static const char *const types[] = {[SB_EVENT_LOG] = "log",
                                        [SB_EVENT_STREAM] = "chunk",
                                        [SB_EVENT_STEP] = "step",
                                        [SB_EVENT_POLL] = "poll",
                                        [SB_EVENT_PROGRESS] = "progress"};
    if ((unsigned)ev->kind >= sizeof types / sizeof types[0])
        return; /* a kind this host does not know yet: nothing to show */
    sb_buf_puts(b, "{\"event\":{\"type\":\"");
    sb_buf_puts(b, types[ev->kind]);
    sb_buf_puts(b, "\",\"time_ms\":");
    sb_buf_int(b, ev->time_ms);
    switch (ev->kind) {
    case SB_EVENT_LOG:
        sb_buf_puts(b, ",\"level\":\"");
        sb_buf_puts(b, sb_log_level_name(ev->level));
        sb_buf_puts(b, "\",\"message\":");
        put_str(b, ev->message);
        break;
    case SB_EVENT_STREAM:
        /* The message is the chunk's JSON text, the very line of the
         * stream file: it goes in as it is, last, so the JS host can cut
         * the line's exact text out of the message (sibyl-api.mjs). */
        sb_buf_puts(b, ",\"chunk\":");
        sb_buf_puts(b, ev->message);
        break;
    case SB_EVENT_POLL:
        put_entries(b, ev->data);
        sb_buf_puts(b, ",\"message\":");
        put_str(b, ev->message);
        break;
    case SB_EVENT_STEP:
    case SB_EVENT_PROGRESS:
        put_entries(b, ev->data);
        break;
    }
    sb_buf_puts(b, "}}\n");
}

static void put_opt(sb_buf *b, const char *key, const char *v)
{
    if (!v)
        return;
    sb_buf_printf(b, ",\"%s\":", key);
    put_str(b, v);
}

void sb_web__send_json(sb_buf *b, const sb_run_request *req, int64_t not_before_ms)
{
    sb_buf_puts(b, "{\"send\":{\"id\":");
    sb_buf_int(b, (int64_t)req->id);
    sb_buf_puts(b, ",\"server\":");
    put_str(b, req->server);
    put_opt(b, "method", req->method);
    if (req->body) {
        sb_buf_puts(b, ",\"body\":");
        sb_buf_json_string(b, req->body, req->body_len);
    }
    put_opt(b, "session_id", req->session_id);
    put_opt(b, "protocol_version", req->protocol_version);
    put_opt(b, "last_event_id", req->last_event_id);
    put_opt(b, "accept", req->accept);
    put_opt(b, "content_type", req->content_type);
    if (not_before_ms > 0) {
        sb_buf_puts(b, ",\"not_before_ms\":");
        sb_buf_int(b, not_before_ms);
    }
    sb_buf_puts(b, "}}\n");
}

/* `text` is the exact line `sibyl ... validate` prints (sb_diags_write's
 * format, so the web and the terminal never disagree), without its newline;
 * the other fields let a page place a marker without parsing that text. */
void sb_web__diag_json(sb_buf *out, const sb_diag *e)
{
    sb_buf line = SB_BUF_INIT;
    sb_diags *one = sb_diags_new();
    if (one) {
        sb_diags_add(one, e->file, e->line, e->col, "%s", e->msg);
        sb_diags_write(one, &line);
        sb_diags_free(one);
    } else {
        line.failed = true;
    }
    size_t n = line.len;
    if (n && line.data[n - 1] == '\n')
        n--;
    sb_buf_puts(out, "{\"file\":");
    put_str(out, e->file);
    sb_buf_printf(out, ",\"line\":%u,\"col\":%u,\"message\":", (unsigned)e->line, (unsigned)e->col);
    put_str(out, e->msg);
    sb_buf_puts(out, ",\"text\":");
    sb_buf_json_string(out, line.data ? line.data : "", n);
    sb_buf_putc(out, '}');
    if (sb_buf_failed(&line))
        out->failed = true; /* report OOM instead of a diagnostic with no text */
    sb_buf_free(&line);
}

void sb_web__diags_json(sb_buf *out, sb_diags *d)
{
    sb_diags_sort(d);
    sb_buf_puts(out, "{\"diagnostics\":[");
    for (size_t i = 0; i < sb_diags_count(d); i++) {
        if (i)
            sb_buf_putc(out, ',');
        sb_web__diag_json(out, sb_diags_at(d, i));
    }
    sb_buf_puts(out, "]}");
    /* A partial list would read as "fewer problems than there are". */
    if (sb_diags_oom(d))
        out->failed = true;
}

void sb_web__done_json(sb_buf *b, const char *status, int exit_code, const char *error, int64_t now)
{
    sb_buf_puts(b, "{\"done\":{\"status\":\"");
    sb_buf_puts(b, status);
    sb_buf_printf(b, "\",\"exit_code\":%d,\"time_ms\":", exit_code);
    sb_buf_int(b, now);
    if (error) {
        sb_buf_puts(b, ",\"error\":");
        sb_buf_json_string(b, error, strlen(error));
    }
    sb_buf_puts(b, "}}\n");
}
