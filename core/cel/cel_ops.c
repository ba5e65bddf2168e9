/* Operators, indexing, field selection and the type conversions, over
 * sb_val. Arithmetic on int and uint is checked (overflow is an error);
 * double follows IEEE 754. Equality is sb_val_equal (CEL's heterogeneous
 * numeric equality); ordering compares int and uint exactly and either with
 * a double as doubles, as cel-go does. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../value/sb_time.h"
#include "cel_int.h"

static const char *const type_names[] = {"null_type", "bool", "int", "uint", "double", "string",
                                         "bytes",     "list", "map", "type", "dyn",
                                         "google.protobuf.Duration", "google.protobuf.Timestamp", "optional_type"};

const char *sb_cel__type_name(sb_val v)
{
    switch (v.kind) {
    case SB_NULL:
        return "null_type";
    case SB_BOOL:
        return "bool";
    case SB_INT:
        return "int";
    case SB_UINT:
        return "uint";
    case SB_DOUBLE:
        return "double";
    case SB_STRING:
        return "string";
    case SB_BYTES:
        return "bytes";
    case SB_LIST:
        return "list";
    case SB_MAP:
        return "map";
    case SB_TYPE:
        return "type";
    case SB_DURATION:
        return "google.protobuf.Duration";
    case SB_TIMESTAMP:
        return "google.protobuf.Timestamp";
    case SB_OPTIONAL:
        return "optional_type";
    default:
        return "error";
    }
}

bool sb_cel__is_type_name(const char *s)
{
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
        if (strcmp(s, type_names[i]) == 0)
            return true;
    return false;
}

sb_val sb_cel__new_string(cel_ctx *c, const cel_node *n, const char *s, size_t len)
{
    (void)n;
    if (!sb_cel__charge_bytes(c, len + 32))
        return sb_cel__fatal(c);
    sb_val v = sb_string(s, len);
    return v.kind == SB_ERROR ? sb_cel__oom(c) : v;
}

sb_val sb_cel__new_bytes(cel_ctx *c, const cel_node *n, const char *s, size_t len)
{
    (void)n;
    if (!sb_cel__charge_bytes(c, len + 32))
        return sb_cel__fatal(c);
    sb_val v = sb_bytes(s, len);
    return v.kind == SB_ERROR ? sb_cel__oom(c) : v;
}

sb_val sb_cel__buf_to_string(cel_ctx *c, const cel_node *n, sb_buf *b, bool bytes)
{
    if (sb_buf_failed(b)) {
        sb_buf_free(b);
        return sb_cel__oom(c);
    }
    sb_val v = bytes ? sb_cel__new_bytes(c, n, sb_buf_str(b), b->len) : sb_cel__new_string(c, n, sb_buf_str(b), b->len);
    sb_buf_free(b);
    return v;
}

static bool is_num(sb_val v)
{
    return v.kind == SB_INT || v.kind == SB_UINT || v.kind == SB_DOUBLE;
}

static int cmp3(double a, double b)
{
    if (a != a || b != b)
        return 3;
    return a < b ? -1 : a > b ? 1 : 0;
}

int sb_cel__compare(sb_val a, sb_val b)
{
    if (is_num(a) && is_num(b)) {
        if (a.kind == SB_INT && b.kind == SB_INT)
            return a.as.i < b.as.i ? -1 : a.as.i > b.as.i;
        if (a.kind == SB_UINT && b.kind == SB_UINT)
            return a.as.u < b.as.u ? -1 : a.as.u > b.as.u;
        if (a.kind == SB_INT && b.kind == SB_UINT)
            return a.as.i < 0 ? -1 : ((uint64_t)a.as.i < b.as.u ? -1 : (uint64_t)a.as.i > b.as.u);
        if (a.kind == SB_UINT && b.kind == SB_INT)
            return -sb_cel__compare(b, a);
        double x, y;
        sb_val_as_double(a, &x);
        sb_val_as_double(b, &y);
        return cmp3(x, y);
    }
    if (a.kind != b.kind)
        return 2;
    switch (a.kind) {
    case SB_BOOL:
        return (int)a.as.b - (int)b.as.b;
    case SB_STRING:
    case SB_BYTES: {
        size_t la = sb_str_len(a), lb = sb_str_len(b);
        int r = memcmp(sb_str(a), sb_str(b), la < lb ? la : lb);
        if (r)
            return r < 0 ? -1 : 1;
        return la < lb ? -1 : la > lb;
    }
    case SB_DURATION:
        return a.as.i < b.as.i ? -1 : a.as.i > b.as.i;
    case SB_TIMESTAMP: {
        int64_t x = sb_timestamp_sec(a), y = sb_timestamp_sec(b);
        if (x == y)
            x = sb_timestamp_nsec(a), y = sb_timestamp_nsec(b);
        return x < y ? -1 : x > y;
    }
    default:
        return 2;
    }
}

static const char *const binop_names[] = {"==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"};

static sb_val no_overload(cel_ctx *c, const cel_node *n, int op, sb_val a, sb_val b)
{
    return sb_cel__err(c, n, "no matching overload for '%s' applied to (%s, %s)", binop_names[op], sb_cel__type_name(a),
                       sb_cel__type_name(b));
}

static sb_val overflow(cel_ctx *c, const cel_node *n, const char *what)
{
    return sb_cel__err(c, n, "%s overflow", what);
}

static sb_val concat(cel_ctx *c, sb_val a, sb_val b)
{
    if (a.kind == SB_LIST) {
        size_t la = sb_list_len(a), lb = sb_list_len(b);
        if (!lb)
            return sb_val_ref(a);
        if (!la)
            return sb_val_ref(b);
        if (!sb_cel__charge_steps(c, la + lb) || !sb_cel__charge_bytes(c, 32 + (la + lb) * sizeof(sb_val)))
            return sb_cel__fatal(c);
        sb_val l = sb_list_new(la + lb);
        if (l.kind == SB_ERROR)
            return sb_cel__oom(c);
        for (size_t i = 0; i < la + lb; i++) {
            sb_val x = i < la ? *sb_list_at(a, i) : *sb_list_at(b, i - la);
            if (!sb_list_push(&l, sb_val_ref(x))) {
                sb_val_free(l);
                return sb_cel__oom(c);
            }
        }
        return l;
    }
    size_t la = sb_str_len(a), lb = sb_str_len(b);
    if (!sb_cel__charge_steps(c, (la + lb) / 64) || !sb_cel__charge_bytes(c, la + lb + 32))
        return sb_cel__fatal(c);
    sb_val r = sb_text_concat(a, b);
    return r.kind == SB_ERROR ? sb_cel__oom(c) : r;
}

bool sb_cel__append(cel_ctx *c, sb_val *a, sb_val b)
{
    if (a->kind != b.kind || (a->kind != SB_STRING && a->kind != SB_BYTES))
        return false;
    size_t la = sb_str_len(*a), lb = sb_str_len(b);
    /* charged as concat charges, so limits trip at the same point */
    if (c->fatal.kind == SB_ERROR || (la + lb) / 64 > c->max_steps - c->steps || la + lb + 32 > c->max_bytes - c->bytes)
        return false;
    if (!sb_text_append(a, sb_str(b), lb))
        return false;
    c->steps += (la + lb) / 64;
    c->bytes += la + lb + 32;
    return true;
}

