/* Recursive descent parser from cel-spec's langdef grammar to the syntax
 * tree of cel_int.h. Macros (has, all, exists, exists_one, map, filter, the
 * two-variable forms, cel.bind) are expanded here into dedicated nodes.
 *
 * Nesting is bounded twice: the parser's own recursion (parentheses, list
 * and map literals, call arguments, the conditional) and the height of the
 * tree (left-associative operator chains are built iteratively but still
 * deepen the tree that evaluation walks). Chains of && and || are built
 * balanced, which their commutative semantics allows. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"
#include "cel_int.h"

/* ---- arena: nodes and child arrays live until the program is freed ---- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

void *sb_cel__arena_alloc(sb_cel_program *p, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    chunk *c = p->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        chunk *nc = sb_malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->next = c;
        nc->used = 0;
        nc->cap = cap;
        p->arena = c = nc;
    }
    void *r = c->data + c->used;
    c->used += n;
    return r;
}

void sb_cel__arena_free(sb_cel_program *p)
{
    chunk *c = p->arena;
    while (c) {
        chunk *n = c->next;
        sb_free(c);
        c = n;
    }
    p->arena = NULL;
}

/* ---- parser state ---- */

typedef struct parser {
    sb_cel_program *p;
    cel_lexer lx;
    size_t depth, max_depth;
    sb_val err;
    bool failed;
} parser;

static void perr_at(parser *ps, size_t pos, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t col = sb_cel_column(ps->p->src, ps->p->len, pos);
    ps->err = sb_at_pos(sb_errorf("col %u: %s", (unsigned)col, msg), 0, col);
}

static const char *tok_desc(cel_tok t)
{
    switch (t) {
    case T_EOF:
        return "end of expression";
    case T_INT:
    case T_UINT:
    case T_DOUBLE:
        return "number";
    case T_STRING:
        return "string";
    case T_BYTES:
        return "bytes";
    case T_IDENT:
    case T_ESC_IDENT:
        return "identifier";
    case T_TRUE:
        return "'true'";
    case T_FALSE:
        return "'false'";
    case T_NULL:
        return "'null'";
    case T_IN:
        return "'in'";
    case T_LPAREN:
        return "'('";
    case T_RPAREN:
        return "')'";
    case T_LBRACKET:
        return "'['";
    case T_RBRACKET:
        return "']'";
    case T_LBRACE:
        return "'{'";
    case T_RBRACE:
        return "'}'";
    case T_DOT:
        return "'.'";
    case T_COMMA:
        return "','";
    case T_COLON:
        return "':'";
    case T_QUESTION:
        return "'?'";
    case T_PLUS:
        return "'+'";
    case T_MINUS:
        return "'-'";
    case T_STAR:
        return "'*'";
    case T_SLASH:
        return "'/'";
    case T_PERCENT:
        return "'%'";
    case T_EQ:
        return "'=='";
    case T_NE:
        return "'!='";
    case T_LT:
        return "'<'";
    case T_LE:
        return "'<='";
    case T_GT:
        return "'>'";
    case T_GE:
        return "'>='";
    case T_AND:
        return "'&&'";
    case T_OR:
        return "'||'";
    case T_NOT:
        return "'!'";
    default:
        return "token";
    }
}

static void next(parser *ps)
{
    sb_cel__lex_next(&ps->lx);
    if (ps->lx.tok == T_ERR)
        perr_at(ps, ps->lx.errpos, "%s", ps->lx.errmsg);
}

static void unexpected(parser *ps, const char *wanted)
{
    if (ps->lx.tok == T_ERR)
        return; /* already reported */
    perr_at(ps, ps->lx.start, "unexpected %s, expected %s", tok_desc(ps->lx.tok), wanted);
}

static bool expect(parser *ps, cel_tok t, const char *wanted)
{
    if (ps->failed)
        return false;
    if (ps->lx.tok != t) {
        unexpected(ps, wanted);
        return false;
    }
    next(ps);
    return !ps->failed;
}

