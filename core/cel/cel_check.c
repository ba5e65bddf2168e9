/* The type checker: see sb_cel_check.h. Types live in the environment's
 * list (freed with it); a check walks the resolved syntax tree once, giving
 * each node a type, and stops at the first problem. The rule throughout: an
 * operand of type dyn satisfies everything, and a result that depends on a
 * dyn operand is dyn. */
#include "sb_cel_check.h"

#include <stdarg.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "cel_int.h"

struct sb_cel_type {
    uint8_t kind;
    const sb_cel_type *a, *b; /* list/optional: a = elem; map: a = key, b = val */
    size_t nfields;
    char **names; /* object fields */
    const sb_cel_type **types;
    sb_cel_type *next; /* the environment's list */
};

typedef struct decl {
    char *name;
    const sb_cel_type *type; /* NULL: a hint */
    char *where;
} decl;

struct sb_cel_env {
    bool mixed;
    sb_cel_type *all;
    sb_cel_type *basic[SB_CT_TYPE + 1];
    decl *decls;
    size_t ndecls, cap;
};

sb_cel_env *sb_cel_env_new(bool mixed_numeric)
{
    sb_cel_env *e = sb_calloc(1, sizeof *e);
    if (e)
        e->mixed = mixed_numeric;
    return e;
}

void sb_cel_env_free(sb_cel_env *e)
{
    if (!e)
        return;
    sb_cel_env_pop(e, 0);
    sb_free(e->decls);
    for (sb_cel_type *t = e->all, *next; t; t = next) {
        next = t->next;
        for (size_t i = 0; i < t->nfields; i++)
            sb_free(t->names[i]);
        sb_free(t->names);
        sb_free(t->types);
        sb_free(t);
    }
    sb_free(e);
}

static sb_cel_type *new_type(sb_cel_env *e, sb_cel_tkind k, const sb_cel_type *a, const sb_cel_type *b)
{
    sb_cel_type *t = sb_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->kind = (uint8_t)k;
    t->a = a;
    t->b = b;
    t->next = e->all;
    e->all = t;
    return t;
}

const sb_cel_type *sb_cel_type_basic(sb_cel_env *e, sb_cel_tkind k)
{
    if (k > SB_CT_TYPE)
        return NULL;
    if (!e->basic[k])
        e->basic[k] = new_type(e, k, NULL, NULL);
    return e->basic[k];
}

const sb_cel_type *sb_cel_type_list(sb_cel_env *e, const sb_cel_type *elem)
{
    return elem ? new_type(e, SB_CT_LIST, elem, NULL) : NULL;
}

static const sb_cel_type *map_of(sb_cel_env *e, const sb_cel_type *k, const sb_cel_type *v)
{
    return k && v ? new_type(e, SB_CT_MAP, k, v) : NULL;
}

static const sb_cel_type *opt_of(sb_cel_env *e, const sb_cel_type *v)
{
    return v ? new_type(e, SB_CT_OPTIONAL, v, NULL) : NULL;
}

sb_cel_type *sb_cel_type_object(sb_cel_env *e)
{
    return new_type(e, SB_CT_OBJECT, NULL, NULL);
}

bool sb_cel_type_add_field(sb_cel_env *e, sb_cel_type *obj, const char *name, const sb_cel_type *t)
{
    (void)e;
    if (!obj || !t)
        return false;
    for (size_t i = 0; i < obj->nfields; i++)
        if (strcmp(obj->names[i], name) == 0) {
            obj->types[i] = t;
            return true;
        }
    char **n = sb_realloc(obj->names, (obj->nfields + 1) * sizeof *n);
    if (!n)
        return false;
    obj->names = n;
    const sb_cel_type **ty = sb_realloc(obj->types, (obj->nfields + 1) * sizeof *ty);
    if (!ty)
        return false;
    obj->types = ty;
    if (!(obj->names[obj->nfields] = sb_strdup(name)))
        return false;
    obj->types[obj->nfields++] = t;
    return true;
}

sb_cel_tkind sb_cel_type_kind(const sb_cel_type *t)
{
    return (sb_cel_tkind)t->kind;
}

static const char *const kind_names[] = {"dyn",       "null_type", "bool",     "int",  "uint",
                                         "double",    "string",    "bytes",    "google.protobuf.Timestamp",
                                         "google.protobuf.Duration", "type", "list", "map", "optional_type", "map"};
static const char *const text_names[] = {"dyn",  "null",   "bool",  "int",       "uint",     "double",
                                         "string", "bytes", "timestamp", "duration", "type"};

