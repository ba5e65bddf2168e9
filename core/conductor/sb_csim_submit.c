/* submit_jobs: validate everything, reserve every byte the jobs will ever
 * need, build the answer, and only then commit. A call that fails (bad
 * arguments or out of memory) therefore changes nothing, and a committed
 * submission can always run to the end. */
#include "sb_csim_int.h"

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CSIM_MAX_ID_LEN 256

/* --- idempotency --- */

static uint64_t mix(uint64_t z)
{
    z ^= z >> 33;
    z *= 0xff51afd7ed558ccdULL;
    return z ^ (z >> 33);
}

/* A hash of a request that ignores map key order (a client may rebuild its
 * request with keys in another order) and, as sb_val_hash does, 1 vs 1.0. */
static uint64_t deep_hash(sb_val v)
{
    uint64_t h;
    switch (v.kind) {
    case SB_LIST:
        h = 0x6c697374;
        for (size_t i = 0; i < sb_list_len(v); i++)
            h = mix(h ^ deep_hash(*sb_list_at(v, i)));
        return h;
    case SB_MAP:
        h = 0x6d6170;
        for (size_t i = 0; i < sb_map_len(v); i++)
            h += mix(deep_hash(*sb_map_key_at(v, i)) * 31 ^ deep_hash(*sb_map_val_at(v, i)));
        return mix(h);
    default:
        return sb_val_hash(v);
    }
}

static sb_val replay(const sb_val *entry, uint64_t hash, sb_val key)
{
    if (sb_list_at(*entry, 0)->as.u != hash)
        return sb_csim__fail("submit_jobs: idempotency_key '%s' was already used for a different request", sb_str(key));
    sb_val first = *sb_list_at(*entry, 1);
    bool ok = true;
    sb_val out = sb_map_new(sb_map_len(first) + 1);
    for (size_t i = 0; i < sb_map_len(first); i++)
        sb_csim__put(&out, sb_str(*sb_map_key_at(first, i)), sb_val_ref(*sb_map_val_at(first, i)), &ok);
    sb_csim__put(&out, "replayed", sb_bool(true), &ok);
    if (!ok) {
        sb_val_free(out);
        return sb_oom();
    }
    return sb_csim__ok(out);
}

/* --- argument checks --- */

/* A field that is absent or null. */
static const sb_val *opt_field(sb_val map, const char *key)
{
    const sb_val *v = sb_map_get_str(map, key);
    return v && v->kind != SB_NULL ? v : NULL;
}

static sb_val check_job(const sb_csim *s, const csim_handle *h, sb_val spec, size_t i)
{
    if (spec.kind != SB_MAP)
        return sb_csim__fail("submit_jobs: jobs[%zu] must be an object", i);
    const sb_val *hp = sb_map_get_str(spec, "hyperparameters");
    if (!hp || hp->kind != SB_MAP)
        return sb_csim__fail("submit_jobs: jobs[%zu].hyperparameters must be an object", i);
    const sb_val *id = opt_field(spec, "job_id");
    if (id && (id->kind != SB_STRING || sb_str_len(*id) == 0 || sb_str_len(*id) > CSIM_MAX_ID_LEN))
        return sb_csim__fail("submit_jobs: jobs[%zu].job_id must be a non-empty string of at most %d bytes", i,
                             CSIM_MAX_ID_LEN);
    const sb_val *retry = opt_field(spec, "retry_of");
    if (retry) {
        if (retry->kind != SB_STRING)
            return sb_csim__fail("submit_jobs: jobs[%zu].retry_of must be a string", i);
        if (!h)
            return sb_csim__fail("submit_jobs: jobs[%zu].retry_of needs handle_id: a retry joins the handle of "
                                 "the job it retries",
                                 i);
        if (sb_csim__index_find(&h->by_id, sb_str(*retry), sb_str_len(*retry), sb_csim__job_key, s) < 0)
            return sb_csim__fail("submit_jobs: jobs[%zu].retry_of '%s' is not a job of handle %s", i, sb_str(*retry),
                                 sb_str(h->id));
    }
    const sb_val *est = opt_field(spec, "estimated_cost_usd");
    double d;
    if (est && (est->kind == SB_BOOL || !sb_val_as_double(*est, &d) || !isfinite(d) || d < 0))
        return sb_csim__fail("submit_jobs: jobs[%zu].estimated_cost_usd must be a number >= 0", i);
    const sb_val *cap = opt_field(spec, "cost_cap_usd");
    if (cap && (cap->kind == SB_BOOL || !sb_val_as_double(*cap, &d) || !isfinite(d) || d < 0.01))
        return sb_csim__fail("submit_jobs: jobs[%zu].cost_cap_usd must be a number >= 0.01", i);
    return sb_null();
}

