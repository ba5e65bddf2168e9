/* Early stopping in poll steps (docs/early-stopping.md): running jobs'
 * progress {step, epochs, metrics} from the status answers goes to the
 * step's rule (core/earlystop); a job below the bar at a rung is stopped
 * through the Conductor (cancel_jobs with reason "early_stopping"), settled
 * as stopped_early with what it ran, and kept apart from the results, so
 * aggregate and select never rank it and the money it did not spend goes
 * back to the ledger, where the suggest step sees it.
 *
 * The verdicts depend only on the order of the status answers, which the
 * engine receives in order: the same answers give the same stops. */
#include <math.h>
#include <string.h>

#include "run_int.h"
#include "sb_status_answer.h"

static const char *rule_name(const sb_estop_rule *r)
{
    return r->kind == SB_ESTOP_MEDIAN ? "median" : "asha";
}

bool sb_run__estop_start(sb_run *r, size_t i, int64_t now)
{
    step *s = &r->steps[i];
    poll_state *p = s->poll;
    p->stream_progress = s->sp->stream_progress;
    if (!s->sp->estop_metric)
        return true;
    bool on = true;
    if (s->sp->estop_enabled) {
        sb_val vars = sb_run__vars(r, sb_null());
        sb_val b = vars.kind == SB_MAP ? sb_tmpl_eval_bool(s->sp->estop_enabled, vars) : sb_oom();
        sb_val_free(vars);
        if (b.kind == SB_ERROR) {
            sb_run__fail(r, i, now, "early_stopping.enabled: %s", sb_str(b));
            sb_val_free(b);
            return false;
        }
        on = b.as.b;
    }
    if (!on)
        return true;
    const sb_estop_rule *rule = &s->sp->estop;
    p->estop = sb_estop_new(rule);
    p->stopped = sb_list_new(0);
    if (!p->estop || p->stopped.kind != SB_LIST) {
        sb_run__fail(r, i, now, "out of memory");
        return false;
    }
    sb_buf m = SB_BUF_INIT;
    sb_buf_printf(&m, "Early stopping on handle %s: %s on %s (%s), rungs at steps ", p->handle_id, rule_name(rule),
                  s->sp->estop_metric, rule->maximize ? "max" : "min");
    for (uint32_t k = 0; k < 4 && sb_estop_rung_step(p->estop, k) >= 0; k++)
        sb_buf_printf(&m, "%s%lld", k ? ", " : "", (long long)sb_estop_rung_step(p->estop, k));
    if (sb_estop_rung_step(p->estop, 4) >= 0)
        sb_buf_puts(&m, ", ...");
    if (rule->kind == SB_ESTOP_ASHA)
        sb_buf_printf(&m, "; keeps the best 1/%g at each", rule->reduction_factor);
    sb_buf_printf(&m, "; grace %u", rule->grace);
    sb_run__log(r, SB_LOG_INFO, "%s", sb_buf_str(&m));
    sb_buf_free(&m);
    return true;
}

/* The metric as a number; NaN for a null or non-number (a diverged run
 * reports NaN, which JSON spells null); false when absent. */
static bool metric_of(sb_val metrics, const char *name, double *out)
{
    const sb_val *v = metrics.kind == SB_MAP ? sb_map_get_str(metrics, name) : NULL;
    if (!v)
        return false;
    if (!sb_val_as_double(*v, out) || v->kind == SB_BOOL)
        *out = NAN;
    return true;
}

static void stream_progress(sb_run *r, poll_state *p, const job *j, sb_val prog)
{
    sb_val c = sb_map_new(5);
    bool ok = sb_run__put(&c, "type", sb_string_cstr("job_progress"));
    ok = ok && sb_run__put(&c, "job_id", sb_string_cstr(j->id));
    const sb_val *st = sb_map_get_str(prog, "step"), *ep = sb_map_get_str(prog, "epochs");
    const sb_val *m = sb_map_get_str(prog, "metrics");
    ok = ok && sb_run__put(&c, "step", st ? sb_val_ref(*st) : sb_null());
    if (ep)
        ok = ok && sb_run__put(&c, "epochs", sb_val_ref(*ep));
    ok = ok && sb_run__put(&c, "metrics", m ? sb_val_ref(*m) : sb_map_new(0));
    if (ok) {
        sb_buf_reset(&r->line);
        sb_val_write_json(&r->line, c, 0);
        if (!sb_buf_failed(&r->line))
            sb_run__event(r, SB_EVENT_STREAM, SB_LOG_STREAM, sb_buf_str(&r->line), c);
    }
    (void)p;
    sb_val_free(c);
}

