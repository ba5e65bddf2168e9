/* Event-triggered steps. A step with `on: <poll step>.job_failed` runs each
 * time a job of that poll step fails, while polling goes on. A retry step
 * resubmits the job to the same handle with patched hyperparameters, after
 * its backoff, if:
 *   - the step's `when` holds (it sees job, error, jobs, attempt),
 *   - retry.when holds (default: error.type == 'transient'),
 *   - the job's chain has had fewer than retry.max_attempts retries,
 *   - the retry's cost cap (its estimate times 1 + cost_model.cap_margin_fraction)
 *     fits what is left of the budget (the guard: otherwise a WARN and a
 *     recorded skip).
 * The estimate is committed to the ledger when the retry is decided, so two
 * retries decided in the same poll cannot together overspend. The hard limit
 * is the Conductor's (docs/budget.md): the submission carries the handle's
 * budget, and a retry that does not fit there when its turn comes is left
 * unstarted. */
#include <stdio.h>
#include <string.h>

#include "../cel/sb_cel.h"
#include "../util/sb_grow.h"
#include "../util/sb_alloc.h"
#include "run_int.h"
#include "sb_status_answer.h"

/* --- error classification --- */

static bool matches(sb_run *r, const char *message, const char *pattern)
{
    if (!r->matcher) {
        static const char src[] = "message.matches(pattern)";
        r->matcher = sb_cel_parse(src, sizeof src - 1, NULL, NULL);
        if (!r->matcher)
            return false;
    }
    sb_val vars = sb_map_new(2);
    sb_map_set_str(&vars, "message", sb_string_cstr(message));
    sb_map_set_str(&vars, "pattern", sb_string_cstr(pattern));
    sb_val v = sb_cel_eval(r->matcher, vars);
    bool hit = v.kind == SB_BOOL && v.as.b;
    if (v.kind == SB_ERROR)
        sb_run__log(r, SB_LOG_WARN, "error pattern '%s' cannot be used: %s", pattern, sb_str(v));
    sb_val_free(v);
    sb_val_free(vars);
    return hit;
}

static bool any_match(sb_run *r, const char *message, char *const *patterns, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (matches(r, message, patterns[k]))
            return true;
    return false;
}

const char *sb_run__retry_classify(sb_run *r, const char *message)
{
    const sb_spec *sp = r->spec;
    if (any_match(r, message, sp->permanent_patterns, sp->npermanent))
        return "permanent";
    if (any_match(r, message, sp->transient_patterns, sp->ntransient))
        return "transient";
    return sp->default_transient ? "transient" : "permanent";
}

/* --- the event --- */

static sb_val job_var(const job *j, sb_val rec)
{
    sb_val m = sb_map_new(8);
    bool ok = sb_run__put(&m, "job_id", sb_string_cstr(j->id));
    ok = ok && sb_run__put(&m, "status", sb_string_cstr(sb_run__job_status_name(j->status)));
    ok = ok && sb_run__put(&m, "hyperparameters", sb_val_ref(j->hyper));
    ok = ok && sb_run__put(&m, "attempt", sb_int(j->attempt));
    ok = ok && sb_run__put(&m, "retry_of", sb_run__job_retry_of(j));
    ok = ok && sb_run__put(&m, "estimated_cost_usd", j->estimate_usd >= 0 ? sb_double(j->estimate_usd) : sb_null());
    sb_status_fields f;
    sb_status_job_fields(rec, &f);
    const struct {
        const char *name;
        const sb_val *v;
    } copy[] = {{"metrics", f.metrics},
                {"duration_seconds", f.duration_seconds},
                {"cost_usd", f.cost_usd},
                {"error", f.error},
                {"error_type", f.error_type}};
    for (size_t k = 0; ok && k < sizeof copy / sizeof *copy; k++)
        if (copy[k].v)
            ok = sb_run__put(&m, copy[k].name, sb_val_ref(*copy[k].v));
    if (!ok) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}

