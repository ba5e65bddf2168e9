/* Internals of core/spec, shared by its two files:
 *   sb_spec.c    the workspace part, inputs, outputs, budget, the whole
 *   spec_step.c  one step by kind, needs and on:, step numbers
 *   spec_check.c the type check of every expression */
#ifndef SPEC_INT_H
#define SPEC_INT_H
#include "sb_spec.h"

typedef struct spec_ctx {
    sb_spec *spec;
    const char *ws_file, *pl_file;
    sb_diags *d;
    bool ok;  /* a problem was reported */
    bool oom; /* memory ran out */
} spec_ctx;

/* Compiles v (borrowed) into *out; false (with diagnostics) on a bad expression. */
bool sb_spec__compile(spec_ctx *c, sb_val v, sb_tmpl **out);
/* The schema table's default of a step field ("retry.max_attempts") or of a
 * workspace field ("polling.jitter"), as a new value (SB_NULL: none). */
sb_val sb_spec__step_default(const char *path);
sb_val sb_spec__ws_default(const char *path);
/* Poll settings: `m` (a polling map or null) over *p. */
void sb_spec__polling_layer(sb_spec_polling *p, sb_val m);
/* Backoff settings of `m` (a map or null) over the table defaults at `path`. */
sb_backoff sb_spec__backoff(sb_val m, bool workspace, const char *path);

bool sb_spec__step(spec_ctx *c, size_t i, sb_val name, sb_val def);
/* needs and on: as indices, then step numbers. */
bool sb_spec__link(spec_ctx *c, sb_val pipeline);

/* Type-checks every expression of the linked spec (diagnostics; false and
 * c->ok cleared on a problem). */
bool sb_spec__check(spec_ctx *c, sb_val pipeline);

#endif
