/* The answer of a Conductor's get_jobs_status (docs/mcp-tools-conductor.md
 * §1.5), read once, strictly, into typed fields: the one place that knows
 * its shape. The pipeline engine's poll steps and sb_handle_watch both read
 * answers through it.
 *
 * Ownership: an sb_status_answer owns its `value` (a reference to the
 * answer); the strings and records in it borrow from that value and live
 * until sb_status_answer_clear. */
#ifndef SB_STATUS_ANSWER_H
#define SB_STATUS_ANSWER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../value/sb_value.h"

/* Job states of the contract, in the order of its counts. */
typedef enum sb_job_state {
    SB_JOB_QUEUED,
    SB_JOB_RUNNING,
    SB_JOB_COMPLETED,
    SB_JOB_FAILED,
    SB_JOB_CANCELLED
} sb_job_state;
#define SB_JOB_NSTATES 5
const char *sb_job_state_name(sb_job_state s); /* "queued", ...; "?" out of range */
bool sb_job_state_final(sb_job_state s);       /* completed, failed or cancelled */

typedef struct sb_status_job {
    const char *job_id;  /* non-empty */
    sb_job_state state;
    sb_val record;       /* the job's map as the server sent it (borrowed) */
} sb_status_job;

typedef struct sb_status_answer {
    sb_val value;             /* the answer: structuredContent, else the text as JSON */
    const char *handle_id;    /* NULL when absent */
    const char *cursor;       /* NULL when absent */
    bool has_done, done;
    bool has_counts;
    int64_t counts[SB_JOB_NSTATES + 1]; /* queued running completed failed cancelled total; 0 when absent */
    sb_status_job *jobs;
    size_t njobs;
} sb_status_answer;

/* The contract's fields of a job record, borrowed from it; NULL when absent.
 * A record that came through sb_status_answer_read has them of the right
 * kind: hyperparameters and metrics objects, error and error_type strings,
 * duration_seconds and cost_usd numbers. */
typedef struct sb_status_fields {
    const sb_val *hyperparameters, *metrics, *error, *error_type, *duration_seconds, *cost_usd;
} sb_status_fields;
void sb_status_job_fields(sb_val record, sb_status_fields *out);

/* Reads the tools/call result of `server`.`tool` (a get_jobs_status call;
 * borrowed). On success fills *out and returns SB_NULL; otherwise *out is
 * empty and the return is a new SB_ERROR naming the server and the tool:
 * a failed call (transport, JSON-RPC, a tool error), an answer that is not a
 * JSON object, without a `jobs` list, a job without a string job_id or with
 * a status outside the contract or a field of sb_status_fields of the wrong
 * kind, counts or cursor of the wrong type.
 * sb_is_oom() tells an out-of-memory failure. */
sb_val sb_status_answer_read(sb_val result, const char *server, const char *tool, sb_status_answer *out);
void sb_status_answer_clear(sb_status_answer *a); /* safe on a zeroed or cleared answer */

#endif
