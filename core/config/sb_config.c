#include "sb_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "sb_handle_value.h"
#include "../util/sb_bitset.h"
#include "sb_schema_common.h"
#include "sb_yaml.h"

static bool split_ref(sb_val ref, const char **dot)
{
    const char *s = sb_str(ref);
    *dot = strchr(s, '.');
    return *dot && *dot != s && (*dot)[1] != '\0' && !strchr(*dot + 1, '.');
}

/* --- workspace --- */

static void workspace_semantics(const char *file, sb_val ws, sb_diags *d, bool *ok)
{
    const sb_val *servers = sb_map_get_str(ws, "servers");
    for (size_t i = 0; servers && i < sb_map_len(*servers); i++) {
        sb_val name = *sb_map_key_at(*servers, i), s = *sb_map_val_at(*servers, i);
        const sb_val *t = sb_map_get_str(s, "transport");
        if (!t || t->kind != SB_STRING)
            continue;
        const sb_val *url = sb_map_get_str(s, "url"), *svc = sb_map_get_str(s, "service");
        if (sb_str_eq(*t, "http")) {
            if (!url) {
                sb_diags_add(d, file, s.line, s.col, "servers.%s: transport http needs a url", sb_str(name));
                *ok = false;
            } else if (url->kind == SB_STRING && strncmp(sb_str(*url), "http://", 7) != 0 &&
                       strncmp(sb_str(*url), "https://", 8) != 0) {
                sb_diags_add(d, file, url->line, url->col, "servers.%s.url: expected an http:// or https:// URL",
                             sb_str(name));
                *ok = false;
            }
            if (svc) {
                sb_diags_add(d, file, svc->line, svc->col,
                             "servers.%s.service: only used with transport embedded", sb_str(name));
                *ok = false;
            }
        } else {
            if (!svc) {
                sb_diags_add(d, file, s.line, s.col,
                             "servers.%s: transport embedded needs a service (solver or conductor_sim)",
                             sb_str(name));
                *ok = false;
            }
            if (url) {
                sb_diags_add(d, file, url->line, url->col, "servers.%s.url: only used with transport http",
                             sb_str(name));
                *ok = false;
            }
            const sb_val *tok = sb_map_get_str(s, "bearer_token_env");
            if (tok) {
                sb_diags_add(d, file, tok->line, tok->col,
                             "servers.%s.bearer_token_env: only used with transport http", sb_str(name));
                *ok = false;
            }
        }
    }
    const sb_val *poll = sb_map_get_str(ws, "polling");
    if (poll) {
        const sb_val *ini = sb_map_get_str(*poll, "initial_delay_ms"), *max = sb_map_get_str(*poll, "max_delay_ms");
        if (ini && max && ini->kind == SB_INT && max->kind == SB_INT && ini->as.i > max->as.i) {
            sb_diags_add(d, file, max->line, max->col,
                         "polling.max_delay_ms: %lld is smaller than initial_delay_ms %lld", (long long)max->as.i,
                         (long long)ini->as.i);
            *ok = false;
        }
    }
}

bool sb_config_workspace(const char *file, const char *text, size_t len, sb_diags *d, sb_val *out)
{
    if (!sb_yaml_load(file, text, len, d, out))
        return false;
    if (out->kind != SB_MAP) {
        sb_diags_add(d, file, out->line ? out->line : 1, out->col ? out->col : 1,
                     "expected a workspace mapping (version, servers, ...) at the top of the file");
        return false;
    }
    return sb_config_check_workspace(file, *out, d);
}

bool sb_config_check_workspace(const char *file, sb_val ws, sb_diags *d)
{
    if (ws.kind != SB_MAP) {
        sb_diags_add(d, file, ws.line ? ws.line : 1, ws.col ? ws.col : 1,
                     "expected a workspace mapping (version, servers, ...) at the top of the file");
        return false;
    }
    bool ok = sb_schema__check(&sb_schema_workspace, ws, file, "", d);
    workspace_semantics(file, ws, d, &ok);
    return ok;
}

/* --- inputs --- */