void sb_cel_type_render(sb_buf *b, const sb_cel_type *t)
{
    switch (t->kind) {
    case SB_CT_LIST:
        sb_buf_puts(b, "list(");
        sb_cel_type_render(b, t->a);
        sb_buf_puts(b, ")");
        return;
    case SB_CT_MAP:
        sb_buf_puts(b, "map(");
        sb_cel_type_render(b, t->a);
        sb_buf_puts(b, ", ");
        sb_cel_type_render(b, t->b);
        sb_buf_puts(b, ")");
        return;
    case SB_CT_OPTIONAL:
        sb_buf_puts(b, "optional(");
        sb_cel_type_render(b, t->a);
        sb_buf_puts(b, ")");
        return;
    case SB_CT_OBJECT:
        sb_buf_puts(b, "{");
        for (size_t i = 0; i < t->nfields; i++) {
            sb_buf_printf(b, "%s%s: ", i ? ", " : "", t->names[i]);
            sb_cel_type_render(b, t->types[i]);
        }
        sb_buf_puts(b, "}");
        return;
    default: sb_buf_puts(b, text_names[t->kind]);
    }
}

/* --- the text form --- */

typedef struct tparser {
    sb_cel_env *e;
    const char *s;
    size_t i;
} tparser;

static void skip_ws(tparser *p)
{
    while (p->s[p->i] == ' ')
        p->i++;
}

static bool eat(tparser *p, char ch)
{
    skip_ws(p);
    if (p->s[p->i] != ch)
        return false;
    p->i++;
    return true;
}

static size_t word(tparser *p)
{
    skip_ws(p);
    size_t n = 0;
    while ((p->s[p->i + n] >= 'a' && p->s[p->i + n] <= 'z') || (p->s[p->i + n] >= 'A' && p->s[p->i + n] <= 'Z') ||
           (p->s[p->i + n] >= '0' && p->s[p->i + n] <= '9') || p->s[p->i + n] == '_')
        n++;
    return n;
}

static const sb_cel_type *parse_type(tparser *p, int depth)
{
    if (depth > 32)
        return NULL;
    if (eat(p, '{')) {
        sb_cel_type *o = sb_cel_type_object(p->e);
        if (!o || eat(p, '}'))
            return o;
        do {
            size_t n = word(p);
            if (!n || n > 127)
                return NULL;
            char name[128];
            memcpy(name, p->s + p->i, n);
            name[n] = 0;
            p->i += n;
            const sb_cel_type *t = eat(p, ':') ? parse_type(p, depth + 1) : NULL;
            if (!t || !sb_cel_type_add_field(p->e, o, name, t))
                return NULL;
        } while (eat(p, ','));
        return eat(p, '}') ? o : NULL;
    }
    size_t n = word(p);
    const char *w = p->s + p->i;
    p->i += n;
    for (size_t k = 0; k <= SB_CT_TYPE; k++)
        if (strlen(text_names[k]) == n && memcmp(text_names[k], w, n) == 0)
            return sb_cel_type_basic(p->e, (sb_cel_tkind)k);
    if (!eat(p, '('))
        return NULL;
    const sb_cel_type *a = parse_type(p, depth + 1), *b = NULL;
    if (n == 3 && memcmp(w, "map", 3) == 0)
        b = eat(p, ',') ? parse_type(p, depth + 1) : NULL;
    if (!a || !eat(p, ')'))
        return NULL;
    if (n == 4 && memcmp(w, "list", 4) == 0)
        return sb_cel_type_list(p->e, a);
    if (n == 8 && memcmp(w, "optional", 8) == 0)
        return opt_of(p->e, a);
    if (n == 3 && memcmp(w, "map", 3) == 0)
        return map_of(p->e, a, b);
    return NULL;
}

const sb_cel_type *sb_cel_type_parse(sb_cel_env *e, const char *text)
{
    tparser p = {e, text, 0};
    const sb_cel_type *t = parse_type(&p, 0);
    skip_ws(&p);
    return t && p.s[p.i] == 0 ? t : NULL;
}

static bool same_type(const sb_cel_type *x, const sb_cel_type *y)
{
    if (x == y)
        return true;
    if (x->kind != y->kind)
        return false;
    switch (x->kind) {
    case SB_CT_LIST:
    case SB_CT_OPTIONAL: return same_type(x->a, y->a);
    case SB_CT_MAP: return same_type(x->a, y->a) && same_type(x->b, y->b);
    case SB_CT_OBJECT:
        if (x->nfields != y->nfields)
            return false;
        for (size_t i = 0; i < x->nfields; i++)
            if (strcmp(x->names[i], y->names[i]) != 0 || !same_type(x->types[i], y->types[i]))
                return false;
        return true;
    default: return true;
    }
}

