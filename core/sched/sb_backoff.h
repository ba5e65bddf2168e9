/* Exponential backoff: delay(n) = min(max, initial * multiplier^n), then
 * optional jitter as AWS describes it (full: uniform in [0, d]; equal:
 * d/2 + uniform in [0, d/2]), drawn from the caller's seeded generator.
 * The power is computed by repeated multiplication (not pow()) and rounded to
 * whole milliseconds, so every platform gets the same delays:
 * 2000 x1.5 capped at 10000 gives 2000, 3000, 4500, 6750, 10000, 10000... */
#ifndef SB_BACKOFF_H
#define SB_BACKOFF_H
#include <stdint.h>

#include "sb_rng.h"

typedef enum sb_jitter { SB_JITTER_NONE, SB_JITTER_FULL, SB_JITTER_EQUAL } sb_jitter;

typedef struct sb_backoff {
    int64_t initial_ms; /* >= 0 */
    int64_t max_ms;     /* >= initial_ms */
    double multiplier;  /* >= 1 */
    sb_jitter jitter;
} sb_backoff;

/* Delay before attempt n (0-based). rng may be NULL when jitter is NONE. */
int64_t sb_backoff_delay(const sb_backoff *b, uint32_t n, sb_rng *rng);
/* Parses "none" | "full" | "equal"; returns -1 for anything else. */
int sb_jitter_parse(const char *s);

#endif