/* The variables of an event-triggered step; sb_oom() when memory ran out. */
static sb_val event_vars(sb_run *r, poll_state *p, const job *j, sb_val chunk)
{
    sb_val extra = sb_map_new(4);
    bool ok = sb_run__put(&extra, "job", job_var(j, j->record));
    if (j->status == JOB_FAILED) {
        sb_val e = sb_map_new(2);
        const sb_val *et = sb_map_get_str(chunk, "error_type"), *msg = sb_map_get_str(chunk, "error");
        ok = ok && sb_run__put(&e, "type", et ? sb_val_ref(*et) : sb_string_cstr("permanent"));
        ok = ok && sb_run__put(&e, "message", msg ? sb_val_ref(*msg) : sb_string_cstr(""));
        ok = sb_run__put(&extra, "error", e) && ok;
    } else {
        ok = ok && sb_run__put(&extra, "error", sb_null());
    }
    const size_t *n = p->nstatus;
    sb_val st = sb_map_new(6);
    ok = ok && sb_run__put(&st, "queued_count", sb_int((int64_t)n[JOB_QUEUED]));
    ok = ok && sb_run__put(&st, "running_count", sb_int((int64_t)n[JOB_RUNNING]));
    ok = ok && sb_run__put(&st, "completed_count", sb_int((int64_t)n[JOB_COMPLETED]));
    ok = ok && sb_run__put(&st, "failed_count", sb_int((int64_t)n[JOB_FAILED]));
    ok = ok && sb_run__put(&st, "cancelled_count", sb_int((int64_t)n[JOB_CANCELLED]));
    ok = ok && sb_run__put(&st, "total", sb_int((int64_t)p->njobs));
    sb_val jobs = sb_map_new(1);
    ok = sb_run__put(&jobs, "status", st) && ok;
    ok = sb_run__put(&extra, "jobs", jobs) && ok;
    ok = ok && sb_run__put(&extra, "attempt", sb_int(j->attempt + 1));
    sb_val vars = ok ? sb_run__vars(r, extra) : sb_oom();
    sb_val_free(extra);
    return vars;
}

static double estimate_for(sb_run *r, poll_state *p, const job *j)
{
    if (j->estimate_usd >= 0)
        return j->estimate_usd;
    /* The chain's original, then the mean of what is known. */
    const sb_val *k = sb_map_get_str(p->index, j->root);
    if (k && p->jobs[k->as.i].estimate_usd >= 0)
        return p->jobs[k->as.i].estimate_usd;
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < p->njobs; i++)
        if (p->jobs[i].estimate_usd >= 0)
            sum += p->jobs[i].estimate_usd, n++;
    (void)r;
    return n ? sum / (double)n : -1;
}

/* "learning_rate 0.01 -> 0.005" for each value the patch changes. */
static void describe_patch(sb_buf *m, sb_val old, sb_val patch)
{
    size_t n = 0;
    for (size_t k = 0; k < sb_map_len(patch); k++) {
        sb_val key = *sb_map_key_at(patch, k);
        const sb_val *before = sb_map_get(old, key);
        if (before && sb_val_equal(*before, *sb_map_val_at(patch, k)))
            continue;
        sb_buf_printf(m, "%s%s ", n++ ? ", " : "", sb_str(key));
        if (before)
            sb_val_write_json(m, *before, 0);
        else
            sb_buf_puts(m, "(unset)");
        sb_buf_puts(m, " -> ");
        sb_val_write_json(m, *sb_map_val_at(patch, k), 0);
    }
    if (!n)
        sb_buf_puts(m, "same hyperparameters");
}

