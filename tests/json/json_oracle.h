/* cJSON as a differential oracle for sb_json (tests and fuzzing only; the
 * product does not link cJSON). json_oracle.c is the only file that includes
 * cJSON's header.
 *
 * The two readers differ, by design, in what they accept (cJSON is lenient:
 * leading zeros, raw control characters, invalid UTF-8, trailing text after
 * ParseWithLength...; it nests to 1000 levels, sb_json to 128) and in these
 * documented details of values both accept:
 *   - integers beyond 2^53: sb_json keeps them exact (SB_INT/SB_UINT), cJSON
 *     rounds them to a double; they agree when the exact value rounds to it;
 *   - "\u0000": sb_json keeps the NUL and what follows, cJSON's C strings end
 *     there; a string agrees when cJSON's is the part before the first NUL,
 *     and a map with such a key is not compared (keys may collide in cJSON).
 * json_oracle_compare checks everything else: kinds, values, order. */
#ifndef JSON_ORACLE_H
#define JSON_ORACLE_H
#include <stdbool.h>
#include <stddef.h>

#include "value/sb_value.h"

/* cJSON's reading of text, converted as sb_json converts numbers (integral
 * within +/-2^53 -> SB_INT, else SB_DOUBLE). Text after the value (other
 * than JSON whitespace) or a NUL byte anywhere counts as refused. Returns
 * false (and null in *out) when cJSON refuses; sb_oom() in *out when memory
 * ran out. */
bool json_oracle_parse(const char *text, size_t len, sb_val *out);

/* NULL when mine (sb_json's value) and theirs (the oracle's) agree modulo
 * the differences above; else a description of the first difference, in a
 * static buffer. */
const char *json_oracle_compare(sb_val mine, sb_val theirs);

#endif
