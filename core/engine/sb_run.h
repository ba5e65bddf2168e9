/* The pipeline engine: one run of one pipeline, as a sans-I/O state machine.
 *
 * The run never blocks, reads a clock or does I/O. The host drives it:
 *   - it creates the run (sb_run_new) from validated config trees and inputs,
 *     with a host table of callbacks through which the run asks for things:
 *     send an HTTP request to an MCP server, emit an event (log line, stream
 *     chunk, step change, progress), write an output file;
 *   - it tells the run what happened: sb_run_on_response (the answer to a
 *     request), sb_run_on_time (the clock moved; due timers fire);
 *   - it asks sb_run_next_deadline how long it may wait, and sb_run_done /
 *     sb_run_status whether the run is over.
 * A host with only embedded services can run a virtual clock: when no
 * request is in flight, jump straight to the next deadline.
 *
 * Callbacks must not call back into the run (queue work and deliver it after
 * the callback returns). Every pointer passed to a callback is valid only for
 * the duration of that callback.
 *
 * Determinism: given the same config, inputs, seed and the same sequence of
 * responses and times, a run makes the same requests and emits the same
 * events, byte for byte. Nothing else feeds it (no hidden clock, no unseeded
 * randomness), which is what the run journal and `sibyl pipeline resume` rely
 * on (docs/journal.md).
 *
 * Ownership: sb_val arguments are borrowed (the run keeps references where it
 * needs them); strings are copied. */
#ifndef SB_RUN_H
#define SB_RUN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/sb_diag.h"
#include "../value/sb_value.h"

typedef struct sb_run sb_run;

typedef enum sb_log_level { SB_LOG_INFO, SB_LOG_WARN, SB_LOG_ERROR, SB_LOG_SUCCESS, SB_LOG_STREAM, SB_LOG_DEBUG } sb_log_level;
const char *sb_log_level_name(sb_log_level l); /* "INFO", "WARN", ... */

typedef enum sb_event_kind {
    SB_EVENT_LOG,      /* level + message: one log line */
    SB_EVENT_STREAM,   /* data: one finished job's chunk (design §5); message: its JSON text. Not
                          emitted for the jobs of a poll step with `stream: false`. The host
                          appends it to the stream file, and prints it if asked (--stream). */
    SB_EVENT_STEP,     /* data: {name, index, total, status, reason?} on every step state change */
    SB_EVENT_POLL,     /* data: {step, poll, delay_ms, counts{...}, changed}; message: the poll line */
    SB_EVENT_PROGRESS  /* data: {done, queued, running, completed, failed, cancelled, total, spent_usd,
                          committed_usd (the ledger's: caps of the jobs running, estimates of those queued),
                          budget_usd (absent without a budget), best} as the servers last reported
                          them, summed over poll steps; done = completed + failed + cancelled */
} sb_event_kind;

typedef struct sb_event {
    sb_event_kind kind;
    int64_t time_ms;     /* host clock when it happened */
    sb_log_level level;  /* LOG, POLL (INFO), STREAM (STREAM) */
    const char *message; /* never NULL */
    sb_val data;         /* null for plain log lines */
} sb_event;

/* An HTTP request for an MCP server (see core/mcp/sb_mcp_client.h). */
typedef struct sb_run_request {
    const char *server;          /* server name from the workspace */
    uint64_t id;                 /* answer with sb_run_on_response(run, id, ...) */
    const char *method;          /* "POST", "GET" or "DELETE" */
    const char *body;            /* may be NULL for GET/DELETE */
    size_t body_len;
    const char *session_id;      /* MCP-Session-Id to send, or NULL */
    const char *protocol_version;/* MCP-Protocol-Version to send, or NULL */
    const char *last_event_id;   /* Last-Event-ID (SSE resumption), or NULL */
    const char *accept;          /* Accept header, or NULL */
    const char *content_type;    /* Content-Type header, or NULL */
} sb_run_request;

/* The host table. Versioned like SQLite's VFS: new slots are only appended,
 * and the run reads none beyond `version`. */
#define SB_HOST_VERSION 1
typedef struct sb_host {
    int version; /* SB_HOST_VERSION */
    void *ud;
    /* Send req; deliver the answer later with sb_run_on_response. */
    void (*send)(void *ud, const sb_run_request *req);
    /* Something happened (logging, streaming, progress). */
    void (*event)(void *ud, const sb_event *ev);
    /* Write an output file (name relative to the output folder), replacing it.
     * Called with the partial result too when a run fails. Returns 0 on
     * success. A non-zero answer is logged as an ERROR naming the file and
     * fails the run (status FAILED, sb_run_error "could not write the result
     * file <name>", no SUCCESS line); later writes are still attempted, and
     * sb_run_result_written tells whether the last one succeeded. */
    int (*write_file)(void *ud, const char *name, const char *data, size_t len);
} sb_host;

