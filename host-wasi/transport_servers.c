/* The workspace's HTTP servers as the HTTP host needs them: URL, timeout,
 * headers, and the bearer token read from the environment variable the
 * workspace names (the token itself never appears in a file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/sb_schema.h"
#include "transport.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"


static void server_clear(http_server *s)
{
    sb_free(s->name);
    sb_free(s->url);
    for (size_t i = 0; i < s->nheaders; i++)
        sb_free(s->headers[i]);
    sb_free(s->headers);
    if (s->bearer_token) /* do not leave the secret in freed memory */
        memset(s->bearer_token, 0, strlen(s->bearer_token));
    sb_free(s->bearer_token);
}

void http_servers_free(http_servers *s)
{
    for (size_t i = 0; i < s->n; i++)
        server_clear(&s->v[i]);
    sb_free(s->v);
    s->v = NULL;
    s->n = 0;
}

static bool oom(void)
{
    fprintf(stderr, "sibyl: error: out of memory\n");
    return false;
}

/* sibyl.wasm only needs the names, to refuse the run: it reads nothing else. */
static bool read_server(const char *name, sb_val def, const char *ws_file, http_server *s)
{
#ifdef __wasi__
    (void)def;
    (void)ws_file;
    s->name = sb_strdup(name);
    return s->name ? true : oom();
#else
    const sb_val *url = sb_map_get_str(def, "url");
    const sb_val *t = sb_map_get_str(def, "timeout_ms");
    const sb_val *hdrs = sb_map_get_str(def, "headers");
    const sb_val *env = sb_map_get_str(def, "bearer_token_env");
    s->name = sb_strdup(name);
    s->url = sb_strdup(url && url->kind == SB_STRING ? sb_str(*url) : "");
    /* the default is the schema's, like every other (core/config) */
    sb_val dflt = t ? sb_null() : sb_schema_default(&sb_schema_workspace, "servers.*.timeout_ms");
    const sb_val *tv = t ? t : &dflt;
    s->timeout_ms = tv->kind == SB_INT ? (long)tv->as.i : 30000L;
    sb_val_free(dflt);
    if (!s->name || !s->url)
        return oom();
    size_t nh = hdrs && hdrs->kind == SB_MAP ? sb_map_len(*hdrs) : 0;
    if (nh) {
        s->headers = sb_calloc(nh, sizeof *s->headers);
        if (!s->headers)
            return oom();
        for (size_t i = 0; i < nh; i++) {
            const sb_val *k = sb_map_key_at(*hdrs, i), *v = sb_map_val_at(*hdrs, i);
            sb_buf b = SB_BUF_INIT;
            sb_buf_printf(&b, "%s: %s", sb_str(*k), v->kind == SB_STRING ? sb_str(*v) : "");
            s->headers[i] = sb_buf_take(&b);
            if (!s->headers[i])
                return oom();
            s->nheaders++;
        }
    }
    if (env && env->kind == SB_STRING) {
        const char *tok = getenv(sb_str(*env));
        if (!tok || !*tok) {
            fprintf(stderr,
                    "%s:%u:%u: error: servers.%s.bearer_token_env: the environment variable %s is %s; set it to "
                    "the token for %s\n",
                    ws_file, env->line, env->col, name, sb_str(*env), tok ? "empty" : "not set", s->url);
            return false;
        }
        s->bearer_token = sb_strdup(tok);
        if (!s->bearer_token)
            return oom();
    }
    return true;
#endif
}

bool http_servers_from_workspace(sb_val ws, const char *ws_file, http_servers *out)
{
    out->v = NULL;
    out->n = 0;
    const sb_val *servers = sb_map_get_str(ws, "servers");
    size_t n = servers && servers->kind == SB_MAP ? sb_map_len(*servers) : 0;
    for (size_t i = 0; i < n; i++) {
        sb_val def = *sb_map_val_at(*servers, i);
        const sb_val *t = sb_map_get_str(def, "transport");
        if (!t || !sb_str_eq(*t, "http"))
            continue;
        if (!out->v && !(out->v = sb_calloc(n, sizeof *out->v)))
            return oom();
        http_server *s = &out->v[out->n++];
        if (!read_server(sb_str(*sb_map_key_at(*servers, i)), def, ws_file, s)) {
            http_servers_free(out);
            return false;
        }
    }
    return true;
}
