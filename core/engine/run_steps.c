/* Starting a step, and the step kinds that finish in one go: compute,
 * assert, select, aggregate; and call, which finishes when its answer
 * arrives (sb_run__call_done). Poll steps live in run_poll.c. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../aggregate/sb_aggregate.h"
#include "../json/sb_json.h"
#include "../util/sb_alloc.h"
#include "run_int.h"
#include "sb_handle.h"

/* Logs the step's `log:` line, if any, with `output` in scope. */
static void log_line(sb_run *r, step *s, sb_val output)
{
    sb_tmpl *t = s->sp->log;
    if (!t)
        return;
    sb_val extra = sb_map_new(1);
    sb_map_set_str(&extra, "output", sb_val_ref(output));
    sb_val vars = sb_run__vars(r, extra);
    sb_val v = vars.kind == SB_MAP ? sb_tmpl_eval(t, vars) : sb_oom();
    if (v.kind == SB_STRING)
        sb_run__log(r, SB_LOG_INFO, "%s", sb_str(v));
    else if (v.kind == SB_ERROR && !sb_is_oom(v)) /* a lost log line changes no result */
        sb_run__log(r, SB_LOG_WARN, "step '%s' log line: %s", s->name, sb_str(v));
    sb_val_free(v);
    sb_val_free(vars);
    sb_val_free(extra);
}

static void succeed(sb_run *r, size_t i, sb_val output, int64_t now)
{
    log_line(r, &r->steps[i], output);
    sb_run__step_done(r, i, ST_SUCCEEDED, output, now);
}

/* Evaluates t into *out; false (and the step failed with the message) on an
 * error. */
static bool eval_field(sb_run *r, size_t i, const sb_tmpl *t, sb_val vars, sb_val *out, int64_t now)
{
    *out = sb_tmpl_eval(t, vars);
    if (out->kind != SB_ERROR)
        return true;
    sb_run__fail(r, i, now, "%s", sb_str(*out));
    sb_val_free(*out);
    *out = sb_null();
    return false;
}

/* The evaluating kinds take the variables (*vars) and drop them once their
 * fields are evaluated: the `steps` variable is then no longer shared and
 * the next evaluation updates it in place (see run_vars.c). */
static void drop(sb_val *vars)
{
    sb_val_free(*vars);
    *vars = sb_null();
}

static void do_assert(sb_run *r, size_t i, sb_val *varsp, int64_t now)
{
    const sb_spec_step *sp = r->steps[i].sp;
    sb_val vars = *varsp;
    for (size_t k = 0; k < sp->nasserts; k++) {
        const sb_spec_assertion *a = &sp->asserts[k];
        sb_val that, msg = sb_null();
        if (!eval_field(r, i, a->that, vars, &that, now))
            return;
        if (that.kind != SB_BOOL) {
            sb_run__fail(r, i, now, "%s:%u:%u: assertion must be true or false, found %s", r->pipelines_file,
                         a->that_src.line, a->that_src.col, sb_kind_name((sb_kind)that.kind));
            sb_val_free(that);
            return;
        }
        if (!that.as.b && a->message && !eval_field(r, i, a->message, vars, &msg, now))
            return;
        if (!that.as.b) {
            sb_run__fail(r, i, now, "assertion failed: %s (%s)", msg.kind == SB_STRING ? sb_str(msg) : "no message",
                         a->that_src.kind == SB_STRING ? sb_str(a->that_src) : "");
            sb_val_free(msg);
            return;
        }
    }
    drop(varsp);
    succeed(r, i, sb_bool(true), now);
}

static void select_from(sb_run *r, size_t i, const sb_val *from, const sb_val *index, int64_t now);

/* A WARN for a step that got an empty list: when jobs ran and none
 * completed, that is the reason, and the log says so. */
static void warn_empty(sb_run *r, size_t i, const char *what)
{
    size_t completed = 0, failed = 0, jobs = 0;
    for (size_t k = 0; k < r->nsteps; k++)
        if (r->steps[k].poll) {
            completed += r->steps[k].poll->nstatus[JOB_COMPLETED];
            failed += r->steps[k].poll->nstatus[JOB_FAILED];
            jobs += r->steps[k].poll->njobs;
        }
    step *s = &r->steps[i];
    if (jobs > 0 && completed == 0)
        sb_run__log(r, SB_LOG_WARN, "Step %d/%zu: %s: %s: no job completed (%zu failed)", s->number, r->nsteps, s->name,
                what, failed);
    else
        sb_run__log(r, SB_LOG_WARN, "Step %d/%zu: %s: %s: the list is empty", s->number, r->nsteps, s->name, what);
}

