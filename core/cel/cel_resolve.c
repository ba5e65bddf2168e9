/* Name resolution, after parsing and before any evaluation:
 *   - identifiers bound by a macro or cel.bind become local slots;
 *   - other identifier chains (a.b.c) become qualified names with their
 *     candidate variable names in priority order (cel-spec "Name
 *     Resolution": container prefixes first, the longest name first);
 *   - function names become builtin indexes; receiver calls on a qualified
 *     name that spells a namespaced function (math.greatest) become global;
 *   - literal regular expressions are compiled once.
 * Recursion follows the tree, whose height the parser bounded. */
#include <stdio.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"
#include "cel_int.h"

/* Helpers with large buffers stay out of the recursive frames. */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* Longest dotted-name prefix looked up in the variables. */
#define MAX_QUALIFIED_SEGMENTS 16

typedef struct resolver {
    sb_cel_program *p;
    const char **names; /* scope stack of local names; slot = index */
    uint32_t n;
    size_t cap;
    sb_val err;
    bool failed;
} resolver;

static void rerr(resolver *r, size_t pos, const char *msg)
{
    if (r->failed)
        return;
    r->failed = true;
    uint32_t col = sb_cel_column(r->p->src, r->p->len, pos);
    r->err = sb_at_pos(sb_errorf("col %u: %s", (unsigned)col, msg), 0, col);
}

static bool push(resolver *r, const char *name, int32_t *slot)
{
    if (!SB_GROW(r->names, r->cap, (size_t)r->n + 1))
        return false;
    *slot = (int32_t)r->n;
    r->names[r->n++] = name;
    if (r->n > r->p->nlocals)
        r->p->nlocals = r->n;
    return true;
}

static int32_t lookup_local(const resolver *r, const char *name)
{
    for (uint32_t i = r->n; i-- > 0;)
        if (strcmp(r->names[i], name) == 0)
            return (int32_t)i;
    return -1;
}

/* Collects the identifier chain under a select: a.b.c -> [a, b, c]. Returns
 * the chain length, or 0 if n is not such a chain. */
static uint32_t chain_len(const cel_node *n)
{
    uint32_t k = 1;
    while (n->op == N_SELECT) {
        if (n->sub) /* `quoted` field: not a name segment */
            return 0;
        n = n->kids[0];
        k++;
    }
    return n->op == N_IDENT ? k : 0;
}

static void free_qname(cel_qname *q)
{
    if (!q)
        return;
    for (uint32_t i = 0; i < q->nseg; i++) {
        sb_free(q->seg[i]);
        if (q->segkey)
            sb_val_free(q->segkey[i]);
    }
    for (uint32_t i = 0; i < q->ncand; i++) {
        sb_free(q->cand[i].name);
        sb_val_free(q->cand[i].key);
    }
    sb_free(q->segkey);
    sb_free(q->seg);
    sb_free(q->segpos);
    sb_free(q->cand);
    sb_free(q->full);
    sb_free(q);
}

void sb_cel__node_release(cel_node *n)
{
    sb_val_free(n->val);
    n->val = sb_null();
    if (n->op == N_IDENT)
        free_qname(n->aux);
    else if (n->op == N_CALL)
        sb_cel__regex_free(n->aux);
    n->aux = NULL;
}

static char *join_segments(cel_qname *q, const char *prefix, uint32_t used)
{
    sb_buf b = SB_BUF_INIT;
    if (prefix && *prefix) {
        sb_buf_puts(&b, prefix);
        sb_buf_putc(&b, '.');
    }
    for (uint32_t i = 0; i < used; i++) {
        if (i)
            sb_buf_putc(&b, '.');
        sb_buf_puts(&b, q->seg[i]);
    }
    return sb_buf_take(&b);
}

static bool add_cand(cel_qname *q, char *name, uint32_t used)
{
    if (!name)
        return false;
    q->cand[q->ncand].name = name;
    q->cand[q->ncand].used = (uint16_t)used;
    q->cand[q->ncand].key = sb_string_key(name, strlen(name));
    q->ncand++;
    return q->cand[q->ncand - 1].key.kind == SB_STRING;
}

/* Builds the qualified name for the chain rooted at n (n is the outermost
 * select or the identifier itself). */
