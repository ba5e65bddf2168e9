#include "sb_backoff.h"

#include <math.h>
#include <string.h>

/* Past this many steps the rest of the power is taken by squaring: still
 * exact IEEE arithmetic (the same on every platform), but a multiplier barely
 * above 1 with a huge n can no longer spin for billions of iterations. Real
 * configurations reach their cap long before (1.01^1024 > 26000). */
#define BACKOFF_LINEAR_STEPS 1024u

static double bo_pow_by_squaring(double base, uint32_t n)
{
    double acc = 1.0;
    while (n) {
        if (n & 1u)
            acc *= base;
        base *= base;
        n >>= 1;
    }
    return acc;
}

/* The un-jittered delay: min(max, initial * multiplier^n), whole ms. */
static int64_t bo_base(const sb_backoff *b, uint32_t n)
{
    int64_t initial = b->initial_ms > 0 ? b->initial_ms : 0;
    int64_t max = b->max_ms > 0 ? b->max_ms : 0;
    if (initial >= max)
        return max;
    double cap = (double)max;
    double d = (double)initial;
    /* !(m > 1) also catches NaN: no growth at all. */
    if (initial > 0 && b->multiplier > 1) {
        uint32_t i = 0;
        for (; i < n && i < BACKOFF_LINEAR_STEPS && d < cap; i++)
            d *= b->multiplier;
        if (i < n && d < cap)
            d *= bo_pow_by_squaring(b->multiplier, n - i);
    }
    if (!(d < cap))
        return max;
    /* d < cap <= 2^63, so the rounded value converts without overflow. */
    return (int64_t)round(d);
}

int64_t sb_backoff_delay(const sb_backoff *b, uint32_t n, sb_rng *rng)
{
    int64_t d = bo_base(b, n);
    if (!rng || d == 0)
        return d;
    switch (b->jitter) {
    case SB_JITTER_FULL:
        return (int64_t)sb_rng_below(rng, (uint64_t)d + 1);
    case SB_JITTER_EQUAL: {
        /* [ceil(d/2), d]: the upper half of the delay, both ends included. */
        int64_t half = d / 2;
        return d - half + (int64_t)sb_rng_below(rng, (uint64_t)half + 1);
    }
    default:
        return d;
    }
}

int sb_jitter_parse(const char *s)
{
    static const char *const names[] = {"none", "full", "equal"};
    static const sb_jitter kinds[] = {SB_JITTER_NONE, SB_JITTER_FULL, SB_JITTER_EQUAL};
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)kinds[i];
    return -1;
}
