/* sibyl.wasm's replacements of wasi-libc functions (host-wasi/wasi_qsort.c,
 * host-wasi/wasi_mem.c), built as a wasm32-wasi test and run under Node:
 * qsort sorts any count and element size into the comparator's order and
 * keeps every element; memmove copies overlapping ranges both ways; memset
 * and memcpy fill and copy exactly their range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_test.h"

static uint32_t rng = 2463534242u;
static uint32_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}

/* A 12-byte element: key with few distinct values, pos breaks ties (as
 * sibyl's comparators do), pad must travel with the element. */
typedef struct rec {
    uint32_t key, pos, pad;
} rec;

static int cmp_rec(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_byte(const void *a, const void *b) { return *(const unsigned char *)a - *(const unsigned char *)b; }

static void test_qsort_records(void)
{
    static const size_t counts[] = {0, 1, 2, 3, 7, 64, 65, 1000, 5000};
    static rec r[5000];
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        size_t n = counts[c];
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            r[i] = (rec){next() % 17, (uint32_t)i, 0};
            r[i].pad = r[i].key * 1000003u + r[i].pos;
            sum += r[i].pos;
        }
        qsort(r, n, sizeof *r, cmp_rec);
        int ordered = 1, intact = 1;
        uint64_t after = 0;
        for (size_t i = 0; i < n; i++) {
            ordered &= i == 0 || cmp_rec(&r[i - 1], &r[i]) < 0;
            intact &= r[i].pad == r[i].key * 1000003u + r[i].pos;
            after += r[i].pos;
        }
        CHECK(ordered);
        CHECK(intact);
        CHECK_INT(after, sum);
    }
}

static void test_qsort_bytes_sorted_and_reversed(void)
{
    unsigned char b[300];
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (unsigned char)(255 - i % 256);
    qsort(b, sizeof b, 1, cmp_byte);
    int ordered = 1;
    for (size_t i = 1; i < sizeof b; i++)
        ordered &= b[i - 1] <= b[i];
    CHECK(ordered);
    CHECK_INT(b[0], 0);
    CHECK_INT(b[sizeof b - 1], 255);
    qsort(b, sizeof b, 1, cmp_byte); /* already sorted */
    ordered = 1;
    for (size_t i = 1; i < sizeof b; i++)
        ordered &= b[i - 1] <= b[i];
    CHECK(ordered);
}

/* Called through pointers so the calls reach the functions, not the
 * instructions the compiler would put in their place. */
static void *(*volatile move_fn)(void *, const void *, size_t) = memmove;
static void *(*volatile copy_fn)(void *, const void *, size_t) = memcpy;
static void *(*volatile set_fn)(void *, int, size_t) = memset;

static void test_memmove_overlap(void)
{
    char a[32];
    for (int i = 0; i < 32; i++)
        a[i] = (char)('a' + i % 26);
    CHECK(move_fn(a + 2, a, 10) == a + 2); /* forward overlap */
    CHECK(memcmp(a, "ababcdefghijmnop", 16) == 0);
    CHECK(move_fn(a, a + 4, 6) == a); /* backward overlap */
    CHECK(memcmp(a, "cdefghefghijmnop", 16) == 0);
}

static void test_memset_memcpy_exact(void)
{
    char a[16] = "0123456789abcde", b[16];
    CHECK(set_fn(a + 3, 'x', 4) == a + 3);
    CHECK_STR(a, "012xxxx789abcde");
    CHECK(copy_fn(b, a, sizeof a) == b);
    CHECK_STR(b, "012xxxx789abcde");
    CHECK(copy_fn(b, "zz", 0) == b); /* nothing copied */
    CHECK_STR(b, "012xxxx789abcde");
}

SB_TEST_MAIN(TEST(test_qsort_records) TEST(test_qsort_bytes_sorted_and_reversed) TEST(test_memmove_overlap)
                 TEST(test_memset_memcpy_exact))