static const sb_cel_type *type_of(sb_cel_env *e, sb_val v, int depth)
{
    switch (v.kind) {
    case SB_NULL: return sb_cel_type_basic(e, SB_CT_NULL);
    case SB_BOOL: return sb_cel_type_basic(e, SB_CT_BOOL);
    case SB_INT: return sb_cel_type_basic(e, SB_CT_INT);
    case SB_UINT: return sb_cel_type_basic(e, SB_CT_UINT);
    case SB_DOUBLE: return sb_cel_type_basic(e, SB_CT_DOUBLE);
    case SB_STRING: return sb_cel_type_basic(e, SB_CT_STRING);
    case SB_BYTES: return sb_cel_type_basic(e, SB_CT_BYTES);
    case SB_DURATION: return sb_cel_type_basic(e, SB_CT_DURATION);
    case SB_TIMESTAMP: return sb_cel_type_basic(e, SB_CT_TIMESTAMP);
    case SB_TYPE: return sb_cel_type_basic(e, SB_CT_TYPE);
    default: break;
    }
    if (depth > 64)
        return sb_cel_type_basic(e, SB_CT_DYN);
    if (v.kind == SB_LIST) {
        const sb_cel_type *elem = NULL;
        for (size_t i = 0; i < sb_list_len(v); i++) {
            const sb_cel_type *t = type_of(e, *sb_list_at(v, i), depth + 1);
            if (!t)
                return NULL;
            elem = !elem || same_type(elem, t) ? t : sb_cel_type_basic(e, SB_CT_DYN);
        }
        return sb_cel_type_list(e, elem ? elem : sb_cel_type_basic(e, SB_CT_DYN));
    }
    if (v.kind == SB_MAP) {
        for (size_t i = 0; i < sb_map_len(v); i++)
            if (sb_map_key_at(v, i)->kind != SB_STRING)
                return map_of(e, sb_cel_type_basic(e, SB_CT_DYN), sb_cel_type_basic(e, SB_CT_DYN));
        sb_cel_type *o = sb_cel_type_object(e);
        for (size_t i = 0; o && i < sb_map_len(v); i++)
            if (!sb_cel_type_add_field(e, o, sb_str(*sb_map_key_at(v, i)), type_of(e, *sb_map_val_at(v, i), depth + 1)))
                return NULL;
        return o;
    }
    return sb_cel_type_basic(e, SB_CT_DYN);
}

const sb_cel_type *sb_cel_type_of(sb_cel_env *e, sb_val v)
{
    return type_of(e, v, 0);
}

/* --- declarations --- */

bool sb_cel_env_declare(sb_cel_env *e, const char *name, const sb_cel_type *t)
{
    if (!t)
        return false;
    if (e->ndecls == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        decl *d = sb_realloc(e->decls, cap * sizeof *d);
        if (!d)
            return false;
        e->decls = d;
        e->cap = cap;
    }
    decl *d = &e->decls[e->ndecls];
    d->name = sb_strdup(name);
    d->type = t;
    d->where = NULL;
    if (!d->name)
        return false;
    e->ndecls++;
    return true;
}

bool sb_cel_env_hint(sb_cel_env *e, const char *name, const char *where)
{
    if (!sb_cel_env_declare(e, name, sb_cel_type_basic(e, SB_CT_DYN)))
        return false;
    decl *d = &e->decls[e->ndecls - 1];
    d->type = NULL;
    d->where = sb_strdup(where);
    return d->where != NULL;
}

size_t sb_cel_env_mark(const sb_cel_env *e)
{
    return e->ndecls;
}

void sb_cel_env_pop(sb_cel_env *e, size_t mark)
{
    while (e->ndecls > mark) {
        decl *d = &e->decls[--e->ndecls];
        sb_free(d->name);
        sb_free(d->where);
    }
}

/* The latest declaration of name (later ones shadow earlier ones). */
static const decl *lookup(const sb_cel_env *e, const char *name)
{
    for (size_t i = e->ndecls; i-- > 0;)
        if (strcmp(e->decls[i].name, name) == 0)
            return &e->decls[i];
    return NULL;
}

/* --- checking --- */

typedef struct checker {
    sb_cel_env *e;
    const sb_cel_program *p;
    const sb_cel_type **locals;
    sb_val err;
    bool failed;
} checker;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static const sb_cel_type *
fail(checker *c, size_t pos, const char *fmt, ...)
{
    if (c->failed)
        return NULL;
    c->failed = true;
    sb_buf b = SB_BUF_INIT;
    uint32_t col = sb_cel_column(c->p->src, c->p->len, pos);
    sb_buf_printf(&b, "col %u: ", (unsigned)col);
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    c->err = sb_buf_failed(&b) ? sb_oom() : sb_at_pos(sb_error(sb_buf_str(&b)), 0, col);
    sb_buf_free(&b);
    return NULL;
}

static const sb_cel_type *nomem(checker *c)
{
    if (!c->failed) {
        c->failed = true;
        c->err = sb_oom();
    }
    return NULL;
}

static const sb_cel_type *dyn(checker *c)
{
    const sb_cel_type *t = sb_cel_type_basic(c->e, SB_CT_DYN);
    return t ? t : nomem(c);
}

static const sb_cel_type *basic(checker *c, sb_cel_tkind k)
{
    const sb_cel_type *t = sb_cel_type_basic(c->e, k);
    return t ? t : nomem(c);
}

/* The name an operand's type has in messages (what type() would say). */
static const char *tname(const sb_cel_type *t)
{
    return kind_names[t->kind];
}

#define K(k) (1u << (k))
#define NUMERIC (K(SB_CT_INT) | K(SB_CT_UINT) | K(SB_CT_DOUBLE))
#define MAPLIKE (K(SB_CT_MAP) | K(SB_CT_OBJECT))