static bool type_ok(const char *type, sb_val v)
{
    if (strcmp(type, "string") == 0)
        return v.kind == SB_STRING;
    if (strcmp(type, "integer") == 0)
        return v.kind == SB_INT || v.kind == SB_UINT;
    if (strcmp(type, "number") == 0)
        return v.kind == SB_INT || v.kind == SB_UINT || v.kind == SB_DOUBLE;
    if (strcmp(type, "boolean") == 0)
        return v.kind == SB_BOOL;
    if (strcmp(type, "list") == 0)
        return v.kind == SB_LIST;
    if (strcmp(type, "map") == 0)
        return v.kind == SB_MAP;
    if (strcmp(type, "handle") == 0)
        return v.kind == SB_STRING || v.kind == SB_MAP;
    return true;
}

/* false when value does not fit decl, with the reason appended to m. The
 * verdict does not depend on m: a reason that could not be allocated still
 * leaves the value rejected. */
/* The first infinite or NaN number in v, or NULL. */
static const sb_val *nonfinite(const sb_val *v)
{
    if (v->kind == SB_DOUBLE && !isfinite(v->as.d))
        return v;
    for (size_t i = 0; v->kind == SB_LIST && i < sb_list_len(*v); i++) {
        const sb_val *f = nonfinite(sb_list_at(*v, i));
        if (f)
            return f;
    }
    for (size_t i = 0; v->kind == SB_MAP && i < sb_map_len(*v); i++) {
        const sb_val *f = nonfinite(sb_map_val_at(*v, i));
        if (f)
            return f;
    }
    return NULL;
}

bool sb_config_check_input(sb_val decl, sb_val value, sb_buf *m)
{
    const sb_val *type = sb_map_get_str(decl, "type");
    if (type && type->kind == SB_STRING && !type_ok(sb_str(*type), value)) {
        sb_buf_printf(m, "expected %s, found ", sb_str(*type));
        sb_schema__describe(m, value);
        return false;
    }
    if (type && sb_str_eq(*type, "handle")) {
        /* SERVER:KIND:ID text or an ExternalHandle (or PollableJobHandle)
         * object; which servers exist is the workspace's (sb_config_check_handle). */
        sb_val h = sb_handle_external(value);
        bool ok = h.kind == SB_MAP;
        if (!ok)
            sb_buf_printf(m, "expected a handle (SERVER:KIND:ID or an ExternalHandle object): %s",
                          sb_is_oom(h) ? "out of memory" : sb_str(h));
        sb_val_free(h);
        return ok;
    }
    /* JSON text beyond the double range (1e309) reads as infinity, YAML has
     * .inf and .nan: no input takes them, and no output could write them. */
    const sb_val *bad = nonfinite(&value);
    if (bad) {
        sb_buf_puts(m, bad == &value ? "expected a finite number, found " : "numbers must be finite, found ");
        sb_schema__describe(m, *bad);
        if (isinf(bad->as.d))
            sb_buf_puts(m, " (a number beyond +/-1.8e308, or .inf)");
        return false;
    }
    const sb_val *en = sb_map_get_str(decl, "enum");
    if (en && en->kind == SB_LIST) {
        bool found = false;
        for (size_t i = 0; i < sb_list_len(*en) && !found; i++)
            found = sb_val_equal(*sb_list_at(*en, i), value);
        if (!found) {
            sb_buf_puts(m, "expected one of ");
            sb_val_write_json(m, *en, 0);
            sb_buf_puts(m, ", found ");
            sb_schema__describe(m, value);
            return false;
        }
    }
    double x, lim;
    const sb_val *mn = sb_map_get_str(decl, "minimum"), *mx = sb_map_get_str(decl, "maximum");
    if (sb_val_as_double(value, &x)) {
        if (mn && sb_val_as_double(*mn, &lim) && x < lim) {
            sb_buf_puts(m, "must be at least ");
            sb_val_write_json(m, *mn, 0);
            sb_buf_puts(m, ", found ");
            sb_schema__describe(m, value);
            return false;
        }
        if (mx && sb_val_as_double(*mx, &lim) && x > lim) {
            sb_buf_puts(m, "must be at most ");
            sb_val_write_json(m, *mx, 0);
            sb_buf_puts(m, ", found ");
            sb_schema__describe(m, value);
            return false;
        }
    }
    return true;
}