static cel_qname *make_qname(resolver *r, const cel_node *n, uint32_t len, bool rooted)
{
    cel_qname *q = sb_calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->seg = sb_calloc(len, sizeof *q->seg);
    q->segpos = sb_calloc(len, sizeof *q->segpos);
    q->segkey = sb_calloc(len, sizeof *q->segkey); /* zeroed: SB_NULL values */
    if (!q->seg || !q->segpos || !q->segkey)
        goto fail;
    q->nseg = (uint16_t)len;
    const cel_node *m = n;
    for (uint32_t i = len; i-- > 0;) {
        q->seg[i] = sb_strndup(sb_str(m->val), sb_str_len(m->val));
        q->segkey[i] = sb_val_ref(m->val);
        q->segpos[i] = m->pos;
        if (!q->seg[i])
            goto fail;
        if (i)
            m = m->kids[0];
    }
    q->full = join_segments(q, NULL, len);
    if (!q->full)
        goto fail;
    /* container prefixes, longest first: "a.b.c" -> "a.b.c", "a.b", "a" */
    const char *cont = rooted ? NULL : r->p->container;
    uint32_t nprefix = 0;
    char *prefixes[MAX_QUALIFIED_SEGMENTS];
    if (cont && *cont) {
        char *c = sb_strdup(cont);
        if (!c)
            goto fail;
        while (nprefix < MAX_QUALIFIED_SEGMENTS) {
            prefixes[nprefix++] = c;
            char *dot = strrchr(c, '.');
            if (!dot)
                break;
            c = sb_strndup(c, (size_t)(dot - c));
            if (!c)
                break;
        }
    }
    uint32_t maxused = len < MAX_QUALIFIED_SEGMENTS ? len : MAX_QUALIFIED_SEGMENTS;
    q->cand = sb_calloc((size_t)maxused * (nprefix + 1), sizeof *q->cand);
    bool ok = q->cand != NULL;
    for (uint32_t used = maxused; ok && used >= 1; used--) {
        for (uint32_t k = 0; ok && k < nprefix; k++)
            ok = add_cand(q, join_segments(q, prefixes[k], used), used);
        if (ok)
            ok = add_cand(q, join_segments(q, NULL, used), used);
    }
    for (uint32_t k = 0; k < nprefix; k++)
        sb_free(prefixes[k]);
    if (!ok)
        goto fail;
    return q;
fail:
    free_qname(q);
    return NULL;
}

static void resolve(resolver *r, cel_node *n);

/* "math" + "greatest" -> the global function math.greatest, if it exists
 * and the receiver is a name that no local variable shadows. */
NOINLINE static uint16_t namespaced_function(resolver *r, const cel_node *recv, const char *fn)
{
    uint32_t len = chain_len(recv);
    if (!len)
        return FN_UNKNOWN;
    const cel_node *m = recv;
    while (m->op == N_SELECT)
        m = m->kids[0];
    if (m->sub || lookup_local(r, sb_str(m->val)) >= 0)
        return FN_UNKNOWN;
    char buf[256];
    size_t pos = sizeof buf;
    buf[--pos] = '\0';
    size_t fl = strlen(fn);
    if (fl + 1 >= pos)
        return FN_UNKNOWN;
    pos -= fl;
    memcpy(buf + pos, fn, fl);
    for (m = recv;; m = m->kids[0]) {
        size_t l = sb_str_len(m->val);
        if (l + 2 >= pos)
            return FN_UNKNOWN;
        buf[--pos] = '.';
        pos -= l;
        memcpy(buf + pos, sb_str(m->val), l);
        if (m->op != N_SELECT)
            break;
    }
    return sb_cel__builtin_find(buf + pos, strlen(buf + pos), STYLE_GLOBAL);
}

/* receiver.f(args) where receiver.f names a namespaced global function:
 * drop the receiver (it was the namespace). Kept out of resolve_call so its
 * buffer is not on the stack during the recursion. */
static void make_global(resolver *r, cel_node *n, uint16_t g)
{
    const cel_node *base = n->kids[0];
    while (base->op == N_SELECT)
        base = base->kids[0];
    n->pos = base->pos;
    memmove(n->kids, n->kids + 1, (n->nkids - 1) * sizeof *n->kids);
    n->nkids--;
    n->sub &= (uint8_t)~CALL_MEMBER;
    n->fn = g;
    sb_val nv = sb_string_cstr(sb_cel__builtin_at(g)->name);
    if (nv.kind == SB_ERROR) {
        rerr(r, n->pos, "out of memory");
        return;
    }
    sb_val_free(n->val);
    n->val = nv;
}

/* 'x'.matches('literal'): compile once (an invalid pattern stays a runtime
 * error, so it can be absorbed like any other error). */
NOINLINE static void precompile_regex(cel_node *n)
{
    char e[128];
    n->aux = sb_cel__regex_compile(sb_str(n->kids[1]->val), sb_str_len(n->kids[1]->val), e, sizeof e);
}

