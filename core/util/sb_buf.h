/* A growable byte buffer, always NUL-terminated. On allocation failure the
 * buffer enters a sticky failed state: later appends do nothing and
 * sb_buf_failed() says so, so callers check once at the end. */
#ifndef SB_BUF_H
#define SB_BUF_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sb_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
    bool failed;
} sb_buf;

#define SB_BUF_INIT {NULL, 0, 0, false}

void sb_buf_append(sb_buf *b, const void *data, size_t len);
void sb_buf_puts(sb_buf *b, const char *s);
/* v in decimal, as %lld writes it (without printf's cost). */
void sb_buf_int(sb_buf *b, int64_t v);
/* The same digits into out (SB_INT_CHARS bytes, no NUL); the length. */
#define SB_INT_CHARS 24
size_t sb_int_chars(char *out, int64_t v);
size_t sb_uint_chars(char *out, uint64_t v);
void sb_buf_putc(sb_buf *b, char c);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sb_buf_printf(sb_buf *b, const char *fmt, ...);
void sb_buf_vprintf(sb_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (quotes included). */
void sb_buf_json_string(sb_buf *b, const char *s, size_t len);
/* Appends the shortest decimal that reads back as d (finite d only). */
void sb_buf_double(sb_buf *b, double d);
/* The digits of that decimal for a finite d other than zero, sign left out:
 * dig gets them without trailing zeros, NUL-terminated (24 bytes suffice),
 * *exp10 the power of ten of the first. Returns how many. */
int sb_double_digits(double d, char *dig, int *exp10);
bool sb_buf_failed(const sb_buf *b);
/* The contents ("" when empty); valid until the next append or free. */
const char *sb_buf_str(const sb_buf *b);
/* Hands the contents to the caller (free with sb_free); resets b. NULL if failed. */
char *sb_buf_take(sb_buf *b);
void sb_buf_reset(sb_buf *b);
void sb_buf_free(sb_buf *b);

#endif
