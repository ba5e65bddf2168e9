/* get_jobs_status and cancel_jobs. A status call costs O(jobs changed since
 * the cursor): the handle's change log is read from the cursor on, and a job
 * is reported once, at its latest change. */
#include "sb_csim_int.h"

#include "../util/sb_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sb_val seconds(int64_t ms)
{
    return ms % 1000 == 0 ? sb_int(ms / 1000) : sb_double((double)ms / 1000.0);
}

static sb_val cents_val(int64_t c)
{
    return c % 100 == 0 ? sb_int(c / 100) : sb_double((double)c / 100);
}

static const char *error_type(const csim_job *j)
{
    return j->outcome == CSIM_OUT_INVALID ? "permanent" : j->outcome == CSIM_OUT_CAP ? "budget" : "transient";
}

static sb_val job_view(const sb_csim *s, uint32_t i)
{
    const csim_job *j = &s->jobs[i];
    bool ok = true;
    sb_val v = sb_map_new(12);
    sb_csim__put(&v, "job_id", sb_val_ref(j->id), &ok);
    sb_csim__put(&v, "status", sb_string_cstr(sb_csim__status_names[j->status]), &ok);
    sb_csim__put(&v, "hyperparameters", sb_val_ref(j->hyper), &ok);
    if (j->retry_of.kind == SB_STRING)
        sb_csim__put(&v, "retry_of", sb_val_ref(j->retry_of), &ok);
    if (j->has_est)
        sb_csim__put(&v, "estimated_cost_usd", sb_double(j->est_cost), &ok);
    sb_csim__put(&v, "cost_cap_usd", cents_val(j->cap_cents), &ok);
    sb_csim__put(&v, "submitted_at_ms", sb_int(j->submitted_ms), &ok);
    if (j->started_ms >= 0 || j->status == CSIM_RUNNING)
        sb_csim__put(&v, "started_at_ms", sb_int(j->started_ms), &ok);
    if (j->status >= CSIM_COMPLETED)
        sb_csim__put(&v, "finished_at_ms", sb_int(j->finished_ms), &ok);
    if (j->status == CSIM_COMPLETED && s->exec) {
        sb_csim__put(&v, "metrics", sb_val_ref(j->metrics), &ok);
    } else if (j->status == CSIM_COMPLETED) {
        sb_val m = sb_map_new(2);
        sb_csim__put(&m, "val_acc", sb_double(j->val_acc), &ok);
        sb_csim__put(&m, "train_loss", sb_double(j->train_loss), &ok);
        sb_csim__put(&v, "metrics", m, &ok);
    }
    if (s->exec && j->status == CSIM_RUNNING && j->progress.kind == SB_MAP)
        sb_csim__put(&v, "progress", sb_val_ref(j->progress), &ok);
    int64_t step = sb_csim__step_at(s, j, s->now);
    if (step > 0) {
        double acc, loss;
        sb_csim__curve(s, j, step, &acc, &loss);
        sb_val p = sb_map_new(3), m = sb_map_new(2);
        sb_csim__put(&m, "val_acc", sb_double(acc), &ok);
        sb_csim__put(&m, "train_loss", sb_double(loss), &ok);
        sb_csim__put(&p, "step", sb_int(step), &ok);
        sb_csim__put(&p, "epochs", sb_int(j->epochs), &ok);
        sb_csim__put(&p, "metrics", m, &ok);
        sb_csim__put(&v, "progress", p, &ok);
    }
    if (j->status == CSIM_CANCELLED && j->stopped_early) {
        sb_csim__put(&v, "error", sb_string_cstr("stopped early by the client (reason: early_stopping)"), &ok);
        sb_csim__put(&v, "error_type", sb_string_cstr("early_stopping"), &ok);
    }
    if (j->status == CSIM_FAILED) {
        sb_csim__put(&v, "error", sb_val_ref(j->error), &ok);
        if (!s->exec)
            sb_csim__put(&v, "error_type", sb_string_cstr(error_type(j)), &ok);
        else if (j->error_type) /* else the client classifies the message */
            sb_csim__put(&v, "error_type", sb_string_cstr(j->error_type), &ok);
    }
    if (j->status == CSIM_CANCELLED && j->unstarted) {
        sb_csim__put(&v, "error", sb_string_cstr("not started: its cost cap does not fit what is left of the budget"), &ok);
        sb_csim__put(&v, "error_type", sb_string_cstr("budget"), &ok);
    }
    /* Completed and failed jobs always carry their actual time and cost; a
     * cancelled job does when it had started (what it was charged). */
    bool ran =
        j->status == CSIM_COMPLETED || j->status == CSIM_FAILED || (j->status == CSIM_CANCELLED && j->started_ms >= 0);
    if (ran) {
        int64_t ms = j->started_ms < 0 ? 0 : s->exec ? j->run_ms : j->finished_ms - j->started_ms;
        sb_csim__put(&v, "duration_seconds", seconds(ms), &ok);
        sb_csim__put(&v, "cost_usd", sb_double((double)sb_csim__charge_cents(s, j, ms) / 100), &ok);
    }
    if (!ok) {
        sb_val_free(v);
        return sb_oom();
    }
    return v;
}

