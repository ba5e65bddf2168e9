/* The strings extension, as cel-go's ext.Strings(): charAt, indexOf,
 * lastIndexOf, lowerAscii, upperAscii, replace, split, substring, trim, join,
 * reverse, format and strings.quote. Indexes count code points. */
#include <string.h>

#include "../util/sb_alloc.h"
#include "cel_int.h"

static bool is_str(sb_val v)
{
    return v.kind == SB_STRING;
}
static bool is_int(sb_val v)
{
    return v.kind == SB_INT;
}
static const char *S(sb_val v)
{
    return sb_str(v);
}
static size_t L(sb_val v)
{
    return sb_str_len(v);
}

static bool scan(cel_ctx *c, size_t len)
{
    return sb_cel__charge_steps(c, len / 16);
}

/* A member call on a string with na arguments of the given kinds ("s", "i"). */
static bool sig(const cel_node *n, sb_val *a, uint32_t na, const char *kinds)
{
    if (!(n->sub & CALL_MEMBER) || !is_str(a[0]) || na != strlen(kinds) + 1)
        return false;
    for (uint32_t i = 1; i < na; i++)
        if ((kinds[i - 1] == 's' && !is_str(a[i])) || (kinds[i - 1] == 'i' && !is_int(a[i])))
            return false;
    return true;
}

static sb_val out_of_range(cel_ctx *c, const cel_node *n, int64_t i)
{
    return sb_cel__err(c, n, "index out of range: %lld", (long long)i);
}

static sb_val fn_char_at(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!sig(n, a, na, "i"))
        return sb_cel__no_overload(c, n, a, na);
    size_t cnt = sb_cel__utf8_count(S(a[0]), L(a[0]));
    int64_t i = a[1].as.i;
    if (i < 0 || (uint64_t)i > cnt)
        return out_of_range(c, n, i);
    size_t b = sb_cel__utf8_offset(S(a[0]), L(a[0]), (size_t)i);
    size_t e = sb_cel__utf8_offset(S(a[0]), L(a[0]), (size_t)i + 1);
    return sb_cel__new_string(c, n, S(a[0]) + b, e - b);
}

static sb_val fn_index_of(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!sig(n, a, na, "s") && !sig(n, a, na, "si"))
        return sb_cel__no_overload(c, n, a, na);
    const char *h = S(a[0]), *s = S(a[1]);
    size_t hl = L(a[0]), sl = L(a[1]);
    size_t cnt = sb_cel__utf8_count(h, hl);
    int64_t start = na == 3 ? a[2].as.i : 0;
    if (start < 0 || (uint64_t)start > cnt)
        return out_of_range(c, n, start);
    if (!scan(c, hl))
        return sb_cel__fatal(c);
    size_t from = sb_cel__utf8_offset(h, hl, (size_t)start);
    if (sl == 0)
        return sb_int(start);
    for (size_t i = from; i + sl <= hl; i++)
        if (memcmp(h + i, s, sl) == 0)
            return sb_int((int64_t)sb_cel__utf8_count(h, i));
    return sb_int(-1);
}

static sb_val fn_last_index_of(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!sig(n, a, na, "s") && !sig(n, a, na, "si"))
        return sb_cel__no_overload(c, n, a, na);
    const char *h = S(a[0]), *s = S(a[1]);
    size_t hl = L(a[0]), sl = L(a[1]);
    size_t cnt = sb_cel__utf8_count(h, hl);
    int64_t pos = na == 3 ? a[2].as.i : (int64_t)cnt;
    if (pos < 0 || (uint64_t)pos > cnt)
        return out_of_range(c, n, pos);
    if (!scan(c, hl))
        return sb_cel__fatal(c);
    if (sl == 0)
        return sb_int(pos);
    if (sl > hl)
        return sb_int(-1);
    size_t last = sb_cel__utf8_offset(h, hl, (size_t)pos);
    if (last > hl - sl)
        last = hl - sl;
    for (size_t i = last + 1; i-- > 0;)
        if (memcmp(h + i, s, sl) == 0)
            return sb_int((int64_t)sb_cel__utf8_count(h, i));
    return sb_int(-1);
}

