#include "sb_buf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_alloc.h"
#include "sb_grow.h"

/* inline: sibyl.wasm inlines only functions declared so (cmake/SizeProfile.cmake) */
static inline bool reserve(sb_buf *b, size_t extra)
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

void sb_buf_putc(sb_buf *b, char c)
{
    if (!reserve(b, 1))
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

/* u in decimal, a '-' before it if neg, into out; the length. */
static size_t decimal_chars(char *out, uint64_t u, bool neg)
{
    char tmp[SB_INT_CHARS], *p = tmp + sizeof tmp;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (neg)
        *--p = '-';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out, p, n);
    return n;
}

size_t sb_int_chars(char *out, int64_t v)
{
    return decimal_chars(out, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
}

size_t sb_uint_chars(char *out, uint64_t v)
{
    return decimal_chars(out, v, false);
}

void sb_buf_int(sb_buf *b, int64_t v)
{
    char tmp[SB_INT_CHARS];
    sb_buf_append(b, tmp, sb_int_chars(tmp, v));
}

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
    /* Most strings (keys, ids, names) need no escaping: one reservation
     * and one copy, quotes included. */
    size_t plain = 0;
    while (plain < len) {
        unsigned char c = (unsigned char)s[plain];
        if (c < 0x20 || c == '"' || c == '\\')
            break;
        plain++;
    }
    if (plain == len) {
        if (!reserve(b, len + 2))
            return;
        char *p = b->data + b->len;
        p[0] = '"';
        if (len)
            memcpy(p + 1, s, len);
        p[len + 1] = '"';
        p[len + 2] = '\0';
        b->len += len + 2;
        return;
    }
    sb_buf_putc(b, '"');
    size_t run = 0; /* s[run..i) needs no escaping: appended in one go */
    for (size_t i = plain; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sb_buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': sb_buf_append(b, "\\\"", 2); break;
        case '\\': sb_buf_append(b, "\\\\", 2); break;
        case '\n': sb_buf_append(b, "\\n", 2); break;
        case '\r': sb_buf_append(b, "\\r", 2); break;
        case '\t': sb_buf_append(b, "\\t", 2); break;
        case '\b': sb_buf_append(b, "\\b", 2); break;
        case '\f': sb_buf_append(b, "\\f", 2); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sb_buf_append(b, e, 6);
        }
        }
    }
    sb_buf_append(b, s + run, len - run);
    sb_buf_putc(b, '"');
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Whether the %g text s reads back as d. Most texts have at most 15
 * significant digits and a small exponent: then the value is one exact
 * integer times or divided by an exact power of ten, a single correctly
 * rounded operation, so it equals what strtod would return (Clinger's fast
 * path) without strtod's cost (which dominates writing JSON in the wasm
 * build). Anything else goes to strtod. */
static bool reads_back(const char *s, double d)
{
    const char *p = s;
    bool neg = *p == '-';
    p += neg;
    uint64_t m = 0;
    int digits = 0, exp10 = 0;
    bool point = false;
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (m || *p != '0')
                digits++;
            m = m * 10 + (uint64_t)(*p - '0');
            exp10 -= point;
            if (digits > 15)
                return strtod(s, NULL) == d;
        } else if (*p == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (*p == 'e' || *p == 'E') {
        int sign = 1, e = 0;
        p++;
        if (*p == '+' || *p == '-')
            sign = *p++ == '-' ? -1 : 1;
        while (*p >= '0' && *p <= '9' && e < 1000)
            e = e * 10 + (*p++ - '0');
        exp10 += sign * e;
    }
    if (*p || exp10 < -22 || exp10 > 22)
        return strtod(s, NULL) == d;
    double x = exp10 < 0 ? (double)m / pow10_exact[-exp10] : (double)m * pow10_exact[exp10];
    return (neg ? -x : x) == d;
}

/* The common case of sb_buf_double without printf: a = |d| (finite, not
 * zero, not a power of two) equals m / 10^k for a small integer m, with k as
 * small as possible (short_digits finds m and k). m / 10^k in double
 * arithmetic is one correctly rounded division, so it equals what strtod
 * makes of the text; the smallest such k gives the same digits as the
 * smallest %g precision that reads back (a power of two is left out: its
 * rounding interval is lopsided, and the nearest candidate is not always the
 * one that reads back). short_decimal writes the text %g would give and
 * returns true, or false to leave d to the general path. out holds 40. */
static bool short_digits(double a, uint64_t *mout, int *kout)
{
    int e2;
    if (!(a > 0) || frexp(a, &e2) == 0.5 || a >= 1e16)
        return false;
    for (int k = 0; k <= 22; k++) {
        double x = a * pow10_exact[k];
        if (x >= 1125899906842624.0) /* 2^50: past here m can be off by one */
            return false;
        uint64_t m = (uint64_t)(x + 0.5);
        if ((double)m / pow10_exact[k] == a) {
            *mout = m;
            *kout = k;
            return true;
        }
    }
    return false;
}

