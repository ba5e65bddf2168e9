/* sb_spec: see sb_spec.h. The workspace part, inputs, outputs and the budget;
 * steps are compiled in spec_step.c. */
#include <stdio.h>
#include <string.h>

#include "../config/sb_config.h"
#include "../config/sb_schema.h"
#include "../util/sb_alloc.h"
#include "spec_int.h"

sb_val sb_spec__ws_default(const char *path) { return sb_schema_default(&sb_schema_workspace, path); }

sb_val sb_spec__step_default(const char *path)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "pipelines.*.steps.*.%s", path);
    sb_val v = sb_buf_failed(&b) ? sb_oom() : sb_schema_default(&sb_schema_pipelines, sb_buf_str(&b));
    sb_buf_free(&b);
    return v;
}

static int64_t int_of(sb_val v, int64_t fallback)
{
    return v.kind == SB_INT ? v.as.i : fallback;
}

static double num_of(sb_val v, double fallback)
{
    double d;
    return sb_val_as_double(v, &d) ? d : fallback;
}

bool sb_spec__compile(spec_ctx *c, sb_val v, sb_tmpl **out)
{
    *out = sb_tmpl_compile(v, c->pl_file, &c->spec->cel, c->d);
    if (!*out)
        c->ok = false;
    return *out != NULL;
}

/* --- poll and retry settings --- */

void sb_spec__polling_layer(sb_spec_polling *p, sb_val m)
{
    const sb_val *v;
    if ((v = sb_map_get_str(m, "initial_delay_ms")) && v->kind == SB_INT)
        p->backoff.initial_ms = v->as.i;
    if ((v = sb_map_get_str(m, "max_delay_ms")) && v->kind == SB_INT)
        p->backoff.max_ms = v->as.i;
    if ((v = sb_map_get_str(m, "multiplier")))
        sb_val_as_double(*v, &p->backoff.multiplier);
    if ((v = sb_map_get_str(m, "jitter")) && v->kind == SB_STRING && sb_jitter_parse(sb_str(*v)) >= 0)
        p->backoff.jitter = (sb_jitter)sb_jitter_parse(sb_str(*v));
    if ((v = sb_map_get_str(m, "max_attempts")) && v->kind == SB_INT)
        p->max_attempts = (int)v->as.i;
    if ((v = sb_map_get_str(m, "timeout_ms")) && v->kind == SB_INT)
        p->timeout_ms = v->as.i;
    if (p->backoff.max_ms < p->backoff.initial_ms)
        p->backoff.max_ms = p->backoff.initial_ms;
}

static sb_val table_default(bool workspace, const char *path, const char *key)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s.%s", path, key);
    sb_val v = sb_buf_failed(&b)      ? sb_oom()
               : workspace            ? sb_spec__ws_default(sb_buf_str(&b))
                                      : sb_spec__step_default(sb_buf_str(&b));
    sb_buf_free(&b);
    return v;
}

sb_backoff sb_spec__backoff(sb_val m, bool workspace, const char *path)
{
    sb_spec_polling p = {{0, 0, 1, SB_JITTER_NONE}, 0, 0};
    sb_val v = table_default(workspace, path, "initial_delay_ms");
    p.backoff.initial_ms = int_of(v, 0);
    sb_val_free(v);
    v = table_default(workspace, path, "max_delay_ms");
    p.backoff.max_ms = int_of(v, 0);
    sb_val_free(v);
    v = table_default(workspace, path, "multiplier");
    p.backoff.multiplier = num_of(v, 1);
    sb_val_free(v);
    v = table_default(workspace, path, "jitter");
    if (v.kind == SB_STRING && sb_jitter_parse(sb_str(v)) >= 0)
        p.backoff.jitter = (sb_jitter)sb_jitter_parse(sb_str(v));
    sb_val_free(v);
    if (workspace) {
        v = table_default(true, path, "max_attempts");
        p.max_attempts = (int)int_of(v, 0);
        sb_val_free(v);
    }
    sb_spec__polling_layer(&p, m);
    return p.backoff;
}

/* --- workspace --- */

static char *str_setting(spec_ctx *c, sb_val section, const char *key, const char *path)
{
    const sb_val *v = sb_map_get_str(section, key);
    sb_val d = v ? sb_null() : sb_spec__ws_default(path);
    const char *s = v && v->kind == SB_STRING ? sb_str(*v) : d.kind == SB_STRING ? sb_str(d) : NULL;
    char *out = s ? sb_strdup(s) : NULL;
    if (s && !out)
        c->oom = true;
    sb_val_free(d);
    return out;
}

static bool bool_setting(sb_val section, const char *key, const char *path)
{
    const sb_val *v = sb_map_get_str(section, key);
    if (v && v->kind == SB_BOOL)
        return v->as.b;
    sb_val d = sb_spec__ws_default(path);
    bool b = d.kind == SB_BOOL && d.as.b;
    sb_val_free(d);
    return b;
}

