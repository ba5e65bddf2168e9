/* Internals of the pipeline engine, shared by its files:
 *   run.c        lifecycle, DAG scheduling, the end of a run and its result
 *   sb_run__vars.c   the variables expressions see
 *   sb_run__log.c    events and log lines
 *   run_steps.c  call, compute, assert, select, aggregate steps
 *   run_poll.c   poll steps: backoff, status calls, job tracking, streaming
 *   run_retry.c  event-triggered retry steps and the budget guard
 *   run_mcp.c    MCP sessions per server, requests and their answers
 *   status_answer.c  reading servers' answers: tool results, get_jobs_status
 *   handle.c     PollableJobHandle / ExternalHandle values
 * The run reads its configuration only from r->spec (core/spec). */
#ifndef SB_RUN_INT_H
#define SB_RUN_INT_H
#include <stdarg.h>

#include "../cel/sb_template.h"
#include "../ledger/sb_ledger.h"
#include "../mcp/sb_mcp_client.h"
#include "../sched/sb_backoff.h"
#include "../sched/sb_rng.h"
#include "../sched/sb_timers.h"
#include "../spec/sb_spec.h"
#include "../util/sb_bitset.h"
#include "../util/sb_buf.h"
#include "sb_run.h"

typedef enum step_state { ST_WAITING, ST_RUNNING, ST_SUCCEEDED, ST_FAILED, ST_SKIPPED } step_state;
typedef enum step_kind {
    K_CALL = SB_SPEC_CALL,
    K_POLL = SB_SPEC_POLL,
    K_AGGREGATE = SB_SPEC_AGGREGATE,
    K_SELECT = SB_SPEC_SELECT,
    K_COMPUTE = SB_SPEC_COMPUTE,
    K_ASSERT = SB_SPEC_ASSERT,
    K_RETRY = SB_SPEC_RETRY,
    K_SUGGEST = SB_SPEC_SUGGEST
} step_kind;
typedef enum job_event {
    EV_JOB_FAILED = SB_SPEC_JOB_FAILED,
    EV_JOB_COMPLETED = SB_SPEC_JOB_COMPLETED,
    EV_JOB_FINISHED = SB_SPEC_JOB_FINISHED
} job_event;

/* Timer tags: what a timer is for (low byte) and for whom (the rest). */
enum { TT_POLL = 1, TT_RETRY = 2, TT_TIMEOUT = 3, TT_SEND = 4, TT_CALL_AGAIN = 5 };
#define TIMER_TAG(kind, who) (((uint64_t)(who) << 8) | (uint64_t)(kind))

typedef struct job {
    char *id;
    char *root;          /* the original job of a retry chain (own id for originals) */
    int attempt;         /* 0 for an original, n for <root>_retry_n */
    sb_val hyper;        /* hyperparameters as submitted */
    double estimate_usd; /* committed to the ledger at submission; < 0 unknown */
    bool quoted;         /* a retry with other hyperparameters than the job it retries: the
                            estimate is not sent, the Conductor prices (and caps) it itself */
    int status;          /* JOB_* */
    bool adopted;        /* found on a followed handle, not submitted by this run */
    sb_val record;       /* the latest record from the server */
    /* Early stopping (run_estop.c): its rung cursor (0 for every new job, so
     * a retry's rungs restart), its latest progress {step, epochs, metrics}
     * (null before one), and whether the rule asked to stop it. */
    uint32_t rung;
    int64_t last_step;
    sb_val progress;
    bool stopping;
    int64_t stop_rung;   /* the rung it was stopped at, and the bar it missed */
    double stop_bar;
} job;

enum { JOB_QUEUED, JOB_RUNNING, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED, JOB_SUBMITTING };

