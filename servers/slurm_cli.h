/* Running the Slurm command-line tools (sbatch, squeue, scancel) for the
 * slurm backend: each under `timeout` (a client whose controller is down
 * retries for minutes), no shell, stdin from /dev/null, stdout and stderr
 * captured. Every command is logged at debug level ("slurm: squeue -h ...").
 *
 * Ownership: argv is borrowed; out and err are the caller's buffers (appended
 * to; NULL to discard). */
#ifndef SLURM_CLI_H
#define SLURM_CLI_H
#include "util/sb_buf.h"

/* Runs `timeout -k 2 <timeout_s> argv...` (argv[0] looked up in PATH) and
 * waits for it. Returns its exit status (124: timed out, 127: not found,
 * 128+n: killed by signal n), or -1 when it could not be started (errno
 * kept, and a message in err). Output beyond 4 MiB per stream is dropped. */
int slurm_run(const char *const *argv, int timeout_s, sb_buf *out, sb_buf *err);

#endif
