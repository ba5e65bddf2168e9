/* The JSON grammar (RFC 8259), recursive descent straight into sb_val.
 * Recursion follows nesting and stops at SB_JSON_MAX_DEPTH. Positions are
 * worked out only when there is an error to report, so reading costs one
 * pass over the text. */
#include "sb_json.h"

#include <stdio.h>
#include <string.h>

#include "sb_json_int.h"

void sb_json__fail(sb_json__parser *p, size_t at, const char *msg)
{
    if (p->failed)
        return;
    p->failed = true;
    p->err_pos = at;
    p->err = msg;
    p->err_detail[0] = '\0';
}

void sb_json__oom(sb_json__parser *p)
{
    p->failed = true;
    p->oom = true;
}

static void skip_ws(sb_json__parser *p)
{
    const unsigned char *s = p->s;
    size_t i = p->pos, n = p->len;
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    p->pos = i;
}

/* Says what is wrong with the byte at p->pos where `expected` was wanted,
 * naming the usual mistakes (comments, single quotes, other whitespace). */
static void fail_at(sb_json__parser *p, const char *expected)
{
    size_t at = p->pos;
    if (at >= p->len) {
        sb_json__fail(p, at, "unexpected end of JSON text");
        return;
    }
    const unsigned char *s = p->s + at;
    unsigned c = s[0];
    if (c == '/' && at + 1 < p->len && (s[1] == '/' || s[1] == '*'))
        sb_json__fail(p, at, "comments are not allowed in JSON");
    else if (c == '\'')
        sb_json__fail(p, at, "single quotes are not JSON; strings and keys take double quotes");
    else if (c == '\f' || c == '\v')
        sb_json__fail(p, at, "form feed and vertical tab are not JSON whitespace");
    else if (c == 0xEF && at + 2 < p->len && s[1] == 0xBB && s[2] == 0xBF)
        sb_json__fail(p, at, "byte order mark (U+FEFF) in JSON text");
    else if (c == 0xC2 && at + 1 < p->len && s[1] == 0xA0)
        sb_json__fail(p, at, "no-break space (U+00A0) is not JSON whitespace");
    else if (c >= 0x80 && !sb_json__utf8_len(s, p->len - at))
        sb_json__fail(p, at, "invalid UTF-8");
    else {
        sb_json__fail(p, at, expected);
        if (c >= 0x20 && c < 0x7F)
            snprintf(p->err_detail, sizeof p->err_detail, ", found '%c'", c);
        else if (c < 0x20 || c == 0x7F)
            snprintf(p->err_detail, sizeof p->err_detail, ", found control character U+%04X", c);
        else
            snprintf(p->err_detail, sizeof p->err_detail, ", found a non-ASCII character");
    }
}

static sb_val value(sb_json__parser *p);

/* Opening an array or object: one more level, refused past the limit. */
static bool enter(sb_json__parser *p)
{
    if (p->depth >= SB_JSON_MAX_DEPTH) {
        sb_json__fail(p, p->pos, "nesting deeper than ");
        snprintf(p->err_detail, sizeof p->err_detail, "%d levels", SB_JSON_MAX_DEPTH);
        return false;
    }
    p->depth++;
    p->pos++;
    skip_ws(p);
    return true;
}

/* What follows an array element or an object member: ',' and more to come,
 * the closing bracket (the container ends here), or an error. After a ',' a
 * closing bracket is a trailing comma. */
enum { SEP_MORE, SEP_CLOSED, SEP_FAILED };
static int separator(sb_json__parser *p, unsigned char close, const char *expected)
{
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ',') {
        size_t comma = p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == close) {
            sb_json__fail(p, comma, "trailing comma");
            return SEP_FAILED;
        }
        return SEP_MORE;
    }
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return SEP_CLOSED;
    }
    fail_at(p, expected);
    return SEP_FAILED;
}

