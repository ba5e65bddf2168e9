/* The tree-walking evaluator. Every node returns a new reference; errors are
 * SB_ERROR values located at the node that failed. Limit breaches and
 * allocation failures are "fatal": kept in the context, returned from every
 * later step, and never absorbed by && || or a macro. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "cel_int.h"

sb_val sb_cel__err_at(cel_ctx *c, size_t pos, const char *msg)
{
    sb_val e = sb_error(msg);
    if (sb_is_oom(e))
        return sb_cel__oom(c);
    return sb_at_pos(e, 0, sb_cel_column(c->prog->src, c->prog->len, pos));
}

sb_val sb_cel__err(cel_ctx *c, const cel_node *n, const char *fmt, ...)
{
    sb_buf b = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (sb_buf_failed(&b)) {
        sb_buf_free(&b);
        return sb_cel__oom(c);
    }
    sb_val e = sb_cel__err_at(c, n ? n->pos : 0, sb_buf_str(&b));
    sb_buf_free(&b);
    return e;
}

static void set_fatal(cel_ctx *c, sb_val e)
{
    if (c->fatal.kind == SB_ERROR) {
        sb_val_free(e);
        return;
    }
    c->fatal = e;
    c->max_steps = 0; /* every later step fails at once */
}

sb_val sb_cel__fatal(cel_ctx *c)
{
    return sb_val_ref(c->fatal);
}

sb_val sb_cel__oom(cel_ctx *c)
{
    set_fatal(c, sb_oom());
    return sb_val_ref(c->fatal);
}

bool sb_cel__charge_bytes(cel_ctx *c, size_t n)
{
    if (c->fatal.kind == SB_ERROR)
        return false;
    if (n > c->max_bytes - c->bytes) {
        c->bytes = c->max_bytes;
        set_fatal(c, sb_errorf("evaluation limit: more than %zu bytes allocated", c->max_bytes));
        return false;
    }
    c->bytes += n;
    return true;
}

bool sb_cel__charge_steps_slow(cel_ctx *c, uint64_t n)
{
    if (c->fatal.kind == SB_ERROR)
        return false;
    if (n > c->max_steps - c->steps) {
        uint64_t lim = c->max_steps;
        set_fatal(c, sb_errorf("evaluation limit: more than %llu steps", (unsigned long long)lim));
        return false;
    }
    c->steps += n;
    return true;
}

/* An error that may be absorbed by && || all() exists(): not a limit breach
 * and not an allocation failure. */
static bool absorbable(cel_ctx *c, sb_val v)
{
    if (c->fatal.kind == SB_ERROR)
        return false;
    if (sb_is_oom(v)) {
        sb_cel__oom(c);
        return false;
    }
    return true;
}

/* ---- identifiers ---- */

/* "undeclared reference to 'x' (variables: a, b)" */
static sb_val undeclared(cel_ctx *c, const cel_node *n, const char *name)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "undeclared reference to '%s'", name);
    size_t nv = sb_map_len(c->vars);
    if (nv) {
        sb_buf_puts(&b, " (variables: ");
        size_t shown = 0;
        for (size_t i = 0; i < nv && shown < 12; i++) {
            const sb_val *k = sb_map_key_at(c->vars, i);
            if (k->kind != SB_STRING)
                continue;
            sb_buf_puts(&b, shown ? ", " : "");
            sb_buf_append(&b, sb_str(*k), sb_str_len(*k));
            shown++;
        }
        sb_buf_puts(&b, nv > shown ? ", ...)" : ")");
    }
    sb_val e = sb_buf_failed(&b) ? sb_cel__oom(c) : sb_cel__err_at(c, n->pos, sb_buf_str(&b));
    sb_buf_free(&b);
    return e;
}

/* The variable or field a name chain denotes, borrowed from vars, when
 * every segment is found by map lookups; NULL otherwise (eval_ident then
 * builds the value or the error). */
/* The variable a name chain starts from, and in *used how many of its
 * segments that variable's name covers. Candidates are tried longest first;
 * with no dotted variable names only the first segment alone can match. */
