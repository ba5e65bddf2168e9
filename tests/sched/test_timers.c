#include <stdint.h>

#include "sb_test.h"
#include "sb_failalloc.h"
#include "sched/sb_rng.h"
#include "sched/sb_timers.h"
#include "util/sb_alloc.h"

static void test_fires_in_deadline_then_seq_order(void)
{
    sb_timers *t = sb_timers_new();
    CHECK(sb_timers_next(t) == INT64_MAX);
    sb_timers_add(t, 300, 1);
    sb_timers_add(t, 100, 2);
    sb_timers_add(t, 200, 3);
    sb_timers_add(t, 100, 4); /* same deadline as tag 2, set later */
    sb_timers_add(t, 100, 5);
    CHECK_INT(sb_timers_count(t), 5);
    CHECK_INT(sb_timers_next(t), 100);
    static const uint64_t want[] = {2, 4, 5, 3, 1};
    uint64_t tag, id;
    for (int i = 0; i < 5; i++) {
        CHECK(sb_timers_pop_due(t, 1000, &tag, &id));
        CHECK_INT(tag, want[i]);
        CHECK(id != 0);
    }
    CHECK(!sb_timers_pop_due(t, 1000, &tag, &id));
    CHECK_INT(sb_timers_count(t), 0);
    sb_timers_free(t);
    sb_timers_free(NULL);
}

static void test_pop_due_respects_now(void)
{
    sb_timers *t = sb_timers_new();
    uint64_t a = sb_timers_add(t, 1000, 10);
    uint64_t b = sb_timers_add(t, 2000, 20);
    uint64_t tag = 0, id = 0;
    CHECK(!sb_timers_pop_due(t, 999, &tag, &id));
    CHECK(sb_timers_pop_due(t, 1000, &tag, &id)); /* deadline == now is due */
    CHECK_INT(tag, 10);
    CHECK(id == a);
    CHECK(!sb_timers_pop_due(t, 1999, &tag, &id));
    CHECK_INT(sb_timers_next(t), 2000);
    CHECK(sb_timers_pop_due(t, 5000, NULL, &id));
    CHECK(id == b);
    CHECK(!sb_timers_cancel(t, a)); /* already fired */
    sb_timers_free(t);
}

static void test_cancel(void)
{
    sb_timers *t = sb_timers_new();
    uint64_t ids[6];
    for (int i = 0; i < 6; i++)
        ids[i] = sb_timers_add(t, 100 * (i + 1), (uint64_t)i);
    CHECK(sb_timers_cancel(t, ids[0])); /* the root */
    CHECK_INT(sb_timers_next(t), 200);
    CHECK(sb_timers_cancel(t, ids[5])); /* the last element of the heap */
    CHECK(sb_timers_cancel(t, ids[2])); /* an inner one */
    CHECK(!sb_timers_cancel(t, ids[2])); /* twice */
    CHECK(!sb_timers_cancel(t, 0));
    CHECK(!sb_timers_cancel(t, 12345));
    CHECK(!sb_timers_cancel(t, ((uint64_t)7 << 32) | 1)); /* right slot, wrong generation */
    CHECK_INT(sb_timers_count(t), 3);
    static const uint64_t want[] = {1, 3, 4};
    uint64_t tag;
    for (int i = 0; i < 3; i++) {
        CHECK(sb_timers_pop_due(t, INT64_MAX, &tag, NULL));
        CHECK_INT(tag, want[i]);
    }
    /* A reused slot gets a new id; the old id does not cancel the new timer. */
    uint64_t fresh = sb_timers_add(t, 1, 99);
    CHECK(fresh != ids[0] && fresh != ids[2] && fresh != ids[5]);
    for (int i = 0; i < 6; i++)
        CHECK(!sb_timers_cancel(t, ids[i]));
    CHECK(sb_timers_cancel(t, fresh));
    CHECK_INT(sb_timers_count(t), 0);
    CHECK(!sb_timers_cancel(NULL, fresh));
    sb_timers_free(t);
}

static void test_cancel_only_element(void)
{
    sb_timers *t = sb_timers_new();
    uint64_t id = sb_timers_add(t, 5, 1);
    CHECK(sb_timers_cancel(t, id));
    CHECK(sb_timers_next(t) == INT64_MAX);
    CHECK(!sb_timers_pop_due(t, INT64_MAX, NULL, NULL));
    sb_timers_free(t);
}

