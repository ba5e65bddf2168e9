/* Optional values (cel-spec's optional types, as cel-go's OptionalTypes):
 * optional.of/none/ofNonZeroValue, hasValue(), value(), orValue(), or(),
 * the optMap/optFlatMap macros, and the optional forms of selection and
 * indexing (x.?f, x[?k]) with the rule that selecting or indexing into an
 * optional gives an optional (none stays none), so chains need one `?`.
 * `or` and `orValue` do not evaluate their argument when the receiver has
 * a value (cel_eval.c asks sb_cel__opt_shortcut before evaluating it).
 *
 * hasValue(), value() and orValue() look at their receiver without building
 * it (peek below), so `metrics.?val_acc.orValue(0)` allocates nothing. */
#include <string.h>

#include "cel_int.h"

/* optional.of(v), consuming v, with the evaluation's memory accounted. */
static sb_val wrap(cel_ctx *c, sb_val v)
{
    if (v.kind == SB_ERROR)
        return v;
    if (!sb_cel__charge_bytes(c, 32)) {
        sb_val_free(v);
        return sb_cel__fatal(c);
    }
    sb_val o = sb_optional(v);
    return o.kind == SB_ERROR ? sb_cel__oom(c) : o;
}

sb_val sb_cel__opt_select(cel_ctx *c, const cel_node *n, sb_val o)
{
    const sb_val *in = &o;
    if (o.kind == SB_OPTIONAL && !(in = sb_optional_value(o)))
        return n->op == N_HAS ? sb_bool(false) : sb_optional_none();
    if (n->op == N_HAS) {
        if (in->kind != SB_MAP)
            return sb_cel__err(c, n, "has() needs a map, got %s", sb_cel__type_name(*in));
        return sb_bool(sb_map_get(*in, n->val) != NULL);
    }
    if (in->kind == SB_MAP) {
        const sb_val *v = sb_map_get(*in, n->val);
        return v ? wrap(c, sb_val_ref(*v)) : sb_optional_none();
    }
    return sb_cel__select(c, n, *in, n->val, n->pos);
}

sb_val sb_cel__opt_index(cel_ctx *c, const cel_node *n, sb_val o, sb_val k)
{
    const sb_val *in = &o;
    if (o.kind == SB_OPTIONAL && !(in = sb_optional_value(o)))
        return sb_optional_none();
    if (in->kind == SB_MAP && !sb_map_get(*in, k))
        return sb_optional_none();
    if (in->kind == SB_LIST) {
        size_t len = sb_list_len(*in);
        if ((k.kind == SB_INT && (k.as.i < 0 || (uint64_t)k.as.i >= len)) || (k.kind == SB_UINT && k.as.u >= len))
            return sb_optional_none();
    }
    return wrap(c, sb_cel__index(c, n, *in, k));
}

sb_val sb_cel__opt_elem(cel_ctx *c, const cel_node *n, sb_val v, bool *skip)
{
    *skip = false;
    if (v.kind != SB_OPTIONAL) {
        sb_val e = sb_cel__err(c, n, "an optional entry (?x) needs an optional value, got %s", sb_cel__type_name(v));
        sb_val_free(v);
        return e;
    }
    const sb_val *in = sb_optional_value(v);
    sb_val r = in ? sb_val_ref(*in) : sb_null();
    *skip = !in;
    sb_val_free(v);
    return r;
}