/* A retry decided and waiting for its backoff timer, then for the server. */
typedef struct pending_retry {
    size_t job;       /* index of the new job in poll.jobs (status JOB_SUBMITTING) */
    size_t step;      /* the retry step */
    uint64_t timer;   /* 0 once fired */
    bool in_flight;   /* submit_jobs sent, no answer yet */
    bool done;        /* submitted or given up; entries are never removed
                         because timer tags refer to them by index */
} pending_retry;

typedef struct poll_state {
    sb_val handle;            /* the PollableJobHandle value */
    char *server;
    char *handle_id;
    char *status_tool;
    char *submit_tool;        /* for retries: the tool that created the handle */
    bool adopted;             /* an ExternalHandle: jobs come from the server and are adopted */
    bool answered;            /* a status answer was read */
    sb_backoff backoff;
    int max_attempts;         /* polls in a row without progress */
    int64_t timeout_ms;       /* 0: none */
    int64_t started_ms;
    uint32_t polls;           /* status calls made */
    uint32_t no_progress;     /* in a row */
    int64_t last_delay;
    sb_val cursor;            /* since-cursor from the last answer, or null */
    bool stream;
    bool call_in_flight;
    uint64_t timer;
    job *jobs;
    size_t njobs, cap;
    sb_val index;             /* job id -> index in jobs */
    sb_val results;           /* completed job records, in finish order */
    sb_val failed;            /* failed job records, in finish order */
    int64_t counts[6];        /* queued running completed failed cancelled total, as last reported */
    size_t nstatus[6];        /* jobs in each JOB_* state, kept by sb_run__poll_set_status (no scans per poll) */
    size_t nstopped;          /* failed jobs the Conductor stopped at their cost cap */
    size_t nunstarted;        /* cancelled jobs whose cap never fit the budget */
    pending_retry *retries;
    size_t nretries, rcap;
    size_t active_retries;    /* entries not yet done */
    /* Early stopping (run_estop.c): the rule, NULL when the step has none or
     * it is not enabled; the stopped jobs' chunks, in finish order. */
    sb_estop *estop;
    bool stream_progress;
    sb_val stopped;
    size_t nstopped_early;
} poll_state;

typedef struct step {
    const sb_spec_step *sp; /* what the step is (the run's spec owns it) */
    /* Copied from sp for the code that walks steps (borrowed, never freed). */
    const char *name;
    step_kind kind;
    int number;             /* "Step i/N" */
    const size_t *needs;
    size_t nneeds;
    size_t on_step;         /* on: the poll step, or (size_t)-1 */
    job_event on_event;
    /* What the step is doing. */
    step_state state;
    size_t nwait;           /* needs not yet succeeded, failed or skipped */
    bool dirty;             /* changed since the `steps` variable was last brought up to date */
    sb_val output;
    sb_val handle;          /* call with handle: the PollableJobHandle */
    char *reason;           /* why it failed or was skipped */
    int64_t started_ms, finished_ms;
    sb_val call_args;       /* call: evaluated arguments, kept for handle/ledger use */
    poll_state *poll;       /* poll: its state once started */
    int fired;              /* times its event fired and it ran */
    int call_attempt;       /* call: attempts made (call_retry) */
    /* suggest (run_suggest.c): one question to the Solver, then one
     * submission, at a time; events meanwhile only set sg_again. */
    bool sg_busy, sg_again;
    size_t sg_job;          /* the job whose event asked last */
    size_t sg_first, sg_n;  /* the suggested jobs being submitted: poll.jobs[sg_first, sg_first + sg_n) */
} step;

/* What an MCP call was for, so its answer goes to the right place. */
typedef enum call_kind {
    CALL_STEP,
    CALL_POLL_STATUS,
    CALL_RETRY_SUBMIT,
    CALL_CANCEL,
    CALL_ESTOP_CANCEL,  /* step: the poll step whose rule stopped jobs */
    CALL_SUGGEST,       /* step: the suggest step */
    CALL_SUGGEST_SUBMIT /* step: the suggest step */
} call_kind;

