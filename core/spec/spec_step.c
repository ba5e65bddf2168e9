/* One step of the spec, by kind; then needs and on: as indices, and the step
 * numbers. The trees were validated (sb_config_check_pipelines): kinds are
 * exclusive, references name known steps and servers, there is no cycle. */
#include <stdio.h>
#include <string.h>

#include "../config/sb_config.h"
#include "../util/sb_alloc.h"
#include "spec_int.h"

static const char *const kind_keys[] = {"call", "poll", "aggregate", "select", "compute", "assert", "retry", "suggest"};

/* The field `key` of def (borrowed), or the table's default for `path` (held
 * in *hold, which the caller frees); NULL when neither exists. */
static const sb_val *field_or_default(sb_val def, const char *key, const char *path, sb_val *hold)
{
    const sb_val *v = sb_map_get_str(def, key);
    *hold = v ? sb_null() : sb_spec__step_default(path);
    return v ? v : hold->kind != SB_NULL ? hold : NULL;
}

/* Compiles def.key, or the table's default for path; a field with neither
 * leaves *out NULL. */
static void compile_field(spec_ctx *c, sb_val def, const char *key, const char *path, sb_tmpl **out)
{
    sb_val hold;
    const sb_val *v = field_or_default(def, key, path, &hold);
    if (v)
        sb_spec__compile(c, *v, out);
    sb_val_free(hold);
}

static char *dup(spec_ctx *c, const char *s, size_t n)
{
    char *p = sb_strndup(s, n);
    if (!p)
        c->oom = true;
    return p;
}

static void call_step(spec_ctx *c, sb_spec_step *t, sb_val def, sb_val ref)
{
    const char *r = sb_str(ref), *dot = strchr(r, '.');
    t->server = dup(c, r, (size_t)(dot - r));
    t->tool = dup(c, dot + 1, strlen(dot + 1));
    const sb_val *with = sb_map_get_str(def, "with");
    sb_val empty = sb_map_new(0);
    sb_spec__compile(c, with ? *with : empty, &t->body);
    sb_val_free(empty);
    const sb_val *prog = sb_map_get_str(def, "progress");
    t->progress = prog && prog->kind == SB_BOOL && prog->as.b;
    const sb_val *task = sb_map_get_str(def, "task");
    const sb_val *ttl = task ? sb_map_get_str(*task, "ttl_ms") : NULL;
    t->task_ttl_ms = ttl && ttl->kind == SB_INT ? ttl->as.i : 0;
    /* A submission (handle:) with an idempotency_key is safe to repeat: the
     * key makes a second submit harmless (the engine checks the key when the
     * call is made). Other calls repeat only when told to. */
    const sb_val *cr = sb_map_get_str(def, "call_retry");
    t->call_attempts = 1;
    t->call_retry_given = cr != NULL;
    if (cr || sb_map_get_str(def, "handle")) {
        sb_val none = sb_map_new(0), hold;
        const sb_val *ma = field_or_default(cr ? *cr : none, "max_attempts", "call_retry.max_attempts", &hold);
        t->call_attempts = ma && ma->kind == SB_INT ? (int)ma->as.i : 1;
        sb_val_free(hold);
        const sb_val *bo = cr ? sb_map_get_str(*cr, "backoff") : NULL;
        t->call_backoff = sb_spec__backoff(bo ? *bo : sb_null(), false, "call_retry.backoff");
        sb_val_free(none);
    }
    const sb_val *h = sb_map_get_str(def, "handle");
    if (!h)
        return;
    sb_spec__compile(c, *sb_map_get_str(*h, "id"), &t->handle_id);
    sb_spec__compile(c, *sb_map_get_str(*h, "jobs"), &t->handle_jobs);
    const sb_val *srv = sb_map_get_str(*h, "server");
    if (srv)
        t->handle_server = dup(c, sb_str(*srv), sb_str_len(*srv));
}