sb_val sb_cel__opt_comp(cel_ctx *c, const cel_node *n)
{
    sb_val o = sb_cel__eval_node(c, n->kids[0]);
    if (o.kind == SB_ERROR)
        return o;
    const char *name = n->sub == C_OPT_MAP ? "optMap" : "optFlatMap";
    if (o.kind != SB_OPTIONAL) {
        sb_val e = sb_cel__err(c, n, "%s() needs an optional, got %s", name, sb_cel__type_name(o));
        sb_val_free(o);
        return e;
    }
    const sb_val *in = sb_optional_value(o);
    if (!in)
        return o;
    sb_val *slot = &c->locals[n->slot];
    sb_val save = *slot;
    *slot = *in; /* borrowed from o, which lives until the body is done */
    sb_val r = sb_cel__eval_node(c, n->kids[1]);
    *slot = save;
    sb_val_free(o);
    if (r.kind == SB_ERROR)
        return r;
    if (n->sub == C_OPT_MAP)
        return wrap(c, r);
    if (r.kind != SB_OPTIONAL) {
        sb_val e = sb_cel__err(c, n->kids[1], "optFlatMap() must give an optional, got %s", sb_cel__type_name(r));
        sb_val_free(r);
        return e;
    }
    return r;
}

bool sb_cel__opt_shortcut(const cel_node *n, sb_val recv, sb_val *out)
{
    const sb_val *in = sb_optional_value(recv);
    if (!in || n->nkids != 2 || !(n->sub & CALL_MEMBER))
        return false;
    const char *f = sb_str(n->val);
    if (strcmp(f, "or") == 0)
        *out = sb_val_ref(recv);
    else if (strcmp(f, "orValue") == 0)
        *out = sb_val_ref(*in);
    else
        return false;
    return true;
}

/* What peek found: a value that is not an optional, an optional's value, or
 * none. */
enum { PLAIN, SOME, NONE };

/* Evaluates n as eval would, except that an optional it would give is
 * returned unwrapped: its value (a new reference) with SOME, or NONE. Chains
 * of selections and indexes are followed without building the optionals in
 * between. Errors come back as values (state PLAIN). */
static sb_val peek(cel_ctx *c, const cel_node *n, int *state)
{
    *state = PLAIN;
    sb_val v;
    if (n->op == N_SELECT || n->op == N_INDEX) {
        if (!sb_cel__charge_steps(c, 1)) /* the step eval would have counted */
            return sb_cel__fatal(c);
        int bs;
        sb_val b = peek(c, n->kids[0], &bs);
        if (bs == NONE || b.kind == SB_ERROR) {
            *state = bs;
            return b;
        }
        bool opt = bs == SOME || (n->sub & SEL_OPT);
        sb_val k = n->op == N_INDEX ? sb_cel__eval_node(c, n->kids[1]) : sb_null();
        if (k.kind == SB_ERROR) {
            sb_val_free(b);
            return k;
        }
        if (!opt) {
            v = n->op == N_SELECT ? sb_cel__select(c, n, b, n->val, n->pos) : sb_cel__index(c, n, b, k);
        } else {
            const sb_val *f = NULL;
            if (b.kind == SB_MAP)
                f = sb_map_get(b, n->op == N_SELECT ? n->val : k);
            if (f) {
                v = sb_val_ref(*f);
            } else if (b.kind == SB_MAP) {
                v = sb_null();
                *state = NONE;
            } else {
                v = n->op == N_SELECT ? sb_cel__opt_select(c, n, b) : sb_cel__opt_index(c, n, b, k);
            }
            if (*state != NONE && v.kind != SB_ERROR && v.kind != SB_OPTIONAL)
                *state = SOME;
        }
        sb_val_free(b);
        sb_val_free(k);
    } else {
        v = sb_cel__eval_node(c, n);
    }
    if (v.kind == SB_OPTIONAL) {
        const sb_val *in = sb_optional_value(v);
        sb_val r = in ? sb_val_ref(*in) : sb_null();
        *state = in ? SOME : NONE;
        sb_val_free(v);
        return r;
    }
    return v;
}

static sb_val fn_method(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na);

bool sb_cel__opt_is_peek_call(const cel_node *n)
{
    if (n->fn == FN_UNKNOWN || sb_cel__builtin_at(n->fn)->fn != fn_method || !(n->sub & CALL_MEMBER))
        return false;
    const char *f = sb_str(n->val);
    return f[0] == 'h' || f[0] == 'v' || f[2] == 'V'; /* hasValue, value, orValue */
}

