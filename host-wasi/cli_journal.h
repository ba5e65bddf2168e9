/* The run journal's file in the output folder (core/journal/sb_journal.h is
 * the format; docs/journal.md documents both).
 *
 * Every record is handed to the OS with write() before the run acts on the
 * fact it holds, so a killed process loses nothing it acted on. With
 * `sync`, each write is followed by fsync() (HTTP runs: a server's answer
 * cannot be asked for again); without it (embedded runs, whose facts are
 * re-derived from the seed), records are gathered in 4 KiB batches and
 * synced once at the end.
 *
 * Test hook: SIBYL_JOURNAL_KILL_AT=N makes the process kill itself
 * (SIGKILL natively; under WASI, which has no signals, proc_exit(137)
 * without flushing stdio) right after its Nth write to the journal; with the
 * hook set every record is its own write, so N counts records.
 * SIBYL_JOURNAL_KILL_AT=cancel+N kills after the Nth write following the
 * cancel record's (cancel+0: right after the cancel is journaled). */
#ifndef SIBYL_CLI_JOURNAL_H
#define SIBYL_CLI_JOURNAL_H
#include <stdbool.h>
#include <stddef.h>

#include "journal/sb_journal.h"

#define CLI_JOURNAL_FILE "sibyl.journal"

typedef struct cli_journal {
    int fd;                 /* -1: no journal */
    bool sync;              /* fsync every record */
    bool batch;             /* gather records up to 4 KiB */
    long kill_at;           /* SIBYL_JOURNAL_KILL_AT, 0: off */
    long kill_after_cancel; /* cancel+N: N + 1, 0: off */
    long writes;
    sb_buf buf;
    char *path;  /* owned */
    bool failed; /* a write failed (reported once): the journal stops, the run goes on */
} cli_journal;

/* Creates (truncating) path with the header record. false: message printed. */
bool cli_journal_create(cli_journal *j, const char *path, const sb_jfact *header, bool sync);
/* Opens path for appending after its first good_len bytes (what a resume
 * keeps of it: a torn tail is cut off). */
bool cli_journal_reopen(cli_journal *j, const char *path, size_t good_len, bool sync);
/* Appends f (does nothing for a journal that is not open). */
void cli_journal_put(cli_journal *j, const sb_jfact *f);
/* Writes what is batched and syncs. */
void cli_journal_flush(cli_journal *j);
void cli_journal_close(cli_journal *j); /* flushes; safe on a zeroed or closed journal */

/* The stream file for a resume: keeps its complete lines (a line cut by the
 * crash is dropped: the replay writes it again) and says how many there are.
 * A missing file counts 0 lines. false: message printed. */
bool cli_stream_keep_lines(const char *path, long *lines);

#endif