static sb_val fn_case(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!sig(n, a, na, ""))
        return sb_cel__no_overload(c, n, a, na);
    bool upper = sb_str(n->val)[0] == 'u';
    const char *s = S(a[0]);
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < L(a[0]); i++) {
        char ch = s[i];
        if (upper && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        else if (!upper && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        sb_buf_putc(&b, ch);
    }
    return sb_cel__buf_to_string(c, n, &b, false);
}

static sb_val fn_replace(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!sig(n, a, na, "ss") && !sig(n, a, na, "ssi"))
        return sb_cel__no_overload(c, n, a, na);
    const char *h = S(a[0]), *o = S(a[1]), *w = S(a[2]);
    size_t hl = L(a[0]), ol = L(a[1]), wl = L(a[2]);
    int64_t limit = na == 4 ? a[3].as.i : -1;
    if (!scan(c, hl))
        return sb_cel__fatal(c);
    sb_buf b = SB_BUF_INIT;
    size_t i = 0;
    int64_t done = 0;
    if (ol == 0) {
        /* Go's strings.Replace: insert before every code point and at the end */
        while (limit < 0 || done < limit) {
            if (!sb_cel__charge_bytes(c, wl + 4)) {
                sb_buf_free(&b);
                return sb_cel__fatal(c);
            }
            sb_buf_append(&b, w, wl);
            done++;
            if (i >= hl)
                break;
            size_t j = i;
            sb_cel__utf8_next(h, hl, &j);
            sb_buf_append(&b, h + i, j - i);
            i = j;
        }
        sb_buf_append(&b, h + i, hl - i);
        return sb_cel__buf_to_string(c, n, &b, false);
    }
    while (i < hl) {
        if ((limit < 0 || done < limit) && i + ol <= hl && memcmp(h + i, o, ol) == 0) {
            if (!sb_cel__charge_bytes(c, wl)) {
                sb_buf_free(&b);
                return sb_cel__fatal(c);
            }
            sb_buf_append(&b, w, wl);
            i += ol;
            done++;
        } else {
            sb_buf_putc(&b, h[i++]);
        }
    }
    return sb_cel__buf_to_string(c, n, &b, false);
}

static bool push_str(cel_ctx *c, const cel_node *n, sb_val *list, const char *s, size_t len)
{
    sb_val v = sb_cel__new_string(c, n, s, len);
    if (v.kind == SB_ERROR)
        return false;
    if (!sb_cel__charge_bytes(c, sizeof(sb_val)) || !sb_list_push(list, v)) {
        if (c->fatal.kind != SB_ERROR)
            sb_cel__oom(c);
        return false;
    }
    return true;
}

static sb_val fn_split(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!sig(n, a, na, "s") && !sig(n, a, na, "si"))
        return sb_cel__no_overload(c, n, a, na);
    const char *h = S(a[0]), *s = S(a[1]);
    size_t hl = L(a[0]), sl = L(a[1]);
    int64_t limit = na == 3 ? a[2].as.i : -1;
    if (!scan(c, hl))
        return sb_cel__fatal(c);
    sb_val list = sb_list_new(0);
    if (list.kind == SB_ERROR)
        return sb_cel__oom(c);
    if (limit == 0)
        return list;
    size_t i = 0, start = 0;
    int64_t parts = 0;
    while (i <= hl) {
        if (limit > 0 && parts == limit - 1)
            break;
        if (sl == 0) {
            if (i >= hl)
                break;
            size_t j = i;
            sb_cel__utf8_next(h, hl, &j);
            if (!push_str(c, n, &list, h + i, j - i))
                goto fail;
            parts++;
            i = start = j;
            continue;
        }
        if (i + sl <= hl && memcmp(h + i, s, sl) == 0) {
            if (!push_str(c, n, &list, h + start, i - start))
                goto fail;
            parts++;
            i += sl;
            start = i;
            continue;
        }
        if (i == hl)
            break;
        i++;
    }
    if (sl != 0 || start < hl)
        if (!push_str(c, n, &list, h + start, hl - start))
            goto fail;
    return list;
fail:
    sb_val_free(list);
    return c->fatal.kind == SB_ERROR ? sb_cel__fatal(c) : sb_cel__oom(c);
}

