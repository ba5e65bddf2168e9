/* The set of combinations already planned, as mixed-radix indices. Open
 * addressing with linear probing and backward-shift deletion (no tombstones),
 * so a plan that swaps levels between trials millions of times keeps short
 * probe sequences. Sized once for the most trials a plan may hold. */
#include "sb_solver_int.h"

#include "../util/sb_alloc.h"

static size_t slot_of(const sb_solver_set *s, uint64_t key)
{
    /* splitmix64's finalizer: mixed-radix indices are far from random. */
    uint64_t z = key;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (size_t)z & (s->cap - 1);
}

bool sb_solver__set_reserve(sb_solver_set *s, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2) {
        if (cap > (size_t)-1 / 4 / sizeof *s->slots)
            return false;
        cap *= 2;
    }
    if (cap <= s->cap)
        return true;
    uint64_t *slots = sb_calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    sb_solver_set old = *s;
    s->slots = slots;
    s->cap = cap;
    s->len = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i])
            sb_solver__set_add(s, old.slots[i] - 1);
    sb_free(old.slots);
    return true;
}

bool sb_solver__set_has(const sb_solver_set *s, uint64_t key)
{
    if (!s->cap)
        return false;
    for (size_t i = slot_of(s, key);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slots[i])
            return false;
        if (s->slots[i] == key + 1)
            return true;
    }
}

void sb_solver__set_add(sb_solver_set *s, uint64_t key)
{
    size_t i = slot_of(s, key);
    while (s->slots[i]) {
        if (s->slots[i] == key + 1)
            return;
        i = (i + 1) & (s->cap - 1);
    }
    s->slots[i] = key + 1;
    s->len++;
}

void sb_solver__set_remove(sb_solver_set *s, uint64_t key)
{
    if (!s->cap)
        return;
    size_t i = slot_of(s, key);
    while (s->slots[i] != key + 1) {
        if (!s->slots[i])
            return;
        i = (i + 1) & (s->cap - 1);
    }
    /* Backward shift: move later entries of the run into the hole when their
     * home slot does not lie cyclically in (hole, j]. */
    size_t hole = i, mask = s->cap - 1;
    for (size_t j = (hole + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        size_t home = slot_of(s, s->slots[j] - 1);
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            s->slots[hole] = s->slots[j];
            hole = j;
        }
    }
    s->slots[hole] = 0;
    s->len--;
}

void sb_solver__set_free(sb_solver_set *s)
{
    sb_free(s->slots);
    s->slots = NULL;
    s->cap = s->len = 0;
}