static void decide_retry(sb_run *r, size_t si, size_t pi, size_t k, sb_val vars, int64_t now)
{
    step *s = &r->steps[si];
    poll_state *p = r->steps[pi].poll;
    job *j = &p->jobs[k];
    sb_val ok = sb_tmpl_eval_bool(s->sp->retry_when, vars);
    if (sb_is_oom(ok)) {
        sb_run__fail(r, pi, now, "out of memory");
        return;
    }
    if (ok.kind == SB_ERROR) {
        sb_run__log(r, SB_LOG_WARN, "Step %s: retry.when for job %s: %s; not retried", s->name, j->id, sb_str(ok));
        sb_val_free(ok);
        return;
    }
    if (!ok.as.b) {
        sb_run__log(r, SB_LOG_WARN, "Job %s is not retried (retry.when is false: the error is not transient)", j->id);
        return;
    }
    if (j->attempt >= s->sp->max_attempts) {
        sb_run__log(r, SB_LOG_WARN, "Job %s is not retried: its chain reached retry.max_attempts (%d)", j->id,
                s->sp->max_attempts);
        return;
    }
    sb_val hyper = sb_val_clone(j->hyper.kind == SB_MAP ? j->hyper : sb_null());
    if (hyper.kind != SB_MAP) {
        sb_val_free(hyper);
        hyper = sb_map_new(0);
    }
    sb_val patch = s->sp->modify ? sb_tmpl_eval(s->sp->modify, vars) : sb_map_new(0);
    bool merged = hyper.kind == SB_MAP && patch.kind == SB_MAP;
    for (size_t n = 0; merged && n < sb_map_len(patch); n++)
        merged = sb_map_set(&hyper, sb_val_ref(*sb_map_key_at(patch, n)), sb_val_ref(*sb_map_val_at(patch, n)));
    if (sb_is_oom(patch) || sb_is_oom(hyper) || (patch.kind == SB_MAP && !merged)) {
        /* Never submit a retry with half its patch applied. */
        sb_val_free(patch);
        sb_val_free(hyper);
        sb_run__fail(r, pi, now, "out of memory");
        return;
    }
    if (patch.kind != SB_MAP) {
        sb_run__log(r, SB_LOG_WARN, "Job %s is not retried: retry.modify: %s", j->id,
                patch.kind == SB_ERROR ? sb_str(patch) : "must give a mapping");
        sb_val_free(patch);
        sb_val_free(hyper);
        return;
    }
    char id[512];
    snprintf(id, sizeof id, "%s_retry_%d", j->root, j->attempt + 1);
    double est = estimate_for(r, p, j);
    double cap = est * (1 + r->cap_margin);
    if (est < 0 || !sb_ledger_fits(r->ledger, cap)) {
        char what[600];
        snprintf(what, sizeof what, "Retry of job %s", j->id);
        bool recorded = sb_run__budget_refused(r, p->handle_id, what, id, est, cap);
        sb_val_free(patch);
        sb_val_free(hyper);
        if (!recorded) /* the skip belongs in the result's cost breakdown */
            sb_run__fail(r, pi, now, "out of memory");
        return;
    }
    sb_buf m = SB_BUF_INIT;
    char root[512];
    snprintf(root, sizeof root, "%s", j->root);
    int attempt = j->attempt + 1;
    size_t nk = sb_run__poll_add_job(r, p, id, hyper, est, root, attempt, JOB_SUBMITTING);
    r->ledger_gen++;
    if (nk == (size_t)-1 || !sb_ledger_commit_capped(r->ledger, p->handle_id, id, est, cap, true)) {
        sb_run__fail(r, pi, now, "out of memory");
        sb_buf_free(&m);
        sb_val_free(patch);
        sb_val_free(hyper);
        return;
    }
    j = &p->jobs[k]; /* sb_run__poll_add_job may have moved the array */
    /* Other hyperparameters may cost otherwise (a halved batch runs longer):
     * the old estimate would make a cap the retry cannot keep. */
    p->jobs[nk].quoted = !sb_val_equal(hyper, j->hyper);
    if (!SB_GROW(p->retries, p->rcap, p->nretries + 1)) {
        sb_run__fail(r, pi, now, "out of memory");
        goto out;
    }
    size_t ri = p->nretries++;
    p->active_retries++;
    int64_t delay = sb_backoff_delay(&s->sp->retry_backoff, (uint32_t)(attempt - 1), &r->rng);
    p->retries[ri] = (pending_retry){nk, si, 0, false, false};
    p->retries[ri].timer =
        sb_timers_add(r->timers, sb_timers_deadline(now, delay), TIMER_TAG(TT_RETRY, (pi << 24) | ri));
    sb_buf_printf(&m, "Retrying job %s as %s (attempt %d of %d) in %lldms: ", j->id, id, attempt, s->sp->max_attempts,
                  (long long)delay);
    describe_patch(&m, j->hyper, patch);
    sb_buf_puts(&m, "; estimated $");
    sb_run__fmt_usd(&m, est);
    sb_run__log(r, SB_LOG_INFO, "%s", sb_buf_str(&m));
    if (!p->retries[ri].timer)
        sb_run__retry_on_timer(r, pi, ri, now);
out:
    sb_buf_free(&m);
    sb_val_free(patch);
    sb_val_free(hyper);
}