typedef struct pending_call {
    uint64_t call_id;  /* from the server's sb_mcp_client */
    size_t server;
    call_kind kind;
    size_t step;
    size_t extra;      /* CALL_RETRY_SUBMIT: index in poll.retries */
} pending_call;

typedef struct server_conn {
    char *name;
    sb_mcp_client *client;
} server_conn;

/* A request handed to the host: maps the run's request id to the client's. */
typedef struct wire {
    uint64_t run_id;
    size_t server;
    uint64_t client_id;
} wire;

/* A request the client wants sent later (SSE retry, task pollInterval):
 * copied, because the client's pointers last only until its next call. */
typedef struct delayed_req {
    size_t server;
    uint64_t client_id;
    char *method, *body, *session_id, *protocol_version, *last_event_id, *accept, *content_type;
    size_t body_len;
    bool used;
} delayed_req;

struct sb_run {
    sb_host host;
    sb_spec *spec;           /* the compiled configuration: the only one the run reads */
    sb_val inputs;
    const char *pipeline_name; /* the spec's */
    char *workspace_file, *pipelines_file;
    char *run_id;
    uint64_t seed;
    sb_rng rng;
    char *result_label;      /* the spec's result_file as messages name it (with the output folder) */
    sb_buf line;             /* a job's stream line, written anew for each job: its memory is reused */
    sb_val pinned_keys;      /* a list holding one reference to each key the run's per-job and per-poll
                              * values use, so a shared key outlives those values (see run.c) */
    step *steps;
    size_t nsteps;
    sb_val step_index;       /* step name -> index in steps */
    /* Scheduling is a loop over a ready set, never a recursion: a step that
     * finishes at once (compute, assert, ...) only marks the steps that need
     * it ready, and the loop in sb_run__schedule starts them, lowest index first
     * (declaration order), so thousands of steps need no C stack. */
    size_t *dep_first, *deps; /* steps that need step i: deps[dep_first[i] .. dep_first[i+1]) */
    sb_bitset ready;          /* waiting, not event-triggered, every need finished */
    size_t nactive;           /* steps waiting or running */
    size_t *event_steps;      /* the event-triggered steps (on:), in index order */
    size_t nevent_steps;
    bool scheduling;          /* inside sb_run__schedule (it is not re-entered) */
    sb_val steps_view;        /* the `steps` variable, updated step by step (null: rebuild) */
    size_t *dirty;            /* steps changed since steps_view was updated */
    size_t ndirty;
    sb_timers *timers;
    sb_ledger *ledger;
    uint64_t ledger_gen;     /* bumped before every change to the ledger */
    sb_val ledger_view;      /* its breakdown as of ledger_view_gen (the `ledger` variable) */
    uint64_t ledger_view_gen;
    bool has_budget;
    double cap_margin;       /* cost_model.cap_margin_fraction: a cap is an estimate times 1 + this */
    server_conn *servers;
    size_t nservers;
    pending_call *calls;
    size_t ncalls, ccap;
    wire *wires;
    size_t nwires, wcap;
    uint64_t next_wire;
    delayed_req *delayed;    /* never compacted: timer tags hold indices */
    size_t ndelayed, dcap;
    sb_run_status status;
    char *error;
    sb_val result;
    bool result_written;     /* the last write of the result file succeeded */
    bool write_failed;       /* some write of the result file failed: the run fails */
    int64_t now, started;
    int steps_started;
    bool finishing;
    bool stopping;           /* cancelled (or stopped by a fatal error): waiting for the
                                answers that settle the cancelled jobs, then finishing */
    sb_val best;             /* best finished job so far (for progress) */
    sb_val estimates;        /* sb_run__estimate_key(handle, job) -> estimated cost committed at submission */
    struct sb_cel_program *matcher; /* message.matches(pattern), for error classification */
    uint64_t calls_made;     /* sb_run__call count, so the pump sees new work */
    /* Set when the run's own plumbing ran out of memory: a request it could
     * not send completes as a transport error, which must not pass for the
     * server's doing (a retry written off as never submitted). The run
     * stops, failed, at the end of the pump. */
    const char *fatal;
};

