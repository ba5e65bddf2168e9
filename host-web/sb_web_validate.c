/* sibyl.validate(): a workspace and a pipelines file checked together, as
 * `sibyl workspace validate` and `sibyl pipeline validate` check them, plus
 * what a page needs to offer a run: each pipeline's inputs and its steps
 * (kind and needs: the DAG). */
#include <string.h>

#include "config/sb_config.h"
#include "sb_web_int.h"
#include "util/sb_alloc.h"

char *sb_web_validate(const char *ws_file, const char *ws_text, size_t ws_len, const char *pl_file, const char *pl_text,
                      size_t pl_len);

/* The step kinds, by the key that makes a step one (core/spec). */
static const char *const kinds[] = {"call", "poll", "aggregate", "select", "compute", "assert", "retry", "suggest"};

static void put_key(sb_buf *b, sb_val k)
{
    sb_buf_json_string(b, sb_str(k), sb_str_len(k));
}

/* ,"key":value when map has key */
static void copy_field(sb_buf *b, sb_val map, const char *key)
{
    const sb_val *v = sb_map_get_str(map, key);
    if (!v)
        return;
    sb_buf_printf(b, ",\"%s\":", key);
    sb_val_write_json(b, *v, 0);
}

static void inputs_json(sb_buf *b, sb_val def)
{
    const sb_val *in = sb_map_get_str(def, "inputs");
    size_t n = in && in->kind == SB_MAP ? sb_map_len(*in) : 0;
    sb_buf_puts(b, "\"inputs\":[");
    for (size_t i = 0; i < n; i++) {
        sb_val d = *sb_map_val_at(*in, i);
        sb_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        put_key(b, *sb_map_key_at(*in, i));
        static const char *const fields[] = {"type", "default", "description", "minimum", "maximum", "enum"};
        for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
            copy_field(b, d, fields[f]);
        sb_buf_putc(b, '}');
    }
    sb_buf_putc(b, ']');
}

static void steps_json(sb_buf *b, sb_val def)
{
    const sb_val *st = sb_map_get_str(def, "steps");
    size_t n = st && st->kind == SB_MAP ? sb_map_len(*st) : 0;
    sb_buf_puts(b, "\"steps\":[");
    for (size_t i = 0; i < n; i++) {
        sb_val d = *sb_map_val_at(*st, i);
        const char *kind = "?";
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
            if (sb_map_get_str(d, kinds[k]))
                kind = kinds[k];
        sb_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        put_key(b, *sb_map_key_at(*st, i));
        sb_buf_printf(b, ",\"kind\":\"%s\",\"needs\":", kind);
        const sb_val *needs = sb_map_get_str(d, "needs");
        if (needs && needs->kind == SB_LIST)
            sb_val_write_json(b, *needs, 0);
        else
            sb_buf_puts(b, "[]");
        copy_field(b, d, "on");
        copy_field(b, d, "description");
        sb_buf_putc(b, '}');
    }
    sb_buf_putc(b, ']');
}

static void pipelines_json(sb_buf *b, sb_val pl)
{
    const sb_val *p = sb_map_get_str(pl, "pipelines");
    size_t n = p && p->kind == SB_MAP ? sb_map_len(*p) : 0;
    sb_buf_puts(b, "\"pipelines\":[");
    for (size_t i = 0; i < n; i++) {
        sb_val def = *sb_map_val_at(*p, i);
        sb_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        put_key(b, *sb_map_key_at(*p, i));
        copy_field(b, def, "description");
        sb_buf_putc(b, ',');
        inputs_json(b, def);
        sb_buf_putc(b, ',');
        steps_json(b, def);
        sb_buf_putc(b, '}');
    }
    sb_buf_putc(b, ']');
}

/* Returns {"ok", "diagnostics": [...], "pipelines": [...]} (sb_web_free);
 * pipelines is empty unless the pipelines file is valid. NULL on OOM. */
char *sb_web_validate(const char *ws_file, const char *ws_text, size_t ws_len, const char *pl_file, const char *pl_text,
                      size_t pl_len)
{
    sb_diags *d = sb_diags_new();
    if (!d)
        return NULL;
    ws_file = ws_file ? ws_file : "workspace.yaml";
    pl_file = pl_file ? pl_file : "pipelines.yaml";
    sb_val ws = sb_null(), pl = sb_null();
    bool ok = sb_config_workspace(ws_file, ws_text ? ws_text : "", ws_text ? ws_len : 0, d, &ws);
    bool pl_ok = sb_config_pipelines(pl_file, pl_text ? pl_text : "", pl_text ? pl_len : 0, ws, d, &pl);
    sb_buf out = SB_BUF_INIT;
    sb_buf_printf(&out, "{\"ok\":%s,", ok && pl_ok ? "true" : "false");
    sb_buf diags = SB_BUF_INIT;
    sb_web__diags_json(&diags, d); /* {"diagnostics":[...]}: its inside goes in */
    if (sb_buf_failed(&diags))
        out.failed = true;
    else
        sb_buf_append(&out, diags.data + 1, diags.len - 2);
    sb_buf_free(&diags);
    sb_buf_putc(&out, ',');
    pipelines_json(&out, pl_ok ? pl : sb_null());
    sb_buf_putc(&out, '}');
    sb_val_free(ws);
    sb_val_free(pl);
    sb_diags_free(d);
    return sb_buf_take(&out);
}