static void resolve_call(resolver *r, cel_node *n)
{
    const char *name = sb_str(n->val);
    if (n->sub & CALL_MEMBER) {
        uint16_t g = namespaced_function(r, n->kids[0], name);
        if (g != FN_UNKNOWN)
            make_global(r, n, g);
        else
            n->fn = sb_cel__builtin_find(name, sb_str_len(n->val), STYLE_MEMBER);
    } else {
        n->fn = sb_cel__builtin_find(name, sb_str_len(n->val), STYLE_GLOBAL);
    }
    for (uint32_t i = 0; i < n->nkids && !r->failed; i++)
        resolve(r, n->kids[i]);
    if (n->fn != FN_UNKNOWN && strcmp(sb_cel__builtin_at(n->fn)->name, "matches") == 0 && n->nkids == 2 &&
        n->kids[1]->op == N_LIT && n->kids[1]->val.kind == SB_STRING)
        precompile_regex(n);
}

static void resolve_comp(resolver *r, cel_node *n)
{
    resolve(r, n->kids[0]);
    if (r->failed)
        return;
    const cel_node *v2 = n->aux;
    n->aux = NULL;
    uint32_t mark = r->n;
    if (!push(r, sb_str(n->val), &n->slot) || (v2 && !push(r, sb_str(v2->val), &n->slot2))) {
        rerr(r, n->pos, "out of memory");
        return;
    }
    if (v2 && strcmp(sb_str(n->val), sb_str(v2->val)) == 0) {
        rerr(r, v2->pos, "the two variables of a macro must have different names");
        return;
    }
    for (uint32_t i = 1; i < n->nkids && !r->failed; i++)
        resolve(r, n->kids[i]);
    r->n = mark;
}

/* A list literal of literals (`x in ['a', 'b']`) becomes one literal value,
 * built once here instead of at every evaluation. Left as it is if memory
 * runs out: that only costs speed. */
static void fold_list(cel_node *n)
{
    for (uint32_t i = 0; i < n->nkids; i++)
        if (n->kids[i]->op != N_LIT)
            return;
    sb_val l = sb_list_new(n->nkids);
    for (uint32_t i = 0; i < n->nkids && l.kind == SB_LIST; i++)
        if (!sb_list_push(&l, sb_val_ref(n->kids[i]->val))) {
            sb_val_free(l);
            return;
        }
    if (l.kind != SB_LIST)
        return;
    n->op = N_LIT;
    n->nkids = 0;
    n->val = l;
}

/* The keys of the field chain n (selects down to a local), so evaluation
 * looks them up in one call. Left out if memory runs out: that only costs
 * speed. */
static void make_fpath(resolver *r, cel_node *n, uint32_t nkeys)
{
    cel_fpath *f = sb_cel__arena_alloc(r->p, sizeof *f + nkeys * sizeof f->keys[0]);
    if (!f)
        return;
    f->nkeys = nkeys;
    cel_node *s = n;
    for (; s->op == N_SELECT; s = s->kids[0])
        f->keys[--nkeys] = s->val;
    f->slot = s->slot;
    n->aux = f;
}

static void resolve(resolver *r, cel_node *n)
{
    if (r->failed)
        return;
    switch (n->op) {
    case N_LIT:
    case N_LOCAL:
        return;
    case N_IDENT:
    case N_SELECT: {
        uint32_t len = chain_len(n);
        const cel_node *base = n;
        while (base->op == N_SELECT)
            base = base->kids[0];
        bool rooted = base->op == N_IDENT && base->sub;
        if (len && !rooted && lookup_local(r, sb_str(base->val)) >= 0) {
            /* a local variable followed by field selections */
            if (n->op == N_IDENT) {
                n->op = N_LOCAL;
                n->slot = lookup_local(r, sb_str(n->val));
                return;
            }
            resolve(r, n->kids[0]);
            make_fpath(r, n, len - 1);
            return;
        }
        if (!len) {
            resolve(r, n->kids[0]);
            return;
        }
        cel_qname *q = make_qname(r, n, len, rooted);
        if (!q) {
            rerr(r, n->pos, "out of memory");
            return;
        }
        n->op = N_IDENT;
        n->nkids = 0;
        n->aux = q;
        n->pos = q->segpos[0];
        return;
    }
    case N_CALL:
        resolve_call(r, n);
        return;
    case N_COMP:
        resolve_comp(r, n);
        return;
    case N_BIND: {
        resolve(r, n->kids[1]);
        uint32_t mark = r->n;
        if (!r->failed && !push(r, sb_str(n->val), &n->slot)) {
            rerr(r, n->pos, "out of memory");
            return;
        }
        resolve(r, n->kids[2]);
        r->n = mark;
        return;
    }
    default:
        for (uint32_t i = 0; i < n->nkids && !r->failed; i++)
            resolve(r, n->kids[i]);
        if (n->op == N_LIST && !r->failed)
            fold_list(n);
        return;
    }
}

bool sb_cel__resolve(sb_cel_program *p, sb_val *err)
{
    resolver r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.err = sb_null();
    resolve(&r, p->root);
    sb_free(r.names);
    if (r.failed) {
        *err = r.err;
        return false;
    }
    return true;
}
