/* The external executor (sb_conductor_exec.h): the sim's bookkeeping with the
 * host deciding each job's course. A job goes
 *   queued -> launched (still shown queued; holds a slot and its cap; START
 *   handed out) -> running (reported) -> completed | failed (reported),
 * or to cancelled from any of the first three (KILL handed out when the host
 * had it). While running it sits in the sim's heap keyed by its cap
 * deadline; reaching it hands out KILL (cap) and the job fails with
 * error_type budget when the host reports its end. Nothing here allocates
 * except the copies of a reported result: the effects' room was reserved at
 * submission (two per job: a start and at most one kill). */
#include "sb_conductor_exec.h"

#include "sb_csim_int.h"

#include "../util/sb_grow.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool exec_reserve(sb_csim *s, size_t n)
{
    return sb_grow(&s->effects, &s->effects_cap, 2 * (s->njobs + n), sizeof *s->effects);
}

static void push_effect(sb_csim *s, uint32_t i, bool kill)
{
    /* Compact when drained: at most two effects per job ever, so the room
     * reserved for 2 x njobs always suffices. */
    if (s->effects_head == s->neffects)
        s->effects_head = s->neffects = 0;
    s->effects[s->neffects++] = (csim_effect)i << 1 | (kill ? 1u : 0u);
}

static void ask_kill(sb_csim *s, uint32_t i, sb_csim_kill_reason why)
{
    csim_job *j = &s->jobs[i];
    if (j->kill)
        return;
    j->kill = (uint8_t)why;
    push_effect(s, i, true);
}

/* The conductor ms job j may run before its cap: the whole seconds its cap
 * pays for (what the sim stops a job at), at least one. */
static int64_t cap_window_ms(const sb_csim *s, const csim_job *j)
{
    double usd_per_s = s->opt.gpus_per_trial * s->opt.gpu_hour_usd / 3600.0;
    double secs = usd_per_s > 0 ? floor((double)j->cap_cents / 100.0 / usd_per_s) : 1e12;
    if (secs > 1e12)
        secs = 1e12;
    int64_t ms = (int64_t)secs * 1000;
    while (ms > 1000 && (int64_t)llround(sb_csim__cost(s, ms) * 100) > j->cap_cents)
        ms -= 1000;
    return ms < 1000 ? 1000 : ms;
}

/* Conductor ms as whole seconds (the contract's duration_seconds is an
 * integer, as the sim's are), at least one for any time at all. */
static int64_t whole_seconds(double ms)
{
    if (!(ms > 0))
        return 0;
    if (ms > 4e18)
        ms = 4e18;
    int64_t s = (int64_t)floor(ms / 1000 + 0.5);
    return (s < 1 ? 1 : s) * 1000;
}

static double scale_of(const sb_csim *s)
{
    double k = s->time_scale;
    return isfinite(k) && k > 0 ? k : 1;
}

static void exec_launch(sb_csim *s, uint32_t i, int64_t t)
{
    (void)t;
    csim_job *j = &s->jobs[i];
    csim_handle *h = s->handles[j->handle];
    j->launched = j->holds_slot = true;
    h->running_caps_cents = sb_csim__add_cents(h->running_caps_cents, j->cap_cents);
    s->slots_used++;
    push_effect(s, i, false);
}

/* Launched -> running at t, with the cap deadline in the heap. */
static void start_running(sb_csim *s, uint32_t i, int64_t t)
{
    csim_job *j = &s->jobs[i];
    j->run_ms = cap_window_ms(s, j); /* end_ms: the cap deadline */
    sb_csim__set_status(s, i, CSIM_RUNNING, t);
}

static void exec_cancel(sb_csim *s, uint32_t i)
{
    csim_job *j = &s->jobs[i];
    csim_handle *h = s->handles[j->handle];
    if (j->status == CSIM_RUNNING) {
        j->run_ms = whole_seconds((double)(s->now - j->started_ms)); /* charged by set_status */
        ask_kill(s, i, SB_CSIM_KILL_CANCEL);
    } else if (j->launched) {
        /* it held its cap without running: nothing to charge */
        h->running_caps_cents = sb_csim__add_cents(h->running_caps_cents, -j->cap_cents);
        ask_kill(s, i, SB_CSIM_KILL_CANCEL);
    }
    sb_csim__set_status(s, i, CSIM_CANCELLED, s->now);
}

static void exec_advance(sb_csim *s)
{
    const sb_heap_entry *first;
    while ((first = sb_heap_top(&s->running)) && first->key <= s->now) {
        uint32_t i = (uint32_t)first->value;
        sb_csim__heap_remove(s, i);
        ask_kill(s, i, SB_CSIM_KILL_CAP);
    }
}

static const csim_exec_ops ops = {exec_reserve, exec_launch, exec_cancel, exec_advance, whole_seconds};

sb_csim *sb_csim_create_external(const sb_csim_options *opt, double time_scale)
{
    sb_csim *s = sb_csim_create(opt);
    if (s) {
        s->exec = &ops;
        s->time_scale = time_scale;
    }
    return s;
}

