/* pipelines.yaml: named pipelines of steps. Reference: docs/pipeline-format.md.
 * Cross-references (needs, on, server names, cycles) are checked in
 * sb_config.c, after the shape is known to be right. */
#include "sb_schema_common.h"

static const sb_schema version = {.kind = SB_SK_INT, .title = "version", .has_min = true, .min = 1,
                                  .has_max = true, .max = 1, .doc = "Format version; 1."};
static const sb_schema ident = {.kind = SB_SK_STRING, .title = "name", .flags = SB_SF_IDENT};

/* --- inputs --- */
static const char *const input_types[] = {"string", "integer", "number", "boolean", "list", "map", "handle", "any", NULL};
static const sb_schema input_type = {.kind = SB_SK_STRING, .title = "input type", .enums = input_types};
static const sb_schema any_list = {.kind = SB_SK_LIST, .title = "list", .item = &sb_schema__any};
static const sb_schema number = {.kind = SB_SK_NUMBER, .title = "number"};
static const sb_schema_field input_fields[] = {
    SB_FIELD("type", &input_type, true, "string | integer | number | boolean | list | map | handle | any (handle: SERVER:KIND:ID or an ExternalHandle object)."),
    SB_FIELD("default", &sb_schema__any, false,
             "Value when the run does not give one; without it the input is required."),
    SB_FIELD("description", &sb_schema__string, false, NULL),
    SB_FIELD("enum", &any_list, false, "Allowed values."),
    SB_FIELD("minimum", &number, false, "Smallest allowed number."),
    SB_FIELD("maximum", &number, false, "Largest allowed number."),
    SB_FIELDS_END,
};
static const sb_schema input = {.kind = SB_SK_OBJECT, .title = "input", .fields = input_fields};
static const sb_schema inputs = {.kind = SB_SK_DICT, .title = "inputs", .item = &input, .flags = SB_SF_IDENT};

/* --- step parts --- */
static const sb_schema tool_ref = {.kind = SB_SK_STRING, .title = "tool reference",
                                   .doc = "server.tool, e.g. conductor.submit_jobs"};
static const sb_schema needs = {.kind = SB_SK_LIST, .title = "needs", .item = &ident};
static const sb_schema args = {.kind = SB_SK_DICT, .title = "tool arguments", .item = &sb_schema__expr_any};
static const sb_schema expr = {.kind = SB_SK_STRING, .title = "expression", .flags = SB_SF_EXPR | SB_SF_NONEMPTY};

static const sb_schema_field handle_fields[] = {
    SB_FIELD("id", &sb_schema__expr_any, true, "The handle id, usually {{ result.handle_id }}."),
    SB_FIELD("jobs", &sb_schema__expr_any, true, "The job ids, usually {{ result.job_ids }}."),
    SB_FIELD("server", &ident, false, "Server that owns the handle (default: the called server)."),
    SB_FIELDS_END,
};
static const sb_schema handle = {.kind = SB_SK_OBJECT, .title = "handle", .fields = handle_fields,
                                 .doc = "Makes the call's result a pollable job handle."};

static const char *const directions[] = {"max", "min", NULL};
static const sb_schema direction = {.kind = SB_SK_STRING, .title = "direction", .enums = directions,
                                    .flags = SB_SF_EXPR};
static const sb_schema top_k = {.kind = SB_SK_INT, .title = "count", .has_min = true, .min = 1, .flags = SB_SF_EXPR};
static const sb_schema_field aggregate_fields[] = {
    SB_FIELD("from", &sb_schema__expr_any, true, "List of results to rank."),
    SB_FIELD("metric", &sb_schema__expr_any, true, "Dotted path of the metric in each result, e.g. metrics.val_acc."),
    SB_FIELD_D("direction", &direction, "max (default) or min.", "\"max\""),
    SB_FIELD_D("top_k", &top_k, "How many to keep in `top` (default 3).", "3"),
    SB_FIELDS_END,
};
static const sb_schema aggregate = {.kind = SB_SK_OBJECT, .title = "aggregate settings", .fields = aggregate_fields};