/* t could be a value of one of the kinds in mask. */
static bool may_be(const sb_cel_type *t, unsigned mask)
{
    return t->kind == SB_CT_DYN || (mask & K(t->kind));
}

static const sb_cel_type *check(checker *c, const cel_node *n);

static const sb_cel_type *field_of(checker *c, const sb_cel_type *t, const char *field, size_t pos, bool opt)
{
    const sb_cel_type *r = NULL;
    if (t->kind == SB_CT_OPTIONAL) {
        r = field_of(c, t->a, field, pos, true);
        return r && r->kind != SB_CT_OPTIONAL ? opt_of(c->e, r) : r;
    }
    switch (t->kind) {
    case SB_CT_DYN: r = dyn(c); break;
    case SB_CT_MAP:
        if (!may_be(t->a, K(SB_CT_STRING)))
            return fail(c, pos, "no matching overload for '.%s' on %s", field, "a map without string keys");
        r = t->b;
        break;
    case SB_CT_OBJECT:
        for (size_t i = 0; i < t->nfields && !r; i++)
            if (strcmp(t->names[i], field) == 0)
                r = t->types[i];
        if (!r && opt) {
            r = dyn(c);
            break;
        }
        if (!r) {
            sb_buf known = SB_BUF_INIT;
            for (size_t i = 0; i < t->nfields && i < 12; i++)
                sb_buf_printf(&known, "%s%s", i ? ", " : "", t->names[i]);
            if (t->nfields > 12)
                sb_buf_puts(&known, ", ...");
            fail(c, pos, "no such key: '%s' (known: %s)", field, t->nfields ? sb_buf_str(&known) : "none");
            sb_buf_free(&known);
            return NULL;
        }
        break;
    default: return fail(c, pos, "type '%s' has no field '%s'", tname(t), field);
    }
    return opt && r ? opt_of(c->e, r) : r;
}

static const sb_cel_type *check_ident(checker *c, const cel_node *n)
{
    const cel_qname *q = n->aux;
    const decl *d = lookup(c->e, q->seg[0]);
    const sb_cel_type *t;
    uint32_t used = 1;
    if (d && d->type) {
        t = d->type;
    } else if (sb_cel__is_type_name(q->seg[0]) || sb_cel__is_type_name(q->full)) {
        used = sb_cel__is_type_name(q->seg[0]) ? 1 : q->nseg;
        t = basic(c, SB_CT_TYPE);
    } else if (d) {
        return fail(c, q->segpos[0], "'%s' is only available %s", q->seg[0], d->where);
    } else {
        sb_buf names = SB_BUF_INIT;
        size_t shown = 0;
        for (size_t i = 0; i < c->e->ndecls; i++) {
            const decl *x = &c->e->decls[i];
            if (x->type && lookup(c->e, x->name) == x)
                sb_buf_printf(&names, "%s%s", shown++ ? ", " : "", x->name);
        }
        fail(c, q->segpos[0], "undeclared reference to '%s' (variables here: %s)", q->seg[0],
             shown ? sb_buf_str(&names) : "none");
        sb_buf_free(&names);
        return NULL;
    }
    for (uint32_t i = used; t && i < q->nseg; i++)
        t = field_of(c, t, q->seg[i], q->segpos[i], false);
    return t;
}

static const sb_cel_type *common(checker *c, const sb_cel_type *a, const sb_cel_type *b)
{
    return same_type(a, b) ? a : dyn(c);
}

static const char *const binop_names[] = {"==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"};

static const sb_cel_type *no_overload(checker *c, const cel_node *n, const sb_cel_type *a, const sb_cel_type *b)
{
    return fail(c, n->pos, "no matching overload for '%s' applied to (%s, %s)", binop_names[n->sub], tname(a),
                tname(b));
}

