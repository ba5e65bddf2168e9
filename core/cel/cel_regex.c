/* A small regular expression engine for matches(): RE2 syntax (the common
 * part), matched by a Pike VM (Thompson NFA simulation), so the work is at
 * most |text| x |program| steps with no backtracking: no pattern can make a
 * match take exponential time. Patterns and texts are UTF-8 and match by
 * code point. matches() is a search: the pattern may match any substring.
 *
 * Supported: literals, ., [classes] with ranges, negation and [:posix:]
 * names, \d \w \s \D \W \S, \b \B \A \z ^ $, escapes (\n \t \x41 \x{263a}
 * and punctuation), groups (...) (?:...) (?P<n>...) (?<n>...), flags
 * (?i) (?m) (?s) (?U) and (?flags:...), alternation, * + ? {n} {n,} {n,m}
 * and their lazy forms. Differences from RE2 (docs/expressions.md):
 * \p{...} Unicode classes and \Q...\E are rejected; repetition counts are at most 1000 and the compiled program at most
 * MAX_PROG instructions. */
#include <stdio.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"
#include "cel_int.h"

#define MAX_PROG 20000
#define MAX_REPEAT 1000
#define MAX_NEST 100
/* Syntax nodes while parsing: bounds the parser's memory before MAX_PROG
 * can be checked on the finished tree. 65536 = 2^16, the largest power of two
 * within 4 * MAX_PROG, which is where the limit has always been. */
#define MAX_NODES 65536

enum { R_EMPTY, R_CHAR, R_ANY, R_CLASS, R_ASSERT, R_CAT, R_ALT, R_REPEAT };
enum { A_BOT, A_EOT, A_BOL, A_EOL, A_WORD, A_NOTWORD };
enum { I_CHAR, I_ANY, I_ANYNL, I_CLASS, I_SPLIT, I_JMP, I_ASSERT, I_MATCH };

typedef struct rnode {
    uint8_t type;
    uint8_t fold;     /* case-insensitive (Unicode simple folding, cel_fold.c) */
    uint8_t dotnl;    /* R_ANY: matches \n too */
    int32_t val;      /* char, class index, assert kind */
    int32_t min, max; /* R_REPEAT; max -1 = unbounded */
    int32_t kid;      /* first child (R_CAT, R_ALT, R_REPEAT) */
    int32_t next;     /* next sibling */
} rnode;

typedef struct rclass {
    uint32_t *r; /* pairs lo, hi */
    uint32_t n;  /* number of pairs */
    size_t cap;  /* room in r, in uint32s (two per pair) */
    bool neg, fold;
} rclass;

typedef struct inst {
    uint8_t op;
    uint8_t fold;
    int32_t x, y;
} inst;

struct cel_regex {
    inst *prog;
    int32_t n;
    rclass *cls;
    int32_t ncls;
};

typedef struct rparser {
    const char *s;
    size_t len, pos;
    rnode *nodes;
    int32_t nn;
    size_t capn;
    rclass *cls;
    int32_t ncls;
    size_t capc;
    bool fold, multiline, dotnl;
    int depth;
    char *err;
    size_t errlen;
    bool failed;
} rparser;

static void fail(rparser *p, const char *msg)
{
    if (!p->failed)
        snprintf(p->err, p->errlen, "%s at offset %zu", msg, p->pos);
    p->failed = true;
}

static int32_t newnode(rparser *p, int type)
{
    if (p->nn >= MAX_NODES) {
        fail(p, "regular expression too large");
        return -1;
    }
    if (!SB_GROW(p->nodes, p->capn, (size_t)p->nn + 1)) {
        fail(p, "out of memory");
        return -1;
    }
    rnode *n = &p->nodes[p->nn];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    n->kid = n->next = -1;
    n->fold = p->fold;
    n->dotnl = p->dotnl;
    return p->nn++;
}

static int32_t newclass(rparser *p)
{
    if (!SB_GROW(p->cls, p->capc, (size_t)p->ncls + 1)) {
        fail(p, "out of memory");
        return -1;
    }
    memset(&p->cls[p->ncls], 0, sizeof *p->cls);
    p->cls[p->ncls].fold = p->fold;
    return p->ncls++;
}