static csim_handle *handle_arg(const sb_csim *s, sb_val args, const char *tool, sb_val *err)
{
    const sb_val *hid = sb_map_get_str(args, "handle_id");
    if (!hid || hid->kind != SB_STRING) {
        *err = sb_csim__fail("%s: handle_id must be a string", tool);
        return NULL;
    }
    csim_handle *h = sb_csim__find_handle(s, *hid);
    if (!h)
        *err = sb_csim__fail("%s: unknown handle_id '%s'", tool, sb_str(*hid));
    return h;
}

/* Digits up to end or '@'; false when none or too many. */
static bool digits(const char **p, uint64_t *out)
{
    const char *q = *p;
    uint64_t n = 0;
    for (; *q >= '0' && *q <= '9'; q++) {
        if (q - *p >= 19)
            return false;
        n = n * 10 + (uint64_t)(*q - '0');
    }
    if (q == *p)
        return false;
    *p = q;
    *out = n;
    return true;
}

/* "c_<n>" with n a log position of this handle (0..nlog); with learning
 * curves "c_<n>@<ms>", ms the sim's time when it was given (no later than
 * now), so that a running job whose epoch advanced since counts as changed.
 * *at is -1 without a time. */
static bool parse_cursor(const sb_csim *s, sb_val c, size_t nlog, size_t *pos, int64_t *at)
{
    if (c.kind != SB_STRING || sb_str_len(c) > 42)
        return false;
    const char *p = sb_str(c);
    uint64_t n = 0, t = 0;
    if (strncmp(p, "c_", 2) != 0 || !(p += 2, digits(&p, &n)) || n > nlog)
        return false;
    *at = -1;
    if (*p == '@') {
        p++;
        if (!digits(&p, &t) || (s->exec ? t > s->progress_seq : (int64_t)t > s->now))
            return false;
        *at = (int64_t)t;
    }
    if (*p)
        return false;
    *pos = (size_t)n;
    return true;
}

/* The epoch job j had reached at time t (it ran then as it does now: a job
 * that is running has not been restarted). */
static int64_t step_then(const sb_csim *s, const csim_job *j, int64_t t)
{
    return t < j->started_ms ? 0 : sb_csim__step_at(s, j, t);
}