typedef struct sb_run_config {
    sb_val workspace;            /* validated workspace tree */
    sb_val pipelines;            /* validated pipelines tree */
    const char *pipeline;        /* which pipeline to run */
    const char *workspace_file;  /* for messages */
    const char *pipelines_file;  /* for messages */
    sb_val inputs;               /* map name -> value given by the user (null: none) */
    uint64_t seed;               /* jitter and anything random in the run */
    const char *run_id;          /* used in idempotency keys; NULL: "run-<seed>" */
    /* How events look (printing STREAM chunks, every poll or only those with
     * a change) is the host's choice: every event carries what it needs
     * (SB_EVENT_POLL's data.changed). */
    const char *output_dir;      /* where the host puts output files; only used to name
                                    them in messages (NULL or "." : the file name alone) */
} sb_run_config;

/* Creates a run: validates the two trees (sb_config_check_*: a tree that
 * failed validation is refused with its diagnostics, never run), compiles
 * them into the typed spec (core/spec/sb_spec.h), the only configuration
 * the run reads afterwards, resolves
 * inputs (defaults, validation) and compiles every expression of the
 * pipeline. Refuses a NULL cfg or host and a host table whose version this
 * core does not know (it reads no slot beyond host->version). On a problem
 * returns NULL and adds positioned diagnostics to d (d may be NULL only if
 * the caller does not want them).
 *
 * Every function below accepts a NULL run (and does nothing, or answers as
 * for a finished run) and a call in the wrong state (sb_run_start twice,
 * sb_run_on_time before the start, an answer to an unknown or already
 * answered request id) is ignored. */
sb_run *sb_run_new(const sb_run_config *cfg, const sb_host *host, sb_diags *d);
void sb_run_free(sb_run *r); /* NULL-safe */

/* Starts the run at host time now_ms (steps without needs begin). */
void sb_run_start(sb_run *r, int64_t now_ms);
/* The answer to request id: HTTP status (0 = transport failure, body holds
 * the reason), Content-Type, MCP-Session-Id header, body. */
void sb_run_on_response(sb_run *r, uint64_t id, int status, const char *content_type, const char *session_id,
                        const char *body, size_t len, int64_t now_ms);
/* The answer to request id from a server in the same process (an embedded
 * service): HTTP 200 with a JSON body, handed over as the JSON-RPC message
 * value itself (consumed), as sb_mcp_server_answer returns it. The run acts
 * exactly as on sb_run_on_response with that value written as JSON; only the
 * writing and reading of the text are saved. */
void sb_run_on_message(sb_run *r, uint64_t id, sb_val message, int64_t now_ms);
/* The clock reads now_ms; timers due by then fire, in deadline order. */
void sb_run_on_time(sb_run *r, int64_t now_ms);
/* Stops the run (Ctrl-C): pending timers are dropped, submitted jobs are
 * cancelled on a best-effort basis, partial outputs are written at once.
 * The run is done when the answers still in flight are in (cancel_jobs,
 * then a status call that reports what the cancelled jobs cost, and any
 * call the cancel overtook): the result file is then written again, with
 * those jobs settled in the ledger. A host that cannot wait may free the
 * run before; the first result file stands. */
void sb_run_cancel(sb_run *r, const char *reason, int64_t now_ms);

/* Earliest timer deadline, or INT64_MAX when none is pending. */
int64_t sb_run_next_deadline(const sb_run *r);
/* Requests sent and not yet answered. */
size_t sb_run_in_flight(const sb_run *r);

typedef enum sb_run_status {
    SB_RUN_PENDING,   /* not started */
    SB_RUN_RUNNING,
    SB_RUN_SUCCEEDED,
    SB_RUN_FAILED,    /* a step failed; sb_run_error says which and why */
    SB_RUN_CANCELLED
} sb_run_status;
sb_run_status sb_run_get_status(const sb_run *r);
bool sb_run_done(const sb_run *r);
const char *sb_run_status_name(sb_run_status s);
/* The first failure's message ("step 'x': ..."), or NULL. */
const char *sb_run_error(const sb_run *r);
/* The final result (what was written to the result file), or null before the
 * end. Borrowed. */
sb_val sb_run_result(const sb_run *r);

/* The stream file name (workspace streaming.file) when streaming is
 * enabled, else NULL. The host appends each STREAM event's message to it and
 * flushes per line. */
const char *sb_run_stream_file(const sb_run *r);
/* The result file name (workspace outputs.result_file). */
const char *sb_run_result_file(const sb_run *r);
/* false until the result file has been written, and after a write_file that
 * failed (until a later write succeeds). A host that maps outcomes to exit
 * codes tells "the run failed" from "its result could not be written" with
 * this. */
bool sb_run_result_written(const sb_run *r);

/* Formats epoch milliseconds as "YYYY-MM-DD HH:MM:SS" (UTC) into buf[20];
 * computed here, not by the C library, so every platform agrees. Exact for
 * years 0000..9999; later years wrap (year % 10000), so hosts keep times in
 * that range (the CLI's --start-time stops at 9999-12-31T23:59:59Z). */
void sb_time_format(int64_t epoch_ms, char buf[20]);

#endif
