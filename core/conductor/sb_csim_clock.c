/* Virtual time: the running set as a min-heap of end times, the FIFO queue,
 * and the per-handle change log. Nothing here allocates: submission reserved
 * all the room (see sb_csim_int.h), so time can always advance. */
#include "sb_csim_int.h"

#include <math.h>

static int64_t end_ms(const csim_job *j)
{
    return j->started_ms > INT64_MAX - j->run_ms ? INT64_MAX : j->started_ms + j->run_ms;
}

/* Ties end in the order the jobs were submitted (seq = job index), which
 * keeps the transcript deterministic. The heap never allocates here: create
 * reserved max_concurrent entries and fill_slots never runs more. */
void sb_csim__heap_remove(sb_csim *s, uint32_t i)
{
    sb_heap_remove(&s->running, s->jobs[i].run_id, NULL);
    s->jobs[i].run_id = 0;
}

int64_t sb_csim__charge_cents(const sb_csim *s, const csim_job *j, int64_t ms)
{
    int64_t c = (int64_t)llround(sb_csim__cost(s, ms) * 100);
    return c < j->cap_cents ? c : j->cap_cents;
}

void sb_csim__set_status(sb_csim *s, uint32_t i, int status, int64_t t)
{
    csim_job *j = &s->jobs[i];
    csim_handle *h = s->handles[j->handle];
    if (j->status < CSIM_NSTATUS)
        h->counts[j->status]--;
    if (j->status == CSIM_RUNNING) {
        sb_csim__heap_remove(s, i);
        /* Settle before anything else starts: the money a job leaves
         * unspent under its cap is what lets the next one fit. */
        h->running_caps_cents = sb_csim__add_cents(h->running_caps_cents, -j->cap_cents);
        /* An external job is charged for the time its host reported. */
        int64_t ran = s->exec ? j->run_ms : t - j->started_ms;
        h->spent_cents = sb_csim__add_cents(h->spent_cents, sb_csim__charge_cents(s, j, ran));
    } else if (status == CSIM_RUNNING && !s->exec) {
        /* (an external job took its cap when it was launched) */
        h->running_caps_cents = sb_csim__add_cents(h->running_caps_cents, j->cap_cents);
    }
    j->status = (uint8_t)status;
    h->counts[status]++;
    if (status == CSIM_QUEUED) {
        j->submitted_ms = t;
    } else if (status == CSIM_RUNNING) {
        j->started_ms = t;
        j->run_id = sb_heap_push(&s->running, end_ms(j), i, i);
    } else {
        j->finished_ms = t;
    }
    j->last_change = (uint32_t)h->nlog;
    h->log[h->nlog++] = i;
}

/* The start rule: spent + caps of running jobs + its cap within the budget. */
static bool fits(const sb_csim *s, const csim_job *j)
{
    const csim_handle *h = s->handles[j->handle];
    return h->budget_cents == CSIM_NO_BUDGET ||
           sb_csim__add_cents(sb_csim__add_cents(h->spent_cents, h->running_caps_cents), j->cap_cents) <= h->budget_cents;
}

static void skip_started(sb_csim *s)
{
    while (s->queue_head < s->njobs &&
           (s->jobs[s->queue_head].status != CSIM_QUEUED || s->jobs[s->queue_head].launched))
        s->queue_head++;
}

/* Free slots go to queued jobs in submission order, across handles. A job
 * whose cap does not fit its handle's budget keeps its place and is passed
 * over (a smaller one behind it may fit), until its handle has nothing
 * running: then no money can come back (spent only grows) and it never
 * will fit, so it ends cancelled as unstarted. Without budgets this is the
 * plain FIFO: the scan stops as soon as the slots are full. */
void sb_csim__fill_slots(sb_csim *s, int64_t t)
{
    skip_started(s);
    bool ext = s->exec != NULL;
    size_t slots = (size_t)s->opt.max_concurrent;
    for (size_t i = s->queue_head; i < s->njobs && (ext ? s->slots_used : sb_heap_len(&s->running)) < slots; i++) {
        csim_job *j = &s->jobs[i];
        if (j->status != CSIM_QUEUED || j->launched)
            continue;
        if (fits(s, j)) {
            if (ext)
                s->exec->launch(s, (uint32_t)i, t);
            else
                sb_csim__set_status(s, (uint32_t)i, CSIM_RUNNING, t);
        } else if (ext ? s->handles[j->handle]->running_caps_cents == 0
                       : s->handles[j->handle]->counts[CSIM_RUNNING] == 0) {
            j->unstarted = true;
            sb_csim__set_status(s, (uint32_t)i, CSIM_CANCELLED, t);
        }
    }
    skip_started(s);
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
    if (s->exec) {
        s->exec->advance(s);
        return;
    }
    const sb_heap_entry *first;
    while ((first = sb_heap_top(&s->running)) && first->key <= now) {
        uint32_t i = (uint32_t)first->value;
        int64_t t = first->key;
        sb_csim__set_status(s, i, s->jobs[i].outcome == CSIM_OUT_OK ? CSIM_COMPLETED : CSIM_FAILED, t);
        sb_csim__fill_slots(s, t);
    }
}

int64_t sb_csim_next_event_ms(const sb_csim *s, int64_t now_ms)
{
    const sb_heap_entry *first = s ? sb_heap_top(&s->running) : NULL;
    if (!first)
        return -1;
    int64_t t = first->key;
    return t > now_ms ? t : now_ms;
}