static cel_node *new_node(parser *ps, cel_op op, size_t pos, uint32_t nkids)
{
    cel_node *n = sb_cel__arena_alloc(ps->p, sizeof *n);
    cel_node **k = nkids ? sb_cel__arena_alloc(ps->p, nkids * sizeof *k) : NULL;
    if (!n || (nkids && !k)) {
        perr_at(ps, pos, "out of memory");
        return NULL;
    }
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    n->pos = (uint32_t)pos;
    n->nkids = nkids;
    n->kids = k;
    n->val = sb_null();
    n->slot = n->slot2 = -1;
    n->fn = FN_UNKNOWN;
    n->all_next = ps->p->all;
    ps->p->all = n;
    if (k)
        memset(k, 0, nkids * sizeof *k);
    return n;
}

/* Computes the height of n from its children; fails past the limit. */
static cel_node *seal(parser *ps, cel_node *n)
{
    if (!n)
        return NULL;
    uint32_t d = 0;
    for (uint32_t i = 0; i < n->nkids; i++)
        if (n->kids[i] && n->kids[i]->depth > d)
            d = n->kids[i]->depth;
    n->depth = d + 1;
    if (n->depth > ps->max_depth) {
        perr_at(ps, n->pos, "expression nested too deeply (limit %zu)", ps->max_depth);
        return NULL;
    }
    return n;
}

static cel_node *node1(parser *ps, cel_op op, size_t pos, cel_node *a)
{
    cel_node *n = new_node(ps, op, pos, 1);
    if (!n)
        return NULL;
    n->kids[0] = a;
    return seal(ps, n);
}

static cel_node *node2(parser *ps, cel_op op, size_t pos, cel_node *a, cel_node *b)
{
    cel_node *n = new_node(ps, op, pos, 2);
    if (!n)
        return NULL;
    n->kids[0] = a;
    n->kids[1] = b;
    return seal(ps, n);
}

static sb_val take_string(parser *ps, const char *s, size_t len, size_t pos)
{
    sb_val v = sb_string_key(s, len); /* names: shared, so map lookups compare pointers */
    if (v.kind == SB_ERROR) {
        perr_at(ps, pos, "out of memory");
        return sb_null();
    }
    return v;
}

/* A growable array of nodes used while parsing lists of things. */
typedef struct nvec {
    cel_node **v;
    uint32_t n;
    size_t cap;
} nvec;

static bool nvec_push(parser *ps, nvec *a, cel_node *x)
{
    if (!SB_GROW(a->v, a->cap, (size_t)a->n + 1)) {
        perr_at(ps, ps->lx.start, "out of memory");
        return false;
    }
    a->v[a->n++] = x;
    return true;
}

static cel_node *from_vec(parser *ps, cel_op op, size_t pos, nvec *a)
{
    cel_node *n = new_node(ps, op, pos, a->n);
    if (n && a->n)
        memcpy(n->kids, a->v, a->n * sizeof *a->v);
    sb_free(a->v);
    a->v = NULL;
    return seal(ps, n);
}

static cel_node *parse_expr(parser *ps);

static bool enter(parser *ps)
{
    if (++ps->depth > ps->max_depth) {
        perr_at(ps, ps->lx.start, "expression nested too deeply (limit %zu)", ps->max_depth);
        return false;
    }
    return true;
}

/* An optional element "?" Expr of a list literal or value of a map literal,
 * at the "?": the expression under an N_OPT node. */
static cel_node *parse_opt_elem(parser *ps)
{
    size_t pos = ps->lx.start;
    next(ps);
    cel_node *e = parse_expr(ps);
    return e ? node1(ps, N_OPT, pos, e) : NULL;
}

/* ExprList = Expr {"," Expr}, up to the closing token. In a list literal
 * (trailing_comma) a trailing comma is allowed, as cel-go does, and elements
 * may be optional: ["?"] Expr. */
