/* The run's lifecycle: creation (the spec, inputs), DAG scheduling, step
 * completion, the end of the run and its result file. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../config/sb_config.h"
#include "../util/sb_alloc.h"
#include "run_int.h"
#include "sb_handle.h"

size_t sb_run__step_index(const sb_run *r, const char *name) { return sb_spec_step_index(r->spec, name); }

sb_val sb_run__estimate_key(const char *handle_id, const char *job_id)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, handle_id);
    sb_buf_putc(&b, '\0');
    sb_buf_puts(&b, job_id);
    sb_val v = sb_buf_failed(&b) ? sb_oom() : sb_string(b.data, b.len);
    sb_buf_free(&b);
    return v;
}

/* --- creation --- */

static bool resolve_inputs(sb_run *r, sb_val given, sb_diags *d)
{
    const sb_spec *sp = r->spec;
    sb_val inputs = sb_map_new(0);
    bool ok = inputs.kind == SB_MAP;
    for (size_t i = 0; ok && given.kind == SB_MAP && i < sb_map_len(given); i++) {
        sb_val k = *sb_map_key_at(given, i);
        size_t j = 0;
        while (j < sp->ninputs && !sb_str_eq(k, sp->inputs[j].name))
            j++;
        if (j == sp->ninputs) {
            sb_buf known = SB_BUF_INIT;
            for (size_t n = 0; n < sp->ninputs; n++)
                sb_buf_printf(&known, "%s%s", n ? ", " : "", sp->inputs[n].name);
            sb_diags_add(d, "--input", 0, 0, "unknown input '%s' for pipeline '%s' (it declares: %s)", sb_str(k),
                         r->pipeline_name, known.len ? sb_buf_str(&known) : "no inputs");
            sb_buf_free(&known);
            ok = false;
        }
    }
    for (size_t i = 0; ok && i < sp->ninputs; i++) {
        const sb_spec_input *in = &sp->inputs[i];
        const sb_val *v = given.kind == SB_MAP ? sb_map_get_str(given, in->name) : NULL;
        bool from_user = v != NULL;
        if (!v && in->has_default)
            v = &in->dflt;
        if (!v) {
            sb_diags_add(d, r->pipelines_file, in->decl.line, in->decl.col,
                         "input '%s' is required (give it with --input %s=VALUE)", in->name, in->name);
            ok = false;
            continue;
        }
        sb_buf why = SB_BUF_INIT;
        if (!sb_config_check_input(in->decl, *v, &why)) {
            const char *msg = sb_buf_failed(&why) ? "out of memory" : sb_buf_str(&why);
            if (from_user)
                sb_diags_add(d, "--input", 0, 0, "input '%s': %s", in->name, msg);
            else
                sb_diags_add(d, r->pipelines_file, v->line, v->col, "input '%s' default: %s", in->name, msg);
            sb_buf_free(&why);
            ok = false;
            continue;
        }
        /* A handle input is handed to the pipeline as an ExternalHandle,
         * whichever way it was written, and only for a server of the workspace. */
        sb_val value = sb_val_ref(*v);
        const sb_val *type = sb_map_get_str(in->decl, "type");
        if (type && sb_str_eq(*type, "handle")) {
            sb_val_free(value);
            value = sb_handle_external(*v);
            if (value.kind == SB_MAP && !sb_handle_check_server(value, sp->workspace, &why)) {
                if (from_user)
                    sb_diags_add(d, "--input", 0, 0, "input '%s': %s; nothing was submitted", in->name,
                                 sb_buf_str(&why));
                else
                    sb_diags_add(d, r->pipelines_file, v->line, v->col, "input '%s' default: %s", in->name,
                                 sb_buf_str(&why));
                sb_buf_free(&why);
                sb_val_free(value);
                ok = false;
                continue;
            }
        }
        sb_buf_free(&why);
        ok = sb_map_set_str(&inputs, in->name, value) && !sb_is_oom(value);
    }
    r->inputs = inputs;
    return ok;
}

/* The run's steps over the spec's, and what scheduling walks: the steps that
 * need each step, and the first ready set. */
