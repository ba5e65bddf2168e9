/* UTF-8 helpers. CEL strings are sequences of code points: sizes, indexes
 * and ordering are in code points, while sb_val stores UTF-8 bytes. */
#include "cel_int.h"

int32_t sb_cel__utf8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = *i;
    unsigned c = p[k];
    if (c < 0x80) {
        *i = k + 1;
        return (int32_t)c;
    }
    int n;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if (k + (size_t)n >= len) /* truncated sequence */
        return -1;
    for (int j = 1; j <= n; j++) {
        unsigned cc = p[k + (size_t)j];
        if ((cc & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i = k + (size_t)n + 1;
    return (int32_t)cp;
}

bool sb_cel__utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        if (sb_cel__utf8_next(s, len, &i) < 0)
            return false;
    }
    return true;
}

size_t sb_cel__utf8_count(const char *s, size_t len)
{
    /* Valid UTF-8 is assumed: count the bytes that start a code point. */
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

size_t sb_cel__utf8_offset(const char *s, size_t len, size_t cp)
{
    size_t i = 0;
    while (i < len && cp > 0) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        cp--;
    }
    return i;
}

void sb_cel__utf8_put(sb_buf *b, uint32_t cp)
{
    char t[4];
    if (cp < 0x80) {
        sb_buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        sb_buf_append(b, t, 2);
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        sb_buf_append(b, t, 3);
    } else {
        t[0] = (char)(0xF0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        sb_buf_append(b, t, 4);
    }
}