void sb_run__retry_on_job_event(sb_run *r, size_t pi, size_t k, job_event ev, int64_t now)
{
    for (size_t si = 0; si < r->nsteps; si++) {
        step *s = &r->steps[si];
        if (s->on_step != pi || s->on_event != ev || r->status != SB_RUN_RUNNING ||
            r->steps[pi].state != ST_RUNNING)
            continue;
        if (s->state == ST_WAITING) {
            sb_run__set_state(r, si, ST_RUNNING);
            s->started_ms = now;
            r->steps_started++;
            sb_run__log(r, SB_LOG_INFO, "Step %d/%zu: %s (triggered: %s %s)", s->number, r->nsteps, s->name,
                    r->steps[pi].poll->jobs[k].id, sb_run__job_status_name(r->steps[pi].poll->jobs[k].status));
            sb_run__step_event(r, si);
        }
        if (s->state != ST_RUNNING)
            continue;
        poll_state *p = r->steps[pi].poll;
        sb_val chunk = sb_null();
        /* The chunk is the last finished record: rebuild error info from it. */
        size_t nf = sb_list_len(p->failed);
        if (p->jobs[k].status == JOB_FAILED && nf)
            chunk = *sb_list_at(p->failed, nf - 1);
        sb_val vars = event_vars(r, p, &p->jobs[k], chunk);
        if (vars.kind != SB_MAP) {
            /* Out of memory: a retry decided on missing variables would be a wrong one. */
            sb_run__fail(r, pi, now, "out of memory");
            return;
        }
        if (s->sp->when) {
            sb_val b = sb_tmpl_eval_bool(s->sp->when, vars);
            if (sb_is_oom(b)) {
                sb_val_free(vars);
                sb_run__fail(r, pi, now, "out of memory");
                return;
            }
            bool go = b.kind == SB_BOOL && b.as.b;
            if (b.kind == SB_ERROR)
                sb_run__log(r, SB_LOG_WARN, "Step %s: when for job %s: %s", s->name, p->jobs[k].id, sb_str(b));
            sb_val_free(b);
            if (!go) {
                sb_val_free(vars);
                continue;
            }
        }
        s->fired++;
        if (s->kind == K_SUGGEST) {
            sb_run__suggest_on_event(r, si, pi, k, now);
        } else if (s->kind == K_RETRY) {
            decide_retry(r, si, pi, k, vars, now);
        } else if (s->kind == K_COMPUTE) {
            sb_val v = sb_tmpl_eval(s->sp->body, vars);
            if (sb_is_oom(v)) {
                sb_val_free(vars);
                sb_run__fail(r, pi, now, "out of memory");
                return;
            }
            if (v.kind == SB_ERROR)
                sb_run__log(r, SB_LOG_WARN, "Step %s for job %s: %s", s->name, p->jobs[k].id, sb_str(v));
            sb_val_free(s->output);
            s->output = v;
            sb_run__touch(r, si);
        }
        sb_val_free(vars);
        if (r->steps[pi].state != ST_RUNNING)
            return;
    }
}

