/* Building blocks shared by the workspace and pipelines tables. Internal to
 * core/config. */
#ifndef SB_SCHEMA_COMMON_H
#define SB_SCHEMA_COMMON_H
#include "sb_schema.h"

#define SB_FIELD(n, t, req, d) {(n), (t), (req), (d), NULL}
/* An optional field with a default (JSON text), e.g. SB_FIELD_D("top_k", &k, "How many.", "3"). */
#define SB_FIELD_D(n, t, d, dflt) {(n), (t), false, (d), (dflt)}
#define SB_FIELDS_END {NULL, NULL, false, NULL, NULL}

extern const sb_schema sb_sch_any;
extern const sb_schema sb_sch_string;
extern const sb_schema sb_sch_nonempty_string;
extern const sb_schema sb_sch_bool;
extern const sb_schema sb_sch_expr_bool;  /* true/false or {{ expr }} */
extern const sb_schema sb_sch_expr_any;
extern const sb_schema sb_sch_positive_int;
extern const sb_schema sb_sch_nonneg_number;
extern const sb_schema sb_sch_polling;     /* initial_delay_ms, max_delay_ms, ... */
extern const sb_schema sb_sch_backoff;
extern const sb_schema sb_sch_cost_model;

#endif