static const sb_val *ident_root(cel_ctx *c, const cel_qname *q, uint32_t *used)
{
    *used = 1;
    if (!c->dotted)
        return sb_map_get(c->vars, q->segkey[0]);
    const sb_val *found = NULL;
    for (uint32_t i = 0; i < q->ncand && !found; i++) {
        found = sb_map_get(c->vars, q->cand[i].key);
        *used = q->cand[i].used;
    }
    return found;
}

CEL_HOT const sb_val *ident_borrow(cel_ctx *c, const cel_qname *q)
{
    if (!c->dotted) /* the whole chain in one call */
        return sb_map_get_path(c->vars, q->segkey, q->nseg);
    uint32_t used;
    const sb_val *found = ident_root(c, q, &used);
    return found && used < q->nseg ? sb_map_get_path(*found, q->segkey + used, q->nseg - used) : found;
}

static sb_val eval_ident(cel_ctx *c, const cel_node *n)
{
    const cel_qname *q = n->aux;
    const sb_val *found = ident_borrow(c, q);
    if (found)
        return sb_val_ref(*found);
    /* not all found: as far as maps go, then the error or a type name */
    uint32_t used;
    found = ident_root(c, q, &used);
    /* the fields of maps found, borrowed: one reference at the end */
    for (; found && used < q->nseg && found->kind == SB_MAP; used++) {
        const sb_val *f = sb_map_get(*found, q->segkey[used]);
        if (!f)
            break;
        found = f;
    }
    sb_val v;
    if (found) {
        v = sb_val_ref(*found);
    } else if (sb_cel__is_type_name(q->seg[0]) || sb_cel__is_type_name(q->full)) {
        used = sb_cel__is_type_name(q->seg[0]) ? 1 : q->nseg; /* google.protobuf.Timestamp */
        v = sb_type(used == 1 ? q->seg[0] : q->full);
        if (v.kind == SB_ERROR)
            return sb_cel__oom(c);
    } else {
        return undeclared(c, n, q->nseg > 1 && !c->dotted ? q->seg[0] : q->full);
    }
    for (uint32_t i = used; i < q->nseg && v.kind != SB_ERROR; i++) {
        sb_val next = sb_cel__select(c, n, v, q->segkey[i], q->segpos[i]);
        sb_val_free(v);
        v = next;
    }
    return v;
}

/* ---- logic ---- */

static sb_val logic_error(cel_ctx *c, const cel_node *n, sb_val bad)
{
    if (bad.kind == SB_ERROR)
        return bad;
    sb_val e = sb_cel__err(c, n, "no matching overload for '%s' applied to %s", n->op == N_AND ? "&&" : "||",
                           sb_cel__type_name(bad));
    sb_val_free(bad);
    return e;
}

/* && and ||: an operand that decides the result wins over an error or a
 * non-bool in the other one (cel-spec "Logical Operators"). */
static sb_val eval_logic(cel_ctx *c, const cel_node *n)
{
    bool is_and = n->op == N_AND;
    sb_val l = sb_cel__eval_node(c, n->kids[0]);
    if (l.kind == SB_BOOL) {
        if (l.as.b != is_and)
            return l; /* false && _, true || _ */
        sb_val r = sb_cel__eval_node(c, n->kids[1]);
        if (r.kind == SB_BOOL || r.kind == SB_ERROR)
            return r;
        return logic_error(c, n, r);
    }
    if (!absorbable(c, l))
        return l;
    sb_val r = sb_cel__eval_node(c, n->kids[1]);
    if (r.kind == SB_BOOL && r.as.b != is_and && absorbable(c, r)) {
        sb_val_free(l);
        return r;
    }
    if (r.kind == SB_ERROR && !absorbable(c, r)) {
        sb_val_free(l);
        return r;
    }
    sb_val_free(r);
    return logic_error(c, n, l);
}

/* ---- aggregates ---- */