void sb_run__retry_on_timer(sb_run *r, size_t pi, size_t ri, int64_t now)
{
    poll_state *p = pi < r->nsteps ? r->steps[pi].poll : NULL;
    if (!p || ri >= p->nretries || p->retries[ri].done || r->steps[pi].state != ST_RUNNING)
        return;
    pending_retry *pr = &p->retries[ri];
    pr->timer = 0;
    job *j = &p->jobs[pr->job];
    sb_val args = sb_map_new(3);
    bool ok = sb_run__put(&args, "handle_id", sb_string_cstr(p->handle_id));
    char key[600];
    snprintf(key, sizeof key, "%s:%s", r->run_id, j->id);
    ok = ok && sb_run__put(&args, "idempotency_key", sb_string_cstr(key));
    sb_val spec = sb_map_new(4);
    ok = ok && sb_run__put(&spec, "job_id", sb_string_cstr(j->id));
    ok = ok && sb_run__put(&spec, "hyperparameters", sb_val_ref(j->hyper));
    ok = ok && sb_run__put(&spec, "retry_of", sb_run__job_retry_of(j));
    if (!j->quoted)
        ok = ok && sb_run__put(&spec, "estimated_cost_usd", sb_double(j->estimate_usd));
    sb_val jobs = sb_list_new(1);
    ok = sb_list_push(&jobs, spec) && ok;
    ok = sb_run__put(&args, "jobs", jobs) && ok;
    ok = ok && sb_run__budget_args(r, &args, p->handle_id);
    pr->in_flight = true;
    /* A submission with a part missing would be refused or, worse, run the wrong job. */
    if (!ok || !sb_run__call(r, p->server, p->submit_tool, args, CALL_RETRY_SUBMIT, pi, ri, now))
        sb_run__fail(r, pi, now, "out of memory");
    sb_val_free(args);
}

void sb_run__retry_on_submitted(sb_run *r, size_t pi, size_t ri, sb_val result, int64_t now)
{
    poll_state *p = r->steps[pi].poll;
    if (!p || ri >= p->nretries) {
        sb_val_free(result);
        return;
    }
    pending_retry *pr = &p->retries[ri];
    job *j = &p->jobs[pr->job];
    pr->in_flight = false;
    pr->done = true;
    p->active_retries--;
    if (sb_is_oom(result)) {
        /* The server may have taken the job: it cannot be written off as
         * never submitted. */
        sb_run__fail(r, pi, now, "out of memory");
        return;
    }
    if (result.kind == SB_ERROR || sb_mcp_result_is_error(result)) {
        sb_val text = result.kind == SB_ERROR ? sb_val_ref(result) : sb_mcp_result_text(result);
        sb_run__log(r, SB_LOG_WARN, "Retry %s could not be submitted: %s", j->id,
                    text.kind == SB_STRING || (text.kind == SB_ERROR && !sb_is_oom(text)) ? sb_str(text) : "");
        sb_val_free(text);
        sb_run__poll_set_status(p, pr->job, JOB_CANCELLED);
        r->ledger_gen++;
        sb_ledger_settle(r->ledger, p->handle_id, j->id, 0, SB_LEDGER_CANCELLED);
    } else {
        sb_run__poll_set_status(p, pr->job, JOB_QUEUED);
        sb_run__log(r, SB_LOG_INFO, "Submitted retry %s to handle %s", j->id, p->handle_id);
        sb_val value = sb_run__result_value(result);
        sb_val ids = sb_list_new(1);
        bool ok = sb_list_push(&ids, sb_string_cstr(j->id)) && !sb_is_oom(value) &&
                  sb_run__budget_answer(r, p->handle_id, sb_null(), value, ids);
        sb_val_free(ids);
        sb_val_free(value);
        if (!ok) {
            sb_val_free(result);
            sb_run__fail(r, pi, now, "out of memory");
            return;
        }
    }
    sb_val_free(result);
    sb_run__poll_maybe_finish(r, pi, now);
}
