/* Suggest steps: an adaptive search driven by the poll step's events. A step
 * with `suggest: {call: solver.suggest_trials, with: {...}}` and
 * `on: <poll step>.job_completed` (or job_finished) asks its tool, each time
 * the event fires, for more trials, and submits what it proposes to the same
 * handle while polling goes on, as retries are (run_retry.c):
 *   - one question, then one submission, at a time per step; events that fire
 *     meanwhile are folded into one more question once the submission is
 *     answered, so the Solver always sees every job submitted before;
 *   - `with` sees the usual variables plus `job` (the job whose event fired)
 *     and `jobs`: `jobs.status` (counts) and `jobs.trials` (every job of the
 *     handle: job_id, hyperparameters, status, and metrics or error_type once
 *     finished);
 *   - every proposed trial passes the budget guard (sb_ledger_fits on its
 *     cap: estimated_cost_usd times 1 + the workspace's cap margin) and is
 *     committed to the ledger before it is sent, which carries the handle's
 *     budget like any submission (run_budget.c);
 *     the first that does not fit, and the rest, are skipped with a WARN and
 *     recorded in the ledger's skips;
 *   - new jobs are named job_NNN after the handle's originals, never reusing
 *     an id the handle has.
 * While a question or a submission is out the poll step counts it among its
 * active retries, so it neither finishes nor counts a stall meanwhile.
 * Cost: each question builds jobs.trials anew, linear in the handle's jobs;
 * an adaptive search asks once per finished job, so it is meant for sweeps of
 * hundreds of trials, not the 100,000 a fixed plan can run. */
#include <stdio.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "run_int.h"

/* chunk: the job's finished record (its metrics or error_type), or null. */
static sb_val trial_entry(const job *j, sb_val chunk)
{
    sb_val t = sb_map_new(5);
    bool ok = sb_run__put(&t, "job_id", sb_string_cstr(j->id));
    ok = ok && sb_run__put(&t, "hyperparameters", sb_val_ref(j->hyper));
    ok = ok && sb_run__put(&t, "status", sb_string_cstr(sb_run__job_status_name(j->status)));
    const sb_val *m = chunk.kind == SB_MAP ? sb_map_get_str(chunk, "metrics") : NULL;
    const sb_val *et = chunk.kind == SB_MAP ? sb_map_get_str(chunk, "error_type") : NULL;
    if (ok && m)
        ok = sb_run__put(&t, "metrics", sb_val_ref(*m));
    if (ok && et)
        ok = sb_run__put(&t, "error_type", sb_val_ref(*et));
    if (!ok) {
        sb_val_free(t);
        return sb_oom();
    }
    return t;
}

/* jobs.trials: finished jobs with their metrics or error type (from their
 * records), then every other job as it stands. */
static bool push_finished(const poll_state *p, sb_val records, sb_val *list)
{
    for (size_t i = 0; i < sb_list_len(records); i++) {
        sb_val c = *sb_list_at(records, i);
        const sb_val *id = sb_map_get_str(c, "job_id");
        const sb_val *at = id ? sb_map_get(p->index, *id) : NULL;
        if (!at)
            continue;
        sb_val t = trial_entry(&p->jobs[at->as.i], c);
        if (t.kind != SB_MAP || !sb_list_push(list, t))
            return false;
    }
    return true;
}

static sb_val trials_var(const poll_state *p)
{
    sb_val list = sb_list_new(p->njobs);
    bool ok = list.kind == SB_LIST && push_finished(p, p->results, &list) && push_finished(p, p->failed, &list);
    for (size_t k = 0; ok && k < p->njobs; k++) {
        if (p->jobs[k].status == JOB_COMPLETED || p->jobs[k].status == JOB_FAILED)
            continue;
        sb_val t = trial_entry(&p->jobs[k], sb_null());
        ok = t.kind == SB_MAP && sb_list_push(&list, t);
    }
    if (!ok) {
        sb_val_free(list);
        return sb_oom();
    }
    return list;
}