/* run.c */
/* Every change of a step's state goes through here: it keeps nactive, the
 * ready set and the `steps` variable up to date. */
void sb_run__set_state(sb_run *r, size_t step, step_state st);
/* The step's output, reason or handle changed (its state did not). */
void sb_run__touch(sb_run *r, size_t step);
void sb_run__fail(sb_run *r, size_t step, int64_t now, const char *fmt, ...);
void sb_run__step_done(sb_run *r, size_t step, step_state st, sb_val output, int64_t now);
void sb_run__schedule(sb_run *r, int64_t now);
void sb_run__stop(sb_run *r, sb_run_status status, const char *reason, const char *why, int64_t now);
size_t sb_run__step_index(const sb_run *r, const char *name);

/* The key of a job in r->estimates: handle id, a NUL, job id (two handles may
 * use the same job ids). A new string, or the out-of-memory error. */
sb_val sb_run__estimate_key(const char *handle_id, const char *job_id);

/* sb_run__vars.c: a new map of the variables expressions see; extra (borrowed,
 * may be null) is merged on top. sb_oom() when memory ran out (also when
 * extra is that error): never an incomplete map. */
sb_val sb_run__vars(sb_run *r, sb_val extra);
/* Sets key -> v (consumed) in a map being built; false when memory ran out,
 * including when v is the out-of-memory error a constructor returned. */
bool sb_run__put(sb_val *map, const char *key, sb_val v);

/* run_steps.c: a call step's next attempt is due (TT_CALL_AGAIN). */
void sb_run__call_again(sb_run *r, size_t i, int64_t now);

/* run_notify.c: a server's notification (progress, log message) as a DEBUG log event. */
void sb_run__server_event(sb_run *r, const char *server, const sb_mcp_event *ev);

