/* Public entry points of the CEL evaluator (sb_cel.h): option defaults,
 * program lifetime, one evaluation context per call. */
#include <string.h>

#include "../util/sb_alloc.h"
#include "cel_int.h"

/* Parser and evaluator recursion follow the tree height, so the depth limit
 * also bounds stack use; it cannot be raised past this (the wasm build runs
 * on a 1 MiB stack). */
#define MAX_DEPTH_CAP 512

uint32_t sb_cel_column(const char *src, size_t len, size_t off)
{
    if (off > len)
        off = len;
    return (uint32_t)sb_cel__utf8_count(src, off) + 1;
}

sb_cel_program *sb_cel_parse(const char *src, size_t len, const sb_cel_options *opt, sb_val *err)
{
    sb_val dummy;
    if (!err)
        err = &dummy;
    *err = sb_null();
    sb_cel_options o;
    memset(&o, 0, sizeof o);
    if (opt)
        o = *opt;
    sb_cel_limits lim = o.limits;
    if (!lim.max_expr_len)
        lim.max_expr_len = SB_CEL_DEFAULT_MAX_EXPR_LEN;
    if (!lim.max_depth)
        lim.max_depth = SB_CEL_DEFAULT_MAX_DEPTH;
    if (lim.max_depth > MAX_DEPTH_CAP)
        lim.max_depth = MAX_DEPTH_CAP;
    if (!lim.max_steps)
        lim.max_steps = SB_CEL_DEFAULT_MAX_STEPS;
    if (!lim.max_bytes)
        lim.max_bytes = SB_CEL_DEFAULT_MAX_BYTES;
    if (len > lim.max_expr_len) {
        *err = sb_at_pos(sb_errorf("col 1: expression too long (%zu bytes, limit %zu)", len, lim.max_expr_len), 0, 1);
        return NULL;
    }
    sb_cel_program *p = sb_calloc(1, sizeof *p);
    if (!p) {
        *err = sb_oom();
        return NULL;
    }
    p->src = sb_malloc(len + 1);
    p->container = o.container && *o.container ? sb_strdup(o.container) : NULL;
    if (!p->src || (o.container && *o.container && !p->container)) {
        sb_cel_program_free(p);
        *err = sb_oom();
        return NULL;
    }
    if (len)
        memcpy(p->src, src, len);
    p->src[len] = '\0';
    p->len = len;
    p->mixed = o.mixed_numeric;
    p->lim = lim;
    p->root = sb_cel__parse(p, err);
    if (!p->root || !sb_cel__resolve(p, err)) {
        sb_cel_program_free(p);
        return NULL;
    }
    return p;
}

void sb_cel_program_free(sb_cel_program *p)
{
    if (!p)
        return;
    for (cel_node *n = p->all; n; n = n->all_next)
        sb_cel__node_release(n);
    sb_cel__arena_free(p);
    sb_free(p->src);
    sb_free(p->container);
    sb_free(p);
}

const char *sb_cel_source(const sb_cel_program *p, size_t *len)
{
    if (len)
        *len = p->len;
    return p->src;
}

#define LOCALS_INLINE 16

CEL_HOT sb_val eval_raw(const sb_cel_program *p, sb_val vars)
{
    cel_ctx c = {.prog = p,
                 .vars = vars,
                 .max_steps = p->lim.max_steps,
                 .max_bytes = p->lim.max_bytes,
                 .fatal = sb_null(),
                 .dotted = sb_map_has_dotted_key(vars)};
    sb_val inl[LOCALS_INLINE];
    c.locals = inl;
    if (p->nlocals > LOCALS_INLINE) {
        c.locals = sb_malloc(p->nlocals * sizeof *c.locals);
        if (!c.locals)
            return sb_oom();
    }
    for (uint32_t i = 0; i < p->nlocals; i++)
        c.locals[i] = sb_null();
    sb_val r = sb_cel__eval_node(&c, p->root);
    if (c.fatal.kind == SB_ERROR) {
        /* a limit breach or allocation failure wins over any result */
        sb_val_free(r);
        r = c.fatal;
        if (!sb_is_oom(r))
            r = sb_at_pos(r, 0, 1);
    } else if (sb_is_oom(r)) {
        r = sb_oom();
    }
    if (c.locals != inl)
        sb_free(c.locals);
    return r;
}

sb_val sb_cel_eval_raw(const sb_cel_program *p, sb_val vars)
{
    return eval_raw(p, vars);
}

sb_val sb_cel_eval(const sb_cel_program *p, sb_val vars)
{
    sb_val r = eval_raw(p, vars);
    if (r.kind != SB_ERROR || sb_is_oom(r))
        return r;
    unsigned col = r.col ? r.col : 1;
    sb_val e = sb_errorf("col %u: %s", col, sb_str(r));
    sb_val_free(r);
    if (sb_is_oom(e))
        return e;
    return sb_at_pos(e, 0, col);
}
