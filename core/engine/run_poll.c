/* Poll steps: one status call per handle per poll, exponential backoff
 * between polls, job tracking, one stream chunk per finished job.
 *
 * max_attempts counts polls in a row without progress, not polls in total.
 * A poll makes progress when a job changed state or the server reports a job
 * running: a healthy 36-hour sweep polls thousands of times while its jobs
 * run for hours without changing state, and must never be abandoned. What
 * stalls is a handle on which nothing runs and nothing moves (a cluster that
 * never starts the queue) or whose status calls keep failing: it ends with a
 * clear error and every result kept. Polls while a retry of this handle waits
 * for its backoff or its submission do not count: that wait is sibyl's. A
 * job that hangs while "running" is caught by timeout_ms, which bounds the
 * whole step. The delay index grows with every poll (2000, 3000, 4500, 6750,
 * 10000, 10000, ...) and is not reset by progress. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_grow.h"
#include "run_int.h"
#include "sb_handle.h"
#include "sb_status_answer.h"

/* The run's job states extend the contract's with one of its own. */
_Static_assert(JOB_QUEUED == (int)SB_JOB_QUEUED && JOB_RUNNING == (int)SB_JOB_RUNNING &&
                   JOB_COMPLETED == (int)SB_JOB_COMPLETED && JOB_FAILED == (int)SB_JOB_FAILED &&
                   JOB_CANCELLED == (int)SB_JOB_CANCELLED && JOB_SUBMITTING == SB_JOB_NSTATES,
               "job states follow sb_job_state");

const char *sb_run__job_status_name(int s)
{
    return s == JOB_SUBMITTING ? "submitting" : sb_job_state_name((sb_job_state)s);
}

static bool terminal(int s) { return s == JOB_COMPLETED || s == JOB_FAILED || s == JOB_CANCELLED; }


void sb_run__poll_free(poll_state *p)
{
    if (!p)
        return;
    for (size_t k = 0; k < p->njobs; k++) {
        sb_free(p->jobs[k].id);
        sb_free(p->jobs[k].root);
        sb_val_free(p->jobs[k].hyper);
        sb_val_free(p->jobs[k].record);
        sb_val_free(p->jobs[k].progress);
    }
    sb_free(p->jobs);
    sb_estop_free(p->estop);
    sb_val_free(p->stopped);
    sb_free(p->retries);
    sb_val_free(p->handle);
    sb_val_free(p->cursor);
    sb_val_free(p->index);
    sb_val_free(p->results);
    sb_val_free(p->failed);
    sb_free(p->server);
    sb_free(p->handle_id);
    sb_free(p->status_tool);
    sb_free(p->submit_tool);
    sb_free(p);
}

size_t sb_run__poll_add_job(sb_run *r, poll_state *p, const char *id, sb_val hyper, double estimate, const char *root,
                    int attempt, int status)
{
    (void)r;
    if (!SB_GROW(p->jobs, p->cap, p->njobs + 1))
        return (size_t)-1;
    job *j = &p->jobs[p->njobs];
    memset(j, 0, sizeof *j);
    j->id = sb_strdup(id);
    j->root = sb_strdup(root ? root : id);
    j->hyper = sb_val_ref(hyper);
    j->record = sb_null();
    j->progress = sb_null();
    j->estimate_usd = estimate;
    j->attempt = attempt;
    j->status = status;
    if (!j->id || !j->root || !sb_map_set(&p->index, sb_string_cstr(id), sb_int((int64_t)p->njobs))) {
        sb_free(j->id);
        sb_free(j->root);
        sb_val_free(j->hyper);
        return (size_t)-1;
    }
    p->nstatus[status]++;
    return p->njobs++;
}

void sb_run__poll_set_status(poll_state *p, size_t k, int status)
{
    assert(k < p->njobs && status >= JOB_QUEUED && status <= JOB_SUBMITTING);
    assert(p->nstatus[p->jobs[k].status] > 0);
    p->nstatus[p->jobs[k].status]--;
    p->nstatus[status]++;
    p->jobs[k].status = status;
}

/* Jobs not yet completed, failed or cancelled. */
static size_t unfinished(const poll_state *p)
{
    return p->nstatus[JOB_QUEUED] + p->nstatus[JOB_RUNNING] + p->nstatus[JOB_SUBMITTING];
}

static size_t job_index(poll_state *p, sb_val id)
{
    const sb_val *k = sb_map_get(p->index, id);
    return k ? (size_t)k->as.i : (size_t)-1;
}

