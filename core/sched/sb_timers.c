#include "sb_timers.h"

#include "../util/sb_alloc.h"

/* An id names a slot in `slots` plus the slot's generation at the time:
 * id = generation << 32 | (slot + 1). Cancel finds the heap position through
 * the slot in O(1) and a stale id (fired, cancelled, slot reused) no longer
 * matches the generation. The low half is never 0, so no id is 0. */

typedef struct tm_entry {
    int64_t deadline;
    uint64_t seq; /* order of insertion: breaks deadline ties */
    uint64_t tag;
    uint32_t slot;
} tm_entry;

typedef struct tm_slot {
    uint32_t gen;
    uint32_t pos; /* heap position while live; next free slot while free */
} tm_slot;

#define SLOT_NONE UINT32_MAX

struct sb_timers {
    tm_entry *heap;
    size_t len, cap;
    tm_slot *slots;
    uint32_t nslots, slots_cap;
    uint32_t free_head; /* SLOT_NONE when no slot is free */
    uint64_t next_seq;
};

sb_timers *sb_timers_new(void)
{
    sb_timers *t = sb_calloc(1, sizeof *t);
    if (t)
        t->free_head = SLOT_NONE;
    return t;
}

void sb_timers_free(sb_timers *t)
{
    if (!t)
        return;
    sb_free(t->heap);
    sb_free(t->slots);
    sb_free(t);
}

int64_t sb_timers_deadline(int64_t now_ms, int64_t delay_ms)
{
    /* A negative delay means "already due": it never moves a deadline before now. */
    if (delay_ms <= 0)
        return now_ms;
    if (now_ms > INT64_MAX - delay_ms)
        return INT64_MAX;
    return now_ms + delay_ms;
}

static bool tm_before(const tm_entry *a, const tm_entry *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void tm_place(sb_timers *t, size_t pos, tm_entry e)
{
    t->heap[pos] = e;
    t->slots[e.slot].pos = (uint32_t)pos;
}

static void tm_sift_up(sb_timers *t, size_t pos)
{
    tm_entry e = t->heap[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (!tm_before(&e, &t->heap[parent]))
            break;
        tm_place(t, pos, t->heap[parent]);
        pos = parent;
    }
    tm_place(t, pos, e);
}

static void tm_sift_down(sb_timers *t, size_t pos)
{
    tm_entry e = t->heap[pos];
    for (;;) {
        size_t child = 2 * pos + 1;
        if (child >= t->len)
            break;
        if (child + 1 < t->len && tm_before(&t->heap[child + 1], &t->heap[child]))
            child++;
        if (!tm_before(&t->heap[child], &e))
            break;
        tm_place(t, pos, t->heap[child]);
        pos = child;
    }
    tm_place(t, pos, e);
}

/* Grows both arrays before anything changes, so OOM leaves the set intact. */
static bool tm_reserve(sb_timers *t)
{
    if (t->len == t->cap) {
        if (t->cap >= SLOT_NONE / 2)
            return false;
        size_t cap = t->cap ? t->cap * 2 : 16;
        tm_entry *h = sb_realloc(t->heap, cap * sizeof *h);
        if (!h)
            return false;
        t->heap = h;
        t->cap = cap;
    }
    if (t->free_head == SLOT_NONE && t->nslots == t->slots_cap) {
        uint32_t cap = t->slots_cap ? t->slots_cap * 2 : 16;
        tm_slot *s = sb_realloc(t->slots, (size_t)cap * sizeof *s);
        if (!s)
            return false;
        t->slots = s;
        t->slots_cap = cap;
    }
    return true;
}

uint64_t sb_timers_add(sb_timers *t, int64_t deadline_ms, uint64_t tag)
{
    if (!t || !tm_reserve(t))
        return 0;
    uint32_t slot;
    if (t->free_head != SLOT_NONE) {
        slot = t->free_head;
        t->free_head = t->slots[slot].pos;
    } else {
        slot = t->nslots++;
        t->slots[slot].gen = 0;
    }
    tm_entry e = {deadline_ms, t->next_seq++, tag, slot};
    t->heap[t->len++] = e;
    tm_sift_up(t, t->len - 1);
    return (uint64_t)t->slots[slot].gen << 32 | ((uint64_t)slot + 1);
}

static void tm_release(sb_timers *t, uint32_t slot)
{
    t->slots[slot].gen++;
    t->slots[slot].pos = t->free_head;
    t->free_head = slot;
}

static void tm_remove_at(sb_timers *t, size_t pos)
{
    tm_release(t, t->heap[pos].slot);
    t->len--;
    if (pos == t->len)
        return;
    /* The last entry fills the hole and moves whichever way restores order. */
    tm_place(t, pos, t->heap[t->len]);
    if (pos > 0 && tm_before(&t->heap[pos], &t->heap[(pos - 1) / 2]))
        tm_sift_up(t, pos);
    else
        tm_sift_down(t, pos);
}

bool sb_timers_cancel(sb_timers *t, uint64_t id)
{
    if (!t || (uint32_t)id == 0)
        return false;
    uint32_t slot = (uint32_t)id - 1;
    if (slot >= t->nslots || t->slots[slot].gen != (uint32_t)(id >> 32))
        return false;
    size_t pos = t->slots[slot].pos;
    /* A free slot's pos is a free-list link; only a live one points back. */
    if (pos >= t->len || t->heap[pos].slot != slot)
        return false;
    tm_remove_at(t, pos);
    return true;
}

int64_t sb_timers_next(const sb_timers *t) { return t && t->len ? t->heap[0].deadline : INT64_MAX; }

bool sb_timers_pop_due(sb_timers *t, int64_t now_ms, uint64_t *tag, uint64_t *id)
{
    if (!t || t->len == 0 || t->heap[0].deadline > now_ms)
        return false;
    uint32_t slot = t->heap[0].slot;
    if (tag)
        *tag = t->heap[0].tag;
    if (id)
        *id = (uint64_t)t->slots[slot].gen << 32 | ((uint64_t)slot + 1);
    tm_remove_at(t, 0);
    return true;
}

size_t sb_timers_count(const sb_timers *t) { return t ? t->len : 0; }
