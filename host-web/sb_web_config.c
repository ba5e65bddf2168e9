/* Which server answers how: the run option `mode` applied to a workspace
 * tree, and the http servers' settings handed to the JS host (which does
 * the fetch()). The tree is changed before sb_run_new, which checks it again
 * like any other, so a mode can never produce a workspace the CLI would
 * refuse. */
#include <string.h>

#include "config/sb_schema.h"
#include "sb_web_int.h"

/* The embedded service for a server name: the example's names and the
 * service names themselves. */
static const char *service_for(const char *name)
{
    if (strstr(name, "conductor"))
        return "conductor_sim";
    if (strstr(name, "solver"))
        return "solver";
    return NULL;
}

static bool set_str(sb_val *map, const char *key, const char *s)
{
    return sb_map_set_str(map, key, sb_string_cstr(s));
}

static void drop(sb_val *map, const char *key)
{
    sb_val k = sb_string_cstr(key);
    sb_map_remove(map, k); /* borrows the key */
    sb_val_free(k);
}

/* One server definition rewritten for mode; false with a diagnostic when
 * it cannot be placed, or on OOM (d says which). */
static bool place(sb_val *def, const char *name, const char *mode, sb_val urls, const char *ws_file, sb_diags *d)
{
    const sb_val *t = sb_map_get_str(*def, "transport");
    const sb_val *u = urls.kind == SB_MAP ? sb_map_get_str(urls, name) : NULL;
    bool http = t && sb_str_eq(*t, "http");
    bool ok = true;
    if (mode && strcmp(mode, "embedded") == 0 && http) {
        const char *svc = service_for(name);
        if (!svc) {
            sb_diags_add(d, ws_file, def->line, def->col,
                         "servers.%s: mode 'embedded' needs an embedded service for this server, and its name "
                         "names none (solver, conductor)",
                         name);
            return false;
        }
        static const char *const http_only[] = {"url", "timeout_ms", "headers", "bearer_token_env"};
        for (size_t i = 0; i < sizeof http_only / sizeof *http_only; i++)
            drop(def, http_only[i]);
        ok = set_str(def, "transport", "embedded") && set_str(def, "service", svc);
    } else if (mode && strcmp(mode, "servers") == 0 && !http) {
        if (!u || u->kind != SB_STRING) {
            sb_diags_add(d, ws_file, def->line, def->col,
                         "servers.%s: mode 'servers' needs a URL for this embedded server (the run option "
                         "servers: { %s: 'http://...' })",
                         name, name);
            return false;
        }
        drop(def, "service");
        ok = set_str(def, "transport", "http") && set_str(def, "url", sb_str(*u));
    } else if (u && u->kind == SB_STRING && http) {
        ok = set_str(def, "url", sb_str(*u));
    }
    if (!ok)
        sb_diags_add(d, ws_file, 0, 0, "out of memory");
    return ok;
}

bool sb_web__apply_mode(sb_val *ws, const char *ws_file, const char *mode, sb_val urls, const char *only, sb_diags *d)
{
    const sb_val *servers = sb_map_get_str(*ws, "servers");
    if (!servers || servers->kind != SB_MAP)
        return true;
    sb_val out = sb_map_new(sb_map_len(*servers));
    bool ok = out.kind == SB_MAP;
    for (size_t i = 0; ok && i < sb_map_len(*servers); i++) {
        const sb_val *key = sb_map_key_at(*servers, i);
        sb_val def = sb_val_clone(*sb_map_val_at(*servers, i));
        if (def.kind != SB_MAP) {
            sb_val_free(def);
            sb_diags_add(d, ws_file, 0, 0, "out of memory");
            ok = false;
            break;
        }
        bool mine = !only || strcmp(sb_str(*key), only) == 0;
        ok = place(&def, sb_str(*key), mine ? mode : NULL, urls, ws_file, d);
        if (!ok)
            sb_val_free(def);
        else if (!sb_map_set(&out, sb_val_ref(*key), def)) {
            sb_diags_add(d, ws_file, 0, 0, "out of memory");
            ok = false;
        }
    }
    if (!ok) {
        sb_val_free(out);
        return false;
    }
    /* The tree may be shared (the caller's): replace it with a copy. */
    sb_val copy = sb_val_clone(*ws);
    if (copy.kind != SB_MAP || !sb_map_set_str(&copy, "servers", out)) {
        if (copy.kind != SB_MAP)
            sb_val_free(out);
        sb_val_free(copy);
        sb_diags_add(d, ws_file, 0, 0, "out of memory");
        return false;
    }
    sb_val_free(*ws);
    *ws = copy;
    return true;
}

void sb_web__servers_json(sb_buf *b, sb_val ws)
{
    const sb_val *servers = sb_map_get_str(ws, "servers");
    size_t n = servers && servers->kind == SB_MAP ? sb_map_len(*servers) : 0;
    sb_buf_putc(b, '{');
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        sb_val def = *sb_map_val_at(*servers, i);
        const sb_val *t = sb_map_get_str(def, "transport");
        if (!t || !sb_str_eq(*t, "http"))
            continue;
        const sb_val *key = sb_map_key_at(*servers, i), *url = sb_map_get_str(def, "url"),
                     *tm = sb_map_get_str(def, "timeout_ms"), *hdrs = sb_map_get_str(def, "headers"),
                     *env = sb_map_get_str(def, "bearer_token_env");
        if (!first)
            sb_buf_putc(b, ',');
        first = false;
        sb_buf_json_string(b, sb_str(*key), sb_str_len(*key));
        sb_buf_puts(b, ":{\"url\":");
        sb_val_write_json(b, url ? *url : sb_null(), 0);
        /* the schema's default, as transport_servers.c reads it */
        sb_val dflt = tm ? sb_null() : sb_schema_default(&sb_schema_workspace, "servers.*.timeout_ms");
        const sb_val *tv = tm ? tm : &dflt;
        sb_buf_puts(b, ",\"timeout_ms\":");
        sb_buf_int(b, tv->kind == SB_INT ? tv->as.i : 30000);
        sb_val_free(dflt);
        sb_buf_puts(b, ",\"headers\":");
        sb_val_write_json(b, hdrs && hdrs->kind == SB_MAP ? *hdrs : sb_null(), 0);
        if (env && env->kind == SB_STRING) {
            sb_buf_puts(b, ",\"bearer_token_env\":");
            sb_val_write_json(b, *env, 0);
        }
        sb_buf_putc(b, '}');
    }
    sb_buf_putc(b, '}');
}
