/* Timestamps and durations (cel-spec langdef, with cel-go's ranges):
 * timestamp() and duration() conversions, arithmetic, and the accessors
 * getFullYear ... getMilliseconds, on timestamps in UTC or in a zone
 * (cel_tz.c), and on durations as whole units of the total. The values and
 * their text forms are core/value's (sb_time.h). */
#include <string.h>

#include "../value/sb_time.h"
#include "cel_int.h"

sb_val sb_cel__timestamp(cel_ctx *c, const cel_node *n, int64_t sec, int32_t nsec)
{
    if (!sb_time_in_range(sec))
        return sb_cel__err(c, n, "timestamp out of range (0001-01-01 to 9999-12-31)");
    if (!sb_cel__charge_bytes(c, 32))
        return sb_cel__fatal(c);
    sb_val v = sb_timestamp(sec, nsec);
    return v.kind == SB_ERROR ? sb_cel__oom(c) : v;
}

static sb_val dur_range(cel_ctx *c, const cel_node *n)
{
    return sb_cel__err(c, n, "duration out of range (about 292 years either way)");
}

/* t + d (sign = 1) or t - d (sign = -1). */
static sb_val ts_add(cel_ctx *c, const cel_node *n, sb_val t, int64_t d, int sign)
{
    int64_t ds = d / SB_NS_PER_SEC, dn = d % SB_NS_PER_SEC;
    int64_t sec = sb_timestamp_sec(t) + sign * ds, ns = sb_timestamp_nsec(t) + sign * dn;
    if (ns < 0)
        ns += SB_NS_PER_SEC, sec--;
    else if (ns >= SB_NS_PER_SEC)
        ns -= SB_NS_PER_SEC, sec++;
    return sb_cel__timestamp(c, n, sec, (int32_t)ns);
}

bool sb_cel__time_arith(cel_ctx *c, const cel_node *n, int op, sb_val a, sb_val b, sb_val *out)
{
    int64_t r;
    bool sub = op == B_SUB;
    if (op != B_ADD && !sub)
        return false;
    if (a.kind == SB_DURATION && b.kind == SB_DURATION) {
        if (sub ? __builtin_sub_overflow(a.as.i, b.as.i, &r) : __builtin_add_overflow(a.as.i, b.as.i, &r))
            *out = dur_range(c, n);
        else
            *out = sb_duration(r);
    } else if (a.kind == SB_TIMESTAMP && b.kind == SB_DURATION) {
        *out = ts_add(c, n, a, b.as.i, sub ? -1 : 1);
    } else if (a.kind == SB_DURATION && b.kind == SB_TIMESTAMP && !sub) {
        *out = ts_add(c, n, b, a.as.i, 1);
    } else if (a.kind == SB_TIMESTAMP && b.kind == SB_TIMESTAMP && sub) {
        /* seconds differ by less than 2^39: only the scaling can overflow */
        int64_t ds = sb_timestamp_sec(a) - sb_timestamp_sec(b);
        int64_t dn = (int64_t)sb_timestamp_nsec(a) - sb_timestamp_nsec(b);
        if (ds > INT64_MAX / SB_NS_PER_SEC || ds < INT64_MIN / SB_NS_PER_SEC ||
            __builtin_add_overflow(ds * SB_NS_PER_SEC, dn, &r))
            *out = dur_range(c, n);
        else
            *out = sb_duration(r);
    } else {
        return false;
    }
    return true;
}

static sb_val fn_timestamp(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na != 1 || (n->sub & CALL_MEMBER))
        return sb_cel__no_overload(c, n, a, na);
    switch (a[0].kind) {
    case SB_TIMESTAMP:
        return sb_val_ref(a[0]);
    case SB_INT:
        return sb_cel__timestamp(c, n, a[0].as.i, 0);
    case SB_STRING: {
        int64_t sec;
        int32_t ns;
        if (!sb_time_parse_ts(sb_str(a[0]), sb_str_len(a[0]), &sec, &ns)) {
            size_t l = sb_str_len(a[0]);
            return sb_cel__err(c, n, "timestamp('%.*s%s'): not an RFC 3339 timestamp of years 0001 to 9999",
                               (int)(l > 40 ? 40 : l), sb_str(a[0]), l > 40 ? "..." : "");
        }
        return sb_cel__timestamp(c, n, sec, ns);
    }
    default:
        return sb_cel__no_overload(c, n, a, na);
    }
}