static const sb_schema index_ = {.kind = SB_SK_INT, .title = "index", .has_min = true, .min = 0, .flags = SB_SF_EXPR};
static const sb_schema_field select_fields[] = {
    SB_FIELD("from", &sb_schema__expr_any, true, "A list."),
    SB_FIELD_D("index", &index_, "Which item to take (default 0).", "0"),
    SB_FIELDS_END,
};
static const sb_schema select_ = {.kind = SB_SK_OBJECT, .title = "select settings", .fields = select_fields};

static const sb_schema compute = {.kind = SB_SK_DICT, .title = "computed values", .item = &sb_schema__expr_any,
                                  .flags = SB_SF_IDENT | SB_SF_NONEMPTY};

static const sb_schema_field assertion_fields[] = {
    SB_FIELD("that", &sb_schema__expr_bool, true, "Condition that must hold."),
    SB_FIELD("message", &sb_schema__string, false, "Said when it does not."),
    SB_FIELDS_END,
};
static const sb_schema assertion = {.kind = SB_SK_OBJECT, .title = "assertion", .fields = assertion_fields};
static const sb_schema asserts = {.kind = SB_SK_LIST, .title = "assertions", .item = &assertion,
                                  .flags = SB_SF_NONEMPTY};

static const sb_schema attempts = {.kind = SB_SK_INT, .title = "attempts", .has_min = true, .min = 1,
                                   .has_max = true, .max = 100};
static const sb_schema modify = {.kind = SB_SK_DICT,
                                 .title = "hyperparameter changes",
                                 .item = &sb_schema__expr_any,
                                 .doc = "Hyperparameter -> new value (expressions see `job`, `error`, `attempt`)."};
static const sb_schema_field retry_fields[] = {
    SB_FIELD_D("max_attempts", &attempts, "Retries per original job (default 1).", "1"),
    SB_FIELD_D("when", &sb_schema__expr_bool, "Retry only if true (default: error.type == 'transient').",
               "\"{{ error.type == 'transient' }}\""),
    SB_FIELD("backoff", &sb_schema__backoff, false, "Delay before each resubmission."),
    SB_FIELD("modify", &modify, false, "Hyperparameter patch for the retried job."),
    SB_FIELDS_END,
};
static const sb_schema retry = {.kind = SB_SK_OBJECT, .title = "retry settings", .fields = retry_fields};

static const sb_schema_field suggest_fields[] = {
    SB_FIELD("call", &tool_ref, true, "The Solver tool that suggests trials, server.tool (e.g. solver.suggest_trials)."),
    SB_FIELD("with", &args, false,
             "Its arguments (expressions see `job`, `jobs.trials`: every job of the handle so far, `jobs.status`)."),
    SB_FIELDS_END,
};
static const sb_schema suggest = {.kind = SB_SK_OBJECT, .title = "suggest settings", .fields = suggest_fields};

static const sb_schema event_ref = {.kind = SB_SK_STRING, .title = "event",
                                    .doc = "step.event: job_failed, job_completed or job_finished of a poll step"};
static const sb_schema timeout = {.kind = SB_SK_INT, .title = "milliseconds", .has_min = true, .min = 1};

static const sb_schema task_ttl = {.kind = SB_SK_INT, .title = "milliseconds", .has_min = true, .min = 1,
                                   .has_max = true, .max = 604800000};
static const sb_schema_field task_fields[] = {
    SB_FIELD("ttl_ms", &task_ttl, true, "How long the server keeps the task's result."),
    SB_FIELDS_END,
};
static const sb_schema task = {.kind = SB_SK_OBJECT, .title = "task settings", .fields = task_fields,
                               .doc = "Call the tool as an MCP task, polled until it ends."};

static const sb_schema call_delay = {.kind = SB_SK_INT, .title = "milliseconds", .has_min = true, .min = 0,
                                     .has_max = true, .max = 86400000};
static const sb_schema call_multiplier = {.kind = SB_SK_NUMBER, .title = "multiplier", .has_min = true, .min = 1,
                                          .has_max = true, .max = 100};