/* sb_run__log.c */
void sb_run__log(sb_run *r, sb_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void sb_run__event(sb_run *r, sb_event_kind kind, sb_log_level level, const char *message, sb_val data);
void sb_run__step_event(sb_run *r, size_t step);
void sb_run__progress(sb_run *r);
/* Formats a number for people: 25.2 -> "25.20" with cents=true. */
void sb_run__fmt_usd(sb_buf *b, double usd);

/* The Conductor's budget guard (docs/budget.md): adds budget_usd (what the
 * ledger grants handle_id, NULL for a new handle) and cap_margin_fraction to
 * a submit_jobs argument map that lacks them. No budget: adds nothing.
 * false on OOM. */
bool sb_run__budget_args(sb_run *r, sb_val *args, const char *handle_id);
/* What a submission's answer says about the money: records the handle's
 * budget_usd (else the one sent, in the arguments `sent`) and the caps of its jobs (cost_caps_usd, parallel to job_ids,
 * when the server gives them). false on OOM. */
bool sb_run__budget_answer(sb_run *r, const char *handle_id, sb_val sent, sb_val answer, sb_val job_ids);
/* The budget guard refused a job (est < 0: no estimate; else its cap did not
 * fit): a WARN "<what> skipped by the budget guard: ..." and a skip in the
 * ledger under id. false on OOM (the skip belongs in the cost breakdown). */
bool sb_run__budget_refused(sb_run *r, const char *handle_id, const char *what, const char *id, double est,
                            double cap);

/* run_steps.c */
void sb_run__start_step(sb_run *r, size_t step, int64_t now);
void sb_run__call_done(sb_run *r, size_t step, sb_val result, int64_t now);

/* run_poll.c */
void sb_run__poll_start(sb_run *r, size_t step, sb_val handle, int64_t now);
void sb_run__poll_on_timer(sb_run *r, size_t step, int64_t now);
void sb_run__poll_on_timeout(sb_run *r, size_t step, int64_t now);
void sb_run__poll_on_status(sb_run *r, size_t step, sb_val result, int64_t now);
/* The id of the job a retry retries: <root> for the first retry,
 * <root>_retry_<n-1> for the nth (a new value; null for an original). */
sb_val sb_run__job_retry_of(const job *j);
size_t sb_run__poll_add_job(sb_run *r, poll_state *p, const char *id, sb_val hyper, double estimate, const char *root,
                    int attempt, int status);
/* Every change of a job's status goes through here, to keep nstatus. */
void sb_run__poll_set_status(poll_state *p, size_t job, int status);
void sb_run__poll_free(poll_state *p);
void sb_run__poll_maybe_finish(sb_run *r, size_t step, int64_t now);
sb_val sb_run__poll_output(const poll_state *p);
void sb_run__poll_cancel_all(sb_run *r, int64_t now);
void sb_run__poll_on_cancelled(sb_run *r, size_t step, sb_val result, int64_t now);
/* --- run_estop.c: early stopping in poll steps --- */
/* Sets up the step's rule (when configured and enabled); false after failing the step. */
bool sb_run__estop_start(sb_run *r, size_t i, int64_t now);
/* Job k of poll step i reported rec while running: streams its progress when
 * asked and judges it; a job to stop is added to *stop (a list of ids). */
void sb_run__estop_on_running(sb_run *r, size_t i, size_t k, sb_val rec, sb_val *stop, int64_t now);
/* Asks the Conductor to stop the jobs in stop (consumed). */
void sb_run__estop_send(sb_run *r, size_t i, sb_val stop, int64_t now);
void sb_run__estop_on_cancelled(sb_run *r, size_t step, sb_val result, int64_t now);
/* Settles job k if the rule stopped it (true), with its job_stopped chunk. */
bool sb_run__estop_finish(sb_run *r, size_t i, size_t k, int64_t now);
const char *sb_run__job_status_name(int status);

/* run_retry.c */
/* "transient" or "permanent" for a failure message, by the workspace's
 * errors patterns (the server's own error_type wins when it gives one). */
const char *sb_run__retry_classify(sb_run *r, const char *message);
void sb_run__retry_on_job_event(sb_run *r, size_t poll_step, size_t job, job_event ev, int64_t now);
void sb_run__retry_on_timer(sb_run *r, size_t poll_step, size_t retry, int64_t now);
void sb_run__retry_on_submitted(sb_run *r, size_t poll_step, size_t retry, sb_val result, int64_t now);

/* run_suggest.c: suggest steps (an adaptive search asking a Solver for more
 * trials as jobs finish, submitting them to the same handle) */
void sb_run__suggest_on_event(sb_run *r, size_t step, size_t poll_step, size_t job, int64_t now);
void sb_run__suggest_on_answer(sb_run *r, size_t step, sb_val result, int64_t now);
void sb_run__suggest_on_submitted(sb_run *r, size_t step, sb_val result, int64_t now);

/* run_mcp.c */
/* sb_run__call with MCP call options (progress token, task); opts NULL: none. */
bool sb_run__call_ex(sb_run *r, const char *server, const char *tool, sb_val args, const sb_mcp_call_opts *opts,
                     call_kind kind, size_t step, size_t extra, int64_t now);
bool sb_run__call(sb_run *r, const char *server, const char *tool, sb_val args, call_kind kind, size_t step,
              size_t extra, int64_t now);
void sb_run__pump(sb_run *r, int64_t now);
void sb_run__mcp_free(sb_run *r);
void sb_run__send_delayed(sb_run *r, size_t which, int64_t now);

/* handle.c */
sb_val sb_run__handle_make(const char *server, const char *handle_id, sb_val job_ids, const char *status_tool,
                   const char *submit_tool);
bool sb_run__handle_is_pollable(sb_val v);

/* status_answer.c */
sb_val sb_run__result_value(sb_val result); /* structuredContent, else the text parsed as JSON, else the text */

#endif
