/* The type check of a compiled spec: every expression of the pipeline
 * against the variables its field sees at run time (the rules of
 * core/engine/run_vars.c and of the callers that pass `extra`), with the
 * types known before the run: the declared inputs, the workspace tree, the
 * outputs of step kinds whose shape is fixed (poll, aggregate) or computed
 * (compute: the type of its values), dyn for the rest (tool results).
 * Problems are positioned diagnostics; the spec is refused when there is
 * any, so `pipeline validate` and `pipeline run` stop before anything runs. */
#include <string.h>

#include "../cel/sb_cel_check.h"
#include "../config/sb_config.h"
#include "spec_int.h"

typedef struct ckctx {
    spec_ctx *c;
    sb_cel_env *e;
    bool bad;
} ckctx;

static const sb_cel_type *T(ckctx *k, const char *text)
{
    const sb_cel_type *t = sb_cel_type_parse(k->e, text);
    if (!t)
        k->c->oom = true;
    return t;
}

static const sb_cel_type *check(ckctx *k, const sb_tmpl *t, bool want_bool)
{
    if (!t)
        return NULL;
    const sb_cel_type *r = sb_tmpl_check(t, k->e, want_bool, k->c->d);
    if (!r)
        k->bad = true;
    return r;
}

/* An input's type from its declaration: number is dyn because JSON cannot
 * tell 84 from 84.0 (an integer given for a number stays an int). */
static const char *input_type(sb_val decl)
{
    const sb_val *t = sb_map_get_str(decl, "type");
    const char *s = t && t->kind == SB_STRING ? sb_str(*t) : "any";
    if (strcmp(s, "string") == 0)
        return "string";
    if (strcmp(s, "integer") == 0)
        return "int";
    if (strcmp(s, "boolean") == 0)
        return "bool";
    if (strcmp(s, "list") == 0)
        return "list(dyn)";
    if (strcmp(s, "map") == 0)
        return "map(string, dyn)";
    return "dyn";
}

static const char *const event_vars[] = {"job", "error", "jobs", "attempt"};

/* job, error, jobs, attempt of an event-triggered step (run_retry.c's
 * event_vars, run_suggest.c's suggest_vars: the union, so either fits). */
static void declare_event(ckctx *k)
{
    sb_cel_env_declare(k->e, "job",
                       T(k, "{job_id: string, status: string, hyperparameters: dyn, attempt: int, retry_of: dyn, "
                            "estimated_cost_usd: dyn, metrics: dyn, error: dyn, error_type: dyn, "
                            "duration_seconds: dyn, cost_usd: dyn}"));
    sb_cel_env_declare(k->e, "error", T(k, "dyn"));
    sb_cel_env_declare(k->e, "jobs",
                       T(k, "{status: {queued_count: int, running_count: int, completed_count: int, failed_count: int, "
                            "cancelled_count: int, total: int}, trials: list(dyn)}"));
    sb_cel_env_declare(k->e, "attempt", T(k, "int"));
}

static void hint_event(ckctx *k)
{
    for (size_t i = 0; i < sizeof event_vars / sizeof *event_vars; i++)
        sb_cel_env_hint(k->e, event_vars[i], "in event-triggered steps (on:)");
}

/* The output's type by kind, before the step's own fields are checked. */
static const sb_cel_type *fixed_output(ckctx *k, const sb_spec_step *t)
{
    switch (t->kind) {
    case SB_SPEC_POLL:
        /* run_poll.c's sb_run__poll_output; `stopped` and
         * counts.stopped_early only with early_stopping */
        if (t->estop_metric)
            return T(k, "{handle: dyn, results: list(dyn), failed: list(dyn), stopped: list(dyn), polls: int, "
                        "counts: {completed: int, failed: int, cancelled: int, stopped_at_cap: int, unstarted: int, "
                        "stopped_early: int, total: int}}");
        return T(k, "{handle: dyn, results: list(dyn), failed: list(dyn), polls: int, counts: {completed: int, "
                    "failed: int, cancelled: int, stopped_at_cap: int, unstarted: int, total: int}}");
    case SB_SPEC_AGGREGATE:
        return T(k, "{ranked: list(dyn), top: list(dyn), best: dyn, stats: dyn, best_per_dollar: dyn, missing: int}");
    default: return T(k, "dyn");
    }
}

static sb_cel_type *step_entry(ckctx *k, const sb_cel_type *output)
{
    sb_cel_type *o = sb_cel_type_object(k->e);
    bool ok = o && sb_cel_type_add_field(k->e, o, "status", T(k, "string")) &&
              sb_cel_type_add_field(k->e, o, "output", output) &&
              sb_cel_type_add_field(k->e, o, "handle", T(k, "dyn")) &&
              sb_cel_type_add_field(k->e, o, "reason", T(k, "string"));
    if (!ok)
        k->c->oom = true;
    return ok ? o : NULL;
}