void sb_run__estop_on_running(sb_run *r, size_t i, size_t k, sb_val rec, sb_val *stop, int64_t now)
{
    step *s = &r->steps[i];
    poll_state *p = s->poll;
    job *j = &p->jobs[k];
    const sb_val *prog = rec.kind == SB_MAP ? sb_map_get_str(rec, "progress") : NULL;
    const sb_val *st = prog && prog->kind == SB_MAP ? sb_map_get_str(*prog, "step") : NULL;
    if (!st || st->kind != SB_INT || st->as.i <= j->last_step)
        return; /* nothing new: a repeated answer, or no progress */
    j->last_step = st->as.i;
    sb_val_free(j->progress);
    j->progress = sb_val_ref(*prog);
    if (p->stream_progress && p->stream)
        stream_progress(r, p, j, *prog);
    double x;
    const sb_val *m = sb_map_get_str(*prog, "metrics");
    if (!p->estop || j->stopping || !m || !metric_of(*m, s->sp->estop_metric, &x))
        return;
    sb_estop_decision d;
    sb_estop_verdict v = sb_estop_report(p->estop, &j->rung, st->as.i, x, &d);
    if (v == SB_ESTOP_OOM) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    if (v != SB_ESTOP_STOP)
        return;
    if (stop->kind != SB_LIST)
        *stop = sb_list_new(0);
    if (stop->kind != SB_LIST || !sb_list_push(stop, sb_string_cstr(j->id))) {
        sb_run__fail(r, i, now, "out of memory");
        return;
    }
    j->stopping = true;
    j->stop_rung = d.rung;
    j->stop_bar = d.bar;
    sb_run__log(r, SB_LOG_INFO, "Stopping job %s at rung %lld (step %lld): %s %g %s the bar %g of %zu at the rung (%s)",
                j->id, (long long)d.rung, (long long)st->as.i, s->sp->estop_metric, x,
                s->sp->estop.maximize ? "below" : "above", d.bar, d.n, rule_name(&s->sp->estop));
}

void sb_run__estop_send(sb_run *r, size_t i, sb_val stop, int64_t now)
{
    poll_state *p = r->steps[i].poll;
    if (stop.kind != SB_LIST) {
        sb_val_free(stop);
        return;
    }
    sb_val args = sb_map_new(3);
    bool ok = sb_run__put(&args, "handle_id", sb_string_cstr(p->handle_id));
    ok = sb_run__put(&args, "job_ids", stop) && ok; /* consumes stop, also after a failure */
    ok = ok && sb_run__put(&args, "reason", sb_string_cstr("early_stopping"));
    if (!ok || !sb_run__call(r, p->server, "cancel_jobs", args, CALL_ESTOP_CANCEL, i, 0, now))
        sb_run__fail(r, i, now, "out of memory");
    sb_val_free(args);
}

void sb_run__estop_on_cancelled(sb_run *r, size_t i, sb_val result, int64_t now)
{
    poll_state *p = r->steps[i].poll;
    if (result.kind == SB_ERROR && p) {
        /* The jobs run on; they are judged again at their next rung. */
        sb_run__log(r, SB_LOG_WARN, "cancel_jobs (early stopping) on handle %s failed: %s; the jobs go on",
                    p->handle_id, sb_str(result));
        for (size_t k = 0; k < p->njobs; k++)
            if (p->jobs[k].stopping && p->jobs[k].status == JOB_RUNNING)
                p->jobs[k].stopping = false;
    }
    sb_val_free(result);
    sb_run__schedule(r, now);
}