static const sb_cel_type *check_arith(checker *c, const cel_node *n, const sb_cel_type *a, const sb_cel_type *b)
{
    int op = n->sub;
    if (a->kind == SB_CT_DYN || b->kind == SB_CT_DYN) {
        /* what the known side allows at all */
        const sb_cel_type *k = a->kind == SB_CT_DYN ? b : a;
        unsigned ok = NUMERIC;
        if (op == B_ADD)
            ok |= K(SB_CT_STRING) | K(SB_CT_BYTES) | K(SB_CT_LIST) | K(SB_CT_TIMESTAMP) | K(SB_CT_DURATION);
        if (op == B_SUB)
            ok |= K(SB_CT_TIMESTAMP) | K(SB_CT_DURATION);
        if (op == B_MOD)
            ok = K(SB_CT_INT) | K(SB_CT_UINT);
        return may_be(k, ok) ? dyn(c) : no_overload(c, n, a, b);
    }
    unsigned ka = a->kind, kb = b->kind;
    bool num_a = K(ka) & NUMERIC, num_b = K(kb) & NUMERIC;
    if (num_a && num_b) {
        if (ka == kb && !(op == B_MOD && ka == SB_CT_DOUBLE))
            return a;
        if (c->e->mixed && op != B_MOD && (ka == SB_CT_DOUBLE || kb == SB_CT_DOUBLE))
            return basic(c, SB_CT_DOUBLE);
        return no_overload(c, n, a, b);
    }
    if (op == B_ADD) {
        if (ka == kb && (ka == SB_CT_STRING || ka == SB_CT_BYTES || ka == SB_CT_DURATION))
            return a;
        if (ka == SB_CT_LIST && kb == SB_CT_LIST) {
            const sb_cel_type *el = common(c, a->a, b->a);
            return el ? sb_cel_type_list(c->e, el) : NULL;
        }
        if ((ka == SB_CT_TIMESTAMP && kb == SB_CT_DURATION) || (ka == SB_CT_DURATION && kb == SB_CT_TIMESTAMP))
            return basic(c, SB_CT_TIMESTAMP);
    }
    if (op == B_SUB) {
        if (ka == SB_CT_TIMESTAMP && kb == SB_CT_TIMESTAMP)
            return basic(c, SB_CT_DURATION);
        if (ka == SB_CT_TIMESTAMP && kb == SB_CT_DURATION)
            return a;
        if (ka == SB_CT_DURATION && kb == SB_CT_DURATION)
            return a;
    }
    return no_overload(c, n, a, b);
}

static const sb_cel_type *check_bin(checker *c, const cel_node *n)
{
    const sb_cel_type *a = check(c, n->kids[0]);
    const sb_cel_type *b = a ? check(c, n->kids[1]) : NULL;
    if (!b)
        return NULL;
    switch (n->sub) {
    case B_EQ:
    case B_NE: return basic(c, SB_CT_BOOL); /* any two values compare (false across types) */
    case B_LT:
    case B_LE:
    case B_GT:
    case B_GE: {
        if (a->kind == SB_CT_DYN || b->kind == SB_CT_DYN) {
            const sb_cel_type *k = a->kind == SB_CT_DYN ? b : a;
            unsigned ok = NUMERIC | K(SB_CT_STRING) | K(SB_CT_BYTES) | K(SB_CT_BOOL) | K(SB_CT_TIMESTAMP) |
                          K(SB_CT_DURATION);
            return may_be(k, ok) ? basic(c, SB_CT_BOOL) : no_overload(c, n, a, b);
        }
        bool ok = ((K(a->kind) & NUMERIC) && (K(b->kind) & NUMERIC)) ||
                  (a->kind == b->kind && (a->kind == SB_CT_STRING || a->kind == SB_CT_BYTES || a->kind == SB_CT_BOOL ||
                                          a->kind == SB_CT_TIMESTAMP || a->kind == SB_CT_DURATION));
        return ok ? basic(c, SB_CT_BOOL) : no_overload(c, n, a, b);
    }
    case B_IN: return may_be(b, K(SB_CT_LIST) | MAPLIKE) ? basic(c, SB_CT_BOOL) : no_overload(c, n, a, b);
    default: return check_arith(c, n, a, b);
    }
}

/* a condition or an operand of && || ! */
static bool need_bool(checker *c, const cel_node *n, const sb_cel_type *t, const char *what)
{
    if (!t)
        return false;
    if (may_be(t, K(SB_CT_BOOL)))
        return true;
    fail(c, n->pos, "%s must be a bool, got %s", what, tname(t));
    return false;
}

static const sb_cel_type *check_index(checker *c, const cel_node *n)
{
    const sb_cel_type *o = check(c, n->kids[0]);
    const sb_cel_type *k = o ? check(c, n->kids[1]) : NULL;
    if (!k)
        return NULL;
    bool opt = n->sub & SEL_OPT;
    if (o->kind == SB_CT_OPTIONAL) {
        o = o->a;
        opt = true;
    }
    const sb_cel_type *r = NULL;
    switch (o->kind) {
    case SB_CT_DYN: r = dyn(c); break;
    case SB_CT_LIST:
        if (!may_be(k, NUMERIC))
            return fail(c, n->pos, "no matching overload for '[]' applied to (list, %s)", tname(k));
        r = o->a;
        break;
    case SB_CT_MAP: r = o->b; break;
    case SB_CT_OBJECT: {
        const cel_node *key = n->kids[1];
        if (key->op == N_LIT && key->val.kind == SB_STRING)
            return field_of(c, opt ? opt_of(c->e, o) : o, sb_str(key->val), key->pos, false);
        if (!may_be(k, K(SB_CT_STRING)))
            return opt ? opt_of(c->e, dyn(c)) : dyn(c); /* absent: an error at run time, or none */
        r = dyn(c);
        break;
    }
    default: return fail(c, n->pos, "no matching overload for '[]' applied to (%s, %s)", tname(o), tname(k));
    }
    return opt && r ? opt_of(c->e, r) : r;
}

