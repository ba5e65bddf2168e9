/* The CEL lexer (cel-spec langdef, "lexis"). Tokens carry byte offsets;
 * string and bytes literals are decoded here, escapes included. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "cel_int.h"

static const char *const reserved[] = {"as",        "break",  "const",  "continue", "else", "for",
                                       "function",  "if",     "import", "let",      "loop", "package",
                                       "namespace", "return", "var",    "void",     "while"};

bool sb_cel__is_reserved(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0)
            return true;
    return false;
}

void sb_cel__lex_init(cel_lexer *lx, const char *src, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->val = sb_null();
}

void sb_cel__lex_free(cel_lexer *lx)
{
    sb_val_free(lx->val);
    lx->val = sb_null();
}

static void lex_error(cel_lexer *lx, size_t pos, const char *msg)
{
    lx->tok = T_ERR;
    lx->errpos = pos;
    snprintf(lx->errmsg, sizeof lx->errmsg, "%s", msg);
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int peek(const cel_lexer *lx, size_t off)
{
    return lx->pos + off < lx->len ? (unsigned char)lx->src[lx->pos + off] : -1;
}

/* Reads n hex digits at src[*i]; -1 if not all are hex. */
static long read_hex(const cel_lexer *lx, size_t *i, int n)
{
    long v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= lx->len)
            return -1;
        int h = hexval((unsigned char)lx->src[*i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
        (*i)++;
    }
    return v;
}

/* One escape sequence after the backslash at src[*i - 1]; appends to b.
 * Returns false with an error set. */
static bool lex_escape(cel_lexer *lx, size_t *i, bool bytes, sb_buf *b)
{
    size_t at = *i - 1;
    if (*i >= lx->len) {
        lex_error(lx, at, "unterminated escape sequence");
        return false;
    }
    int c = (unsigned char)lx->src[(*i)++];
    switch (c) {
    case '\\':
    case '?':
    case '"':
    case '\'':
    case '`':
        sb_buf_putc(b, (char)c);
        return true;
    case 'a':
        sb_buf_putc(b, '\a');
        return true;
    case 'b':
        sb_buf_putc(b, '\b');
        return true;
    case 'f':
        sb_buf_putc(b, '\f');
        return true;
    case 'n':
        sb_buf_putc(b, '\n');
        return true;
    case 'r':
        sb_buf_putc(b, '\r');
        return true;
    case 't':
        sb_buf_putc(b, '\t');
        return true;
    case 'v':
        sb_buf_putc(b, '\v');
        return true;
    case 'x':
    case 'X': {
        long v = read_hex(lx, i, 2);
        if (v < 0) {
            lex_error(lx, at, "invalid \\x escape: two hex digits expected");
            return false;
        }
        if (bytes)
            sb_buf_putc(b, (char)v);
        else
            sb_cel__utf8_put(b, (uint32_t)v);
        return true;
    }
    case 'u':
    case 'U': {
        long v = read_hex(lx, i, c == 'u' ? 4 : 8);
        if (v < 0) {
            lex_error(lx, at,
                      c == 'u' ? "invalid \\u escape: four hex digits expected"
                               : "invalid \\U escape: eight hex digits expected");
            return false;
        }
        if (bytes) {
            lex_error(lx, at, "unicode escape in a bytes literal (use \\x or octal)");
            return false;
        }
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
            lex_error(lx, at, "invalid unicode code point in escape");
            return false;
        }
        sb_cel__utf8_put(b, (uint32_t)v);
        return true;
    }
    default:
        if (c >= '0' && c <= '3') {
            int d1 = *i < lx->len ? (unsigned char)lx->src[*i] : -1;
            int d2 = *i + 1 < lx->len ? (unsigned char)lx->src[*i + 1] : -1;
            if (d1 >= '0' && d1 <= '7' && d2 >= '0' && d2 <= '7') {
                unsigned v = (unsigned)(c - '0') * 64 + (unsigned)(d1 - '0') * 8 + (unsigned)(d2 - '0');
                *i += 2;
                if (bytes)
                    sb_buf_putc(b, (char)v);
                else
                    sb_cel__utf8_put(b, v);
                return true;
            }
        }
        lex_error(lx, at, "invalid escape sequence");
        return false;
    }
}