bool sb_csim_next_effect(sb_csim *s, sb_csim_effect *out)
{
    if (!s || s->effects_head == s->neffects)
        return false;
    csim_effect e = s->effects[s->effects_head++];
    uint32_t i = (uint32_t)(e >> 1);
    const csim_job *j = &s->jobs[i];
    *out = (sb_csim_effect){.kind = (e & 1) ? SB_CSIM_KILL : SB_CSIM_START,
                            .job = i,
                            .job_id = sb_str(j->id),
                            .handle_id = sb_str(s->handles[j->handle]->id),
                            .hyperparameters = j->hyper,
                            .reason = (sb_csim_kill_reason)j->kill};
    if (out->kind == SB_CSIM_START)
        out->cap_ms = (int64_t)ceil((double)cap_window_ms(s, j) / scale_of(s));
    if (out->cap_ms < 1 && out->kind == SB_CSIM_START)
        out->cap_ms = 1;
    return true;
}

void sb_csim_tick(sb_csim *s, int64_t now_ms)
{
    if (s)
        sb_csim__advance(s, now_ms);
}

void sb_csim_job_running(sb_csim *s, int64_t now_ms, sb_csim_job_ref job)
{
    if (!s || !s->exec || job >= s->njobs)
        return;
    sb_csim__advance(s, now_ms);
    csim_job *j = &s->jobs[job];
    if (j->status == CSIM_QUEUED && j->launched)
        start_running(s, job, s->now);
}

static void free_slot(sb_csim *s, csim_job *j)
{
    j->holds_slot = false;
    s->slots_used--;
}

static const char *class_of(const char *t)
{
    if (!t)
        return NULL;
    static const char *const known[] = {"transient", "permanent", "budget"};
    for (size_t k = 0; k < sizeof known / sizeof *known; k++)
        if (strcmp(t, known[k]) == 0)
            return known[k];
    return NULL;
}

bool sb_csim_job_progress(sb_csim *s, sb_csim_job_ref job, sb_val progress)
{
    if (!s || !s->exec || job >= s->njobs)
        return true;
    csim_job *j = &s->jobs[job];
    const sb_val *step = progress.kind == SB_MAP ? sb_map_get_str(progress, "step") : NULL;
    const sb_val *m = progress.kind == SB_MAP ? sb_map_get_str(progress, "metrics") : NULL;
    if (!step || step->kind != SB_INT || step->as.i < 1 || !m || m->kind != SB_MAP)
        return false;
    if (j->status != CSIM_RUNNING)
        return true;
    const sb_val *last = j->progress.kind == SB_MAP ? sb_map_get_str(j->progress, "step") : NULL;
    if (last && last->kind == SB_INT && last->as.i >= step->as.i)
        return true;
    sb_val copy = sb_val_clone(progress);
    if (sb_is_oom(copy) || copy.kind != SB_MAP)
        return sb_val_free(copy), false;
    sb_val_free(j->progress);
    j->progress = copy;
    j->progress_seq = ++s->progress_seq;
    return true;
}

bool sb_csim_job_finished(sb_csim *s, int64_t now_ms, sb_csim_job_ref job, const sb_csim_result *r)
{
    if (!s || !s->exec || job >= s->njobs || !r)
        return true;
    sb_csim__advance(s, now_ms);
    csim_job *j = &s->jobs[job];
    if (!j->holds_slot)
        return true;
    if (j->status == CSIM_CANCELLED) {
        free_slot(s, j);
        sb_csim__fill_slots(s, s->now);
        return true;
    }
    /* The copies first, so that running out of memory changes nothing. */
    bool cap = j->kill == SB_CSIM_KILL_CAP, ok = r->ok && !cap;
    sb_val metrics = sb_null(), error = sb_null();
    if (ok) {
        metrics = r->metrics.kind == SB_MAP ? sb_val_clone(r->metrics) : sb_map_new(0);
        if (sb_is_oom(metrics) || metrics.kind != SB_MAP)
            return sb_val_free(metrics), false;
    } else {
        char buf[96];
        const char *msg = r->error && *r->error ? r->error : "failed";
        if (cap) {
            snprintf(buf, sizeof buf, "stopped at its cost cap of $%lld.%02lld", (long long)(j->cap_cents / 100),
                     (long long)(j->cap_cents % 100));
            msg = buf;
        }
        error = sb_string_cstr(msg);
        if (error.kind != SB_STRING)
            return sb_val_free(error), false;
    }
    if (j->status == CSIM_QUEUED)
        start_running(s, job, s->now);
    double ms = r->run_ms >= 0 ? (double)r->run_ms * scale_of(s) : (double)(s->now - j->started_ms);
    j->run_ms = whole_seconds(ms);
    j->metrics = metrics;
    sb_val_free(j->error);
    j->error = error;
    j->error_type = cap ? "budget" : ok ? NULL : class_of(r->error_type);
    j->outcome = ok ? CSIM_OUT_OK : cap ? CSIM_OUT_CAP : CSIM_OUT_INFRA;
    free_slot(s, j);
    sb_csim__set_status(s, job, ok ? CSIM_COMPLETED : CSIM_FAILED, s->now);
    sb_csim__fill_slots(s, s->now);
    return true;
}
