/* The pipeline spec: the validated workspace and one pipeline of the
 * pipelines file, compiled once into typed C structs. Data walks
 * YAML -> tree (core/config) -> spec (here) -> run (core/engine) -> events and
 * outputs; the run reads the spec and never the trees by key.
 *
 * Every default comes from the schema tables (sb_schema_default), the same
 * tables that validate the files and produce the published JSON Schemas; no
 * default constant lives here or in the engine. Layering of poll settings:
 * the table's defaults, then the workspace's `polling`, then the step's.
 *
 * Ownership, stated once: sb_spec_compile returns a spec the caller owns and
 * releases with sb_spec_free (NULL-safe). Everything reachable from it (names,
 * compiled templates, values) belongs to the spec and is read-only after
 * compilation; the trees passed in are borrowed (the spec keeps references to
 * what it needs). */
#ifndef SB_SPEC_H
#define SB_SPEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../cel/sb_template.h"
#include "../sched/sb_backoff.h"
#include "../util/sb_diag.h"
#include "../earlystop/sb_earlystop.h"
#include "../value/sb_value.h"

typedef enum sb_spec_kind {
    SB_SPEC_CALL,
    SB_SPEC_POLL,
    SB_SPEC_AGGREGATE,
    SB_SPEC_SELECT,
    SB_SPEC_COMPUTE,
    SB_SPEC_ASSERT,
    SB_SPEC_RETRY,
    SB_SPEC_SUGGEST
} sb_spec_kind;

typedef enum sb_spec_event { SB_SPEC_JOB_FAILED, SB_SPEC_JOB_COMPLETED, SB_SPEC_JOB_FINISHED } sb_spec_event;

#define SB_SPEC_NONE ((size_t)-1) /* no step (on_step of a step without on:) */

typedef struct sb_spec_polling {
    sb_backoff backoff;
    int max_attempts;   /* polls in a row without progress before a stall */
    int64_t timeout_ms; /* the whole poll step; 0: none */
} sb_spec_polling;

typedef struct sb_spec_assertion {
    sb_tmpl *that;    /* must give a bool */
    sb_tmpl *message; /* NULL: none */
    sb_val that_src;  /* as written, for messages (its position too) */
} sb_spec_assertion;

typedef struct sb_spec_step {
    char *name;
    sb_spec_kind kind;
    int number;        /* "Step i/N": run order; an event-triggered step right after its poll step */
    size_t *needs;     /* indices into sb_spec.steps */
    size_t nneeds;
    size_t on_step;    /* on: the poll step (SB_SPEC_NONE without on:) */
    sb_spec_event on_event;
    sb_tmpl *when;     /* NULL: always */
    sb_val when_src;   /* as written (null without when:) */
    sb_tmpl *log;      /* NULL: no log line */
    sb_tmpl *body;     /* call and suggest: with; poll: the handle; compute: the values */
    /* call and suggest (its call) */
    char *server, *tool;
    sb_tmpl *handle_id, *handle_jobs; /* both NULL without handle: */
    char *handle_server;              /* NULL: the called server */
    bool progress;                    /* ask for notifications/progress */
    int64_t task_ttl_ms;              /* > 0: a task-augmented call */
    int call_attempts;                /* attempts for a call without a usable answer; 1: no repeat */
    bool call_retry_given;            /* call_retry: written (else only keyed submissions repeat) */
    sb_backoff call_backoff;
    /* poll */
    char *status_tool;                /* NULL: the handle's */
    sb_spec_polling polling;
    bool stream;
    bool stream_progress;             /* a job_progress chunk per reported epoch */
    /* early_stopping (docs/early-stopping.md): NULL estop_metric without one */
    char *estop_metric;
    sb_estop_rule estop;
    sb_tmpl *estop_enabled;           /* bool or {{ expr }}, evaluated when the step starts */
    /* aggregate (from, metric, direction, top_k) and select (from, index) */
    sb_tmpl *from, *metric, *direction, *top_k, *index;
    /* assert */
    sb_spec_assertion *asserts;
    size_t nasserts;
    /* retry */
    sb_tmpl *retry_when;
    sb_tmpl *modify;   /* NULL: the same hyperparameters */
    int max_attempts;
    sb_backoff retry_backoff;
} sb_spec_step;

typedef struct sb_spec_input {
    char *name;
    sb_val decl;       /* the declaration (type, enum, minimum, maximum), for sb_config_check_input */
    bool has_default;
    sb_val dflt;
} sb_spec_input;

typedef struct sb_spec_output {
    char *name;
    sb_tmpl *value;
} sb_spec_output;

typedef struct sb_spec {
    /* workspace */
    sb_val workspace;          /* the tree, as expressions see it (`workspace`) */
    sb_cel_options cel;
    char *stream_file;         /* NULL: streaming disabled */
    char *result_file;
    sb_spec_polling polling;   /* the workspace's, over the table's defaults */
    char **transient_patterns, **permanent_patterns;
    size_t ntransient, npermanent;
    bool default_transient;    /* errors.default */
    /* the pipeline */
    char *pipeline;
    sb_tmpl *budget;           /* NULL: no budget */
    sb_val budget_src;         /* as written (null without budget_usd) */
    sb_spec_input *inputs;
    size_t ninputs;
    sb_spec_step *steps;       /* in declaration order */
    size_t nsteps;
    sb_val step_index;         /* step name -> index in steps */
    sb_spec_output *outputs;   /* in declaration order */
    size_t noutputs;
} sb_spec;

/* Compiles `pipeline` of the pipelines tree with the workspace tree (null:
 * none). The trees must have passed sb_config_check_* (sb_run_new checks).
 * On a problem (unknown pipeline, a bad expression) returns NULL and adds
 * positioned diagnostics to d. */
sb_spec *sb_spec_compile(sb_val workspace, sb_val pipelines, const char *pipeline, const char *workspace_file,
                         const char *pipelines_file, sb_diags *d);
void sb_spec_free(sb_spec *s);

/* The workspace's polling (a validated tree, or null) over the table's
 * defaults: what a poll step without polling: of its own uses, and what
 * `sibyl handle watch` polls with. */
sb_spec_polling sb_spec_workspace_polling(sb_val workspace);

/* The index of step `name`, or SB_SPEC_NONE. */
size_t sb_spec_step_index(const sb_spec *s, const char *name);

#endif
