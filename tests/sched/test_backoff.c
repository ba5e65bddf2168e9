#include <stdint.h>

#include "sb_test.h"
#include "sched/sb_backoff.h"

static void test_headline_sequence(void)
{
    sb_backoff b = {2000, 10000, 1.5, SB_JITTER_NONE};
    static const int64_t want[] = {2000, 3000, 4500, 6750, 10000, 10000, 10000};
    for (uint32_t n = 0; n < 7; n++)
        CHECK_INT(sb_backoff_delay(&b, n, NULL), want[n]);
}

static void test_rounding_to_whole_ms(void)
{
    /* 1000 * 1.1^n: 1000, 1100, 1210, 1331, 1464.1 -> 1464, 1610.51 -> 1611 */
    sb_backoff b = {1000, 100000, 1.1, SB_JITTER_NONE};
    CHECK_INT(sb_backoff_delay(&b, 3, NULL), 1331);
    CHECK_INT(sb_backoff_delay(&b, 4, NULL), 1464);
    CHECK_INT(sb_backoff_delay(&b, 5, NULL), 1611);
    /* 3 * 1.5 = 4.5: half rounds away from zero. */
    sb_backoff h = {3, 100, 1.5, SB_JITTER_NONE};
    CHECK_INT(sb_backoff_delay(&h, 1, NULL), 5);
}

static void test_clamps(void)
{
    sb_backoff b = {5000, 1000, 2.0, SB_JITTER_NONE}; /* max < initial */
    CHECK_INT(sb_backoff_delay(&b, 0, NULL), 1000);
    CHECK_INT(sb_backoff_delay(&b, 9, NULL), 1000);

    sb_backoff flat = {500, 10000, 1.0, SB_JITTER_NONE};
    CHECK_INT(sb_backoff_delay(&flat, 0, NULL), 500);
    CHECK_INT(sb_backoff_delay(&flat, UINT32_MAX, NULL), 500);

    sb_backoff zero = {0, 10000, 2.0, SB_JITTER_NONE};
    CHECK_INT(sb_backoff_delay(&zero, 40, NULL), 0);

    sb_backoff neg = {-5, -1, 2.0, SB_JITTER_FULL};
    CHECK_INT(sb_backoff_delay(&neg, 3, NULL), 0);
}

static void test_huge_n_does_not_overflow(void)
{
    sb_backoff b = {2000, 10000, 1.5, SB_JITTER_NONE};
    CHECK_INT(sb_backoff_delay(&b, UINT32_MAX, NULL), 10000);

    sb_backoff top = {1, INT64_MAX, 2.0, SB_JITTER_NONE};
    CHECK_INT(sb_backoff_delay(&top, 62, NULL), (int64_t)1 << 62);
    CHECK(sb_backoff_delay(&top, 63, NULL) == INT64_MAX);
    CHECK(sb_backoff_delay(&top, UINT32_MAX, NULL) == INT64_MAX);

    sb_backoff vast = {1, INT64_MAX, 1e300, SB_JITTER_NONE};
    CHECK(sb_backoff_delay(&vast, 5, NULL) == INT64_MAX);

    /* A multiplier barely above 1 never reaches the cap; huge n must still
     * return promptly (the power goes by squaring after the first steps). */
    sb_backoff slow = {1000, 1000000, 1.0000001, SB_JITTER_NONE};
    int64_t d = sb_backoff_delay(&slow, UINT32_MAX, NULL);
    CHECK(d == 1000000);
    CHECK_INT(sb_backoff_delay(&slow, 1000, NULL), 1000);

    sb_backoff jit = {1, INT64_MAX, 2.0, SB_JITTER_FULL};
    sb_rng r;
    sb_rng_seed(&r, 5);
    for (int i = 0; i < 100; i++)
        CHECK(sb_backoff_delay(&jit, UINT32_MAX, &r) >= 0);
}

static void test_full_jitter(void)
{
    sb_backoff b = {2000, 10000, 1.5, SB_JITTER_FULL};
    sb_rng r;
    sb_rng_seed(&r, 2024);
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t d = sb_backoff_delay(&b, 2, &r); /* base 4500 */
        CHECK(d >= 0 && d <= 4500);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    CHECK(lo < 100 && hi > 4400);

    /* Both ends are reachable on a tiny range. */
    sb_backoff tiny = {1, 1, 1.0, SB_JITTER_FULL};
    int seen[2] = {0};
    for (int i = 0; i < 200; i++) {
        int64_t d = sb_backoff_delay(&tiny, 0, &r);
        CHECK(d == 0 || d == 1);
        if (d == 0 || d == 1)
            seen[d]++;
    }
    CHECK(seen[0] > 0 && seen[1] > 0);
}

static void test_equal_jitter(void)
{
    sb_backoff b = {2000, 10000, 1.5, SB_JITTER_EQUAL};
    sb_rng r;
    sb_rng_seed(&r, 11);
    for (int i = 0; i < 10000; i++) {
        int64_t d = sb_backoff_delay(&b, 3, &r); /* base 6750 */
        CHECK(d >= 3375 && d <= 6750);
    }
    sb_backoff odd = {5, 5, 1.0, SB_JITTER_EQUAL};
    for (int i = 0; i < 1000; i++) {
        int64_t d = sb_backoff_delay(&odd, 0, &r);
        CHECK(d >= 3 && d <= 5);
    }
}

static void test_jitter_reproducible(void)
{
    sb_backoff full = {2000, 10000, 1.5, SB_JITTER_FULL};
    sb_backoff equal = {2000, 10000, 1.5, SB_JITTER_EQUAL};
    sb_rng a, b;
    sb_rng_seed(&a, 77);
    sb_rng_seed(&b, 77);
    for (uint32_t n = 0; n < 50; n++) {
        CHECK(sb_backoff_delay(&full, n, &a) == sb_backoff_delay(&full, n, &b));
        CHECK(sb_backoff_delay(&equal, n, &a) == sb_backoff_delay(&equal, n, &b));
    }
    /* Pinned: full jitter draws below(base + 1) from the generator. */
    sb_rng c, d;
    sb_rng_seed(&c, 42);
    sb_rng_seed(&d, 42);
    CHECK(sb_backoff_delay(&full, 0, &c) == (int64_t)sb_rng_below(&d, 2001));
    CHECK(sb_backoff_delay(&equal, 0, &c) == 1000 + (int64_t)sb_rng_below(&d, 1001));
    /* NONE ignores the generator and leaves it untouched. */
    sb_backoff none = {2000, 10000, 1.5, SB_JITTER_NONE};
    CHECK_INT(sb_backoff_delay(&none, 1, &c), 3000);
    CHECK(sb_rng_next(&c) == sb_rng_next(&d));
}

static void test_jitter_parse(void)
{
    CHECK_INT(sb_jitter_parse("none"), SB_JITTER_NONE);
    CHECK_INT(sb_jitter_parse("full"), SB_JITTER_FULL);
    CHECK_INT(sb_jitter_parse("equal"), SB_JITTER_EQUAL);
    CHECK_INT(sb_jitter_parse("Full"), -1);
    CHECK_INT(sb_jitter_parse(""), -1);
    CHECK_INT(sb_jitter_parse(NULL), -1);
}

SB_TEST_MAIN(TEST(test_headline_sequence) TEST(test_rounding_to_whole_ms) TEST(test_clamps)
                 TEST(test_huge_n_does_not_overflow) TEST(test_full_jitter) TEST(test_equal_jitter)
                 TEST(test_jitter_reproducible) TEST(test_jitter_parse))
