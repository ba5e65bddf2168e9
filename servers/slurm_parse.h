/* The Slurm driver's pure half: reading what sbatch, squeue and a job's own
 * files say, and writing the batch script. No I/O, no clock, no globals, so
 * every function is unit-tested (tests/servers/test_slurm_parse.c) and
 * fuzzed (tests/fuzz/fuzz_slurm.c); servers/slurm_cli.c runs the commands.
 *
 * Ownership: every function borrows its text arguments; results go into
 * caller-owned structs or sb_bufs (a failed sb_buf reports out of memory),
 * or are new sb_vals the caller frees. Text need not be NUL-terminated where
 * a length is passed. */
#ifndef SLURM_PARSE_H
#define SLURM_PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sb_buf.h"
#include "value/sb_value.h"

/* Where a Slurm job is, in the Conductor's words. */
typedef enum {
    SLURM_QUEUED,    /* PENDING, REQUEUED, CONFIGURING...: not running yet */
    SLURM_RUNNING,   /* RUNNING, COMPLETING, SUSPENDED...: started */
    SLURM_COMPLETED, /* COMPLETED */
    SLURM_FAILED,    /* FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, BOOT_FAIL, DEADLINE */
    SLURM_CANCELLED, /* CANCELLED, REVOKED */
    SLURM_UNKNOWN    /* a word this driver does not know: keep the last phase */
} slurm_phase;

/* Slurm's state word (as squeue prints it, e.g. "OUT_OF_MEMORY"; a trailing
 * "+" or " by <uid>" is ignored) -> phase. */
slurm_phase slurm_state_phase(const char *state, size_t len);

/* The job id in `sbatch --parsable` output ("123" or "123;cluster", then a
 * line break). false when it is not that: the id must be 1-19 digits. */
bool slurm_parse_sbatch(const char *text, size_t len, char id[24]);

/* One line of the squeue format SLURM_SQUEUE_FORMAT. */
#define SLURM_SQUEUE_FORMAT "JobID:|,State:|,Reason:|,exit_code:|"
typedef struct slurm_row {
    char id[24];     /* digits; an array task as "123_4" */
    char state[32];  /* Slurm's word */
    char reason[64]; /* why it waits or why it ended ("None", "NonZeroExitCode"...) */
    int exit_code;   /* the exit status 0..255, or -1 when none/unknown */
    int signal;      /* the signal that ended it, or 0 */
} slurm_row;

/* Reads `squeue -h -t all -j ids -O SLURM_SQUEUE_FORMAT` output: one row per
 * line, at most max rows (more lines: an error). exit_code there is a raw
 * wait status (256 = exit 1; 9 = killed by signal 9). Returns the number of
 * rows, or -1 with a message "line N: what" in err. Empty lines are skipped. */
long slurm_parse_squeue(const char *text, size_t len, slurm_row *rows, size_t max, char *err, size_t errlen);

/* Reads `sacct -X -n -P -j ids -o SLURM_SACCT_FORMAT` output (accounting
 * only: jobs that left squeue): "id|STATE|exit:signal" per line. Rows as
 * slurm_parse_squeue's (reason empty); -1 with "line N: what" in err. */
#define SLURM_SACCT_FORMAT "JobIDRaw,State,ExitCode"
long slurm_parse_sacct(const char *text, size_t len, slurm_row *rows, size_t max, char *err, size_t errlen);

/* Whether `scontrol show config` output says the cluster keeps accounting
 * (AccountingStorageType other than accounting_storage/none). */
bool slurm_config_has_accounting(const char *text, size_t len);

/* The job's own result file, written by the batch script after the command:
 * "<exit status> <end ms>\n". false when it is not that (not yet written
 * completely: the script writes it to a temporary name and renames it). */
bool slurm_parse_result(const char *text, size_t len, int *exit_status, int64_t *end_ms);

/* A clock stamp file: "<ms>\n". */
bool slurm_parse_stamp(const char *text, size_t len, int64_t *ms);

/* Metrics by the local backend's contract: the last line of stdout that is
 * a JSON object whose values are all finite numbers (lines that are not are
 * skipped). Returns the object, or sb_null() when there is none (or
 * sb_oom()). */
sb_val slurm_metrics_from_output(const char *text, size_t len);

/* The last max_lines lines of text (at most max_bytes, cut at a UTF-8
 * boundary), without trailing blank lines, into out. */
void slurm_tail(const char *text, size_t len, size_t max_lines, size_t max_bytes, sb_buf *out);

/* arg as one POSIX sh word: single-quoted, ' written as '\''. Any byte but
 * NUL survives unchanged; nothing in it is expanded. false for a NUL byte. */
bool slurm_sh_quote(const char *arg, size_t len, sb_buf *out);

/* The batch script for one job: cd to dir, export env (NAME=VALUE strings),
 * write the start stamp, run argv (each word quoted: no shell interpretation
 * of hyperparameter text) with stdout and stderr to files in dir, then write
 * the result file. argv[0] is looked up in PATH as execvp would. false (out
 * unchanged) when there is no argv or an env entry is not NAME=VALUE with a
 * shell variable name. */
bool slurm_batch_script(const char *dir, const char *const *argv, size_t argc, const char *const *env, size_t nenv,
                        const char *job_label, sb_buf *out);

/* Whole minutes for `--time` that never exceed cap_ms: floor(cap_ms / 60000),
 * at least 1 (Slurm's smallest limit; the driver also stops the job at the
 * cap itself, since Slurm checks limits only about every 30 s). 0 for
 * cap_ms <= 0 (no limit). */
int64_t slurm_time_minutes(int64_t cap_ms);

/* The files the batch script writes in a job's folder. */
#define SLURM_FILE_SCRIPT "job.sh"
#define SLURM_FILE_STDOUT "stdout"
#define SLURM_FILE_STDERR "stderr"
#define SLURM_FILE_START "start_ms"
#define SLURM_FILE_RESULT "result"
#define SLURM_FILE_METRICS "metrics.json"
#define SLURM_FILE_SLURM_OUT "slurm.out"

#endif