static sb_val fn_duration(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    if (na != 1 || (n->sub & CALL_MEMBER))
        return sb_cel__no_overload(c, n, a, na);
    if (a[0].kind == SB_DURATION)
        return a[0];
    if (a[0].kind != SB_STRING)
        return sb_cel__no_overload(c, n, a, na);
    int64_t ns;
    int r = sb_time_parse_dur(sb_str(a[0]), sb_str_len(a[0]), &ns);
    if (r == -2)
        return dur_range(c, n);
    if (r < 0) {
        size_t l = sb_str_len(a[0]);
        return sb_cel__err(c, n, "duration('%.*s%s'): not a duration (e.g. '1h30m', '2.5s', '100ms')",
                           (int)(l > 40 ? 40 : l), sb_str(a[0]), l > 40 ? "..." : "");
    }
    return sb_duration(ns);
}

/* The accessors, in the order of their names in `parts`. */
enum { P_YEAR, P_MONTH, P_DOY, P_DATE, P_DOM, P_DOW, P_HOURS, P_MINUTES, P_SECONDS, P_MILLIS };
static const char *const parts[] = {"getFullYear",   "getMonth", "getDayOfYear", "getDate",    "getDayOfMonth",
                                    "getDayOfWeek",  "getHours", "getMinutes",   "getSeconds", "getMilliseconds"};

static sb_val fn_part(cel_ctx *c, const cel_node *n, sb_val *a, uint32_t na)
{
    int p = 0;
    while (strcmp(parts[p], sb_str(n->val)) != 0)
        p++;
    if (a[0].kind == SB_DURATION && na == 1 && p >= P_HOURS) {
        static const int64_t unit[] = {3600 * SB_NS_PER_SEC, 60 * SB_NS_PER_SEC, SB_NS_PER_SEC, 1000000};
        return sb_int(a[0].as.i / unit[p - P_HOURS]);
    }
    if (a[0].kind != SB_TIMESTAMP || na > 2 || (na == 2 && a[1].kind != SB_STRING))
        return sb_cel__no_overload(c, n, a, na);
    int64_t sec = sb_timestamp_sec(a[0]), off = 0;
    if (na == 2 && !sb_cel__tz_offset(sb_str(a[1]), sb_str_len(a[1]), sec, &off))
        return sb_cel__err(c, n->kids[1], "unknown time zone '%s' (a zone name such as 'Europe/Paris', or '+01:00')",
                           sb_str(a[1]));
    int64_t local = sec + off, days = sb_time_floor_div(local, 86400), tod = local - days * 86400, y;
    int mo, d;
    sb_time_civil(days, &y, &mo, &d);
    switch (p) {
    case P_YEAR: return sb_int(y);
    case P_MONTH: return sb_int(mo - 1);
    case P_DOY: return sb_int(days - sb_time_days(y, 1, 1));
    case P_DATE: return sb_int(d);
    case P_DOM: return sb_int(d - 1);
    case P_DOW: return sb_int((days % 7 + 11) % 7);
    case P_HOURS: return sb_int(tod / 3600);
    case P_MINUTES: return sb_int(tod / 60 % 60);
    case P_SECONDS: return sb_int(tod % 60);
    default: return sb_int(sb_timestamp_nsec(a[0]) / 1000000);
    }
}

const cel_builtin sb_cel__time_table[] = {
    {"timestamp", STYLE_GLOBAL, fn_timestamp},
    {"duration", STYLE_GLOBAL, fn_duration},
    {"getFullYear", STYLE_MEMBER, fn_part},
    {"getMonth", STYLE_MEMBER, fn_part},
    {"getDayOfYear", STYLE_MEMBER, fn_part},
    {"getDate", STYLE_MEMBER, fn_part},
    {"getDayOfMonth", STYLE_MEMBER, fn_part},
    {"getDayOfWeek", STYLE_MEMBER, fn_part},
    {"getHours", STYLE_MEMBER, fn_part},
    {"getMinutes", STYLE_MEMBER, fn_part},
    {"getSeconds", STYLE_MEMBER, fn_part},
    {"getMilliseconds", STYLE_MEMBER, fn_part},
};
const size_t sb_cel__time_count = sizeof sb_cel__time_table / sizeof *sb_cel__time_table;
