/* Diagnostics: every problem found in user input, with where it is.
 * Printed as `FILE:LINE:COL: error: message`, sorted by position, so a run
 * reports every problem at once and editors can jump to each. */
#ifndef SB_DIAG_H
#define SB_DIAG_H
#include <stddef.h>
#include <stdint.h>

#include "sb_buf.h"

typedef struct sb_diags sb_diags;

typedef struct sb_diag {
    const char *file; /* owned by the list */
    uint32_t line;    /* 1-based; 0 = no position (whole file) */
    uint32_t col;     /* 1-based; 0 = no column */
    const char *msg;  /* owned by the list */
} sb_diag;

sb_diags *sb_diags_new(void);
void sb_diags_free(sb_diags *d); /* NULL-safe */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
void sb_diags_add(sb_diags *d, const char *file, uint32_t line, uint32_t col, const char *fmt, ...);
size_t sb_diags_count(const sb_diags *d);
const sb_diag *sb_diags_at(const sb_diags *d, size_t i);
/* Stable sort by (file order of first appearance, line, col). */
void sb_diags_sort(sb_diags *d);
/* Appends one line per diagnostic. */
void sb_diags_write(const sb_diags *d, sb_buf *out);
/* true once an allocation failed while recording; the list is then partial. */
int sb_diags_oom(const sb_diags *d);

#endif
