/* string(double) gives the shortest digits that read back as the double,
 * the digits printf's correctly rounded %.*e gives at the least precision
 * that round-trips (Go's strconv 'g' shortest, as cel-go). The formatter
 * settles most values without printf (cel_format.c, shortest_fast); this
 * checks it against the plain search on some 250,000 doubles: random bit
 * patterns, decimals i x 10^+-k, sums and products as metrics come out of
 * arithmetic, and the edges (subnormals, 1e15, the largest double). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/cel_int.h"
#include "sb_test.h"

/* The digits (no point, no trailing zeros) of the shortest round-tripping
 * %.*e rendering of d > 0. */
static void reference_digits(double d, char *out)
{
    char tmp[48];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    size_t k = 0;
    for (const char *p = tmp; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            out[k++] = *p;
    while (k > 1 && out[k - 1] == '0')
        k--;
    out[k] = '\0';
}

/* The significant digits of a CEL rendering ("0.0045", "1.5e+300", "120"). */
static void rendered_digits(const char *s, char *out)
{
    size_t k = 0;
    bool started = false;
    for (const char *p = s; *p && *p != 'e'; p++) {
        if (*p < '0' || *p > '9')
            continue;
        if (*p == '0' && !started)
            continue;
        started = true;
        out[k++] = *p;
    }
    while (k > 1 && out[k - 1] == '0')
        k--;
    out[k] = '\0';
}

static long checked, failed;

static void check(double d)
{
    if (!isfinite(d) || d == 0)
        return;
    sb_buf b = SB_BUF_INIT;
    sb_cel__fmt_double(&b, d);
    const char *s = sb_buf_str(&b);
    char want[48], got[48];
    reference_digits(fabs(d), want);
    rendered_digits(s, got);
    checked++;
    if (strtod(s, NULL) != d || strcmp(want, got) != 0) {
        if (failed++ < 10)
            fprintf(stderr, "%.17g: rendered %s, shortest digits %s\n", d, s, want);
    }
    sb_buf_free(&b);
}

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned long long next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_shortest_digits(void)
{
    for (int i = 0; i < 50000; i++) {
        unsigned long long bits = next();
        double d;
        memcpy(&d, &bits, sizeof d);
        check(d);
    }
    for (int i = 1; i < 3000; i++)
        for (int k = 0; k <= 17; k++) {
            check(i / pow(10, k));
            check(i * pow(10, k));
        }
    for (int i = 0; i < 30000; i++) {
        double x = (double)(next() % 1000) * 0.001, y = (double)(next() % 97) * 0.01;
        check(x * (1 + (double)(i % 7)));
        check(x + y);
        check(60 + (double)((i * 37) % 400) / 10 + 0.5);
    }
    static const double edges[] = {DBL_MIN,
                                   DBL_TRUE_MIN,
                                   DBL_MAX,
                                   1e15,
                                   999999999999999.0,
                                   1e15 + 2,
                                   1e16,
                                   0.1 + 0.2,
                                   1e-7,
                                   5e-324,
                                   123456789012345.0,
                                   1.7976931348623157e308,
                                   2.2250738585072009e-308,
                                   0.3,
                                   1e23,
                                   9007199254740993.0};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        check(edges[i]);
        check(-edges[i]);
    }
    printf("string(double): %ld values checked, %ld wrong\n", checked, failed);
    CHECK(failed == 0);
    CHECK(checked > 240000);
}

SB_TEST_MAIN(TEST(test_shortest_digits))
