/* JSON text -> sb_val: a strict reader of RFC 8259 JSON. sb_json.c holds the
 * grammar, sb_json_lex.c strings and numbers; no third-party code. (Writing
 * JSON needs no parser: see sb_val_write_json.)
 *
 * Ownership: sb_json_parse borrows the text and returns a new value (or an
 * SB_ERROR value) that the caller frees.
 *
 * Numbers:
 *   - an integer (no fraction, no exponent) keeps its exact value: SB_INT in
 *     the int64 range, SB_UINT above it up to 18446744073709551615, SB_DOUBLE
 *     (rounded) only beyond that;
 *   - a number with a fraction or exponent is read as a correctly rounded
 *     double; when that is integral and within +/-2^53 it becomes SB_INT
 *     (1.0, 1E+2 and -0.0 give SB_INT 1, 100 and 0). JSON cannot tell 84
 *     from 84.0 anyway (JavaScript servers print 84.0 as 84), which is why
 *     pipelines may enable mixed int/double arithmetic;
 *   - a magnitude beyond the double range (1e309) reads as infinity and a
 *     tiny one (1e-400) as zero: RFC 8259 leaves range to implementations.
 *     Callers that need finite numbers check (isfinite); `--input` does.
 *
 * Strings are UTF-8 and may hold NUL (written \u0000). Escaped surrogate
 * pairs (\uD83D\uDE00) become one character; a lone surrogate is refused, as
 * UTF-8 cannot hold it. Invalid UTF-8 in the text is refused.
 *
 * Refused, with "line L, column C: what" (columns count characters):
 * anything RFC 8259 does not allow, among them leading zeros (-01), a point
 * without digits (2., 2.e3, .5), '+' signs, NaN and Infinity, raw control
 * characters in strings (tab, line break), invalid escapes, whitespace other
 * than space, tab, LF and CR (form feed, no-break space, a byte order mark),
 * trailing commas, comments, single quotes, text after the value, empty
 * text, and nesting deeper than SB_JSON_MAX_DEPTH arrays and objects.
 * Accepted: any value at the top (not only objects and arrays); a key given
 * twice keeps its first place and its last value (as JSON.parse does).
 * Running out of memory returns sb_oom(). */
#ifndef SB_JSON_H
#define SB_JSON_H
#include <stddef.h>

#include "../value/sb_value.h"

#ifndef SB_JSON_MAX_DEPTH
#define SB_JSON_MAX_DEPTH 128
#endif

/* Parses len bytes of text (which need not be NUL-terminated). */
sb_val sb_json_parse(const char *text, size_t len);

/* What sb_json_parse would make of v written as JSON (sb_val_to_json), for
 * handing values over in-process as if through text: integral doubles within
 * +/-2^53 and uint64 values within int64 become SB_INT, non-finite doubles
 * null, bytes/types/errors what their JSON reads as; everything else is
 * shared, not copied. Consumes v. One difference remains: a string that is
 * not valid UTF-8 passes here, while its text would be refused. */
sb_val sb_json_round_trip(sb_val v);

#endif