static sb_val eval_list(cel_ctx *c, const cel_node *n)
{
    if (!sb_cel__charge_bytes(c, 32 + (size_t)n->nkids * sizeof(sb_val)))
        return sb_cel__fatal(c);
    sb_val l = sb_list_new(n->nkids);
    if (l.kind == SB_ERROR)
        return sb_cel__oom(c);
    for (uint32_t i = 0; i < n->nkids; i++) {
        const cel_node *e = n->kids[i];
        bool skip = false;
        sb_val v = sb_cel__eval_node(c, e->op == N_OPT ? e->kids[0] : e);
        if (e->op == N_OPT && v.kind != SB_ERROR)
            v = sb_cel__opt_elem(c, e, v, &skip);
        if (v.kind == SB_ERROR) {
            sb_val_free(l);
            return v;
        }
        if (skip)
            continue;
        if (!sb_list_push(&l, v)) {
            sb_val_free(l);
            return sb_cel__oom(c);
        }
    }
    return l;
}

static bool valid_key(sb_val k)
{
    return k.kind == SB_INT || k.kind == SB_UINT || k.kind == SB_BOOL || k.kind == SB_STRING;
}

static sb_val eval_map(cel_ctx *c, const cel_node *n)
{
    uint32_t np = n->nkids / 2;
    if (!sb_cel__charge_bytes(c, 48 + (size_t)np * 2 * sizeof(sb_val)))
        return sb_cel__fatal(c);
    sb_val m = sb_map_new(np);
    if (m.kind == SB_ERROR)
        return sb_cel__oom(c);
    for (uint32_t i = 0; i < np; i++) {
        sb_val k = sb_cel__eval_node(c, n->kids[2 * i]);
        if (k.kind == SB_ERROR) {
            sb_val_free(m);
            return k;
        }
        if (!valid_key(k)) {
            sb_val e =
                sb_cel__err(c, n->kids[2 * i], "unsupported map key type: %s (keys are int, uint, bool or string)",
                            sb_cel__type_name(k));
            sb_val_free(k);
            sb_val_free(m);
            return e;
        }
        if (sb_map_get(m, k)) {
            sb_val e = sb_cel__err(c, n->kids[2 * i], "duplicate map key");
            sb_val_free(k);
            sb_val_free(m);
            return e;
        }
        const cel_node *e = n->kids[2 * i + 1];
        bool skip = false;
        sb_val v = sb_cel__eval_node(c, e->op == N_OPT ? e->kids[0] : e);
        if (e->op == N_OPT && v.kind != SB_ERROR)
            v = sb_cel__opt_elem(c, e, v, &skip);
        if (v.kind == SB_ERROR || skip) {
            sb_val_free(k);
            if (skip)
                continue;
            sb_val_free(m);
            return v;
        }
        if (!sb_map_set(&m, k, v)) {
            sb_val_free(m);
            return sb_cel__oom(c);
        }
    }
    return m;
}

/* ---- calls ---- */

#define ARGS_INLINE 8

static sb_val eval_call(cel_ctx *c, const cel_node *n)
{
    if (n->nkids && sb_cel__opt_is_peek_call(n))
        return sb_cel__opt_peek_call(c, n);
    sb_val inl[ARGS_INLINE];
    sb_val *args = inl;
    uint32_t na = n->nkids;
    if (na > ARGS_INLINE) {
        args = sb_malloc(na * sizeof *args);
        if (!args)
            return sb_cel__oom(c);
    }
    sb_val r = sb_null();
    uint32_t done = 0;
    bool failed = false;
    for (; done < na; done++) {
        args[done] = sb_cel__eval_node(c, n->kids[done]);
        if (args[done].kind == SB_ERROR) {
            r = args[done];
            failed = true;
            break;
        }
        if (done == 0 && args[0].kind == SB_OPTIONAL && sb_cel__opt_shortcut(n, args[0], &r)) {
            failed = true; /* decided without the argument: no call */
            done = 1;
            break;
        }
    }
    if (!failed) {
        if (n->fn == FN_UNKNOWN) {
            const char *name = sb_str(n->val);
            if (sb_cel__builtin_find(name, strlen(name), (n->sub & CALL_MEMBER) ? STYLE_GLOBAL : STYLE_MEMBER) !=
                     FN_UNKNOWN)
                r = sb_cel__err(c, n,
                                (n->sub & CALL_MEMBER) ? "'%s' is called as a function: %s(...)"
                                                       : "'%s' is called as a method: x.%s(...)",
                                name, name);
            else
                r = sb_cel__err(c, n, "unknown function '%s'%s", name,
                                (n->sub & CALL_MEMBER) ? " (called as a method)" : "");
        } else {
            r = sb_cel__builtin_at(n->fn)->fn(c, n, args, na);
        }
    }
    for (uint32_t i = 0; i < done; i++)
        sb_val_free(args[i]);
    if (args != inl)
        sb_free(args);
    return r;
}