bool sb_config_check_handle(sb_val decl, sb_val value, sb_val workspace, sb_buf *why)
{
    const sb_val *type = sb_map_get_str(decl, "type");
    if (!type || !sb_str_eq(*type, "handle"))
        return true;
    sb_val h = sb_handle_external(value);
    bool ok = h.kind != SB_MAP || sb_handle_check_server(h, workspace, why);
    sb_val_free(h);
    return ok;
}

/* --- pipelines --- */

typedef struct pctx {
    const char *file;
    sb_diags *d;
    sb_val workspace;
    const char *pname;
    sb_val steps;
    sb_val index; /* step name -> its position in steps (null when memory ran out) */
    bool ok;
} pctx;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void perr(pctx *c, sb_val at, const char *fmt, ...)
{
    sb_buf b = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    sb_diags_add(c->d, c->file, at.line, at.col, "pipelines.%s.%s", c->pname, sb_buf_str(&b));
    sb_buf_free(&b);
    c->ok = false;
}

/* name -> position in the steps map, so that a pipeline of many steps is
 * checked in linear time; null when memory ran out. */
static sb_val step_index(sb_val steps)
{
    sb_val index = sb_map_new(sb_map_len(steps));
    for (size_t i = 0; index.kind == SB_MAP && i < sb_map_len(steps); i++)
        if (!sb_map_set(&index, sb_val_ref(*sb_map_key_at(steps, i)), sb_int((int64_t)i))) {
            sb_val_free(index);
            return sb_null();
        }
    return index.kind == SB_MAP ? index : sb_null();
}

/* The position of step `name`, or (size_t)-1. */
static size_t step_pos(sb_val index, sb_val name)
{
    const sb_val *at = sb_map_get(index, name);
    return at ? (size_t)at->as.i : (size_t)-1;
}

static const sb_val *step_of(pctx *c, const char *name, size_t len)
{
    sb_val key = sb_string(name, len);
    size_t i = step_pos(c->index, key);
    sb_val_free(key);
    return i == (size_t)-1 ? NULL : sb_map_val_at(c->steps, i);
}

static void unknown_step(pctx *c, sb_val at, const char *sname, const char *key, const char *name, size_t len)
{
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < sb_map_len(c->steps) && n < 64; i++)
        names[n++] = sb_str(*sb_map_key_at(c->steps, i));
    char word[128];
    snprintf(word, sizeof word, "%.*s", (int)len, name);
    const char *best = sb_schema__suggest(word, names, n);
    if (best)
        perr(c, at, "steps.%s.%s: unknown step '%s' (did you mean '%s'?)", sname, key, word, best);
    else
        perr(c, at, "steps.%s.%s: unknown step '%s'", sname, key, word);
}

static void check_tool_ref(pctx *c, const char *sname, const char *key, sb_val ref)
{
    const char *dot;
    if (ref.kind != SB_STRING)
        return;
    if (!split_ref(ref, &dot)) {
        perr(c, ref, "steps.%s.%s: expected server.tool, found \"%s\"", sname, key, sb_str(ref));
        return;
    }
    if (c->workspace.kind != SB_MAP)
        return;
    const sb_val *servers = sb_map_get_str(c->workspace, "servers");
    size_t n = (size_t)(dot - sb_str(ref));
    for (size_t i = 0; servers && i < sb_map_len(*servers); i++) {
        sb_val k = *sb_map_key_at(*servers, i);
        if (sb_str_len(k) == n && memcmp(sb_str(k), sb_str(ref), n) == 0)
            return;
    }
    sb_buf known = SB_BUF_INIT;
    for (size_t i = 0; servers && i < sb_map_len(*servers); i++)
        sb_buf_printf(&known, "%s%s", i ? ", " : "", sb_str(*sb_map_key_at(*servers, i)));
    perr(c, ref, "steps.%s.%s: unknown server '%.*s' (the workspace defines: %s)", sname, key, (int)n, sb_str(ref),
         sb_buf_str(&known));
    sb_buf_free(&known);
}