static sb_val arith_double(int op, double x, double y)
{
    switch (op) {
    case B_ADD:
        return sb_double(x + y);
    case B_SUB:
        return sb_double(x - y);
    case B_MUL:
        return sb_double(x * y);
    default:
        return sb_double(x / y);
    }
}

static sb_val arith(cel_ctx *c, const cel_node *n, int op, sb_val a, sb_val b)
{
    sb_val tr;
    if ((a.kind >= SB_DURATION || b.kind >= SB_DURATION) && sb_cel__time_arith(c, n, op, a, b, &tr))
        return tr;
    if (a.kind != b.kind) {
        if (c->prog->mixed && is_num(a) && is_num(b) && (a.kind == SB_DOUBLE || b.kind == SB_DOUBLE) && op != B_MOD) {
            double x, y;
            sb_val_as_double(a, &x);
            sb_val_as_double(b, &y);
            return arith_double(op, x, y);
        }
        return no_overload(c, n, op, a, b);
    }
    switch (a.kind) {
    case SB_INT: {
        int64_t x = a.as.i, y = b.as.i, r;
        switch (op) {
        case B_ADD:
            if (__builtin_add_overflow(x, y, &r))
                return overflow(c, n, "int");
            return sb_int(r);
        case B_SUB:
            if (__builtin_sub_overflow(x, y, &r))
                return overflow(c, n, "int");
            return sb_int(r);
        case B_MUL:
            if (__builtin_mul_overflow(x, y, &r))
                return overflow(c, n, "int");
            return sb_int(r);
        case B_DIV:
        case B_MOD:
            if (y == 0)
                return sb_cel__err(c, n, op == B_DIV ? "division by zero" : "modulus by zero");
            if (x == INT64_MIN && y == -1)
                return overflow(c, n, "int");
            return sb_int(op == B_DIV ? x / y : x % y);
        }
        break;
    }
    case SB_UINT: {
        uint64_t x = a.as.u, y = b.as.u, r;
        switch (op) {
        case B_ADD:
            if (__builtin_add_overflow(x, y, &r))
                return overflow(c, n, "uint");
            return sb_uint(r);
        case B_SUB:
            if (__builtin_sub_overflow(x, y, &r))
                return overflow(c, n, "uint");
            return sb_uint(r);
        case B_MUL:
            if (__builtin_mul_overflow(x, y, &r))
                return overflow(c, n, "uint");
            return sb_uint(r);
        case B_DIV:
        case B_MOD:
            if (y == 0)
                return sb_cel__err(c, n, op == B_DIV ? "division by zero" : "modulus by zero");
            return sb_uint(op == B_DIV ? x / y : x % y);
        }
        break;
    }
    case SB_DOUBLE:
        if (op == B_MOD)
            break;
        return arith_double(op, a.as.d, b.as.d);
    case SB_STRING:
    case SB_BYTES:
    case SB_LIST:
        if (op == B_ADD)
            return concat(c, a, b);
        break;
    default:
        break;
    }
    return no_overload(c, n, op, a, b);
}