/* ---- comprehensions ---- */

static sb_val pred_error(cel_ctx *c, const cel_node *n, sb_val v, const char *what)
{
    if (v.kind == SB_ERROR)
        return v;
    sb_val e = sb_cel__err(c, n, "%s must be a bool, got %s", what, sb_cel__type_name(v));
    sb_val_free(v);
    return e;
}

/* transformMapEntry: the transform gives a map whose entries join the
 * result; a key produced twice is an error. Consumes v. */
static sb_val merge_entries(cel_ctx *c, const cel_node *n, sb_val *acc, sb_val v)
{
    if (v.kind != SB_MAP) {
        sb_val e = sb_cel__err(c, n->kids[n->nkids - 1], "transformMapEntry: the transform must give a map, got %s",
                               sb_cel__type_name(v));
        sb_val_free(v);
        return e;
    }
    for (size_t k = 0; k < sb_map_len(v); k++) {
        sb_val key = *sb_map_key_at(v, k);
        if (sb_map_get(*acc, key)) {
            sb_val_free(v);
            return sb_cel__err(c, n->kids[n->nkids - 1], "transformMapEntry: duplicate key in the result");
        }
        if (!sb_cel__charge_bytes(c, 2 * sizeof(sb_val)) ||
            !sb_map_set(acc, sb_val_ref(key), sb_val_ref(*sb_map_val_at(v, k)))) {
            sb_val_free(v);
            return c->fatal.kind == SB_ERROR ? sb_cel__fatal(c) : sb_cel__oom(c);
        }
    }
    sb_val_free(v);
    return sb_null();
}