static void do_select(sb_run *r, size_t i, sb_val *varsp, int64_t now)
{
    sb_val vars = *varsp;
    const sb_spec_step *sp = r->steps[i].sp;
    sb_val fromv, indexv;
    if (!eval_field(r, i, sp->from, vars, &fromv, now))
        return;
    if (!eval_field(r, i, sp->index, vars, &indexv, now)) {
        sb_val_free(fromv);
        return;
    }
    drop(varsp);
    select_from(r, i, &fromv, &indexv, now);
    sb_val_free(fromv);
    sb_val_free(indexv);
}

static void select_from(sb_run *r, size_t i, const sb_val *from, const sb_val *index, int64_t now)
{
    if (from->kind != SB_LIST) {
        sb_run__fail(r, i, now, "select.from must be a list, found %s", sb_kind_name((sb_kind)from->kind));
        return;
    }
    if (index->kind != SB_INT) {
        sb_run__fail(r, i, now, "select.index must be an integer, found %s", sb_kind_name((sb_kind)index->kind));
        return;
    }
    int64_t k = index->as.i;
    if (sb_list_len(*from) == 0) {
        /* Nothing to choose from is an outcome, not a fault of the step: its
         * output is null and the steps after it decide (a when: skips them). */
        warn_empty(r, i, "nothing to select (output null)");
        succeed(r, i, sb_null(), now);
        return;
    }
    if (k < 0 || (size_t)k >= sb_list_len(*from)) {
        sb_run__fail(r, i, now, "select.index %lld is out of range: the list has %zu item%s", (long long)k,
                 sb_list_len(*from), sb_list_len(*from) == 1 ? "" : "s");
        return;
    }
    succeed(r, i, sb_val_ref(*sb_list_at(*from, (size_t)k)), now);
}