/* --- caps --- */

/* Whole cents, at least one: a cap is never $0. */
static int64_t cap_cents(double usd)
{
    double c = floor(usd * 100 + 0.5);
    if (!(c >= 1))
        return 1;
    return c > 1e15 ? (int64_t)1e15 : (int64_t)c;
}

/* The cap: as given; else the estimate, or without one the sim's quote,
 * times 1 + margin. */
static int64_t job_cap(const sb_csim *s, sb_val spec, sb_val hyper, double margin)
{
    const sb_val *v = opt_field(spec, "cost_cap_usd");
    double d;
    if (v && sb_val_as_double(*v, &d))
        return cap_cents(d);
    v = opt_field(spec, "estimated_cost_usd");
    if (!(v && sb_val_as_double(*v, &d) && d > 0))
        d = sb_csim__quote(s, hyper);
    return cap_cents(d * (1 + margin));
}

/* A job that would cost more than its cap is stopped when it reaches it:
 * after the whole seconds its cap pays for (what a real backend does with a
 * time limit of cap / rate). A failure planned before that point stays. */
static bool apply_cap(const sb_csim *s, csim_job *j)
{
    if (j->outcome == CSIM_OUT_INVALID || (int64_t)llround(sb_csim__cost(s, j->run_ms) * 100) <= j->cap_cents)
        return true;
    /* The cap pays for less than the planned run (it costs more), so the
     * seconds fit an int64 however small the rate. */
    double usd_per_s = s->opt.gpus_per_trial * s->opt.gpu_hour_usd / 3600.0;
    double secs = floor((double)j->cap_cents / 100.0 / usd_per_s);
    int64_t ms = secs * 1000 < (double)j->run_ms ? (int64_t)secs * 1000 : j->run_ms;
    while (ms > 0 && (int64_t)llround(sb_csim__cost(s, ms) * 100) > j->cap_cents)
        ms -= 1000;
    sb_val_free(j->error);
    char buf[80];
    snprintf(buf, sizeof buf, "stopped at its cost cap of $%lld.%02lld", (long long)(j->cap_cents / 100),
             (long long)(j->cap_cents % 100));
    j->error = sb_string_cstr(buf);
    j->outcome = CSIM_OUT_CAP;
    j->run_ms = ms;
    return j->error.kind == SB_STRING;
}

/* --- job ids --- */

typedef struct id_plan {
    sb_val *ids;      /* one per job */
    csim_index batch; /* ids of this request, by position */
    uint64_t next_auto;
} id_plan;

static sb_val batch_key(const void *ctx, uint32_t v)
{
    return ((const sb_val *)ctx)[v];
}

static bool taken(const sb_csim *s, const csim_handle *h, const id_plan *p, const char *id, size_t len)
{
    return (h && sb_csim__index_find(&h->by_id, id, len, sb_csim__job_key, s) >= 0) ||
           sb_csim__index_find(&p->batch, id, len, batch_key, p->ids) >= 0;
}

/* Given ids first, so that a default id never takes a name the same request
 * asks for; then default ids job_001, job_002... from the handle's counter,
 * skipping names in use. Returns null, an error result, or sb_oom(). */
