/* tools/list entries of the Conductor. The contract in prose is
 * docs/mcp-tools-conductor.md; keep the two in step. */
#include "sb_csim_int.h"

#define JOB_SPEC                                                                                                       \
    "{\"type\":\"object\",\"required\":[\"hyperparameters\"],\"properties\":{"                                         \
    "\"job_id\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"                                               \
    "\"description\":\"Default job_001, job_002... within the handle; must not exist in the handle yet\"},"            \
    "\"hyperparameters\":{\"type\":\"object\"},"                                                                       \
    "\"retry_of\":{\"type\":\"string\",\"description\":\"Id of the job of this handle that this one retries\"},"       \
    "\"estimated_cost_usd\":{\"type\":\"number\",\"minimum\":0},"                                               \
    "\"cost_cap_usd\":{\"type\":\"number\",\"minimum\":0.01,"                                                    \
    "\"description\":\"The most the job may cost; default its estimate (or the server's quote) x (1 + margin)\"}}}"

static const sb_tool_desc tools[] = {
    {"submit_jobs",
     "Submit training jobs. Without handle_id a new pollable handle is created; with handle_id the jobs join "
     "that handle (how a retried job stays in the same sweep). A repeated idempotency_key returns the first "
     "answer and starts nothing. Every job gets a cost cap and is stopped when it reaches it; a job starts only "
     "while the handle's spending plus the caps of its running jobs plus its own cap fit budget_usd.",
     "{\"type\":\"object\",\"required\":[\"jobs\"],\"properties\":{"
     "\"handle_id\":{\"type\":\"string\"},"
     "\"idempotency_key\":{\"type\":\"string\",\"minLength\":1},"
     "\"budget_usd\":{\"type\":\"number\",\"minimum\":0,"
     "\"description\":\"The handle's budget; a later submission may lower it, never raise it\"},"
     "\"cap_margin_fraction\":{\"type\":\"number\",\"minimum\":0},"
     "\"jobs\":{\"type\":\"array\",\"minItems\":1,\"items\":" JOB_SPEC "}}}"},
    {"get_jobs_status",
     "Counts of a handle's jobs by status, and the jobs whose state changed since since_cursor (every job when "
     "it is absent), with metrics, errors, duration and cost; with learning curves, also the running jobs whose "
     "epoch advanced, with progress {step, epochs, metrics}. Pass the returned cursor to the next call.",
     "{\"type\":\"object\",\"required\":[\"handle_id\"],\"properties\":{"
     "\"handle_id\":{\"type\":\"string\"},"
     "\"since_cursor\":{\"type\":\"string\",\"pattern\":\"^c_[0-9]+(@[0-9]+)?$\"}}}"},
    {"cancel_jobs",
     "Cancel queued and running jobs of a handle (all of them when job_ids is absent). Running jobs are charged "
     "for the time they ran. reason \"early_stopping\": a stopping rule ended them (their status says so).",
     "{\"type\":\"object\",\"required\":[\"handle_id\"],\"properties\":{"
     "\"handle_id\":{\"type\":\"string\"},"
     "\"job_ids\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
     "\"reason\":{\"type\":\"string\"}}}"},
};

const sb_tool_desc *sb_csim_tools(size_t *count)
{
    if (count)
        *count = sizeof tools / sizeof *tools;
    return tools;
}
