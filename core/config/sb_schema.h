/* A small schema language for sibyl's YAML files, written as C tables.
 * One table drives three things: validation with positioned diagnostics
 * (every problem, not just the first), the JSON Schema files published for
 * editors (schemas/), and the reference in docs/ (generated from `doc`). */
#ifndef SB_SCHEMA_H
#define SB_SCHEMA_H
#include <stdbool.h>
#include <stddef.h>

#include "../util/sb_buf.h"
#include "../util/sb_diag.h"
#include "../value/sb_value.h"

typedef enum sb_schema_kind {
    SB_SK_ANY,     /* any value */
    SB_SK_STRING,
    SB_SK_INT,
    SB_SK_NUMBER,  /* int or double */
    SB_SK_BOOL,
    SB_SK_OBJECT,  /* map with known keys (fields) */
    SB_SK_DICT,    /* map with free keys, values of `item` */
    SB_SK_LIST,    /* list of `item` */
    SB_SK_ONE_OF   /* the first of `alts` whose kind matches the value's kind */
} sb_schema_kind;

/* Flags */
#define SB_SF_EXPR 0x1        /* a string holding {{ }} is accepted in place of the value */
#define SB_SF_NONEMPTY 0x2    /* strings, lists, maps: must not be empty */
#define SB_SF_IDENT 0x4       /* strings and map keys: [A-Za-z_][A-Za-z0-9_]* */
#define SB_SF_POSITIVE 0x8    /* numbers: strictly greater than 0 */

typedef struct sb_schema sb_schema;

typedef struct sb_schema_field {
    const char *name;
    const sb_schema *type;
    bool required;
    const char *doc;
    /* The default, as JSON text ("2000", "\"none\"", "[...]"), or NULL when
     * there is none. The one place a default is written: the JSON Schema
     * carries it, and core/spec reads it (sb_schema_default). */
    const char *dflt;
} sb_schema_field;

struct sb_schema {
    sb_schema_kind kind;
    const char *title;             /* short noun used in messages, e.g. "polling settings" */
    const char *doc;
    unsigned flags;
    const sb_schema_field *fields; /* OBJECT: terminated by a {NULL} entry */
    const sb_schema *item;         /* LIST and DICT */
    const char *const *enums;      /* STRING: allowed values, NULL-terminated */
    const sb_schema *const *alts;  /* ONE_OF: NULL-terminated */
    bool has_min, has_max;         /* INT/NUMBER bounds (inclusive) */
    double min, max;
    /* OBJECT: keys of which exactly one must be present (step kinds), NULL-terminated */
    const char *const *exactly_one;
};

/* Writes s as a JSON Schema (draft 2020-12) document. */
void sb_schema_write_json_schema(const sb_schema *s, const char *id, sb_buf *out);

/* The default of the field at `path` ("polling.initial_delay_ms"; "*" steps
 * into a DICT's or LIST's items), as a new value; SB_NULL when the field has
 * no default (and when the path names no field: a mistake in the caller). */
sb_val sb_schema_default(const sb_schema *root, const char *path);

/* The two file formats. */
extern const sb_schema sb_schema_workspace;
extern const sb_schema sb_schema_pipelines;

#endif