static sb_val assign_ids(const sb_csim *s, const csim_handle *h, sb_val jobs, id_plan *p)
{
    size_t n = sb_list_len(jobs);
    for (size_t i = 0; i < n; i++) {
        const sb_val *id = opt_field(*sb_list_at(jobs, i), "job_id");
        if (!id)
            continue;
        if (h && sb_csim__index_find(&h->by_id, sb_str(*id), sb_str_len(*id), sb_csim__job_key, s) >= 0)
            return sb_csim__fail("submit_jobs: job_id '%s' already exists in handle %s", sb_str(*id), sb_str(h->id));
        if (sb_csim__index_find(&p->batch, sb_str(*id), sb_str_len(*id), batch_key, p->ids) >= 0)
            return sb_csim__fail("submit_jobs: job_id '%s' appears twice in this request", sb_str(*id));
        p->ids[i] = sb_val_ref(*id);
        sb_csim__index_put(&p->batch, sb_csim__hash(sb_str(*id), sb_str_len(*id)), (uint32_t)i);
    }
    for (size_t i = 0; i < n; i++) {
        if (p->ids[i].kind == SB_STRING)
            continue;
        char buf[32];
        int len;
        do
            len = snprintf(buf, sizeof buf, "job_%03llu", (unsigned long long)p->next_auto++);
        while (taken(s, h, p, buf, (size_t)len));
        p->ids[i] = sb_string(buf, (size_t)len);
        if (p->ids[i].kind != SB_STRING)
            return sb_oom();
        sb_csim__index_put(&p->batch, sb_csim__hash(buf, (size_t)len), (uint32_t)i);
    }
    return sb_null();
}

/* --- room --- */

/* Handle number index + 1, as "h_0001". */
static csim_handle *new_handle(size_t index)
{
    csim_handle *h = sb_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    char buf[32];
    int len = snprintf(buf, sizeof buf, "h_%04zu", index + 1);
    h->index = (uint32_t)index;
    h->id = sb_string(buf, (size_t)len);
    h->next_auto = 1;
    if (h->id.kind != SB_STRING) {
        sb_free(h);
        return NULL;
    }
    return h;
}

static void drop_handle(csim_handle *h)
{
    if (!h)
        return;
    sb_val_free(h->id);
    sb_free(h->jobs);
    sb_free(h->log);
    sb_csim__index_free(&h->by_id);
    sb_free(h);
}

/* Room for n more jobs everywhere they will ever be recorded. */
static bool reserve(sb_csim *s, csim_handle *h, bool is_new, size_t n)
{
    return (!is_new || sb_grow(&s->handles, &s->handles_cap, s->nhandles + 1, sizeof *s->handles)) &&
           sb_grow(&s->jobs, &s->jobs_cap, s->njobs + n, sizeof *s->jobs) &&
           sb_grow(&h->jobs, &h->jobs_cap, h->njobs + n, sizeof *h->jobs) &&
           /* every job, old or new, logs at most CSIM_CHANGES_PER_JOB changes in all */
           sb_grow(&h->log, &h->log_cap, CSIM_CHANGES_PER_JOB * (h->njobs + n), sizeof *h->log) &&
           sb_csim__index_reserve(&h->by_id, n) && (!s->exec || s->exec->reserve(s, n));
}

/* --- staging the jobs (in s->jobs past njobs, not yet counted) --- */

static void unstage(sb_csim *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        csim_job *j = &s->jobs[s->njobs + i];
        sb_val_free(j->id);
        sb_val_free(j->hyper);
        sb_val_free(j->retry_of);
        sb_val_free(j->error);
        sb_val_free(j->metrics);
    }
}

/* Fills jobs njobs..njobs+n-1, taking the ids it uses. On failure every
 * staged job is released (the ids not taken stay with the caller). */