static bool add_range(rparser *p, rclass *c, uint32_t lo, uint32_t hi)
{
    if (c->n >= 4096) {
        fail(p, "character class too large");
        return false;
    }
    if (!SB_GROW(c->r, c->cap, ((size_t)c->n + 1) * 2)) {
        fail(p, "out of memory");
        return false;
    }
    c->r[2 * c->n] = lo;
    c->r[2 * c->n + 1] = hi;
    c->n++;
    return true;
}

static bool ranges_have(const rclass *c, int32_t ch)
{
    for (uint32_t i = 0; i < c->n; i++)
        if ((uint32_t)ch >= c->r[2 * i] && (uint32_t)ch <= c->r[2 * i + 1])
            return true;
    return false;
}

/* (?i): adds every character whose case orbit meets the class, so that
 * matching needs no folding; a negated class then excludes whole orbits, as
 * in RE2. First the representative of each orbit met, then the other members
 * of the orbits whose representative is in. Runs of new characters are
 * merged into one range. */
static void close_fold(rparser *p, rclass *c)
{
    for (int pass = 0; pass < 2 && !p->failed; pass++) {
        uint32_t it = 0;
        for (int32_t ch; !p->failed && (ch = sb_cel__fold_next(&it)) >= 0;) {
            int32_t rep = sb_cel__fold(ch);
            int32_t add = pass == 0 ? rep : ch;
            if (ranges_have(c, add) || !ranges_have(c, pass == 0 ? ch : rep))
                continue;
            if (c->n && c->r[2 * c->n - 1] + 1 == (uint32_t)add)
                c->r[2 * c->n - 1] = (uint32_t)add;
            else
                add_range(p, c, (uint32_t)add, (uint32_t)add);
        }
    }
}

static bool more(const rparser *p)
{
    return p->pos < p->len && !p->failed;
}

