/* The C side of the Emscripten module: a handful of plain functions that
 * host-web/sibyl-api.mjs calls through the exports listed in exports.txt.
 *
 * The boundary is kept to pointers, sizes and NUL-terminated UTF-8 strings so
 * the JS glue stays thin and no JS object ever lives in C. Everything a
 * function returns is allocated with the core's allocator and released by
 * sb_web_free(), so memory accounting set up with sb_alloc_set() sees it. */
#include <stddef.h>
#include <string.h>

#include "config/sb_config.h"
#include "config/sb_yaml.h"
#include "sb_web_int.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"
#include "util/sb_diag.h"
#include "value/sb_value.h"

/* The ABI. No EMSCRIPTEN_KEEPALIVE: what is exported is decided by
 * exports.txt alone (the link keeps exactly what it lists). */
const char *sb_web_version(void);
void *sb_web_alloc(size_t size);
void sb_web_free(void *p);
char *sb_web_yaml_to_json(const char *file, const char *text, size_t len);
char *sb_web_workspace_to_json(const char *file, const char *text, size_t len);

/* Static: the caller must not free it. */
const char *sb_web_version(void)
{
    return SIBYL_VERSION;
}

/* JS needs somewhere to put the strings it passes in; going through the
 * core's allocator (not a raw malloc export) keeps one allocator for both
 * directions. Zero-size requests still return a freeable pointer. */
void *sb_web_alloc(size_t size)
{
    return sb_malloc(size ? size : 1);
}

void sb_web_free(void *p)
{
    sb_free(p);
}

/* sb_yaml_load and sb_config_workspace share this shape. */
typedef bool (*loader_fn)(const char *file, const char *text, size_t len, sb_diags *d, sb_val *out);

/* Runs `load` on `len` bytes of text (an explicit length, not strlen, so a
 * NUL inside the text reaches libyaml and is reported as in the CLI instead
 * of silently cutting the document short).
 *
 * Returns a new JSON string (free with sb_web_free):
 *   {"value": <the document as JSON>}            when it loads;
 *   {"diagnostics": [{file,line,col,message,text}...]}  sorted by position,
 * wrapped in both cases so that a document which itself reads
 * {"diagnostics": ...} is never mistaken for a failure.
 * Returns NULL only when memory ran out. */
static char *load_to_json(loader_fn load, const char *file, const char *text, size_t len)
{
    if (!file)
        file = "<input>";
    if (!text) {
        text = "";
        len = 0;
    }
    sb_diags *d = sb_diags_new();
    if (!d)
        return NULL;
    sb_val v;
    bool ok = load(file, text, len, d, &v);
    sb_buf out = SB_BUF_INIT;
    if (ok) {
        sb_buf_puts(&out, "{\"value\":");
        sb_val_write_json(&out, v, 0);
        sb_buf_putc(&out, '}');
    } else {
        sb_web__diags_json(&out, d);
    }
    sb_val_free(v);
    sb_diags_free(d);
    return sb_buf_take(&out); /* NULL if any append failed */
}

/* YAML only: the loader's rules (core/config/sb_yaml.h), no schema. */
char *sb_web_yaml_to_json(const char *file, const char *text, size_t len)
{
    return load_to_json(sb_yaml_load, file, text, len);
}

/* A workspace.yaml, checked as `sibyl workspace validate` checks it (YAML,
 * schema, server settings); the value is the workspace tree. */
char *sb_web_workspace_to_json(const char *file, const char *text, size_t len)
{
    return load_to_json(sb_config_workspace, file, text, len);
}
