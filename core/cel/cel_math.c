/* The math extension, as cel-go's ext.Math(): math.greatest, math.least
 * (any numbers, or one list of numbers; the winner keeps its type),
 * ceil/floor/round/trunc (double), abs/sign (int, uint, double),
 * isNaN/isInf/isFinite, sqrt and the bit operations. */
#include <math.h>
#include <string.h>

#include "cel_int.h"

static bool is_num(sb_val v)
{
    return v.kind == SB_INT || v.kind == SB_UINT || v.kind == SB_DOUBLE;
}

static sb_val extreme(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na, int want)
{
    sb_val *v = a;
    size_t cnt = na;
    if (na == 1 && a[0].kind == SB_LIST) {
        cnt = sb_list_len(a[0]);
        if (cnt == 0)
            return sb_cel__err(c, n, "%s() of an empty list", sb_str(n->val));
        v = NULL;
    }
    if (cnt == 0)
        return sb_cel__no_overload(c, n, a, na);
    sb_val best = sb_null();
    for (size_t i = 0; i < cnt; i++) {
        sb_val x = v ? v[i] : *sb_list_at(a[0], i);
        if (!is_num(x))
            return sb_cel__err(c, n, "no matching overload for '%s': %s is not a number", sb_str(n->val),
                               sb_cel__type_name(x));
        if (i == 0 || sb_cel__compare(x, best) == want)
            best = x;
    }
    return best; /* numbers are scalars: no reference to take */
}

static sb_val fn_greatest(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    return extreme(c, n, a, na, 1);
}
static sb_val fn_least(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    return extreme(c, n, a, na, -1);
}

static bool one_double(sb_val *a, uint32_t na)
{
    return na == 1 && a[0].kind == SB_DOUBLE;
}

static sb_val fn_rounding(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!one_double(a, na))
        return sb_cel__no_overload(c, n, a, na);
    const char *f = sb_str(n->val) + 5; /* after "math." */
    double d = a[0].as.d;
    switch (f[0]) {
    case 'c':
        return sb_double(ceil(d));
    case 'f':
        return sb_double(floor(d));
    case 'r':
        return sb_double(round(d)); /* half away from zero, as Go's math.Round */
    default:
        return sb_double(trunc(d));
    }
}

static sb_val fn_abs(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na == 1) {
        switch (a[0].kind) {
        case SB_INT:
            if (a[0].as.i == INT64_MIN)
                return sb_cel__err(c, n, "math.abs: int overflow");
            return sb_int(a[0].as.i < 0 ? -a[0].as.i : a[0].as.i);
        case SB_UINT:
            return a[0];
        case SB_DOUBLE:
            return sb_double(fabs(a[0].as.d));
        default:
            break;
        }
    }
    return sb_cel__no_overload(c, n, a, na);
}

static sb_val fn_sign(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na == 1) {
        switch (a[0].kind) {
        case SB_INT:
            return sb_int(a[0].as.i > 0 ? 1 : a[0].as.i < 0 ? -1 : 0);
        case SB_UINT:
            return sb_uint(a[0].as.u > 0);
        case SB_DOUBLE: {
            double d = a[0].as.d;
            return sb_double(d > 0 ? 1.0 : d < 0 ? -1.0 : d);
        }
        default:
            break;
        }
    }
    return sb_cel__no_overload(c, n, a, na);
}

static sb_val fn_classify(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (!one_double(a, na))
        return sb_cel__no_overload(c, n, a, na);
    const char *f = sb_str(n->val) + 5;
    double d = a[0].as.d;
    if (strcmp(f, "isNaN") == 0)
        return sb_bool(isnan(d));
    if (strcmp(f, "isInf") == 0)
        return sb_bool(isinf(d));
    return sb_bool(isfinite(d));
}

static sb_val fn_sqrt(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    double d;
    if (na != 1 || !sb_val_as_double(a[0], &d))
        return sb_cel__no_overload(c, n, a, na);
    return sb_double(sqrt(d));
}

static sb_val fn_bits2(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na != 2 || a[0].kind != a[1].kind || (a[0].kind != SB_INT && a[0].kind != SB_UINT))
        return sb_cel__no_overload(c, n, a, na);
    const char *f = sb_str(n->val) + 8; /* after "math.bit" */
    uint64_t x = a[0].as.u, y = a[1].as.u, r;
    if (f[0] == 'A')
        r = x & y;
    else if (f[0] == 'O')
        r = x | y;
    else
        r = x ^ y;
    return a[0].kind == SB_INT ? sb_int((int64_t)r) : sb_uint(r);
}

static sb_val fn_bit_not(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na == 1 && a[0].kind == SB_INT)
        return sb_int(~a[0].as.i);
    if (na == 1 && a[0].kind == SB_UINT)
        return sb_uint(~a[0].as.u);
    return sb_cel__no_overload(c, n, a, na);
}

/* Shifts of 64 or more give 0; right shifts of an int are logical, as in
 * cel-go (the sign bit is not extended). */
static sb_val fn_shift(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na != 2 || (a[0].kind != SB_INT && a[0].kind != SB_UINT) || a[1].kind != SB_INT)
        return sb_cel__no_overload(c, n, a, na);
    int64_t k = a[1].as.i;
    if (k < 0)
        return sb_cel__err(c, n, "%s: negative offset %lld", sb_str(n->val), (long long)k);
    bool left = strstr(sb_str(n->val), "Left") != NULL;
    uint64_t x = a[0].as.u;
    uint64_t r = k >= 64 ? 0 : left ? x << k : x >> k;
    return a[0].kind == SB_INT ? sb_int((int64_t)r) : sb_uint(r);
}

const cel_builtin sb_cel__math_table[] = {
    {"math.greatest", STYLE_GLOBAL, fn_greatest},
    {"math.least", STYLE_GLOBAL, fn_least},
    {"math.ceil", STYLE_GLOBAL, fn_rounding},
    {"math.floor", STYLE_GLOBAL, fn_rounding},
    {"math.round", STYLE_GLOBAL, fn_rounding},
    {"math.trunc", STYLE_GLOBAL, fn_rounding},
    {"math.abs", STYLE_GLOBAL, fn_abs},
    {"math.sign", STYLE_GLOBAL, fn_sign},
    {"math.isNaN", STYLE_GLOBAL, fn_classify},
    {"math.isInf", STYLE_GLOBAL, fn_classify},
    {"math.isFinite", STYLE_GLOBAL, fn_classify},
    {"math.sqrt", STYLE_GLOBAL, fn_sqrt},
    {"math.bitAnd", STYLE_GLOBAL, fn_bits2},
    {"math.bitOr", STYLE_GLOBAL, fn_bits2},
    {"math.bitXor", STYLE_GLOBAL, fn_bits2},
    {"math.bitNot", STYLE_GLOBAL, fn_bit_not},
    {"math.bitShiftLeft", STYLE_GLOBAL, fn_shift},
    {"math.bitShiftRight", STYLE_GLOBAL, fn_shift},
};
const size_t sb_cel__math_count = sizeof sb_cel__math_table / sizeof *sb_cel__math_table;
