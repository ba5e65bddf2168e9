/* Writes a value with its kinds spelled out, so test expectations tell
 * int 1 from uint 1 from double 1.5: null, true, int:5, uint:5, double:1.5,
 * string:"a\u0000b" (JSON-escaped), [a, b], {"k": v}. Header-only: shared by
 * the JSON case runner and the differential test. */
#ifndef JSON_DESCRIBE_H
#define JSON_DESCRIBE_H
#include <math.h>

#include "util/sb_buf.h"
#include "value/sb_value.h"

static void json_describe(sb_buf *b, sb_val v)
{
    switch (v.kind) {
    case SB_NULL: sb_buf_puts(b, "null"); return;
    case SB_BOOL: sb_buf_puts(b, v.as.b ? "true" : "false"); return;
    case SB_INT: sb_buf_printf(b, "int:%lld", (long long)v.as.i); return;
    case SB_UINT: sb_buf_printf(b, "uint:%llu", (unsigned long long)v.as.u); return;
    case SB_DOUBLE:
        sb_buf_puts(b, "double:");
        if (isfinite(v.as.d))
            sb_buf_double(b, v.as.d);
        else
            sb_buf_puts(b, isnan(v.as.d) ? "nan" : v.as.d > 0 ? "inf" : "-inf");
        return;
    case SB_STRING:
        sb_buf_puts(b, "string:");
        sb_buf_json_string(b, sb_str(v), sb_str_len(v));
        return;
    case SB_LIST:
        sb_buf_putc(b, '[');
        for (size_t i = 0; i < sb_list_len(v); i++) {
            if (i)
                sb_buf_puts(b, ", ");
            json_describe(b, *sb_list_at(v, i));
        }
        sb_buf_putc(b, ']');
        return;
    case SB_MAP:
        sb_buf_putc(b, '{');
        for (size_t i = 0; i < sb_map_len(v); i++) {
            if (i)
                sb_buf_puts(b, ", ");
            sb_val k = *sb_map_key_at(v, i);
            sb_buf_json_string(b, sb_str(k), sb_str_len(k));
            sb_buf_puts(b, ": ");
            json_describe(b, *sb_map_val_at(v, i));
        }
        sb_buf_putc(b, '}');
        return;
    case SB_ERROR: sb_buf_printf(b, "error:%s", sb_str(v)); return;
    default: sb_buf_puts(b, sb_kind_name((sb_kind)v.kind)); return;
    }
}

#endif