/* early_stopping, validated by the schema: the rule as typed settings. */
static void early_stopping(spec_ctx *c, sb_spec_step *t, sb_val es)
{
    const sb_val *rule = sb_map_get_str(es, "rule"), *metric = sb_map_get_str(es, "metric");
    if (!rule || !metric || metric->kind != SB_STRING)
        return;
    sb_estop_rule *r = &t->estop;
    sb_estop_rule_init(r, sb_str_eq(*rule, "median") ? SB_ESTOP_MEDIAN : SB_ESTOP_ASHA);
    sb_val hold;
    const sb_val *v = field_or_default(es, "mode", "early_stopping.mode", &hold);
    r->maximize = !v || !sb_str_eq(*v, "min");
    sb_val_free(hold);
    v = field_or_default(es, "min_steps", "early_stopping.min_steps", &hold);
    if (v && v->kind == SB_INT)
        r->min_steps = v->as.i;
    sb_val_free(hold);
    v = field_or_default(es, "reduction_factor", "early_stopping.reduction_factor", &hold);
    if (v)
        sb_val_as_double(*v, &r->reduction_factor);
    sb_val_free(hold);
    v = field_or_default(es, "grace", "early_stopping.grace", &hold);
    if (v && v->kind == SB_INT)
        r->grace = (uint32_t)v->as.i;
    sb_val_free(hold);
    const sb_val *rungs = sb_map_get_str(es, "rungs");
    if (rungs && sb_list_len(*rungs) > SB_ESTOP_MAX_LISTED_RUNGS) {
        sb_diags_add(c->d, c->pl_file, rungs->line, rungs->col, "early_stopping.rungs: at most %d rungs",
                     SB_ESTOP_MAX_LISTED_RUNGS);
        c->ok = false;
        return;
    }
    for (size_t k = 0; rungs && k < sb_list_len(*rungs); k++) {
        const sb_val *x = sb_list_at(*rungs, k);
        r->rungs[r->nrungs++] = x->kind == SB_INT ? x->as.i : 1;
        if (k && r->rungs[k] <= r->rungs[k - 1]) {
            sb_diags_add(c->d, c->pl_file, x->line, x->col,
                         "early_stopping.rungs must be ascending: %lld does not follow %lld", (long long)r->rungs[k],
                         (long long)r->rungs[k - 1]);
            c->ok = false;
            return;
        }
    }
    compile_field(c, es, "enabled", "early_stopping.enabled", &t->estop_enabled);
    t->estop_metric = dup(c, sb_str(*metric), sb_str_len(*metric));
}

static void poll_step(spec_ctx *c, sb_spec_step *t, sb_val def, sb_val body)
{
    sb_spec__compile(c, body, &t->body);
    const sb_val *st = sb_map_get_str(def, "status_tool");
    if (st) {
        const char *ref = sb_str(*st), *dot = strchr(ref, '.');
        const char *tool = dot ? dot + 1 : ref;
        t->status_tool = dup(c, tool, strlen(tool));
    }
    t->polling = c->spec->polling;
    const sb_val *polling = sb_map_get_str(def, "polling");
    if (polling)
        sb_spec__polling_layer(&t->polling, *polling);
    const sb_val *timeout = sb_map_get_str(def, "timeout_ms");
    if (timeout && timeout->kind == SB_INT)
        t->polling.timeout_ms = timeout->as.i;
    sb_val hold;
    const sb_val *stream = field_or_default(def, "stream", "stream", &hold);
    t->stream = stream && stream->kind == SB_BOOL && stream->as.b;
    sb_val_free(hold);
    const sb_val *sp = sb_map_get_str(def, "stream_progress");
    t->stream_progress = sp && sp->kind == SB_BOOL && sp->as.b;
    const sb_val *es = sb_map_get_str(def, "early_stopping");
    if (es && es->kind == SB_MAP)
        early_stopping(c, t, *es);
}

static void assert_step(spec_ctx *c, sb_spec_step *t, sb_val list)
{
    size_t n = sb_list_len(list);
    t->asserts = sb_calloc(n ? n : 1, sizeof *t->asserts);
    if (!t->asserts) {
        c->oom = true;
        return;
    }
    for (size_t k = 0; k < n; k++) {
        sb_val a = *sb_list_at(list, k);
        sb_spec_assertion *x = &t->asserts[t->nasserts++];
        const sb_val *that = sb_map_get_str(a, "that"), *msg = sb_map_get_str(a, "message");
        x->that_src = sb_val_ref(*that);
        sb_spec__compile(c, *that, &x->that);
        if (msg)
            sb_spec__compile(c, *msg, &x->message);
    }
}

static void retry_step(spec_ctx *c, sb_spec_step *t, sb_val retry)
{
    compile_field(c, retry, "when", "retry.when", &t->retry_when);
    const sb_val *mod = sb_map_get_str(retry, "modify");
    if (mod)
        sb_spec__compile(c, *mod, &t->modify);
    sb_val hold;
    const sb_val *ma = field_or_default(retry, "max_attempts", "retry.max_attempts", &hold);
    t->max_attempts = ma && ma->kind == SB_INT ? (int)ma->as.i : 0;
    sb_val_free(hold);
    const sb_val *bo = sb_map_get_str(retry, "backoff");
    t->retry_backoff = sb_spec__backoff(bo ? *bo : sb_null(), false, "retry.backoff");
}

