/* The end of a file a trial writes (its stdout, its stderr), for the
 * backends: the last lines are what they read (metrics, the error). */
#ifndef FILE_TAIL_H
#define FILE_TAIL_H
#include <stdbool.h>
#include <stddef.h>

#include "value/sb_value.h"

/* The last max bytes of the file at path, NUL-terminated and malloc'd (the
 * caller frees), with their count in *len; NULL if it cannot be read. */
char *file_tail(const char *path, size_t max, size_t *len);

/* The last line among the file's last max bytes that is a JSON object for
 * which accept (NULL: any object) says true, or null. whole_lines: ignore a
 * last line without its newline (one still being written). */
sb_val file_last_json_object(const char *path, size_t max, bool whole_lines, bool (*accept)(sb_val));

#endif
