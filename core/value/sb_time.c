#include "sb_time.h"

#include <string.h>

/* Civil dates from day counts work in 400-year eras (146097 days each) of
 * years that start on March 1, so the leap day is the last day of a year. */
int64_t sb_time_days(int64_t year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sb_time_civil(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

/* Reads s[*i..] against layout, where 'd' is a digit and anything else
 * itself; each run of digits is one number, stored in f[] in order. */
static bool scan(const char *s, size_t len, size_t *i, const char *layout, int *f)
{
    int k = 0;
    f[0] = 0;
    for (const char *l = layout; *l; l++, (*i)++) {
        if (*i >= len)
            return false;
        char ch = s[*i];
        if (*l != 'd') {
            if (ch != *l)
                return false;
            f[++k] = 0;
        } else if (ch < '0' || ch > '9') {
            return false;
        } else {
            f[k] = f[k] * 10 + (ch - '0');
        }
    }
    return true;
}

static int month_days(int64_t y, int m)
{
    static const unsigned char md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : md[m - 1];
}

bool sb_time_parse_ts(const char *s, size_t len, int64_t *sec, int32_t *nsec)
{
    size_t i = 0;
    int f[6], ns = 0; /* year, month, day, hour, minute, second */
    if (!scan(s, len, &i, "dddd-dd-ddTdd:dd:dd", f))
        return false;
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > month_days(f[0], f[1]) || f[3] > 23 || f[4] > 59 || f[5] > 59)
        return false;
    if (i < len && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && nd < 9)
            ns = ns * 10 + (s[i++] - '0'), nd++;
        if (nd == 0 || (i < len && s[i] >= '0' && s[i] <= '9'))
            return false;
        for (; nd < 9; nd++)
            ns *= 10;
    }
    int off = 0, o[2];
    if (i < len && s[i] == 'Z') {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        bool neg = s[i++] == '-';
        if (!scan(s, len, &i, "dd:dd", o) || o[0] > 23 || o[1] > 59)
            return false;
        off = (o[0] * 60 + o[1]) * 60 * (neg ? -1 : 1);
    } else {
        return false;
    }
    if (i != len)
        return false;
    int64_t t = sb_time_days(f[0], f[1], f[2]) * 86400 + f[3] * 3600 + f[4] * 60 + f[5] - off;
    if (!sb_time_in_range(t))
        return false;
    *sec = t;
    *nsec = ns;
    return true;
}

static void put_n(sb_buf *b, int64_t v, int width)
{
    char tmp[24];
    int k = 0;
    do
        tmp[k++] = (char)('0' + v % 10);
    while ((v /= 10) || k < width);
    while (k)
        sb_buf_putc(b, tmp[--k]);
}

/* ".5", ".000000002": the fraction without trailing zeros, nothing for 0. */
static void put_frac(sb_buf *b, int64_t ns)
{
    if (!ns)
        return;
    char f[10];
    f[0] = '.';
    for (int k = 9; k >= 1; k--, ns /= 10)
        f[k] = (char)('0' + ns % 10);
    size_t n = 10;
    while (f[n - 1] == '0')
        n--;
    sb_buf_append(b, f, n);
}

void sb_time_write_ts(sb_buf *b, int64_t sec, int32_t nsec)
{
    int64_t days = sb_time_floor_div(sec, 86400), tod = sec - days * 86400, y;
    int mo, d;
    sb_time_civil(days, &y, &mo, &d);
    put_n(b, y, 4);
    sb_buf_putc(b, '-');
    put_n(b, mo, 2);
    sb_buf_putc(b, '-');
    put_n(b, d, 2);
    sb_buf_putc(b, 'T');
    put_n(b, tod / 3600, 2);
    sb_buf_putc(b, ':');
    put_n(b, tod / 60 % 60, 2);
    sb_buf_putc(b, ':');
    put_n(b, tod % 60, 2);
    put_frac(b, nsec);
    sb_buf_putc(b, 'Z');
}

/* The unit at s[*i] in nanoseconds, or 0. "µs" comes as U+00B5 or U+03BC. */
static uint64_t unit_ns(const char *s, size_t len, size_t *i)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {{"ns", 1},           {"us", 1000},          {"\xc2\xb5s", 1000},      {"\xce\xbcs", 1000},
                 {"ms", 1000000},     {"s", 1000000000ULL},  {"m", 60000000000ULL},    {"h", 3600000000000ULL}};
    for (size_t k = 0; k < sizeof units / sizeof *units; k++) {
        size_t n = strlen(units[k].name);
        /* "ms" comes before "m" and "ns" before "s" in the table */
        if (n <= len - *i && memcmp(s + *i, units[k].name, n) == 0) {
            *i += n;
            return units[k].ns;
        }
    }
    return 0;
}

int sb_time_parse_dur(const char *s, size_t len, int64_t *ns)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i + 1 == len && s[i] == '0') {
        *ns = 0;
        return 0;
    }
    if (i == len)
        return -1;
    uint64_t total = 0;
    bool range = false;
    while (i < len) {
        uint64_t v = 0, frac = 0;
        double scale = 1;
        size_t start = i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (v > (UINT64_MAX - 9) / 10)
                range = true;
            else
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        bool had_int = i > start, had_frac = false;
        if (i < len && s[i] == '.') {
            i++;
            for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, had_frac = true) {
                if (frac <= (UINT64_MAX - 9) / 10) {
                    frac = frac * 10 + (uint64_t)(s[i] - '0');
                    scale *= 10;
                }
            }
        }
        if (!had_int && !had_frac)
            return -1;
        uint64_t unit = unit_ns(s, len, &i);
        if (!unit)
            return -1;
        uint64_t part;
        if (v > UINT64_MAX / unit || __builtin_mul_overflow(v, unit, &part))
            range = true;
        else if (frac && __builtin_add_overflow(part, (uint64_t)((double)frac * ((double)unit / scale)), &part))
            range = true;
        if (!range && __builtin_add_overflow(total, part, &total))
            range = true;
    }
    if (range || total > (uint64_t)INT64_MAX + neg)
        return -2;
    *ns = neg ? (int64_t)(0 - total) : (int64_t)total;
    return 0;
}

void sb_time_write_dur(sb_buf *b, int64_t ns)
{
    uint64_t u = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
    if (ns < 0)
        sb_buf_putc(b, '-');
    put_n(b, (int64_t)(u / SB_NS_PER_SEC), 1);
    put_frac(b, (int64_t)(u % SB_NS_PER_SEC));
    sb_buf_putc(b, 's');
}
