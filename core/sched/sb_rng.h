/* A seeded generator (xoshiro256** seeded through splitmix64): the only
 * source of randomness in the core, so a run is reproducible from its seed
 * and identical on every platform. A plain value type: copy it to fork. */
#ifndef SB_RNG_H
#define SB_RNG_H
#include <stdint.h>

typedef struct sb_rng {
    uint64_t s[4];
} sb_rng;

void sb_rng_seed(sb_rng *r, uint64_t seed);
uint64_t sb_rng_next(sb_rng *r);
/* Uniform in [0, 1), 53 random bits. */
double sb_rng_unit(sb_rng *r);
/* Uniform in [0, n) without modulo bias; 0 when n == 0. */
uint64_t sb_rng_below(sb_rng *r, uint64_t n);

#endif