static sb_val eval_comp(cel_ctx *c, const cel_node *n)
{
    if (n->sub >= C_OPT_MAP)
        return sb_cel__opt_comp(c, n);
    sb_val range = sb_cel__eval_node(c, n->kids[0]);
    if (range.kind == SB_ERROR)
        return range;
    bool is_map = range.kind == SB_MAP;
    if (!is_map && range.kind != SB_LIST) {
        sb_val e =
            sb_cel__err(c, n->kids[0], "cannot iterate over %s (a list or map is needed)", sb_cel__type_name(range));
        sb_val_free(range);
        return e;
    }
    cel_comp kind = (cel_comp)n->sub;
    size_t len = is_map ? sb_map_len(range) : sb_list_len(range);
    bool two = n->slot2 >= 0;
    sb_val acc = sb_null(), err = sb_null();
    bool decided = false, bval = kind == C_ALL;
    size_t count = 0;
    if (kind == C_MAP || kind == C_MAP_FILTER || kind == C_FILTER || kind == C_TRANSFORM_LIST ||
        kind == C_TRANSFORM_LIST_FILTER) {
        acc = sb_list_new(0);
    } else if (kind == C_TRANSFORM_MAP || kind == C_TRANSFORM_MAP_FILTER || kind == C_TRANSFORM_MAP_ENTRY ||
               kind == C_TRANSFORM_MAP_ENTRY_FILTER) {
        acc = sb_map_new(0);
    }
    if (acc.kind == SB_ERROR) {
        sb_val_free(range);
        return sb_cel__oom(c);
    }
    sb_val *l1 = &c->locals[n->slot];
    sb_val *l2 = two ? &c->locals[n->slot2] : NULL;
    sb_val save1 = *l1, save2 = l2 ? *l2 : sb_null();
    for (size_t i = 0; i < len && !decided; i++) {
        if (c->fatal.kind == SB_ERROR) {
            sb_val_free(err);
            err = sb_cel__fatal(c);
            break;
        }
        sb_val key = is_map ? *sb_map_key_at(range, i) : sb_int((int64_t)i);
        sb_val elem = is_map ? *sb_map_val_at(range, i) : *sb_list_at(range, i);
        if (two) {
            *l1 = key;
            *l2 = elem;
        } else {
            *l1 = is_map ? key : elem;
        }
        sb_val item = *l1; /* what filter() keeps: the element (or map key) */
        switch (kind) {
        case C_ALL:
        case C_EXISTS: {
            sb_val p = sb_cel__eval_node(c, n->kids[1]);
            if (p.kind == SB_BOOL) {
                if (p.as.b != (kind == C_ALL)) {
                    decided = true;
                    bval = p.as.b;
                }
            } else if (!absorbable(c, p)) {
                sb_val_free(err);
                err = p;
                decided = true;
            } else if (err.kind != SB_ERROR) {
                err = pred_error(c, n->kids[1], p, "the predicate");
            } else {
                sb_val_free(p);
            }
            break;
        }
        case C_EXISTS_ONE: {
            sb_val p = sb_cel__eval_node(c, n->kids[1]);
            if (p.kind != SB_BOOL) {
                err = pred_error(c, n->kids[1], p, "the predicate");
                decided = true;
            } else if (p.as.b) {
                count++;
            }
            break;
        }
        case C_MAP_FILTER:
        case C_FILTER:
        case C_TRANSFORM_LIST_FILTER:
        case C_TRANSFORM_MAP_FILTER:
        case C_MAP:
        case C_TRANSFORM_LIST:
        case C_TRANSFORM_MAP:
        case C_TRANSFORM_MAP_ENTRY:
        case C_TRANSFORM_MAP_ENTRY_FILTER: {
            bool has_filter = kind == C_MAP_FILTER || kind == C_FILTER || kind == C_TRANSFORM_LIST_FILTER ||
                              kind == C_TRANSFORM_MAP_FILTER || kind == C_TRANSFORM_MAP_ENTRY_FILTER;
            if (has_filter) {
                sb_val p = sb_cel__eval_node(c, n->kids[1]);
                if (p.kind != SB_BOOL) {
                    err = pred_error(c, n->kids[1], p, "the filter");
                    decided = true;
                    break;
                }
                if (!p.as.b)
                    break;
            }
            sb_val v;
            if (kind == C_FILTER) {
                v = sb_val_ref(item);
            } else {
                v = sb_cel__eval_node(c, n->kids[n->nkids - 1]);
                if (v.kind == SB_ERROR) {
                    err = v;
                    decided = true;
                    break;
                }
            }
            if (kind == C_TRANSFORM_MAP_ENTRY || kind == C_TRANSFORM_MAP_ENTRY_FILTER) {
                err = merge_entries(c, n, &acc, v);
                decided = err.kind == SB_ERROR;
                break;
            }
            bool ok = sb_cel__charge_bytes(c, 2 * sizeof(sb_val));
            if (ok && acc.kind == SB_LIST) {
                ok = sb_list_push(&acc, v);
            } else if (ok) {
                ok = sb_map_set(&acc, sb_val_ref(key), v);
            } else {
                sb_val_free(v);
            }
            if (!ok) {
                err = c->fatal.kind == SB_ERROR ? sb_cel__fatal(c) : sb_cel__oom(c);
                decided = true;
            }
            break;
        }
        case C_OPT_MAP: /* sb_cel__opt_comp */
        case C_OPT_FLAT_MAP:
            break;
        }
    }
    *l1 = save1;
    if (l2)
        *l2 = save2;
    sb_val_free(range);
    if (c->fatal.kind == SB_ERROR) {
        sb_val_free(acc);
        sb_val_free(err);
        return sb_cel__fatal(c);
    }
    switch (kind) {
    case C_ALL:
    case C_EXISTS:
        if (decided) { /* a false (all) or true (exists) wins over errors */
            sb_val_free(err);
            return sb_bool(bval);
        }
        if (err.kind == SB_ERROR)
            return err;
        return sb_bool(kind == C_ALL);
    case C_EXISTS_ONE:
        if (err.kind == SB_ERROR)
            return err;
        return sb_bool(count == 1);
    default:
        if (err.kind == SB_ERROR) {
            sb_val_free(acc);
            return err;
        }
        return acc;
    }
}

static sb_val eval_bind(cel_ctx *c, const cel_node *n)
{
    sb_val init = sb_cel__eval_node(c, n->kids[1]);
    if (!absorbable(c, init))
        return init;
    sb_val *slot = &c->locals[n->slot];
    sb_val save = *slot;
    *slot = init; /* an error here only matters if the body uses it */
    sb_val r = sb_cel__eval_node(c, n->kids[2]);
    *slot = save;
    sb_val_free(init);
    return r;
}