/* A string or bytes literal whose opening quote is at lx->pos. */
static void lex_string(cel_lexer *lx, bool raw, bool bytes)
{
    size_t i = lx->pos;
    char q = lx->src[i];
    bool triple = i + 2 < lx->len && lx->src[i + 1] == q && lx->src[i + 2] == q;
    i += triple ? 3 : 1;
    sb_buf b = SB_BUF_INIT;
    for (;;) {
        if (i >= lx->len) {
            sb_buf_free(&b);
            lex_error(lx, lx->start, "unterminated string literal");
            return;
        }
        char ch = lx->src[i];
        if (ch == q) {
            if (!triple) {
                i++;
                break;
            }
            if (i + 2 < lx->len && lx->src[i + 1] == q && lx->src[i + 2] == q) {
                i += 3;
                break;
            }
        }
        if (!triple && (ch == '\n' || ch == '\r')) {
            sb_buf_free(&b);
            lex_error(lx, i, "newline in a quoted string (use a triple-quoted string or \\n)");
            return;
        }
        if (ch == '\\' && !raw) {
            i++;
            if (!lex_escape(lx, &i, bytes, &b)) {
                sb_buf_free(&b);
                return;
            }
            continue;
        }
        sb_buf_putc(&b, ch);
        i++;
    }
    lx->pos = i;
    lx->end = i;
    if (sb_buf_failed(&b)) {
        sb_buf_free(&b);
        lex_error(lx, lx->start, "out of memory");
        return;
    }
    if (!bytes && !sb_cel__utf8_valid(sb_buf_str(&b), b.len)) {
        sb_buf_free(&b);
        lex_error(lx, lx->start, "string literal is not valid UTF-8");
        return;
    }
    lx->val = bytes ? sb_bytes(b.data ? b.data : "", b.len) : sb_string(b.data ? b.data : "", b.len);
    sb_buf_free(&b);
    if (lx->val.kind == SB_ERROR) {
        lx->val = sb_null();
        lex_error(lx, lx->start, "out of memory");
        return;
    }
    lx->tok = bytes ? T_BYTES : T_STRING;
}

static void lex_number(cel_lexer *lx)
{
    size_t i = lx->pos;
    const char *s = lx->src;
    if (s[i] == '0' && i + 1 < lx->len && s[i + 1] == 'x') {
        i += 2;
        uint64_t v = 0;
        size_t d0 = i;
        bool over = false;
        while (i < lx->len && hexval((unsigned char)s[i]) >= 0) {
            if (v >> 60)
                over = true;
            v = v * 16 + (uint64_t)hexval((unsigned char)s[i]);
            i++;
        }
        if (i == d0) {
            lex_error(lx, lx->start, "hex literal without digits");
            return;
        }
        if (over) {
            lex_error(lx, lx->start, "integer literal out of range");
            return;
        }
        lx->tok = T_INT;
        if (i < lx->len && (s[i] == 'u' || s[i] == 'U')) {
            i++;
            lx->tok = T_UINT;
        }
        lx->val = sb_uint(v);
        lx->pos = lx->end = i;
        return;
    }
    while (i < lx->len && is_digit((unsigned char)s[i]))
        i++;
    bool is_float = false;
    if (i + 1 < lx->len && s[i] == '.' && is_digit((unsigned char)s[i + 1])) {
        is_float = true;
        i++;
        while (i < lx->len && is_digit((unsigned char)s[i]))
            i++;
    }
    if (i < lx->len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < lx->len && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < lx->len && is_digit((unsigned char)s[j])) {
            is_float = true;
            i = j;
            while (i < lx->len && is_digit((unsigned char)s[i]))
                i++;
        }
    }
    char tmp[512];
    size_t n = i - lx->pos;
    if (n >= sizeof tmp) {
        lex_error(lx, lx->start, "numeric literal too long");
        return;
    }
    memcpy(tmp, s + lx->pos, n);
    tmp[n] = '\0';
    if (is_float) {
        lx->tok = T_DOUBLE;
        lx->val = sb_double(strtod(tmp, NULL));
    } else {
        uint64_t v = 0;
        for (size_t k = 0; k < n; k++) {
            unsigned d = (unsigned)(tmp[k] - '0');
            if (v > (UINT64_MAX - d) / 10) {
                lex_error(lx, lx->start, "integer literal out of range");
                return;
            }
            v = v * 10 + d;
        }
        lx->tok = T_INT;
        if (i < lx->len && (s[i] == 'u' || s[i] == 'U')) {
            i++;
            lx->tok = T_UINT;
        }
        lx->val = sb_uint(v);
    }
    if (i < lx->len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]))) {
        lex_error(lx, i, "unexpected character after a number");
        return;
    }
    lx->pos = lx->end = i;
}