static bool short_decimal(char *out, double d)
{
    uint64_t m;
    int k;
    if (!short_digits(fabs(d), &m, &k))
        return false;
    char dig[24], *q = dig + sizeof dig;
    do
        *--q = (char)('0' + m % 10);
    while (m /= 10);
    int n = (int)(dig + sizeof dig - q);
    memmove(dig, q, (size_t)n);
    int exp10 = n - 1 - k; /* of the leading digit */
    char *o = out;
    if (d < 0)
        *o++ = '-';
    if (k == 0) { /* a whole number: written as 500.0 below anyway */
        memcpy(o, dig, (size_t)n);
        o += n;
    } else if (exp10 >= -4) { /* %g's fixed notation, k decimals */
        if (exp10 < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = -1; i > exp10; i--)
                *o++ = '0';
            memcpy(o, dig, (size_t)n);
            o += n;
        } else {
            memcpy(o, dig, (size_t)exp10 + 1);
            o += exp10 + 1;
            *o++ = '.';
            memcpy(o, dig + exp10 + 1, (size_t)(n - exp10 - 1));
            o += n - exp10 - 1;
        }
    } else { /* %g's exponent notation: d.ddde-XX */
        *o++ = dig[0];
        if (n > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)n - 1);
            o += n - 1;
        }
        /* exp10 is -5 .. -23 here: two digits, as %g writes them */
        *o++ = 'e';
        *o++ = '-';
        *o++ = (char)('0' + -exp10 / 10);
        *o++ = (char)('0' + -exp10 % 10);
    }
    *o = '\0';
    return true;
}

/* The general path: the smallest %g precision whose text reads back as d,
 * into out (40 bytes). Seventeen digits always read back. When d is finite,
 * not zero and not a power of two, its rounding interval is symmetric, so if
 * p digits read back so do p + 1 (the (p+1)-digit rounding is at least as
 * near as the p-digit one, padded): the precisions that read back are one
 * upper range and a search finds its start, the precision the one-by-one
 * scan would stop at. The search starts at 16: short_decimal has already
 * taken most values that need fewer digits, so 15 is the next to try.
 * Otherwise the one-by-one scan. */
static void shortest_g(char *out, double d)
{
    int e2;
    double a = fabs(d);
    if (!(a > 0) || isinf(a) || frexp(a, &e2) == 0.5) {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(out, 40, "%.*g", prec, d);
            if (reads_back(out, d))
                return;
        }
        return;
    }
    char probe[40];
    int lo = 1, hi = 17, mid = 16; /* hi reads back; below lo none does */
    bool have_hi = false;          /* out holds the text at hi */
    while (lo < hi) {
        snprintf(probe, sizeof probe, "%.*g", mid, d);
        if (reads_back(probe, d)) {
            hi = mid;
            memcpy(out, probe, sizeof probe);
            have_hi = true;
        } else {
            lo = mid + 1;
        }
        /* Values that come here mostly need 16 or 17 digits: after 16
         * reads back, 15 settles it in one more try. */
        mid = hi == 16 && lo <= 15 ? 15 : lo + (hi - lo) / 2;
    }
    if (!have_hi)
        snprintf(out, 40, "%.*g", hi, d);
}

int sb_double_digits(double d, char *dig, int *exp10)
{
    uint64_t m;
    int k, n = 0;
    if (short_digits(fabs(d), &m, &k)) {
        n = (int)sb_uint_chars(dig, m);
        *exp10 = n - 1 - k;
    } else {
        /* the %g text ("0.0012", "123.5", "1.5e+300"): its significant
         * digits, and the place of the first among the integer digits */
        char tmp[40];
        shortest_g(tmp, fabs(d));
        const char *p = tmp;
        int seen = 0, ints = -1, first = -1;
        for (; *p && *p != 'e'; p++) {
            if (*p == '.') {
                ints = seen;
                continue;
            }
            if (first < 0 && *p != '0')
                first = seen;
            if (first >= 0)
                dig[n++] = *p;
            seen++;
        }
        *exp10 = (ints < 0 ? seen : ints) - 1 - first + (*p == 'e' ? atoi(p + 1) : 0);
    }
    while (n > 1 && dig[n - 1] == '0')
        n--;
    dig[n] = '\0';
    return n;
}

void sb_buf_double(sb_buf *b, double d)
{
    /* Shortest round-trip form: the same digits from glibc and wasi-libc,
     * which is what keeps native and wasm output byte-identical. */
    char tmp[40];
    if (!short_decimal(tmp, d))
        shortest_g(tmp, d);
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
