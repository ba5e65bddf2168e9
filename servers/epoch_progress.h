/* The per-epoch lines of a trainer (docs/backends.md): one JSON object per
 * epoch on stdout, {"epoch": n, "epochs"?: N, <metrics>...}. */
#ifndef EPOCH_PROGRESS_H
#define EPOCH_PROGRESS_H
#include "value/sb_value.h"

/* The last complete line of the file at path that is a JSON object with an
 * integer "epoch" >= 1, as progress {step: epoch, epochs (when the line has
 * it), metrics: its other keys} (a new value), or null when there is none
 * (no file, no such line yet). Reads at most the file's last 8 KB. */
sb_val epoch_progress(const char *path);

#endif
