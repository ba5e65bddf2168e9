/* sibyl's expression language: CEL (cel-spec's langdef) without protobuf
 * messages, evaluated over sb_val.
 *
 * A program is parsed once (sb_cel_parse) and evaluated many times
 * (sb_cel_eval); a program is immutable after parsing, so evaluations never
 * interfere. Errors are values: evaluation returns an SB_ERROR value whose
 * message is "col N: message" (N is the 1-based column, in code points, of
 * the sub-expression that failed; the value's `col` field holds N as well).
 *
 * Every evaluation is bounded (sb_cel_limits): a breach is a clean error that
 * cannot be absorbed by `||`, `&&` or a macro, never a crash or a hang.
 *
 * Ownership: `vars` and every option are borrowed; results are new
 * references (sb_val_free). docs/expressions.md is the user-facing reference. */
#ifndef SB_CEL_H
#define SB_CEL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../value/sb_value.h"

/* Zero in any field means "the default" below. */
typedef struct sb_cel_limits {
    size_t max_expr_len; /* bytes of source; default 16384 */
    size_t max_depth;    /* nesting of the syntax tree; default 128 */
    uint64_t max_steps;  /* evaluation steps (nodes visited, plus the size of
                            bulk work: list copies, string scans); default 5e6 */
    size_t max_bytes;    /* bytes allocated by one evaluation, counted
                            cumulatively; default 64 MiB */
} sb_cel_limits;

#define SB_CEL_DEFAULT_MAX_EXPR_LEN 16384
#define SB_CEL_DEFAULT_MAX_DEPTH 128
#define SB_CEL_DEFAULT_MAX_STEPS 5000000u
#define SB_CEL_DEFAULT_MAX_BYTES (64u << 20)

typedef struct sb_cel_options {
    /* Off by default. When on, int or uint mixed with double in + - * / gives
     * a double (1 * 0.5 == 0.5), because JSON cannot tell 84 from 84.0 and
     * `batch_size * 0.5` is what pipeline authors write. Comparison across
     * numeric types is always allowed (it is standard CEL). */
    bool mixed_numeric;
    sb_cel_limits limits;
    /* Namespace for name resolution (cel-spec "container"), e.g. "com.example";
     * NULL or "" for none. Copied by sb_cel_parse. */
    const char *container;
} sb_cel_options; /* zero = defaults */

typedef struct sb_cel_program sb_cel_program;

/* Parses src (len bytes; NUL bytes allowed inside string literals). On error
 * returns NULL and sets *err (if err is non-NULL) to an SB_ERROR value
 * "col N: message". */
sb_cel_program *sb_cel_parse(const char *src, size_t len, const sb_cel_options *opt, sb_val *err);
void sb_cel_program_free(sb_cel_program *p);

/* Evaluates with variables taken from `vars` (an SB_MAP: top-level name ->
 * value; borrowed; null or any non-map means "no variables"). Keys may be
 * dotted ("a.b.c"): qualified-name resolution picks the longest match.
 * Returns a new value or an SB_ERROR value. */
sb_val sb_cel_eval(const sb_cel_program *p, sb_val vars);

/* Like sb_cel_eval, but an error's message is left without the "col N: "
 * prefix (the column is in the value's `col` field). For callers that place
 * the error themselves (templates). */
sb_val sb_cel_eval_raw(const sb_cel_program *p, sb_val vars);

/* The source text the program was parsed from (not NUL-terminated). */
const char *sb_cel_source(const sb_cel_program *p, size_t *len);

/* Renders v the way CEL's string() does (strings as is, doubles in shortest
 * form, bytes as UTF-8 text); lists and maps as string.format's "%s" does
 * ("[1, a]", "{k: v}" with keys sorted). Appends to out. */
void sb_cel_render(sb_buf *out, sb_val v);

/* The 1-based code point column of byte offset `off` in src[0..len). */
uint32_t sb_cel_column(const char *src, size_t len, size_t off);

#endif