static const char *const kinds[] = {"call", "poll", "aggregate", "select", "compute", "assert", "retry", "suggest", NULL};

static const char *kind_of(sb_val step)
{
    for (const char *const *k = kinds; *k; k++)
        if (sb_map_get_str(step, *k))
            return *k;
    return NULL;
}

static void check_only_with(pctx *c, const char *sname, sb_val step, const char *key, const char *kind)
{
    const sb_val *v = sb_map_get_str(step, key);
    if (!v)
        return;
    const char *k = kind_of(step);
    if (k && strcmp(k, kind) != 0) {
        /* point at the key, which carries the position of where it is written */
        for (size_t i = 0; i < sb_map_len(step); i++)
            if (sb_str_eq(*sb_map_key_at(step, i), key))
                perr(c, *sb_map_key_at(step, i), "steps.%s.%s: only used with %s steps (this step is %s)", sname,
                     key, kind, k);
    }
}

static void check_step(pctx *c, sb_val name, sb_val step)
{
    const char *sname = sb_str(name);
    const sb_val *needs = sb_map_get_str(step, "needs");
    for (size_t i = 0; needs && needs->kind == SB_LIST && i < sb_list_len(*needs); i++) {
        sb_val n = *sb_list_at(*needs, i);
        if (n.kind != SB_STRING)
            continue;
        if (sb_val_equal(n, name))
            perr(c, n, "steps.%s.needs: a step cannot need itself", sname);
        else if (!step_of(c, sb_str(n), sb_str_len(n)))
            unknown_step(c, n, sname, "needs", sb_str(n), sb_str_len(n));
        for (size_t j = 0; j < i; j++)
            if (sb_val_equal(*sb_list_at(*needs, j), n))
                perr(c, n, "steps.%s.needs: '%s' is listed twice", sname, sb_str(n));
    }
    const sb_val *call = sb_map_get_str(step, "call");
    if (call)
        check_tool_ref(c, sname, "call", *call);
    const sb_val *sg = sb_map_get_str(step, "suggest");
    const sb_val *sgcall = sg && sg->kind == SB_MAP ? sb_map_get_str(*sg, "call") : NULL;
    if (sgcall)
        check_tool_ref(c, sname, "suggest.call", *sgcall);
    const sb_val *st = sb_map_get_str(step, "status_tool");
    if (st)
        check_tool_ref(c, sname, "status_tool", *st);
    check_only_with(c, sname, step, "with", "call");
    check_only_with(c, sname, step, "handle", "call");
    check_only_with(c, sname, step, "progress", "call");
    check_only_with(c, sname, step, "task", "call");
    check_only_with(c, sname, step, "call_retry", "call");
    check_only_with(c, sname, step, "status_tool", "poll");
    check_only_with(c, sname, step, "stream", "poll");
    check_only_with(c, sname, step, "polling", "poll");
    check_only_with(c, sname, step, "early_stopping", "poll");
    check_only_with(c, sname, step, "stream_progress", "poll");
    const sb_val *polling = sb_map_get_str(step, "polling");
    const sb_val *ini = polling ? sb_map_get_str(*polling, "initial_delay_ms") : NULL;
    const sb_val *max = polling ? sb_map_get_str(*polling, "max_delay_ms") : NULL;
    if (ini && max && ini->kind == SB_INT && max->kind == SB_INT && ini->as.i > max->as.i)
        perr(c, *max, "steps.%s.polling.max_delay_ms: %lld is smaller than initial_delay_ms %lld", sname,
             (long long)max->as.i, (long long)ini->as.i);
    /* early_stopping.rungs: ascending steps (the schema checks each one). */
    const sb_val *es = sb_map_get_str(step, "early_stopping");
    const sb_val *rungs = es && es->kind == SB_MAP ? sb_map_get_str(*es, "rungs") : NULL;
    for (size_t k = 1; rungs && rungs->kind == SB_LIST && k < sb_list_len(*rungs); k++) {
        const sb_val *x = sb_list_at(*rungs, k), *prev = sb_list_at(*rungs, k - 1);
        if (x->kind == SB_INT && prev->kind == SB_INT && x->as.i <= prev->as.i) {
            perr(c, *x, "steps.%s.early_stopping.rungs: %lld does not follow %lld (rungs must be ascending)", sname,
                 (long long)x->as.i, (long long)prev->as.i);
            break;
        }
    }
    const sb_val *handle = sb_map_get_str(step, "handle");
    const sb_val *hserver = handle ? sb_map_get_str(*handle, "server") : NULL;
    if (hserver && hserver->kind == SB_STRING && c->workspace.kind == SB_MAP) {
        const sb_val *servers = sb_map_get_str(c->workspace, "servers");
        if (servers && !sb_map_get(*servers, *hserver))
            perr(c, *hserver, "steps.%s.handle.server: unknown server '%s'", sname, sb_str(*hserver));
    }

    const sb_val *on = sb_map_get_str(step, "on");
    const char *kind = kind_of(step);
    if (on && on->kind == SB_STRING) {
        const char *dot;
        if (!split_ref(*on, &dot)) {
            perr(c, *on, "steps.%s.on: expected step.event, found \"%s\"", sname, sb_str(*on));
        } else {
            size_t n = (size_t)(dot - sb_str(*on));
            const sb_val *target = step_of(c, sb_str(*on), n);
            const char *ev = dot + 1;
            if (!target)
                unknown_step(c, *on, sname, "on", sb_str(*on), n);
            else if (!sb_map_get_str(*target, "poll"))
                perr(c, *on, "steps.%s.on: '%.*s' is not a poll step; events come from poll steps", sname, (int)n,
                     sb_str(*on));
            if (strcmp(ev, "job_failed") != 0 && strcmp(ev, "job_completed") != 0 && strcmp(ev, "job_finished") != 0)
                perr(c, *on, "steps.%s.on: unknown event '%s' (expected job_failed, job_completed or job_finished)",
                     sname, ev);
            if (kind && strcmp(kind, "retry") == 0 && strcmp(ev, "job_failed") != 0)
                perr(c, *on, "steps.%s.on: a retry step runs on job_failed, not %s", sname, ev);
        }
        if (kind && strcmp(kind, "retry") != 0 && strcmp(kind, "compute") != 0 && strcmp(kind, "suggest") != 0)
            perr(c, *on,
                 "steps.%s.on: only retry, suggest and compute steps can be event-triggered (this step is %s)",
                 sname, kind);
    }
    if (kind && strcmp(kind, "retry") == 0 && !on)
        perr(c, step, "steps.%s: a retry step needs on: <poll step>.job_failed", sname);
    if (kind && strcmp(kind, "suggest") == 0 && !on)
        perr(c, step, "steps.%s: a suggest step needs on: <poll step>.job_completed (or job_finished)", sname);
}

