/* sb_val: the one value type of the core. Config trees loaded from YAML, JSON
 * from servers, CEL values and the engine's state are all sb_val, so nothing
 * is converted on the way between layers.
 *
 * A value is a 16-byte struct passed by value. Scalars (durations too) live
 * inside it; strings, bytes, lists, maps, types, errors, timestamps and
 * optionals holding a value point to a reference-counted heap object. Every value also carries the source position it came from
 * (line and column, 1-based; 0 when it was computed).
 *
 * Ownership, stated once:
 *   - A function that returns an sb_val returns a new reference: the caller
 *     owns it and releases it with sb_val_free().
 *   - Arguments are borrowed, except where a function is documented to take
 *     ("consumes") them: sb_list_push, sb_map_set. Those release what they take
 *     even when they fail.
 *   - Pointers returned by accessors (sb_list_at, sb_map_get, sb_str) borrow
 *     from the container and stay valid while it lives and is not modified.
 *   - Containers may be modified only while their reference count is one
 *     (while being built); shared containers are immutable.
 *
 * Allocation failure never crashes: constructors return an SB_ERROR value
 * ("out of memory") that needs no allocation, and mutators return false. */
#ifndef SB_VALUE_H
#define SB_VALUE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/sb_buf.h"

typedef enum sb_kind {
    SB_NULL,
    SB_BOOL,
    SB_INT,    /* int64 */
    SB_UINT,   /* uint64 */
    SB_DOUBLE,
    SB_STRING, /* UTF-8, may contain NUL; always NUL-terminated as well */
    SB_BYTES,
    SB_LIST,
    SB_MAP,    /* insertion-ordered; keys are any scalar or string */
    SB_TYPE,   /* a CEL type value; its name is a string */
    SB_ERROR,  /* an error that flows as a value; its message is a string */
    SB_DURATION, /* int64 nanoseconds in as.i (sb_time.h) */
    SB_TIMESTAMP, /* UTC instant: seconds and nanoseconds in a heap object (sb_time.h) */
    SB_OPTIONAL   /* CEL's optional: one value, or none (a static object) */
} sb_kind;

struct sb_obj;

typedef struct sb_val {
    uint8_t kind;  /* sb_kind */
    uint8_t flags; /* reserved for layers (e.g. "came from a quoted scalar") */
    uint16_t col;  /* clamped to 65535 */
    uint32_t line;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        struct sb_obj *o;
    } as;
} sb_val;

/* Flags set by the YAML loader. */
#define SB_F_QUOTED 0x01   /* string scalar written with quotes or a block */

/* --- constructors --- */
/* null and bool are built inline: CEL's evaluator makes one per comparison.
 * The other scalars stay calls (inline, they cost sibyl.wasm 5.5 KB). */
static inline sb_val sb__scalar(sb_kind k)
{
    sb_val v = {(uint8_t)k, 0, 0, 0, {.u = 0}};
    return v;
}
static inline sb_val sb_null(void)
{
    return sb__scalar(SB_NULL);
}
static inline sb_val sb_bool(bool b)
{
    sb_val v = sb__scalar(SB_BOOL);
    v.as.b = b;
    return v;
}
sb_val sb_int(int64_t i);
sb_val sb_uint(uint64_t u);
sb_val sb_double(double d);
sb_val sb_string(const char *s, size_t len);
sb_val sb_string_cstr(const char *s);
/* A string meant as a map key: short keys are shared (one object per
 * distinct key, reference counted as usual), which is what sb_map_set_str
 * uses; make keys of parsed objects with it too. Same value as sb_string. */
sb_val sb_string_key(const char *s, size_t len);
sb_val sb_bytes(const void *p, size_t len);
/* a + b for two strings or two bytes values: one new value of a's kind
 * (the caller checks that the kinds match). */
sb_val sb_text_concat(sb_val a, sb_val b);
/* Appends p[0..n) in place to a string or bytes value that only the caller
 * holds (one reference, not a shared key), which may move: *s is updated.
 * False when s is shared or memory runs out; s is unchanged then. */
bool sb_text_append(sb_val *s, const char *p, size_t n);
sb_val sb_type(const char *name);
sb_val sb_error(const char *msg);
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
sb_val sb_errorf(const char *fmt, ...);
sb_val sb_list_new(size_t cap_hint);
sb_val sb_map_new(size_t cap_hint);
sb_val sb_duration(int64_t ns);
/* sec within SB_TS_MIN_SEC..SB_TS_MAX_SEC and 0 <= nsec < 1e9: the caller
 * checks (sb_time.h). */