/* ---- field chains on locals ---- */

/* x.a.b on a macro's variable or a variable: the value found, borrowed,
 * or NULL when n is not such a chain or a field is missing (then eval
 * reports it). *k counts the nodes, for the steps eval would have counted. */
static const sb_val *borrow(cel_ctx *c, const cel_node *n, uint64_t *k)
{
    ++*k;
    if (n->op == N_LOCAL)
        return &c->locals[n->slot];
    if (n->op == N_IDENT)
        return ident_borrow(c, n->aux);
    if (n->op == N_SELECT && n->aux) {
        const cel_fpath *f = n->aux;
        *k += f->nkeys; /* the selects below and the local */
        return sb_map_get_path(c->locals[f->slot], f->keys, f->nkeys);
    }
    if (n->op != N_SELECT || (n->sub & SEL_OPT))
        return NULL;
    const sb_val *o = borrow(c, n->kids[0], k);
    return o && o->kind == SB_MAP ? sb_map_get(*o, n->val) : NULL;
}

/* An operand without a new reference where the value exists already (a
 * literal, a variable, a field chain), else evaluated into *tmp, which the
 * caller frees. Steps are counted as sb_cel__eval_node counts them. */
CEL_HOT const sb_val *operand(cel_ctx *c, const cel_node *n, sb_val *tmp)
{
    if (n->op == N_LIT || n->op == N_LOCAL || n->op == N_IDENT || n->op == N_SELECT) {
        uint64_t k = 0;
        const sb_val *b = n->op == N_LIT ? (k = 1, &n->val) : borrow(c, n, &k);
        if (b && c->steps <= c->max_steps && k <= c->max_steps - c->steps) {
            c->steps += k;
            return b;
        }
    }
    *tmp = sb_cel__eval_node(c, n);
    return tmp;
}

/* ---- the switch ---- */

/* For B_EQ..B_GE, which outcomes make the comparison true: bit 0 for <,
 * bit 1 for ==, bit 2 for >. */
static const uint8_t cmp_bits[] = {2, 5, 1, 3, 4, 6};