static void schedule_poll(sb_run *r, size_t i, int64_t now)
{
    poll_state *p = r->steps[i].poll;
    int64_t delay = sb_backoff_delay(&p->backoff, p->polls, &r->rng);
    p->last_delay = delay;
    p->timer = sb_timers_add(r->timers, sb_timers_deadline(now, delay), TIMER_TAG(TT_POLL, i));
    if (!p->timer)
        sb_run__fail(r, i, now, "out of memory");
}

void sb_run__poll_start(sb_run *r, size_t i, sb_val h, int64_t now)
{
    step *s = &r->steps[i];
    bool external = sb_handle_is_external(h);
    if (!sb_run__handle_is_pollable(h) && !external) {
        sb_buf m = SB_BUF_INIT;
        sb_buf_puts(&m, "poll: expected a PollableJobHandle (from a call step with handle:) or an ExternalHandle, found ");
        sb_val_write_json(&m, h, 0);
        sb_run__fail(r, i, now, "%.300s", sb_buf_str(&m));
        sb_buf_free(&m);
        return;
    }
    if (external && sb_handle_kind_of(h) != SB_HANDLE_CONDUCTOR) {
        sb_run__fail(r, i, now,
                     "poll: handle %s:%s:%s is an MCP task, not a job handle: follow it with `sibyl handle watch`",
                     sb_handle_field(h, "server", "?"), sb_handle_kind_name(sb_handle_kind_of(h)),
                     sb_handle_field(h, "id", "?"));
        return;
    }
    poll_state *p = sb_calloc(1, sizeof *p);
    if (!p) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    s->poll = p;
    p->handle = sb_val_ref(h);
    p->cursor = sb_null();
    p->index = sb_map_new(0);
    p->results = sb_list_new(0);
    p->failed = sb_list_new(0);
    p->server = sb_strdup(sb_handle_field(h, "server", "?"));
    p->handle_id = sb_strdup(sb_handle_field(h, external ? "id" : "handle_id", "?"));
    /* A handle this run did not make: its jobs are learnt from the server's
     * first answer (no cursor: every job), and adopted in the ledger. */
    p->adopted = external;
    /* The handle value (a step's output, not configuration) names its tools;
     * the step's status_tool wins. */
    const sb_val *hst = sb_map_get_str(h, "status_tool");
    const sb_val *sub = sb_map_get_str(h, "submit_tool");
    p->status_tool = sb_strdup(s->sp->status_tool                  ? s->sp->status_tool
                               : hst && hst->kind == SB_STRING ? sb_str(*hst)
                                                               : "get_jobs_status");
    p->submit_tool = sb_strdup(sub && sub->kind == SB_STRING ? sb_str(*sub) : "submit_jobs");
    if (!p->server || !p->handle_id || !p->status_tool || !p->submit_tool || p->index.kind != SB_MAP ||
        p->results.kind != SB_LIST || p->failed.kind != SB_LIST) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    /* The spec layered the table's defaults, the workspace's and the step's. */
    sb_backoff b = s->sp->polling.backoff;
    p->backoff = b;
    p->max_attempts = s->sp->polling.max_attempts;
    p->timeout_ms = s->sp->polling.timeout_ms;
    p->stream = s->sp->stream;
    p->started_ms = now;
    if (!sb_run__estop_start(r, i, now))
        return;

    const sb_val *ids = sb_map_get_str(h, "job_ids");
    for (size_t k = 0; ids && k < sb_list_len(*ids); k++) {
        sb_val id = *sb_list_at(*ids, k);
        if (id.kind != SB_STRING || job_index(p, id) != (size_t)-1)
            continue;
        sb_val key = sb_run__estimate_key(p->handle_id, sb_str(id));
        const sb_val *e = sb_map_get(r->estimates, key);
        sb_val_free(key);
        double est = -1;
        if (e)
            sb_val_as_double(*e, &est);
        if (sb_run__poll_add_job(r, p, sb_str(id), sb_null(), est, NULL, 0, JOB_QUEUED) == (size_t)-1) {
            sb_run__fail(r, i, now, "out of memory");
            return;
        }
    }
    if (external)
        sb_run__log(r, SB_LOG_INFO, "Following handle %s on %s: its jobs come from the server's answers", p->handle_id,
                    p->server);
    else
        sb_run__log(r, SB_LOG_INFO,
                    "Monitoring %zu job%s on handle %s (backoff %lldms x%g up to %lldms, stall after %d polls without "
                    "progress)",
                    p->njobs, p->njobs == 1 ? "" : "s", p->handle_id, (long long)b.initial_ms, b.multiplier,
                    (long long)b.max_ms, p->max_attempts);
    if (p->timeout_ms > 0 &&
        !sb_timers_add(r->timers, sb_timers_deadline(now, p->timeout_ms), TIMER_TAG(TT_TIMEOUT, i))) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    schedule_poll(r, i, now);
}

