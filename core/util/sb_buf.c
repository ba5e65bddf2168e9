#include "sb_buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_alloc.h"
#include "sb_grow.h"

static bool reserve(sb_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    /* len + extra + 1 (the NUL) must not wrap */
    if (extra >= (size_t)-1 - b->len || !SB_GROW(b->data, b->cap, b->len + extra + 1)) {
        b->failed = true;
        return false;
    }
    return true;
}

void sb_buf_append(sb_buf *b, const void *data, size_t len)
{
    if (!reserve(b, len))
        return;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void sb_buf_puts(sb_buf *b, const char *s) { sb_buf_append(b, s, strlen(s)); }

void sb_buf_putc(sb_buf *b, char c) { sb_buf_append(b, &c, 1); }

void sb_buf_vprintf(sb_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || !reserve(b, (size_t)n)) {
        b->failed = true;
        return;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sb_buf_printf(sb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void sb_buf_json_string(sb_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    sb_buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': sb_buf_puts(b, "\\\""); break;
        case '\\': sb_buf_puts(b, "\\\\"); break;
        case '\n': sb_buf_puts(b, "\\n"); break;
        case '\r': sb_buf_puts(b, "\\r"); break;
        case '\t': sb_buf_puts(b, "\\t"); break;
        case '\b': sb_buf_puts(b, "\\b"); break;
        case '\f': sb_buf_puts(b, "\\f"); break;
        default:
            if (c < 0x20) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                sb_buf_append(b, e, 6);
            } else {
                sb_buf_putc(b, (char)c);
            }
        }
    }
    sb_buf_putc(b, '"');
}

void sb_buf_double(sb_buf *b, double d)
{
    /* Shortest round-trip form: the same digits from glibc and wasi-libc,
     * which is what keeps native and wasm output byte-identical. */
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* Whole numbers read better as 500.0 than as 5e+02 (which %g picks
     * when fewer digits suffice); keep exponents for the very large. */
    if (strpbrk(tmp, "eE") && d == floor(d) && fabs(d) < 1e16)
        snprintf(tmp, sizeof tmp, "%.1f", d);
    /* Keep a marker that this is a double: 2 -> 2.0, 1e+20 stays. */
    if (!strpbrk(tmp, ".eEn"))
        strcat(tmp, ".0");
    sb_buf_puts(b, tmp);
}

bool sb_buf_failed(const sb_buf *b) { return b->failed; }

const char *sb_buf_str(const sb_buf *b) { return b->data ? b->data : ""; }

char *sb_buf_take(sb_buf *b)
{
    char *p = NULL;
    if (!b->failed)
        p = b->data ? b->data : sb_strdup("");
    else
        sb_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return p;
}

void sb_buf_reset(sb_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

void sb_buf_free(sb_buf *b)
{
    sb_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}