static bool parse_args(parser *ps, nvec *out, cel_tok close, bool trailing_comma)
{
    if (ps->lx.tok == close) {
        next(ps);
        return !ps->failed;
    }
    for (;;) {
        cel_node *e = trailing_comma && ps->lx.tok == T_QUESTION ? parse_opt_elem(ps) : parse_expr(ps);
        if (!e || !nvec_push(ps, out, e))
            return false;
        if (ps->lx.tok == T_COMMA) {
            next(ps);
            if (trailing_comma && ps->lx.tok == close) {
                next(ps);
                return !ps->failed;
            }
            continue;
        }
        return expect(ps, close, close == T_RPAREN ? "',' or ')'" : "',' or ']'");
    }
}

static bool is_simple_ident(const cel_node *n)
{
    return n && n->op == N_IDENT && n->sub == 0;
}

/* Macros written as member calls: receiver.name(args). Returns the expanded
 * node, NULL on error, or `call` itself when this is not a macro. */
static cel_node *expand_member_macro(parser *ps, cel_node *call, const char *name, size_t pos, cel_node *recv, nvec *a)
{
    int kind = -1;
    uint32_t nvars = 1, nbody = 1;
    uint32_t n = a->n;
    if (strcmp(name, "all") == 0 || strcmp(name, "exists") == 0 || strcmp(name, "exists_one") == 0 ||
        strcmp(name, "existsOne") == 0) {
        if (n != 2 && n != 3)
            return call;
        kind = name[0] == 'a' ? C_ALL : strcmp(name, "exists") == 0 ? C_EXISTS : C_EXISTS_ONE;
        nvars = n - 1;
    } else if (strcmp(name, "map") == 0) {
        if (n != 2 && n != 3)
            return call;
        kind = n == 2 ? C_MAP : C_MAP_FILTER;
        nbody = n - 1;
    } else if (strcmp(name, "optMap") == 0 || strcmp(name, "optFlatMap") == 0) {
        if (n != 2)
            return call;
        kind = name[3] == 'M' ? C_OPT_MAP : C_OPT_FLAT_MAP;
    } else if (strcmp(name, "filter") == 0) {
        if (n != 2)
            return call;
        kind = C_FILTER;
    } else if (strcmp(name, "transformList") == 0 || strcmp(name, "transformMap") == 0 ||
               strcmp(name, "transformMapEntry") == 0) {
        if (n != 3 && n != 4)
            return call;
        bool list = name[9] == 'L', entry = name[12] == 'E';
        if (entry)
            kind = n == 3 ? C_TRANSFORM_MAP_ENTRY : C_TRANSFORM_MAP_ENTRY_FILTER;
        else
            kind = n == 3 ? (list ? C_TRANSFORM_LIST : C_TRANSFORM_MAP)
                          : (list ? C_TRANSFORM_LIST_FILTER : C_TRANSFORM_MAP_FILTER);
        nvars = 2;
        nbody = n - 2;
    } else {
        return call;
    }
    for (uint32_t i = 0; i < nvars; i++) {
        if (!is_simple_ident(a->v[i])) {
            perr_at(ps, a->v[i]->pos, "%s(): argument %u must be a simple variable name", name, i + 1);
            return NULL;
        }
    }
    cel_node *m = new_node(ps, N_COMP, pos, 1 + nbody);
    if (!m)
        return NULL;
    m->sub = (uint8_t)kind;
    m->kids[0] = recv;
    for (uint32_t i = 0; i < nbody; i++)
        m->kids[1 + i] = a->v[nvars + i];
    /* the variable names are kept on the node; resolution turns them into slots */
    m->val = sb_val_ref(a->v[0]->val);
    m->aux = nvars == 2 ? a->v[1] : NULL;
    return seal(ps, m);
}

/* Builds a call node, or the macro it spells. recv is NULL for global calls.
 * name[0..nlen) is the function name. */