static bool stage(sb_csim *s, csim_handle *h, sb_val jobs, sb_val *ids, double margin)
{
    size_t n = sb_list_len(jobs);
    for (size_t i = 0; i < n; i++) {
        sb_val spec = *sb_list_at(jobs, i);
        csim_job *j = &s->jobs[s->njobs + i];
        memset(j, 0, sizeof *j);
        j->id = ids[i];
        ids[i] = sb_null();
        j->hyper = sb_val_clone(*sb_map_get_str(spec, "hyperparameters"));
        const sb_val *retry = opt_field(spec, "retry_of");
        j->retry_of = retry ? sb_val_ref(*retry) : sb_null();
        j->error = sb_null();
        j->metrics = sb_null();
        j->progress = sb_null();
        j->progress_seq = 0;
        const sb_val *est = opt_field(spec, "estimated_cost_usd");
        j->has_est = est && sb_val_as_double(*est, &j->est_cost);
        j->handle = h->index;
        j->run_id = 0;
        j->submitted_ms = j->started_ms = j->finished_ms = -1;
        j->status = CSIM_NSTATUS; /* not yet in any count */
        bool retry_infra = false;
        if (retry) {
            int64_t t = sb_csim__index_find(&h->by_id, sb_str(*retry), sb_str_len(*retry), sb_csim__job_key, s);
            retry_infra = t >= 0 && s->jobs[t].outcome == CSIM_OUT_INFRA;
        }
        j->cap_cents = j->hyper.kind == SB_MAP ? job_cap(s, spec, j->hyper, margin) : 1;
        /* An external job's course is its host's to report. */
        bool planned =
            j->hyper.kind == SB_MAP && (s->exec ? (j->outcome = CSIM_OUT_OK, true)
                                                : sb_csim__plan_job(s, j, h->id, retry_infra) && apply_cap(s, j));
        if (!planned) {
            unstage(s, i + 1);
            return false;
        }
    }
    return true;
}

static sb_val cents_val(int64_t c)
{
    return c % 100 == 0 ? sb_int(c / 100) : sb_double((double)c / 100);
}

static sb_val answer(const sb_csim *s, const csim_handle *h, size_t n, int64_t budget)
{
    bool ok = true;
    sb_val ids = sb_list_new(n), caps = sb_list_new(n);
    for (size_t i = 0; i < n; i++) {
        sb_csim__push(&ids, sb_val_ref(s->jobs[s->njobs + i].id), &ok);
        sb_csim__push(&caps, cents_val(s->jobs[s->njobs + i].cap_cents), &ok);
    }
    sb_val out = sb_map_new(5);
    sb_csim__put(&out, "handle_id", sb_val_ref(h->id), &ok);
    sb_csim__put(&out, "job_ids", ids, &ok);
    sb_csim__put(&out, "accepted", sb_int((int64_t)n), &ok);
    sb_csim__put(&out, "cost_caps_usd", caps, &ok);
    sb_csim__put(&out, "budget_usd", budget == CSIM_NO_BUDGET ? sb_null() : cents_val(budget), &ok);
    if (!ok) {
        sb_val_free(out);
        return sb_oom();
    }
    return out;
}

/* Cannot fail: everything was reserved. */
static void commit(sb_csim *s, csim_handle *h, bool is_new, size_t n, int64_t budget)
{
    if (is_new)
        s->handles[s->nhandles++] = h;
    h->budget_cents = budget;
    size_t first = s->njobs;
    s->njobs += n;
    for (size_t i = first; i < first + n; i++) {
        csim_job *j = &s->jobs[i];
        h->jobs[h->njobs++] = (uint32_t)i;
        sb_csim__index_put(&h->by_id, sb_csim__hash(sb_str(j->id), sb_str_len(j->id)), (uint32_t)i);
        j->submitted_ms = s->now;
        sb_csim__set_status(s, (uint32_t)i, j->outcome == CSIM_OUT_INVALID ? CSIM_FAILED : CSIM_QUEUED, s->now);
    }
    sb_csim__fill_slots(s, s->now);
}

/* After the checks: ids, room, staging, the answer, the idempotency record,
 * then commit. */