void sb_run__poll_on_timer(sb_run *r, size_t i, int64_t now)
{
    step *s = &r->steps[i];
    poll_state *p = s->poll;
    if (!p || s->state != ST_RUNNING)
        return;
    p->timer = 0;
    sb_val args = sb_map_new(2);
    bool ok = sb_run__put(&args, "handle_id", sb_string_cstr(p->handle_id));
    if (p->cursor.kind != SB_NULL)
        ok = ok && sb_run__put(&args, "since_cursor", sb_val_ref(p->cursor));
    p->polls++;
    p->call_in_flight = true;
    if (!ok || !sb_run__call(r, p->server, p->status_tool, args, CALL_POLL_STATUS, i, 0, now)) {
        p->call_in_flight = false;
        sb_run__fail(r, i, now, "out of memory");
    }
    sb_val_free(args);
}

void sb_run__poll_on_timeout(sb_run *r, size_t i, int64_t now)
{
    step *s = &r->steps[i];
    poll_state *p = s->poll;
    if (!p || s->state != ST_RUNNING)
        return;
    sb_run__fail(r, i, now, "polling handle %s timed out after %lld ms; %zu completed and %zu failed results kept",
             p->handle_id, (long long)p->timeout_ms, sb_list_len(p->results), sb_list_len(p->failed));
}

/* The chunk streamed for a finished job (design §5); sb_oom() when memory
 * ran out, never a partial chunk. */
sb_val sb_run__job_retry_of(const job *j)
{
    if (j->attempt <= 0)
        return sb_null();
    if (j->attempt == 1)
        return sb_string_cstr(j->root);
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s_retry_%d", j->root, j->attempt - 1);
    sb_val v = sb_buf_failed(&b) ? sb_oom() : sb_string(sb_buf_str(&b), b.len);
    sb_buf_free(&b);
    return v;
}

/* The Conductor's budget guard ended the job: stopped at its cap (failed)
 * or never started (cancelled), both with error_type "budget". */
static bool budget_ended(sb_val rec)
{
    const sb_val *et = rec.kind == SB_MAP ? sb_map_get_str(rec, "error_type") : NULL;
    return et && sb_str_eq(*et, "budget");
}

static sb_val chunk_for(sb_run *r, job *j, sb_val rec)
{
    sb_val c = sb_map_new(10);
    bool unstarted = j->status == JOB_CANCELLED && budget_ended(rec);
    const char *type = j->status == JOB_COMPLETED ? "job_completed"
                       : j->status == JOB_FAILED  ? "job_failed"
                       : unstarted                ? "job_unstarted"
                                                  : "job_cancelled";
    bool ok = sb_run__put(&c, "type", sb_string_key(type, strlen(type))); /* shared: one of three */
    ok = ok && sb_run__put(&c, "job_id", sb_string_cstr(j->id));
    if (j->attempt > 0)
        ok = ok && sb_run__put(&c, "retry_of", sb_run__job_retry_of(j));
    sb_status_fields f;
    sb_status_job_fields(rec, &f);
    const sb_val *hp = f.hyperparameters;
    ok = ok && sb_run__put(&c, "hyperparameters", hp ? sb_val_ref(*hp) : sb_val_ref(j->hyper));
    if (j->status == JOB_COMPLETED) {
        const sb_val *m = f.metrics;
        ok = ok && sb_run__put(&c, "metrics", m ? sb_val_ref(*m) : sb_map_new(0));
    } else if (j->status == JOB_FAILED || unstarted) {
        const sb_val *e = f.error;
        const sb_val *et = f.error_type;
        const char *msg = e && e->kind == SB_STRING ? sb_str(*e) : "unknown error";
        ok = ok && sb_run__put(&c, "error", sb_string_cstr(msg));
        ok = ok && sb_run__put(&c, "error_type",
                           et && et->kind == SB_STRING ? sb_val_ref(*et) : sb_string_cstr(sb_run__retry_classify(r, msg)));
    }
    const sb_val *dur = f.duration_seconds;
    const sb_val *cost = f.cost_usd;
    ok = ok && sb_run__put(&c, "duration_seconds", dur ? sb_val_ref(*dur) : sb_int(0));
    /* 0, not 0.0: a job cancelled before it started has no cost, and its
     * chunk should read the same as the server's JSON would. */
    ok = ok && sb_run__put(&c, "cost_usd", cost ? sb_val_ref(*cost) : sb_int(0));
    if (!ok) {
        sb_val_free(c);
        return sb_oom();
    }
    return c;
}

