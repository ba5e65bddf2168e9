#include "sb_ledger.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"

/* Amounts are int64 micro-dollars (1 USD = 1,000,000). Converting a USD
 * double rounds to the nearest micro-dollar, so 25.20 is exactly 25200000 and
 * 18 of them sum to exactly 453600000. Negative or non-finite amounts count as
 * 0 (a cost cannot refund the budget); sums saturate instead of wrapping. */
#define MICRO_PER_USD 1000000
#define MICRO_PER_CENT 10000
#define MICRO_MAX ((int64_t)1 << 62) /* ~4.6e12 USD: far above any budget */

/* A job is known by (handle id, job id): two handles of one run may both
 * number their jobs job_001, job_002, ... */
typedef struct lg_job {
    char *handle; /* owned: "handle\0job\0" in one allocation */
    const char *id; /* the job id, inside that allocation */
    uint64_t hash;
    int64_t estimate; /* micro-dollars */
    int64_t cap;      /* micro-dollars; the most the Conductor may charge */
    int64_t held;     /* what `committed` holds for it until settled */
    int64_t actual;   /* micro-dollars, once settled */
    uint32_t hs;      /* its handle's entry in handles */
    bool is_retry;
    bool adopted; /* submitted by someone else; this run followed it (sb_ledger_adopt) */
    bool settled;
    bool started;
    sb_ledger_outcome outcome;
} lg_job;

typedef struct lg_skip {
    char *id; /* owned */
    char *reason; /* owned */
    int64_t estimate;
} lg_skip;

/* Per handle: its budget at the Conductor and its sums, kept as jobs are
 * committed and settled so a grant costs O(handles). Handles are few. */
typedef struct lg_handle {
    char *id; /* owned */
    int64_t budget;
    bool granted;
    int64_t spent, held, open;
} lg_handle;

struct sb_ledger {
    int64_t budget, spent, committed;
    bool unlimited; /* no budget: budget holds MICRO_MAX and is never shown */
    lg_job *jobs;
    size_t njobs, jobs_cap;
    /* Open addressing over jobs: slot holds job index + 1, 0 = empty. Jobs are
     * never removed, so linear probing needs no tombstones. */
    uint32_t *index;
    size_t index_cap; /* power of two, or 0 */
    lg_skip *skips;
    size_t nskips, skips_cap;
    lg_handle *handles;
    size_t nhandles, handles_cap;
    int64_t unstarted_estimate;
    /* Kept as jobs settle, so a breakdown costs the same at 100,000 jobs as
     * at 10: by category (completed originals, failed or cancelled originals,
     * retries) and by outcome. */
    int64_t settled_micro[3];
    int64_t outcomes[SB_LEDGER_STOPPED_EARLY + 1];
    int64_t stopped_micro;
    int64_t stopped_early_micro; /* charged to jobs the stopping rule ended */
    int64_t nsettled, nretries;
    int64_t nadopted, adopted_micro; /* adopted jobs, and what those settled cost */
};

enum { LG_OK, LG_FAILED, LG_RETRY };

static int64_t lg_micro(double usd)
{
    if (!(usd > 0)) /* also NaN */
        return 0;
    double m = round(usd * MICRO_PER_USD);
    return m >= (double)MICRO_MAX ? MICRO_MAX : (int64_t)m;
}

static double lg_usd(int64_t micro) { return (double)micro / MICRO_PER_USD; }

