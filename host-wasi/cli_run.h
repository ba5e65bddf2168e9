/* Pieces of `sibyl pipeline run`: inputs, the terminal, the driving loop. */
#ifndef SIBYL_CLI_RUN_H
#define SIBYL_CLI_RUN_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "engine/sb_run.h"
#include "services/sb_services.h"

int cli_input_arg(sb_val *inputs, const char *arg);
int cli_input_file(sb_val *inputs, const char *path);

/* The terminal: log lines on stdout as `[YYYY-MM-DD HH:MM:SS] LEVEL: msg`,
 * a live progress line on stderr when it is a terminal. */
typedef struct term {
    bool stream;      /* print STREAM lines */
    bool verbose;     /* every poll line */
    bool progress;    /* live progress line on stderr */
    bool progress_shown;
    FILE *stream_file; /* the .jsonl, flushed per line; NULL when disabled */
    const char *stream_path;
    const char *out_dir;
    int write_errors;  /* failed writes of any output file: exit 4 */
    int stream_errors; /* of the stream file, reported once */
    /* Resume: the stream file's lines already written (the first chunks the
     * replayed run emits are not written again), and while the journal is
     * replayed nothing is printed. */
    long stream_skip, stream_skip_total;
    bool quiet;
} term;

void term_event(term *t, const sb_event *ev);
void term_clear_progress(term *t);
int term_write_file(term *t, const char *name, const char *data, size_t len);
/* out_dir/name, or name when out_dir is "." (caller frees with sb_free). */
char *term_path(const char *out_dir, const char *name);

/* Host time in epoch milliseconds (wall clock). */
int64_t host_now_ms(void);
void host_sleep_ms(int64_t ms);

#endif
