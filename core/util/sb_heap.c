#include "sb_heap.h"

#include <string.h>

#include "sb_alloc.h"
#include "sb_grow.h"

/* An id names a slot plus the slot's generation when the entry was pushed:
 * id = generation << 32 | (slot + 1). The slot holds the entry's position in
 * the heap while it is live and the next free slot (+ 1) while it is free;
 * releasing a slot bumps its generation, so an old id no longer matches. The
 * low half is never 0, so no id is 0. */

struct sb_heap_node {
    sb_heap_entry e;
    uint32_t slot;
};

struct sb_heap_slot {
    uint32_t gen;
    uint32_t pos; /* heap position while live; next free slot + 1 while free */
};

/* Slot numbers (and so heap sizes) stay below this: slot + 1 fits 32 bits. */
#define MAX_ENTRIES ((size_t)UINT32_MAX - 1)

void sb_heap_free(sb_heap *h)
{
    if (!h)
        return;
    sb_free(h->nodes);
    sb_free(h->slots);
    memset(h, 0, sizeof *h);
}

static bool before(const sb_heap_entry *a, const sb_heap_entry *b)
{
    return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static void place(sb_heap *h, size_t pos, sb_heap_node n)
{
    h->nodes[pos] = n;
    h->slots[n.slot].pos = (uint32_t)pos;
}

static void sift_up(sb_heap *h, size_t pos)
{
    sb_heap_node n = h->nodes[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (!before(&n.e, &h->nodes[parent].e))
            break;
        place(h, pos, h->nodes[parent]);
        pos = parent;
    }
    place(h, pos, n);
}

static void sift_down(sb_heap *h, size_t pos)
{
    sb_heap_node n = h->nodes[pos];
    for (;;) {
        size_t child = 2 * pos + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && before(&h->nodes[child + 1].e, &h->nodes[child].e))
            child++;
        if (!before(&h->nodes[child].e, &n.e))
            break;
        place(h, pos, h->nodes[child]);
        pos = child;
    }
    place(h, pos, n);
}

/* After the entry at pos changed or was replaced: move it whichever way
 * restores the order. */
static void fix(sb_heap *h, size_t pos)
{
    if (pos > 0 && before(&h->nodes[pos].e, &h->nodes[(pos - 1) / 2].e))
        sift_up(h, pos);
    else
        sift_down(h, pos);
}

bool sb_heap_reserve(sb_heap *h, size_t n)
{
    if (n > MAX_ENTRIES)
        return false;
    /* Slots in use never outnumber live entries: a new slot is made only
     * when none is free, i.e. when every slot holds a live entry. */
    return SB_GROW(h->nodes, h->cap, n) && SB_GROW(h->slots, h->slots_cap, n);
}

static uint64_t id_of(const sb_heap *h, uint32_t slot)
{
    return (uint64_t)h->slots[slot].gen << 32 | ((uint64_t)slot + 1);
}

uint64_t sb_heap_push(sb_heap *h, int64_t key, uint64_t seq, uint64_t value)
{
    /* Both arrays grow before anything changes, so OOM leaves the heap intact. */
    if (!h || h->len >= MAX_ENTRIES || !SB_GROW(h->nodes, h->cap, h->len + 1))
        return 0;
    if (!h->free_slot && !SB_GROW(h->slots, h->slots_cap, h->nslots + 1))
        return 0;
    uint32_t slot;
    if (h->free_slot) {
        slot = h->free_slot - 1;
        h->free_slot = h->slots[slot].pos;
    } else {
        slot = (uint32_t)h->nslots++;
        h->slots[slot].gen = 0;
    }
    h->nodes[h->len++] = (sb_heap_node){{key, seq, value}, slot};
    sift_up(h, h->len - 1);
    return id_of(h, slot);
}

const sb_heap_entry *sb_heap_top(const sb_heap *h) { return h && h->len ? &h->nodes[0].e : NULL; }

size_t sb_heap_len(const sb_heap *h) { return h ? h->len : 0; }

static void remove_at(sb_heap *h, size_t pos, sb_heap_entry *e, uint64_t *id)
{
    uint32_t slot = h->nodes[pos].slot;
    if (e)
        *e = h->nodes[pos].e;
    if (id)
        *id = id_of(h, slot);
    h->slots[slot].gen++;
    h->slots[slot].pos = h->free_slot;
    h->free_slot = slot + 1;
    h->len--;
    if (pos == h->len)
        return;
    /* The last entry fills the hole. */
    place(h, pos, h->nodes[h->len]);
    fix(h, pos);
}

bool sb_heap_pop(sb_heap *h, sb_heap_entry *e, uint64_t *id)
{
    if (!h || h->len == 0)
        return false;
    remove_at(h, 0, e, id);
    return true;
}

/* The position of live entry id, or SIZE_MAX. */
static size_t find(const sb_heap *h, uint64_t id)
{
    if (!h || (uint32_t)id == 0)
        return SIZE_MAX;
    size_t slot = (uint32_t)id - 1;
    if (slot >= h->nslots || h->slots[slot].gen != (uint32_t)(id >> 32))
        return SIZE_MAX;
    /* A free slot's pos is a free-list link; only a live one points back. */
    size_t pos = h->slots[slot].pos;
    return pos < h->len && h->nodes[pos].slot == slot ? pos : SIZE_MAX;
}

bool sb_heap_remove(sb_heap *h, uint64_t id, sb_heap_entry *e)
{
    size_t pos = find(h, id);
    if (pos == SIZE_MAX)
        return false;
    remove_at(h, pos, e, NULL);
    return true;
}

bool sb_heap_rekey(sb_heap *h, uint64_t id, int64_t key)
{
    size_t pos = find(h, id);
    if (pos == SIZE_MAX)
        return false;
    h->nodes[pos].e.key = key;
    fix(h, pos);
    return true;
}

int64_t sb_heap_key_of_double(double d)
{
    if (d == 0)
        d = 0.0; /* -0.0 == 0.0 */
    int64_t bits;
    memcpy(&bits, &d, sizeof bits);
    /* IEEE doubles order like their bit patterns read as sign-magnitude
     * integers; flipping the magnitude bits of negatives makes that two's
     * complement order. */
    return bits < 0 ? bits ^ INT64_MAX : bits;
}
