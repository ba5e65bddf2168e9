/* Text forms of values: CEL's string() of a double (Go's strconv 'g' with
 * the shortest digits, as cel-go), string.format() (cel-spec's strings
 * extension: %s %d %f %e %x %X %o %b, with an optional .precision), the "%s"
 * rendering of any value, and strings.quote(). Everything here is
 * deterministic across libcs: digits come from printf's %e, which glibc and
 * wasi-libc both round correctly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../value/sb_time.h"
#include "cel_int.h"

size_t sb_cel__double_chars(char *out, double d)
{
    char *o = out;
    if (isnan(d) || isinf(d)) {
        const char *t = isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf";
        size_t n = strlen(t);
        memcpy(out, t, n + 1);
        return n;
    }
    if (signbit(d))
        *o++ = '-';
    if (d == 0) {
        *o++ = '0';
        *o = '\0';
        return (size_t)(o - out);
    }
    char dig[24];
    int e;
    /* the JSON writer's shortest digits (sb_buf.c): string(), %s and the
     * JSON output agree on every double */
    int nd = sb_double_digits(d, dig, &e);
    if (e < -4 || e >= 6) { /* d.ddde+XX */
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        int x = e < 0 ? -e : e;
        *o++ = 'e';
        *o++ = e < 0 ? '-' : '+';
        if (x >= 100)
            *o++ = (char)('0' + x / 100);
        *o++ = (char)('0' + x / 10 % 10);
        *o++ = (char)('0' + x % 10);
    } else if (e < 0) { /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int i = -1; i > e; i--)
            *o++ = '0';
        memcpy(o, dig, (size_t)nd);
        o += nd;
    } else { /* e + 1 digits before the point */
        for (int i = 0; i <= e; i++)
            *o++ = i < nd ? dig[i] : '0';
        if (nd > e + 1) {
            *o++ = '.';
            memcpy(o, dig + e + 1, (size_t)(nd - e - 1));
            o += nd - e - 1;
        }
    }
    *o = '\0';
    return (size_t)(o - out);
}

void sb_cel__fmt_double(sb_buf *b, double d)
{
    char t[SB_CEL_DOUBLE_CHARS];
    sb_buf_append(b, t, sb_cel__double_chars(t, d));
}

static void fmt_double_named(sb_buf *b, double d)
{
    if (isnan(d))
        sb_buf_puts(b, "NaN");
    else if (isinf(d))
        sb_buf_puts(b, d > 0 ? "Infinity" : "-Infinity");
    else
        sb_cel__fmt_double(b, d);
}

/* Bytes as text: each invalid UTF-8 run becomes one U+FFFD. */
static void bytes_as_text(sb_buf *b, const char *s, size_t len)
{
    size_t i = 0;
    bool in_bad = false;
    while (i < len) {
        size_t at = i;
        if (sb_cel__utf8_next(s, len, &i) < 0) {
            if (!in_bad)
                sb_buf_puts(b, "\xEF\xBF\xBD");
            in_bad = true;
            i = at + 1;
            continue;
        }
        in_bad = false;
        sb_buf_append(b, s + at, i - at);
    }
}

#define MAX_RENDER_DEPTH 256

typedef struct kv {
    sb_buf key;
    size_t index;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int r = memcmp(sb_buf_str(&x->key), sb_buf_str(&y->key), n);
    if (r)
        return r;
    if (x->key.len != y->key.len)
        return x->key.len < y->key.len ? -1 : 1;
    return x->index < y->index ? -1 : 1;
}