static cel_node *finish_call(parser *ps, cel_node *recv, const char *name, size_t nlen, size_t pos, nvec *a)
{
    char nm[64];
    snprintf(nm, sizeof nm, "%.*s", (int)(nlen < 63 ? nlen : 63), name);
    if (!recv && strcmp(nm, "has") == 0) {
        if (a->n != 1 || a->v[0]->op != N_SELECT) {
            perr_at(ps, pos, "has() takes one field selection, like has(x.field)");
            sb_free(a->v);
            return NULL;
        }
        cel_node *sel = a->v[0];
        sb_free(a->v);
        sel->op = N_HAS;
        return sel;
    }
    if (recv && is_simple_ident(recv) && sb_str_eq(recv->val, "cel") && strcmp(nm, "bind") == 0 && a->n == 3) {
        if (!is_simple_ident(a->v[0])) {
            perr_at(ps, a->v[0]->pos, "cel.bind(): argument 1 must be a simple variable name");
            sb_free(a->v);
            return NULL;
        }
        cel_node *b = new_node(ps, N_BIND, pos, 3);
        if (b) {
            memcpy(b->kids, a->v, 3 * sizeof *a->v);
            b->val = sb_val_ref(a->v[0]->val);
        }
        sb_free(a->v);
        return seal(ps, b);
    }
    if (recv) {
        cel_node *m = expand_member_macro(ps, NULL, nm, pos, recv, a);
        if (m || ps->failed) {
            sb_free(a->v);
            return m;
        }
    }
    uint32_t extra = recv ? 1 : 0;
    cel_node *c = new_node(ps, N_CALL, pos, a->n + extra);
    if (c) {
        if (recv)
            c->kids[0] = recv;
        if (a->n)
            memcpy(c->kids + extra, a->v, a->n * sizeof *a->v);
        c->sub = recv ? CALL_MEMBER : 0;
        c->val = take_string(ps, name, nlen, pos);
    }
    sb_free(a->v);
    return seal(ps, c);
}

static cel_node *literal(parser *ps, sb_val v, size_t pos)
{
    cel_node *n = new_node(ps, N_LIT, pos, 0);
    if (!n) {
        sb_val_free(v);
        return NULL;
    }
    n->val = v;
    return seal(ps, n);
}

/* An int literal token (magnitude in lx.val) with an optional minus folded in. */
static cel_node *int_literal(parser *ps, bool neg, size_t pos)
{
    uint64_t m = ps->lx.val.as.u;
    sb_val v;
    if (!neg && m > (uint64_t)INT64_MAX) {
        perr_at(ps, pos, "integer literal out of range (use the u suffix for uint)");
        return NULL;
    }
    if (neg && m > (uint64_t)INT64_MAX + 1) {
        perr_at(ps, pos, "integer literal out of range");
        return NULL;
    }
    if (neg)
        v = sb_int(m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m);
    else
        v = sb_int((int64_t)m);
    next(ps);
    return literal(ps, v, pos);
}

