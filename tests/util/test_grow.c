#include <stdint.h>

#include "sb_test.h"
#include "sb_failalloc.h"
#include "util/sb_alloc.h"
#include "util/sb_grow.h"

typedef struct big {
    char bytes[100];
} big;

static void test_first_growth_and_doubling(void)
{
    int *v = NULL;
    size_t cap = 0;
    CHECK(SB_GROW(v, cap, 0)); /* nothing needed: nothing allocated */
    CHECK(v == NULL);
    CHECK_INT(cap, 0);
    CHECK(SB_GROW(v, cap, 1));
    CHECK_INT(cap, 16); /* 64 bytes of int */
    for (int i = 0; i < 16; i++)
        v[i] = i;
    int *same = v;
    CHECK(SB_GROW(v, cap, 16)); /* fits: no realloc */
    CHECK(v == same);
    CHECK(SB_GROW(v, cap, 17));
    CHECK_INT(cap, 32);
    CHECK(SB_GROW(v, cap, 100)); /* more than double: exactly what is needed */
    CHECK_INT(cap, 100);
    for (int i = 0; i < 16; i++)
        CHECK_INT(v[i], i); /* elements survive every move */
    sb_free(v);

    big *b = NULL;
    size_t bcap = 0;
    CHECK(SB_GROW(b, bcap, 1));
    CHECK_INT(bcap, 8); /* large elements: at least 8 */
    sb_free(b);

    char *s = NULL;
    size_t scap = 0;
    CHECK(SB_GROW(s, scap, 3));
    CHECK_INT(scap, 64);
    sb_free(s);
}

/* Records each request and refuses the huge ones (a real allocator would
 * abort under ASan instead of returning NULL). */
static size_t last_request;
static void *refuse_big(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    last_request = n;
    return n > (1u << 20) ? NULL : realloc(p, n);
}

static void test_overflow_is_refused(void)
{
    big *b = NULL;
    size_t cap = 0;
    /* need * elem_size does not fit size_t */
    CHECK(!SB_GROW(b, cap, SIZE_MAX / sizeof(big) + 1));
    CHECK(b == NULL);
    CHECK_INT(cap, 0);
    CHECK(!SB_GROW(b, cap, SIZE_MAX));
    CHECK(!sb_grow(&b, &cap, 1, 0)); /* no element size */
    CHECK_INT(cap, 0);

    /* Doubling a capacity near the limit asks for the largest count that
     * fits, not for a wrapped-around size. */
    size_t max = SIZE_MAX / sizeof(big);
    size_t near = max / 2 + 1;
    sb_alloc_set(refuse_big, NULL);
    CHECK(!SB_GROW(b, near, near + 1));
    CHECK(last_request == max * sizeof(big));
    CHECK(b == NULL);
    CHECK(near == max / 2 + 1);
    /* Bytes: twice the capacity would wrap around size_t itself. */
    char *bytes = NULL;
    size_t bcap = SIZE_MAX / 2 + 1;
    CHECK(!SB_GROW(bytes, bcap, bcap + 1));
    CHECK(last_request == SIZE_MAX);
    CHECK(bcap == SIZE_MAX / 2 + 1);
    size_t tiny = 4;
    CHECK(SB_GROW(b, tiny, 5)); /* small requests still go through */
    CHECK(last_request == 8 * sizeof(big));
    sb_alloc_set(NULL, NULL);
    sb_free(b);
}

/* Fails every allocation after n: the array and capacity must be the old ones. */
static void test_failing_allocation_keeps_the_array(void)
{
    for (long n = 0; n < 8; n++) {
        int64_t *v = NULL;
        size_t cap = 0, len = 0;
        sb_failalloc_arm(n);
        bool ok = true;
        while (ok && len < 1000) {
            int64_t *before = v;
            size_t before_cap = cap;
            ok = SB_GROW(v, cap, len + 1);
            if (!ok) {
                CHECK(v == before);
                CHECK_INT(cap, before_cap);
                break;
            }
            v[len] = (int64_t)len;
            len++;
        }
        sb_failalloc_disarm();
        CHECK(!ok); /* 8, 16, ..., 1024 elements: 1000 need 8 allocations, more than n */
        CHECK_INT(len, n ? 4u << n : 0); /* n allocations: capacity 8 << (n - 1) */
        for (size_t i = 0; i < len; i++)
            CHECK_INT(v[i], (int64_t)i);
        sb_free(v);
    }
}

SB_TEST_MAIN(TEST(test_first_growth_and_doubling) TEST(test_overflow_is_refused)
                 TEST(test_failing_allocation_keeps_the_array))