static bool link_steps(sb_run *r)
{
    size_t n = r->nsteps, nedges = 0, nevents = 0;
    for (size_t i = 0; i < n; i++) {
        step *s = &r->steps[i];
        const sb_spec_step *sp = &r->spec->steps[i];
        s->sp = sp;
        s->name = sp->name;
        s->kind = (step_kind)sp->kind;
        s->number = sp->number;
        s->needs = sp->needs;
        s->nneeds = sp->nneeds;
        s->on_step = sp->on_step;
        s->on_event = (job_event)sp->on_event;
        s->output = s->handle = s->call_args = sb_null();
        s->nwait = s->nneeds;
        nedges += s->nneeds;
        nevents += s->on_step != (size_t)-1;
    }
    r->dep_first = sb_calloc(n + 1, sizeof *r->dep_first);
    r->deps = sb_calloc(nedges ? nedges : 1, sizeof *r->deps);
    r->event_steps = sb_calloc(nevents ? nevents : 1, sizeof *r->event_steps);
    size_t *fill = sb_calloc(n ? n : 1, sizeof *fill);
    r->dirty = sb_calloc(n ? n : 1, sizeof *r->dirty);
    if (!r->dep_first || !r->deps || !r->event_steps || !fill || !r->dirty || !sb_bitset_init(&r->ready, n)) {
        sb_free(fill);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < r->steps[i].nneeds; k++)
            r->dep_first[r->steps[i].needs[k] + 1]++;
    for (size_t i = 0; i < n; i++)
        r->dep_first[i + 1] += r->dep_first[i];
    for (size_t i = 0; i < n; i++) {
        step *s = &r->steps[i];
        for (size_t k = 0; k < s->nneeds; k++) {
            assert(s->needs[k] < n && s->needs[k] != i); /* validated: known names, no self-needs */
            r->deps[r->dep_first[s->needs[k]] + fill[s->needs[k]]++] = i;
        }
        if (s->on_step != (size_t)-1)
            r->event_steps[r->nevent_steps++] = i;
        else if (s->nwait == 0)
            sb_bitset_add(&r->ready, i);
    }
    sb_free(fill);
    r->nactive = n;
    return true;
}

/* The host table as far as its version reaches: a slot the host's version
 * does not define is never read (it may not exist in the caller's struct). */
static bool take_host(sb_host *out, const sb_host *host, sb_diags *d)
{
    if (!host) {
        sb_diags_add(d, "sb_run_new", 0, 0, "no host table");
        return false;
    }
    if (host->version < 1 || host->version > SB_HOST_VERSION) {
        sb_diags_add(d, "sb_run_new", 0, 0, "host table version %d is not supported (this core knows 1 to %d)",
                     host->version, SB_HOST_VERSION);
        return false;
    }
    memset(out, 0, sizeof *out);
    out->version = host->version;
    out->ud = host->ud;
    /* version 1 */
    out->send = host->send;
    out->event = host->event;
    out->write_file = host->write_file;
    return true;
}

/* A shared key (sb_string_key) is freed with its last reference. The maps
 * the run builds per job and per poll (events, requests, status records)
 * are freed soon after, so without another holder their keys would be made
 * and freed again each time: an allocation and a table update per key. One
 * reference each, held for the run, keeps them. Only a cache: a run whose
 * list could not be made works the same. */
static sb_val pin_keys(void)
{
    static const char *const names[] = {
        "arguments", "attempt", "best", "budget_usd", "cancelled", "cancelled_count", "changed", "completed",
        "completed_count", "cost_usd", "counts", "delay_ms", "done", "duration_seconds", "error", "error_type",
        "estimated_cost_usd", "failed", "failed_count", "handle", "handle_id", "hyperparameters", "id",
        "in_flight", "job", "job_id", "job_ids", "jobs", "message", "metrics", "name", "poll", "polls",
        "queued", "queued_count", "reason", "result", "results", "retry_of", "running", "running_count",
        "since_cursor", "spent_usd", "status", "step", "task", "total", "type"};
    size_t n = sizeof names / sizeof names[0];
    sb_val keys = sb_list_new(n);
    for (size_t i = 0; i < n && keys.kind == SB_LIST; i++) {
        sb_val k = sb_string_key(names[i], strlen(names[i]));
        if (k.kind != SB_STRING) {
            sb_val_free(k);
            break;
        }
        if (!sb_list_push(&keys, k)) /* consumes k */
            break;
    }
    return keys;
}