static cel_node *parse_primary(parser *ps, bool neg_literal, bool *folded)
{
    size_t pos = ps->lx.start;
    *folded = false;
    switch (ps->lx.tok) {
    case T_INT:
        *folded = neg_literal;
        return int_literal(ps, neg_literal, pos);
    case T_DOUBLE: {
        double d = ps->lx.val.as.d;
        *folded = neg_literal;
        next(ps);
        return literal(ps, sb_double(neg_literal ? -d : d), pos);
    }
    case T_UINT: {
        uint64_t u = ps->lx.val.as.u;
        next(ps);
        return literal(ps, sb_uint(u), pos);
    }
    case T_STRING:
    case T_BYTES: {
        sb_val v = ps->lx.val;
        ps->lx.val = sb_null();
        next(ps);
        return literal(ps, v, pos);
    }
    case T_TRUE:
    case T_FALSE: {
        bool b = ps->lx.tok == T_TRUE;
        next(ps);
        return literal(ps, sb_bool(b), pos);
    }
    case T_NULL:
        next(ps);
        return literal(ps, sb_null(), pos);
    case T_LPAREN: {
        next(ps);
        cel_node *e = parse_expr(ps);
        if (!e || !expect(ps, T_RPAREN, "')'"))
            return NULL;
        return e;
    }
    case T_LBRACKET: {
        next(ps);
        nvec a = {0};
        bool ok = parse_args(ps, &a, T_RBRACKET, true);
        if (!ok) {
            sb_free(a.v);
            return NULL;
        }
        return from_vec(ps, N_LIST, pos, &a);
    }
    case T_LBRACE: {
        next(ps);
        nvec a = {0};
        while (!ps->failed && ps->lx.tok != T_RBRACE) {
            /* {?k: v}: v is an optional; the entry is left out when it is none */
            bool opt = ps->lx.tok == T_QUESTION;
            size_t qpos = ps->lx.start;
            if (opt)
                next(ps);
            cel_node *k = parse_expr(ps);
            if (!k || !nvec_push(ps, &a, k) || !expect(ps, T_COLON, "':'"))
                break;
            cel_node *v = parse_expr(ps);
            if (v && opt)
                v = node1(ps, N_OPT, qpos, v);
            if (!v || !nvec_push(ps, &a, v))
                break;
            if (ps->lx.tok == T_COMMA)
                next(ps);
            else if (ps->lx.tok != T_RBRACE)
                unexpected(ps, "',' or '}'");
        }
        if (ps->failed) {
            sb_free(a.v);
            return NULL;
        }
        next(ps);
        return from_vec(ps, N_MAP, pos, &a);
    }
    case T_DOT:
    case T_IDENT: {
        bool rooted = ps->lx.tok == T_DOT;
        if (rooted) {
            next(ps);
            if (ps->lx.tok != T_IDENT) {
                unexpected(ps, "identifier after '.'");
                return NULL;
            }
        }
        size_t ipos = ps->lx.start;
        const char *name = ps->lx.src + ps->lx.start;
        size_t nlen = ps->lx.end - ps->lx.start;
        if (sb_cel__is_reserved(name, nlen)) {
            perr_at(ps, ipos, "reserved identifier '%.*s'", (int)nlen, name);
            return NULL;
        }
        next(ps);
        if (ps->failed)
            return NULL;
        if (ps->lx.tok == T_LPAREN) {
            next(ps);
            nvec a = {0};
            if (!parse_args(ps, &a, T_RPAREN, false)) {
                sb_free(a.v);
                return NULL;
            }
            return finish_call(ps, NULL, name, nlen, ipos, &a);
        }
        if (ps->lx.tok == T_LBRACE) {
            perr_at(ps, ps->lx.start, "message construction (Name{...}) is not supported: there are no protobuf types");
            return NULL;
        }
        cel_node *n = new_node(ps, N_IDENT, ipos, 0);
        if (!n)
            return NULL;
        n->sub = rooted ? 1 : 0;
        n->val = take_string(ps, name, nlen, ipos);
        return seal(ps, n);
    }
    default:
        unexpected(ps, "an expression");
        return NULL;
    }
}

