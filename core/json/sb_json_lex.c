/* Strings and numbers of JSON text (RFC 8259 sections 6 and 7), read
 * straight into sb_val. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "sb_json_int.h"

size_t sb_json__utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t k;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F; /* U+D800..U+DFFF are surrogates, not characters */
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 (overlong ASCII), F5..FF */
    }
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return k;
}

static void put_utf8(sb_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sb_buf_append(b, u, n);
}

/* Four hex digits at s[i..i+3] -> 0..0xFFFF, or -1. */
static long hex4(const unsigned char *s, size_t n, size_t i)
{
    if (i + 4 > n)
        return -1;
    long v = 0;
    for (size_t k = i; k < i + 4; k++) {
        unsigned c = s[k];
        int h = c >= '0' && c <= '9' ? (int)c - '0' : c >= 'a' && c <= 'f' ? (int)c - 'a' + 10
                : c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* A raw byte below U+0020 inside a string; RFC 8259 wants it escaped. */
static void fail_control(sb_json__parser *p, size_t at)
{
    unsigned c = p->s[at];
    if (c == '\t') {
        sb_json__fail(p, at, "raw tab in a string (write \\t)");
    } else if (c == '\n' || c == '\r') {
        sb_json__fail(p, at, "raw line break in a string (write \\n, or close the string)");
    } else {
        sb_json__fail(p, at, "raw control character in a string: ");
        snprintf(p->err_detail, sizeof p->err_detail, "U+%04X (write \\u%04X)", c, c);
    }
}

/* The escape at s[i] == '\\': appends what it stands for to the scratch
 * buffer and returns the index after it, or 0 after recording an error. */
static size_t escape(sb_json__parser *p, size_t i)
{
    const unsigned char *s = p->s;
    size_t n = p->len;
    if (i + 1 >= n) {
        sb_json__fail(p, i, "unterminated string");
        return 0;
    }
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e = s[i + 1] ? strchr(from, s[i + 1]) : NULL;
    if (e) {
        sb_buf_putc(&p->scratch, to[e - from]);
        return i + 2;
    }
    if (s[i + 1] != 'u') {
        sb_json__fail(p, i, "invalid escape in a string: ");
        if (s[i + 1] >= 0x20 && s[i + 1] < 0x7F)
            snprintf(p->err_detail, sizeof p->err_detail, "\\%c", s[i + 1]);
        else
            snprintf(p->err_detail, sizeof p->err_detail, "a backslash before byte 0x%02X", s[i + 1]);
        return 0;
    }
    long cp = hex4(s, n, i + 2);
    if (cp < 0) {
        sb_json__fail(p, i, "invalid \\u escape (four hex digits expected)");
        return 0;
    }
    size_t next = i + 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo = next + 1 < n && s[next] == '\\' && s[next + 1] == 'u' ? hex4(s, n, next + 2) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF) {
            sb_json__fail(p, i, "lone surrogate in a string: ");
            snprintf(p->err_detail, sizeof p->err_detail, "\\u%04lX is not followed by a low surrogate \\uDC00-\\uDFFF",
                     cp);
            return 0;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        next += 6;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        sb_json__fail(p, i, "lone surrogate in a string: ");
        snprintf(p->err_detail, sizeof p->err_detail, "\\u%04lX without a high surrogate before it", cp);
        return 0;
    }
    put_utf8(&p->scratch, (unsigned)cp);
    return next;
}

/* string -> '"' chars '"'. The common case, no escapes, is copied straight
 * from the text; the first backslash switches to decoding into p->scratch.
 * An object's member name is made with sb_string_key: the same few names
 * recur in every object of a message, and a shared key costs no allocation. */
sb_val sb_json__string(sb_json__parser *p, bool key)
{
    const unsigned char *s = p->s;
    size_t n = p->len, open = p->pos, i = open + 1, run = i;
    bool escaped = false;
    if (p->scratch.data)
        sb_buf_reset(&p->scratch);
    for (;;) {
        if (i >= n) {
            sb_json__fail(p, open, "unterminated string");
            return sb_null();
        }
        unsigned c = s[i];
        if (c == '"')
            break;
        if (c == '\\') {
            sb_buf_append(&p->scratch, s + run, i - run);
            escaped = true;
            i = escape(p, i);
            if (!i)
                return sb_null();
            run = i;
        } else if (c < 0x20) {
            fail_control(p, i);
            return sb_null();
        } else if (c < 0x80) {
            i++;
        } else {
            size_t k = sb_json__utf8_len(s + i, n - i);
            if (!k) {
                sb_json__fail(p, i, "invalid UTF-8 in a string");
                return sb_null();
            }
            i += k;
        }
    }
    p->pos = i + 1;
    sb_val v;
    if (!escaped) {
        v = key ? sb_string_key((const char *)s + open + 1, i - open - 1)
                : sb_string((const char *)s + open + 1, i - open - 1);
    } else {
        sb_buf_append(&p->scratch, s + run, i - run);
        v = sb_buf_failed(&p->scratch) ? sb_oom()
            : key                      ? sb_string_key(p->scratch.data, p->scratch.len)
                                       : sb_string(p->scratch.data, p->scratch.len);
    }
    if (sb_is_oom(v)) {
        sb_json__oom(p);
        return sb_null();
    }
    return v;
}

static bool digit(const unsigned char *s, size_t n, size_t i) { return i < n && s[i] >= '0' && s[i] <= '9'; }

/* strtod on a NUL-terminated copy (the text need not end after the number). */
static double decimal(sb_json__parser *p, size_t start, size_t end, bool *ok)
{
    char tmp[64], *buf = tmp;
    size_t len = end - start;
    if (len >= sizeof tmp && !(buf = sb_malloc(len + 1))) {
        sb_json__oom(p);
        *ok = false;
        return 0;
    }
    memcpy(buf, p->s + start, len);
    buf[len] = '\0';
    double d = strtod(buf, NULL);
    if (buf != tmp)
        sb_free(buf);
    *ok = true;
    return d;
}

/* number -> '-'? int frac? exp?   int -> '0' | [1-9] [0-9]*
 * frac -> '.' [0-9]+              exp -> [eE] [+-]? [0-9]+
 *
 * Integers (no fraction, no exponent) keep their exact value: SB_INT within
 * int64, SB_UINT above it within uint64, SB_DOUBLE only beyond. Other numbers
 * are doubles (correctly rounded), made SB_INT when integral and within
 * +/-2^53, as JavaScript servers write 84.0 as 84 anyway. */
sb_val sb_json__number(sb_json__parser *p)
{
    const unsigned char *s = p->s;
    size_t n = p->len, start = p->pos, i = start;
    bool neg = s[i] == '-';
    if (neg)
        i++;
    if (!digit(s, n, i)) {
        if (i < n && (s[i] == 'I' || s[i] == 'N'))
            sb_json__fail(p, start, "NaN and Infinity are not JSON numbers");
        else
            sb_json__fail(p, i, "expected a digit after '-'");
        return sb_null();
    }
    if (s[i] == '0' && digit(s, n, i + 1)) {
        sb_json__fail(p, i, "leading zeros are not allowed in JSON numbers");
        return sb_null();
    }
    /* Significant digits into m while they fit (19 always do); e10 is the
     * power of ten m is to be scaled by. */
    uint64_t m = 0;
    int sig = 0, e10 = 0;
    bool big = false; /* more digits than m holds */
    for (; digit(s, n, i); i++) {
        if (sig < 19) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            sig += m != 0;
        } else {
            big = true;
        }
    }
    bool is_int = true;
    if (i < n && s[i] == '.') {
        is_int = false;
        i++;
        if (!digit(s, n, i)) {
            sb_json__fail(p, i, "expected a digit after the decimal point");
            return sb_null();
        }
        for (; digit(s, n, i); i++) {
            if (sig < 19) {
                m = m * 10 + (uint64_t)(s[i] - '0');
                sig += m != 0;
                e10--;
            } else {
                big = true;
            }
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        is_int = false;
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (!digit(s, n, i)) {
            sb_json__fail(p, i, "expected a digit in the exponent");
            return sb_null();
        }
        long x = 0;
        for (; digit(s, n, i); i++)
            if (x < 100000) /* far beyond any double; clamped so it cannot overflow */
                x = x * 10 + (s[i] - '0');
        e10 += (int)(eneg ? -x : x);
    }
    p->pos = i;
    if (is_int && !big) {
        /* m holds every digit: at most 19 of them, so m < 10^19 < 2^64 */
        if (!neg)
            return m <= (uint64_t)INT64_MAX ? sb_int((int64_t)m) : sb_uint(m);
        if (m <= (uint64_t)INT64_MAX)
            return sb_int(-(int64_t)m);
        if (m == (uint64_t)INT64_MAX + 1)
            return sb_int(INT64_MIN);
    }
    if (is_int && big && !neg && sig == 19 && i - start == 20) {
        /* 20 digits: exact in uint64 unless above 18446744073709551615 */
        unsigned last = s[i - 1] - '0';
        if (m < UINT64_MAX / 10 || (m == UINT64_MAX / 10 && last <= UINT64_MAX % 10))
            return sb_uint(m * 10 + last);
    }
    double d;
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (!big && m <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
        /* Both m and 10^|e10| are exact doubles, so one IEEE operation gives
         * the correctly rounded result (Clinger's fast path). */
        d = e10 < 0 ? (double)m / pow10[-e10] : (double)m * pow10[e10];
        if (neg)
            d = -d;
    } else {
        bool ok;
        d = decimal(p, start, i, &ok);
        if (!ok)
            return sb_null();
    }
    if (d == floor(d) && fabs(d) <= 9007199254740992.0)
        return sb_int((int64_t)d);
    return sb_double(d);
}
