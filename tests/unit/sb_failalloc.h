/* Failing allocations for tests (Lua's ltests, nghttp2's failmalloc): after
 * sb_failalloc_arm(n), n allocations succeed and every later one fails, until
 * sb_failalloc_disarm(). A test loops n = 0, 1, 2... over an operation until it
 * succeeds; each failed attempt must end cleanly, and LeakSanitizer checks
 * that nothing leaked. */
#ifndef SB_FAILALLOC_H
#define SB_FAILALLOC_H
#include <stdbool.h>
#include <stdlib.h>

#include "util/sb_alloc.h"

static long sb_failalloc_left;

static void *sb_failalloc_fn(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    if (sb_failalloc_left-- <= 0)
        return NULL;
    return realloc(p, n);
}

static inline void sb_failalloc_arm(long n)
{
    sb_failalloc_left = n;
    sb_alloc_set(sb_failalloc_fn, NULL);
}

static inline void sb_failalloc_disarm(void) { sb_alloc_set(NULL, NULL); }

/* Runs run(false) with n = 0, 1, 2... allocations allowed until one run needs
 * no more, then run(true) (the checking run) with none failing; returns n.
 * run must end cleanly and free what it made whenever an allocation fails. */
static inline long sb_failalloc_until_enough(void (*run)(bool check))
{
    long n = 0;
    for (;; n++) {
        sb_failalloc_arm(n);
        run(false);
        bool enough = sb_failalloc_left >= 0;
        sb_failalloc_disarm();
        if (enough)
            break;
    }
    run(true);
    return n;
}

#endif