/* Depth-first search over `needs`, reporting each cycle once with its path.
 * Iterative, with the path on an explicit stack: a chain of 10,000 steps must
 * not need 10,000 C frames (sibyl.wasm has a 1 MiB stack). */
enum { WHITE, GREY, BLACK };

typedef struct dfs_frame {
    size_t step;
    size_t next; /* the next entry of its needs to follow */
} dfs_frame;

static void report_cycle(pctx *c, sb_val at, const dfs_frame *stack, size_t depth, size_t j)
{
    sb_buf path = SB_BUF_INIT;
    size_t from = depth;
    while (stack[from].step != j)
        from--;
    /* Print in execution order: a step runs after what it needs. */
    for (size_t p = depth + 1; p-- > from;)
        sb_buf_printf(&path, "%s -> ", sb_str(*sb_map_key_at(c->steps, stack[p].step)));
    sb_buf_puts(&path, sb_str(*sb_map_key_at(c->steps, stack[depth].step)));
    perr(c, at, "steps.%s.needs: dependency cycle: %s (each step needs the one before it)",
         sb_str(*sb_map_key_at(c->steps, stack[depth].step)), sb_buf_str(&path));
    sb_buf_free(&path);
}

static void dfs(pctx *c, size_t root, unsigned char *color, dfs_frame *stack)
{
    size_t depth = 0;
    stack[0] = (dfs_frame){root, 0};
    color[root] = GREY;
    for (;;) {
        dfs_frame *f = &stack[depth];
        const sb_val *needs = sb_map_get_str(*sb_map_val_at(c->steps, f->step), "needs");
        size_t n = needs && needs->kind == SB_LIST ? sb_list_len(*needs) : 0;
        if (f->next == n) {
            color[f->step] = BLACK;
            if (depth == 0)
                return;
            depth--;
            continue;
        }
        sb_val name = *sb_list_at(*needs, f->next++);
        size_t j = step_pos(c->index, name);
        if (j == (size_t)-1 || j == f->step)
            continue; /* unknown names and self-needs are reported elsewhere */
        if (color[j] == GREY) {
            report_cycle(c, name, stack, depth, j);
        } else if (color[j] == WHITE) {
            color[j] = GREY;
            stack[++depth] = (dfs_frame){j, 0};
        }
    }
}

