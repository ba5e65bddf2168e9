/* Where `sibyl pipeline run` writes its files, made and checked before the
 * run starts (see cli_outdir.c). Strings returned are the caller's
 * (sb_free); failures print "PATH: error: why" to stderr. */
#ifndef SIBYL_CLI_OUTDIR_H
#define SIBYL_CLI_OUTDIR_H
#include <stdbool.h>

/* The output folder: arg (--output-dir) when given; else ws_dir (workspace
 * outputs.dir), relative to the folder of ws_path when relative; else ".".
 * NULL when out of memory. */
char *cli_outdir_resolve(const char *arg, const char *ws_dir, const char *ws_path);

/* false (message printed) when this build cannot reach path: under WASI an
 * absolute path no preopened folder covers. Always true natively. */
bool cli_path_reachable(const char *path);

/* Makes dir's missing components (never "." or ".."), then creates and
 * removes the file probe (a path inside dir; NULL: no probe) to show that
 * files can be created there; a file already named probe is left alone. */
bool cli_outdir_prepare(const char *dir, const char *probe);

#endif
