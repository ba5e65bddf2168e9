/* Starting a step, and the step kinds that finish in one go: compute,
 * assert, select, aggregate; and call, which finishes when its answer
 * arrives (sb_run__call_done). Poll steps live in run_poll.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../aggregate/sb_aggregate.h"
#include "../json/sb_json.h"
#include "../util/sb_alloc.h"
#include "run_int.h"

/* Logs the step's `log:` line, if any, with `output` in scope. */
static void log_line(sb_run *r, step *s, sb_val output)
{
    sb_tmpl *t = s->log_tmpl;
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

static void do_assert(sb_run *r, size_t i, sb_val list, int64_t now)
{
    const sb_val *items = sb_map_get_str(r->steps[i].def, "assert");
    for (size_t k = 0; k < sb_list_len(list); k++) {
        sb_val a = *sb_list_at(list, k);
        const sb_val *that = sb_map_get_str(a, "that");
        const sb_val *msg = sb_map_get_str(a, "message");
        const sb_val *src = sb_map_get_str(*sb_list_at(*items, k), "that");
        if (!that || that->kind != SB_BOOL) {
            sb_run__fail(r, i, now, "%s:%u:%u: assertion must be true or false, found %s", r->pipelines_file,
                     src ? src->line : 0, src ? src->col : 0, that ? sb_kind_name((sb_kind)that->kind) : "nothing");
            return;
        }
        if (!that->as.b) {
            sb_run__fail(r, i, now, "assertion failed: %s (%s)", msg ? sb_str(*msg) : "no message",
                     src ? sb_str(*src) : "");
            return;
        }
    }
    succeed(r, i, sb_bool(true), now);
}

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

static void do_select(sb_run *r, size_t i, sb_val m, int64_t now)
{
    const sb_val *from = sb_map_get_str(m, "from");
    const sb_val *index = sb_map_get_str(m, "index");
    if (!from || from->kind != SB_LIST) {
        sb_run__fail(r, i, now, "select.from must be a list, found %s",
                 from ? sb_kind_name((sb_kind)from->kind) : "nothing");
        return;
    }
    int64_t k = index && index->kind == SB_INT ? index->as.i : 0;
    if (index && index->kind != SB_INT) {
        sb_run__fail(r, i, now, "select.index must be an integer, found %s", sb_kind_name((sb_kind)index->kind));
        return;
    }
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

static void do_aggregate(sb_run *r, size_t i, sb_val m, int64_t now)
{
    const sb_val *from = sb_map_get_str(m, "from");
    const sb_val *metric = sb_map_get_str(m, "metric");
    const sb_val *dir = sb_map_get_str(m, "direction");
    const sb_val *k = sb_map_get_str(m, "top_k");
    if (!from || from->kind != SB_LIST) {
        sb_run__fail(r, i, now, "aggregate.from must be a list, found %s",
                 from ? sb_kind_name((sb_kind)from->kind) : "nothing");
        return;
    }
    if (!metric || metric->kind != SB_STRING || sb_str_len(*metric) == 0) {
        sb_run__fail(r, i, now, "aggregate.metric must be a dotted path such as metrics.val_acc");
        return;
    }
    if (dir && !sb_str_eq(*dir, "max") && !sb_str_eq(*dir, "min")) {
        sb_run__fail(r, i, now, "aggregate.direction must be max or min");
        return;
    }
    if (k && (k->kind != SB_INT || k->as.i < 1)) {
        sb_run__fail(r, i, now, "aggregate.top_k must be an integer >= 1");
        return;
    }
    sb_val out = sb_aggregate_rank(*from, sb_str(*metric), !dir || sb_str_eq(*dir, "max"),
                                   k ? (size_t)k->as.i : 3);
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
        sb_run__fail(r, i, now, "the arguments of %s.%s must be a mapping", s->server, s->tool);
        sb_val_free(args);
        return;
    }
    sb_val_free(s->call_args);
    s->call_args = args;
    /* Budget guard for a submission: refuse before anything is launched. */
    double est = s->handle_tmpl ? sum_estimates(args) : 0;
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
    sb_run__log(r, SB_LOG_INFO, "Calling %s.%s", s->server, s->tool);
    if (!sb_run__call(r, s->server, s->tool, args, CALL_STEP, i, 0, now))
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
    if (s->when) {
        sb_val b = sb_tmpl_eval_bool(s->when, vars);
        if (b.kind == SB_ERROR) {
            sb_run__fail(r, i, now, "%s", sb_str(b));
            sb_val_free(b);
            sb_val_free(vars);
            return;
        }
        if (!b.as.b) {
            const sb_val *w = sb_map_get_str(s->def, "when");
            sb_buf m = SB_BUF_INIT;
            sb_buf_printf(&m, "when is false: %s", sb_str(*w));
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
    sb_val v = sb_tmpl_eval(s->body, vars);
    sb_val_free(vars);
    if (v.kind == SB_ERROR) {
        sb_run__fail(r, i, now, "%s", sb_str(v));
        sb_val_free(v);
        return;
    }
    switch (s->kind) {
    case K_COMPUTE: succeed(r, i, v, now); return;
    case K_ASSERT: do_assert(r, i, v, now); break;
    case K_SELECT: do_select(r, i, v, now); break;
    case K_AGGREGATE: do_aggregate(r, i, v, now); break;
    case K_CALL: do_call(r, i, v, now); return; /* keeps v */
    case K_POLL: sb_run__poll_start(r, i, v, now); break;
    default: break;
    }
    sb_val_free(v);
}

/* --- call answers --- */

char *sb_run__result_text(sb_val result)
{
    const sb_val *content = sb_map_get_str(result, "content");
    sb_buf b = SB_BUF_INIT;
    for (size_t k = 0; content && k < sb_list_len(*content); k++) {
        const sb_val *t = sb_map_get_str(*sb_list_at(*content, k), "text");
        if (t && t->kind == SB_STRING) {
            if (b.len)
                sb_buf_putc(&b, '\n');
            sb_buf_append(&b, sb_str(*t), sb_str_len(*t));
        }
    }
    return sb_buf_take(&b);
}

sb_val sb_run__result_value(sb_val result)
{
    const sb_val *sc = sb_map_get_str(result, "structuredContent");
    if (sc)
        return sb_val_ref(*sc);
    char *text = sb_run__result_text(result);
    if (!text)
        return sb_oom();
    sb_val v = sb_json_parse(text, strlen(text));
    if (v.kind == SB_ERROR) {
        sb_val_free(v);
        v = sb_string_cstr(text);
    }
    sb_free(text);
    return v;
}

static void make_handle(sb_run *r, size_t i, sb_val value, int64_t now)
{
    step *s = &r->steps[i];
    sb_val extra = sb_map_new(1);
    sb_map_set_str(&extra, "result", sb_val_ref(value));
    sb_val vars = sb_run__vars(r, extra);
    sb_val h = vars.kind == SB_MAP ? sb_tmpl_eval(s->handle_tmpl, vars) : sb_oom();
    sb_val_free(vars);
    sb_val_free(extra);
    const sb_val *id = sb_map_get_str(h, "id"), *jobs = sb_map_get_str(h, "jobs"), *srv = sb_map_get_str(h, "server");
    if (h.kind == SB_ERROR || !id || id->kind != SB_STRING || !jobs || jobs->kind != SB_LIST) {
        if (h.kind == SB_ERROR)
            sb_run__fail(r, i, now, "handle: %s", sb_str(h));
        else
            sb_run__fail(r, i, now, "handle: id must be a string and jobs a list of job ids (the server answered %s)",
                     "without them");
        sb_val_free(h);
        sb_val_free(value);
        return;
    }
    for (size_t k = 0; k < sb_list_len(*jobs); k++)
        if (sb_list_at(*jobs, k)->kind != SB_STRING) {
            sb_run__fail(r, i, now, "handle: job id %zu is not a string", k);
            sb_val_free(h);
            sb_val_free(value);
            return;
        }
    /* Commit each job's estimate: with.jobs[k] pairs with the k-th job id. */
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
    sb_val_free(s->handle);
    s->handle = sb_run__handle_make(srv && srv->kind == SB_STRING ? sb_str(*srv) : s->server, sb_str(*id), *jobs,
                            "get_jobs_status", s->tool);
    sb_run__touch(r, i);
    if (!ok || s->handle.kind != SB_MAP) {
        /* Submitted jobs the ledger does not know would break the budget guard. */
        sb_run__fail(r, i, now, "out of memory");
        sb_val_free(h);
        sb_val_free(value);
        return;
    }
    sb_buf m = SB_BUF_INIT;
    sb_buf_printf(&m, "Submitted %zu job%s to %s (handle %s)", sb_list_len(*jobs), sb_list_len(*jobs) == 1 ? "" : "s",
                  s->server, sb_str(*id));
    if (total > 0) {
        sb_buf_puts(&m, ", estimated $");
        sb_run__fmt_usd(&m, total);
    }
    sb_run__log(r, SB_LOG_INFO, "%s", sb_buf_str(&m));
    sb_buf_free(&m);
    sb_val_free(h);
    succeed(r, i, value, now);
}

/* An answer that arrives after the run was cancelled changes nothing, but
 * jobs it says were submitted are cancelled too (best effort, like the
 * others): nobody would watch them, and they would cost money. */
static void late_answer(sb_run *r, size_t i, sb_val result, int64_t now)
{
    step *s = &r->steps[i];
    const sb_val *is_err = sb_map_get_str(result, "isError");
    if (s->handle_tmpl && result.kind == SB_MAP && !(is_err && is_err->kind == SB_BOOL && is_err->as.b)) {
        sb_val value = sb_run__result_value(result);
        sb_val extra = sb_map_new(1);
        bool ok = sb_run__put(&extra, "result", sb_val_ref(value));
        sb_val vars = ok ? sb_run__vars(r, extra) : sb_oom();
        sb_val h = vars.kind == SB_MAP ? sb_tmpl_eval(s->handle_tmpl, vars) : sb_oom();
        const sb_val *id = sb_map_get_str(h, "id"), *srv = sb_map_get_str(h, "server");
        if (id && id->kind == SB_STRING) {
            sb_val args = sb_map_new(1);
            sb_run__log(r, SB_LOG_WARN, "Cancelling the jobs of handle %s: they were submitted as the run was cancelled",
                    sb_str(*id));
            if (!sb_run__put(&args, "handle_id", sb_val_ref(*id)) ||
                !sb_run__call(r, srv && srv->kind == SB_STRING ? sb_str(*srv) : s->server, "cancel_jobs", args, CALL_CANCEL,
                          i, 0, now))
                sb_run__log(r, SB_LOG_ERROR, "out of memory: the jobs of handle %s were not cancelled", sb_str(*id));
            sb_val_free(args);
        }
        sb_val_free(h);
        sb_val_free(vars);
        sb_val_free(extra);
        sb_val_free(value);
    }
    sb_val_free(result);
}

void sb_run__call_done(sb_run *r, size_t i, sb_val result, int64_t now)
{
    step *s = &r->steps[i];
    if (r->finishing || s->state != ST_RUNNING) {
        late_answer(r, i, result, now);
        return;
    }
    if (result.kind == SB_ERROR) {
        sb_run__fail(r, i, now, "%s", sb_str(result));
        sb_val_free(result);
        return;
    }
    const sb_val *is_err = sb_map_get_str(result, "isError");
    if (is_err && is_err->kind == SB_BOOL && is_err->as.b) {
        char *text = sb_run__result_text(result);
        sb_run__fail(r, i, now, "%s.%s: %s", s->server, s->tool, text && *text ? text : "the tool reported an error");
        sb_free(text);
        sb_val_free(result);
        return;
    }
    sb_val value = sb_run__result_value(result);
    sb_val_free(result);
    if (sb_is_oom(value)) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    if (s->handle_tmpl) {
        make_handle(r, i, value, now);
        return;
    }
    succeed(r, i, value, now);
}