static void check_cycles(pctx *c)
{
    size_t n = sb_map_len(c->steps);
    unsigned char *color = sb_calloc(n ? n : 1, 1);
    dfs_frame *stack = sb_calloc(n ? n : 1, sizeof *stack);
    if (!color || !stack || c->index.kind != SB_MAP) {
        sb_diags_add(c->d, c->file, 0, 0, "out of memory");
        c->ok = false;
    } else {
        for (size_t i = 0; i < n; i++)
            if (color[i] == WHITE)
                dfs(c, i, color, stack);
    }
    sb_free(color);
    sb_free(stack);
}

static void check_inputs(pctx *c, sb_val inputs)
{
    for (size_t i = 0; i < sb_map_len(inputs); i++) {
        sb_val decl = *sb_map_val_at(inputs, i);
        const sb_val *def = sb_map_get_str(decl, "default");
        if (!def || nonfinite(def))
            continue; /* the schema check has reported each .inf/.nan where it is */
        sb_buf why = SB_BUF_INIT;
        if (!sb_config_check_input(decl, *def, &why) || !sb_config_check_handle(decl, *def, c->workspace, &why))
            perr(c, *def, "inputs.%s.default: %s", sb_str(*sb_map_key_at(inputs, i)), sb_buf_str(&why));
        sb_buf_free(&why);
    }
}

bool sb_config_pipelines(const char *file, const char *text, size_t len, sb_val workspace, sb_diags *d,
                         sb_val *out)
{
    if (!sb_yaml_load(file, text, len, d, out))
        return false;
    if (out->kind != SB_MAP) {
        sb_diags_add(d, file, out->line ? out->line : 1, out->col ? out->col : 1,
                     "expected a mapping with version and pipelines at the top of the file");
        return false;
    }
    return sb_config_check_pipelines(file, *out, workspace, d);
}

bool sb_config_check_pipelines(const char *file, sb_val tree, sb_val workspace, sb_diags *d)
{
    if (tree.kind != SB_MAP) {
        sb_diags_add(d, file, tree.line ? tree.line : 1, tree.col ? tree.col : 1,
                     "expected a mapping with version and pipelines at the top of the file");
        return false;
    }
    bool ok = sb_schema__check(&sb_schema_pipelines, tree, file, "", d);
    const sb_val *ps = sb_map_get_str(tree, "pipelines");
    for (size_t i = 0; ps && ps->kind == SB_MAP && i < sb_map_len(*ps); i++) {
        sb_val p = *sb_map_val_at(*ps, i);
        const sb_val *steps = sb_map_get_str(p, "steps");
        if (p.kind != SB_MAP || !steps || steps->kind != SB_MAP)
            continue;
        pctx c = {file, d, workspace, sb_str(*sb_map_key_at(*ps, i)), *steps, step_index(*steps), true};
        for (size_t s = 0; s < sb_map_len(*steps); s++)
            if (sb_map_val_at(*steps, s)->kind == SB_MAP)
                check_step(&c, *sb_map_key_at(*steps, s), *sb_map_val_at(*steps, s));
        check_cycles(&c);
        sb_val_free(c.index);
        const sb_val *inputs = sb_map_get_str(p, "inputs");
        if (inputs && inputs->kind == SB_MAP)
            check_inputs(&c, *inputs);
        ok = ok && c.ok;
    }
    return ok;
}