/* array -> '[' ( value ( ',' value )* )? ']' */
static sb_val array(sb_json__parser *p)
{
    if (!enter(p))
        return sb_null();
    sb_val list = sb_list_new(0);
    if (sb_is_oom(list)) {
        sb_json__oom(p);
        return sb_null();
    }
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        p->depth--;
        return list;
    }
    for (;;) {
        sb_val item = value(p);
        if (p->failed)
            break;
        if (!sb_list_push(&list, item)) {
            sb_json__oom(p);
            break;
        }
        int sep = separator(p, ']', "expected ',' or ']' after an array element");
        if (sep == SEP_CLOSED)
            return list;
        if (sep == SEP_FAILED)
            break;
    }
    sb_val_free(list);
    return sb_null();
}

/* object -> '{' ( string ':' value ( ',' string ':' value )* )? '}'
 * A key given twice keeps its first place and its last value, as in
 * JavaScript's JSON.parse. */
static sb_val object(sb_json__parser *p)
{
    if (!enter(p))
        return sb_null();
    sb_val map = sb_map_new(0);
    if (sb_is_oom(map)) {
        sb_json__oom(p);
        return sb_null();
    }
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        p->depth--;
        return map;
    }
    for (;;) {
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            fail_at(p, "expected a string in double quotes as the key");
            break;
        }
        sb_val key = sb_json__string(p, true);
        if (p->failed)
            break;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            sb_val_free(key);
            fail_at(p, "expected ':' after the key");
            break;
        }
        p->pos++;
        sb_val val = value(p);
        if (p->failed) {
            sb_val_free(key);
            break;
        }
        if (!sb_map_set(&map, key, val)) {
            sb_json__oom(p);
            break;
        }
        int sep = separator(p, '}', "expected ',' or '}' after a member");
        if (sep == SEP_CLOSED)
            return map;
        if (sep == SEP_FAILED)
            break;
    }
    sb_val_free(map);
    return sb_null();
}

static sb_val literal(sb_json__parser *p, const char *word, sb_val v)
{
    size_t n = strlen(word);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, word, n) == 0) {
        p->pos += n;
        return v;
    }
    sb_json__fail(p, p->pos, "invalid literal (JSON has true, false and null, in lowercase)");
    return sb_null();
}

/* value -> object | array | string | number | true | false | null */
static sb_val value(sb_json__parser *p)
{
    skip_ws(p);
    if (p->pos >= p->len) {
        sb_json__fail(p, p->pos, "unexpected end of JSON text");
        return sb_null();
    }
    switch (p->s[p->pos]) {
    case '{': return object(p);
    case '[': return array(p);
    case '"': return sb_json__string(p, false);
    case 't': return literal(p, "true", sb_bool(true));
    case 'f': return literal(p, "false", sb_bool(false));
    case 'n': return literal(p, "null", sb_null());
    case '-':
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        return sb_json__number(p);
    case 'N':
    case 'I': sb_json__fail(p, p->pos, "NaN and Infinity are not JSON numbers"); return sb_null();
    case '+': sb_json__fail(p, p->pos, "a JSON number cannot start with '+'"); return sb_null();
    case '.': sb_json__fail(p, p->pos, "a JSON number needs a digit before the decimal point"); return sb_null();
    default: fail_at(p, "expected a JSON value"); return sb_null();
    }
}

/* 1-based line and column of byte offset off; columns count characters
 * (UTF-8 lead bytes), lines end at LF, CR LF or a lone CR. */
static void position(const unsigned char *s, size_t len, size_t off, unsigned long *line, unsigned long *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))) {
            ++*line;
            *col = 1;
        } else if ((s[i] & 0xC0) != 0x80 && s[i] != '\r') {
            ++*col;
        }
    }
}

sb_val sb_json_parse(const char *text, size_t len)
{
    sb_json__parser p;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)(text ? text : "");
    p.len = text ? len : 0;
    sb_val v = value(&p);
    if (!p.failed) {
        skip_ws(&p);
        if (p.pos < p.len) {
            fail_at(&p, "unexpected text after the JSON value");
            sb_val_free(v);
        }
    }
    sb_buf_free(&p.scratch);
    if (p.oom)
        return sb_oom();
    if (!p.failed)
        return v;
    unsigned long line, col;
    position(p.s, p.len, p.err_pos, &line, &col);
    return sb_errorf("line %lu, column %lu: %s%s", line, col, p.err, p.err_detail);
}