static uint64_t size_of(sb_val v)
{
    return v.kind == SB_LIST ? sb_list_len(v) : v.kind == SB_MAP ? sb_map_len(v) : 1;
}

sb_val sb_cel__binop(cel_ctx *c, const cel_node *n, int op, sb_val a, sb_val b)
{
    switch (op) {
    case B_EQ:
    case B_NE: {
        if (!sb_cel__charge_steps(c, size_of(a) + size_of(b)))
            return sb_cel__fatal(c);
        bool eq = sb_val_equal(a, b);
        return sb_bool(op == B_EQ ? eq : !eq);
    }
    case B_LT:
    case B_LE:
    case B_GT:
    case B_GE: {
        int r = sb_cel__compare(a, b);
        if (r == 2)
            return no_overload(c, n, op, a, b);
        if (r == 3)
            return sb_bool(false);
        switch (op) {
        case B_LT:
            return sb_bool(r < 0);
        case B_LE:
            return sb_bool(r <= 0);
        case B_GT:
            return sb_bool(r > 0);
        default:
            return sb_bool(r >= 0);
        }
    }
    case B_IN:
        if (b.kind == SB_LIST) {
            size_t len = sb_list_len(b);
            if (!sb_cel__charge_steps(c, len))
                return sb_cel__fatal(c);
            for (size_t i = 0; i < len; i++)
                if (sb_val_equal(a, *sb_list_at(b, i)))
                    return sb_bool(true);
            return sb_bool(false);
        }
        if (b.kind == SB_MAP)
            return sb_bool(sb_map_get(b, a) != NULL);
        return no_overload(c, n, op, a, b);
    default:
        return arith(c, n, op, a, b);
    }
}

sb_val sb_cel__negate(cel_ctx *c, const cel_node *n, sb_val a)
{
    if (a.kind == SB_INT) {
        if (a.as.i == INT64_MIN)
            return overflow(c, n, "int");
        return sb_int(-a.as.i);
    }
    if (a.kind == SB_DOUBLE)
        return sb_double(-a.as.d);
    return sb_cel__err(c, n, "no matching overload for '-' applied to %s", sb_cel__type_name(a));
}

/* "(keys: a, b, c)" for a missing key, so a typo is easy to see. */
static void key_hint(sb_buf *b, sb_val m)
{
    size_t n = sb_map_len(m);
    if (!n) {
        sb_buf_puts(b, " (the map is empty)");
        return;
    }
    sb_buf_puts(b, " (keys: ");
    size_t shown = 0;
    for (size_t i = 0; i < n && shown < 10; i++, shown++) {
        if (shown)
            sb_buf_puts(b, ", ");
        sb_cel__fmt_s(b, *sb_map_key_at(m, i), 1);
    }
    sb_buf_puts(b, n > shown ? ", ...)" : ")");
}

static sb_val no_such_key(cel_ctx *c, size_t pos, sb_val m, sb_val key)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "no such key: ");
    if (key.kind == SB_STRING) {
        sb_buf_putc(&b, '\'');
        sb_buf_append(&b, sb_str(key), sb_str_len(key));
        sb_buf_putc(&b, '\'');
    } else {
        sb_cel__fmt_s(&b, key, 1);
    }
    key_hint(&b, m);
    sb_val e = sb_buf_failed(&b) ? sb_cel__oom(c) : sb_cel__err_at(c, pos, sb_buf_str(&b));
    sb_buf_free(&b);
    return e;
}

