/* A deterministic host for engine tests and the engine benchmark.
 *
 *   - a virtual clock: when no request is in flight, jump to the run's next
 *     deadline (or to a scripted cancel time);
 *   - MCP servers in-process: every POST goes to an sb_mcp_server whose tool
 *     function the test scripts; answers come back latency_ms later (0: at
 *     the same virtual time), in order; GET/DELETE get 405 as from a
 *     stateless server;
 *   - a transcript: one line per request body sent and per event (log line,
 *     stream chunk, step change, poll, progress) and per file written, each
 *     stamped with the virtual time since the start. Two runs with the same
 *     inputs must produce the same transcript byte for byte;
 *   - every tool call a server receives, with its arguments and time.
 *
 * A fake Conductor (fc_*) is included: jobs whose start, run time and
 * outcome are scripted per job id, a cluster-wide limit on running jobs,
 * cursors, handles that retries join, cancel_jobs. It answers in time
 * proportional to what changed, so the benchmark can drive 100,000 jobs. */
#ifndef FAKE_HOST_H
#define FAKE_HOST_H
#include <stdbool.h>
#include <stdint.h>

#include "engine/sb_run.h"
#include "mcp/sb_mcp_server.h"
#include "util/sb_buf.h"

#define FH_NEVER INT64_MAX
#define FH_START_MS 1767225600000LL /* 2026-01-01 00:00:00 UTC: virtual time 0 */

/* One tool call a scripted server received. */
typedef struct fh_call {
    const char *server;
    char *tool;
    char *args; /* compact JSON */
    int64_t at; /* ms since the start */
} fh_call;

typedef struct fh_server {
    char *name;
    sb_mcp_server *srv;
    sb_mcp_tool_fn fn;
    void *ud;
    struct fake_host *host;
    /* > 0: answer each tools/call with an SSE stream that ends before the
     * response (an event id and `retry: sse_retry_ms`), and the response on
     * the client's GET resumption, as a server behind a proxy that cuts
     * streams would. */
    int64_t sse_retry_ms;
    char **stash; /* event id, answer, event id, answer, ... */
    size_t nstash;
    /* Answer each tools/call with an SSE stream that carries, before the
     * response, notifications/progress (when the call has a progressToken)
     * and a notifications/message, as a server that reports progress does. */
    bool notify;
    /* The next fail_calls tools/call requests get fail_status (0: a transport
     * failure) instead of reaching the server. */
    int fail_calls;
    int fail_status;
} fh_server;

typedef struct fh_req {
    size_t server; /* index in servers, or (size_t)-1 for an unknown server */
    uint64_t id;
    int64_t due; /* when the answer arrives */
    char *method, *body, *last_event_id;
    size_t len;
} fh_req;

typedef struct fake_host {
    int64_t now;        /* absolute virtual time */
    int64_t latency_ms; /* every answer arrives this long after its request (default 0) */
    bool record;        /* keep the transcript and calls (the benchmark turns it off) */
    bool progress;      /* PROGRESS events in the transcript too */
    /* POST answers with HTTP 200 are handed over as message values
     * (sb_mcp_server_answer, sb_run_on_message), as an embedded service's
     * are, instead of as JSON text. fh_init sets it when the environment has
     * SIBYL_FH_IN_PROCESS=1, so the same tests run on both paths. */
    bool in_process;
    sb_buf transcript;
    fh_server servers[4];
    size_t nservers;
    fh_req *q;
    size_t nq, qcap;
    fh_call *calls;
    size_t ncalls, ccap;
    /* the last file written by name, and how many writes */
    char *file_name, *file_text;
    int writes;
    int write_rc; /* what write_file returns */
    /* config and the run */
    sb_val workspace, pipelines;
    sb_run *run;
    char *diags;       /* sb_run_new's diagnostics, one a line */
    int64_t cancel_at; /* ms since the start, or FH_NEVER: sb_run_cancel then */
    bool cancelled;
    bool stuck;        /* the run waited for nothing */
    bool host_oom;     /* the host itself ran out of memory */
    /* time spent inside sb_run_* calls, host callbacks excluded (benchmark) */
    bool timing;
    int64_t engine_ns;
    int64_t callback_ns;
} fake_host;