sb_run *sb_run_new(const sb_run_config *cfg, const sb_host *host, sb_diags *d)
{
    sb_host h;
    if (!cfg) {
        sb_diags_add(d, "sb_run_new", 0, 0, "no run configuration");
        return NULL;
    }
    if (!take_host(&h, host, d))
        return NULL;
    /* The engine reads the trees as validated; a host that skipped or ignored
     * validation gets its diagnostics here rather than a crash later. */
    const char *wf = cfg->workspace_file ? cfg->workspace_file : "workspace.yaml";
    const char *pf = cfg->pipelines_file ? cfg->pipelines_file : "pipelines.yaml";
    bool valid = cfg->workspace.kind == SB_NULL || sb_config_check_workspace(wf, cfg->workspace, d);
    valid = sb_config_check_pipelines(pf, cfg->pipelines, cfg->workspace, d) && valid;
    if (!valid) {
        if (sb_diags_count(d) == 0)
            sb_diags_add(d, pf, 0, 0, "the configuration is not valid");
        return NULL;
    }
    sb_spec *spec = sb_spec_compile(cfg->workspace, cfg->pipelines, cfg->pipeline, wf, pf, d);
    if (!spec)
        return NULL;
    sb_run *r = sb_calloc(1, sizeof *r);
    if (!r) {
        sb_spec_free(spec);
        goto oom;
    }
    r->spec = spec;
    r->host = h;
    r->inputs = sb_null();
    r->steps_view = sb_null();
    r->result = sb_null();
    r->ledger_view = sb_null();
    r->best = sb_null();
    r->estimates = sb_map_new(0);
    r->pinned_keys = pin_keys();
    r->status = SB_RUN_PENDING;
    r->seed = cfg->seed;
    sb_rng_seed(&r->rng, cfg->seed);
    r->pipeline_name = spec->pipeline;
    r->workspace_file = sb_strdup(wf);
    r->pipelines_file = sb_strdup(pf);
    char idbuf[40];
    snprintf(idbuf, sizeof idbuf, "run-%llu", (unsigned long long)cfg->seed);
    r->run_id = sb_strdup(cfg->run_id ? cfg->run_id : idbuf);
    r->timers = sb_timers_new();
    if (!r->workspace_file || !r->pipelines_file || !r->run_id || !r->timers || r->estimates.kind != SB_MAP)
        goto oom;
    {
        sb_buf label = SB_BUF_INIT;
        const char *dir = cfg->output_dir;
        if (dir && *dir && strcmp(dir, ".") != 0 && spec->result_file[0] != '/')
            sb_buf_printf(&label, "%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/");
        sb_buf_puts(&label, spec->result_file);
        r->result_label = sb_buf_take(&label);
        if (!r->result_label)
            goto oom;
    }

    bool ok = resolve_inputs(r, cfg->inputs, d);
    /* nsteps only once the array exists: sb_run_free walks it. */
    r->steps = sb_calloc(spec->nsteps ? spec->nsteps : 1, sizeof *r->steps);
    if (!r->steps)
        goto oom;
    r->nsteps = spec->nsteps;
    if (!ok || !link_steps(r)) {
        if (sb_diags_count(d) == 0)
            sb_diags_add(d, r->pipelines_file, 0, 0, "out of memory");
        sb_run_free(r);
        return NULL;
    }

    double budget_usd = INFINITY; /* no budget_usd: no limit, and no figure shown for one */
    if (spec->budget) {
        const sb_val *budget = &spec->budget_src;
        sb_val vars = sb_run__vars(r, sb_null());
        sb_val b = vars.kind == SB_MAP ? sb_tmpl_eval(spec->budget, vars) : sb_oom();
        sb_val_free(vars);
        if (sb_is_oom(b))
            goto oom;
        if (!sb_val_as_double(b, &budget_usd) || !isfinite(budget_usd) || budget_usd < 0) {
            sb_buf m = SB_BUF_INIT;
            if (b.kind == SB_ERROR)
                sb_buf_puts(&m, sb_str(b));
            else if (b.kind == SB_DOUBLE && !isfinite(budget_usd))
                sb_buf_printf(&m, "budget_usd: %s gives %s; a budget must be a finite number >= 0",
                              budget->kind == SB_STRING ? sb_str(*budget) : "the value",
                              isnan(budget_usd) ? "NaN" : budget_usd > 0 ? "infinity" : "-infinity");
            else
                sb_buf_printf(&m, "budget_usd must be a number >= 0, found %s", sb_kind_name((sb_kind)b.kind));
            sb_diags_add(d, r->pipelines_file, budget->line, budget->col, "%s", sb_buf_str(&m));
            sb_buf_free(&m);
            sb_val_free(b);
            sb_run_free(r);
            return NULL;
        }
        sb_val_free(b);
        r->has_budget = true;
    }
    r->ledger = sb_ledger_new(budget_usd);
    if (!r->ledger)
        goto oom;
    /* Schema-checked in [0, 10]; its default is the schema's. */
    r->cap_margin = 0.10;
    const sb_val *cm = sb_map_get_str(spec->workspace, "cost_model");
    const sb_val *margin = cm && cm->kind == SB_MAP ? sb_map_get_str(*cm, "cap_margin_fraction") : NULL;
    if (margin)
        sb_val_as_double(*margin, &r->cap_margin);
    return r;
oom:
    sb_diags_add(d, cfg->pipelines_file, 0, 0, "out of memory");
    sb_run_free(r);
    return NULL;
}