static const sb_schema_field call_backoff_fields[] = {
    SB_FIELD_D("initial_delay_ms", &call_delay, "Delay before the second attempt (default 1000).", "1000"),
    SB_FIELD_D("max_delay_ms", &call_delay, "Cap on the delay (default 30000).", "30000"),
    SB_FIELD_D("multiplier", &call_multiplier, "Growth of the delay per attempt (default 2).", "2.0"),
    SB_FIELDS_END,
};
static const sb_schema call_backoff = {.kind = SB_SK_OBJECT, .title = "backoff settings",
                                       .fields = call_backoff_fields};
static const sb_schema call_attempts = {.kind = SB_SK_INT, .title = "attempts", .has_min = true, .min = 1,
                                        .has_max = true, .max = 20};
static const sb_schema_field call_retry_fields[] = {
    SB_FIELD_D("max_attempts", &call_attempts, "Attempts in all, the first included (1 .. 20; default 3).", "3"),
    SB_FIELD("backoff", &call_backoff, false, "Delay between attempts."),
    SB_FIELDS_END,
};
static const sb_schema call_retry = {
    .kind = SB_SK_OBJECT, .title = "call retry settings", .fields = call_retry_fields,
    .doc = "Repeat a call that got no usable answer (a keyed submission is, by default)."};

/* early_stopping (poll steps; docs/early-stopping.md). Typed once here and
 * compiled into sb_estop_rule by core/spec; only `enabled` is an expression
 * (so an input can turn it on). */
static const char *const es_rules[] = {"asha", "median", NULL};
static const sb_schema es_rule = {.kind = SB_SK_STRING, .title = "stopping rule", .enums = es_rules};
static const sb_schema es_mode = {.kind = SB_SK_STRING, .title = "mode", .enums = directions};
static const sb_schema es_step = {.kind = SB_SK_INT, .title = "step", .has_min = true, .min = 1, .has_max = true,
                                  .max = 1e12};
static const sb_schema es_rungs = {.kind = SB_SK_LIST, .title = "rungs", .item = &es_step, .flags = SB_SF_NONEMPTY};
static const sb_schema es_factor = {.kind = SB_SK_NUMBER, .title = "reduction factor", .has_min = true,
                                    .min = 1.01, .has_max = true, .max = 1000};
static const sb_schema es_grace = {.kind = SB_SK_INT, .title = "count", .has_min = true, .min = 0, .has_max = true,
                                   .max = 1000000};
static const sb_schema_field es_fields[] = {
    SB_FIELD("rule", &es_rule, true, "asha (successive halving) or median."),
    SB_FIELD("metric", &sb_schema__string, true, "The metric judged, a key of the jobs' progress metrics, e.g. val_acc."),
    SB_FIELD_D("mode", &es_mode, "max (default): larger is better; min: smaller is.", "\"max\""),
    SB_FIELD("rungs", &es_rungs, false, "Steps (epochs) at which jobs are judged, ascending (default: from min_steps)."),
    SB_FIELD_D("min_steps", &es_step, "The first rung when rungs is absent (default 1).", "1"),
    SB_FIELD_D("reduction_factor", &es_factor, "asha keeps the best 1/reduction_factor at each rung (default 3).", "3"),
    SB_FIELD_D("grace", &es_grace, "Values a rung needs before anyone is stopped there (default 3).", "3"),
    SB_FIELD_D("enabled", &sb_schema__expr_bool, "Whether the rule runs (default true); may be {{ expr }}.", "true"),
    SB_FIELDS_END,
};
static const sb_schema early_stopping = {
    .kind = SB_SK_OBJECT, .title = "early stopping settings", .fields = es_fields,
    .doc = "Stop running jobs that fall below the rule's bar at a rung (docs/early-stopping.md)."};

static const char *const step_kinds[] = {"call",   "poll",  "aggregate", "select", "compute",
                                         "assert", "retry", "suggest",   NULL};