/* Member = Primary | Member "." IDENT ["(" [ExprList] ")"] | Member "[" Expr "]" */
static cel_node *parse_member(parser *ps, bool neg_literal, bool *folded)
{
    cel_node *e = parse_primary(ps, neg_literal, folded);
    while (e && !ps->failed) {
        if (ps->lx.tok == T_DOT) {
            next(ps);
            bool opt = ps->lx.tok == T_QUESTION; /* x.?f */
            if (opt)
                next(ps);
            if (ps->lx.tok != T_IDENT && ps->lx.tok != T_ESC_IDENT) {
                unexpected(ps, "field name after '.'");
                return NULL;
            }
            bool esc = ps->lx.tok == T_ESC_IDENT;
            size_t fpos = ps->lx.start;
            const char *f = ps->lx.src + ps->lx.start + (esc ? 1 : 0);
            size_t flen = ps->lx.end - ps->lx.start - (esc ? 2 : 0);
            next(ps);
            if (ps->failed)
                return NULL;
            if (ps->lx.tok == T_LPAREN && !opt) {
                if (esc) {
                    perr_at(ps, fpos, "a `quoted` name cannot be called");
                    return NULL;
                }
                next(ps);
                nvec a = {0};
                if (!parse_args(ps, &a, T_RPAREN, false)) {
                    sb_free(a.v);
                    return NULL;
                }
                e = finish_call(ps, e, f, flen, fpos, &a);
                continue;
            }
            cel_node *s = new_node(ps, N_SELECT, fpos, 1);
            if (!s)
                return NULL;
            s->kids[0] = e;
            s->val = take_string(ps, f, flen, fpos);
            if (esc || opt)
                s->sub = (uint8_t)(SEL_NOT_NAME | (opt ? SEL_OPT : 0)); /* never part of a qualified name */
            e = seal(ps, s);
        } else if (ps->lx.tok == T_LBRACKET) {
            size_t pos = ps->lx.start;
            next(ps);
            bool opt = ps->lx.tok == T_QUESTION; /* x[?k] */
            if (opt)
                next(ps);
            cel_node *i = parse_expr(ps);
            if (!i || !expect(ps, T_RBRACKET, "']'"))
                return NULL;
            e = node2(ps, N_INDEX, pos, e, i);
            if (e && opt)
                e->sub = SEL_OPT;
        } else if (ps->lx.tok == T_LBRACE && e->op == N_SELECT) {
            perr_at(ps, ps->lx.start, "message construction (Name{...}) is not supported: there are no protobuf types");
            return NULL;
        } else {
            break;
        }
    }
    return ps->failed ? NULL : e;
}

/* Unary = Member | "!" {"!"} Member | "-" {"-"} Member. As in cel-go, a
 * single minus directly before a number literal is part of the literal (so
 * -9223372036854775808 is an int), and an even run of ! or - cancels out. */
static cel_node *parse_unary(parser *ps)
{
    cel_tok t = ps->lx.tok;
    if (t != T_NOT && t != T_MINUS) {
        bool folded;
        return parse_member(ps, false, &folded);
    }
    size_t pos = ps->lx.start;
    unsigned count = 0;
    while (ps->lx.tok == t && !ps->failed) {
        count++;
        next(ps);
    }
    if (ps->failed)
        return NULL;
    bool fold = t == T_MINUS && count == 1 && (ps->lx.tok == T_INT || ps->lx.tok == T_DOUBLE);
    bool folded = false;
    cel_node *m = parse_member(ps, fold, &folded);
    if (!m)
        return NULL;
    if (folded) {
        m->pos = (uint32_t)pos;
        return m;
    }
    if (count % 2 == 0)
        return m;
    return node1(ps, t == T_NOT ? N_NOT : N_NEG, pos, m);
}

static int binop_of(cel_tok t, int level)
{
    switch (level) {
    case 0: /* relations */
        switch (t) {
        case T_EQ:
            return B_EQ;
        case T_NE:
            return B_NE;
        case T_LT:
            return B_LT;
        case T_LE:
            return B_LE;
        case T_GT:
            return B_GT;
        case T_GE:
            return B_GE;
        case T_IN:
            return B_IN;
        default:
            return -1;
        }
    case 1:
        return t == T_PLUS ? B_ADD : t == T_MINUS ? B_SUB : -1;
    default:
        return t == T_STAR ? B_MUL : t == T_SLASH ? B_DIV : t == T_PERCENT ? B_MOD : -1;
    }
}

