/* The CEL type checker: run over a parsed program before anything is
 * evaluated (`sibyl pipeline validate`, and the spec at run start), it finds
 * what would certainly fail at run time: unknown variables, unknown fields of
 * known shapes, operators and functions given operands they have no overload
 * for, and a result of the wrong type (`when:` must be a bool).
 *
 * Types: int, uint, double, bool, string, bytes, null, timestamp, duration,
 * type, list(T), map(K, V), optional(T), objects (maps whose keys are known:
 * {a: int, b: string}) and dyn. dyn is "not known before the run": an
 * operand of type dyn satisfies every overload, so the checker never rejects
 * what could work at run time.
 *
 * Ownership, stated once: an environment owns every type made through it
 * (they live until sb_cel_env_free); names passed in are copied; programs
 * are borrowed. Errors are new SB_ERROR values "col N: message" (N as in
 * sb_cel_parse's errors) that the caller frees. */
#ifndef SB_CEL_CHECK_H
#define SB_CEL_CHECK_H
#include <stdbool.h>
#include <stddef.h>

#include "../util/sb_buf.h"
#include "../value/sb_value.h"
#include "sb_cel.h"

typedef enum sb_cel_tkind {
    SB_CT_DYN,
    SB_CT_NULL,
    SB_CT_BOOL,
    SB_CT_INT,
    SB_CT_UINT,
    SB_CT_DOUBLE,
    SB_CT_STRING,
    SB_CT_BYTES,
    SB_CT_TIMESTAMP,
    SB_CT_DURATION,
    SB_CT_TYPE,
    SB_CT_LIST,     /* elem */
    SB_CT_MAP,      /* key, val */
    SB_CT_OPTIONAL, /* elem */
    SB_CT_OBJECT    /* fields */
} sb_cel_tkind;

typedef struct sb_cel_type sb_cel_type;
typedef struct sb_cel_env sb_cel_env;

/* mixed_numeric as in sb_cel_options: int or uint with double in + - * /. */
sb_cel_env *sb_cel_env_new(bool mixed_numeric);
void sb_cel_env_free(sb_cel_env *e);

/* A type from text: "int", "list(string)", "map(string, dyn)",
 * "optional(double)", "{status: string, output: dyn}". NULL if the text is
 * not a type (or memory ran out). */
const sb_cel_type *sb_cel_type_parse(sb_cel_env *e, const char *text);
/* The type of a constant value: maps with string keys become objects (their
 * keys are known), lists list(T) when every element has type T, else
 * list(dyn). NULL when memory ran out. */
const sb_cel_type *sb_cel_type_of(sb_cel_env *e, sb_val v);
/* A scalar type or dyn (not list, map, optional or object). */
const sb_cel_type *sb_cel_type_basic(sb_cel_env *e, sb_cel_tkind k);
const sb_cel_type *sb_cel_type_list(sb_cel_env *e, const sb_cel_type *elem);
/* An object without fields; add them with sb_cel_type_add_field (before it
 * is used by a check). */
sb_cel_type *sb_cel_type_object(sb_cel_env *e);
bool sb_cel_type_add_field(sb_cel_env *e, sb_cel_type *obj, const char *name, const sb_cel_type *t);
sb_cel_tkind sb_cel_type_kind(const sb_cel_type *t);
/* Renders t in the text form sb_cel_type_parse reads. */
void sb_cel_type_render(sb_buf *b, const sb_cel_type *t);

/* Declares variable `name` (replacing an earlier one of that name). */
bool sb_cel_env_declare(sb_cel_env *e, const char *name, const sb_cel_type *t);
/* A name that is a variable elsewhere but not in this scope: using it is
 * reported as "'NAME' is only available WHERE". */
bool sb_cel_env_hint(sb_cel_env *e, const char *name, const char *where);
/* Scopes: sb_cel_env_mark before declaring a scope's variables (and hints),
 * sb_cel_env_pop(mark) to drop them again. */
size_t sb_cel_env_mark(const sb_cel_env *e);
void sb_cel_env_pop(sb_cel_env *e, size_t mark);

/* Checks p against the variables declared in e. Returns the type of the
 * result, or NULL with *err set (the first problem found). */
const sb_cel_type *sb_cel_check(sb_cel_env *e, const sb_cel_program *p, sb_val *err);

#endif
