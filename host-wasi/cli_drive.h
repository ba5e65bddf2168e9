/* What `sibyl pipeline run` and `sibyl pipeline resume` share: the parsed
 * options, loading the two config files, and driving a run (fresh, or
 * rebuilt from a journal first). */
#ifndef SIBYL_CLI_DRIVE_H
#define SIBYL_CLI_DRIVE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal/sb_journal.h"
#include "value/sb_value.h"

typedef struct run_args {
    const char *name, *config, *workspace, *out_dir, *clock;
    bool stream, verbose, no_progress, seed_given, start_given, no_journal;
    int64_t start_ms;
    uint64_t seed;
    double time_scale;
    sb_val inputs;
} run_args;

/* A journal to replay before the run goes on live. facts excludes the
 * header; their strings point into bytes the caller keeps. */
typedef struct cli_resume {
    const sb_jfact *header;
    const sb_jfact *facts;
    size_t n;
    size_t good_len; /* journal bytes to keep (a torn tail is cut) */
} cli_resume;

/* Loads and validates one config file (diagnostics printed) and chains its
 * text into *hash (the journal's config_hash). */
int cli_load_config(const char *path, bool workspace, sb_val ws, sb_val *out, uint64_t *hash);
/* path's folder joined with name (sb_free). */
char *cli_sibling(const char *path, const char *name);
/* The journal's config_hash: both files' text (chained by cli_load_config),
 * then the pipeline name, the inputs as JSON and the seed. */
uint64_t cli_config_hash(uint64_t files_hash, const char *pipeline, const char *inputs_json, uint64_t seed);
/* Runs (res NULL) or resumes the run; returns the exit code. */
int cli_drive(run_args *a, sb_val ws, sb_val pl, const char *ws_path, uint64_t files_hash, const cli_resume *res);

#endif