sb_val sb_timestamp(int64_t sec, int32_t nsec);

/* The statically allocated out-of-memory error; never needs freeing. */
sb_val sb_oom(void);
extern struct sb_obj sb__oom_obj;
static inline bool sb_is_oom(sb_val v)
{
    return v.kind == SB_ERROR && v.as.o == &sb__oom_obj;
}

/* --- reference counting --- */
sb_val sb_val_ref(sb_val v);   /* returns v with one more reference */
void sb_val_free(sb_val v);    /* drops one reference; NULL-safe for scalars */
static inline sb_val sb_at_pos(sb_val v, uint32_t line, uint32_t col)
{
    v.line = line;
    v.col = col > 65535 ? 65535 : (uint16_t)col;
    return v;
}

/* --- access --- */
static inline sb_kind sb_kind_of(sb_val v) { return (sb_kind)v.kind; }
const char *sb_kind_name(sb_kind k);
/* Strings, bytes, type names and error messages. */
const char *sb_str(sb_val v);
size_t sb_str_len(sb_val v);
/* true if v is a string equal to the C string s */
bool sb_str_eq(sb_val v, const char *s);

/* optional.of(inner) (consumes inner); optional.none() needs no allocation. */
sb_val sb_optional(sb_val inner);
sb_val sb_optional_none(void);
/* The value an optional holds (borrowed), NULL for none or a non-optional. */
const sb_val *sb_optional_value(sb_val v);
/* The parts of a timestamp (0 for anything else). */
int64_t sb_timestamp_sec(sb_val v);
int32_t sb_timestamp_nsec(sb_val v);

size_t sb_list_len(sb_val list);
const sb_val *sb_list_at(sb_val list, size_t i);
/* Appends item to list (consumes item). false on OOM or if list is shared. */
bool sb_list_push(sb_val *list, sb_val item);
/* Replaces element i (consumes item). */
bool sb_list_set(sb_val *list, size_t i, sb_val item);

size_t sb_map_len(sb_val map);
const sb_val *sb_map_key_at(sb_val map, size_t i);
const sb_val *sb_map_val_at(sb_val map, size_t i);
/* Lookup by key with CEL key equality (1 == 1u == 1.0 as keys). */
const sb_val *sb_map_get(sb_val map, sb_val key);
/* The entry index of key (for sb_map_key_at/sb_map_val_at), or (size_t)-1. */
size_t sb_map_find(sb_val map, sb_val key);
const sb_val *sb_map_get_str(sb_val map, const char *key);
/* map[keys[0]][keys[1]]...: the value at the end of a chain of lookups
 * through nested maps, or NULL when a key is missing or a value on the way
 * is not a map (or n is 0). One call for a whole field chain (a.b.c). */
const sb_val *sb_map_get_path(sb_val map, const sb_val *keys, size_t n);
/* Sets key -> val (consumes both); replaces an existing entry in place. */
bool sb_map_set(sb_val *map, sb_val key, sb_val val);
bool sb_map_set_str(sb_val *map, const char *key, sb_val val);
/* Whether some string key contains '.' (CEL looks for dotted variable names
 * only then). Computed once and kept in the map until its keys change. */
bool sb_map_has_dotted_key(sb_val map);
/* Removes key if present; true if removed. */
bool sb_map_remove(sb_val *map, sb_val key);

/* A deep copy that is uniquely owned (so it may be modified). */
sb_val sb_val_clone(sb_val v);

/* --- comparison --- */
/* CEL equality: numbers compare by value across int, uint and double (NaN is
 * unequal to everything); lists elementwise; maps as sets of entries. */
bool sb_val_equal(sb_val a, sb_val b);
/* Numeric view of int/uint/double; false for other kinds. */
bool sb_val_as_double(sb_val v, double *out);
uint64_t sb_val_hash(sb_val v);

/* --- JSON output (no third-party code needed) --- */
#define SB_JSON_PRETTY 0x1  /* two-space indentation, one entry a line */
/* Writes v as JSON: bytes as base64 strings, types as their names, errors as
 * {"error": message}, non-finite doubles as null, non-string map keys as
 * their JSON text, timestamps as RFC 3339 strings in UTC, durations as
 * strings of seconds ("1.5s"), an optional as its value or null. */
void sb_val_write_json(sb_buf *out, sb_val v, int flags);
/* Convenience: a newly allocated JSON string (sb_free) or NULL on OOM. */
char *sb_val_to_json(sb_val v, int flags);

/* Base64 (standard alphabet, padded). */
void sb_base64_encode(sb_buf *out, const unsigned char *p, size_t len);

#endif
