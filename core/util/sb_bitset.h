/* A fixed-size set of small integers [0, n) that yields its lowest member
 * quickly: the "ready" set of a DAG walk that must take the lowest-numbered
 * ready node first (declaration order) without scanning every node each time.
 *
 * Ownership: the set owns its words; sb_bitset_free releases them (NULL-safe
 * on a zeroed set). Header-only: the functions are small and called in loops.
 *
 * Cost: add and remove O(1); sb_bitset_lowest is amortised O(n/64) per call
 * in the worst case and O(1) when members are taken in increasing order. */
#ifndef SB_BITSET_H
#define SB_BITSET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_alloc.h"

typedef struct sb_bitset {
    uint64_t *w;
    size_t nwords;
    size_t lo; /* no member lives in a word below lo */
} sb_bitset;

/* false when memory ran out (the set is then empty and unusable). */
static inline bool sb_bitset_init(sb_bitset *s, size_t n)
{
    s->nwords = (n + 63) / 64;
    s->w = (uint64_t *)sb_calloc(s->nwords ? s->nwords : 1, sizeof *s->w);
    s->lo = s->nwords;
    return s->w != NULL;
}

static inline void sb_bitset_free(sb_bitset *s)
{
    sb_free(s->w);
    s->w = NULL;
    s->nwords = s->lo = 0;
}

static inline void sb_bitset_add(sb_bitset *s, size_t i)
{
    s->w[i / 64] |= (uint64_t)1 << (i % 64);
    if (i / 64 < s->lo)
        s->lo = i / 64;
}

static inline void sb_bitset_remove(sb_bitset *s, size_t i) { s->w[i / 64] &= ~((uint64_t)1 << (i % 64)); }

static inline bool sb_bitset_has(const sb_bitset *s, size_t i) { return (s->w[i / 64] >> (i % 64)) & 1; }

/* The lowest member, or (size_t)-1 when the set is empty. */
static inline size_t sb_bitset_lowest(sb_bitset *s)
{
    while (s->lo < s->nwords && s->w[s->lo] == 0)
        s->lo++;
    if (s->lo == s->nwords)
        return (size_t)-1;
    return s->lo * 64 + (size_t)__builtin_ctzll(s->w[s->lo]);
}

#endif
