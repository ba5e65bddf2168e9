/* The builtin function table: standard functions here; the strings and math
 * extensions in their own files. A call's arguments arrive evaluated (no
 * errors among them), the receiver first for x.f(y) calls, so one
 * implementation serves both call styles where CEL allows both. */
#include <string.h>

#include "../util/sb_alloc.h"
#include "cel_int.h"

sb_val sb_cel__no_overload(cel_ctx *c, const cel_node *n, sb_val *args, uint32_t nargs)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "no matching overload for '%s' applied to (", sb_str(n->val));
    for (uint32_t i = 0; i < nargs; i++)
        sb_buf_printf(&b, "%s%s", i ? ", " : "", sb_cel__type_name(args[i]));
    sb_buf_putc(&b, ')');
    sb_val e = sb_buf_failed(&b) ? sb_cel__oom(c) : sb_cel__err_at(c, n->pos, sb_buf_str(&b));
    sb_buf_free(&b);
    return e;
}

static sb_val fn_size(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na == 1) {
        switch (a[0].kind) {
        case SB_STRING:
            return sb_int((int64_t)sb_cel__utf8_count(sb_str(a[0]), sb_str_len(a[0])));
        case SB_BYTES:
            return sb_int((int64_t)sb_str_len(a[0]));
        case SB_LIST:
            return sb_int((int64_t)sb_list_len(a[0]));
        case SB_MAP:
            return sb_int((int64_t)sb_map_len(a[0]));
        default:
            break;
        }
    }
    return sb_cel__no_overload(c, n, a, na);
}

static bool two_strings(sb_val *a, uint32_t na)
{
    return na == 2 && a[0].kind == SB_STRING && a[1].kind == SB_STRING;
}

static sb_val fn_contains(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!two_strings(a, na) || !(n->sub & CALL_MEMBER))
        return sb_cel__no_overload(c, n, a, na);
    size_t hl = sb_str_len(a[0]), nl = sb_str_len(a[1]);
    if (!sb_cel__charge_steps(c, hl / 16))
        return sb_cel__fatal(c);
    if (nl == 0)
        return sb_bool(true);
    const char *h = sb_str(a[0]), *s = sb_str(a[1]);
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == s[0] && memcmp(h + i, s, nl) == 0)
            return sb_bool(true);
    return sb_bool(false);
}

static sb_val fn_starts(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!two_strings(a, na) || !(n->sub & CALL_MEMBER))
        return sb_cel__no_overload(c, n, a, na);
    size_t hl = sb_str_len(a[0]), nl = sb_str_len(a[1]);
    return sb_bool(nl <= hl && memcmp(sb_str(a[0]), sb_str(a[1]), nl) == 0);
}

static sb_val fn_ends(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!two_strings(a, na) || !(n->sub & CALL_MEMBER))
        return sb_cel__no_overload(c, n, a, na);
    size_t hl = sb_str_len(a[0]), nl = sb_str_len(a[1]);
    return sb_bool(nl <= hl && memcmp(sb_str(a[0]) + hl - nl, sb_str(a[1]), nl) == 0);
}

static sb_val fn_matches(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!two_strings(a, na))
        return sb_cel__no_overload(c, n, a, na);
    const cel_regex *re = n->aux;
    cel_regex *own = NULL;
    if (!re) {
        char err[128];
        size_t pl = sb_str_len(a[1]);
        if (!sb_cel__charge_steps(c, pl))
            return sb_cel__fatal(c);
        own = sb_cel__regex_compile(sb_str(a[1]), pl, err, sizeof err);
        if (!own)
            return sb_cel__err(c, n->kids[n->nkids - 1], "invalid regular expression: %s", err);
        re = own;
    }
    uint64_t work = 0;
    uint64_t budget = c->max_steps > c->steps ? c->max_steps - c->steps : 0;
    int r = sb_cel__regex_search(re, sb_str(a[0]), sb_str_len(a[0]), &work, budget);
    sb_cel__regex_free(own);
    if (r < 0 || !sb_cel__charge_steps(c, work)) {
        sb_cel__charge_steps(c, budget + 1);
        return sb_cel__fatal(c);
    }
    return sb_bool(r == 1);
}