static const sb_cel_type *check_select(checker *c, const cel_node *n)
{
    const sb_cel_type *o = check(c, n->kids[0]);
    if (!o)
        return NULL;
    if (n->op == N_HAS) {
        if (!may_be(o, MAPLIKE | K(SB_CT_OPTIONAL)))
            return fail(c, n->pos, "has() needs a map, got %s", tname(o));
        return basic(c, SB_CT_BOOL);
    }
    return field_of(c, o, sb_str(n->val), n->pos, n->sub & SEL_OPT);
}

/* Comprehensions: the variables' types from the range, then the parts. */
static const sb_cel_type *check_comp(checker *c, const cel_node *n)
{
    const sb_cel_type *r = check(c, n->kids[0]);
    if (!r)
        return NULL;
    int kind = n->sub;
    const sb_cel_type *v1, *v2;
    if (kind == C_OPT_MAP || kind == C_OPT_FLAT_MAP) {
        if (!may_be(r, K(SB_CT_OPTIONAL)))
            return fail(c, n->pos, "%s needs an optional, got %s", kind == C_OPT_MAP ? "optMap" : "optFlatMap",
                        tname(r));
        c->locals[n->slot] = r->kind == SB_CT_OPTIONAL ? r->a : dyn(c);
        const sb_cel_type *t = check(c, n->kids[1]);
        if (!t)
            return NULL;
        if (kind == C_OPT_MAP)
            return opt_of(c->e, t);
        if (!may_be(t, K(SB_CT_OPTIONAL)))
            return fail(c, n->kids[1]->pos, "optFlatMap's function must give an optional, got %s", tname(t));
        return t;
    }
    bool two = n->slot2 >= 0;
    switch (r->kind) {
    case SB_CT_DYN: v1 = v2 = dyn(c); break;
    case SB_CT_LIST:
        v1 = two ? basic(c, SB_CT_INT) : r->a;
        v2 = r->a;
        break;
    case SB_CT_MAP:
        v1 = r->a;
        v2 = r->b;
        break;
    case SB_CT_OBJECT:
        v1 = basic(c, SB_CT_STRING);
        v2 = dyn(c);
        break;
    default: return fail(c, n->kids[0]->pos, "a macro's range must be a list or a map, got %s", tname(r));
    }
    if (!v1 || !v2)
        return NULL;
    c->locals[n->slot] = v1;
    if (two)
        c->locals[n->slot2] = v2;
    bool has_filter = kind == C_MAP_FILTER || kind == C_TRANSFORM_LIST_FILTER || kind == C_TRANSFORM_MAP_FILTER ||
                      kind == C_TRANSFORM_MAP_ENTRY_FILTER;
    if (kind == C_ALL || kind == C_EXISTS || kind == C_EXISTS_ONE || kind == C_FILTER || has_filter) {
        const sb_cel_type *p = check(c, n->kids[1]);
        if (!need_bool(c, n->kids[1], p, "a macro's predicate"))
            return NULL;
    }
    if (kind == C_ALL || kind == C_EXISTS || kind == C_EXISTS_ONE)
        return basic(c, SB_CT_BOOL);
    if (kind == C_FILTER)
        return sb_cel_type_list(c->e, r->kind == SB_CT_LIST ? r->a : v1);
    const sb_cel_type *t = check(c, n->kids[n->nkids - 1]);
    if (!t)
        return NULL;
    switch (kind) {
    case C_MAP:
    case C_MAP_FILTER:
    case C_TRANSFORM_LIST:
    case C_TRANSFORM_LIST_FILTER: return sb_cel_type_list(c->e, t);
    case C_TRANSFORM_MAP:
    case C_TRANSFORM_MAP_FILTER: return map_of(c->e, v1, t);
    default:
        if (!may_be(t, MAPLIKE))
            return fail(c, n->kids[n->nkids - 1]->pos, "transformMapEntry's function must give a map, got %s",
                        tname(t));
        return map_of(c->e, dyn(c), dyn(c));
    }
}

static const char *fn_name(const cel_node *n)
{
    return n->fn == FN_UNKNOWN ? sb_str(n->val) : sb_cel__builtin_at(n->fn)->name;
}

static bool in_list(const char *name, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(name, *names) == 0)
            return true;
    return false;
}

static const char *const string_methods[] = {"contains", "startsWith", "endsWith", "charAt",  "indexOf",
                                             "lastIndexOf", "lowerAscii", "upperAscii", "replace", "split",
                                             "substring", "trim", NULL};
static const char *const string_args[] = {"contains", "startsWith", "endsWith", "matches", NULL};
static const char *const time_getters[] = {"getFullYear", "getMonth",   "getDayOfYear", "getDate",
                                           "getDayOfMonth", "getDayOfWeek", "getHours", "getMinutes",
                                           "getSeconds", "getMilliseconds", NULL};

static const sb_cel_type *bad_arg(checker *c, const cel_node *n, const char *name, const sb_cel_type **t,
                                  uint32_t nt, bool member)
{
    sb_buf b = SB_BUF_INIT;
    for (uint32_t i = 0; i < nt; i++)
        sb_buf_printf(&b, "%s%s", i ? ", " : "", tname(t[i]));
    fail(c, n->pos, "no matching overload for %s%s(%s)", member ? "_." : "", name, sb_buf_str(&b));
    sb_buf_free(&b);
    return NULL;
}