sb_val sb_cel__select(cel_ctx *c, const cel_node *n, sb_val obj, sb_val field, size_t pos)
{
    (void)n;
    if (obj.kind == SB_MAP) {
        const sb_val *v = sb_map_get(obj, field);
        return v ? sb_val_ref(*v) : no_such_key(c, pos, obj, field);
    }
    if (obj.kind == SB_ERROR)
        return sb_val_ref(obj);
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "cannot select field '%s' from a value of type %s", sb_str(field), sb_cel__type_name(obj));
    sb_val e = sb_buf_failed(&b) ? sb_cel__oom(c) : sb_cel__err_at(c, pos, sb_buf_str(&b));
    sb_buf_free(&b);
    return e;
}

sb_val sb_cel__index(cel_ctx *c, const cel_node *n, sb_val obj, sb_val key)
{
    if (obj.kind == SB_LIST) {
        int64_t i;
        if (key.kind == SB_INT) {
            i = key.as.i;
        } else if (key.kind == SB_UINT) {
            i = key.as.u > INT64_MAX ? INT64_MAX : (int64_t)key.as.u;
        } else if (key.kind == SB_DOUBLE && key.as.d == floor(key.as.d) && fabs(key.as.d) < 9.2e18) {
            i = (int64_t)key.as.d;
        } else {
            return sb_cel__err(c, n, "a list index must be an int, got %s", sb_cel__type_name(key));
        }
        size_t len = sb_list_len(obj);
        if (i < 0 || (uint64_t)i >= len)
            return sb_cel__err(c, n, "index out of range: %lld (list size %zu)", (long long)i, len);
        return sb_val_ref(*sb_list_at(obj, (size_t)i));
    }
    if (obj.kind == SB_MAP) {
        const sb_val *v = sb_map_get(obj, key);
        if (v)
            return sb_val_ref(*v);
        return no_such_key(c, n->pos, obj, key);
    }
    return sb_cel__err(c, n, "no matching overload for '[]' applied to (%s, %s)", sb_cel__type_name(obj),
                       sb_cel__type_name(key));
}

/* ---- conversions ---- */

static bool parse_int(const char *s, size_t len, bool is_unsigned, int64_t *oi, uint64_t *ou)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if (i == len)
        return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (is_unsigned) {
        if (neg && v)
            return false;
        *ou = v;
        return true;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *oi = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return false;
        *oi = (int64_t)v;
    }
    return true;
}

static bool ieq(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (x != b[i])
            return false;
    }
    return true;
}

