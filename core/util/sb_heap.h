/* sb_heap: a binary min-heap of entries ordered by (key, seq), after libuv's
 * timer heap. The key is what orders (a deadline in ms, a priority); seq is
 * the owner's tie-break, so entries with equal keys leave in seq order and the
 * order never depends on the heap's shape: with distinct seqs (a counter, an
 * index) every pop sequence is fully determined by the entries, which is what
 * keeps timers, the simulated Conductor and the Solver deterministic.
 *
 * Each entry gets an id at push (never 0) that names it until it leaves; remove
 * and rekey find it in O(1) and reject an id whose entry has left, even when
 * the storage was reused (ids carry a generation).
 *
 * Ownership, stated once: the heap owns its two arrays and nothing else
 * (value is the owner's, opaque here). Embed it zeroed (SB_HEAP_INIT), release
 * it with sb_heap_free. Only sb_heap_reserve and sb_heap_push allocate; on
 * failure they change nothing. After sb_heap_reserve(h, n), pushes while fewer
 * than n entries are in the heap cannot fail. */
#ifndef SB_HEAP_H
#define SB_HEAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sb_heap_entry {
    int64_t key;    /* smaller leaves first */
    uint64_t seq;   /* breaks key ties: smaller leaves first */
    uint64_t value; /* the owner's */
} sb_heap_entry;

typedef struct sb_heap_node sb_heap_node; /* private */
typedef struct sb_heap_slot sb_heap_slot; /* private */

/* Fields are private; a zeroed struct is an empty heap. */
typedef struct sb_heap {
    sb_heap_node *nodes;
    size_t len, cap;
    sb_heap_slot *slots;
    size_t nslots, slots_cap;
    uint32_t free_slot; /* first free slot + 1; 0 when none */
} sb_heap;

#define SB_HEAP_INIT {NULL, 0, 0, NULL, 0, 0, 0}

void sb_heap_free(sb_heap *h); /* frees the arrays and leaves h empty; NULL-safe */

/* Room for n entries in all; false on OOM. */
bool sb_heap_reserve(sb_heap *h, size_t n);
/* Adds an entry; returns its id (never 0), or 0 on OOM. */
uint64_t sb_heap_push(sb_heap *h, int64_t key, uint64_t seq, uint64_t value);
/* The first entry, or NULL when empty; valid until the next change. */
const sb_heap_entry *sb_heap_top(const sb_heap *h);
/* Removes the first entry: stores it and its id (either may be NULL) and
 * returns true; false when empty. */
bool sb_heap_pop(sb_heap *h, sb_heap_entry *e, uint64_t *id);
/* Removes entry id, storing it in e (may be NULL); false if it is not in the
 * heap (already left, or never was). */
bool sb_heap_remove(sb_heap *h, uint64_t id, sb_heap_entry *e);
/* Gives entry id a new key (seq and value stay); false if it is not in the heap. */
bool sb_heap_rekey(sb_heap *h, uint64_t id, int64_t key);
size_t sb_heap_len(const sb_heap *h);

/* A key that orders like d does for every d but NaN (-0.0 and 0.0 are
 * equal), for heaps whose priority is a double. */
int64_t sb_heap_key_of_double(double d);

#endif
