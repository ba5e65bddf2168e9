/* {{ }} templates over whole sb_val trees (design.md §3).
 *
 * A string that is exactly one `{{ expr }}` (surrounding whitespace allowed)
 * keeps the expression's type: "{{ batch_size * 2 }}" is an int. Any other
 * string containing `{{ }}` is a string template: each expression's value is
 * rendered as CEL's string() does (lists and maps as string.format's %s), and
 * the pieces are concatenated. Strings without `{{` and every other value are
 * copied as they are. Map keys are never templates. A literal "{{" is written
 * {{ '{{' }}.
 *
 * A tree is compiled once (every expression parsed) and evaluated many times
 * into a new tree; the compiled template borrows nothing from the input.
 * Messages name the YAML position of the value and the expression:
 *   FILE:LINE:COL: in '{{ expr }}': message */
#ifndef SB_TEMPLATE_H
#define SB_TEMPLATE_H
#include <stdbool.h>
#include <stddef.h>

#include "../util/sb_diag.h"
#include "../value/sb_value.h"
#include "sb_cel.h"
#include "sb_cel_check.h"

typedef struct sb_tmpl sb_tmpl;

/* Compiles every {{ }} in the tree `v` (borrowed); file names the YAML file
 * for messages. On failure returns NULL and adds positioned diagnostics to d
 * (every bad expression, not just the first). */
sb_tmpl *sb_tmpl_compile(sb_val v, const char *file, const sb_cel_options *opt, sb_diags *d);
void sb_tmpl_free(sb_tmpl *t);

/* Evaluates into a new value; on error returns an SB_ERROR whose message is
 * "FILE:LINE:COL: in '{{ expr }}': message". Values produced by a whole-value
 * expression carry the YAML position of the template. */
sb_val sb_tmpl_eval(const sb_tmpl *t, sb_val vars);

/* Like sb_tmpl_eval but the result must be a bool (for when:); anything else
 * is an error, never "truthiness". */
sb_val sb_tmpl_eval_bool(const sb_tmpl *t, sb_val vars);

/* Type-checks every expression of t against the variables of env
 * (sb_cel_check.h) and returns the type of the value t gives: a whole-value
 * expression's type, string for a string template, an object or list of its
 * parts' types for a tree. With want_bool the value must be a bool (when:,
 * assert). Problems are added to d as "FILE:LINE:COL: in '{{ expr }}': col N:
 * message", every one (not just the first); NULL when there was any. */
const sb_cel_type *sb_tmpl_check(const sb_tmpl *t, sb_cel_env *env, bool want_bool, sb_diags *d);

/* true if the string contains {{ */
bool sb_tmpl_has_expr(const char *s, size_t len);

/* true if the compiled tree contains at least one expression. */
bool sb_tmpl_is_dynamic(const sb_tmpl *t);

#endif