/* Decimal floating point (Go's ParseFloat without hex and underscores). */
static bool parse_double(const char *s, size_t len, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    const char *r = s + i;
    size_t rl = len - i;
    if (ieq(r, rl, "inf") || ieq(r, rl, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (ieq(r, rl, "nan")) {
        *out = NAN;
        return true;
    }
    size_t digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, ed++;
        if (!ed)
            return false;
    }
    if (i != len || len > 400)
        return false;
    char tmp[402];
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    double d = strtod(tmp, NULL);
    if (isinf(d))
        return false; /* out of range, as ParseFloat reports it */
    *out = d;
    return true;
}

static sb_val conv_error(cel_ctx *c, const cel_node *n, const char *to, sb_val v)
{
    if (v.kind == SB_STRING) {
        size_t l = sb_str_len(v);
        return sb_cel__err(c, n, "cannot convert '%.*s%s' to %s", (int)(l > 40 ? 40 : l), sb_str(v),
                           l > 40 ? "..." : "", to);
    }
    return sb_cel__err(c, n, "no matching overload for %s() applied to %s", to, sb_cel__type_name(v));
}

sb_val sb_cel__convert(cel_ctx *c, const cel_node *n, const char *to, sb_val v)
{
    switch (to[0]) {
    case 'i': /* int */
        switch (v.kind) {
        case SB_INT:
            return v;
        case SB_UINT:
            if (v.as.u > INT64_MAX)
                return sb_cel__err(c, n, "int() range error: %llu is too large", (unsigned long long)v.as.u);
            return sb_int((int64_t)v.as.u);
        case SB_DOUBLE:
            if (!(v.as.d > -9223372036854775808.0 && v.as.d < 9223372036854775808.0))
                return sb_cel__err(c, n, "int() range error: the double is out of the int range");
            return sb_int((int64_t)v.as.d);
        case SB_STRING: {
            int64_t i;
            if (!parse_int(sb_str(v), sb_str_len(v), false, &i, NULL))
                return conv_error(c, n, "int", v);
            return sb_int(i);
        }
        case SB_DURATION: /* nanoseconds */
            return sb_int(v.as.i);
        case SB_TIMESTAMP: /* seconds since the Unix epoch */
            return sb_int(sb_timestamp_sec(v));
        default:
            return conv_error(c, n, "int", v);
        }
    case 'u': /* uint */
        switch (v.kind) {
        case SB_UINT:
            return v;
        case SB_INT:
            if (v.as.i < 0)
                return sb_cel__err(c, n, "uint() range error: %lld is negative", (long long)v.as.i);
            return sb_uint((uint64_t)v.as.i);
        case SB_DOUBLE:
            if (!(v.as.d > -1.0 && v.as.d < 18446744073709551616.0))
                return sb_cel__err(c, n, "uint() range error: the double is out of the uint range");
            return sb_uint((uint64_t)v.as.d);
        case SB_STRING: {
            uint64_t u;
            if (!parse_int(sb_str(v), sb_str_len(v), true, NULL, &u))
                return conv_error(c, n, "uint", v);
            return sb_uint(u);
        }
        default:
            return conv_error(c, n, "uint", v);
        }
    case 'd':
        if (to[1] == 'y') /* dyn */
            return sb_val_ref(v);
        switch (v.kind) { /* double */
        case SB_DOUBLE:
            return v;
        case SB_INT:
            return sb_double((double)v.as.i);
        case SB_UINT:
            return sb_double((double)v.as.u);
        case SB_STRING: {
            double d;
            if (!parse_double(sb_str(v), sb_str_len(v), &d))
                return conv_error(c, n, "double", v);
            return sb_double(d);
        }
        default:
            return conv_error(c, n, "double", v);
        }
    case 's': { /* string */
        sb_buf b = SB_BUF_INIT;
        switch (v.kind) {
        case SB_STRING:
            return sb_val_ref(v);
        case SB_BYTES:
            if (!sb_cel__utf8_valid(sb_str(v), sb_str_len(v)))
                return sb_cel__err(c, n, "string() of bytes that are not valid UTF-8");
            return sb_cel__new_string(c, n, sb_str(v), sb_str_len(v));
        case SB_INT:
        case SB_UINT: { /* without printf or a heap buffer */
            char t[SB_INT_CHARS];
            return sb_cel__new_string(c, n, t, v.kind == SB_INT ? sb_int_chars(t, v.as.i) : sb_uint_chars(t, v.as.u));
        }
        case SB_DOUBLE: {
            char t[SB_CEL_DOUBLE_CHARS];
            return sb_cel__new_string(c, n, t, sb_cel__double_chars(t, v.as.d));
        }
        case SB_BOOL:
            sb_buf_puts(&b, v.as.b ? "true" : "false");
            break;
        case SB_TYPE:
            sb_buf_append(&b, sb_str(v), sb_str_len(v));
            break;
        case SB_DURATION:
            sb_time_write_dur(&b, v.as.i);
            break;
        case SB_TIMESTAMP:
            sb_time_write_ts(&b, sb_timestamp_sec(v), sb_timestamp_nsec(v));
            break;
        default:
            return conv_error(c, n, "string", v);
        }
        return sb_cel__buf_to_string(c, n, &b, false);
    }
    case 'b':
        if (to[1] == 'o') { /* bool */
            if (v.kind == SB_BOOL)
                return v;
            if (v.kind == SB_STRING) {
                static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
                static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
                for (size_t i = 0; i < 6; i++) {
                    if (sb_str_eq(v, t[i]))
                        return sb_bool(true);
                    if (sb_str_eq(v, f[i]))
                        return sb_bool(false);
                }
            }
            return conv_error(c, n, "bool", v);
        }
        if (v.kind == SB_BYTES) /* bytes */
            return sb_val_ref(v);
        if (v.kind == SB_STRING)
            return sb_cel__new_bytes(c, n, sb_str(v), sb_str_len(v));
        return conv_error(c, n, "bytes", v);
    case 't': { /* type */
        sb_val t = sb_type(sb_cel__type_name(v));
        return t.kind == SB_ERROR ? sb_cel__oom(c) : t;
    }
    default:
        return conv_error(c, n, to, v);
    }
}
