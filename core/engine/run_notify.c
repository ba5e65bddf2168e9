/* What servers say on their own (MCP notifications on a call's stream)
 * becomes run events: notifications/progress and notifications/message are
 * DEBUG log lines naming the server, with the details in the event's data
 * ({server, kind: "progress"|"log", ...}) so a host can show progress in
 * its progress line. Anything else a server sends is dropped. */
#include <string.h>

#include "../util/sb_alloc.h"
#include "run_int.h"

static void put(sb_val *m, const char *key, const sb_val *v)
{
    if (v)
        sb_map_set_str(m, key, sb_val_ref(*v));
}

static void progress(sb_run *r, const char *server, sb_val params)
{
    const sb_val *p = sb_map_get_str(params, "progress"), *tot = sb_map_get_str(params, "total");
    const sb_val *msg = sb_map_get_str(params, "message");
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "server '%s': progress ", server);
    if (p)
        sb_val_write_json(&b, *p, 0);
    if (tot) {
        sb_buf_putc(&b, '/');
        sb_val_write_json(&b, *tot, 0);
    }
    if (msg && msg->kind == SB_STRING)
        sb_buf_printf(&b, ": %s", sb_str(*msg));
    sb_val d = sb_map_new(5);
    sb_map_set_str(&d, "server", sb_string_cstr(server));
    sb_map_set_str(&d, "kind", sb_string_cstr("progress"));
    put(&d, "progress", p);
    put(&d, "total", tot);
    put(&d, "message", msg);
    sb_run__event(r, SB_EVENT_LOG, SB_LOG_DEBUG, sb_buf_failed(&b) ? "out of memory" : sb_buf_str(&b), d);
    sb_val_free(d);
    sb_buf_free(&b);
}

/* notifications/message {level, logger?, data}: data is any JSON value. */
static void server_log(sb_run *r, const char *server, sb_val params)
{
    const sb_val *lvl = sb_map_get_str(params, "level"), *logger = sb_map_get_str(params, "logger");
    const sb_val *data = sb_map_get_str(params, "data");
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "server '%s'", server);
    if (logger && logger->kind == SB_STRING)
        sb_buf_printf(&b, " (%s)", sb_str(*logger));
    sb_buf_printf(&b, " %s: ", lvl && lvl->kind == SB_STRING ? sb_str(*lvl) : "log");
    if (data && data->kind == SB_STRING)
        sb_buf_puts(&b, sb_str(*data));
    else if (data)
        sb_val_write_json(&b, *data, 0);
    sb_val d = sb_map_new(5);
    sb_map_set_str(&d, "server", sb_string_cstr(server));
    sb_map_set_str(&d, "kind", sb_string_cstr("log"));
    put(&d, "level", lvl);
    put(&d, "logger", logger);
    put(&d, "data", data);
    sb_run__event(r, SB_EVENT_LOG, SB_LOG_DEBUG, sb_buf_failed(&b) ? "out of memory" : sb_buf_str(&b), d);
    sb_val_free(d);
    sb_buf_free(&b);
}

void sb_run__server_event(sb_run *r, const char *server, const sb_mcp_event *ev)
{
    if (ev->method.kind != SB_STRING || ev->params.kind != SB_MAP)
        return;
    if (sb_str_eq(ev->method, "notifications/progress"))
        progress(r, server, ev->params);
    else if (sb_str_eq(ev->method, "notifications/message"))
        server_log(r, server, ev->params);
}
