/* sibyl.wasm's allocator (host-wasi/wasi_malloc.c, with wasi_heap.c's sbrk),
 * built as a wasm32-wasi test and run under Node: blocks keep their bytes
 * through any mix of sizes, frees and reallocs; memory one size class frees
 * serves another; a large block at the top of the heap grows in place; the
 * wasm memory grows a few times, not once per page. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_test.h"

static size_t mem_pages(void) { return __builtin_wasm_memory_size(0); }

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 31 + i * 7);
}

static int intact(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed * 31 + i * 7))
            return 0;
    return 1;
}

static void test_random_mix(void)
{
    enum { N = 3000 };
    static unsigned char *p[N];
    static size_t n[N];
    uint32_t x = 12345;
    int bad = 0;
    for (int round = 0; round < 40000; round++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        size_t i = x % N;
        size_t want = (x >> 12) % 8 == 0 ? (x >> 8) % 200000 : (x >> 8) % 600;
        if (p[i] && !intact(p[i], n[i], (unsigned)i))
            bad++;
        if (p[i] && (x & 3) == 0) {
            free(p[i]);
            p[i] = NULL;
        } else if (p[i] && (x & 3) == 1) {
            unsigned char *q = realloc(p[i], want);
            CHECK(q != NULL);
            size_t keep = want < n[i] ? want : n[i];
            if (!intact(q, keep, (unsigned)i))
                bad++;
            p[i] = q;
            n[i] = want;
            fill(q, want, (unsigned)i);
        } else {
            free(p[i]);
            p[i] = malloc(want);
            CHECK(p[i] != NULL);
            CHECK(((uintptr_t)p[i] & 7) == 0);
            n[i] = want;
            fill(p[i], want, (unsigned)i);
        }
    }
    for (size_t i = 0; i < N; i++) {
        if (p[i] && !intact(p[i], n[i], (unsigned)i))
            bad++;
        free(p[i]);
    }
    CHECK_INT(bad, 0);
    unsigned char *z = calloc(1000, 7);
    CHECK(z != NULL);
    int nonzero = 0;
    for (int i = 0; i < 7000; i++)
        nonzero += z[i] != 0;
    CHECK_INT(nonzero, 0);
    free(z);
}

static void test_freed_pages_serve_other_sizes(void)
{
    enum { N = 200000 };
    static void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = malloc(24); /* 4.8 MB of one class */
    for (int i = 0; i < N; i++)
        free(p[i]);
    size_t before = mem_pages();
    for (int i = 0; i < N / 4; i++)
        p[i] = malloc(96); /* the same bytes in another class */
    CHECK(mem_pages() - before < 16); /* reused, not grown by another ~75 pages */
    for (int i = 0; i < N / 4; i++)
        free(p[i]);
}

static void test_growing_buffer(void)
{
    char *b = malloc(40000);
    CHECK(b != NULL);
    memset(b, 'a', 40000);
    int doublings = 0, moved = 0;
    for (size_t cap = 40000; cap < ((size_t)64 << 20); cap *= 2) {
        char *q = realloc(b, cap * 2);
        CHECK(q != NULL);
        moved += q != b;
        b = q;
        CHECK(b[cap - 1] == 'a');
        memset(b + cap, 'a', cap);
        doublings++;
    }
    /* Run first, on a heap with no free runs: the block sits at the top of
     * the heap and every doubling happens in place. */
    CHECK(doublings == 11);
    CHECK_INT(moved, 0);
    free(b);
}

static void test_few_memory_grows(void)
{
    size_t last = mem_pages();
    int grows = 0;
    for (int i = 0; i < 20000; i++) {
        void *p = malloc(4000); /* 80 MB, never freed within the test */
        CHECK(p != NULL);
        if (mem_pages() != last) {
            grows++;
            last = mem_pages();
        }
    }
    CHECK(grows < 40);
}

SB_TEST_MAIN(TEST(test_growing_buffer) TEST(test_random_mix) TEST(test_freed_pages_serve_other_sizes)
                 TEST(test_few_memory_grows))