/* Kahn's algorithm taking the lowest-numbered ready step first, so the order
 * is stable and readable (declaration order wherever the needs allow it), in
 * time linear in steps + needs. A step counts each of its needs that names a
 * step (itself included: a self-need never becomes ready); unknown names do
 * not hold it back. */
sb_val sb_config_step_order(sb_val pipeline)
{
    const sb_val *steps = sb_map_get_str(pipeline, "steps");
    size_t n = steps ? sb_map_len(*steps) : 0;
    sb_val order = sb_list_new(n);
    if (order.kind == SB_ERROR)
        return order;
    sb_val index = steps ? step_index(*steps) : sb_map_new(0);
    size_t *waiting = sb_calloc(n ? n : 1, sizeof *waiting);
    size_t *first = sb_calloc(n + 1, sizeof *first); /* dependents of i: dep[first[i] .. first[i+1]) */
    size_t nedges = 0;
    for (size_t i = 0; i < n; i++) {
        const sb_val *needs = sb_map_get_str(*sb_map_val_at(*steps, i), "needs");
        nedges += needs ? sb_list_len(*needs) : 0;
    }
    size_t *dep = sb_calloc(nedges ? nedges : 1, sizeof *dep);
    sb_bitset ready = {0};
    bool ok = index.kind == SB_MAP && waiting && first && dep && sb_bitset_init(&ready, n);
    /* Count the dependents of each step, then place them (CSR layout). */
    for (size_t i = 0; ok && i < n; i++) {
        const sb_val *needs = sb_map_get_str(*sb_map_val_at(*steps, i), "needs");
        for (size_t k = 0; needs && k < sb_list_len(*needs); k++) {
            size_t j = step_pos(index, *sb_list_at(*needs, k));
            if (j != (size_t)-1) {
                first[j + 1]++;
                waiting[i]++;
            }
        }
    }
    for (size_t i = 0; ok && i < n; i++)
        first[i + 1] += first[i];
    size_t *fill = ok ? sb_calloc(n ? n : 1, sizeof *fill) : NULL;
    ok = ok && fill;
    for (size_t i = 0; ok && i < n; i++) {
        const sb_val *needs = sb_map_get_str(*sb_map_val_at(*steps, i), "needs");
        for (size_t k = 0; needs && k < sb_list_len(*needs); k++) {
            size_t j = step_pos(index, *sb_list_at(*needs, k));
            if (j != (size_t)-1)
                dep[first[j] + fill[j]++] = i;
        }
        if (waiting[i] == 0)
            sb_bitset_add(&ready, i);
    }
    size_t placed = 0;
    for (size_t i; ok && (i = sb_bitset_lowest(&ready)) != (size_t)-1;) {
        sb_bitset_remove(&ready, i);
        placed++;
        ok = sb_list_push(&order, sb_val_ref(*sb_map_key_at(*steps, i)));
        for (size_t e = first[i]; ok && e < first[i + 1]; e++)
            if (--waiting[dep[e]] == 0)
                sb_bitset_add(&ready, dep[e]);
    }
    sb_free(fill);
    sb_free(dep);
    sb_free(first);
    sb_free(waiting);
    sb_bitset_free(&ready);
    sb_val_free(index);
    if (!ok) {
        sb_val_free(order);
        return sb_oom();
    }
    if (placed < n) {
        sb_val_free(order);
        return sb_error("dependency cycle");
    }
    return order;
}
