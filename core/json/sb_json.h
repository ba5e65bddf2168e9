/* JSON text -> sb_val. The only file that includes cJSON's header is
 * sb_json.c; the rest of the core sees sb_val. (Writing JSON needs no parser:
 * see sb_val_write_json.)
 *
 * Numbers: cJSON reads every number as a double. A number that is integral
 * and within +/-2^53 becomes SB_INT, anything else SB_DOUBLE. JSON cannot tell
 * 84 from 84.0 anyway (JavaScript servers print 84.0 as 84), which is why
 * pipelines may enable mixed int/double arithmetic. */
#ifndef SB_JSON_H
#define SB_JSON_H
#include <stddef.h>

#include "../value/sb_value.h"

/* Parses len bytes of text. On failure returns an SB_ERROR value whose message
 * says where ("line L, column C: ..."). Nesting deeper than SB_JSON_MAX_DEPTH
 * is rejected. */
#define SB_JSON_MAX_DEPTH 128
sb_val sb_json_parse(const char *text, size_t len);

#endif
