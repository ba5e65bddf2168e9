/* The workspace's `errors:` rules (docs/workspace-format.md) for the
 * messages of jobs a backend ran: a permanent pattern first, then a
 * transient one, then `default`, the order the engine's retry
 * classification uses, with the same schema defaults. Both real backends
 * classify through this so a trial's failure gets the class the sim would
 * give it. Not thread-safe. */
#ifndef ERROR_CLASS_H
#define ERROR_CLASS_H
#include <stdbool.h>

#include "cel/sb_cel.h"
#include "value/sb_value.h"

typedef struct error_classes {
    sb_cel_program *matcher;     /* message.matches(pattern) */
    sb_val transient, permanent; /* lists of pattern strings */
    bool default_transient;
} error_classes;

/* errors: the workspace's `errors` map, or null for the defaults (borrowed).
 * false on OOM; error_classes_free is needed either way. */
bool error_classes_init(error_classes *ec, sb_val errors);
/* "transient" or "permanent". */
const char *error_classes_of(const error_classes *ec, const char *message);
void error_classes_free(error_classes *ec);

#endif
