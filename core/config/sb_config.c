#include "sb_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "../util/sb_alloc.h"
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
    bool ok = sb_schema__check(&sb_schema_workspace, *out, file, "", d);
    workspace_semantics(file, *out, d, &ok);
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

/* --- pipelines --- */

typedef struct pctx {
    const char *file;
    sb_diags *d;
    sb_val workspace;
    const char *pname;
    sb_val steps;
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

static const sb_val *step_of(pctx *c, const char *name, size_t len)
{
    for (size_t i = 0; i < sb_map_len(c->steps); i++) {
        sb_val k = *sb_map_key_at(c->steps, i);
        if (sb_str_len(k) == len && memcmp(sb_str(k), name, len) == 0)
            return sb_map_val_at(c->steps, i);
    }
    return NULL;
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

static const char *const kinds[] = {"call", "poll", "aggregate", "select", "compute", "assert", "retry", NULL};

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
    const sb_val *st = sb_map_get_str(step, "status_tool");
    if (st)
        check_tool_ref(c, sname, "status_tool", *st);
    check_only_with(c, sname, step, "with", "call");
    check_only_with(c, sname, step, "handle", "call");
    check_only_with(c, sname, step, "status_tool", "poll");
    check_only_with(c, sname, step, "stream", "poll");
    check_only_with(c, sname, step, "polling", "poll");
    const sb_val *polling = sb_map_get_str(step, "polling");
    const sb_val *ini = polling ? sb_map_get_str(*polling, "initial_delay_ms") : NULL;
    const sb_val *max = polling ? sb_map_get_str(*polling, "max_delay_ms") : NULL;
    if (ini && max && ini->kind == SB_INT && max->kind == SB_INT && ini->as.i > max->as.i)
        perr(c, *max, "steps.%s.polling.max_delay_ms: %lld is smaller than initial_delay_ms %lld", sname,
             (long long)max->as.i, (long long)ini->as.i);
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
        if (kind && strcmp(kind, "retry") != 0 && strcmp(kind, "compute") != 0)
            perr(c, *on, "steps.%s.on: only retry and compute steps can be event-triggered (this step is %s)",
                 sname, kind);
    }
    if (kind && strcmp(kind, "retry") == 0 && !on)
        perr(c, step, "steps.%s: a retry step needs on: <poll step>.job_failed", sname);
}

/* Depth-first search over `needs`, reporting each cycle once with its path. */
enum { WHITE, GREY, BLACK };

static void dfs(pctx *c, size_t i, unsigned char *color, size_t *stack, size_t depth)
{
    color[i] = GREY;
    stack[depth] = i;
    sb_val step = *sb_map_val_at(c->steps, i);
    const sb_val *needs = sb_map_get_str(step, "needs");
    for (size_t k = 0; needs && needs->kind == SB_LIST && k < sb_list_len(*needs); k++) {
        sb_val n = *sb_list_at(*needs, k);
        size_t j;
        for (j = 0; j < sb_map_len(c->steps); j++)
            if (sb_val_equal(*sb_map_key_at(c->steps, j), n))
                break;
        if (j == sb_map_len(c->steps) || j == i)
            continue; /* unknown names and self-needs are reported elsewhere */
        if (color[j] == GREY) {
            sb_buf path = SB_BUF_INIT;
            size_t from = depth;
            while (stack[from] != j)
                from--;
            /* Print in execution order: a step runs after what it needs. */
            for (size_t p = depth + 1; p-- > from;)
                sb_buf_printf(&path, "%s -> ", sb_str(*sb_map_key_at(c->steps, stack[p])));
            sb_buf_puts(&path, sb_str(*sb_map_key_at(c->steps, i)));
            perr(c, n, "steps.%s.needs: dependency cycle: %s (each step needs the one before it)", sb_str(*sb_map_key_at(c->steps, i)),
                 sb_buf_str(&path));
            sb_buf_free(&path);
        } else if (color[j] == WHITE) {
            dfs(c, j, color, stack, depth + 1);
        }
    }
    color[i] = BLACK;
}

static void check_cycles(pctx *c)
{
    size_t n = sb_map_len(c->steps);
    unsigned char *color = sb_calloc(n ? n : 1, 1);
    size_t *stack = sb_calloc(n ? n : 1, sizeof *stack);
    if (!color || !stack) {
        sb_diags_add(c->d, c->file, 0, 0, "out of memory");
        c->ok = false;
    } else {
        for (size_t i = 0; i < n; i++)
            if (color[i] == WHITE)
                dfs(c, i, color, stack, 0);
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
        if (!sb_config_check_input(decl, *def, &why))
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
    bool ok = sb_schema__check(&sb_schema_pipelines, *out, file, "", d);
    const sb_val *ps = sb_map_get_str(*out, "pipelines");
    for (size_t i = 0; ps && ps->kind == SB_MAP && i < sb_map_len(*ps); i++) {
        sb_val p = *sb_map_val_at(*ps, i);
        const sb_val *steps = sb_map_get_str(p, "steps");
        if (p.kind != SB_MAP || !steps || steps->kind != SB_MAP)
            continue;
        pctx c = {file, d, workspace, sb_str(*sb_map_key_at(*ps, i)), *steps, true};
        for (size_t s = 0; s < sb_map_len(*steps); s++)
            if (sb_map_val_at(*steps, s)->kind == SB_MAP)
                check_step(&c, *sb_map_key_at(*steps, s), *sb_map_val_at(*steps, s));
        check_cycles(&c);
        const sb_val *inputs = sb_map_get_str(p, "inputs");
        if (inputs && inputs->kind == SB_MAP)
            check_inputs(&c, *inputs);
        ok = ok && c.ok;
    }
    return ok;
}

sb_val sb_config_step_order(sb_val pipeline)
{
    const sb_val *steps = sb_map_get_str(pipeline, "steps");
    size_t n = steps ? sb_map_len(*steps) : 0;
    sb_val order = sb_list_new(n);
    if (order.kind == SB_ERROR)
        return order;
    unsigned char *done = sb_calloc(n ? n : 1, 1);
    if (!done) {
        sb_val_free(order);
        return sb_oom();
    }
    /* Kahn's algorithm, scanning in declaration order each round, so the
     * order is stable and readable (n is small: steps are written by hand). */
    for (size_t placed = 0; placed < n;) {
        bool progress = false;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            const sb_val *needs = sb_map_get_str(*sb_map_val_at(*steps, i), "needs");
            bool ready = true;
            for (size_t k = 0; needs && ready && k < sb_list_len(*needs); k++)
                for (size_t j = 0; j < n; j++)
                    if (!done[j] && sb_val_equal(*sb_map_key_at(*steps, j), *sb_list_at(*needs, k)))
                        ready = false;
            if (!ready)
                continue;
            done[i] = 1;
            placed++;
            progress = true;
            if (!sb_list_push(&order, sb_val_ref(*sb_map_key_at(*steps, i)))) {
                sb_free(done);
                sb_val_free(order);
                return sb_oom();
            }
        }
        if (!progress) {
            sb_free(done);
            sb_val_free(order);
            return sb_error("dependency cycle");
        }
    }
    sb_free(done);
    return order;
}