static sb_val suggest_vars(sb_run *r, const poll_state *p, const job *j)
{
    sb_val extra = sb_map_new(2), jobs = sb_map_new(2), st = sb_map_new(6), jv = sb_map_new(3);
    const size_t *n = p->nstatus;
    bool ok = sb_run__put(&st, "queued_count", sb_int((int64_t)(n[JOB_QUEUED] + n[JOB_SUBMITTING])));
    ok = ok && sb_run__put(&st, "running_count", sb_int((int64_t)n[JOB_RUNNING]));
    ok = ok && sb_run__put(&st, "completed_count", sb_int((int64_t)n[JOB_COMPLETED]));
    ok = ok && sb_run__put(&st, "failed_count", sb_int((int64_t)n[JOB_FAILED]));
    ok = ok && sb_run__put(&st, "cancelled_count", sb_int((int64_t)n[JOB_CANCELLED]));
    ok = ok && sb_run__put(&st, "total", sb_int((int64_t)p->njobs));
    ok = sb_run__put(&jobs, "status", st) && ok;
    ok = sb_run__put(&jobs, "trials", ok ? trials_var(p) : sb_oom()) && ok;
    ok = sb_run__put(&extra, "jobs", jobs) && ok;
    ok = ok && sb_run__put(&jv, "job_id", sb_string_cstr(j->id));
    ok = ok && sb_run__put(&jv, "status", sb_string_cstr(sb_run__job_status_name(j->status)));
    ok = ok && sb_run__put(&jv, "hyperparameters", sb_val_ref(j->hyper));
    ok = sb_run__put(&extra, "job", jv) && ok;
    sb_val vars = ok ? sb_run__vars(r, extra) : sb_oom();
    sb_val_free(extra);
    return vars;
}

/* Gives the poll step back the hold of a question or submission. */
static void release(sb_run *r, size_t si)
{
    step *s = &r->steps[si];
    poll_state *p = r->steps[s->on_step].poll;
    s->sg_busy = false;
    if (p && p->active_retries)
        p->active_retries--;
}

static void ask(sb_run *r, size_t si, int64_t now)
{
    step *s = &r->steps[si];
    size_t pi = s->on_step;
    poll_state *p = r->steps[pi].poll;
    s->sg_again = false;
    sb_val vars = suggest_vars(r, p, &p->jobs[s->sg_job]);
    if (vars.kind != SB_MAP) {
        sb_val_free(vars);
        sb_run__fail(r, pi, now, "out of memory");
        return;
    }
    sb_val args = sb_tmpl_eval(s->sp->body, vars);
    sb_val_free(vars);
    if (sb_is_oom(args)) {
        sb_run__fail(r, pi, now, "out of memory");
        return;
    }
    if (args.kind != SB_MAP) {
        sb_run__log(r, SB_LOG_WARN, "Step %s: suggest.with: %s; no trials suggested", s->name,
                    args.kind == SB_ERROR ? sb_str(args) : "must give a mapping");
        sb_val_free(args);
        return;
    }
    s->sg_busy = true;
    p->active_retries++;
    if (!sb_run__call(r, s->sp->server, s->sp->tool, args, CALL_SUGGEST, si, 0, now)) {
        release(r, si);
        sb_run__fail(r, pi, now, "out of memory");
    }
    sb_val_free(args);
}

void sb_run__suggest_on_event(sb_run *r, size_t si, size_t pi, size_t k, int64_t now)
{
    step *s = &r->steps[si];
    (void)pi;
    s->sg_job = k;
    if (s->sg_busy) {
        s->sg_again = true;
        return;
    }
    ask(r, si, now);
}

/* After a question or a submission: ask again if events came meanwhile,
 * else let the poll step finish if it is done. */
static void next(sb_run *r, size_t si, int64_t now)
{
    step *s = &r->steps[si];
    size_t pi = s->on_step;
    if (s->sg_again && r->status == SB_RUN_RUNNING && !r->stopping && r->steps[pi].state == ST_RUNNING)
        ask(r, si, now);
    if (r->steps[pi].state == ST_RUNNING)
        sb_run__poll_maybe_finish(r, pi, now);
}

/* A new job id: job_NNN after the handle's originals, not yet in use. */
static void new_id(const poll_state *p, char *id, size_t n)
{
    size_t originals = 0;
    for (size_t k = 0; k < p->njobs; k++)
        originals += p->jobs[k].attempt == 0;
    for (size_t c = originals + 1;; c++) {
        snprintf(id, n, "job_%03zu", c);
        if (!sb_map_get_str(p->index, id))
            return;
    }
}