static const sb_cel_type *check_call(checker *c, const cel_node *n)
{
    const char *name = fn_name(n);
    if (n->fn == FN_UNKNOWN)
        return fail(c, n->pos, "undeclared reference to function '%s'", name);
    const sb_cel_type *t[8];
    uint32_t nt = n->nkids < 8 ? n->nkids : 8;
    for (uint32_t i = 0; i < n->nkids; i++) {
        const sb_cel_type *k = check(c, n->kids[i]);
        if (!k)
            return NULL;
        if (i < 8)
            t[i] = k;
    }
    bool member = n->sub & CALL_MEMBER;
    const sb_cel_type *recv = member && nt ? t[0] : NULL;
    /* receivers and arguments that can never fit */
    if (recv && in_list(name, string_methods) && !may_be(recv, K(SB_CT_STRING)))
        return bad_arg(c, n, name, t, nt, member);
    if (in_list(name, string_args))
        for (uint32_t i = 0; i < nt; i++)
            if (!may_be(t[i], K(SB_CT_STRING)))
                return bad_arg(c, n, name, t, nt, member);
    if (recv && in_list(name, time_getters) &&
        (!may_be(recv, K(SB_CT_TIMESTAMP) | K(SB_CT_DURATION)) || (nt > 1 && !may_be(t[1], K(SB_CT_STRING)))))
        return bad_arg(c, n, name, t, nt, member);
    if (recv && strcmp(name, "join") == 0 && !may_be(recv, K(SB_CT_LIST)))
        return bad_arg(c, n, name, t, nt, member);
    if (strcmp(name, "size") == 0 && nt == 1 &&
        !may_be(t[0], K(SB_CT_STRING) | K(SB_CT_BYTES) | K(SB_CT_LIST) | MAPLIKE))
        return bad_arg(c, n, name, t, nt, member);
    if ((strcmp(name, "hasValue") == 0 || strcmp(name, "value") == 0 || strcmp(name, "orValue") == 0 ||
         strcmp(name, "or") == 0) &&
        recv && !may_be(recv, K(SB_CT_OPTIONAL)))
        return bad_arg(c, n, name, t, nt, member);
    /* results */
    static const struct {
        const char *name;
        sb_cel_tkind kind;
    } results[] = {{"size", SB_CT_INT},          {"contains", SB_CT_BOOL},        {"startsWith", SB_CT_BOOL},
                   {"endsWith", SB_CT_BOOL},     {"matches", SB_CT_BOOL},         {"int", SB_CT_INT},
                   {"uint", SB_CT_UINT},         {"double", SB_CT_DOUBLE},        {"string", SB_CT_STRING},
                   {"bool", SB_CT_BOOL},         {"bytes", SB_CT_BYTES},          {"type", SB_CT_TYPE},
                   {"timestamp", SB_CT_TIMESTAMP}, {"duration", SB_CT_DURATION},  {"charAt", SB_CT_STRING},
                   {"indexOf", SB_CT_INT},       {"lastIndexOf", SB_CT_INT},      {"lowerAscii", SB_CT_STRING},
                   {"upperAscii", SB_CT_STRING}, {"replace", SB_CT_STRING},       {"substring", SB_CT_STRING},
                   {"trim", SB_CT_STRING},       {"join", SB_CT_STRING},          {"format", SB_CT_STRING},
                   {"strings.quote", SB_CT_STRING}, {"base64.encode", SB_CT_STRING}, {"base64.decode", SB_CT_BYTES},
                   {"math.ceil", SB_CT_DOUBLE},  {"math.floor", SB_CT_DOUBLE},    {"math.round", SB_CT_DOUBLE},
                   {"math.trunc", SB_CT_DOUBLE}, {"math.sqrt", SB_CT_DOUBLE},     {"math.isNaN", SB_CT_BOOL},
                   {"math.isInf", SB_CT_BOOL},   {"math.isFinite", SB_CT_BOOL},   {"hasValue", SB_CT_BOOL}};
    for (size_t i = 0; i < sizeof results / sizeof *results; i++)
        if (strcmp(name, results[i].name) == 0)
            return basic(c, results[i].kind);
    if (in_list(name, time_getters))
        return basic(c, SB_CT_INT);
    if (strcmp(name, "split") == 0)
        return sb_cel_type_list(c->e, basic(c, SB_CT_STRING));
    if ((strcmp(name, "optional.of") == 0 || strcmp(name, "optional.ofNonZeroValue") == 0) && nt == 1)
        return opt_of(c->e, t[0]);
    if (strcmp(name, "value") == 0 && recv && recv->kind == SB_CT_OPTIONAL)
        return recv->a;
    if (strcmp(name, "orValue") == 0 && recv && recv->kind == SB_CT_OPTIONAL && nt == 2)
        return common(c, recv->a, t[1]);
    if (strcmp(name, "or") == 0 && recv && recv->kind == SB_CT_OPTIONAL && nt == 2)
        return common(c, recv, t[1]);
    if ((strcmp(name, "math.abs") == 0 || strcmp(name, "math.sign") == 0) && nt == 1 && may_be(t[0], NUMERIC))
        return t[0];
    return dyn(c);
}