static void note_best(sb_run *r, sb_val chunk)
{
    const sb_val *m = sb_map_get_str(chunk, "metrics");
    const sb_val *v = m && sb_map_len(*m) ? sb_map_val_at(*m, 0) : NULL;
    double x, cur;
    if (!v || !sb_val_as_double(*v, &x))
        return;
    const sb_val *bm = sb_map_get_str(r->best, "metrics");
    const sb_val *bv = bm && sb_map_len(*bm) ? sb_map_val_at(*bm, 0) : NULL;
    if (bv && sb_val_as_double(*bv, &cur) && cur >= x)
        return;
    sb_val_free(r->best);
    r->best = sb_val_ref(chunk);
}

static void finish_job(sb_run *r, size_t i, size_t k, int64_t now)
{
    if (sb_run__estop_finish(r, i, k, now))
        return;
    poll_state *p = r->steps[i].poll;
    job *j = &p->jobs[k];
    sb_val chunk = chunk_for(r, j, j->record);
    if (chunk.kind != SB_MAP) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    double cost = 0;
    const sb_val *c = sb_map_get_str(chunk, "cost_usd");
    if (c)
        sb_val_as_double(*c, &cost);
    /* A result or a cost that cannot be recorded fails the step rather than
     * go missing from the result and the ledger. */
    r->ledger_gen++;
    bool by_budget = j->status != JOB_COMPLETED && budget_ended(j->record);
    sb_ledger_outcome outcome = j->status == JOB_COMPLETED ? SB_LEDGER_COMPLETED
                                : j->status == JOB_FAILED  ? (by_budget ? SB_LEDGER_STOPPED : SB_LEDGER_FAILED)
                                                           : (by_budget ? SB_LEDGER_UNSTARTED : SB_LEDGER_CANCELLED);
    p->nstopped += outcome == SB_LEDGER_STOPPED;
    p->nunstarted += outcome == SB_LEDGER_UNSTARTED;
    bool ok = sb_ledger_settle(r->ledger, p->handle_id, j->id, cost, outcome);
    if (ok) {
        sb_buf_reset(&r->line);
        sb_val_write_json(&r->line, chunk, 0);
        ok = !sb_buf_failed(&r->line);
    }
    if (ok && p->stream) /* stream: false keeps the step's chunks out of the stream */
        sb_run__event(r, SB_EVENT_STREAM, SB_LOG_STREAM, sb_buf_str(&r->line), chunk);
    if (ok && j->status == JOB_COMPLETED)
        ok = sb_list_push(&p->results, sb_val_ref(chunk));
    else if (ok && j->status == JOB_FAILED)
        ok = sb_list_push(&p->failed, sb_val_ref(chunk));
    if (!ok) {
        sb_val_free(chunk);
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    if (j->status == JOB_COMPLETED) {
        note_best(r, chunk);
    } else if (outcome == SB_LEDGER_STOPPED) {
        sb_buf m = SB_BUF_INIT;
        sb_buf_printf(&m, "Job %s stopped at its cost cap: charged $", j->id);
        sb_run__fmt_usd(&m, cost);
        sb_buf_puts(&m, " (the Conductor's budget guard)");
        sb_run__log(r, SB_LOG_WARN, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
    } else if (outcome == SB_LEDGER_UNSTARTED) {
        sb_buf m = SB_BUF_INIT;
        const sb_val *cap = j->record.kind == SB_MAP ? sb_map_get_str(j->record, "cost_cap_usd") : NULL;
        double usd;
        sb_buf_printf(&m, "Job %s left unstarted: its cost cap", j->id);
        if (cap && sb_val_as_double(*cap, &usd)) {
            sb_buf_puts(&m, " of $");
            sb_run__fmt_usd(&m, usd);
        }
        sb_buf_puts(&m, " does not fit what is left of the budget (the Conductor's budget guard)");
        sb_run__log(r, SB_LOG_WARN, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
    } else if (j->status == JOB_FAILED) {
        const sb_val *e = sb_map_get_str(chunk, "error"), *et = sb_map_get_str(chunk, "error_type");
        sb_buf m = SB_BUF_INIT;
        sb_buf_printf(&m, "Job %s failed (%s): %s; partial cost $", j->id, sb_str(*et), sb_str(*e));
        sb_run__fmt_usd(&m, cost);
        sb_run__log(r, SB_LOG_WARN, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
    }
    sb_val_free(chunk);
    if (j->status == JOB_FAILED)
        sb_run__retry_on_job_event(r, i, k, EV_JOB_FAILED, now);
    else if (j->status == JOB_COMPLETED)
        sb_run__retry_on_job_event(r, i, k, EV_JOB_COMPLETED, now);
    if (r->steps[i].state == ST_RUNNING)
        sb_run__retry_on_job_event(r, i, k, EV_JOB_FINISHED, now);
    /* Its chunk has what is worth keeping; at 100,000 jobs the records
     * would be a third of the run's memory. (The events may have moved the
     * jobs array.) */
    sb_val_free(p->jobs[k].record);
    p->jobs[k].record = sb_null();
}

static void log_poll(sb_run *r, size_t i, size_t changed)
{
    poll_state *p = r->steps[i].poll;
    sb_buf m = SB_BUF_INIT;
    /* "Poll #%u - Jobs status (delay: %lldms): running %lld, queued %lld,
     * completed %lld, failed %lld", without printf: once per poll. */
    sb_buf_puts(&m, "Poll #");
    sb_buf_int(&m, p->polls);
    sb_buf_puts(&m, " - Jobs status (delay: ");
    sb_buf_int(&m, p->last_delay);
    sb_buf_puts(&m, "ms): running ");
    sb_buf_int(&m, p->counts[1]);
    sb_buf_puts(&m, ", queued ");
    sb_buf_int(&m, p->counts[0]);
    sb_buf_puts(&m, ", completed ");
    sb_buf_int(&m, p->counts[2]);
    sb_buf_puts(&m, ", failed ");
    sb_buf_int(&m, p->counts[3]);
    sb_val d = sb_map_new(6);
    sb_map_set_str(&d, "step", sb_string_key(r->steps[i].name, strlen(r->steps[i].name)));
    sb_map_set_str(&d, "poll", sb_int(p->polls));
    sb_map_set_str(&d, "delay_ms", sb_int(p->last_delay));
    sb_map_set_str(&d, "changed", sb_int((int64_t)changed));
    sb_val counts = sb_map_new(6);
    static const char *const keys[] = {"queued", "running", "completed", "failed", "cancelled", "total"};
    for (int k = 0; k < 6; k++)
        sb_map_set_str(&counts, keys[k], sb_int(p->counts[k]));
    sb_map_set_str(&d, "counts", counts);
    sb_run__event(r, SB_EVENT_POLL, SB_LOG_INFO, sb_buf_str(&m), d);
    sb_val_free(d);
    sb_buf_free(&m);
}

static bool stalled(sb_run *r, size_t i, int64_t now)
{
    poll_state *p = r->steps[i].poll;
    if (p->no_progress < (uint32_t)p->max_attempts)
        return false;
    sb_run__fail(r, i, now,
             "handle %s stalled: %u polls in a row without progress (no job ran or changed state; "
             "polling.max_attempts); "
             "%zu completed and %zu failed results kept",
             p->handle_id, p->no_progress, sb_list_len(p->results), sb_list_len(p->failed));
    return true;
}

/* A job the server reports that this run did not submit (a followed
 * handle's, or one submitted by another client): tracked like the run's own,
 * with its place in a retry chain read from its id (<root>_retry_<n>) so a
 * retry of it is numbered on, and adopted in the ledger when the handle is
 * not the run's. */
static size_t adopt_job(sb_run *r, poll_state *p, const char *id, sb_val rec, sb_val hyper)
{
    const sb_val *e = rec.kind == SB_MAP ? sb_map_get_str(rec, "estimated_cost_usd") : NULL;
    const sb_val *c = rec.kind == SB_MAP ? sb_map_get_str(rec, "cost_cap_usd") : NULL;
    double est = -1, cap = 0;
    if (e && (!sb_val_as_double(*e, &est) || !(est >= 0)))
        est = -1;
    if (c && !sb_val_as_double(*c, &cap))
        cap = 0;
    const char *cut = NULL;
    for (const char *at = strstr(id, "_retry_"); at; at = strstr(at + 1, "_retry_"))
        cut = at;
    int attempt = 0;
    char *root = NULL;
    if (cut && cut > id && cut[7] >= '1' && cut[7] <= '9' && strspn(cut + 7, "0123456789") == strlen(cut + 7) &&
        strlen(cut + 7) < 6) {
        attempt = atoi(cut + 7);
        if (!(root = sb_strndup(id, (size_t)(cut - id))))
            return (size_t)-1;
    }
    /* Its estimate prices a retry of it (the budget guard wants one). */
    size_t k = sb_run__poll_add_job(r, p, id, hyper, p->adopted ? est : -1, root, attempt, JOB_QUEUED);
    sb_free(root);
    if (k != (size_t)-1 && p->adopted) {
        p->jobs[k].adopted = true;
        r->ledger_gen++;
        if (!sb_ledger_adopt(r->ledger, p->handle_id, id, est > 0 ? est : 0, cap, attempt > 0))
            return (size_t)-1;
    }
    return k;
}

void sb_run__poll_on_status(sb_run *r, size_t i, sb_val result, int64_t now)
{
    step *s = &r->steps[i];
    poll_state *p = s->poll;
    if (p)
        p->call_in_flight = false;
    if (!p || (s->state != ST_RUNNING && s->state != ST_FAILED)) {
        sb_val_free(result);
        return;
    }
    /* A step that ended (cancelled, stalled, timed out) still takes what an
     * answer reports, so the jobs it cancelled are settled with their cost;
     * no poll follows. Its output is rebuilt after: p->results must not be
     * shared while chunks are added to it. */
    bool settling = s->state != ST_RUNNING;
    if (settling) {
        sb_val_free(s->output);
        s->output = sb_null();
        sb_run__touch(r, i);
    }
    /* One reader for the contract's answers (sb_status_answer.h): a
     * malformed answer is a failed poll, said with the server and tool. */
    sb_status_answer a;
    sb_val err = sb_status_answer_read(result, p->server, p->status_tool, &a);
    sb_val_free(result);
    if (sb_is_oom(err)) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    if (err.kind != SB_NULL && p->adopted && !p->answered && !settling) {
        /* A followed handle the server does not answer for (unknown id, wrong
         * server) is refused at once, not after max_attempts polls. */
        const sb_val *servers = sb_map_get_str(r->spec->workspace, "servers");
        const sb_val *srv = servers ? sb_map_get_str(*servers, p->server) : NULL;
        const sb_val *tr = srv ? sb_map_get_str(*srv, "transport") : NULL;
        bool embedded = !tr || sb_str_eq(*tr, "embedded");
        sb_run__fail(r, i, now, "handle %s on server %s: %s%s", p->handle_id, p->server, sb_str(err),
                     embedded ? " (a handle of an embedded service lives only in the process that made it: follow "
                                "a sweep from another run against an HTTP server)"
                              : "");
        sb_val_free(err);
        sb_status_answer_clear(&a);
        return;
    }
    if (err.kind != SB_NULL)
        sb_run__log(r, SB_LOG_WARN, "Poll #%u of handle %s failed: %s", p->polls, p->handle_id, sb_str(err));
    p->answered = p->answered || err.kind == SB_NULL;
    bool answered = err.kind == SB_NULL;
    sb_val_free(err);
    size_t changed = 0;
    sb_val stop = sb_null(); /* jobs the stopping rule ends, sent in one call after the answer */
    for (size_t n = 0; n < a.njobs; n++) {
        const sb_status_job *rj = &a.jobs[n];
        sb_val rec = rj->record;
        int status = (int)rj->state;
        const sb_val *known = sb_map_get_str(p->index, rj->job_id);
        size_t k = known ? (size_t)known->as.i : (size_t)-1;
        if (k == (size_t)-1) {
            sb_status_fields f;
            sb_status_job_fields(rec, &f);
            const sb_val *hp = f.hyperparameters;
            k = adopt_job(r, p, rj->job_id, rec, hp ? *hp : sb_null());
            if (k == (size_t)-1) {
                sb_val_free(stop);
                sb_status_answer_clear(&a);
                sb_run__fail(r, i, now, "out of memory");
                return;
            }
        }
        job *j = &p->jobs[k];
        if (terminal(j->status))
            continue;
        sb_val_free(j->record);
        j->record = sb_val_ref(rec);
        if (j->hyper.kind == SB_NULL) {
            sb_status_fields f;
            sb_status_job_fields(rec, &f);
            const sb_val *hp = f.hyperparameters;
            if (hp)
                j->hyper = sb_val_ref(*hp);
        }
        if (status == JOB_RUNNING && !settling) {
            sb_run__estop_on_running(r, i, k, rec, &stop, now);
            if (s->state != ST_RUNNING) {
                sb_val_free(stop);
                sb_status_answer_clear(&a);
                return;
            }
        }
        if (status == j->status)
            continue;
        sb_run__poll_set_status(p, k, status);
        changed++;
        if (status == JOB_RUNNING) {
            /* Its cap, not its estimate, is what a running job may cost. */
            const sb_val *cap = rec.kind == SB_MAP ? sb_map_get_str(rec, "cost_cap_usd") : NULL;
            double usd;
            r->ledger_gen++;
            if (cap && sb_val_as_double(*cap, &usd))
                sb_ledger_set_cap(r->ledger, p->handle_id, j->id, usd);
            sb_ledger_start(r->ledger, p->handle_id, j->id);
        }
        if (terminal(status)) {
            finish_job(r, i, k, now);
            if (!settling && s->state != ST_RUNNING) {
                sb_val_free(stop);
                sb_status_answer_clear(&a);
                return;
            }
        }
    }
    if (a.has_counts)
        memcpy(p->counts, a.counts, sizeof p->counts);
    if (a.cursor) {
        sb_val c = sb_string_cstr(a.cursor);
        if (c.kind == SB_STRING) { /* without memory, the old cursor still works (it repeats changes) */
            sb_val_free(p->cursor);
            p->cursor = c;
        }
    }
    sb_status_answer_clear(&a);
    if (settling)
        sb_val_free(stop);
    else
        sb_run__estop_send(r, i, stop, now);
    if (settling) {
        s->output = sb_run__poll_output(p);
        sb_run__touch(r, i);
        sb_run__progress(r);
        return;
    }
    bool running = answered && p->counts[JOB_RUNNING] > 0;
    /* A retry waiting for its backoff or its submission is sibyl's own wait,
     * not the cluster's: it holds the stall count. */
    p->no_progress = changed || running || p->active_retries ? 0 : p->no_progress + 1;
    log_poll(r, i, changed);
    sb_run__progress(r);
    if (stalled(r, i, now))
        return;
    sb_run__poll_maybe_finish(r, i, now);
    if (s->state == ST_RUNNING && !p->timer && !p->call_in_flight)
        schedule_poll(r, i, now);
}

/* The step's output. Also given to a poll step that fails (stall, timeout,
 * cancel), so every result gathered so far stays in outputs and the result
 * file. */
sb_val sb_run__poll_output(const poll_state *p)
{
    const size_t *done = p->nstatus + JOB_COMPLETED;
    sb_val out = sb_map_new(6);
    bool ok = sb_run__put(&out, "handle", sb_val_ref(p->handle));
    ok = ok && sb_run__put(&out, "results", sb_val_ref(p->results));
    ok = ok && sb_run__put(&out, "failed", sb_val_ref(p->failed));
    ok = ok && sb_run__put(&out, "polls", sb_int(p->polls));
    sb_val counts = sb_map_new(4);
    ok = ok && sb_run__put(&counts, "completed", sb_int((int64_t)done[0]));
    ok = ok && sb_run__put(&counts, "failed", sb_int((int64_t)done[1]));
    ok = ok && sb_run__put(&counts, "cancelled", sb_int((int64_t)done[2]));
    /* Counted in failed and cancelled above as well: the Conductor's states. */
    ok = ok && sb_run__put(&counts, "stopped_at_cap", sb_int((int64_t)p->nstopped));
    ok = ok && sb_run__put(&counts, "unstarted", sb_int((int64_t)p->nunstarted));
    if (p->estop) /* counted in cancelled above as well */
        ok = ok && sb_run__put(&counts, "stopped_early", sb_int((int64_t)p->nstopped_early));
    ok = ok && sb_run__put(&counts, "total", sb_int((int64_t)p->njobs));
    ok = sb_run__put(&out, "counts", counts) && ok;
    /* Ranked apart: never in results, so aggregate and select skip them. */
    if (p->estop)
        ok = ok && sb_run__put(&out, "stopped", sb_val_ref(p->stopped));
    if (!ok) {
        sb_val_free(out);
        return sb_oom();
    }
    return out;
}

void sb_run__poll_maybe_finish(sb_run *r, size_t i, int64_t now)
{
    step *s = &r->steps[i];
    poll_state *p = s->poll;
    /* Called after every status answer: a count, not a scan of the jobs. */
    if (!p || s->state != ST_RUNNING || p->call_in_flight || p->active_retries || unfinished(p))
        return;
    const size_t *done = p->nstatus + JOB_COMPLETED;
    if (p->timer) {
        sb_timers_cancel(r->timers, p->timer);
        p->timer = 0;
    }
    sb_val out = sb_run__poll_output(p);
    if (out.kind != SB_MAP) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    if (p->estop)
        sb_run__log(r, SB_LOG_INFO,
                    "All %zu jobs on handle %s finished: %zu completed, %zu failed, %zu cancelled (%zu stopped early by "
                    "the rule, %zu left unstarted by the budget) (%u polls)",
                    p->njobs, p->handle_id, done[0], done[1], done[2], p->nstopped_early, p->nunstarted, p->polls);
    else if (p->nstopped || p->nunstarted)
        sb_run__log(r, SB_LOG_INFO,
                    "All %zu jobs on handle %s finished: %zu completed, %zu failed (%zu stopped at their cost cap), "
                    "%zu cancelled (%zu left unstarted by the budget) (%u polls)",
                    p->njobs, p->handle_id, done[0], done[1], p->nstopped, done[2], p->nunstarted, p->polls);
    else
        sb_run__log(r, SB_LOG_INFO, "All %zu jobs on handle %s finished: %zu completed, %zu failed, %zu cancelled (%u polls)",
                    p->njobs, p->handle_id, done[0], done[1], done[2], p->polls);
    sb_run__step_done(r, i, ST_SUCCEEDED, out, now);
}

void sb_run__poll_cancel_all(sb_run *r, int64_t now)
{
    for (size_t i = 0; i < r->nsteps; i++) {
        poll_state *p = r->steps[i].poll;
        if (!p)
            continue;
        if (p->timer) {
            sb_timers_cancel(r->timers, p->timer);
            p->timer = 0;
        }
        for (size_t k = 0; k < p->nretries; k++)
            if (!p->retries[k].done && p->retries[k].timer) {
                sb_timers_cancel(r->timers, p->retries[k].timer);
                p->retries[k].timer = 0;
            }
        /* Jobs adopted from a followed handle are someone else's sweep: a
         * follower that stops leaves them running and cancels only what it
         * submitted itself (by job id). */
        bool live = false;
        sb_val own = p->adopted ? sb_list_new(0) : sb_null();
        for (size_t k = 0; k < p->njobs; k++)
            if ((p->jobs[k].status == JOB_QUEUED || p->jobs[k].status == JOB_RUNNING) && !p->jobs[k].adopted) {
                live = true;
                if (p->adopted)
                    sb_list_push(&own, sb_string_cstr(p->jobs[k].id));
            }
        if (!live || (p->adopted && own.kind != SB_LIST)) {
            if (live)
                sb_run__log(r, SB_LOG_ERROR, "out of memory: the jobs this run submitted to handle %s are not cancelled",
                            p->handle_id);
            sb_val_free(own);
            continue;
        }
        sb_val args = sb_map_new(2);
        sb_map_set_str(&args, "handle_id", sb_string_cstr(p->handle_id));
        if (p->adopted) {
            sb_map_set_str(&args, "job_ids", own);
            sb_run__log(r, SB_LOG_WARN,
                        "Cancelling the unfinished jobs this run submitted to handle %s (the adopted ones are left "
                        "running)",
                        p->handle_id);
        } else {
            sb_run__log(r, SB_LOG_WARN, "Cancelling the unfinished jobs of handle %s", p->handle_id);
        }
        sb_run__call(r, p->server, "cancel_jobs", args, CALL_CANCEL, i, 0, now);
        sb_val_free(args);
    }
}

void sb_run__poll_on_cancelled(sb_run *r, size_t i, sb_val result, int64_t now)
{
    poll_state *p = r->steps[i].poll;
    if (result.kind == SB_ERROR) {
        sb_run__log(r, SB_LOG_WARN, "cancel_jobs on handle %s failed: %s", p ? p->handle_id : "?", sb_str(result));
    } else if (p) {
        /* One more status call reports the cancelled jobs with what they
         * cost (cancel_jobs gives only the total), to settle them. */
        sb_val args = sb_map_new(2);
        bool ok = sb_run__put(&args, "handle_id", sb_string_cstr(p->handle_id));
        if (p->cursor.kind != SB_NULL)
            ok = ok && sb_run__put(&args, "since_cursor", sb_val_ref(p->cursor));
        if (!ok || !sb_run__call(r, p->server, p->status_tool, args, CALL_POLL_STATUS, i, 0, now))
            sb_run__log(r, SB_LOG_ERROR, "out of memory: the cancelled jobs of handle %s are not settled", p->handle_id);
        sb_val_free(args);
    }
    sb_val_free(result);
    sb_run__schedule(r, now);
}