bool sb_cel__fmt_s(sb_buf *b, sb_val v, int depth)
{
    if (depth > MAX_RENDER_DEPTH) {
        sb_buf_puts(b, "...");
        return true;
    }
    switch (v.kind) {
    case SB_NULL:
        sb_buf_puts(b, "null");
        return true;
    case SB_BOOL:
        sb_buf_puts(b, v.as.b ? "true" : "false");
        return true;
    case SB_INT:
        sb_buf_printf(b, "%lld", (long long)v.as.i);
        return true;
    case SB_UINT:
        sb_buf_printf(b, "%llu", (unsigned long long)v.as.u);
        return true;
    case SB_DOUBLE:
        fmt_double_named(b, v.as.d);
        return true;
    case SB_STRING:
    case SB_TYPE:
        sb_buf_append(b, sb_str(v), sb_str_len(v));
        return true;
    case SB_BYTES:
        bytes_as_text(b, sb_str(v), sb_str_len(v));
        return true;
    case SB_DURATION:
        sb_time_write_dur(b, v.as.i);
        return true;
    case SB_TIMESTAMP:
        sb_time_write_ts(b, sb_timestamp_sec(v), sb_timestamp_nsec(v));
        return true;
    case SB_OPTIONAL: {
        const sb_val *in = sb_optional_value(v);
        if (!in) {
            sb_buf_puts(b, "optional.none()");
            return true;
        }
        sb_buf_puts(b, "optional.of(");
        bool ok = sb_cel__fmt_s(b, *in, depth + 1);
        sb_buf_putc(b, ')');
        return ok;
    }
    case SB_LIST: {
        sb_buf_putc(b, '[');
        for (size_t i = 0; i < sb_list_len(v); i++) {
            if (i)
                sb_buf_puts(b, ", ");
            sb_cel__fmt_s(b, *sb_list_at(v, i), depth + 1);
        }
        sb_buf_putc(b, ']');
        return true;
    }
    case SB_MAP: {
        /* entries sorted by their formatted keys (cel-spec strings.md) */
        size_t n = sb_map_len(v);
        kv *e = n ? sb_calloc(n, sizeof *e) : NULL;
        if (n && !e) {
            b->failed = true;
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            e[i].index = i;
            sb_cel__fmt_s(&e[i].key, *sb_map_key_at(v, i), depth + 1);
            if (sb_buf_failed(&e[i].key))
                b->failed = true;
        }
        if (n)
            qsort(e, n, sizeof *e, kv_cmp);
        sb_buf_putc(b, '{');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_buf_puts(b, ", ");
            sb_buf_append(b, sb_buf_str(&e[i].key), e[i].key.len);
            sb_buf_puts(b, ": ");
            sb_cel__fmt_s(b, *sb_map_val_at(v, e[i].index), depth + 1);
            sb_buf_free(&e[i].key);
        }
        sb_free(e);
        sb_buf_putc(b, '}');
        return true;
    }
    default:
        sb_buf_puts(b, "error: ");
        sb_buf_append(b, sb_str(v), sb_str_len(v));
        return true;
    }
}

void sb_cel_render(sb_buf *out, sb_val v)
{
    sb_cel__fmt_s(out, v, 0);
}

/* ---- string.format ---- */

static void put_radix(sb_buf *b, uint64_t u, unsigned radix, bool upper)
{
    char tmp[72];
    int k = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[k++] = digits[u % radix];
        u /= radix;
    } while (u);
    while (k)
        sb_buf_putc(b, tmp[--k]);
}

static bool put_integer(sb_buf *b, sb_val v, unsigned radix, bool upper)
{
    if (v.kind == SB_INT) {
        uint64_t m = v.as.i < 0 ? (uint64_t)0 - (uint64_t)v.as.i : (uint64_t)v.as.i;
        if (v.as.i < 0)
            sb_buf_putc(b, '-');
        put_radix(b, m, radix, upper);
        return true;
    }
    if (v.kind == SB_UINT) {
        put_radix(b, v.as.u, radix, upper);
        return true;
    }
    return false;
}

#define MAX_PRECISION 500

static sb_val fmt_error(cel_ctx *c, const cel_node *n, const char *what, sb_val v)
{
    return sb_cel__err(c, n, "error during formatting: %s, was given %s", what, sb_cel__type_name(v));
}