static sb_val fn_convert(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na != 1 || (n->sub & CALL_MEMBER))
        return sb_cel__no_overload(c, n, a, na);
    return sb_cel__convert(c, n, sb_str(n->val), a[0]);
}

/* ---- base64 (cel-go's encoders extension) ---- */

static sb_val fn_b64encode(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na != 1 || a[0].kind != SB_BYTES)
        return sb_cel__no_overload(c, n, a, na);
    sb_buf b = SB_BUF_INIT;
    sb_base64_encode(&b, (const unsigned char *)sb_str(a[0]), sb_str_len(a[0]));
    return sb_cel__buf_to_string(c, n, &b, false);
}

static int b64val(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Standard alphabet; padding optional (cel-go accepts both). */
static sb_val fn_b64decode(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na != 1 || a[0].kind != SB_STRING)
        return sb_cel__no_overload(c, n, a, na);
    const char *s = sb_str(a[0]);
    size_t len = sb_str_len(a[0]);
    while (len && s[len - 1] == '=')
        len--;
    if (sb_str_len(a[0]) - len > 2 || len % 4 == 1)
        return sb_cel__err(c, n, "base64.decode: invalid base64 text");
    sb_buf b = SB_BUF_INIT;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            sb_buf_free(&b);
            return sb_cel__err(c, n, "base64.decode: invalid base64 text");
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sb_buf_putc(&b, (char)((acc >> bits) & 0xFF));
        }
    }
    return sb_cel__buf_to_string(c, n, &b, true);
}

static const cel_builtin core_table[] = {
    {"size", STYLE_GLOBAL | STYLE_MEMBER, fn_size},
    {"contains", STYLE_MEMBER, fn_contains},
    {"startsWith", STYLE_MEMBER, fn_starts},
    {"endsWith", STYLE_MEMBER, fn_ends},
    {"matches", STYLE_GLOBAL | STYLE_MEMBER, fn_matches},
    {"int", STYLE_GLOBAL, fn_convert},
    {"uint", STYLE_GLOBAL, fn_convert},
    {"double", STYLE_GLOBAL, fn_convert},
    {"string", STYLE_GLOBAL, fn_convert},
    {"bool", STYLE_GLOBAL, fn_convert},
    {"bytes", STYLE_GLOBAL, fn_convert},
    {"type", STYLE_GLOBAL, fn_convert},
    {"dyn", STYLE_GLOBAL, fn_convert},
    {"base64.encode", STYLE_GLOBAL, fn_b64encode},
    {"base64.decode", STYLE_GLOBAL, fn_b64decode},
};
#define CORE_COUNT (sizeof core_table / sizeof *core_table)

const cel_builtin *sb_cel__builtin_at(uint16_t i)
{
    if (i < CORE_COUNT)
        return &core_table[i];
    i = (uint16_t)(i - CORE_COUNT);
    if (i < sb_cel__strings_count)
        return &sb_cel__strings_table[i];
    i = (uint16_t)(i - sb_cel__strings_count);
    if (i < sb_cel__math_count)
        return &sb_cel__math_table[i];
    i = (uint16_t)(i - sb_cel__math_count);
    if (i < sb_cel__time_count)
        return &sb_cel__time_table[i];
    return &sb_cel__opt_table[i - sb_cel__time_count];
}

uint16_t sb_cel__builtin_find(const char *name, size_t len, int style)
{
    size_t total = CORE_COUNT + sb_cel__strings_count + sb_cel__math_count + sb_cel__time_count + sb_cel__opt_count;
    for (size_t i = 0; i < total; i++) {
        const cel_builtin *b = sb_cel__builtin_at((uint16_t)i);
        if ((b->styles & style) && strlen(b->name) == len && memcmp(b->name, name, len) == 0)
            return (uint16_t)i;
    }
    return FN_UNKNOWN;
}