void sb_run_free(sb_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsteps; i++) {
        step *s = &r->steps[i];
        sb_val_free(s->output);
        sb_val_free(s->handle);
        sb_val_free(s->call_args);
        sb_free(s->reason);
        sb_run__poll_free(s->poll);
    }
    sb_free(r->steps);
    sb_free(r->dep_first);
    sb_free(r->deps);
    sb_free(r->event_steps);
    sb_bitset_free(&r->ready);
    sb_val_free(r->steps_view);
    sb_free(r->dirty);
    sb_run__mcp_free(r);
    sb_timers_free(r->timers);
    sb_ledger_free(r->ledger);
    sb_val_free(r->ledger_view);
    sb_val_free(r->inputs);
    sb_val_free(r->result);
    sb_val_free(r->best);
    sb_val_free(r->estimates);
    sb_cel_program_free(r->matcher);
    sb_free(r->workspace_file);
    sb_free(r->pipelines_file);
    sb_free(r->run_id);
    sb_free(r->result_label);
    sb_buf_free(&r->line);
    sb_val_free(r->pinned_keys);
    sb_free(r->error);
    sb_spec_free(r->spec);
    sb_free(r);
}

/* --- scheduling --- */

static bool active(step_state st) { return st == ST_WAITING || st == ST_RUNNING; }

void sb_run__touch(sb_run *r, size_t i)
{
    step *s = &r->steps[i];
    if (s->kind == K_POLL) {
        /* A poll step's output shares its results list, which grows in place
         * while the step settles: the view must not keep it shared. */
        sb_val_free(r->steps_view);
        r->steps_view = sb_null();
    }
    if (!s->dirty) {
        s->dirty = true;
        r->dirty[r->ndirty++] = i;
    }
}

void sb_run__set_state(sb_run *r, size_t i, step_state st)
{
    step *s = &r->steps[i];
    step_state was = s->state;
    s->state = st;
    sb_run__touch(r, i);
    if (active(was) == active(st))
        return;
    /* Steps only move forward: waiting -> running -> an end. */
    assert(active(was) && !active(st));
    assert(r->nactive > 0);
    r->nactive--;
    for (size_t e = r->dep_first[i]; e < r->dep_first[i + 1]; e++) {
        step *d = &r->steps[r->deps[e]];
        assert(d->nwait > 0);
        if (--d->nwait == 0 && d->state == ST_WAITING && d->on_step == (size_t)-1)
            sb_bitset_add(&r->ready, r->deps[e]);
    }
}

/* The first need of step i that did not succeed, or (size_t)-1. */
static size_t bad_need(const sb_run *r, const step *s)
{
    for (size_t k = 0; k < s->nneeds; k++)
        if (r->steps[s->needs[k]].state != ST_SUCCEEDED)
            return s->needs[k];
    return (size_t)-1;
}

static void finish_run(sb_run *r, int64_t now);

/* A step whose need failed or was skipped does not run: it fails or is
 * skipped in turn, and says why. */
static void not_run(sb_run *r, size_t i, size_t bad, int64_t now)
{
    step *s = &r->steps[i], *b = &r->steps[bad];
    sb_buf m = SB_BUF_INIT;
    sb_buf_printf(&m, "not run: it needs '%s', which %s", b->name, b->state == ST_FAILED ? "failed" : "was skipped");
    sb_free(s->reason);
    s->reason = sb_buf_take(&m);
    s->finished_ms = now;
    sb_run__set_state(r, i, b->state == ST_FAILED ? ST_FAILED : ST_SKIPPED);
    /* WARN, not ERROR: the step that failed has said why already. */
    sb_run__log(r, s->state == ST_FAILED ? SB_LOG_WARN : SB_LOG_INFO, "Step %d/%zu: %s %s (%s)", s->number, r->nsteps,
            s->name, s->state == ST_FAILED ? "failed" : "skipped", s->reason ? s->reason : "");
    sb_run__step_event(r, i);
}

/* Event-triggered steps end with the poll step they listen to. */
static void end_event_steps(sb_run *r, int64_t now)
{
    for (size_t e = 0; e < r->nevent_steps; e++) {
        size_t i = r->event_steps[e];
        step *s = &r->steps[i];
        if (!active(s->state))
            continue;
        step_state src = r->steps[s->on_step].state;
        if (active(src))
            continue;
        s->finished_ms = now;
        if (s->fired) {
            sb_run__set_state(r, i, ST_SUCCEEDED);
        } else {
            sb_free(s->reason);
            s->reason = sb_strdup(src == ST_SUCCEEDED ? "its event never fired" : "its poll step did not run");
            sb_run__set_state(r, i, ST_SKIPPED);
            sb_run__log(r, SB_LOG_INFO, "Step %d/%zu: %s skipped (%s)", s->number, r->nsteps, s->name,
                    s->reason ? s->reason : "");
        }
        sb_run__step_event(r, i);
    }
}