/* Relation, Addition, Multiplication: left-associative, one loop each. */
static cel_node *parse_binary(parser *ps, int level)
{
    cel_node *l = level == 2 ? parse_unary(ps) : parse_binary(ps, level + 1);
    while (l && !ps->failed) {
        int op = binop_of(ps->lx.tok, level);
        if (op < 0)
            break;
        size_t pos = ps->lx.start;
        next(ps);
        cel_node *r = level == 2 ? parse_unary(ps) : parse_binary(ps, level + 1);
        if (!r)
            return NULL;
        cel_node *b = new_node(ps, N_BIN, pos, 2);
        if (!b)
            return NULL;
        b->sub = (uint8_t)op;
        b->kids[0] = l;
        b->kids[1] = r;
        l = seal(ps, b);
    }
    return ps->failed ? NULL : l;
}

static cel_node *balance(parser *ps, cel_op op, cel_node **v, size_t *pos, uint32_t lo, uint32_t hi)
{
    if (hi - lo == 1)
        return v[lo];
    uint32_t mid = lo + (hi - lo) / 2;
    cel_node *l = balance(ps, op, v, pos, lo, mid);
    cel_node *r = l ? balance(ps, op, v, pos, mid, hi) : NULL;
    if (!r)
        return NULL;
    return node2(ps, op, pos[mid - 1], l, r);
}

/* ConditionalOr / ConditionalAnd: operands collected, then a balanced tree. */
static cel_node *parse_logic(parser *ps, bool is_or)
{
    cel_tok t = is_or ? T_OR : T_AND;
    cel_node *first = is_or ? parse_logic(ps, false) : parse_binary(ps, 0);
    if (!first || ps->lx.tok != t)
        return first;
    nvec a = {0};
    size_t *pos = NULL;
    size_t npos = 0, cappos = 0;
    if (!nvec_push(ps, &a, first))
        return NULL;
    while (ps->lx.tok == t && !ps->failed) {
        if (!SB_GROW(pos, cappos, npos + 1)) {
            perr_at(ps, ps->lx.start, "out of memory");
            break;
        }
        pos[npos++] = ps->lx.start;
        next(ps);
        cel_node *e = is_or ? parse_logic(ps, false) : parse_binary(ps, 0);
        if (!e || !nvec_push(ps, &a, e))
            break;
    }
    cel_node *r = ps->failed ? NULL : balance(ps, is_or ? N_OR : N_AND, a.v, pos, 0, a.n);
    sb_free(a.v);
    sb_free(pos);
    return r;
}

/* Expr = ConditionalOr ["?" ConditionalOr ":" Expr] */
static cel_node *parse_expr(parser *ps)
{
    if (!enter(ps))
        return NULL;
    cel_node *c = parse_logic(ps, true);
    if (c && ps->lx.tok == T_QUESTION) {
        size_t pos = ps->lx.start;
        next(ps);
        cel_node *t = parse_logic(ps, true);
        cel_node *f = t && expect(ps, T_COLON, "':'") ? parse_expr(ps) : NULL;
        if (!f) {
            c = NULL;
        } else {
            cel_node *n = new_node(ps, N_COND, pos, 3);
            if (n) {
                n->kids[0] = c;
                n->kids[1] = t;
                n->kids[2] = f;
            }
            c = seal(ps, n);
        }
    }
    ps->depth--;
    return ps->failed ? NULL : c;
}

cel_node *sb_cel__parse(sb_cel_program *p, sb_val *err)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.p = p;
    ps.max_depth = p->lim.max_depth;
    ps.err = sb_null();
    if (!sb_cel__utf8_valid(p->src, p->len)) {
        size_t i = 0;
        while (i < p->len && sb_cel__utf8_next(p->src, p->len, &i) >= 0)
            ;
        perr_at(&ps, i, "expression is not valid UTF-8");
        *err = ps.err;
        return NULL;
    }
    sb_cel__lex_init(&ps.lx, p->src, p->len);
    next(&ps);
    cel_node *root = ps.failed ? NULL : parse_expr(&ps);
    if (root && ps.lx.tok != T_EOF)
        unexpected(&ps, "end of expression");
    sb_cel__lex_free(&ps.lx);
    if (ps.failed) {
        *err = ps.err;
        return NULL;
    }
    return root;
}
