#include "sb_rng.h"

/* xoshiro256** 1.0 and splitmix64 as published by Blackman and Vigna
 * (prng.di.unimi.it): integer-only, so every platform draws the same numbers. */

static uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sb_rng_seed(sb_rng *r, uint64_t seed)
{
    /* splitmix64 never yields four zero words, the one state xoshiro must avoid. */
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix64(&seed);
}

uint64_t sb_rng_next(sb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

double sb_rng_unit(sb_rng *r) { return (double)(sb_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t sb_rng_below(sb_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Reject the lowest 2^64 mod n draws so every residue is equally likely
     * (no 128-bit multiply needed, which keeps wasm32 simple). */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = sb_rng_next(r);
        if (x >= threshold)
            return x % n;
    }
}