void sb_run__schedule(sb_run *r, int64_t now)
{
    if (r->stopping && !r->finishing && r->ncalls == 0)
        finish_run(r, now);
    if (r->status != SB_RUN_RUNNING || r->finishing || r->scheduling)
        return;
    r->scheduling = true;
    for (;;) {
        size_t i;
        while (r->status == SB_RUN_RUNNING && (i = sb_bitset_lowest(&r->ready)) != (size_t)-1) {
            sb_bitset_remove(&r->ready, i);
            if (r->steps[i].state != ST_WAITING)
                continue;
            size_t bad = bad_need(r, &r->steps[i]);
            if (bad != (size_t)-1)
                not_run(r, i, bad, now);
            else
                sb_run__start_step(r, i, now);
        }
        size_t before = r->nactive;
        if (r->status == SB_RUN_RUNNING)
            end_event_steps(r, now);
        /* An event step that ended may have made others ready. */
        if (r->nactive == before || r->status != SB_RUN_RUNNING)
            break;
    }
    r->scheduling = false;
    if (r->nactive == 0 && r->ncalls == 0)
        finish_run(r, now);
}

void sb_run__step_done(sb_run *r, size_t i, step_state st, sb_val output, int64_t now)
{
    assert(i < r->nsteps && (st == ST_SUCCEEDED || st == ST_FAILED || st == ST_SKIPPED));
    step *s = &r->steps[i];
    sb_val_free(s->output);
    s->output = output;
    s->finished_ms = now;
    sb_run__set_state(r, i, st);
    sb_run__step_event(r, i);
    /* The steps it made ready start in sb_run__schedule's loop, which every entry
     * point runs before it returns. */
}

void sb_run__fail(sb_run *r, size_t i, int64_t now, const char *fmt, ...)
{
    sb_buf m = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&m, fmt, ap);
    va_end(ap);
    assert(i == (size_t)-1 || i < r->nsteps);
    if (i == (size_t)-1) {
        if (!r->error)
            r->error = sb_strdup(sb_buf_str(&m));
        sb_run__log(r, SB_LOG_ERROR, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
        if (r->status == SB_RUN_RUNNING)
            r->status = SB_RUN_FAILED;
        return;
    }
    step *s = &r->steps[i];
    if (s->state != ST_WAITING && s->state != ST_RUNNING) {
        /* The step already ended (a cancel being settled): nothing to fail. */
        sb_run__log(r, SB_LOG_ERROR, "Step %s: %s", s->name, sb_buf_str(&m));
        sb_buf_free(&m);
        return;
    }
    sb_free(s->reason);
    s->reason = sb_buf_take(&m);
    if (!r->error) {
        sb_buf e = SB_BUF_INIT;
        sb_buf_printf(&e, "step '%s': %s", s->name, s->reason ? s->reason : "failed");
        r->error = sb_buf_take(&e);
    }
    sb_run__log(r, SB_LOG_ERROR, "Step %d/%zu: %s failed: %s", s->number, r->nsteps, s->name,
            s->reason ? s->reason : "out of memory");
    if (s->kind == K_POLL && s->poll)
        sb_run__poll_cancel_all(r, now);
    sb_run__step_done(r, i, ST_FAILED, s->kind == K_POLL && s->poll ? sb_run__poll_output(s->poll) : sb_null(), now);
}

/* --- the end --- */

