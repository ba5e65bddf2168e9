/* YAML text -> sb_val tree where every node carries its line:column.
 * The only file that includes libyaml's header is sb_yaml.c.
 *
 * Scalar rules (YAML 1.2 core schema, applied to plain scalars only; quoted
 * and block scalars are always strings):
 *   null, Null, NULL, ~, empty           -> null
 *   true/True/TRUE, false/False/FALSE    -> bool
 *   123, -7, +7, 0o17, 0x1F              -> int (out of int64 range: error)
 *   1.5, 1e-3, .5, -2.0E+3, .inf, .nan   -> double (the config schema then
 *                                           refuses .inf and .nan anywhere)
 *   anything else (yes, no, on, off, 1_000, 0b1, 2026-01-01) -> string
 * `yes`/`no` are strings, as in YAML 1.2; the schema validator points out the
 * likely mistake when a bool was expected.
 *
 * Rejected with a positioned error: more than one document, duplicate keys,
 * non-scalar keys, anchors and aliases (they make the size of a document
 * unbounded and its errors hard to place), tags other than the core ones
 * (!!str !!int !!float !!bool !!null !!map !!seq), nesting deeper than
 * SB_YAML_MAX_DEPTH, more than SB_YAML_MAX_NODES nodes, input larger than
 * SB_YAML_MAX_BYTES. */
#ifndef SB_YAML_H
#define SB_YAML_H
#include <stdbool.h>
#include <stddef.h>

#include "../util/sb_diag.h"
#include "../value/sb_value.h"

#ifndef SB_YAML_MAX_DEPTH
#define SB_YAML_MAX_DEPTH 64
#endif
#ifndef SB_YAML_MAX_NODES
#define SB_YAML_MAX_NODES 200000
#endif
#ifndef SB_YAML_MAX_BYTES
#define SB_YAML_MAX_BYTES (8u << 20)
#endif

/* Parses len bytes of text named `file` (used in diagnostics only).
 * On success stores the root in *out (an empty document gives null) and
 * returns true. On failure adds diagnostics to d, stores null, returns false. */
bool sb_yaml_load(const char *file, const char *text, size_t len, sb_diags *d, sb_val *out);

/* Resolves a plain scalar by the rules above (exposed for --input values and
 * tests). Returns a string value when nothing else matches, or an error for
 * an out-of-range integer. */
sb_val sb_yaml_resolve_plain(const char *s, size_t len);

/* Test hook: how much work the last sb_yaml_load did, so tests can check
 * that refusing an input stops early without timing anything. Not for
 * hosts; meaningless when loads run concurrently. */
typedef struct sb_yaml_stats {
    size_t events;        /* parser events read */
    size_t bytes_scanned; /* how far the scanner got into the text */
} sb_yaml_stats;
sb_yaml_stats sb_yaml__last_stats(void);

#endif