static void check_step(ckctx *k, sb_cel_type *steps, size_t i)
{
    sb_spec *s = k->c->spec;
    const sb_spec_step *t = &s->steps[i];
    size_t mark = sb_cel_env_mark(k->e);
    if (t->on_step != SB_SPEC_NONE)
        declare_event(k);
    else
        hint_event(k);
    sb_cel_env_hint(k->e, "output", "in a step's log:");
    sb_cel_env_hint(k->e, "result", "in a call step's handle: (id, jobs)");
    check(k, t->when, true);
    const sb_cel_type *body = check(k, t->body, false);
    check(k, t->from, false);
    check(k, t->metric, false);
    check(k, t->direction, false);
    check(k, t->top_k, false);
    check(k, t->index, false);
    for (size_t a = 0; a < t->nasserts; a++) {
        check(k, t->asserts[a].that, true);
        check(k, t->asserts[a].message, false);
    }
    check(k, t->retry_when, true);
    check(k, t->modify, false);
    const sb_cel_type *output = t->kind == SB_SPEC_COMPUTE && body ? body : fixed_output(k, t);
    if (output && !sb_cel_type_add_field(k->e, steps, t->name, step_entry(k, output)))
        k->c->oom = true;
    size_t inner = sb_cel_env_mark(k->e);
    if (t->handle_id || t->handle_jobs) {
        sb_cel_env_declare(k->e, "result", T(k, "dyn"));
        check(k, t->handle_id, false);
        check(k, t->handle_jobs, false);
        sb_cel_env_pop(k->e, inner);
    }
    if (t->log) {
        sb_cel_env_declare(k->e, "output", output ? output : T(k, "dyn"));
        check(k, t->log, false);
    }
    sb_cel_env_pop(k->e, mark);
}

bool sb_spec__check(spec_ctx *c, sb_val pipeline)
{
    sb_spec *s = c->spec;
    ckctx k = {c, sb_cel_env_new(s->cel.mixed_numeric), false};
    if (!k.e) {
        c->oom = true;
        return false;
    }
    sb_cel_type *inputs = sb_cel_type_object(k.e);
    for (size_t i = 0; inputs && i < s->ninputs; i++)
        if (!sb_cel_type_add_field(k.e, inputs, s->inputs[i].name, T(&k, input_type(s->inputs[i].decl))))
            c->oom = true;
    /* every step is in `steps` from the start (status waiting, output null):
     * an output's type is known once its step was checked, dyn before */
    sb_cel_type *steps = sb_cel_type_object(k.e);
    for (size_t i = 0; steps && i < s->nsteps; i++)
        if (!sb_cel_type_add_field(k.e, steps, s->steps[i].name, step_entry(&k, T(&k, "dyn"))))
            c->oom = true;
    bool ok = inputs && steps && sb_cel_env_declare(k.e, "inputs", inputs) &&
              sb_cel_env_declare(k.e, "steps", steps) &&
              sb_cel_env_declare(k.e, "workspace", s->workspace.kind == SB_NULL ? T(&k, "dyn")
                                                                                 : sb_cel_type_of(k.e, s->workspace)) &&
              sb_cel_env_declare(k.e, "run", T(&k, "{id: string, seed: uint, pipeline: string}")) &&
              sb_cel_env_declare(k.e, "ledger", T(&k, "dyn"));
    if (!ok)
        c->oom = true;
    /* in run order, so a compute step's output type reaches the steps after it */
    sb_val order = sb_config_step_order(pipeline);
    for (size_t j = 0; ok && order.kind == SB_LIST && j < sb_list_len(order); j++) {
        size_t i = sb_spec_step_index(s, sb_str(*sb_list_at(order, j)));
        if (i != SB_SPEC_NONE)
            check_step(&k, steps, i);
    }
    if (order.kind != SB_LIST)
        c->oom = true;
    sb_val_free(order);
    if (ok) {
        size_t mark = sb_cel_env_mark(k.e);
        hint_event(&k);
        sb_cel_env_hint(k.e, "output", "in a step's log:");
        sb_cel_env_hint(k.e, "result", "in a call step's handle: (id, jobs)");
        for (size_t i = 0; i < s->noutputs; i++)
            check(&k, s->outputs[i].value, false);
        check(&k, s->budget, false);
        sb_cel_env_pop(k.e, mark);
    }
    sb_cel_env_free(k.e);
    if (k.bad)
        c->ok = false;
    return !k.bad;
}