static const sb_schema_field step_fields[] = {
    SB_FIELD("description", &sb_schema__string, false, NULL),
    SB_FIELD("needs", &needs, false, "Steps that must finish first."),
    SB_FIELD("when", &sb_schema__expr_bool, false, "Run only if true; otherwise the step is skipped."),
    SB_FIELD("on", &event_ref, false, "Run each time this event fires, while its poll step goes on."),
    SB_FIELD("timeout_ms", &timeout, false, "Limit for the step (poll steps: the whole polling)."),
    SB_FIELD("log", &sb_schema__string, false,
             "A line logged when the step succeeds; a template that sees `output` besides the usual variables."),
    SB_FIELD("call", &tool_ref, false, "Kind call: an MCP tool, server.tool."),
    SB_FIELD("with", &args, false, "Arguments of the call."),
    SB_FIELD("handle", &handle, false, "Turn the call's result into a pollable job handle."),
    SB_FIELD_D("progress", &sb_schema__bool, "Ask the server for progress notifications (default false).", "false"),
    SB_FIELD("task", &task, false, "Make the call a task-augmented MCP call (kind call)."),
    SB_FIELD("call_retry", &call_retry, false, "Repeat a call that got no usable answer (kind call)."),
    SB_FIELD("poll", &expr, false, "Kind poll: the job handle to poll until every job finished."),
    SB_FIELD("status_tool", &tool_ref, false, "Status tool (default: the handle server's get_jobs_status)."),
    SB_FIELD_D("stream", &sb_schema__bool, "Stream one JSON chunk per finished job (default true).", "true"),
    SB_FIELD("polling", &sb_schema__polling, false, "Backoff for this poll step (default: the workspace's)."),
    SB_FIELD("early_stopping", &early_stopping, false, "Kind poll: stop jobs below a stopping rule's bar."),
    SB_FIELD_D("stream_progress", &sb_schema__bool,
               "Kind poll: stream a job_progress chunk per reported epoch (default false).", "false"),
    SB_FIELD("aggregate", &aggregate, false, "Kind aggregate: rank results by a metric."),
    SB_FIELD("select", &select_, false, "Kind select: pick one item of a list."),
    SB_FIELD("compute", &compute, false, "Kind compute: named values from expressions."),
    SB_FIELD("assert", &asserts, false, "Kind assert: conditions that must hold, or the run fails."),
    SB_FIELD("retry", &retry, false, "Kind retry (with on: X.job_failed): resubmit a failed job."),
    SB_FIELD("suggest", &suggest, false,
             "Kind suggest (with on: X.job_completed or job_finished): ask a Solver for more trials and submit "
             "them to the poll step's handle."),
    SB_FIELDS_END,
};
static const sb_schema step = {.kind = SB_SK_OBJECT, .title = "step", .fields = step_fields,
                               .exactly_one = step_kinds};
static const sb_schema steps = {.kind = SB_SK_DICT, .title = "steps", .item = &step,
                                .flags = SB_SF_IDENT | SB_SF_NONEMPTY};
static const sb_schema outputs = {
    .kind = SB_SK_DICT, .title = "outputs", .item = &sb_schema__expr_any, .flags = SB_SF_IDENT};

static const sb_schema budget = {.kind = SB_SK_NUMBER, .title = "budget", .has_min = true, .min = 0,
                                 .flags = SB_SF_EXPR};
static const sb_schema_field pipeline_fields[] = {
    SB_FIELD("description", &sb_schema__string, false, NULL),
    SB_FIELD("budget_usd", &budget, false,
             "Spending cap the budget guard enforces on job submissions and retries (default: none)."),
    SB_FIELD("inputs", &inputs, false, "Typed inputs, given with --input k=v or --input-file."),
    SB_FIELD("steps", &steps, true, "Named steps; order comes from needs."),
    SB_FIELD("outputs", &outputs, false, "Values evaluated when the run ends."),
    SB_FIELDS_END,
};
static const sb_schema pipeline = {.kind = SB_SK_OBJECT, .title = "pipeline", .fields = pipeline_fields};
static const sb_schema pipelines = {.kind = SB_SK_DICT, .title = "pipelines", .item = &pipeline,
                                    .flags = SB_SF_IDENT | SB_SF_NONEMPTY};

static const sb_schema_field file_fields[] = {
    SB_FIELD("version", &version, true, "Format version (1)."),
    SB_FIELD("pipelines", &pipelines, true, "Pipeline name -> pipeline."),
    SB_FIELDS_END,
};
const sb_schema sb_schema_pipelines = {.kind = SB_SK_OBJECT, .title = "pipelines file", .fields = file_fields,
                                       .doc = "sibyl pipelines: steps, their dependencies, conditions, retries."};