static char **patterns(spec_ctx *c, sb_val errors, const char *key, size_t *n)
{
    const sb_val *given = sb_map_get_str(errors, key);
    char path[64];
    snprintf(path, sizeof path, "errors.%s", key);
    sb_val list = given ? sb_val_ref(*given) : sb_spec__ws_default(path);
    size_t len = sb_list_len(list);
    char **out = sb_calloc(len ? len : 1, sizeof *out);
    *n = 0;
    for (size_t k = 0; out && k < len; k++) {
        const sb_val *p = sb_list_at(list, k);
        if (p->kind != SB_STRING)
            continue;
        if (!(out[*n] = sb_strdup(sb_str(*p))))
            c->oom = true;
        else
            (*n)++;
    }
    if (!out)
        c->oom = true;
    sb_val_free(list);
    return out;
}

static void compile_workspace(spec_ctx *c, sb_val ws)
{
    sb_spec *s = c->spec;
    s->workspace = sb_val_ref(ws);
    const sb_val *expr = sb_map_get_str(ws, "expressions");
    s->cel.mixed_numeric = bool_setting(expr ? *expr : sb_null(), "mixed_numeric", "expressions.mixed_numeric");
    const sb_val *streaming = sb_map_get_str(ws, "streaming");
    sb_val st = streaming ? *streaming : sb_null();
    if (bool_setting(st, "enabled", "streaming.enabled"))
        s->stream_file = str_setting(c, st, "file", "streaming.file");
    const sb_val *outs = sb_map_get_str(ws, "outputs");
    s->result_file = str_setting(c, outs ? *outs : sb_null(), "result_file", "outputs.result_file");
    if (!s->result_file)
        c->oom = true;
    s->polling = sb_spec_workspace_polling(ws);
    const sb_val *errors = sb_map_get_str(ws, "errors");
    sb_val e = errors ? *errors : sb_null();
    s->transient_patterns = patterns(c, e, "transient_patterns", &s->ntransient);
    s->permanent_patterns = patterns(c, e, "permanent_patterns", &s->npermanent);
    const sb_val *dflt = sb_map_get_str(e, "default");
    sb_val dd = dflt ? sb_val_ref(*dflt) : sb_spec__ws_default("errors.default");
    s->default_transient = sb_str_eq(dd, "transient");
    sb_val_free(dd);
}

/* --- the pipeline --- */

static void compile_inputs(spec_ctx *c, sb_val decls)
{
    sb_spec *s = c->spec;
    size_t n = sb_map_len(decls);
    s->inputs = sb_calloc(n ? n : 1, sizeof *s->inputs);
    if (!s->inputs) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sb_spec_input *in = &s->inputs[s->ninputs++];
        sb_val decl = *sb_map_val_at(decls, i);
        in->decl = sb_val_ref(decl);
        in->dflt = sb_null();
        const sb_val *d = sb_map_get_str(decl, "default");
        if (d) {
            in->has_default = true;
            in->dflt = sb_val_ref(*d);
        }
        if (!(in->name = sb_strdup(sb_str(*sb_map_key_at(decls, i)))))
            c->oom = true;
    }
}

static void compile_outputs(spec_ctx *c, sb_val outs)
{
    sb_spec *s = c->spec;
    size_t n = sb_map_len(outs);
    s->outputs = sb_calloc(n ? n : 1, sizeof *s->outputs);
    if (!s->outputs) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sb_spec_output *o = &s->outputs[s->noutputs++];
        if (!(o->name = sb_strdup(sb_str(*sb_map_key_at(outs, i)))))
            c->oom = true;
        sb_spec__compile(c, *sb_map_val_at(outs, i), &o->value);
    }
}