/* One clause; returns an error value or null. */
static sb_val clause(cel_ctx *c, const cel_node *n, sb_buf *b, char conv, int prec, sb_val v)
{
    switch (conv) {
    case 's':
        sb_cel__fmt_s(b, v, 0);
        return sb_null();
    case 'd':
        if (put_integer(b, v, 10, false))
            return sb_null();
        if (v.kind == SB_DOUBLE) {
            fmt_double_named(b, v.as.d);
            return sb_null();
        }
        return fmt_error(c, n, "decimal clause can only be used on integers", v);
    case 'f':
    case 'e': {
        double d;
        if (sb_str_eq(v, "NaN") || sb_str_eq(v, "Infinity") || sb_str_eq(v, "-Infinity")) {
            sb_buf_append(b, sb_str(v), sb_str_len(v)); /* accepted by cel-go as well */
            return sb_null();
        }
        if (!sb_val_as_double(v, &d))
            return fmt_error(c, n,
                             conv == 'f' ? "fixed-point clause can only be used on doubles"
                                         : "scientific clause can only be used on doubles",
                             v);
        if (!isfinite(d)) {
            fmt_double_named(b, d);
            return sb_null();
        }
        int p = prec < 0 ? 6 : prec;
        char tmp[MAX_PRECISION + 360];
        snprintf(tmp, sizeof tmp, conv == 'f' ? "%.*f" : "%.*e", p, d);
        sb_buf_puts(b, tmp);
        return sb_null();
    }
    case 'x':
    case 'X':
        if (put_integer(b, v, 16, conv == 'X'))
            return sb_null();
        if (v.kind == SB_STRING || v.kind == SB_BYTES) {
            const unsigned char *p = (const unsigned char *)sb_str(v);
            for (size_t i = 0; i < sb_str_len(v); i++)
                sb_buf_printf(b, conv == 'x' ? "%02x" : "%02X", p[i]);
            return sb_null();
        }
        return fmt_error(c, n, "only integers, byte buffers, and strings can be formatted as hex", v);
    case 'o':
        if (put_integer(b, v, 8, false))
            return sb_null();
        return fmt_error(c, n, "octal clause can only be used on integers", v);
    case 'b':
        if (put_integer(b, v, 2, false))
            return sb_null();
        if (v.kind == SB_BOOL) {
            sb_buf_putc(b, v.as.b ? '1' : '0');
            return sb_null();
        }
        return fmt_error(c, n, "only integers and bools can be formatted as binary", v);
    default:
        return sb_cel__err(c, n, "error during formatting: unrecognized formatting clause '%%%c'", conv);
    }
}

sb_val sb_cel__format(cel_ctx *c, const cel_node *n, sb_val fmt, sb_val args)
{
    const char *f = sb_str(fmt);
    size_t fl = sb_str_len(fmt), argi = 0, nargs = sb_list_len(args);
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < fl; i++) {
        if (f[i] != '%') {
            sb_buf_putc(&b, f[i]);
            continue;
        }
        if (++i >= fl) {
            sb_buf_free(&b);
            return sb_cel__err(c, n, "error during formatting: a format string cannot end with '%%'");
        }
        if (f[i] == '%') {
            sb_buf_putc(&b, '%');
            continue;
        }
        int prec = -1;
        if (f[i] == '.') {
            prec = 0;
            size_t d0 = ++i;
            while (i < fl && f[i] >= '0' && f[i] <= '9') {
                if (prec <= MAX_PRECISION)
                    prec = prec * 10 + (f[i] - '0');
                i++;
            }
            if (i == d0 || i >= fl) {
                sb_buf_free(&b);
                return sb_cel__err(c, n, "error during formatting: a precision needs digits and a clause");
            }
            if (prec > MAX_PRECISION) {
                sb_buf_free(&b);
                return sb_cel__err(c, n, "error during formatting: precision larger than %d", MAX_PRECISION);
            }
        }
        if (argi >= nargs) {
            sb_buf_free(&b);
            return sb_cel__err(c, n, "error during formatting: index %zu out of range (%zu arguments)", argi, nargs);
        }
        sb_val e = clause(c, n, &b, f[i], prec, *sb_list_at(args, argi++));
        if (e.kind == SB_ERROR) {
            sb_buf_free(&b);
            return e;
        }
        if (!sb_cel__charge_bytes(c, b.len / 8 + 1)) {
            sb_buf_free(&b);
            return sb_cel__fatal(c);
        }
    }
    return sb_cel__buf_to_string(c, n, &b, false);
}

sb_val sb_cel__quote(cel_ctx *c, const cel_node *n, sb_val s)
{
    sb_buf b = SB_BUF_INIT;
    const char *p = sb_str(s);
    size_t len = sb_str_len(s);
    sb_buf_putc(&b, '"');
    for (size_t i = 0; i < len; i++) {
        switch (p[i]) {
        case '\a':
            sb_buf_puts(&b, "\\a");
            break;
        case '\b':
            sb_buf_puts(&b, "\\b");
            break;
        case '\f':
            sb_buf_puts(&b, "\\f");
            break;
        case '\n':
            sb_buf_puts(&b, "\\n");
            break;
        case '\r':
            sb_buf_puts(&b, "\\r");
            break;
        case '\t':
            sb_buf_puts(&b, "\\t");
            break;
        case '\v':
            sb_buf_puts(&b, "\\v");
            break;
        case '\\':
            sb_buf_puts(&b, "\\\\");
            break;
        case '"':
            sb_buf_puts(&b, "\\\"");
            break;
        default:
            sb_buf_putc(&b, p[i]);
            break;
        }
    }
    sb_buf_putc(&b, '"');
    return sb_cel__buf_to_string(c, n, &b, false);
}