static void test_deadline_clamping(void)
{
    CHECK(sb_timers_deadline(1000, 500) == 1500);
    CHECK(sb_timers_deadline(INT64_MAX - 10, 10) == INT64_MAX);
    CHECK(sb_timers_deadline(INT64_MAX - 10, 11) == INT64_MAX);
    CHECK(sb_timers_deadline(INT64_MAX, INT64_MAX) == INT64_MAX);
    CHECK(sb_timers_deadline(1, INT64_MAX) == INT64_MAX);
    CHECK(sb_timers_deadline(-5, INT64_MAX) == INT64_MAX - 5);
    CHECK(sb_timers_deadline(1000, 0) == 1000);
    CHECK(sb_timers_deadline(1000, -50) == 1000); /* never earlier than now */
    CHECK(sb_timers_deadline(INT64_MIN, -1) == INT64_MIN);

    /* A clamped timer is still ordered by sequence among equals and fires at the end of time. */
    sb_timers *t = sb_timers_new();
    sb_timers_add(t, INT64_MAX, 1);
    sb_timers_add(t, INT64_MAX, 2);
    uint64_t tag;
    CHECK(!sb_timers_pop_due(t, INT64_MAX - 1, &tag, NULL));
    CHECK(sb_timers_pop_due(t, INT64_MAX, &tag, NULL) && tag == 1);
    CHECK(sb_timers_pop_due(t, INT64_MAX, &tag, NULL) && tag == 2);
    sb_timers_free(t);
}

/* 100,000 timers with random deadlines (many equal), a third cancelled in
 * random order: what fires must be exactly the rest, in (deadline, seq) order. */
#define MANY 100000
static void test_many(void)
{
    static uint64_t ids[MANY];
    static int64_t deadline[MANY];
    static unsigned char gone[MANY];
    sb_rng r;
    sb_rng_seed(&r, 123);
    sb_timers *t = sb_timers_new();
    for (uint64_t i = 0; i < MANY; i++) {
        deadline[i] = (int64_t)sb_rng_below(&r, 5000);
        ids[i] = sb_timers_add(t, deadline[i], i);
        CHECK(ids[i] != 0);
        gone[i] = 0;
    }
    size_t cancelled = 0;
    for (int k = 0; k < MANY / 3; k++) {
        uint64_t i = sb_rng_below(&r, MANY);
        bool ok = sb_timers_cancel(t, ids[i]);
        CHECK(ok == !gone[i]);
        if (ok) {
            gone[i] = 1;
            cancelled++;
        }
    }
    CHECK_INT(sb_timers_count(t), MANY - cancelled);
    int64_t last_deadline = INT64_MIN;
    uint64_t last_tag = 0, tag, id;
    size_t fired = 0, bad = 0;
    while (sb_timers_pop_due(t, 2500, &tag, &id)) {
        if (tag >= MANY || gone[tag] || ids[tag] != id || deadline[tag] > 2500 || deadline[tag] < last_deadline ||
            (deadline[tag] == last_deadline && tag <= last_tag))
            bad++;
        else
            gone[tag] = 2;
        last_deadline = deadline[tag < MANY ? tag : 0];
        last_tag = tag;
        fired++;
    }
    CHECK_INT(bad, 0);
    CHECK(sb_timers_next(t) > 2500);
    while (sb_timers_pop_due(t, INT64_MAX, &tag, &id)) {
        if (tag >= MANY || gone[tag])
            bad++;
        else
            gone[tag] = 2;
        fired++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(fired + cancelled, MANY);
    sb_timers_free(t);
}


/* Fail the Nth allocation for N = 0, 1, 2...: every add either succeeds or
 * returns 0 with the set unchanged, and nothing leaks (LSan). */
static void test_oom_is_clean(void)
{
    bool completed = false;
    for (long n = 0; !completed && n < 1000; n++) {
        sb_failalloc_left = n;
        sb_alloc_set(sb_failalloc_fn, NULL);
        sb_timers *t = sb_timers_new();
        size_t added = 0;
        bool failed = t == NULL;
        for (int i = 0; t && i < 100; i++) {
            uint64_t id = sb_timers_add(t, 100 - i, (uint64_t)i);
            if (id == 0) {
                failed = true;
                break;
            }
            added++;
            if (i % 3 == 0)
                added -= sb_timers_cancel(t, id);
        }
        CHECK_INT(sb_timers_count(t), added);
        int64_t prev = INT64_MIN;
        uint64_t tag;
        while (sb_timers_pop_due(t, INT64_MAX, &tag, NULL)) {
            CHECK((int64_t)(100 - tag) >= prev);
            prev = (int64_t)(100 - tag);
        }
        sb_timers_free(t);
        sb_alloc_set(NULL, NULL);
        completed = !failed;
    }
    CHECK(completed);
}

SB_TEST_MAIN(TEST(test_fires_in_deadline_then_seq_order) TEST(test_pop_due_respects_now) TEST(test_cancel)
                 TEST(test_cancel_only_element) TEST(test_deadline_clamping) TEST(test_many)
                 TEST(test_oom_is_clean))
