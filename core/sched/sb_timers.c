#include "sb_timers.h"

#include "../util/sb_alloc.h"
#include "../util/sb_heap.h"

/* The heap does the ordering and the ids; a timer's seq is the order it was
 * set in, so timers with equal deadlines fire in that order. */
struct sb_timers {
    sb_heap heap; /* key deadline, value tag */
    uint64_t next_seq;
};

sb_timers *sb_timers_new(void) { return sb_calloc(1, sizeof(sb_timers)); }

void sb_timers_free(sb_timers *t)
{
    if (!t)
        return;
    sb_heap_free(&t->heap);
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

uint64_t sb_timers_add(sb_timers *t, int64_t deadline_ms, uint64_t tag)
{
    if (!t)
        return 0;
    uint64_t id = sb_heap_push(&t->heap, deadline_ms, t->next_seq, tag);
    if (id)
        t->next_seq++;
    return id;
}

bool sb_timers_cancel(sb_timers *t, uint64_t id) { return t && sb_heap_remove(&t->heap, id, NULL); }

int64_t sb_timers_next(const sb_timers *t)
{
    const sb_heap_entry *e = t ? sb_heap_top(&t->heap) : NULL;
    return e ? e->key : INT64_MAX;
}

bool sb_timers_pop_due(sb_timers *t, int64_t now_ms, uint64_t *tag, uint64_t *id)
{
    const sb_heap_entry *top = t ? sb_heap_top(&t->heap) : NULL;
    if (!top || top->key > now_ms)
        return false;
    sb_heap_entry e;
    sb_heap_pop(&t->heap, &e, id);
    if (tag)
        *tag = e.value;
    return true;
}

size_t sb_timers_count(const sb_timers *t) { return t ? sb_heap_len(&t->heap) : 0; }