static int32_t next_cp(rparser *p)
{
    int32_t c = sb_cel__utf8_next(p->s, p->len, &p->pos);
    if (c < 0) {
        fail(p, "invalid UTF-8 in pattern");
        p->pos = p->len;
    }
    return c;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Perl classes \d \s \w (and negations) into a class. */
static bool perl_class(rparser *p, rclass *c, int letter)
{
    switch (letter) {
    case 'd':
        return add_range(p, c, '0', '9');
    case 's':
        return add_range(p, c, '\t', '\n') && add_range(p, c, '\f', '\r') && add_range(p, c, ' ', ' ');
    case 'w':
        return add_range(p, c, '0', '9') && add_range(p, c, 'A', 'Z') && add_range(p, c, 'a', 'z') &&
               add_range(p, c, '_', '_');
    }
    return false;
}

/* Adds the complement of the Perl class to c. */
static bool perl_class_neg(rparser *p, rclass *c, int letter)
{
    rclass t;
    memset(&t, 0, sizeof t);
    bool ok = perl_class(p, &t, letter);
    if (ok && p->fold) { /* (?i)\W: fold \w, then negate (as RE2) */
        close_fold(p, &t);
        ok = !p->failed;
        for (uint32_t i = 1; i < t.n; i++) /* insertion sort of the few ranges */
            for (uint32_t j = i; j > 0 && t.r[2 * j] < t.r[2 * j - 2]; j--) {
                uint32_t lo = t.r[2 * j], hi = t.r[2 * j + 1];
                t.r[2 * j] = t.r[2 * j - 2], t.r[2 * j + 1] = t.r[2 * j - 1];
                t.r[2 * j - 2] = lo, t.r[2 * j - 1] = hi;
            }
    }
    uint32_t lo = 0;
    /* ranges of the Perl classes are sorted and disjoint (folding adds
     * characters outside them) */
    for (uint32_t i = 0; ok && i < t.n; i++) {
        if (t.r[2 * i] > lo)
            ok = add_range(p, c, lo, t.r[2 * i] - 1);
        lo = t.r[2 * i + 1] + 1;
    }
    if (ok)
        ok = add_range(p, c, lo, 0x10FFFF);
    sb_free(t.r);
    return ok;
}

/* An escape after '\' (p->pos is past the backslash). Returns a code point,
 * or -2 - letter for a Perl class (\d...), or -1 on error. Assertions (\b,
 * \A...) are handled by the caller. */
static int32_t parse_escape(rparser *p)
{
    if (!more(p)) {
        fail(p, "trailing backslash");
        return -1;
    }
    int32_t c = next_cp(p);
    switch (c) {
    case 'n':
        return '\n';
    case 't':
        return '\t';
    case 'r':
        return '\r';
    case 'f':
        return '\f';
    case 'v':
        return '\v';
    case 'a':
        return '\a';
    case 'd':
    case 'D':
    case 's':
    case 'S':
    case 'w':
    case 'W':
        return -2 - c;
    case 'x': {
        if (more(p) && p->s[p->pos] == '{') {
            p->pos++;
            uint32_t v = 0;
            int nd = 0;
            while (more(p) && p->s[p->pos] != '}') {
                int h = hexv((unsigned char)p->s[p->pos++]);
                if (h < 0 || ++nd > 8) {
                    fail(p, "invalid \\x{...} escape");
                    return -1;
                }
                v = v * 16 + (uint32_t)h;
            }
            if (!more(p) || nd == 0 || v > 0x10FFFF) {
                fail(p, "invalid \\x{...} escape");
                return -1;
            }
            p->pos++;
            return (int32_t)v;
        }
        if (p->pos + 2 > p->len || hexv((unsigned char)p->s[p->pos]) < 0 || hexv((unsigned char)p->s[p->pos + 1]) < 0) {
            fail(p, "invalid \\x escape");
            return -1;
        }
        int32_t v = hexv((unsigned char)p->s[p->pos]) * 16 + hexv((unsigned char)p->s[p->pos + 1]);
        p->pos += 2;
        return v;
    }
    case 'p':
    case 'P':
        fail(p, "Unicode classes (\\p{...}) are not supported");
        return -1;
    case 'Q':
        fail(p, "\\Q...\\E is not supported");
        return -1;
    default:
        if (c >= 0 && c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return c; /* escaped punctuation */
        fail(p, "invalid escape sequence");
        return -1;
    }
}

static const struct {
    const char *name;
    const char *ranges; /* pairs of chars */
} posix[] = {
    {"alnum", "09AZaz"}, {"alpha", "AZaz"}, {"ascii", "\x01\x7f"}, {"blank", "\t\t  "},  {"cntrl", "\x01\x1f\x7f\x7f"},
    {"digit", "09"},     {"graph", "!~"},   {"lower", "az"},       {"print", " ~"},      {"punct", "!/:@[`{~"},
    {"space", "\t\r  "}, {"upper", "AZ"},   {"word", "09AZaz__"},  {"xdigit", "09AFaf"},
};

static int32_t parse_class(rparser *p)
{
    int32_t ci = newclass(p);
    if (ci < 0)
        return -1;
    rclass *c = &p->cls[ci];
    if (more(p) && p->s[p->pos] == '^') {
        c->neg = true;
        p->pos++;
    }
    bool first = true;
    for (;;) {
        if (!more(p)) {
            fail(p, "missing closing ]");
            return -1;
        }
        c = &p->cls[ci];
        if (p->s[p->pos] == ']' && !first) {
            p->pos++;
            break;
        }
        first = false;
        if (p->s[p->pos] == '[' && p->pos + 1 < p->len && p->s[p->pos + 1] == ':') {
            const char *end = memchr(p->s + p->pos + 2, ':', p->len - p->pos - 2);
            if (end && end + 1 < p->s + p->len && end[1] == ']') {
                size_t nl = (size_t)(end - (p->s + p->pos + 2));
                bool neg = nl > 0 && p->s[p->pos + 2] == '^';
                const char *nm = p->s + p->pos + 2 + (neg ? 1 : 0);
                if (neg)
                    nl--;
                size_t k = 0;
                for (; k < sizeof posix / sizeof *posix; k++)
                    if (strlen(posix[k].name) == nl && memcmp(posix[k].name, nm, nl) == 0)
                        break;
                if (k == sizeof posix / sizeof *posix || neg) {
                    fail(p, neg ? "negated [:^class:] is not supported" : "unknown [:class:] name");
                    return -1;
                }
                for (const char *r = posix[k].ranges; *r; r += 2)
                    if (!add_range(p, c, (unsigned char)r[0], (unsigned char)r[1]))
                        return -1;
                p->pos = (size_t)(end + 2 - p->s);
                continue;
            }
        }
        int32_t lo;
        if (p->s[p->pos] == '\\') {
            p->pos++;
            lo = parse_escape(p);
            if (lo == -1)
                return -1;
            if (lo < -1) {
                int letter = -2 - lo;
                bool ok = letter >= 'a' ? perl_class(p, c, letter) : perl_class_neg(p, c, letter + 32);
                if (!ok)
                    return -1;
                continue;
            }
        } else {
            lo = next_cp(p);
            if (lo < 0)
                return -1;
        }
        int32_t hi = lo;
        if (p->pos + 1 < p->len && p->s[p->pos] == '-' && p->s[p->pos + 1] != ']') {
            p->pos++;
            if (p->s[p->pos] == '\\') {
                p->pos++;
                hi = parse_escape(p);
                if (hi < 0) {
                    if (hi < -1)
                        fail(p, "invalid character class range");
                    return -1;
                }
            } else {
                hi = next_cp(p);
                if (hi < 0)
                    return -1;
            }
            if (hi < lo) {
                fail(p, "invalid character class range");
                return -1;
            }
        }
        if (!add_range(p, &p->cls[ci], (uint32_t)lo, (uint32_t)hi))
            return -1;
    }
    int32_t n = newnode(p, R_CLASS);
    if (n >= 0)
        p->nodes[n].val = ci;
    return n;
}

static int32_t parse_alt(rparser *p);

static void set_flags(rparser *p, const char *f, size_t n)
{
    bool on = true;
    for (size_t i = 0; i < n; i++) {
        switch (f[i]) {
        case '-':
            on = false;
            break;
        case 'i':
            p->fold = on;
            break;
        case 'm':
            p->multiline = on;
            break;
        case 's':
            p->dotnl = on;
            break;
        case 'U':
            break; /* greediness does not change whether a match exists */
        default:
            fail(p, "unknown flag in (?...)");
            return;
        }
    }
}

static int32_t parse_atom(rparser *p)
{
    int32_t c = (unsigned char)p->s[p->pos];
    if (c == '(') {
        p->pos++;
        if (++p->depth > MAX_NEST) {
            fail(p, "regular expression nested too deeply");
            return -1;
        }
        bool sf = p->fold, sm = p->multiline, sd = p->dotnl;
        if (more(p) && p->s[p->pos] == '?') {
            p->pos++;
            if (more(p) && (p->s[p->pos] == 'P' || p->s[p->pos] == '<')) {
                if (p->s[p->pos] == 'P')
                    p->pos++;
                const char *gt = more(p) && p->s[p->pos] == '<' ? memchr(p->s + p->pos, '>', p->len - p->pos) : NULL;
                if (!gt) {
                    fail(p, "invalid named group");
                    return -1;
                }
                p->pos = (size_t)(gt - p->s) + 1;
            } else {
                size_t f0 = p->pos;
                while (more(p) && p->s[p->pos] != ')' && p->s[p->pos] != ':')
                    p->pos++;
                if (!more(p)) {
                    fail(p, "missing closing )");
                    return -1;
                }
                set_flags(p, p->s + f0, p->pos - f0);
                if (p->s[p->pos] == ')') {
                    /* (?i): flags for the rest of the enclosing group */
                    p->pos++;
                    p->depth--;
                    return newnode(p, R_EMPTY);
                }
                p->pos++; /* ':' */
            }
        }
        int32_t n = parse_alt(p);
        if (!more(p) || p->s[p->pos] != ')') {
            fail(p, "missing closing )");
            return -1;
        }
        p->pos++;
        p->depth--;
        p->fold = sf;
        p->multiline = sm;
        p->dotnl = sd;
        return n;
    }
    if (c == '[') {
        p->pos++;
        return parse_class(p);
    }
    if (c == '.') {
        p->pos++;
        return newnode(p, R_ANY);
    }
    if (c == '^' || c == '$') {
        p->pos++;
        int32_t n = newnode(p, R_ASSERT);
        if (n >= 0)
            p->nodes[n].val = c == '^' ? (p->multiline ? A_BOL : A_BOT) : (p->multiline ? A_EOL : A_EOT);
        return n;
    }
    if (c == '\\') {
        p->pos++;
        if (more(p)) {
            int k = (unsigned char)p->s[p->pos];
            int a = k == 'b' ? A_WORD : k == 'B' ? A_NOTWORD : k == 'A' ? A_BOT : k == 'z' ? A_EOT : -1;
            if (a >= 0) {
                p->pos++;
                int32_t n = newnode(p, R_ASSERT);
                if (n >= 0)
                    p->nodes[n].val = a;
                return n;
            }
        }
        int32_t e = parse_escape(p);
        if (e == -1)
            return -1;
        if (e < -1) {
            int letter = -2 - e;
            int32_t ci = newclass(p);
            if (ci < 0)
                return -1;
            bool ok = letter >= 'a' ? perl_class(p, &p->cls[ci], letter) : perl_class_neg(p, &p->cls[ci], letter + 32);
            int32_t n = ok ? newnode(p, R_CLASS) : -1;
            if (n >= 0)
                p->nodes[n].val = ci;
            return n;
        }
        int32_t n = newnode(p, R_CHAR);
        if (n >= 0)
            p->nodes[n].val = e;
        return n;
    }
    if (c == '*' || c == '+' || c == '?') {
        fail(p, "missing argument to repetition operator");
        return -1;
    }
    int32_t cp = next_cp(p);
    if (cp < 0)
        return -1;
    int32_t n = newnode(p, R_CHAR);
    if (n >= 0)
        p->nodes[n].val = cp;
    return n;
}

/* {n}, {n,}, {n,m} at p->pos; false (position unchanged) if not one. */
static bool parse_braces(rparser *p, int32_t *min, int32_t *max)
{
    size_t i = p->pos + 1;
    long a = 0, b;
    size_t d0 = i;
    while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9' && a <= MAX_REPEAT)
        a = a * 10 + (p->s[i++] - '0');
    if (i == d0 || i >= p->len)
        return false;
    if (p->s[i] == '}') {
        b = a;
    } else if (p->s[i] == ',') {
        i++;
        if (i < p->len && p->s[i] == '}') {
            b = -1;
        } else {
            b = 0;
            size_t e0 = i;
            while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9' && b <= MAX_REPEAT)
                b = b * 10 + (p->s[i++] - '0');
            if (i == e0 || i >= p->len || p->s[i] != '}')
                return false;
        }
    } else {
        return false;
    }
    p->pos = i + 1;
    *min = (int32_t)a;
    *max = (int32_t)b;
    if (a > MAX_REPEAT || b > MAX_REPEAT || (b >= 0 && b < a))
        fail(p, "invalid repeat count");
    return true;
}

static int32_t parse_repeat(rparser *p)
{
    int32_t a = parse_atom(p);
    if (a < 0)
        return -1;
    bool repeated = false;
    while (more(p)) {
        char c = p->s[p->pos];
        int32_t min, max;
        if (c == '*' || c == '+' || c == '?') {
            p->pos++;
            min = c == '+' ? 1 : 0;
            max = c == '?' ? 1 : -1;
        } else if (c == '{' && parse_braces(p, &min, &max)) {
            if (p->failed)
                return -1;
        } else {
            break;
        }
        if (repeated) {
            fail(p, "invalid nested repetition operator");
            return -1;
        }
        repeated = true;
        if (more(p) && p->s[p->pos] == '?')
            p->pos++; /* lazy: same language */
        int32_t r = newnode(p, R_REPEAT);
        if (r < 0)
            return -1;
        p->nodes[r].min = min;
        p->nodes[r].max = max;
        p->nodes[r].kid = a;
        a = r;
    }
    return a;
}

static int32_t parse_concat(rparser *p)
{
    int32_t cat = newnode(p, R_CAT), last = -1;
    while (cat >= 0 && more(p) && p->s[p->pos] != '|' && p->s[p->pos] != ')') {
        int32_t a = parse_repeat(p);
        if (a < 0)
            return -1;
        if (last < 0)
            p->nodes[cat].kid = a;
        else
            p->nodes[last].next = a;
        last = a;
    }
    return p->failed ? -1 : cat;
}

static int32_t parse_alt(rparser *p)
{
    int32_t first = parse_concat(p);
    if (first < 0 || !more(p) || p->s[p->pos] != '|')
        return first;
    int32_t alt = newnode(p, R_ALT), last = first;
    if (alt < 0)
        return -1;
    p->nodes[alt].kid = first;
    while (more(p) && p->s[p->pos] == '|') {
        p->pos++;
        int32_t b = parse_concat(p);
        if (b < 0)
            return -1;
        p->nodes[last].next = b;
        last = b;
    }
    return p->failed ? -1 : alt;
}

/* ---- compilation ---- */

typedef struct emitter {
    rparser *p;
    inst *prog;
    int32_t n, cap;
} emitter;

static int64_t prog_size(const rparser *p, int32_t i, int depth)
{
    const rnode *n = &p->nodes[i];
    if (depth > MAX_NEST * 3)
        return MAX_PROG + 1;
    switch (n->type) {
    case R_EMPTY:
        return 0;
    case R_CAT:
    case R_ALT: {
        int64_t s = 0;
        for (int32_t c = n->kid; c >= 0; c = p->nodes[c].next) {
            s += prog_size(p, c, depth + 1) + (n->type == R_ALT ? 2 : 0);
            if (s > MAX_PROG)
                return MAX_PROG + 1;
        }
        return s;
    }
    case R_REPEAT: {
        int64_t k = prog_size(p, n->kid, depth + 1);
        int64_t s = n->min * k + (n->max < 0 ? k + 2 : (int64_t)(n->max - n->min) * (k + 1));
        return s > MAX_PROG ? MAX_PROG + 1 : s;
    }
    default:
        return 1;
    }
}

static int32_t emit(emitter *e, int op, int32_t x, int32_t y, bool fold)
{
    e->prog[e->n].op = (uint8_t)op;
    e->prog[e->n].x = x;
    e->prog[e->n].y = y;
    e->prog[e->n].fold = fold;
    return e->n++;
}

static void compile(emitter *e, int32_t i)
{
    const rnode *n = &e->p->nodes[i];
    switch (n->type) {
    case R_EMPTY:
        return;
    case R_CHAR:
        emit(e, I_CHAR, n->fold ? sb_cel__fold(n->val) : n->val, 0, n->fold); /* folded: x is the orbit's representative */
        return;
    case R_ANY:
        emit(e, n->dotnl ? I_ANYNL : I_ANY, 0, 0, false);
        return;
    case R_CLASS:
        emit(e, I_CLASS, n->val, 0, false);
        return;
    case R_ASSERT:
        emit(e, I_ASSERT, n->val, 0, false);
        return;
    case R_CAT:
        for (int32_t c = n->kid; c >= 0; c = e->p->nodes[c].next)
            compile(e, c);
        return;
    case R_ALT: {
        /* split L1, next; L1: a; jmp end; next: split L2, ... */
        int32_t jumps[64], nj = 0;
        int32_t pending = -1;
        int32_t *jv = jumps;
        int32_t jcap = 64;
        int32_t cnt = 0;
        for (int32_t c = n->kid; c >= 0; c = e->p->nodes[c].next)
            cnt++;
        if (cnt > jcap) {
            jv = sb_malloc((size_t)cnt * sizeof *jv);
            if (!jv) {
                fail(e->p, "out of memory");
                return;
            }
        }
        for (int32_t c = n->kid; c >= 0; c = e->p->nodes[c].next) {
            if (pending >= 0)
                e->prog[pending].y = e->n;
            if (e->p->nodes[c].next >= 0) {
                pending = emit(e, I_SPLIT, e->n + 1, 0, false);
            } else {
                pending = -1;
            }
            compile(e, c);
            if (e->p->nodes[c].next >= 0)
                jv[nj++] = emit(e, I_JMP, 0, 0, false);
        }
        for (int32_t k = 0; k < nj; k++)
            e->prog[jv[k]].x = e->n;
        if (jv != jumps)
            sb_free(jv);
        return;
    }
    case R_REPEAT: {
        for (int32_t k = 0; k < n->min; k++)
            compile(e, n->kid);
        if (n->max < 0) {
            int32_t split = emit(e, I_SPLIT, e->n + 1, 0, false);
            compile(e, n->kid);
            emit(e, I_JMP, split, 0, false);
            e->prog[split].y = e->n;
        } else {
            int32_t opt = n->max - n->min;
            int32_t *splits = opt ? sb_malloc((size_t)opt * sizeof *splits) : NULL;
            if (opt && !splits) {
                fail(e->p, "out of memory");
                return;
            }
            for (int32_t k = 0; k < opt; k++) {
                splits[k] = emit(e, I_SPLIT, e->n + 1, 0, false);
                compile(e, n->kid);
            }
            for (int32_t k = 0; k < opt; k++)
                e->prog[splits[k]].y = e->n;
            sb_free(splits);
        }
        return;
    }
    }
}

void sb_cel__regex_free(cel_regex *re)
{
    if (!re)
        return;
    for (int32_t i = 0; i < re->ncls; i++)
        sb_free(re->cls[i].r);
    sb_free(re->cls);
    sb_free(re->prog);
    sb_free(re);
}

cel_regex *sb_cel__regex_compile(const char *pat, size_t len, char *err, size_t errlen)
{
    rparser p;
    memset(&p, 0, sizeof p);
    p.s = pat;
    p.len = len;
    p.err = err;
    p.errlen = errlen;
    err[0] = '\0';
    int32_t root = parse_alt(&p);
    if (root >= 0 && !p.failed && p.pos < p.len)
        fail(&p, "unexpected )");
    for (int32_t i = 0; i < p.ncls && !p.failed; i++)
        if (p.cls[i].fold)
            close_fold(&p, &p.cls[i]);
    cel_regex *re = NULL;
    if (!p.failed) {
        int64_t size = prog_size(&p, root, 0) + 1;
        if (size > MAX_PROG)
            fail(&p, "regular expression too large");
    }
    if (!p.failed) {
        re = sb_calloc(1, sizeof *re);
        emitter e = {&p, NULL, 0, 0};
        int64_t size = prog_size(&p, root, 0) + 1;
        e.prog = re ? sb_calloc((size_t)size, sizeof *e.prog) : NULL;
        if (!e.prog) {
            fail(&p, "out of memory");
        } else {
            compile(&e, root);
            emit(&e, I_MATCH, 0, 0, false);
            re->prog = e.prog;
            re->n = e.n;
        }
        if (re) {
            re->cls = p.cls;
            re->ncls = p.ncls;
            p.cls = NULL;
            p.ncls = 0;
        }
        if (p.failed) {
            if (re && !re->prog)
                sb_free(e.prog);
            sb_cel__regex_free(re);
            re = NULL;
        }
    }
    for (int32_t i = 0; i < p.ncls; i++)
        sb_free(p.cls[i].r);
    sb_free(p.cls);
    sb_free(p.nodes);
    return re;
}

/* ---- matching ---- */

/* (?i) classes were closed under case folding when compiled (close_fold). */
static bool class_has(const rclass *c, int32_t ch)
{
    return ranges_have(c, ch) != c->neg;
}

static bool is_word(int32_t c)
{
    return c >= 0 && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_');
}

typedef struct tlist {
    int32_t *pc;
    int32_t n;
} tlist;

typedef struct vm {
    const cel_regex *re;
    uint32_t *mark;
    uint32_t gen;
    int32_t *stack;
    uint64_t *steps;
    int32_t prev, cur; /* code points around the position; -1 at the ends */
    bool matched;
} vm;

static bool assert_ok(const vm *m, int kind)
{
    switch (kind) {
    case A_BOT:
        return m->prev < 0;
    case A_EOT:
        return m->cur < 0;
    case A_BOL:
        return m->prev < 0 || m->prev == '\n';
    case A_EOL:
        return m->cur < 0 || m->cur == '\n';
    case A_WORD:
        return is_word(m->prev) != is_word(m->cur);
    default:
        return is_word(m->prev) == is_word(m->cur);
    }
}

/* Adds pc and everything reachable by empty moves, with an explicit stack. */
static void addthread(vm *m, tlist *l, int32_t pc0)
{
    int32_t sp = 0;
    m->stack[sp++] = pc0;
    while (sp > 0) {
        int32_t pc = m->stack[--sp];
        if (m->mark[pc] == m->gen)
            continue;
        m->mark[pc] = m->gen;
        (*m->steps)++;
        const inst *in = &m->re->prog[pc];
        switch (in->op) {
        case I_JMP:
            m->stack[sp++] = in->x;
            break;
        case I_SPLIT:
            m->stack[sp++] = in->y;
            m->stack[sp++] = in->x;
            break;
        case I_ASSERT:
            if (assert_ok(m, in->x))
                m->stack[sp++] = pc + 1;
            break;
        case I_MATCH:
            m->matched = true;
            break;
        default:
            l->pc[l->n++] = pc;
            break;
        }
    }
}

int sb_cel__regex_search(const cel_regex *re, const char *s, size_t len, uint64_t *steps, uint64_t max_steps)
{
    int32_t n = re->n;
    /* two thread lists of at most n pcs each, and the addthread stack, which
     * holds at most two entries per processed pc plus one */
    int32_t *buf = sb_malloc(((size_t)n * 4 + 2) * sizeof *buf);
    uint32_t *mark = sb_calloc((size_t)n, sizeof *mark);
    if (!buf || !mark) {
        sb_free(buf);
        sb_free(mark);
        *steps = max_steps + 1;
        return -1;
    }
    tlist cl = {buf, 0}, nl = {buf + n, 0};
    vm m = {re, mark, 1, buf + 2 * n, steps, -1, -1, false};
    size_t i = 0, nexti = 0;
    if (len)
        m.cur = sb_cel__utf8_next(s, len, &nexti);
    int result = 0;
    for (;;) {
        /* context: m.prev is the code point before i, m.cur the one at i */
        addthread(&m, &cl, 0); /* a match may start anywhere */
        if (m.matched || *steps > max_steps) {
            result = m.matched ? 1 : -1;
            break;
        }
        if (i >= len)
            break;
        int32_t c = m.cur;
        m.gen++;
        nl.n = 0;
        m.prev = c;
        m.cur = -1;
        size_t after = nexti;
        if (nexti < len)
            m.cur = sb_cel__utf8_next(s, len, &after);
        for (int32_t t = 0; t < cl.n; t++) {
            const inst *in = &re->prog[cl.pc[t]];
            bool ok = false;
            switch (in->op) {
            case I_CHAR:
                ok = in->fold ? sb_cel__fold(c) == in->x : c == in->x;
                break;
            case I_ANY:
                ok = c != '\n';
                break;
            case I_ANYNL:
                ok = true;
                break;
            case I_CLASS:
                ok = class_has(&re->cls[in->x], c);
                break;
            default:
                break;
            }
            (*steps)++;
            if (ok)
                addthread(&m, &nl, cl.pc[t] + 1);
        }
        if (m.matched) {
            result = 1;
            break;
        }
        tlist tmp = cl;
        cl = nl;
        nl = tmp;
        i = nexti;
        nexti = after;
    }
    sb_free(buf);
    sb_free(mark);
    return result;
}