void fh_init(fake_host *h);
void fh_free(fake_host *h);
/* Adds an in-process server `name` whose tools are answered by fn. */
bool fh_add_server(fake_host *h, const char *name, const sb_tool_desc *tools, size_t ntools, sb_mcp_tool_fn fn,
                   void *ud);
/* Parses and validates the two config texts; false (and a message on stderr) on a problem. */
bool fh_load_config(fake_host *h, const char *workspace_yaml, const char *pipelines_yaml);
/* Creates and starts the run. inputs_json may be NULL. false if sb_run_new refused (h->diags says why). */
bool fh_start(fake_host *h, const char *pipeline, uint64_t seed, const char *inputs_json);
/* Drives the run on the virtual clock until it is done, it waits for nothing,
 * or the clock would pass limit_ms (since the start). Returns sb_run_done. */
bool fh_drive(fake_host *h, int64_t limit_ms);
/* fh_start + fh_drive. */
bool fh_run(fake_host *h, const char *pipeline, uint64_t seed, const char *inputs_json, int64_t limit_ms);

/* Reads a whole file (tests/engine/cases/...); NULL if it cannot. sb_free it. */
char *fh_read_file(const char *path);
/* The result file as a value (parsed from what write_file received), or null. */
sb_val fh_result(const fake_host *h);
/* Number of transcript lines containing `needle`. */
size_t fh_count(const fake_host *h, const char *needle);
/* Calls of `tool` received so far, in order; at most max are stored in out. */
size_t fh_calls_of(const fake_host *h, const char *tool, const fh_call **out, size_t max);

/* True while the engine itself runs (inside an sb_run_* call and not inside a
 * host callback): what a failing allocator should count. */
bool fh_in_engine(void);

/* Tool result helpers for scripted servers. */
sb_val fh_tool_result(sb_val structured); /* consumes structured */
sb_val fh_tool_error(const char *message);

/* --- the fake Conductor --- */

typedef struct fc_fate {
    int64_t start_after_ms; /* queued at least this long after submission; FH_NEVER: never starts */
    int64_t run_ms;         /* running time; FH_NEVER: runs forever */
    bool fail;
    const char *error;      /* failure message */
    const char *error_type; /* NULL: not given, the engine classifies the message */
    double val_acc, train_loss;
    double cost_usd; /* charged when it ends (completed or failed) */
} fc_fate;

/* A rule: the fate of the jobs whose id is `job`, or starts with it when it
 * ends in '*' ("*" alone matches every job). The first match wins. */
typedef struct fc_rule {
    const char *job;
    fc_fate fate;
} fc_rule;
#define FC_END                                                                                                         \
    {                                                                                                                  \
        NULL,                                                                                                          \
        {                                                                                                              \
            0                                                                                                          \
        }                                                                                                              \
    }

typedef fc_fate (*fc_fate_fn)(void *ud, const char *job_id, uint64_t nth);

typedef struct fake_conductor fake_conductor;
/* max_running: cluster-wide limit (0: none). rules (ending with {NULL}) or
 * fate_fn (nth = 0-based submission order) decide each job's fate. */
fake_conductor *fc_new(int max_running, const fc_rule *rules, fc_fate_fn fate_fn, void *fate_ud);
void fc_free(fake_conductor *c);
const sb_tool_desc *fc_tools(size_t *n);
/* The tool function (an sb_mcp_tool_fn; ud is the fake_conductor). */
sb_val fc_tool(void *ud, int64_t now_ms, const char *tool, sb_val args);
/* Jobs known, and how many are in each final state. */
size_t fc_jobs(const fake_conductor *c);
size_t fc_count(const fake_conductor *c, const char *status);
/* Adds a server "conductor" answered by c. */
bool fh_add_conductor(fake_host *h, fake_conductor *c);

/* --- the fake Solver: plan_search_grid returns a fixed plan (JSON text) --- */
bool fh_add_solver(fake_host *h, const char *plan_json);

#endif