static void log_cost(sb_run *r, sb_val b)
{
    const char *keys[][2] = {{"successful_usd", "successful jobs"},
                             {"failed_partial_usd", "failed jobs (partial)"},
                             {"retries_usd", "retries"},
                             {"total_usd", "total"},
                             {"spent_usd", "  of it, this run's"},
                             {"adopted.cost_usd", "  of it, adopted"},
                             {"committed_usd", "committed (unsettled)"},
                             {"remaining_usd", "remaining"}};
    sb_run__log(r, SB_LOG_INFO, "Cost breakdown:");
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        /* spent_usd and adopted are there only for a run that followed a
         * handle it did not make (sb_ledger_breakdown). */
        const sb_val *ad = sb_map_get_str(b, "adopted");
        const sb_val *v = strcmp(keys[i][0], "adopted.cost_usd") == 0 ? (ad ? sb_map_get_str(*ad, "cost_usd") : NULL)
                                                                        : sb_map_get_str(b, keys[i][0]);
        double x = 0;
        if (!v || !sb_val_as_double(*v, &x))
            continue;
        if ((strcmp(keys[i][0], "remaining_usd") == 0 && !r->has_budget) ||
            (strcmp(keys[i][0], "committed_usd") == 0 && x == 0))
            continue;
        sb_buf m = SB_BUF_INIT;
        sb_buf_printf(&m, "  %-22s $", keys[i][1]);
        sb_run__fmt_usd(&m, x);
        sb_run__log(r, SB_LOG_INFO, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
    }
    double total = 0, budget = sb_ledger_budget(r->ledger);
    const sb_val *t = sb_map_get_str(b, "total_usd");
    if (r->has_budget && t && sb_val_as_double(*t, &total) && budget > 0) {
        sb_buf m = SB_BUF_INIT;
        sb_buf_puts(&m, "  budget utilization     ");
        sb_buf_printf(&m, "%.1f%% of $", total / budget * 100.0);
        sb_run__fmt_usd(&m, budget);
        sb_run__log(r, SB_LOG_INFO, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
    }
}

/* The result, or sb_oom(): a result with parts missing would pass for a
 * complete one. */
static sb_val build_result(sb_run *r)
{
    sb_val res = sb_map_new(0);
    bool ok = sb_run__put(&res, "pipeline", sb_string_cstr(r->pipeline_name));
    ok = ok && sb_run__put(&res, "run_id", sb_string_cstr(r->run_id));
    ok = ok && sb_run__put(&res, "seed", sb_uint(r->seed));
    ok = ok && sb_run__put(&res, "status", sb_string_cstr(sb_run_status_name(r->status)));
    if (r->error)
        ok = ok && sb_run__put(&res, "error", sb_string_cstr(r->error));
    if (ok && r->spec->noutputs) {
        sb_val vars = sb_run__vars(r, sb_null());
        ok = vars.kind == SB_MAP;
        /* Each output on its own, so one that cannot be computed (its step
         * failed) does not hide the others. */
        for (size_t i = 0; ok && i < r->spec->noutputs; i++) {
            sb_val v = sb_tmpl_eval(r->spec->outputs[i].value, vars);
            const char *name = r->spec->outputs[i].name;
            if (v.kind == SB_ERROR && !sb_is_oom(v) && r->status == SB_RUN_SUCCEEDED)
                sb_run__log(r, SB_LOG_WARN, "output '%s' could not be computed: %s", name, sb_str(v));
            ok = sb_run__put(&res, name, v);
        }
        sb_val_free(vars);
    }
    ok = ok && sb_run__put(&res, "cost_breakdown", sb_ledger_breakdown(r->ledger));
    sb_val steps = sb_map_new(r->nsteps);
    static const char *const names[] = {"waiting", "running", "succeeded", "failed", "skipped"};
    for (size_t i = 0; ok && i < r->nsteps; i++) {
        sb_val s = sb_map_new(2);
        ok = sb_run__put(&s, "status", sb_string_cstr(names[r->steps[i].state]));
        if (r->steps[i].reason)
            ok = ok && sb_run__put(&s, "reason", sb_string_cstr(r->steps[i].reason));
        /* A handle the run made, as an ExternalHandle: what another run or
         * `sibyl handle` takes to follow its jobs. */
        if (ok && r->steps[i].handle.kind == SB_MAP)
            ok = sb_run__put(&s, "handle", sb_handle_external(r->steps[i].handle));
        ok = sb_run__put(&steps, r->steps[i].name, s) && ok;
    }
    ok = sb_run__put(&res, "steps", steps) && ok;
    if (!ok) {
        sb_val_free(res);
        return sb_oom();
    }
    return res;
}

/* Hands the result text to the host. A result that could not be written
 * fails the run (its outcome would be lost); later writes are still tried. */
static void write_text(sb_run *r, const char *text, size_t len)
{
    if (!r->host.write_file)
        return;
    if (r->host.write_file(r->host.ud, r->spec->result_file, text, len) == 0) {
        r->result_written = true;
        return;
    }
    r->result_written = false;
    r->write_failed = true;
    sb_run__log(r, SB_LOG_ERROR, "could not write the result file %s", r->result_label);
    if (r->status == SB_RUN_RUNNING || r->status == SB_RUN_SUCCEEDED)
        r->status = SB_RUN_FAILED;
    if (!r->error) {
        sb_buf m = SB_BUF_INIT;
        sb_buf_printf(&m, "could not write the result file %s", r->result_label);
        r->error = sb_buf_take(&m);
    }
}

static void write_result(sb_run *r)
{
    sb_val_free(r->result);
    r->result = build_result(r);
    if (r->result.kind != SB_MAP)
        r->result = sb_null();
    char *text = r->result.kind == SB_MAP ? sb_val_to_json(r->result, SB_JSON_PRETTY) : NULL;
    sb_buf b = SB_BUF_INIT;
    if (text) {
        sb_buf_puts(&b, text);
        sb_buf_putc(&b, '\n');
        sb_free(text);
    }
    if (!text || sb_buf_failed(&b)) {
        /* The run cannot claim success without its result; the file still
         * says what happened, from static text. */
        static const char fallback[] = "{\"status\": \"failed\", \"error\": \"out of memory while writing the "
                                       "result\"}\n";
        sb_buf_free(&b);
        r->status = SB_RUN_FAILED;
        if (!r->error)
            r->error = sb_strdup("out of memory while writing the result");
        sb_run__log(r, SB_LOG_ERROR, "out of memory writing %s", r->result_label);
        write_text(r, fallback, sizeof fallback - 1);
        return;
    }
    write_text(r, sb_buf_str(&b), b.len);
    sb_buf_free(&b);
}

static void finish_run(sb_run *r, int64_t now)
{
    if (r->finishing)
        return;
    r->finishing = true;
    r->now = now;
    size_t completed = 0, failed = 0, jobs = 0;
    for (size_t i = 0; i < r->nsteps; i++)
        if (r->steps[i].poll) {
            completed += r->steps[i].poll->nstatus[JOB_COMPLETED];
            failed += r->steps[i].poll->nstatus[JOB_FAILED];
            jobs += r->steps[i].poll->njobs;
        }
    bool none_completed = false;
    if (r->status == SB_RUN_RUNNING) {
        r->status = SB_RUN_SUCCEEDED;
        for (size_t i = 0; i < r->nsteps; i++)
            if (r->steps[i].state == ST_FAILED)
                r->status = SB_RUN_FAILED;
        /* Every step may have gone to its end (select over nothing, report
         * skipped by its when:) and still the run produced no result. */
        if (r->status == SB_RUN_SUCCEEDED && jobs > 0 && completed == 0) {
            none_completed = true;
            r->status = SB_RUN_FAILED;
            sb_buf m = SB_BUF_INIT;
            sb_buf_printf(&m, "no job completed (%zu failed)", failed);
            sb_free(r->error);
            r->error = sb_buf_take(&m);
        }
    }
    sb_val b = sb_ledger_breakdown(r->ledger);
    if (sb_ledger_spent(r->ledger) > 0 || sb_ledger_committed(r->ledger) > 0)
        log_cost(r, b);
    sb_val_free(b);
    write_result(r);
    int64_t secs = (now - r->started) / 1000;
    char dur[64];
    snprintf(dur, sizeof dur, "%lldh %02lldm %02llds", (long long)(secs / 3600), (long long)(secs / 60 % 60),
             (long long)(secs % 60));
    if (r->write_failed)
        sb_run__log(r, SB_LOG_ERROR, "Pipeline %s failed after %s: %s", r->pipeline_name, dur,
                r->error ? r->error : "the result file could not be written");
    else if (none_completed)
        sb_run__log(r, SB_LOG_ERROR, "Pipeline %s failed after %s: %s; every result kept in %s", r->pipeline_name, dur,
                r->error ? r->error : "no job completed", r->result_label);
    else if (r->status == SB_RUN_SUCCEEDED)
        sb_run__log(r, SB_LOG_SUCCESS, "Pipeline %s completed in %s; results in %s", r->pipeline_name, dur,
                r->result_label);
    else if (r->status == SB_RUN_CANCELLED)
        sb_run__log(r, SB_LOG_ERROR, "Pipeline %s cancelled after %s: %s; partial results in %s", r->pipeline_name, dur,
                r->error ? r->error : "", r->result_label);
    else
        sb_run__log(r, SB_LOG_ERROR, "Pipeline %s failed after %s: %s; partial results in %s", r->pipeline_name, dur,
                r->error ? r->error : "a step failed", r->result_label);
}

/* --- driving --- */

void sb_run_start(sb_run *r, int64_t now_ms)
{
    if (!r || r->status != SB_RUN_PENDING) /* started already: nothing to do */
        return;
    r->status = SB_RUN_RUNNING;
    r->started = r->now = now_ms;
    sb_run__log(r, SB_LOG_INFO, "Starting pipeline %s (%zu steps, seed %llu)", r->pipeline_name, r->nsteps,
            (unsigned long long)r->seed);
    if (r->has_budget) {
        sb_buf m = SB_BUF_INIT;
        sb_buf_puts(&m, "Budget: $");
        sb_run__fmt_usd(&m, sb_ledger_budget(r->ledger));
        sb_run__log(r, SB_LOG_INFO, "%s", sb_buf_str(&m));
        sb_buf_free(&m);
    } else {
        sb_run__log(r, SB_LOG_INFO, "Budget: no budget (the pipeline sets no budget_usd): spending is not limited");
    }
    sb_run__schedule(r, now_ms);
    sb_run__pump(r, now_ms);
}

void sb_run_on_time(sb_run *r, int64_t now_ms)
{
    if (!r || r->status == SB_RUN_PENDING) /* no timer exists before the start */
        return;
    if (now_ms > r->now)
        r->now = now_ms;
    uint64_t tag, id;
    while (!r->finishing && sb_timers_pop_due(r->timers, now_ms, &tag, &id)) {
        size_t who = (size_t)(tag >> 8);
        switch (tag & 0xff) {
        case TT_POLL: sb_run__poll_on_timer(r, who, now_ms); break;
        case TT_TIMEOUT: sb_run__poll_on_timeout(r, who, now_ms); break;
        case TT_SEND: sb_run__send_delayed(r, who, now_ms); break;
        case TT_CALL_AGAIN: sb_run__call_again(r, who, now_ms); break;
        case TT_RETRY: {
            /* who = poll step << 24 | retry index */
            sb_run__retry_on_timer(r, who >> 24, who & 0xffffff, now_ms);
            break;
        }
        default: break;
        }
    }
    sb_run__schedule(r, now_ms);
    sb_run__pump(r, now_ms);
}

/* Ends the run, as cancelled or failed: the steps still going fail with
 * `why` and the jobs still queued or running are cancelled. The result is
 * written at once, in case no answer ever comes, and written again when the
 * answers are in: cancel_jobs, then one more status call per handle that
 * reports what the cancelled jobs cost, so the ledger in the result holds
 * nothing as running or committed. */
void sb_run__stop(sb_run *r, sb_run_status status, const char *reason, const char *why, int64_t now_ms)
{
    if (r->finishing || r->stopping || r->status == SB_RUN_PENDING)
        return;
    r->stopping = true;
    if (!r->error)
        r->error = sb_strdup(reason);
    r->status = status;
    sb_run__log(r, status == SB_RUN_CANCELLED ? SB_LOG_WARN : SB_LOG_ERROR, "%s: %s",
            status == SB_RUN_CANCELLED ? "Cancelling" : "Stopping", reason);
    sb_run__poll_cancel_all(r, now_ms);
    for (size_t i = 0; i < r->nsteps; i++) {
        step *s = &r->steps[i];
        if (s->state == ST_WAITING || s->state == ST_RUNNING) {
            sb_free(s->reason);
            s->reason = sb_strdup(why);
            if (s->kind == K_POLL && s->poll) {
                sb_val_free(s->output);
                s->output = sb_run__poll_output(s->poll);
            }
            sb_run__set_state(r, i, ST_FAILED);
        }
    }
    sb_run__pump(r, now_ms); /* finishes the run if nothing is in flight */
    if (!r->finishing) {
        write_result(r);
        /* Only the text was needed; the next write recomputes it from the
         * step outputs, which must not be shared meanwhile. */
        sb_val_free(r->result);
        r->result = sb_null();
    }
}

void sb_run_cancel(sb_run *r, const char *reason, int64_t now_ms)
{
    if (!r)
        return;
    sb_run__stop(r, SB_RUN_CANCELLED, reason ? reason : "cancelled", "cancelled", now_ms);
}

int64_t sb_run_next_deadline(const sb_run *r)
{
    return !r || r->finishing ? INT64_MAX : sb_timers_next(r->timers);
}

sb_run_status sb_run_get_status(const sb_run *r) { return r ? r->status : SB_RUN_FAILED; }

bool sb_run_done(const sb_run *r) { return !r || r->finishing; }

const char *sb_run_status_name(sb_run_status s)
{
    static const char *const n[] = {"pending", "running", "succeeded", "failed", "cancelled"};
    return (unsigned)s < 5 ? n[s] : "?";
}

const char *sb_run_error(const sb_run *r) { return r ? r->error : "no run"; }

sb_val sb_run_result(const sb_run *r) { return r ? r->result : sb_null(); }

const char *sb_run_stream_file(const sb_run *r) { return r ? r->spec->stream_file : NULL; }

const char *sb_run_result_file(const sb_run *r) { return r ? r->spec->result_file : NULL; }

bool sb_run_result_written(const sb_run *r) { return r && r->result_written; }