bool sb_spec__step(spec_ctx *c, size_t i, sb_val name, sb_val def)
{
    sb_spec_step *t = &c->spec->steps[i];
    t->on_step = SB_SPEC_NONE;
    t->when_src = sb_null();
    t->name = dup(c, sb_str(name), sb_str_len(name));
    const sb_val *body = NULL;
    for (size_t k = 0; k < sizeof kind_keys / sizeof *kind_keys && !body; k++)
        if ((body = sb_map_get_str(def, kind_keys[k])))
            t->kind = (sb_spec_kind)k;
    if (!body) {
        sb_diags_add(c->d, c->pl_file, def.line, def.col, "step '%s' has no kind", sb_str(name));
        c->ok = false;
        return false;
    }
    const sb_val *when = sb_map_get_str(def, "when");
    if (when) {
        t->when_src = sb_val_ref(*when);
        sb_spec__compile(c, *when, &t->when);
    }
    const sb_val *log = sb_map_get_str(def, "log");
    if (log)
        sb_spec__compile(c, *log, &t->log);
    switch (t->kind) {
    case SB_SPEC_CALL: call_step(c, t, def, *body); break;
    case SB_SPEC_POLL: poll_step(c, t, def, *body); break;
    case SB_SPEC_AGGREGATE:
        sb_spec__compile(c, *sb_map_get_str(*body, "from"), &t->from);
        sb_spec__compile(c, *sb_map_get_str(*body, "metric"), &t->metric);
        compile_field(c, *body, "direction", "aggregate.direction", &t->direction);
        compile_field(c, *body, "top_k", "aggregate.top_k", &t->top_k);
        break;
    case SB_SPEC_SELECT:
        sb_spec__compile(c, *sb_map_get_str(*body, "from"), &t->from);
        compile_field(c, *body, "index", "select.index", &t->index);
        break;
    case SB_SPEC_COMPUTE: sb_spec__compile(c, *body, &t->body); break;
    case SB_SPEC_ASSERT: assert_step(c, t, *body); break;
    case SB_SPEC_RETRY: retry_step(c, t, *body); break;
    case SB_SPEC_SUGGEST: call_step(c, t, *body, *sb_map_get_str(*body, "call")); break;
    }
    return c->ok;
}

/* --- links and numbers --- */

static bool index_steps(sb_spec *s)
{
    s->step_index = sb_map_new(s->nsteps);
    for (size_t i = 0; s->step_index.kind == SB_MAP && i < s->nsteps; i++)
        if (!sb_map_set_str(&s->step_index, s->steps[i].name, sb_int((int64_t)i)))
            return false;
    return s->step_index.kind == SB_MAP;
}

/* Step numbers follow the run order; an event-triggered step is numbered
 * right after the poll step whose events it serves. */
static bool number_steps(sb_spec *s, sb_val pipeline, const size_t *events, size_t nevents)
{
    sb_val order = sb_config_step_order(pipeline);
    if (order.kind != SB_LIST) {
        sb_val_free(order);
        return false;
    }
    int next = 1;
    for (size_t k = 0; k < sb_list_len(order); k++) {
        size_t i = sb_spec_step_index(s, sb_str(*sb_list_at(order, k)));
        sb_spec_step *t = &s->steps[i];
        if (t->on_step != SB_SPEC_NONE && t->number == 0)
            continue; /* numbered with its poll step */
        if (t->number == 0)
            t->number = next++;
        if (t->kind != SB_SPEC_POLL)
            continue;
        for (size_t e = 0; e < nevents; e++)
            if (s->steps[events[e]].on_step == i && s->steps[events[e]].number == 0)
                s->steps[events[e]].number = next++;
    }
    for (size_t j = 0; j < s->nsteps; j++)
        if (s->steps[j].number == 0)
            s->steps[j].number = next++;
    sb_val_free(order);
    return true;
}

bool sb_spec__link(spec_ctx *c, sb_val pipeline)
{
    sb_spec *s = c->spec;
    if (!index_steps(s))
        return false;
    const sb_val *steps = sb_map_get_str(pipeline, "steps");
    size_t nevents = 0;
    size_t *events = sb_calloc(s->nsteps ? s->nsteps : 1, sizeof *events);
    if (!events)
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < s->nsteps; i++) {
        sb_spec_step *t = &s->steps[i];
        sb_val def = *sb_map_val_at(*steps, i);
        const sb_val *needs = sb_map_get_str(def, "needs");
        size_t n = needs ? sb_list_len(*needs) : 0;
        t->needs = sb_calloc(n ? n : 1, sizeof *t->needs);
        ok = t->needs != NULL;
        for (size_t k = 0; ok && k < n; k++)
            t->needs[t->nneeds++] = sb_spec_step_index(s, sb_str(*sb_list_at(*needs, k)));
        const sb_val *on = sb_map_get_str(def, "on");
        if (ok && on) {
            const char *ref = sb_str(*on), *dot = strchr(ref, '.');
            sb_val name = sb_string(ref, (size_t)(dot - ref));
            const sb_val *at = sb_map_get(s->step_index, name);
            sb_val_free(name);
            ok = at != NULL; /* validated: only memory can be missing */
            t->on_step = at ? (size_t)at->as.i : SB_SPEC_NONE;
            t->on_event = strcmp(dot + 1, "job_failed") == 0      ? SB_SPEC_JOB_FAILED
                          : strcmp(dot + 1, "job_completed") == 0 ? SB_SPEC_JOB_COMPLETED
                                                                  : SB_SPEC_JOB_FINISHED;
            events[nevents++] = i;
        }
    }
    ok = ok && number_steps(s, pipeline, events, nevents);
    sb_free(events);
    return ok;
}