sb_val sb_cel__eval_node(cel_ctx *c, const cel_node *n)
{
    if (c->steps >= c->max_steps) {
        if (c->fatal.kind != SB_ERROR)
            sb_cel__charge_steps(c, 1);
        return sb_cel__fatal(c);
    }
    c->steps++;
    switch ((cel_op)n->op) {
    case N_LIT:
        return sb_val_ref(n->val);
    case N_LOCAL:
        return sb_val_ref(c->locals[n->slot]);
    case N_IDENT:
        return eval_ident(c, n);
    case N_SELECT:
    case N_HAS: {
        uint64_t k = 0;
        const sb_val *b = n->op == N_SELECT ? borrow(c, n, &k) : NULL;
        if (b) /* this node's step is counted already */
            return sb_cel__charge_steps(c, k - 1) ? sb_val_ref(*b) : sb_cel__fatal(c);
        sb_val o = sb_cel__eval_node(c, n->kids[0]);
        if (o.kind == SB_ERROR)
            return o;
        sb_val r;
        if (o.kind == SB_OPTIONAL || (n->sub & SEL_OPT)) {
            r = sb_cel__opt_select(c, n, o);
        } else if (n->op == N_SELECT) {
            r = sb_cel__select(c, n, o, n->val, n->pos);
        } else if (o.kind == SB_MAP) {
            r = sb_bool(sb_map_get(o, n->val) != NULL);
        } else {
            r = sb_cel__err(c, n, "has() needs a map, got %s", sb_cel__type_name(o));
        }
        sb_val_free(o);
        return r;
    }
    case N_INDEX: {
        sb_val o = sb_cel__eval_node(c, n->kids[0]);
        if (o.kind == SB_ERROR)
            return o;
        sb_val k = sb_cel__eval_node(c, n->kids[1]);
        if (k.kind == SB_ERROR) {
            sb_val_free(o);
            return k;
        }
        sb_val r = o.kind == SB_OPTIONAL || n->sub ? sb_cel__opt_index(c, n, o, k) : sb_cel__index(c, n, o, k);
        sb_val_free(o);
        sb_val_free(k);
        return r;
    }
    case N_CALL:
        return eval_call(c, n);
    case N_LIST:
        return eval_list(c, n);
    case N_MAP:
        return eval_map(c, n);
    case N_AND:
    case N_OR:
        return eval_logic(c, n);
    case N_NOT: {
        sb_val v = sb_cel__eval_node(c, n->kids[0]);
        if (v.kind == SB_BOOL)
            return sb_bool(!v.as.b);
        if (v.kind == SB_ERROR)
            return v;
        sb_val e = sb_cel__err(c, n, "no matching overload for '!' applied to %s", sb_cel__type_name(v));
        sb_val_free(v);
        return e;
    }
    case N_NEG: {
        sb_val v = sb_cel__eval_node(c, n->kids[0]);
        if (v.kind == SB_ERROR)
            return v;
        sb_val r = sb_cel__negate(c, n, v);
        sb_val_free(v);
        return r;
    }
    case N_COND: {
        sb_val t = sb_cel__eval_node(c, n->kids[0]);
        if (t.kind == SB_BOOL)
            return sb_cel__eval_node(c, n->kids[t.as.b ? 1 : 2]);
        if (t.kind == SB_ERROR)
            return t;
        sb_val e = sb_cel__err(c, n, "the condition of ?: must be a bool, got %s", sb_cel__type_name(t));
        sb_val_free(t);
        return e;
    }
    case N_BIN: {
        /* operands borrowed where they can be: no reference counting */
        sb_val ta = sb_null(), tb = sb_null();
        const sb_val *a = operand(c, n->kids[0], &ta);
        if (a->kind == SB_ERROR)
            return a == &ta ? ta : sb_val_ref(*a);
        const sb_val *b = operand(c, n->kids[1], &tb);
        sb_val r;
        if (b->kind == SB_ERROR) {
            r = b == &tb ? tb : sb_val_ref(*b);
            sb_val_free(ta);
            return r;
        }
        if (a->kind == SB_INT && b->kind == SB_INT && n->sub <= B_GE) { /* the common int comparison */
            if (n->sub <= B_NE && !sb_cel__charge_steps(c, 2)) /* as sb_cel__binop counts == and != */
                return sb_cel__fatal(c);
            int64_t x = a->as.i, y = b->as.i;
            return sb_bool(cmp_bits[n->sub] >> (x < y ? 0 : x == y ? 1 : 2) & 1);
        }
        if (a->kind == SB_DOUBLE && b->kind == SB_DOUBLE && n->sub <= B_GE) {
            if (n->sub <= B_NE && !sb_cel__charge_steps(c, 2))
                return sb_cel__fatal(c);
            double x = a->as.d, y = b->as.d;
            if (x != x || y != y) /* NaN: unordered, and unequal to everything */
                return sb_bool(n->sub == B_NE);
            return sb_bool(cmp_bits[n->sub] >> (x < y ? 0 : x == y ? 1 : 2) & 1);
        }
        if (a->kind == SB_STRING && b->kind == SB_STRING && n->sub <= B_NE) {
            r = sb_cel__charge_steps(c, 2) ? sb_bool(sb_val_equal(*a, *b) == (n->sub == B_EQ)) : sb_cel__fatal(c);
            if (a == &ta)
                sb_val_free(ta);
            if (b == &tb)
                sb_val_free(tb);
            return r;
        }
        if (n->sub == B_ADD && a == &ta && sb_cel__append(c, &ta, *b)) { /* x + y + z builds one string */
            if (b == &tb)
                sb_val_free(tb);
            return ta;
        }
        r = sb_cel__binop(c, n, n->sub, *a, *b);
        sb_val_free(ta);
        sb_val_free(tb);
        return r;
    }
    case N_COMP:
        return eval_comp(c, n);
    case N_BIND:
        return eval_bind(c, n);
    case N_OPT: /* only under N_LIST and N_MAP, which look at it themselves */
        return sb_cel__eval_node(c, n->kids[0]);
    }
    return sb_cel__err(c, n, "internal error: unknown node");
}