static void log_ranked(sb_run *r, sb_val out, const char *metric)
{
    const sb_val *best = sb_map_get_str(out, "best");
    const sb_val *top = sb_map_get_str(out, "top");
    if (!best || best->kind != SB_MAP) {
        sb_run__log(r, SB_LOG_WARN, "No result has a numeric %s to rank by", metric);
        return;
    }
    for (size_t k = 0; top && k < sb_list_len(*top); k++) {
        sb_val e = *sb_list_at(*top, k);
        const sb_val *id = sb_map_get_str(e, "job_id");
        const sb_val *score = sb_path_get(e, metric);
        const sb_val *hp = sb_map_get_str(e, "hyperparameters");
        sb_buf m = SB_BUF_INIT;
        sb_buf_printf(&m, "%s #%zu: %s %s=", k == 0 ? "Best" : "Top", k + 1, id ? sb_str(*id) : "?", metric);
        if (score)
            sb_val_write_json(&m, *score, 0);
        if (hp) {
            sb_buf_putc(&m, ' ');
            sb_val_write_json(&m, *hp, 0);
        }
        sb_run__log(r, k == 0 ? SB_LOG_SUCCESS : SB_LOG_INFO, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
    }
}

static void rank(sb_run *r, size_t i, const sb_val *from, const sb_val *metric, const sb_val *dir, const sb_val *k,
                 int64_t now);

static void do_aggregate(sb_run *r, size_t i, sb_val *varsp, int64_t now)
{
    sb_val vars = *varsp;
    const sb_spec_step *sp = r->steps[i].sp;
    sb_val v[4] = {sb_null(), sb_null(), sb_null(), sb_null()};
    const sb_tmpl *t[4] = {sp->from, sp->metric, sp->direction, sp->top_k};
    bool ok = true;
    for (int n = 0; ok && n < 4; n++)
        ok = eval_field(r, i, t[n], vars, &v[n], now);
    drop(varsp);
    if (ok)
        rank(r, i, &v[0], &v[1], &v[2], &v[3], now);
    for (int n = 0; n < 4; n++)
        sb_val_free(v[n]);
}

static void rank(sb_run *r, size_t i, const sb_val *from, const sb_val *metric, const sb_val *dir, const sb_val *k,
                 int64_t now)
{
    if (from->kind != SB_LIST) {
        sb_run__fail(r, i, now, "aggregate.from must be a list, found %s", sb_kind_name((sb_kind)from->kind));
        return;
    }
    if (metric->kind != SB_STRING || sb_str_len(*metric) == 0) {
        sb_run__fail(r, i, now, "aggregate.metric must be a dotted path such as metrics.val_acc");
        return;
    }
    if (!sb_str_eq(*dir, "max") && !sb_str_eq(*dir, "min")) {
        sb_run__fail(r, i, now, "aggregate.direction must be max or min");
        return;
    }
    if (k->kind != SB_INT || k->as.i < 1) {
        sb_run__fail(r, i, now, "aggregate.top_k must be an integer >= 1");
        return;
    }
    sb_val out = sb_aggregate_rank(*from, sb_str(*metric), sb_str_eq(*dir, "max"), (size_t)k->as.i);
    if (out.kind == SB_ERROR) {
        sb_run__fail(r, i, now, "%s", sb_str(out));
        sb_val_free(out);
        return;
    }
    if (sb_list_len(*from) == 0)
        warn_empty(r, i, "nothing to rank (best null, top [])");
    else
        log_ranked(r, out, sb_str(*metric));
    succeed(r, i, out, now);
}

static double sum_estimates(sb_val args)
{
    const sb_val *jobs = sb_map_get_str(args, "jobs");
    double total = 0;
    for (size_t k = 0; jobs && k < sb_list_len(*jobs); k++) {
        const sb_val *e = sb_map_get_str(*sb_list_at(*jobs, k), "estimated_cost_usd");
        double x;
        if (e && sb_val_as_double(*e, &x) && x > 0)
            total += x;
    }
    return total;
}

static void do_call(sb_run *r, size_t i, sb_val args, int64_t now)
{
    step *s = &r->steps[i];
    if (args.kind != SB_MAP) {
        sb_run__fail(r, i, now, "the arguments of %s.%s must be a mapping", s->sp->server, s->sp->tool);
        sb_val_free(args);
        return;
    }
    sb_val_free(s->call_args);
    s->call_args = args;
    /* Budget guard for a submission: refuse before anything is launched. */
    if (s->sp->handle_id) {
        const sb_val *to = sb_map_get_str(s->call_args, "handle_id");
        if (!sb_run__budget_args(r, &s->call_args, to && to->kind == SB_STRING ? sb_str(*to) : NULL)) {
            sb_run__fail(r, i, now, "out of memory");
            return;
        }
        args = s->call_args;
    }
    double est = s->sp->handle_id ? sum_estimates(args) : 0;
    if (est > 0 && !sb_ledger_fits(r->ledger, est)) {
        sb_buf m = SB_BUF_INIT;
        sb_buf_puts(&m, "the jobs are estimated at $");
        sb_run__fmt_usd(&m, est);
        sb_buf_puts(&m, ", more than the $");
        sb_run__fmt_usd(&m, sb_ledger_remaining(r->ledger));
        sb_buf_puts(&m, " left in the budget; nothing was submitted");
        sb_run__fail(r, i, now, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
        return;
    }
    sb_run__log(r, SB_LOG_INFO, "Calling %s.%s", s->sp->server, s->sp->tool);
    s->call_attempt = 1;
    sb_mcp_call_opts opts = {s->sp->progress, s->sp->task_ttl_ms};
    if (!sb_run__call_ex(r, s->sp->server, s->sp->tool, args, opts.progress || opts.task_ttl_ms ? &opts : NULL,
                         CALL_STEP, i, 0, now))
        sb_run__fail(r, i, now, "out of memory");
}

void sb_run__start_step(sb_run *r, size_t i, int64_t now)
{
    step *s = &r->steps[i];
    sb_run__set_state(r, i, ST_RUNNING);
    s->started_ms = now;
    sb_val vars = sb_run__vars(r, sb_null());
    if (vars.kind != SB_MAP) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    if (s->sp->when) {
        sb_val b = sb_tmpl_eval_bool(s->sp->when, vars);
        if (b.kind == SB_ERROR) {
            sb_run__fail(r, i, now, "%s", sb_str(b));
            sb_val_free(b);
            sb_val_free(vars);
            return;
        }
        if (!b.as.b) {
            sb_buf m = SB_BUF_INIT;
            sb_buf_puts(&m, "when is false: ");
            if (s->sp->when_src.kind == SB_STRING)
                sb_buf_puts(&m, sb_str(s->sp->when_src));
            else
                sb_val_write_json(&m, s->sp->when_src, 0);
            sb_free(s->reason);
            s->reason = sb_buf_take(&m);
            sb_run__log(r, SB_LOG_INFO, "Step %d/%zu: %s skipped (%s)", s->number, r->nsteps, s->name,
                    s->reason ? s->reason : "when is false");
            sb_val_free(vars);
            sb_run__step_done(r, i, ST_SKIPPED, sb_null(), now);
            return;
        }
    }
    r->steps_started++;
    sb_run__log(r, SB_LOG_INFO, "Step %d/%zu: %s", s->number, r->nsteps, s->name);
    sb_run__step_event(r, i);
    switch (s->kind) {
    case K_ASSERT: do_assert(r, i, &vars, now); break;
    case K_SELECT: do_select(r, i, &vars, now); break;
    case K_AGGREGATE: do_aggregate(r, i, &vars, now); break;
    case K_COMPUTE:
    case K_CALL:
    case K_POLL: {
        sb_val v;
        bool ok = eval_field(r, i, s->sp->body, vars, &v, now);
        drop(&vars);
        if (!ok)
            break;
        if (s->kind == K_COMPUTE)
            succeed(r, i, v, now);
        else if (s->kind == K_CALL)
            do_call(r, i, v, now); /* keeps v */
        else {
            sb_run__poll_start(r, i, v, now);
            sb_val_free(v);
        }
        break;
    }
    default: break;
    }
    sb_val_free(vars);
}

/* --- call answers --- */

/* The handle's id and job ids from the call's answer (in vars as
 * `result`); each a new value or an error. */
static void eval_handle(const sb_spec_step *sp, sb_val vars, sb_val *id, sb_val *jobs)
{
    *id = vars.kind == SB_MAP ? sb_tmpl_eval(sp->handle_id, vars) : sb_oom();
    *jobs = id->kind == SB_ERROR ? sb_null() : sb_tmpl_eval(sp->handle_jobs, vars);
}

static void make_handle(sb_run *r, size_t i, sb_val value, int64_t now)
{
    step *s = &r->steps[i];
    sb_val extra = sb_map_new(1);
    sb_map_set_str(&extra, "result", sb_val_ref(value));
    sb_val vars = sb_run__vars(r, extra);
    sb_val hid, hjobs;
    eval_handle(s->sp, vars, &hid, &hjobs);
    sb_val_free(vars);
    sb_val_free(extra);
    sb_val h = hid.kind == SB_ERROR ? hid : hjobs; /* the error to report, if any */
    const sb_val *id = &hid, *jobs = &hjobs;
    if (h.kind == SB_ERROR || id->kind != SB_STRING || jobs->kind != SB_LIST) {
        if (h.kind == SB_ERROR)
            sb_run__fail(r, i, now, "handle: %s", sb_str(h));
        else
            sb_run__fail(r, i, now, "handle: id must be a string and jobs a list of job ids (the server answered %s)",
                     "without them");
        sb_val_free(hid);
        sb_val_free(hjobs);
        sb_val_free(value);
        return;
    }
    for (size_t k = 0; k < sb_list_len(*jobs); k++)
        if (sb_list_at(*jobs, k)->kind != SB_STRING) {
            sb_run__fail(r, i, now, "handle: job id %zu is not a string", k);
            sb_val_free(hid);
        sb_val_free(hjobs);
            sb_val_free(value);
            return;
        }
    /* Commit each job's estimate: with.jobs[k] pairs with the k-th job id;
     * then the caps the Conductor answered replace the estimates as caps. */
    const sb_val *sent = sb_map_get_str(s->call_args, "jobs");
    double total = 0;
    bool ok = true;
    r->ledger_gen++;
    for (size_t k = 0; k < sb_list_len(*jobs); k++) {
        const sb_val *spec = sent ? sb_list_at(*sent, k) : NULL;
        const sb_val *e = spec ? sb_map_get_str(*spec, "estimated_cost_usd") : NULL;
        double x = 0;
        if (e)
            sb_val_as_double(*e, &x);
        /* A job id the server repeats is committed once. */
        sb_val key = sb_run__estimate_key(sb_str(*id), sb_str(*sb_list_at(*jobs, k)));
        if (key.kind != SB_STRING)
            ok = false;
        else if (!sb_map_get(r->estimates, key))
            ok = ok && sb_ledger_commit(r->ledger, sb_str(*id), sb_str(*sb_list_at(*jobs, k)), x, false) &&
                 sb_map_set(&r->estimates, sb_val_ref(key), sb_double(x));
        sb_val_free(key);
        total += x;
    }
    ok = ok && sb_run__budget_answer(r, sb_str(*id), s->call_args, value, *jobs);
    sb_val_free(s->handle);
    s->handle = sb_run__handle_make(s->sp->handle_server ? s->sp->handle_server : s->sp->server, sb_str(*id), *jobs,
                                    "get_jobs_status", s->sp->tool);
    sb_run__touch(r, i);
    if (!ok || s->handle.kind != SB_MAP) {
        /* Submitted jobs the ledger does not know would break the budget guard. */
        sb_run__fail(r, i, now, "out of memory");
        sb_val_free(hid);
        sb_val_free(hjobs);
        sb_val_free(value);
        return;
    }
    sb_buf m = SB_BUF_INIT;
    sb_buf_printf(&m, "Submitted %zu job%s to %s (handle %s)", sb_list_len(*jobs), sb_list_len(*jobs) == 1 ? "" : "s",
                  s->sp->server, sb_str(*id));
    if (total > 0) {
        sb_buf_puts(&m, ", estimated $");
        sb_run__fmt_usd(&m, total);
    }
    sb_run__log(r, SB_LOG_INFO, "%s", sb_buf_str(&m));
    sb_buf_free(&m);
    /* The handle as text another run or `sibyl handle` takes: printed now,
     * because a run killed after this point leaves its jobs running. */
    sb_val ext = sb_handle_external(s->handle);
    sb_val text = ext.kind == SB_MAP ? sb_handle_text(ext) : sb_null();
    if (text.kind == SB_STRING)
        sb_run__log(r, SB_LOG_INFO, "Handle %s (follow it with `sibyl handle watch %s` or a pipeline input of type handle)",
                    sb_str(text), sb_str(text));
    sb_val_free(text);
    sb_val_free(ext);
    sb_val_free(hid);
        sb_val_free(hjobs);
    succeed(r, i, value, now);
}

/* An answer that arrives after the run was cancelled changes nothing, but
 * jobs it says were submitted are cancelled too (best effort, like the
 * others): nobody would watch them, and they would cost money. */
static void late_answer(sb_run *r, size_t i, sb_val result, int64_t now)
{
    step *s = &r->steps[i];
    if (s->sp->handle_id && result.kind == SB_MAP && !sb_mcp_result_is_error(result)) {
        sb_val value = sb_run__result_value(result);
        sb_val extra = sb_map_new(1);
        bool ok = sb_run__put(&extra, "result", sb_val_ref(value));
        sb_val vars = ok ? sb_run__vars(r, extra) : sb_oom();
        sb_val hid, hjobs;
        eval_handle(s->sp, vars, &hid, &hjobs);
        const sb_val *id = &hid;
        const char *srv = s->sp->handle_server ? s->sp->handle_server : s->sp->server;
        if (id->kind == SB_STRING) {
            sb_val args = sb_map_new(1);
            sb_run__log(r, SB_LOG_WARN, "Cancelling the jobs of handle %s: they were submitted as the run was cancelled",
                    sb_str(*id));
            if (!sb_run__put(&args, "handle_id", sb_val_ref(*id)) ||
                !sb_run__call(r, srv, "cancel_jobs", args, CALL_CANCEL, i, 0, now))
                sb_run__log(r, SB_LOG_ERROR, "out of memory: the jobs of handle %s were not cancelled", sb_str(*id));
            sb_val_free(args);
        }
        sb_val_free(hid);
        sb_val_free(hjobs);
        sb_val_free(vars);
        sb_val_free(extra);
        sb_val_free(value);
    }
    sb_val_free(result);
}

/* A call that got no usable answer (transport failure, HTTP 5xx, 408 or
 * 429, a malformed answer) may be repeated; one the server refused
 * (JSON-RPC error, other HTTP 4xx) or that ran out of memory may not. The
 * client words its errors (core/mcp/sb_mcp_client.h); these are the ones it
 * words for a refusal. */
static bool worth_repeating(sb_val err)
{
    if (sb_is_oom(err))
        return false;
    const char *m = sb_str(err), *h = strstr(m, ": HTTP ");
    if (strstr(m, ": JSON-RPC error ") || strstr(m, "client closed"))
        return false;
    if (h) {
        int code = atoi(h + 7);
        return code >= 500 || code == 408 || code == 429;
    }
    return true;
}

void sb_run__call_again(sb_run *r, size_t i, int64_t now)
{
    if (i >= r->nsteps)
        return;
    step *s = &r->steps[i];
    if (r->finishing || s->state != ST_RUNNING || s->kind != K_CALL)
        return;
    s->call_attempt++;
    sb_run__log(r, SB_LOG_INFO, "Calling %s.%s again (attempt %d/%d)", s->sp->server, s->sp->tool, s->call_attempt,
                s->sp->call_attempts);
    sb_mcp_call_opts opts = {s->sp->progress, s->sp->task_ttl_ms};
    if (!sb_run__call_ex(r, s->sp->server, s->sp->tool, s->call_args, opts.progress || opts.task_ttl_ms ? &opts : NULL,
                         CALL_STEP, i, 0, now))
        sb_run__fail(r, i, now, "out of memory");
}

void sb_run__call_done(sb_run *r, size_t i, sb_val result, int64_t now)
{
    step *s = &r->steps[i];
    if (r->finishing || s->state != ST_RUNNING) {
        late_answer(r, i, result, now);
        return;
    }
    /* Without call_retry: only a submission whose arguments carry an
     * idempotency key, which makes a second submit harmless. */
    const sb_val *key = s->call_args.kind == SB_MAP ? sb_map_get_str(s->call_args, "idempotency_key") : NULL;
    bool safe = s->sp->call_retry_given || (key && key->kind == SB_STRING);
    if (result.kind == SB_ERROR && safe && s->call_attempt < s->sp->call_attempts && worth_repeating(result)) {
        int64_t delay = sb_backoff_delay(&s->sp->call_backoff, (uint32_t)(s->call_attempt - 1), &r->rng);
        sb_run__log(r, SB_LOG_WARN, "Step %d/%zu: %s: attempt %d/%d got no answer: %s; trying again in %lld ms",
                    s->number, r->nsteps, s->name, s->call_attempt, s->sp->call_attempts, sb_str(result),
                    (long long)delay);
        sb_val_free(result);
        if (!sb_timers_add(r->timers, sb_timers_deadline(now, delay), TIMER_TAG(TT_CALL_AGAIN, i)))
            sb_run__fail(r, i, now, "out of memory");
        return;
    }
    if (result.kind == SB_ERROR && s->call_attempt > 1) {
        sb_run__fail(r, i, now, "%s (gave up after %d attempts)", sb_str(result), s->call_attempt);
        sb_val_free(result);
        return;
    }
    if (result.kind == SB_ERROR) {
        sb_run__fail(r, i, now, "%s", sb_str(result));
        sb_val_free(result);
        return;
    }
    if (sb_mcp_result_is_error(result)) {
        sb_val text = sb_mcp_result_text(result);
        sb_run__fail(r, i, now, "%s.%s: %s", s->sp->server, s->sp->tool,
                     text.kind == SB_STRING && sb_str_len(text) ? sb_str(text) : "the tool reported an error");
        sb_val_free(text);
        sb_val_free(result);
        return;
    }
    sb_val value = sb_run__result_value(result);
    sb_val_free(result);
    if (sb_is_oom(value)) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    if (s->sp->handle_id) {
        make_handle(r, i, value, now);
        return;
    }
    succeed(r, i, value, now);
}