static sb_val submit_checked(sb_csim *s, csim_handle *h, sb_val jobs, const sb_val *key, uint64_t hash,
                             int64_t budget, double margin)
{
    size_t n = sb_list_len(jobs);
    bool is_new = h == NULL, staged = false;
    if (is_new && !(h = new_handle(s->nhandles)))
        return sb_oom();
    /* An existing handle's budget may only go down. */
    if (!is_new && h->budget_cents < budget)
        budget = h->budget_cents;
    id_plan p = {sb_calloc(n, sizeof *p.ids), {NULL, 0, 0}, h->next_auto};
    sb_val res = sb_oom();
    if (!p.ids || !sb_csim__index_reserve(&p.batch, n))
        goto out;
    res = assign_ids(s, is_new ? NULL : h, jobs, &p);
    if (res.kind != SB_NULL)
        goto out;
    res = sb_oom();
    if (!reserve(s, h, is_new, n) || !stage(s, h, jobs, p.ids, margin))
        goto out;
    staged = true;
    sb_val structured = answer(s, h, n, budget);
    sb_val entry = sb_null();
    if (key && !sb_is_oom(structured)) {
        bool ok = true;
        entry = sb_list_new(2);
        sb_csim__push(&entry, sb_uint(hash), &ok);
        sb_csim__push(&entry, sb_val_ref(structured), &ok);
        if (!ok) {
            sb_val_free(entry);
            entry = sb_oom();
        }
    }
    res = sb_csim__ok(structured);
    bool ok = !sb_is_oom(res) && !sb_is_oom(entry);
    if (ok && key) {
        ok = sb_map_set(&s->idem, sb_val_ref(*key), entry);
        entry = sb_null();
    }
    sb_val_free(entry);
    if (!ok) {
        sb_val_free(res);
        res = sb_oom();
        goto out;
    }
    h->next_auto = p.next_auto;
    commit(s, h, is_new, n, budget);
    staged = is_new = false; /* the jobs and the handle are now s's */
out:
    if (staged)
        unstage(s, n);
    if (p.ids) {
        for (size_t i = 0; i < n; i++)
            sb_val_free(p.ids[i]);
        sb_free(p.ids);
    }
    sb_csim__index_free(&p.batch);
    if (is_new)
        drop_handle(h);
    return res;
}

sb_val sb_csim__submit(sb_csim *s, sb_val args)
{
    const sb_val *hid = opt_field(args, "handle_id");
    const sb_val *key = opt_field(args, "idempotency_key");
    const sb_val *jobs = sb_map_get_str(args, "jobs");
    if (hid && hid->kind != SB_STRING)
        return sb_csim__fail("submit_jobs: handle_id must be a string");
    if (key && (key->kind != SB_STRING || sb_str_len(*key) == 0))
        return sb_csim__fail("submit_jobs: idempotency_key must be a non-empty string");
    if (!jobs || jobs->kind != SB_LIST || sb_list_len(*jobs) == 0)
        return sb_csim__fail("submit_jobs: jobs must be a non-empty list");
    uint64_t hash = 0;
    if (key) {
        hash = deep_hash(args);
        const sb_val *seen = sb_map_get(s->idem, *key);
        if (seen)
            return replay(seen, hash, *key);
    }
    csim_handle *h = NULL;
    if (hid && !(h = sb_csim__find_handle(s, *hid)))
        return sb_csim__fail("submit_jobs: unknown handle_id '%s'", sb_str(*hid));
    size_t n = sb_list_len(*jobs);
    if (s->njobs > UINT32_MAX / 4 || n > UINT32_MAX / 4 - s->njobs)
        return sb_csim__fail("submit_jobs: too many jobs");
    for (size_t i = 0; i < n; i++) {
        sb_val err = check_job(s, h, *sb_list_at(*jobs, i), i);
        if (err.kind != SB_NULL)
            return err;
    }
    const sb_val *bv = opt_field(args, "budget_usd"), *mv = opt_field(args, "cap_margin_fraction");
    double b = 0, margin = s->opt.cap_margin_fraction;
    if (bv && (bv->kind == SB_BOOL || !sb_val_as_double(*bv, &b) || !isfinite(b) || b < 0))
        return sb_csim__fail("submit_jobs: budget_usd must be a finite number >= 0");
    if (mv && (mv->kind == SB_BOOL || !sb_val_as_double(*mv, &margin) || !isfinite(margin) || margin < 0))
        return sb_csim__fail("submit_jobs: cap_margin_fraction must be a number >= 0");
    /* Whole cents, rounded down: the guard never allows a cent more. */
    int64_t budget = !bv ? CSIM_NO_BUDGET : b * 100 >= 1e15 ? (int64_t)1e15 : (int64_t)floor(b * 100 + 1e-6);
    return submit_checked(s, h, *jobs, key, hash, budget, margin);
}
