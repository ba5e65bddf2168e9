#include <float.h>
#include <math.h>
#include <stdint.h>

#include "sb_test.h"
#include "sb_failalloc.h"
#include "util/sb_alloc.h"
#include "util/sb_heap.h"

/* Pops everything, checking (key, seq) never goes down; returns the values in
 * pop order through out (n at most cap). */
static size_t drain(sb_heap *h, uint64_t *out, size_t cap)
{
    size_t n = 0;
    sb_heap_entry e, prev = {INT64_MIN, 0, 0};
    while (sb_heap_pop(h, &e, NULL)) {
        CHECK(e.key > prev.key || (e.key == prev.key && e.seq >= prev.seq));
        prev = e;
        if (n < cap)
            out[n] = e.value;
        n++;
    }
    return n;
}

static void test_order_with_ties(void)
{
    sb_heap h = SB_HEAP_INIT;
    CHECK(sb_heap_top(&h) == NULL);
    CHECK(!sb_heap_pop(&h, NULL, NULL));
    /* value = the expected pop position: key first, then seq, whatever the
     * push order */
    CHECK(sb_heap_push(&h, 300, 1, 6));
    CHECK(sb_heap_push(&h, 100, 7, 2));
    CHECK(sb_heap_push(&h, 200, 2, 5));
    CHECK(sb_heap_push(&h, 100, 3, 1));
    CHECK(sb_heap_push(&h, 100, 9, 3));
    CHECK(sb_heap_push(&h, 100, 0, 0));
    CHECK(sb_heap_push(&h, INT64_MIN, 5, 99)); /* extreme keys */
    CHECK(sb_heap_push(&h, INT64_MAX, 0, 7));
    CHECK(sb_heap_push(&h, 150, 50, 4));
    CHECK_INT(sb_heap_len(&h), 9);
    CHECK_INT(sb_heap_top(&h)->value, 99);
    CHECK(sb_heap_pop(&h, NULL, NULL));
    uint64_t got[16];
    CHECK_INT(drain(&h, got, 16), 8);
    for (uint64_t i = 0; i < 8; i++)
        CHECK_INT(got[i], i);
    CHECK_INT(sb_heap_len(&h), 0);
    sb_heap_free(&h);
    sb_heap_free(NULL);
}

/* A pseudo-random workload against a brute-force model: many equal keys,
 * removals anywhere, rekeys both ways. */
static void test_against_a_model(void)
{
    enum { N = 600 };
    sb_heap h = SB_HEAP_INIT;
    uint64_t id[N];
    int64_t key[N];
    bool live[N] = {false};
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        key[i] = (int64_t)(x % 16); /* few keys: ties everywhere */
        id[i] = sb_heap_push(&h, key[i], (uint64_t)i, (uint64_t)i);
        CHECK(id[i] != 0);
        live[i] = true;
    }
    for (int i = 0; i < N; i += 3) {
        CHECK(sb_heap_remove(&h, id[i], NULL));
        live[i] = false;
    }
    for (int i = 1; i < N; i += 5) {
        if (!live[i])
            continue;
        key[i] = 15 - key[i];
        CHECK(sb_heap_rekey(&h, id[i], key[i]));
    }
    size_t nlive = 0;
    for (int i = 0; i < N; i++)
        nlive += live[i];
    CHECK_INT(sb_heap_len(&h), nlive);
    /* The model: the smallest live (key, index) each time. */
    sb_heap_entry e;
    while (sb_heap_pop(&h, &e, NULL)) {
        int best = -1;
        for (int i = 0; i < N; i++)
            if (live[i] && (best < 0 || key[i] < key[best]))
                best = i;
        CHECK_INT((int64_t)e.value, best);
        CHECK_INT(e.key, key[best]);
        CHECK_INT(e.seq, best);
        live[best] = false;
    }
    sb_heap_free(&h);
}

static void test_remove_by_id(void)
{
    sb_heap h = SB_HEAP_INIT;
    uint64_t ids[6];
    for (int i = 0; i < 6; i++)
        ids[i] = sb_heap_push(&h, 100 * (i + 1), (uint64_t)i, (uint64_t)i);
    sb_heap_entry e;
    CHECK(sb_heap_remove(&h, ids[0], &e)); /* the root */
    CHECK_INT(e.key, 100);
    CHECK_INT(e.value, 0);
    CHECK(sb_heap_remove(&h, ids[5], NULL)); /* the last node */
    CHECK(sb_heap_remove(&h, ids[2], NULL)); /* an inner one */
    CHECK(!sb_heap_remove(&h, ids[2], NULL)); /* twice */
    CHECK(!sb_heap_rekey(&h, ids[2], 1));
    CHECK(!sb_heap_remove(&h, 0, NULL));      /* never an id */
    CHECK(!sb_heap_remove(&h, 1000, NULL));   /* no such slot */
    CHECK(!sb_heap_remove(NULL, ids[1], NULL));
    uint64_t id = 0;
    CHECK(sb_heap_pop(&h, &e, &id)); /* pop reports the id it pushed with */
    CHECK(id == ids[1]);
    CHECK(!sb_heap_remove(&h, ids[1], NULL)); /* popped */

    /* A slot freed and reused: the old id must not reach the new entry. */
    uint64_t fresh = sb_heap_push(&h, 50, 9, 9);
    CHECK(fresh != ids[1] && fresh != ids[0] && fresh != ids[2] && fresh != ids[5]);
    CHECK(!sb_heap_remove(&h, ids[1], NULL));
    CHECK(!sb_heap_remove(&h, ids[5], NULL));
    CHECK_INT(sb_heap_len(&h), 3);
    CHECK_INT(sb_heap_top(&h)->value, 9);
    CHECK(sb_heap_remove(&h, fresh, NULL));
    uint64_t got[4];
    CHECK_INT(drain(&h, got, 4), 2);
    CHECK_INT(got[0], 3);
    CHECK_INT(got[1], 4);
    sb_heap_free(&h);
}

