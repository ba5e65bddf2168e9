/* Virtual time: the running set as a min-heap of end times, the FIFO queue,
 * and the per-handle change log. Nothing here allocates: submission reserved
 * all the room (see sb_csim_int.h), so time can always advance. */
#include "sb_csim_int.h"

static int64_t end_ms(const csim_job *j)
{
    return j->started_ms > INT64_MAX - j->run_ms ? INT64_MAX : j->started_ms + j->run_ms;
}

/* (end time, submission order): ties end in the order the jobs were
 * submitted, which keeps the transcript deterministic. */
static bool before(const sb_csim *s, uint32_t a, uint32_t b)
{
    int64_t ea = end_ms(&s->jobs[a]), eb = end_ms(&s->jobs[b]);
    return ea != eb ? ea < eb : a < b;
}

static void heap_place(sb_csim *s, size_t pos, uint32_t i)
{
    s->heap[pos] = i;
    s->jobs[i].heap_pos = (int32_t)pos;
}

static void sift_up(sb_csim *s, size_t pos)
{
    uint32_t i = s->heap[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (!before(s, i, s->heap[parent]))
            break;
        heap_place(s, pos, s->heap[parent]);
        pos = parent;
    }
    heap_place(s, pos, i);
}

static void sift_down(sb_csim *s, size_t pos)
{
    uint32_t i = s->heap[pos];
    for (;;) {
        size_t c = 2 * pos + 1;
        if (c >= s->nheap)
            break;
        if (c + 1 < s->nheap && before(s, s->heap[c + 1], s->heap[c]))
            c++;
        if (!before(s, s->heap[c], i))
            break;
        heap_place(s, pos, s->heap[c]);
        pos = c;
    }
    heap_place(s, pos, i);
}

void sb_csim__heap_remove(sb_csim *s, uint32_t i)
{
    int32_t pos = s->jobs[i].heap_pos;
    if (pos < 0)
        return;
    s->jobs[i].heap_pos = -1;
    uint32_t last = s->heap[--s->nheap];
    if ((size_t)pos == s->nheap)
        return;
    heap_place(s, (size_t)pos, last);
    sift_up(s, (size_t)pos);
    sift_down(s, (size_t)s->jobs[last].heap_pos);
}

void sb_csim__set_status(sb_csim *s, uint32_t i, int status, int64_t t)
{
    csim_job *j = &s->jobs[i];
    csim_handle *h = s->handles[j->handle];
    if (j->status < CSIM_NSTATUS)
        h->counts[j->status]--;
    if (j->status == CSIM_RUNNING)
        sb_csim__heap_remove(s, i);
    j->status = (uint8_t)status;
    h->counts[status]++;
    if (status == CSIM_QUEUED) {
        j->submitted_ms = t;
    } else if (status == CSIM_RUNNING) {
        j->started_ms = t;
        s->nheap++;
        heap_place(s, s->nheap - 1, i);
        sift_up(s, s->nheap - 1);
    } else {
        j->finished_ms = t;
    }
    j->last_change = (uint32_t)h->nlog;
    h->log[h->nlog++] = i;
}

void sb_csim__fill_slots(sb_csim *s, int64_t t)
{
    while (s->nheap < (size_t)s->opt.max_concurrent && s->queue_head < s->njobs) {
        uint32_t i = (uint32_t)s->queue_head++;
        if (s->jobs[i].status == CSIM_QUEUED)
            sb_csim__set_status(s, i, CSIM_RUNNING, t);
    }
}

void sb_csim__advance(sb_csim *s, int64_t now)
{
    /* Times live in [0, 2^62] so that -1 can mean "not yet" and sums and
     * differences of times cannot overflow. */
    if (now < 0)
        now = 0;
    if (now > CSIM_MAX_MS)
        now = CSIM_MAX_MS;
    if (now < s->now)
        now = s->now;
    s->now = now;
    while (s->nheap > 0) {
        uint32_t i = s->heap[0];
        int64_t t = end_ms(&s->jobs[i]);
        if (t > now)
            break;
        sb_csim__set_status(s, i, s->jobs[i].outcome == CSIM_OUT_OK ? CSIM_COMPLETED : CSIM_FAILED, t);
        sb_csim__fill_slots(s, t);
    }
}

int64_t sb_csim_next_event_ms(const sb_csim *s, int64_t now_ms)
{
    if (!s || s->nheap == 0)
        return -1;
    int64_t t = end_ms(&s->jobs[s->heap[0]]);
    return t > now_ms ? t : now_ms;
}