/* Adds the trials that pass the guard as JOB_SUBMITTING jobs, committed, and
 * builds their submit_jobs entries; false on OOM. */
static bool admit(sb_run *r, size_t si, poll_state *p, sb_val trials, sb_val *jobs)
{
    step *s = &r->steps[si];
    s->sg_first = p->njobs;
    s->sg_n = 0;
    for (size_t i = 0; i < sb_list_len(trials); i++) {
        sb_val t = *sb_list_at(trials, i);
        const sb_val *h = t.kind == SB_MAP ? sb_map_get_str(t, "hyperparameters") : NULL;
        const sb_val *e = t.kind == SB_MAP ? sb_map_get_str(t, "estimated_cost_usd") : NULL;
        char id[64];
        new_id(p, id, sizeof id);
        if (!h || h->kind != SB_MAP) {
            sb_run__log(r, SB_LOG_WARN, "Step %s: suggested trial %zu has no hyperparameters; not submitted", s->name,
                        i + 1);
            continue;
        }
        double est = -1;
        if (e && !(sb_val_as_double(*e, &est) && est >= 0))
            est = -1;
        /* The guard holds the trial's cap, as the Conductor will (docs/budget.md). */
        double cap = est * (1 + r->cap_margin);
        if (est < 0 || !sb_ledger_fits(r->ledger, cap)) {
            char what[96];
            snprintf(what, sizeof what, "Suggested trial %s", id);
            if (!sb_run__budget_refused(r, p->handle_id, what, id, est, cap))
                r->fatal = "out of memory";
            continue;
        }
        size_t nk = sb_run__poll_add_job(r, p, id, *h, est, id, 0, JOB_SUBMITTING);
        r->ledger_gen++;
        if (nk == (size_t)-1 || !sb_ledger_commit_capped(r->ledger, p->handle_id, id, est, cap, false))
            return false;
        s->sg_n++;
        sb_val spec = sb_map_new(3);
        bool ok = sb_run__put(&spec, "job_id", sb_string_cstr(id));
        ok = ok && sb_run__put(&spec, "hyperparameters", sb_val_ref(*h));
        ok = ok && sb_run__put(&spec, "estimated_cost_usd", sb_double(est));
        if (!ok) {
            sb_val_free(spec);
            return false;
        }
        if (!sb_list_push(jobs, spec)) /* consumes spec */
            return false;
        sb_buf m = SB_BUF_INIT;
        sb_buf_printf(&m, "Suggested %s: ", id);
        sb_val_write_json(&m, *h, 0);
        const sb_val *src = sb_map_get_str(t, "source");
        if (src && src->kind == SB_STRING)
            sb_buf_printf(&m, " (%s)", sb_str(*src));
        sb_buf_puts(&m, "; estimated $");
        sb_run__fmt_usd(&m, est);
        sb_run__log(r, SB_LOG_INFO, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
    }
    return true;
}

void sb_run__suggest_on_answer(sb_run *r, size_t si, sb_val result, int64_t now)
{
    step *s = &r->steps[si];
    size_t pi = s->on_step;
    poll_state *p = r->steps[pi].poll;
    if (sb_is_oom(result)) {
        sb_val_free(result);
        release(r, si);
        sb_run__fail(r, pi, now, "out of memory");
        return;
    }
    if (!p || r->status != SB_RUN_RUNNING || r->stopping || r->steps[pi].state != ST_RUNNING) {
        sb_val_free(result);
        release(r, si);
        return;
    }
    if (result.kind == SB_ERROR || sb_mcp_result_is_error(result)) {
        sb_val text = result.kind == SB_ERROR ? sb_val_ref(result) : sb_mcp_result_text(result);
        sb_run__log(r, SB_LOG_WARN, "Step %s: %s.%s: %s; no trials suggested", s->name, s->sp->server, s->sp->tool,
                    text.kind == SB_STRING || (text.kind == SB_ERROR && !sb_is_oom(text)) ? sb_str(text) : "");
        sb_val_free(text);
        sb_val_free(result);
        release(r, si);
        next(r, si, now);
        return;
    }
    sb_val value = sb_run__result_value(result);
    sb_val_free(result);
    const sb_val *trials = value.kind == SB_MAP ? sb_map_get_str(value, "trials") : NULL;
    sb_val jobs = sb_list_new(trials ? sb_list_len(*trials) : 0);
    bool ok = jobs.kind == SB_LIST && (!trials || trials->kind != SB_LIST || admit(r, si, p, *trials, &jobs));
    sb_val_free(value);
    if (!ok) {
        sb_val_free(jobs);
        release(r, si);
        sb_run__fail(r, pi, now, "out of memory");
        return;
    }
    if (sb_list_len(jobs) == 0) {
        sb_val_free(jobs);
        release(r, si);
        next(r, si, now);
        return;
    }
    sb_val args = sb_map_new(3);
    ok = sb_run__put(&args, "handle_id", sb_string_cstr(p->handle_id));
    char key[600];
    snprintf(key, sizeof key, "%s:%s", r->run_id, p->jobs[s->sg_first].id);
    ok = ok && sb_run__put(&args, "idempotency_key", sb_string_cstr(key));
    ok = sb_run__put(&args, "jobs", jobs) && ok;
    ok = ok && sb_run__budget_args(r, &args, p->handle_id);
    /* A submission with a part missing would be refused or run the wrong jobs. */
    if (!ok || !sb_run__call(r, p->server, p->submit_tool, args, CALL_SUGGEST_SUBMIT, si, 0, now)) {
        release(r, si);
        sb_run__fail(r, pi, now, "out of memory");
    }
    sb_val_free(args);
}

void sb_run__suggest_on_submitted(sb_run *r, size_t si, sb_val result, int64_t now)
{
    step *s = &r->steps[si];
    size_t pi = s->on_step;
    poll_state *p = r->steps[pi].poll;
    release(r, si);
    if (sb_is_oom(result)) {
        /* The server may have taken the jobs: they cannot be written off. */
        sb_run__fail(r, pi, now, "out of memory");
        return;
    }
    if (!p) {
        sb_val_free(result);
        return;
    }
    if (result.kind == SB_ERROR || sb_mcp_result_is_error(result)) {
        sb_val text = result.kind == SB_ERROR ? sb_val_ref(result) : sb_mcp_result_text(result);
        sb_run__log(r, SB_LOG_WARN, "Suggested trials could not be submitted: %s",
                    text.kind == SB_STRING || (text.kind == SB_ERROR && !sb_is_oom(text)) ? sb_str(text) : "");
        sb_val_free(text);
        for (size_t k = s->sg_first; k < s->sg_first + s->sg_n; k++) {
            sb_run__poll_set_status(p, k, JOB_CANCELLED);
            r->ledger_gen++;
            sb_ledger_settle(r->ledger, p->handle_id, p->jobs[k].id, 0, SB_LEDGER_CANCELLED);
        }
    } else {
        sb_buf m = SB_BUF_INIT;
        sb_buf_printf(&m, "Submitted %zu suggested trial%s to handle %s:", s->sg_n, s->sg_n == 1 ? "" : "s",
                      p->handle_id);
        sb_val ids = sb_list_new(s->sg_n);
        bool ok = ids.kind == SB_LIST;
        for (size_t k = s->sg_first; k < s->sg_first + s->sg_n; k++) {
            sb_run__poll_set_status(p, k, JOB_QUEUED);
            sb_buf_printf(&m, " %s", p->jobs[k].id);
            ok = ok && sb_list_push(&ids, sb_string_cstr(p->jobs[k].id));
        }
        sb_run__log(r, SB_LOG_INFO, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
        /* The caps the Conductor set go in the ledger, as for any submission. */
        sb_val value = sb_run__result_value(result);
        ok = ok && !sb_is_oom(value) && sb_run__budget_answer(r, p->handle_id, sb_null(), value, ids);
        sb_val_free(value);
        sb_val_free(ids);
        if (!ok) {
            sb_val_free(result);
            s->sg_n = 0;
            sb_run__fail(r, pi, now, "out of memory");
            return;
        }
    }
    sb_val_free(result);
    s->sg_n = 0;
    next(r, si, now);
}