static int64_t lg_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static uint64_t lg_hash(const char *handle, const char *id)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a over handle, a 0 byte, id */
    for (const char *s = handle; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    h *= 1099511628211ULL;
    for (const char *s = id; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

sb_ledger *sb_ledger_new(double budget_usd)
{
    sb_ledger *l = sb_calloc(1, sizeof *l);
    if (l) {
        l->unlimited = isinf(budget_usd) && budget_usd > 0;
        l->budget = l->unlimited ? MICRO_MAX : lg_micro(budget_usd);
    }
    return l;
}

void sb_ledger_free(sb_ledger *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->njobs; i++)
        sb_free(l->jobs[i].handle);
    for (size_t i = 0; i < l->nskips; i++) {
        sb_free(l->skips[i].id);
        sb_free(l->skips[i].reason);
    }
    for (size_t i = 0; i < l->nhandles; i++)
        sb_free(l->handles[i].id);
    sb_free(l->handles);
    sb_free(l->jobs);
    sb_free(l->index);
    sb_free(l->skips);
    sb_free(l);
}

static lg_job *lg_find(const sb_ledger *l, const char *handle, const char *id, uint64_t h)
{
    if (!l->index)
        return NULL;
    size_t mask = l->index_cap - 1;
    for (size_t s = (size_t)h & mask; l->index[s]; s = (s + 1) & mask) {
        lg_job *j = &l->jobs[l->index[s] - 1];
        if (j->hash == h && strcmp(j->id, id) == 0 && strcmp(j->handle, handle) == 0)
            return j;
    }
    return NULL;
}

static void lg_index_put(uint32_t *index, size_t cap, uint64_t h, size_t job)
{
    size_t s = (size_t)h & (cap - 1);
    while (index[s])
        s = (s + 1) & (cap - 1);
    index[s] = (uint32_t)job + 1;
}

/* Makes room for one more job (array and index at most half full) without
 * changing anything the ledger reports, so a failure here leaves it intact. */
static bool lg_reserve(sb_ledger *l)
{
    if (l->njobs >= UINT32_MAX / 4)
        return false;
    if (!SB_GROW(l->jobs, l->jobs_cap, l->njobs + 1))
        return false;
    if ((l->njobs + 1) * 2 > l->index_cap) {
        size_t cap = l->index_cap ? l->index_cap * 2 : 32;
        uint32_t *idx = sb_calloc(cap, sizeof *idx);
        if (!idx)
            return false;
        for (size_t i = 0; i < l->njobs; i++)
            lg_index_put(idx, cap, l->jobs[i].hash, i);
        sb_free(l->index);
        l->index = idx;
        l->index_cap = cap;
    }
    return true;
}

/* The handle's entry, made if new; -1 on OOM. */
static int64_t lg_handle_of(sb_ledger *l, const char *handle)
{
    for (size_t i = 0; i < l->nhandles; i++)
        if (strcmp(l->handles[i].id, handle) == 0)
            return (int64_t)i;
    char *id = sb_strdup(handle);
    if (!id || !SB_GROW(l->handles, l->handles_cap, l->nhandles + 1)) {
        sb_free(id);
        return -1;
    }
    l->handles[l->nhandles] = (lg_handle){id, 0, false, 0, 0, 0};
    return (int64_t)l->nhandles++;
}

static lg_job *lg_insert(sb_ledger *l, const char *handle, const char *id, uint64_t h)
{
    size_t hl = strlen(handle), il = strlen(id);
    int64_t hs = lg_handle_of(l, handle);
    char *copy = hs < 0 ? NULL : sb_malloc(hl + il + 2);
    if (!copy || !lg_reserve(l)) {
        sb_free(copy);
        return NULL;
    }
    memcpy(copy, handle, hl + 1);
    memcpy(copy + hl + 1, id, il + 1);
    lg_job *j = &l->jobs[l->njobs];
    memset(j, 0, sizeof *j);
    j->handle = copy;
    j->id = copy + hl + 1;
    j->hash = h;
    j->hs = (uint32_t)hs;
    l->handles[hs].open++;
    lg_index_put(l->index, l->index_cap, h, l->njobs++);
    return j;
}

bool sb_ledger_commit(sb_ledger *l, const char *handle_id, const char *job_id, double estimate_usd, bool is_retry)
{
    return sb_ledger_commit_capped(l, handle_id, job_id, estimate_usd, 0, is_retry);
}

bool sb_ledger_commit_capped(sb_ledger *l, const char *handle_id, const char *job_id, double estimate_usd,
                             double cap_usd, bool is_retry)
{
    if (!l || !job_id)
        return false;
    const char *hid = handle_id ? handle_id : "";
    uint64_t h = lg_hash(hid, job_id);
    if (lg_find(l, hid, job_id, h))
        return false;
    lg_job *j = lg_insert(l, hid, job_id, h);
    if (!j)
        return false;
    j->estimate = lg_micro(estimate_usd);
    j->cap = cap_usd > 0 ? lg_micro(cap_usd) : j->estimate;
    j->held = j->estimate > 0 ? j->estimate : j->cap;
    j->is_retry = is_retry;
    l->nretries += is_retry;
    l->committed = lg_add(l->committed, j->held);
    l->handles[j->hs].held = lg_add(l->handles[j->hs].held, j->held);
    return true;
}

bool sb_ledger_adopt(sb_ledger *l, const char *handle_id, const char *job_id, double estimate_usd, double cap_usd,
                     bool is_retry)
{
    if (!sb_ledger_commit_capped(l, handle_id, job_id, estimate_usd, cap_usd, is_retry))
        return false;
    const char *hid = handle_id ? handle_id : "";
    lg_job *j = lg_find(l, hid, job_id, lg_hash(hid, job_id));
    j->adopted = true;
    l->nadopted++;
    return true;
}

static lg_job *lg_open_job(const sb_ledger *l, const char *handle_id, const char *job_id)
{
    if (!l || !job_id)
        return NULL;
    const char *hid = handle_id ? handle_id : "";
    lg_job *j = lg_find(l, hid, job_id, lg_hash(hid, job_id));
    return j && !j->settled ? j : NULL;
}

static void lg_hold(sb_ledger *l, lg_job *j, int64_t held)
{
    lg_handle *hs = &l->handles[j->hs];
    l->committed = lg_add(lg_add(l->committed, -j->held), held);
    hs->held = lg_add(lg_add(hs->held, -j->held), held);
    j->held = held;
}

void sb_ledger_start(sb_ledger *l, const char *handle_id, const char *job_id)
{
    lg_job *j = lg_open_job(l, handle_id, job_id);
    if (j && !j->started) {
        j->started = true;
        lg_hold(l, j, j->cap);
    }
}

void sb_ledger_set_cap(sb_ledger *l, const char *handle_id, const char *job_id, double cap_usd)
{
    lg_job *j = lg_open_job(l, handle_id, job_id);
    if (!j || !(cap_usd > 0))
        return;
    j->cap = lg_micro(cap_usd);
    if (j->started || j->estimate <= 0)
        lg_hold(l, j, j->cap);
}

/* --- grants --- */

bool sb_ledger_grant(sb_ledger *l, const char *handle_id, double budget_usd)
{
    if (!l || !handle_id)
        return false;
    int64_t i = lg_handle_of(l, handle_id);
    if (i < 0)
        return false;
    lg_handle *h = &l->handles[i];
    int64_t b = lg_micro(budget_usd);
    if (!h->granted || b < h->budget)
        h->budget = b;
    h->granted = true;
    return true;
}

double sb_ledger_grant_for(const sb_ledger *l, const char *handle_id)
{
    if (!l)
        return 0;
    if (l->unlimited)
        return INFINITY;
    const char *self = handle_id ? handle_id : "";
    int64_t reserved = 0;
    for (size_t i = 0; i < l->nhandles; i++) {
        const lg_handle *h = &l->handles[i];
        if (strcmp(h->id, self) == 0)
            continue;
        /* A granted handle with unsettled jobs may spend up to its budget;
         * any other, what it spent and what it holds. */
        int64_t may = h->granted && h->open > 0 ? h->budget : lg_add(h->spent, h->held);
        reserved = lg_add(reserved, may);
    }
    int64_t left = lg_add(l->budget, -reserved);
    return left > 0 ? lg_usd(left) : 0;
}

bool sb_ledger_settle(sb_ledger *l, const char *handle_id, const char *job_id, double actual_usd,
                      sb_ledger_outcome outcome)
{
    if (!l || !job_id)
        return false;
    const char *hid = handle_id ? handle_id : "";
    uint64_t h = lg_hash(hid, job_id);
    lg_job *j = lg_find(l, hid, job_id, h);
    if (j && j->settled)
        return true;
    if (!j && !(j = lg_insert(l, hid, job_id, h)))
        return false;
    lg_handle *hs = &l->handles[j->hs];
    l->committed = lg_add(l->committed, -j->held);
    hs->held = lg_add(hs->held, -j->held);
    hs->open--;
    j->held = 0;
    j->settled = true;
    j->outcome = outcome;
    j->actual = lg_micro(actual_usd);
    l->spent = lg_add(l->spent, j->actual);
    hs->spent = lg_add(hs->spent, j->actual);
    if (outcome == SB_LEDGER_STOPPED)
        l->stopped_micro = lg_add(l->stopped_micro, j->actual);
    if (outcome == SB_LEDGER_STOPPED_EARLY)
        l->stopped_early_micro = lg_add(l->stopped_early_micro, j->actual);
    if (outcome == SB_LEDGER_UNSTARTED)
        l->unstarted_estimate = lg_add(l->unstarted_estimate, j->estimate > 0 ? j->estimate : j->cap);
    int cat = j->is_retry ? LG_RETRY : outcome == SB_LEDGER_COMPLETED ? LG_OK : LG_FAILED;
    l->settled_micro[cat] = lg_add(l->settled_micro[cat], j->actual);
    l->outcomes[outcome]++;
    l->nsettled++;
    if (j->adopted)
        l->adopted_micro = lg_add(l->adopted_micro, j->actual);
    return true;
}

bool sb_ledger_record_skip(sb_ledger *l, const char *handle_id, const char *job_id, double estimate_usd,
                           const char *reason)
{
    (void)handle_id; /* skips are listed, not looked up */
    if (!l || !job_id)
        return false;
    if (!SB_GROW(l->skips, l->skips_cap, l->nskips + 1))
        return false;
    char *id = sb_strdup(job_id);
    char *why = sb_strdup(reason ? reason : "");
    if (!id || !why) {
        sb_free(id);
        sb_free(why);
        return false;
    }
    l->skips[l->nskips++] = (lg_skip){id, why, lg_micro(estimate_usd)};
    return true;
}

static int64_t lg_remaining(const sb_ledger *l) { return lg_add(lg_add(l->budget, -l->spent), -l->committed); }

double sb_ledger_budget(const sb_ledger *l) { return !l ? 0 : l->unlimited ? INFINITY : lg_usd(l->budget); }
bool sb_ledger_has_budget(const sb_ledger *l) { return l && !l->unlimited; }
double sb_ledger_spent(const sb_ledger *l) { return l ? lg_usd(l->spent) : 0; }
double sb_ledger_committed(const sb_ledger *l) { return l ? lg_usd(l->committed) : 0; }
double sb_ledger_remaining(const sb_ledger *l) { return !l ? 0 : l->unlimited ? INFINITY : lg_usd(lg_remaining(l)); }

bool sb_ledger_fits(const sb_ledger *l, double estimate_usd)
{
    /* Compared in micro-dollars: an estimate equal to what remains fits. */
    return l && (l->unlimited || lg_micro(estimate_usd) <= lg_remaining(l));
}

/* --- breakdown --- */

/* Micro-dollars to cents, half away from zero, as a count of cents. */
static int64_t lg_cents(int64_t micro)
{
    int64_t c = micro / MICRO_PER_CENT, r = micro % MICRO_PER_CENT;
    if (r >= MICRO_PER_CENT / 2)
        c++;
    else if (r <= -MICRO_PER_CENT / 2)
        c--;
    return c;
}

static sb_val lg_cents_val(int64_t cents) { return sb_double((double)cents / 100); }

/* Adds key -> v to *m unless an earlier step failed; v is always consumed. A
 * value that is itself the OOM error counts as a failure too. */
static bool lg_put(sb_val *m, bool ok, const char *key, sb_val v)
{
    if (!ok || v.kind == SB_ERROR) {
        sb_val_free(v);
        return false;
    }
    return sb_map_set_str(m, key, v);
}

static sb_val lg_skips_list(const sb_ledger *l)
{
    sb_val list = sb_list_new(l->nskips);
    for (size_t i = 0; i < l->nskips && list.kind == SB_LIST; i++) {
        const lg_skip *s = &l->skips[i];
        sb_val e = sb_map_new(3);
        bool ok = e.kind == SB_MAP;
        ok = lg_put(&e, ok, "job_id", sb_string_cstr(s->id));
        ok = lg_put(&e, ok, "estimated_cost_usd", lg_cents_val(lg_cents(s->estimate)));
        ok = lg_put(&e, ok, "reason", sb_string_cstr(s->reason));
        if (!ok)
            sb_val_free(e);
        if (!ok || !sb_list_push(&list, e)) {
            sb_val_free(list);
            return sb_oom();
        }
    }
    return list;
}

/* Counts are over every job the ledger knows: completed, failed and cancelled
 * include retries by outcome; retries counts retry jobs whatever their state;
 * running_or_queued is every job committed but not yet settled. */
static sb_val lg_jobs_map(const sb_ledger *l)
{
    const int64_t *n = l->outcomes;
    int64_t retries = l->nretries, open = (int64_t)l->njobs - l->nsettled;
    sb_val m = sb_map_new(7);
    bool ok = m.kind == SB_MAP;
    ok = lg_put(&m, ok, "completed", sb_int(n[SB_LEDGER_COMPLETED]));
    ok = lg_put(&m, ok, "failed", sb_int(n[SB_LEDGER_FAILED]));
    ok = lg_put(&m, ok, "cancelled", sb_int(n[SB_LEDGER_CANCELLED]));
    ok = lg_put(&m, ok, "stopped_at_cap", sb_int(n[SB_LEDGER_STOPPED]));
    ok = lg_put(&m, ok, "unstarted", sb_int(n[SB_LEDGER_UNSTARTED]));
    if (n[SB_LEDGER_STOPPED_EARLY]) /* only with early stopping: other breakdowns read as before */
        ok = lg_put(&m, ok, "stopped_early", sb_int(n[SB_LEDGER_STOPPED_EARLY]));
    ok = lg_put(&m, ok, "retries", sb_int(retries));
    ok = lg_put(&m, ok, "running_or_queued", sb_int(open));
    if (!ok) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}

/* {jobs: n, <key>: amount} */
static sb_val lg_pair(int64_t n, const char *key, int64_t micro)
{
    sb_val m = sb_map_new(2);
    bool ok = m.kind == SB_MAP;
    ok = lg_put(&m, ok, "jobs", sb_int(n));
    ok = lg_put(&m, ok, key, lg_cents_val(lg_cents(micro)));
    if (!ok) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}

/* Each amount is rounded to cents on its own and total is the sum of the
 * rounded parts, so the printed breakdown always adds up. */
sb_val sb_ledger_breakdown(const sb_ledger *l)
{
    if (!l)
        return sb_error("ledger: no ledger");
    int64_t ok_micro = l->settled_micro[LG_OK], failed_micro = l->settled_micro[LG_FAILED],
            retry_micro = l->settled_micro[LG_RETRY];
    int64_t ok_c = lg_cents(ok_micro), failed_c = lg_cents(failed_micro), retry_c = lg_cents(retry_micro);
    int64_t total_c = ok_c + failed_c + retry_c;
    int64_t budget_c = lg_cents(l->budget);
    double utilization = budget_c > 0 ? (double)total_c / (double)budget_c : 0;

    sb_val m = sb_map_new(12);
    bool ok = m.kind == SB_MAP;
    ok = lg_put(&m, ok, "budget_usd", l->unlimited ? sb_null() : lg_cents_val(budget_c));
    ok = lg_put(&m, ok, "successful_usd", lg_cents_val(ok_c));
    ok = lg_put(&m, ok, "failed_partial_usd", lg_cents_val(failed_c));
    ok = lg_put(&m, ok, "retries_usd", lg_cents_val(retry_c));
    ok = lg_put(&m, ok, "total_usd", lg_cents_val(total_c));
    ok = lg_put(&m, ok, "committed_usd", lg_cents_val(lg_cents(l->committed)));
    ok = lg_put(&m, ok, "remaining_usd", l->unlimited ? sb_null() : lg_cents_val(lg_cents(lg_remaining(l))));
    ok = lg_put(&m, ok, "utilization", l->unlimited ? sb_null() : sb_double(utilization));
    ok = lg_put(&m, ok, "jobs", ok ? lg_jobs_map(l) : sb_null());
    ok = lg_put(&m, ok, "stopped_at_cap",
                ok ? lg_pair(l->outcomes[SB_LEDGER_STOPPED], "cost_usd", l->stopped_micro) : sb_null());
    ok = lg_put(&m, ok, "unstarted",
                ok ? lg_pair(l->outcomes[SB_LEDGER_UNSTARTED], "estimated_cost_usd", l->unstarted_estimate) : sb_null());
    if (l->outcomes[SB_LEDGER_STOPPED_EARLY])
        ok = lg_put(&m, ok, "stopped_early",
                    ok ? lg_pair(l->outcomes[SB_LEDGER_STOPPED_EARLY], "cost_usd", l->stopped_early_micro) : sb_null());
    ok = lg_put(&m, ok, "skipped_retries", ok ? lg_skips_list(l) : sb_null());
    if (l->nadopted) {
        /* Only for a run that followed jobs it did not submit, so the
         * breakdown of every other run reads as before. */
        int64_t adopted_c = lg_cents(l->adopted_micro);
        ok = lg_put(&m, ok, "spent_usd", lg_cents_val(total_c - adopted_c));
        ok = lg_put(&m, ok, "adopted", ok ? lg_pair(l->nadopted, "cost_usd", l->adopted_micro) : sb_null());
    }
    if (!ok) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}