/* The job_stopped chunk: the job, where it stopped and its last metrics. */
static sb_val stopped_chunk(sb_run *r, const job *j, sb_val rec)
{
    (void)r;
    sb_status_fields f;
    sb_status_job_fields(rec, &f);
    sb_val c = sb_map_new(12);
    bool ok = sb_run__put(&c, "type", sb_string_cstr("job_stopped"));
    ok = ok && sb_run__put(&c, "job_id", sb_string_cstr(j->id));
    if (j->attempt > 0)
        ok = ok && sb_run__put(&c, "retry_of", sb_run__job_retry_of(j));
    ok = ok &&
         sb_run__put(&c, "hyperparameters", f.hyperparameters ? sb_val_ref(*f.hyperparameters) : sb_val_ref(j->hyper));
    ok = ok && sb_run__put(&c, "reason", sb_string_cstr("early_stopping"));
    const sb_val *ep = j->progress.kind == SB_MAP ? sb_map_get_str(j->progress, "epochs") : NULL;
    const sb_val *m = j->progress.kind == SB_MAP ? sb_map_get_str(j->progress, "metrics") : NULL;
    ok = ok && sb_run__put(&c, "step", sb_int(j->last_step));
    if (ep)
        ok = ok && sb_run__put(&c, "epochs", sb_val_ref(*ep));
    ok = ok && sb_run__put(&c, "rung", sb_int(j->stop_rung));
    ok = ok && sb_run__put(&c, "bar", isfinite(j->stop_bar) ? sb_double(j->stop_bar) : sb_null());
    ok = ok && sb_run__put(&c, "metrics", m ? sb_val_ref(*m) : sb_map_new(0));
    ok = ok && sb_run__put(&c, "duration_seconds", f.duration_seconds ? sb_val_ref(*f.duration_seconds) : sb_int(0));
    ok = ok && sb_run__put(&c, "cost_usd", f.cost_usd ? sb_val_ref(*f.cost_usd) : sb_int(0));
    if (!ok) {
        sb_val_free(c);
        return sb_oom();
    }
    return c;
}

bool sb_run__estop_finish(sb_run *r, size_t i, size_t k, int64_t now)
{
    poll_state *p = r->steps[i].poll;
    job *j = &p->jobs[k];
    if (!j->stopping || j->status != JOB_CANCELLED)
        return false;
    sb_val chunk = stopped_chunk(r, j, j->record);
    double cost = 0;
    const sb_val *c = chunk.kind == SB_MAP ? sb_map_get_str(chunk, "cost_usd") : NULL;
    if (c)
        sb_val_as_double(*c, &cost);
    r->ledger_gen++;
    bool ok = chunk.kind == SB_MAP && sb_ledger_settle(r->ledger, p->handle_id, j->id, cost, SB_LEDGER_STOPPED_EARLY);
    if (ok) {
        sb_buf_reset(&r->line);
        sb_val_write_json(&r->line, chunk, 0);
        ok = !sb_buf_failed(&r->line);
    }
    if (ok && p->stream)
        sb_run__event(r, SB_EVENT_STREAM, SB_LOG_STREAM, sb_buf_str(&r->line), chunk);
    ok = ok && sb_list_push(&p->stopped, sb_val_ref(chunk));
    if (!ok) {
        sb_val_free(chunk);
        sb_run__fail(r, i, now, "out of memory");
        return true;
    }
    p->nstopped_early++;
    const char *metric = r->steps[i].sp->estop_metric;
    const sb_val *m = j->progress.kind == SB_MAP ? sb_map_get_str(j->progress, "metrics") : NULL;
    double x = NAN;
    if (m)
        metric_of(*m, metric, &x);
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "Job %s stopped early at rung %lld (early_stopping: %s %g, bar %g): charged $", j->id,
                  (long long)j->stop_rung, metric, x, j->stop_bar);
    sb_run__fmt_usd(&b, cost);
    sb_buf_puts(&b, " for what it ran");
    sb_run__log(r, SB_LOG_WARN, "%s", sb_buf_str(&b));
    sb_buf_free(&b);
    sb_val_free(chunk);
    if (r->steps[i].state == ST_RUNNING)
        sb_run__retry_on_job_event(r, i, k, EV_JOB_FINISHED, now);
    sb_val_free(p->jobs[k].record);
    p->jobs[k].record = sb_null();
    return true;
}
