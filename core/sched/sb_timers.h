/* Timers: a binary min-heap keyed by (deadline, sequence), as in libuv, so
 * timers with the same deadline fire in the order they were set. Time is
 * whatever the host says it is (milliseconds on its clock); nothing here reads
 * a clock. */
#ifndef SB_TIMERS_H
#define SB_TIMERS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sb_timers sb_timers;

sb_timers *sb_timers_new(void);   /* NULL on OOM */
void sb_timers_free(sb_timers *t); /* NULL-safe */

/* Adds a timer firing at deadline_ms carrying `tag` (the owner's meaning).
 * Returns its id (never 0), or 0 on OOM. */
uint64_t sb_timers_add(sb_timers *t, int64_t deadline_ms, uint64_t tag);
/* deadline = now + delay, clamped to INT64_MAX instead of overflowing. */
int64_t sb_timers_deadline(int64_t now_ms, int64_t delay_ms);
/* Cancels a pending timer; false if it already fired or never existed. */
bool sb_timers_cancel(sb_timers *t, uint64_t id);
/* Earliest pending deadline, or INT64_MAX when none is pending. */
int64_t sb_timers_next(const sb_timers *t);
/* Removes the earliest timer if its deadline <= now_ms: stores its tag and id
 * and returns true. Call in a loop to drain every due timer in order. */
bool sb_timers_pop_due(sb_timers *t, int64_t now_ms, uint64_t *tag, uint64_t *id);
size_t sb_timers_count(const sb_timers *t);

#endif