void sb_cel__lex_next(cel_lexer *lx)
{
    sb_val_free(lx->val);
    lx->val = sb_null();
    if (lx->tok == T_ERR)
        return; /* errors are sticky */
    const char *s = lx->src;
    for (;;) {
        while (lx->pos < lx->len && s[lx->pos] != '\0' && strchr(" \t\n\r\f", s[lx->pos]))
            lx->pos++;
        if (lx->pos + 1 < lx->len && s[lx->pos] == '/' && s[lx->pos + 1] == '/') {
            while (lx->pos < lx->len && s[lx->pos] != '\n' && s[lx->pos] != '\r')
                lx->pos++;
            continue;
        }
        break;
    }
    lx->start = lx->pos;
    if (lx->pos >= lx->len) {
        lx->tok = T_EOF;
        lx->end = lx->pos;
        return;
    }
    int c = (unsigned char)s[lx->pos];
    int c1 = peek(lx, 1);
    /* string prefixes: r, b, and the two combined in either order */
    if (c == 'r' || c == 'R' || c == 'b' || c == 'B') {
        bool raw = false, bytes = false;
        size_t k = 0;
        for (; k < 2 && lx->pos + k < lx->len; k++) {
            int p = (unsigned char)s[lx->pos + k];
            if ((p == 'r' || p == 'R') && !raw)
                raw = true;
            else if ((p == 'b' || p == 'B') && !bytes)
                bytes = true;
            else
                break;
        }
        int q = peek(lx, k);
        if (q == '"' || q == '\'') {
            lx->pos += k;
            lex_string(lx, raw, bytes);
            return;
        }
    }
    if (c == '"' || c == '\'') {
        lex_string(lx, false, false);
        return;
    }
    if (is_digit(c) || (c == '.' && c1 >= 0 && is_digit(c1))) {
        lex_number(lx);
        return;
    }
    if (is_alpha(c)) {
        size_t i = lx->pos;
        while (i < lx->len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i])))
            i++;
        size_t n = i - lx->pos;
        lx->tok = T_IDENT;
        if (n == 4 && memcmp(s + lx->pos, "true", 4) == 0)
            lx->tok = T_TRUE;
        else if (n == 5 && memcmp(s + lx->pos, "false", 5) == 0)
            lx->tok = T_FALSE;
        else if (n == 4 && memcmp(s + lx->pos, "null", 4) == 0)
            lx->tok = T_NULL;
        else if (n == 2 && memcmp(s + lx->pos, "in", 2) == 0)
            lx->tok = T_IN;
        lx->pos = lx->end = i;
        return;
    }
    if (c == '`') {
        size_t i = lx->pos + 1;
        while (i < lx->len && s[i] != '`') {
            int ch = (unsigned char)s[i];
            if (!(is_alpha(ch) || is_digit(ch) || ch == '.' || ch == '-' || ch == '/' || ch == ' ')) {
                lex_error(lx, i, "invalid character in a `quoted` identifier");
                return;
            }
            i++;
        }
        if (i >= lx->len || i == lx->pos + 1) {
            lex_error(lx, lx->start, i >= lx->len ? "unterminated `quoted` identifier" : "empty `quoted` identifier");
            return;
        }
        lx->tok = T_ESC_IDENT;
        lx->pos = lx->end = i + 1;
        return;
    }
    cel_tok t;
    int n = 1;
    switch (c) {
    case '(':
        t = T_LPAREN;
        break;
    case ')':
        t = T_RPAREN;
        break;
    case '[':
        t = T_LBRACKET;
        break;
    case ']':
        t = T_RBRACKET;
        break;
    case '{':
        t = T_LBRACE;
        break;
    case '}':
        t = T_RBRACE;
        break;
    case '.':
        t = T_DOT;
        break;
    case ',':
        t = T_COMMA;
        break;
    case ':':
        t = T_COLON;
        break;
    case '?':
        t = T_QUESTION;
        break;
    case '+':
        t = T_PLUS;
        break;
    case '-':
        t = T_MINUS;
        break;
    case '*':
        t = T_STAR;
        break;
    case '/':
        t = T_SLASH;
        break;
    case '%':
        t = T_PERCENT;
        break;
    case '=':
        if (c1 != '=') {
            lex_error(lx, lx->pos, "unexpected '=' (use == to compare)");
            return;
        }
        t = T_EQ;
        n = 2;
        break;
    case '!':
        t = c1 == '=' ? T_NE : T_NOT;
        n = c1 == '=' ? 2 : 1;
        break;
    case '<':
        t = c1 == '=' ? T_LE : T_LT;
        n = c1 == '=' ? 2 : 1;
        break;
    case '>':
        t = c1 == '=' ? T_GE : T_GT;
        n = c1 == '=' ? 2 : 1;
        break;
    case '&':
        if (c1 != '&') {
            lex_error(lx, lx->pos, "unexpected '&' (use && for logical and)");
            return;
        }
        t = T_AND;
        n = 2;
        break;
    case '|':
        if (c1 != '|') {
            lex_error(lx, lx->pos, "unexpected '|' (use || for logical or)");
            return;
        }
        t = T_OR;
        n = 2;
        break;
    default: {
        char msg[64];
        if (c >= 0x20 && c < 0x7f)
            snprintf(msg, sizeof msg, "unexpected character '%c'", c);
        else
            snprintf(msg, sizeof msg, "unexpected character (byte 0x%02x)", (unsigned)c);
        lex_error(lx, lx->pos, msg);
        return;
    }
    }
    lx->tok = t;
    lx->pos += (size_t)n;
    lx->end = lx->pos;
}
