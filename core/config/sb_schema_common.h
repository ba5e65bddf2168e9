/* Internal to core/config: the checker the loader calls, and building blocks
 * shared by the workspace and pipelines tables. */
#ifndef SB_SCHEMA_COMMON_H
#define SB_SCHEMA_COMMON_H
#include "sb_schema.h"

/* Checks v against s and adds one diagnostic per problem. `what` names the
 * value in messages ("workspace", "step 'x'"). Returns true if no problem. */
bool sb_schema__check(const sb_schema *s, sb_val v, const char *file, const char *what, sb_diags *d);

/* Describes v's kind for messages: `string "abc"`, `integer 5`, `list`. */
void sb_schema__describe(sb_buf *out, sb_val v);

/* The closest of names[0..n) to word (a typo or a prefix), or NULL. */
const char *sb_schema__suggest(const char *word, const char *const *names, size_t n);

#define SB_FIELD(n, t, req, d) {(n), (t), (req), (d), NULL}
/* An optional field with a default (JSON text), e.g. SB_FIELD_D("top_k", &k, "How many.", "3"). */
#define SB_FIELD_D(n, t, d, dflt) {(n), (t), false, (d), (dflt)}
#define SB_FIELDS_END {NULL, NULL, false, NULL, NULL}

extern const sb_schema sb_schema__any;
extern const sb_schema sb_schema__string;
extern const sb_schema sb_schema__nonempty_string;
extern const sb_schema sb_schema__bool;
extern const sb_schema sb_schema__expr_bool; /* true/false or {{ expr }} */
extern const sb_schema sb_schema__expr_any;
extern const sb_schema sb_schema__positive_int;
extern const sb_schema sb_schema__nonneg_number;
extern const sb_schema sb_schema__polling; /* initial_delay_ms, max_delay_ms, ... */
extern const sb_schema sb_schema__backoff;
extern const sb_schema sb_schema__cost_model;

#endif