static const sb_cel_type *check_literal(checker *c, const cel_node *n)
{
    const sb_cel_type *t = sb_cel_type_of(c->e, n->val);
    return t ? t : nomem(c);
}

static const sb_cel_type *check_list(checker *c, const cel_node *n)
{
    const sb_cel_type *el = NULL;
    for (uint32_t i = 0; i < n->nkids; i++) {
        const sb_cel_type *t = check(c, n->kids[i]);
        if (!t)
            return NULL;
        el = !el ? t : common(c, el, t);
    }
    return sb_cel_type_list(c->e, el ? el : dyn(c));
}

static const sb_cel_type *check_map(checker *c, const cel_node *n)
{
    const sb_cel_type *kt = NULL, *vt = NULL;
    for (uint32_t i = 0; i + 1 < n->nkids; i += 2) {
        const sb_cel_type *k = check(c, n->kids[i]);
        const sb_cel_type *v = k ? check(c, n->kids[i + 1]) : NULL;
        if (!v)
            return NULL;
        if (!may_be(k, K(SB_CT_INT) | K(SB_CT_UINT) | K(SB_CT_BOOL) | K(SB_CT_STRING)))
            return fail(c, n->kids[i]->pos, "unsupported key type %s", tname(k));
        kt = !kt ? k : common(c, kt, k);
        vt = !vt ? v : common(c, vt, v);
    }
    return map_of(c->e, kt ? kt : dyn(c), vt ? vt : dyn(c));
}

static const sb_cel_type *check(checker *c, const cel_node *n)
{
    if (c->failed)
        return NULL;
    const sb_cel_type *a, *b;
    switch ((cel_op)n->op) {
    case N_LIT: return check_literal(c, n);
    case N_IDENT: return check_ident(c, n);
    case N_LOCAL: return c->locals[n->slot] ? c->locals[n->slot] : dyn(c);
    case N_SELECT:
    case N_HAS: return check_select(c, n);
    case N_INDEX: return check_index(c, n);
    case N_CALL: return check_call(c, n);
    case N_LIST: return check_list(c, n);
    case N_MAP: return check_map(c, n);
    case N_AND:
    case N_OR:
        for (uint32_t i = 0; i < n->nkids; i++)
            if (!need_bool(c, n->kids[i], check(c, n->kids[i]), n->op == N_AND ? "an operand of &&"
                                                                                : "an operand of ||"))
                return NULL;
        return basic(c, SB_CT_BOOL);
    case N_NOT:
        if (!need_bool(c, n->kids[0], check(c, n->kids[0]), "the operand of !"))
            return NULL;
        return basic(c, SB_CT_BOOL);
    case N_NEG:
        a = check(c, n->kids[0]);
        if (a && !may_be(a, K(SB_CT_INT) | K(SB_CT_DOUBLE) | K(SB_CT_DURATION)))
            return fail(c, n->pos, "no matching overload for '-' applied to %s", tname(a));
        return a;
    case N_COND:
        if (!need_bool(c, n->kids[0], check(c, n->kids[0]), "the condition of ?:"))
            return NULL;
        a = check(c, n->kids[1]);
        b = a ? check(c, n->kids[2]) : NULL;
        return b ? common(c, a, b) : NULL;
    case N_BIN: return check_bin(c, n);
    case N_COMP: return check_comp(c, n);
    case N_BIND:
        a = check(c, n->kids[1]);
        if (!a)
            return NULL;
        c->locals[n->slot] = a;
        return check(c, n->kids[2]);
    case N_OPT:
        /* ?x in a list or map literal: x must be an optional; the entry has its value's type */
        a = check(c, n->kids[0]);
        if (a && !may_be(a, K(SB_CT_OPTIONAL)))
            return fail(c, n->pos, "an optional entry needs an optional value, got %s", tname(a));
        return a && a->kind == SB_CT_OPTIONAL ? a->a : a;
    }
    return dyn(c);
}

const sb_cel_type *sb_cel_check(sb_cel_env *e, const sb_cel_program *p, sb_val *err)
{
    checker c = {e, p, NULL, sb_null(), false};
    if (p->nlocals) {
        c.locals = sb_calloc(p->nlocals, sizeof *c.locals);
        if (!c.locals) {
            if (err)
                *err = sb_oom();
            return NULL;
        }
    }
    const sb_cel_type *t = check(&c, p->root);
    sb_free(c.locals);
    if (!t && !c.failed)
        nomem(&c);
    if (c.failed) {
        if (err)
            *err = c.err;
        else
            sb_val_free(c.err);
        return NULL;
    }
    return t;
}