sb_spec *sb_spec_compile(sb_val workspace, sb_val pipelines, const char *pipeline, const char *workspace_file,
                         const char *pipelines_file, sb_diags *d)
{
    const sb_val *ps = sb_map_get_str(pipelines, "pipelines");
    const sb_val *p = ps && pipeline ? sb_map_get_str(*ps, pipeline) : NULL;
    if (!p) {
        sb_buf known = SB_BUF_INIT;
        for (size_t i = 0; ps && i < sb_map_len(*ps); i++)
            sb_buf_printf(&known, "%s%s", i ? ", " : "", sb_str(*sb_map_key_at(*ps, i)));
        sb_diags_add(d, pipelines_file, 0, 0, "unknown pipeline '%s' (the file defines: %s)", pipeline ? pipeline : "",
                     sb_buf_str(&known));
        sb_buf_free(&known);
        return NULL;
    }
    sb_spec *s = sb_calloc(1, sizeof *s);
    if (!s) {
        sb_diags_add(d, pipelines_file, 0, 0, "out of memory");
        return NULL;
    }
    s->workspace = s->budget_src = s->step_index = sb_null();
    spec_ctx c = {s, workspace_file, pipelines_file, d, true, false};
    compile_workspace(&c, workspace);
    s->pipeline = sb_strdup(pipeline);
    if (!s->pipeline)
        c.oom = true;
    const sb_val *inputs = sb_map_get_str(*p, "inputs");
    compile_inputs(&c, inputs ? *inputs : sb_null());
    const sb_val *steps = sb_map_get_str(*p, "steps");
    size_t n = steps ? sb_map_len(*steps) : 0;
    s->steps = sb_calloc(n ? n : 1, sizeof *s->steps);
    if (!s->steps)
        c.oom = true;
    /* nsteps grows with each step set up: sb_spec_free walks them. */
    for (size_t i = 0; s->steps && i < n; i++) {
        s->nsteps++;
        sb_spec__step(&c, i, *sb_map_key_at(*steps, i), *sb_map_val_at(*steps, i));
    }
    const sb_val *outputs = sb_map_get_str(*p, "outputs");
    compile_outputs(&c, outputs ? *outputs : sb_null());
    const sb_val *budget = sb_map_get_str(*p, "budget_usd");
    if (budget) {
        s->budget_src = sb_val_ref(*budget);
        sb_spec__compile(&c, *budget, &s->budget);
    }
    if (!c.oom && c.ok && !sb_spec__link(&c, *p))
        c.oom = true;
    if (!c.oom && c.ok)
        sb_spec__check(&c, *p);
    if (c.oom || !c.ok) {
        if (c.oom || sb_diags_count(d) == 0)
            sb_diags_add(d, pipelines_file, 0, 0, "out of memory");
        sb_spec_free(s);
        return NULL;
    }
    return s;
}

size_t sb_spec_step_index(const sb_spec *s, const char *name)
{
    const sb_val *i = s ? sb_map_get_str(s->step_index, name) : NULL;
    return i ? (size_t)i->as.i : SB_SPEC_NONE;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        sb_free(v[i]);
    sb_free(v);
}

void sb_spec_free(sb_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nsteps; i++) {
        sb_spec_step *t = &s->steps[i];
        sb_free(t->name);
        sb_free(t->needs);
        sb_tmpl_free(t->when);
        sb_val_free(t->when_src);
        sb_tmpl_free(t->log);
        sb_tmpl_free(t->body);
        sb_free(t->server);
        sb_free(t->tool);
        sb_tmpl_free(t->handle_id);
        sb_tmpl_free(t->handle_jobs);
        sb_free(t->handle_server);
        sb_free(t->status_tool);
        sb_free(t->estop_metric);
        sb_tmpl_free(t->estop_enabled);
        sb_tmpl_free(t->from);
        sb_tmpl_free(t->metric);
        sb_tmpl_free(t->direction);
        sb_tmpl_free(t->top_k);
        sb_tmpl_free(t->index);
        for (size_t k = 0; k < t->nasserts; k++) {
            sb_tmpl_free(t->asserts[k].that);
            sb_tmpl_free(t->asserts[k].message);
            sb_val_free(t->asserts[k].that_src);
        }
        sb_free(t->asserts);
        sb_tmpl_free(t->retry_when);
        sb_tmpl_free(t->modify);
    }
    sb_free(s->steps);
    for (size_t i = 0; i < s->ninputs; i++) {
        sb_free(s->inputs[i].name);
        sb_val_free(s->inputs[i].decl);
        sb_val_free(s->inputs[i].dflt);
    }
    sb_free(s->inputs);
    for (size_t i = 0; i < s->noutputs; i++) {
        sb_free(s->outputs[i].name);
        sb_tmpl_free(s->outputs[i].value);
    }
    sb_free(s->outputs);
    sb_val_free(s->step_index);
    sb_tmpl_free(s->budget);
    sb_val_free(s->budget_src);
    sb_val_free(s->workspace);
    free_strings(s->transient_patterns, s->ntransient);
    free_strings(s->permanent_patterns, s->npermanent);
    sb_free(s->stream_file);
    sb_free(s->result_file);
    sb_free(s->pipeline);
    sb_free(s);
}

sb_spec_polling sb_spec_workspace_polling(sb_val ws)
{
    sb_spec_polling p;
    const sb_val *polling = ws.kind == SB_MAP ? sb_map_get_str(ws, "polling") : NULL;
    p.backoff = sb_spec__backoff(sb_null(), true, "polling");
    sb_val ma = sb_spec__ws_default("polling.max_attempts");
    p.max_attempts = (int)int_of(ma, 1);
    sb_val_free(ma);
    p.timeout_ms = 0; /* the table has none: no limit */
    if (polling)
        sb_spec__polling_layer(&p, *polling);
    return p;
}