static sb_val fn_substring(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!sig(n, a, na, "i") && !sig(n, a, na, "ii"))
        return sb_cel__no_overload(c, n, a, na);
    size_t cnt = sb_cel__utf8_count(S(a[0]), L(a[0]));
    int64_t st = a[1].as.i, en = na == 3 ? a[2].as.i : (int64_t)cnt;
    if (st < 0 || (uint64_t)st > cnt)
        return out_of_range(c, n, st);
    if (en < 0 || (uint64_t)en > cnt)
        return out_of_range(c, n, en);
    if (en < st)
        return sb_cel__err(c, n, "invalid substring range. start: %lld, end: %lld", (long long)st, (long long)en);
    size_t b = sb_cel__utf8_offset(S(a[0]), L(a[0]), (size_t)st);
    size_t e = sb_cel__utf8_offset(S(a[0]), L(a[0]), (size_t)en);
    return sb_cel__new_string(c, n, S(a[0]) + b, e - b);
}

/* Go's unicode.IsSpace, which cel-go's trim uses. */
static bool is_space(int32_t cp)
{
    switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

static sb_val fn_trim(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!sig(n, a, na, ""))
        return sb_cel__no_overload(c, n, a, na);
    const char *s = S(a[0]);
    size_t len = L(a[0]), b = 0, e = 0;
    size_t i = 0;
    bool seen = false;
    while (i < len) {
        size_t at = i;
        int32_t cp = sb_cel__utf8_next(s, len, &i);
        if (!is_space(cp)) {
            if (!seen)
                b = at;
            seen = true;
            e = i;
        }
    }
    return sb_cel__new_string(c, n, s + b, seen ? e - b : 0);
}

static sb_val fn_join(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!(n->sub & CALL_MEMBER) || a[0].kind != SB_LIST || na > 2 || (na == 2 && !is_str(a[1])))
        return sb_cel__no_overload(c, n, a, na);
    size_t len = sb_list_len(a[0]);
    size_t total = 0, sl = na == 2 ? L(a[1]) : 0;
    for (size_t i = 0; i < len; i++) {
        sb_val e = *sb_list_at(a[0], i);
        if (e.kind != SB_STRING)
            return sb_cel__err(c, n, "join: element %zu is a %s, not a string", i, sb_cel__type_name(e));
        total += L(e) + sl;
    }
    /* check the size before building: joins of huge lists fail cleanly */
    if (!sb_cel__charge_steps(c, len + total / 16) || !sb_cel__charge_bytes(c, total))
        return sb_cel__fatal(c);
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (i && sl)
            sb_buf_append(&b, S(a[1]), sl);
        sb_val e = *sb_list_at(a[0], i);
        sb_buf_append(&b, S(e), L(e));
    }
    return sb_cel__buf_to_string(c, n, &b, false);
}

static sb_val fn_reverse(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!sig(n, a, na, ""))
        return sb_cel__no_overload(c, n, a, na);
    const char *s = S(a[0]);
    size_t len = L(a[0]);
    sb_buf b = SB_BUF_INIT;
    size_t end = len;
    while (end > 0) {
        size_t st = end - 1;
        while (st > 0 && ((unsigned char)s[st] & 0xC0) == 0x80)
            st--;
        sb_buf_append(&b, s + st, end - st);
        end = st;
    }
    return sb_cel__buf_to_string(c, n, &b, false);
}

static sb_val fn_format(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!(n->sub & CALL_MEMBER) || na != 2 || !is_str(a[0]) || a[1].kind != SB_LIST)
        return sb_cel__no_overload(c, n, a, na);
    return sb_cel__format(c, n, a[0], a[1]);
}

static sb_val fn_quote(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na != 1 || !is_str(a[0]))
        return sb_cel__no_overload(c, n, a, na);
    return sb_cel__quote(c, n, a[0]);
}

const cel_builtin sb_cel__strings_table[] = {
    {"charAt", STYLE_MEMBER, fn_char_at},
    {"indexOf", STYLE_MEMBER, fn_index_of},
    {"lastIndexOf", STYLE_MEMBER, fn_last_index_of},
    {"lowerAscii", STYLE_MEMBER, fn_case},
    {"upperAscii", STYLE_MEMBER, fn_case},
    {"replace", STYLE_MEMBER, fn_replace},
    {"split", STYLE_MEMBER, fn_split},
    {"substring", STYLE_MEMBER, fn_substring},
    {"trim", STYLE_MEMBER, fn_trim},
    {"join", STYLE_MEMBER, fn_join},
    {"reverse", STYLE_MEMBER, fn_reverse},
    {"format", STYLE_MEMBER, fn_format},
    {"strings.quote", STYLE_GLOBAL, fn_quote},
};
const size_t sb_cel__strings_count = sizeof sb_cel__strings_table / sizeof *sb_cel__strings_table;
