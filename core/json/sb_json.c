#include "sb_json.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../util/sb_alloc.h"

/* cJSON reports a failed allocation as a parse error; this flag tells the two
 * apart, so running out of memory is not blamed on the text. */
static bool g_alloc_failed;

static void *hook_malloc(size_t n)
{
    void *p = sb_malloc(n);
    if (!p)
        g_alloc_failed = true;
    return p;
}
static void hook_free(void *p) { sb_free(p); }

/* depth counts the arrays and objects around j: the root is level 1. */
static sb_val convert(const cJSON *j, int depth)
{
    if ((cJSON_IsArray(j) || cJSON_IsObject(j)) && depth >= SB_JSON_MAX_DEPTH)
        return sb_errorf("nesting deeper than %d levels", SB_JSON_MAX_DEPTH);
    if (cJSON_IsNull(j))
        return sb_null();
    if (cJSON_IsBool(j))
        return sb_bool(cJSON_IsTrue(j));
    if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        if (d == floor(d) && fabs(d) <= 9007199254740992.0)
            return sb_int((int64_t)d);
        return sb_double(d);
    }
    if (cJSON_IsString(j))
        return sb_string_cstr(j->valuestring);
    if (cJSON_IsArray(j)) {
        sb_val l = sb_list_new(0);
        for (const cJSON *c = j->child; c && l.kind != SB_ERROR; c = c->next) {
            sb_val e = convert(c, depth + 1);
            if (e.kind == SB_ERROR) {
                sb_val_free(l);
                return e;
            }
            if (!sb_list_push(&l, e)) {
                sb_val_free(l);
                return sb_oom();
            }
        }
        return l;
    }
    if (cJSON_IsObject(j)) {
        sb_val m = sb_map_new(0);
        for (const cJSON *c = j->child; c && m.kind != SB_ERROR; c = c->next) {
            sb_val e = convert(c, depth + 1);
            if (e.kind == SB_ERROR) {
                sb_val_free(m);
                return e;
            }
            /* Duplicate keys: the last one wins, as in JavaScript. */
            if (!sb_map_set_str(&m, c->string ? c->string : "", e)) {
                sb_val_free(m);
                return sb_oom();
            }
        }
        return m;
    }
    return sb_error("unsupported JSON value");
}

static void position(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

sb_val sb_json_parse(const char *text, size_t len)
{
    static cJSON_Hooks hooks = {hook_malloc, hook_free};
    cJSON_InitHooks(&hooks);
    /* cJSON stops at a NUL; a NUL inside the text is an error of its own. */
    size_t nul = strnlen(text, len);
    const char *end = NULL;
    g_alloc_failed = false;
    cJSON *j = cJSON_ParseWithLengthOpts(text, nul, &end, 0);
    if (!j && g_alloc_failed)
        return sb_oom();
    size_t off;
    if (j) {
        off = (size_t)(end - text);
        while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' || text[off] == '\r'))
            off++;
    } else {
        const char *e = cJSON_GetErrorPtr();
        off = e && e >= text && e <= text + nul ? (size_t)(e - text) : 0;
    }
    if (!j || off < len) {
        cJSON_Delete(j);
        int line, col;
        position(text, off, &line, &col);
        if (nul == 0 || (j == NULL && off >= nul))
            return sb_errorf("line %d, column %d: unexpected end of JSON text", line, col);
        return sb_errorf("line %d, column %d: invalid JSON", line, col);
    }
    sb_val v = convert(j, 0);
    cJSON_Delete(j);
    return v;
}
