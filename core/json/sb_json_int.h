/* Internals of the JSON reader, shared by the .c files of core/json only.
 *
 * sb_json.c parses the grammar (values, arrays, objects, whitespace) and
 * turns a failure into "line L, column C: message"; sb_json_lex.c reads the
 * two tokens with inner structure, strings and numbers. Every reader starts
 * at p->pos, leaves p->pos after what it read, and on failure records the
 * first error (the later ones are consequences) and returns sb_null(). */
#ifndef SB_JSON_INT_H
#define SB_JSON_INT_H
#include <stdbool.h>
#include <stddef.h>

#include "../util/sb_buf.h"
#include "../value/sb_value.h"

typedef struct sb_json__parser {
    const unsigned char *s; /* borrowed: the text */
    size_t len, pos;
    int depth;              /* arrays and objects open around pos */
    sb_buf scratch;         /* owned: strings with escapes are decoded here */
    bool failed;            /* an error is recorded (or memory ran out) */
    bool oom;
    size_t err_pos;         /* byte offset the error points at */
    const char *err;        /* static message */
    char err_detail[96];    /* appended to err when not empty */
} sb_json__parser;

/* Records the first error: msg (static) at byte offset at. */
void sb_json__fail(sb_json__parser *p, size_t at, const char *msg);
/* Records running out of memory (wins over any text error). */
void sb_json__oom(sb_json__parser *p);

/* p->s[p->pos] is '"'. Returns the decoded string (may hold NUL bytes); a
 * member name (key) is made with sb_string_key. */
sb_val sb_json__string(sb_json__parser *p, bool key);
/* p->s[p->pos] is '-' or a digit. */
sb_val sb_json__number(sb_json__parser *p);

/* Length (1-4) of the well-formed UTF-8 sequence at s (n bytes available),
 * 0 if it is not one (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
size_t sb_json__utf8_len(const unsigned char *s, size_t n);

#endif
