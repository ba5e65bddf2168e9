#include "json_oracle.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/sb_alloc.h"

/* cJSON reports a failed allocation as a parse error; this flag tells the two
 * apart. */
static bool g_alloc_failed;

static void *hook_malloc(size_t n)
{
    void *p = sb_malloc(n);
    if (!p)
        g_alloc_failed = true;
    return p;
}
static void hook_free(void *p) { sb_free(p); }

static sb_val convert(const cJSON *j)
{
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
    bool is_list = cJSON_IsArray(j);
    sb_val c = is_list ? sb_list_new(0) : sb_map_new(0);
    for (const cJSON *e = j->child; e && !sb_is_oom(c); e = e->next) {
        sb_val v = convert(e);
        if (sb_is_oom(v) || !(is_list ? sb_list_push(&c, v) : sb_map_set_str(&c, e->string ? e->string : "", v))) {
            sb_val_free(c);
            return sb_oom();
        }
    }
    return c;
}

bool json_oracle_parse(const char *text, size_t len, sb_val *out)
{
    static cJSON_Hooks hooks = {hook_malloc, hook_free};
    cJSON_InitHooks(&hooks);
    *out = sb_null();
    if (memchr(text, '\0', len))
        return false;
    const char *end = NULL;
    g_alloc_failed = false;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) {
        if (g_alloc_failed)
            *out = sb_oom();
        return false;
    }
    size_t off = (size_t)(end - text);
    while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' || text[off] == '\r'))
        off++;
    if (off < len) {
        cJSON_Delete(j);
        return false;
    }
    *out = convert(j);
    cJSON_Delete(j);
    return !sb_is_oom(*out);
}

static char g_why[256];

static const char *differ(const char *what, sb_val mine, sb_val theirs)
{
    char *a = sb_val_to_json(mine, 0), *b = sb_val_to_json(theirs, 0);
    snprintf(g_why, sizeof g_why, "%s: sb_json %s (%s), cJSON %s (%s)", what, a ? a : "?", sb_kind_name(mine.kind),
             b ? b : "?", sb_kind_name(theirs.kind));
    sb_free(a);
    sb_free(b);
    return g_why;
}

static bool is_num(sb_val v) { return v.kind == SB_INT || v.kind == SB_UINT || v.kind == SB_DOUBLE; }

static bool has_nul_key(sb_val m)
{
    for (size_t i = 0; i < sb_map_len(m); i++)
        if (memchr(sb_str(*sb_map_key_at(m, i)), '\0', sb_str_len(*sb_map_key_at(m, i))))
            return true;
    return false;
}

const char *json_oracle_compare(sb_val mine, sb_val theirs)
{
    if (is_num(mine) && is_num(theirs)) {
        /* Beyond 2^53 sb_json keeps the integer; cJSON has its rounding
         * (which may land on 2^53 itself, an SB_INT after conversion). */
        double t = theirs.kind == SB_INT ? (double)theirs.as.i : theirs.as.d;
        if (mine.kind == SB_INT && (mine.as.i > 9007199254740992LL || mine.as.i < -9007199254740992LL))
            return (double)mine.as.i == t ? NULL : differ("big integer differs", mine, theirs);
        if (mine.kind == SB_UINT)
            return (double)mine.as.u == t ? NULL : differ("big integer differs", mine, theirs);
        if (mine.kind == theirs.kind && mine.kind == SB_INT)
            return mine.as.i == theirs.as.i ? NULL : differ("integers differ", mine, theirs);
        if (mine.kind == SB_DOUBLE && theirs.kind == SB_DOUBLE)
            return mine.as.d == theirs.as.d ? NULL : differ("doubles differ", mine, theirs);
        return differ("number kinds differ", mine, theirs);
    }
    if (mine.kind != theirs.kind)
        return differ("kinds differ", mine, theirs);
    switch (mine.kind) {
    case SB_BOOL: return mine.as.b == theirs.as.b ? NULL : differ("booleans differ", mine, theirs);
    case SB_STRING: {
        const char *nul = memchr(sb_str(mine), '\0', sb_str_len(mine));
        size_t n = nul ? (size_t)(nul - sb_str(mine)) : sb_str_len(mine);
        if (sb_str_len(theirs) == n && memcmp(sb_str(mine), sb_str(theirs), n) == 0)
            return NULL;
        return differ("strings differ", mine, theirs);
    }
    case SB_LIST:
        if (sb_list_len(mine) != sb_list_len(theirs))
            return differ("list lengths differ", mine, theirs);
        for (size_t i = 0; i < sb_list_len(mine); i++) {
            const char *why = json_oracle_compare(*sb_list_at(mine, i), *sb_list_at(theirs, i));
            if (why)
                return why;
        }
        return NULL;
    case SB_MAP:
        if (has_nul_key(mine))
            return NULL;
        if (sb_map_len(mine) != sb_map_len(theirs))
            return differ("map sizes differ", mine, theirs);
        for (size_t i = 0; i < sb_map_len(mine); i++) {
            if (!sb_val_equal(*sb_map_key_at(mine, i), *sb_map_key_at(theirs, i)))
                return differ("map keys differ (or their order)", mine, theirs);
            const char *why = json_oracle_compare(*sb_map_val_at(mine, i), *sb_map_val_at(theirs, i));
            if (why)
                return why;
        }
        return NULL;
    default: return NULL; /* null */
    }
}
