/* A value as it would come back from JSON text: sb_json_parse of
 * sb_val_write_json, without the text. In-process callers (the embedded MCP
 * services) hand values over this way, and the receiver must see exactly what
 * a server behind HTTP would have sent it. */
#include <math.h>
#include <string.h>

#include "../util/sb_alloc.h"

#include "sb_json.h"

/* Whether v differs from its round trip through JSON text. */
static bool changes(sb_val v)
{
    switch (v.kind) {
    case SB_NULL:
    case SB_BOOL:
    case SB_INT:
    case SB_STRING: return false;
    case SB_UINT: return v.as.u <= (uint64_t)INT64_MAX;
    case SB_DOUBLE: return !isfinite(v.as.d) || (v.as.d == floor(v.as.d) && fabs(v.as.d) <= 9007199254740992.0);
    case SB_LIST:
        for (size_t i = 0; i < sb_list_len(v); i++)
            if (changes(*sb_list_at(v, i)))
                return true;
        return false;
    case SB_MAP:
        for (size_t i = 0; i < sb_map_len(v); i++)
            if (sb_map_key_at(v, i)->kind != SB_STRING || changes(*sb_map_val_at(v, i)))
                return true;
        return false;
    default: return true; /* bytes, types, errors: written as strings or objects */
    }
}

/* The round trip of v (borrowed), rebuilding only what changes. */
static sb_val canonical(sb_val v)
{
    if (!changes(v))
        return sb_val_ref(v);
    switch (v.kind) {
    case SB_UINT: return sb_int((int64_t)v.as.u);
    case SB_DOUBLE: return isfinite(v.as.d) ? sb_int((int64_t)v.as.d) : sb_null();
    case SB_LIST: {
        size_t n = sb_list_len(v);
        sb_val out = sb_list_new(n);
        for (size_t i = 0; i < n && out.kind == SB_LIST; i++) {
            sb_val item = canonical(*sb_list_at(v, i));
            if (item.kind == SB_ERROR || !sb_list_push(&out, item)) {
                sb_val_free(out);
                return sb_oom();
            }
        }
        return out;
    }
    case SB_MAP: {
        size_t n = sb_map_len(v);
        bool keys = true;
        for (size_t i = 0; i < n; i++)
            keys = keys && sb_map_key_at(v, i)->kind == SB_STRING;
        if (!keys)
            break;
        sb_val out = sb_map_new(n);
        for (size_t i = 0; i < n && out.kind == SB_MAP; i++) {
            sb_val item = canonical(*sb_map_val_at(v, i));
            if (item.kind == SB_ERROR || !sb_map_set(&out, sb_val_ref(*sb_map_key_at(v, i)), item)) {
                sb_val_free(out);
                return sb_oom();
            }
        }
        return out;
    }
    default: break;
    }
    /* The rare rest: through the text itself. */
    char *text = sb_val_to_json(v, 0);
    if (!text)
        return sb_oom();
    sb_val out = sb_json_parse(text, strlen(text));
    sb_free(text);
    return out;
}

sb_val sb_json_round_trip(sb_val v)
{
    sb_val out = changes(v) ? canonical(v) : sb_val_ref(v);
    sb_val_free(v);
    return out;
}