static void test_rekey(void)
{
    sb_heap h = SB_HEAP_INIT;
    uint64_t a = sb_heap_push(&h, 10, 0, 0);
    uint64_t b = sb_heap_push(&h, 20, 1, 1);
    uint64_t c = sb_heap_push(&h, 30, 2, 2);
    CHECK(sb_heap_rekey(&h, a, 25)); /* the root moves down */
    CHECK_INT(sb_heap_top(&h)->value, 1);
    CHECK(sb_heap_rekey(&h, c, 5)); /* a leaf moves up */
    CHECK_INT(sb_heap_top(&h)->value, 2);
    CHECK(sb_heap_rekey(&h, c, 20)); /* tie with b: seq decides (b first) */
    CHECK_INT(sb_heap_top(&h)->value, 1);
    CHECK(sb_heap_rekey(&h, b, 20));
    CHECK_INT(sb_heap_top(&h)->value, 1);
    uint64_t got[3];
    CHECK_INT(drain(&h, got, 3), 3);
    CHECK_INT(got[0], 1);
    CHECK_INT(got[1], 2);
    CHECK_INT(got[2], 0);
    sb_heap_free(&h);
}

/* Every allocation that can fail does, in turn: the heap stays whole and
 * usable, and nothing leaks (LeakSanitizer). */
static void test_failing_allocation(void)
{
    for (long n = 0;; n++) {
        sb_heap h = SB_HEAP_INIT;
        sb_failalloc_arm(n);
        int pushed = 0;
        for (int i = 0; i < 100; i++) {
            if (!sb_heap_push(&h, 1000 - i, (uint64_t)i, (uint64_t)i)) {
                CHECK_INT(sb_heap_len(&h), pushed);
                break;
            }
            pushed++;
        }
        sb_failalloc_disarm();
        CHECK_INT(sb_heap_len(&h), pushed);
        CHECK(sb_heap_push(&h, 0, 1000, 1000)); /* still usable */
        uint64_t got[101];
        CHECK_INT(drain(&h, got, 101), pushed + 1);
        CHECK_INT(got[0], 1000);
        for (int i = 1; i <= pushed; i++)
            CHECK_INT(got[i], pushed - i); /* later pushes had smaller keys */
        sb_heap_free(&h);
        if (pushed == 100)
            break;
    }
}

static void test_reserve_makes_pushes_infallible(void)
{
    sb_heap h = SB_HEAP_INIT;
    CHECK(sb_heap_reserve(&h, 5));
    sb_failalloc_arm(0); /* no allocation may succeed from here */
    uint64_t ids[5];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5; i++)
            CHECK((ids[i] = sb_heap_push(&h, i, (uint64_t)i, 0)) != 0);
        CHECK(sb_heap_remove(&h, ids[3], NULL));
        CHECK(sb_heap_push(&h, 3, 3, 0)); /* freed room is reused */
        while (sb_heap_pop(&h, NULL, NULL)) {
        }
    }
    sb_failalloc_disarm();
    CHECK(!sb_heap_reserve(&h, SIZE_MAX));
    sb_heap_free(&h);
}

static void test_key_of_double(void)
{
    static const double v[] = {-INFINITY, -DBL_MAX, -1e10, -2.0, -1.0, -DBL_MIN, -4.9e-324, 0.0,
                               4.9e-324,  DBL_MIN,  0.5,   1.0,  1.5,  1e300,    DBL_MAX,   INFINITY};
    size_t n = sizeof v / sizeof *v;
    for (size_t i = 0; i + 1 < n; i++)
        CHECK(sb_heap_key_of_double(v[i]) < sb_heap_key_of_double(v[i + 1]));
    CHECK(sb_heap_key_of_double(-0.0) == sb_heap_key_of_double(0.0));
    CHECK(sb_heap_key_of_double(0.1 + 0.2) > sb_heap_key_of_double(0.3)); /* exact, not rounded */
}

SB_TEST_MAIN(TEST(test_order_with_ties) TEST(test_against_a_model) TEST(test_remove_by_id) TEST(test_rekey)
                 TEST(test_failing_allocation) TEST(test_reserve_makes_pushes_infallible) TEST(test_key_of_double))