sb_val sb_csim__status(sb_csim *s, sb_val args)
{
    sb_val err = sb_null();
    csim_handle *h = handle_arg(s, args, "get_jobs_status", &err);
    if (!h)
        return err;
    const sb_val *cur = sb_map_get_str(args, "since_cursor");
    size_t from = 0;
    int64_t at = -1;
    if (cur && cur->kind != SB_NULL && !parse_cursor(s, *cur, h->nlog, &from, &at)) {
        if (cur->kind != SB_STRING)
            return sb_csim__fail("get_jobs_status: since_cursor must be a string");
        return sb_csim__fail("get_jobs_status: since_cursor '%s' is not a cursor of handle %s (c_0 to c_%zu)",
                             sb_str(*cur), sb_str(h->id), h->nlog);
    }
    bool since = cur && cur->kind != SB_NULL, ok = true;
    sb_val jobs = sb_list_new(since ? 0 : h->njobs);
    if (!since) {
        for (size_t k = 0; k < h->njobs && ok; k++)
            sb_csim__push(&jobs, job_view(s, h->jobs[k]), &ok);
    } else {
        for (size_t pos = from; pos < h->nlog && ok; pos++) {
            uint32_t i = h->log[pos];
            if (s->jobs[i].last_change == pos)
                sb_csim__push(&jobs, job_view(s, i), &ok);
        }
        /* With curves, running jobs not reported above whose epoch advanced
         * since the cursor's time (all that report one, for a cursor without
         * a time). A scan of the handle's jobs: curves are for sweeps of
         * hundreds, not the 100,000-job scale. */
        for (size_t k = 0; k < h->njobs && ok && (s->opt.epochs > 0 || s->progress_seq > 0); k++) {
            uint32_t i = h->jobs[k];
            const csim_job *j = &s->jobs[i];
            if (j->status != CSIM_RUNNING || j->last_change >= from)
                continue;
            if (s->exec) { /* what the host reported after the cursor's sequence number */
                if (j->progress_seq > 0 && (at < 0 || j->progress_seq > (uint64_t)at))
                    sb_csim__push(&jobs, job_view(s, i), &ok);
                continue;
            }
            int64_t now_step = sb_csim__step_at(s, j, s->now);
            if (now_step > 0 && (at < 0 || now_step > step_then(s, j, at)))
                sb_csim__push(&jobs, job_view(s, i), &ok);
        }
    }
    sb_val counts = sb_map_new(CSIM_NSTATUS + 1);
    for (int st = 0; st < CSIM_NSTATUS; st++)
        sb_csim__put(&counts, sb_csim__status_names[st], sb_int((int64_t)h->counts[st]), &ok);
    sb_csim__put(&counts, "total", sb_int((int64_t)h->njobs), &ok);
    char cursor[48];
    if (s->exec && s->progress_seq > 0)
        snprintf(cursor, sizeof cursor, "c_%zu@%llu", h->nlog, (unsigned long long)s->progress_seq);
    else if (s->opt.epochs > 0 && !s->exec)
        snprintf(cursor, sizeof cursor, "c_%zu@%lld", h->nlog, (long long)s->now);
    else
        snprintf(cursor, sizeof cursor, "c_%zu", h->nlog);
    sb_val out = sb_map_new(6);
    sb_csim__put(&out, "handle_id", sb_val_ref(h->id), &ok);
    sb_csim__put(&out, "cursor", sb_string_cstr(cursor), &ok);
    if (h->budget_cents != CSIM_NO_BUDGET) {
        sb_val b = sb_map_new(4);
        sb_csim__put(&b, "budget_usd", cents_val(h->budget_cents), &ok);
        sb_csim__put(&b, "spent_usd", cents_val(h->spent_cents), &ok);
        sb_csim__put(&b, "running_caps_usd", cents_val(h->running_caps_cents), &ok);
        sb_csim__put(&b, "remaining_usd", cents_val(h->budget_cents - h->spent_cents - h->running_caps_cents), &ok);
        sb_csim__put(&out, "budget", b, &ok);
    }
    sb_csim__put(&out, "done", sb_bool(h->counts[CSIM_QUEUED] + h->counts[CSIM_RUNNING] == 0), &ok);
    sb_csim__put(&out, "counts", counts, &ok);
    sb_csim__put(&out, "jobs", jobs, &ok);
    if (!ok) {
        sb_val_free(out);
        return sb_oom();
    }
    return sb_csim__ok(out);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static bool live(const csim_job *j)
{
    return j->status == CSIM_QUEUED || j->status == CSIM_RUNNING;
}

/* The queued or running jobs to cancel, in submission order, no repeats. */
static sb_val pick(const sb_csim *s, const csim_handle *h, sb_val args, uint32_t **out, size_t *n)
{
    const sb_val *ids = sb_map_get_str(args, "job_ids");
    if (ids && ids->kind == SB_NULL)
        ids = NULL;
    if (ids && ids->kind != SB_LIST)
        return sb_csim__fail("cancel_jobs: job_ids must be a list of job ids");
    size_t cap = ids ? sb_list_len(*ids) : h->njobs;
    uint32_t *t = sb_malloc((cap ? cap : 1) * sizeof *t);
    if (!t)
        return sb_oom();
    *n = 0;
    for (size_t k = 0; k < cap; k++) {
        int64_t i;
        if (!ids) {
            i = h->jobs[k];
        } else {
            sb_val id = *sb_list_at(*ids, k);
            i = id.kind == SB_STRING ? sb_csim__index_find(&h->by_id, sb_str(id), sb_str_len(id), sb_csim__job_key, s)
                                     : -1;
            if (i < 0) {
                sb_free(t);
                if (id.kind != SB_STRING)
                    return sb_csim__fail("cancel_jobs: job_ids[%zu] must be a string", k);
                return sb_csim__fail("cancel_jobs: job '%s' is not in handle %s", sb_str(id), sb_str(h->id));
            }
        }
        if (live(&s->jobs[i]))
            t[(*n)++] = (uint32_t)i;
    }
    if (ids) {
        qsort(t, *n, sizeof *t, cmp_u32);
        size_t u = 0;
        for (size_t k = 0; k < *n; k++)
            if (u == 0 || t[u - 1] != t[k])
                t[u++] = t[k];
        *n = u;
    }
    *out = t;
    return sb_null();
}

sb_val sb_csim__cancel(sb_csim *s, sb_val args)
{
    sb_val err = sb_null();
    csim_handle *h = handle_arg(s, args, "cancel_jobs", &err);
    if (!h)
        return err;
    uint32_t *t = NULL;
    size_t n = 0;
    err = pick(s, h, args, &t, &n);
    if (err.kind != SB_NULL)
        return err;
    /* reason "early_stopping": the client's stopping rule ended the jobs;
     * their status says so (error_type "early_stopping"). */
    const sb_val *reason = sb_map_get_str(args, "reason");
    if (reason && reason->kind != SB_NULL && reason->kind != SB_STRING) {
        sb_free(t);
        return sb_csim__fail("cancel_jobs: reason must be a string");
    }
    bool early = reason && sb_str_eq(*reason, "early_stopping");
    bool ok = true;
    double charged = 0;
    sb_val ids = sb_list_new(n);
    for (size_t k = 0; k < n; k++) {
        const csim_job *j = &s->jobs[t[k]];
        sb_csim__push(&ids, sb_val_ref(j->id), &ok);
        if (j->status == CSIM_RUNNING) {
            int64_t ran = s->now - j->started_ms;
            if (s->exec)
                ran = s->exec->whole_seconds((double)ran);
            charged += (double)sb_csim__charge_cents(s, j, ran) / 100;
        }
    }
    sb_val out = sb_map_new(2);
    sb_csim__put(&out, "cancelled", ids, &ok);
    sb_csim__put(&out, "cost_usd_charged", sb_double(sb_csim__round_to(charged, 100)), &ok);
    sb_val res = ok ? sb_csim__ok(out) : (sb_val_free(out), sb_oom());
    if (!sb_is_oom(res)) {
        for (size_t k = 0; k < n; k++) {
            s->jobs[t[k]].stopped_early = early && s->jobs[t[k]].status == CSIM_RUNNING;
            if (s->exec)
                s->exec->cancel(s, t[k]);
            else
                sb_csim__set_status(s, t[k], CSIM_CANCELLED, s->now);
        }
        sb_csim__fill_slots(s, s->now);
    }
    sb_free(t);
    return res;
}