sb_val sb_cel__opt_peek_call(cel_ctx *c, const cel_node *n)
{
    int st;
    sb_val v = peek(c, n->kids[0], &st);
    if (v.kind == SB_ERROR)
        return v;
    const char *f = sb_str(n->val);
    uint32_t want = f[0] == 'o' ? 2 : 1;
    if (st == PLAIN || n->nkids != want) {
        sb_val e = sb_cel__err(c, n, "no matching overload for '%s' applied to (%s%s)", f, sb_cel__type_name(v),
                               n->nkids > 1 ? ", ..." : "");
        sb_val_free(v);
        return e;
    }
    switch (f[0]) {
    case 'h':
        sb_val_free(v);
        return sb_bool(st == SOME);
    case 'v':
        return st == SOME ? v : sb_cel__err(c, n, "value() of optional.none()");
    default: /* orValue: the default only when needed */
        return st == SOME ? v : sb_cel__eval_node(c, n->kids[1]);
    }
}

static bool is_zero(sb_val v)
{
    switch (v.kind) {
    case SB_NULL:
        return true;
    case SB_BOOL:
        return !v.as.b;
    case SB_INT:
    case SB_DURATION:
        return v.as.i == 0;
    case SB_UINT:
        return v.as.u == 0;
    case SB_DOUBLE:
        return v.as.d == 0;
    case SB_STRING:
    case SB_BYTES:
        return sb_str_len(v) == 0;
    case SB_LIST:
        return sb_list_len(v) == 0;
    case SB_MAP:
        return sb_map_len(v) == 0;
    case SB_TIMESTAMP: /* protobuf's default Timestamp: the Unix epoch */
        return sb_timestamp_sec(v) == 0 && sb_timestamp_nsec(v) == 0;
    case SB_OPTIONAL:
        return !sb_optional_value(v);
    default:
        return false;
    }
}

static sb_val fn_optional(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    const char *f = sb_str(n->val) + 9; /* after "optional." */
    if (f[0] == 'n' && na == 0)
        return sb_optional_none();
    if (na != 1)
        return sb_cel__no_overload(c, n, a, na);
    if (f[2] == 'N' && is_zero(a[0])) /* ofNonZeroValue */
        return sb_optional_none();
    return wrap(c, sb_val_ref(a[0]));
}

/* hasValue(), value(), orValue(x), or(opt) on an optional receiver; or and
 * orValue reach here only when the receiver is none. */
static sb_val fn_method(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    const char *f = sb_str(n->val);
    if (a[0].kind != SB_OPTIONAL || na != (f[0] == 'o' ? 2u : 1u))
        return sb_cel__no_overload(c, n, a, na);
    const sb_val *in = sb_optional_value(a[0]);
    switch (f[0] == 'o' ? f[2] : f[0]) {
    case 'h': /* hasValue */
        return sb_bool(in != NULL);
    case 'v': /* value */
        return in ? sb_val_ref(*in) : sb_cel__err(c, n, "value() of optional.none()");
    case 'V': /* orValue */
        return sb_val_ref(in ? *in : a[1]);
    default: /* or */
        if (a[1].kind != SB_OPTIONAL)
            return sb_cel__no_overload(c, n, a, na);
        return sb_val_ref(in ? a[0] : a[1]);
    }
}

const cel_builtin sb_cel__opt_table[] = {
    {"optional.of", STYLE_GLOBAL, fn_optional},     {"optional.none", STYLE_GLOBAL, fn_optional},
    {"optional.ofNonZeroValue", STYLE_GLOBAL, fn_optional},
    {"hasValue", STYLE_MEMBER, fn_method},          {"value", STYLE_MEMBER, fn_method},
    {"orValue", STYLE_MEMBER, fn_method},           {"or", STYLE_MEMBER, fn_method},
};
const size_t sb_cel__opt_count = sizeof sb_cel__opt_table / sizeof *sb_cel__opt_table;
