/* Growing an array: the one place the core decides how a dynamic array
 * grows (doubling), with the size arithmetic checked for overflow.
 *
 * Ownership, stated once: the array belongs to the caller, who frees it with
 * sb_free; sb_grow only resizes it through sb_realloc. On failure (out of
 * memory, or a size that does not fit size_t) it returns false and leaves
 * both the array and its capacity exactly as they were, so the caller's
 * elements are intact and it can report the failure and carry on.
 *
 *   if (!SB_GROW(d->items, d->cap, d->len + 1))
 *       return oom(d);
 *   d->items[d->len++] = x; */
#ifndef SB_GROW_H
#define SB_GROW_H
#include <stdbool.h>
#include <stddef.h>

/* Makes room for at least `need` elements of elem_size bytes (elem_size > 0).
 * itemsp is the address of the array pointer (a T **, NULL array allowed at
 * capacity 0); *cap is its capacity in elements. Nothing happens when need <=
 * *cap. Otherwise the capacity becomes the larger of need and twice the old
 * capacity (at least 8 elements and 64 bytes the first time), capped at the
 * largest count whose size fits size_t. */
bool sb_grow(void *itemsp, size_t *cap, size_t need, size_t elem_size);

/* sb_grow for an array lvalue `items` and a size_t lvalue `cap`. */
#define SB_GROW(items, cap, need) sb_grow(&(items), &(cap), (need), sizeof *(items))

#endif
