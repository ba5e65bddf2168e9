/* workspace.yaml: servers, polling defaults, streaming, cost model, error
 * classification, outputs. Reference: docs/workspace-format.md. */
#include "sb_schema_common.h"

static const sb_schema version = {.kind = SB_SK_INT, .title = "version", .has_min = true, .min = 1,
                                  .has_max = true, .max = 1, .doc = "Format version; 1."};
static const sb_schema name = {.kind = SB_SK_STRING, .title = "name", .flags = SB_SF_IDENT};

static const char *const transports[] = {"embedded", "http", NULL};
static const sb_schema transport = {.kind = SB_SK_STRING, .title = "transport", .enums = transports};
static const char *const services[] = {"solver", "conductor_sim", NULL};
static const sb_schema service = {.kind = SB_SK_STRING, .title = "embedded service", .enums = services};
static const sb_schema url = {.kind = SB_SK_STRING, .title = "URL", .flags = SB_SF_NONEMPTY};
static const sb_schema timeout = {.kind = SB_SK_INT, .title = "milliseconds", .has_min = true, .min = 1};
static const sb_schema token_env = {.kind = SB_SK_STRING, .title = "environment variable name",
                                    .flags = SB_SF_IDENT};
static const sb_schema headers = {.kind = SB_SK_DICT, .title = "HTTP headers", .item = &sb_schema__string};

static const sb_schema_field server_fields[] = {
    SB_FIELD("description", &sb_schema__string, false, NULL),
    SB_FIELD("transport", &transport, true, "embedded (in-process) or http (MCP Streamable HTTP)."),
    SB_FIELD("service", &service, false, "Which embedded service answers (transport: embedded)."),
    SB_FIELD("url", &url, false, "MCP endpoint, e.g. http://127.0.0.1:8702/mcp (transport: http)."),
    SB_FIELD_D("timeout_ms", &timeout, "Per-request timeout (default 30000).", "30000"),
    SB_FIELD("headers", &headers, false, "Extra HTTP headers (transport: http)."),
    SB_FIELD("bearer_token_env", &token_env, false,
             "Environment variable holding a token sent as Authorization: Bearer (transport: http)."),
    SB_FIELDS_END,
};
static const sb_schema server = {.kind = SB_SK_OBJECT, .title = "server", .fields = server_fields};
static const sb_schema servers = {.kind = SB_SK_DICT, .title = "servers", .item = &server,
                                  .flags = SB_SF_IDENT | SB_SF_NONEMPTY,
                                  .doc = "Server name -> how to reach it. Steps call `name.tool`."};

static const sb_schema_field streaming_fields[] = {
    SB_FIELD_D("enabled", &sb_schema__bool, "Write one JSON line per finished job (default true).", "true"),
    SB_FIELD_D("file", &sb_schema__nonempty_string, "Stream file (default sweep_output_stream.jsonl).",
               "\"sweep_output_stream.jsonl\""),
    SB_FIELDS_END,
};
static const sb_schema streaming = {.kind = SB_SK_OBJECT, .title = "streaming settings", .fields = streaming_fields};

static const sb_schema patterns = {.kind = SB_SK_LIST, .title = "patterns", .item = &sb_schema__nonempty_string};
static const char *const error_types[] = {"transient", "permanent", NULL};
static const sb_schema error_type = {.kind = SB_SK_STRING, .title = "error type", .enums = error_types};
static const sb_schema_field errors_fields[] = {
    SB_FIELD_D("transient_patterns", &patterns,
               "Regular expressions (CEL matches() syntax) on the error message that make it transient "
               "(default: NaN loss, CUDA out of memory, connection reset or timeout).",
               "[\"(?i)nan loss\", \"(?i)cuda out of memory\", \"(?i)connection (reset|timed out|timeout)\"]"),
    SB_FIELD_D("permanent_patterns", &patterns, "Checked first: a match is permanent (default none).", "[]"),
    SB_FIELD_D("default", &error_type, "Type of an error that matches no pattern (default permanent).",
               "\"permanent\""),
    SB_FIELDS_END,
};
static const sb_schema errors = {.kind = SB_SK_OBJECT, .title = "error classification", .fields = errors_fields};

static const sb_schema_field expr_fields[] = {
    SB_FIELD_D("mixed_numeric", &sb_schema__bool,
               "Let int and double mix in arithmetic and comparisons, giving a double (default false).", "false"),
    SB_FIELDS_END,
};
static const sb_schema expressions = {.kind = SB_SK_OBJECT, .title = "expression settings", .fields = expr_fields};

static const sb_schema seed = {.kind = SB_SK_INT, .title = "seed", .has_min = true, .min = 0};
static const sb_schema rate = {.kind = SB_SK_NUMBER, .title = "rate", .has_min = true, .min = 0, .has_max = true,
                               .max = 1};
static const sb_schema positive = {.kind = SB_SK_NUMBER, .title = "number > 0", .has_min = true, .min = 1e-12};
static const sb_schema dropout = {.kind = SB_SK_NUMBER, .title = "dropout", .has_min = true, .min = 0,
                                  .has_max = true, .max = 0.999999};
static const sb_schema any_number = {.kind = SB_SK_NUMBER, .title = "number"};
static const sb_schema non_negative = {.kind = SB_SK_NUMBER, .title = "number >= 0", .has_min = true, .min = 0};
static const sb_schema jitter = {.kind = SB_SK_NUMBER, .title = "share", .has_min = true, .min = 0, .has_max = true,
                                 .max = 0.99};
static const sb_schema epochs = {.kind = SB_SK_INT, .title = "epochs", .has_min = true, .min = 0, .has_max = true,
                                 .max = 1000000};
static const sb_schema_field optimum_fields[] = {
    SB_FIELD("learning_rate", &positive, false, "Best learning rate (default 0.001)."),
    SB_FIELD("batch_size", &positive, false, "Best batch size (default 64)."),
    SB_FIELD("dropout", &dropout, false, "Best dropout (default 0.3)."),
    SB_FIELDS_END,
};
static const sb_schema optimum = {.kind = SB_SK_OBJECT, .title = "optimum", .fields = optimum_fields};
static const sb_schema_field surface_fields[] = {
    SB_FIELD("optimum", &optimum, false, "Where val_acc peaks."),
    SB_FIELD("best_value", &any_number, false, "val_acc at the optimum, before noise (default 86)."),
    SB_FIELD("noise", &non_negative, false, "Half-width of the triangular noise on val_acc (default 0.3)."),
    SB_FIELDS_END,
};
static const sb_schema surface = {.kind = SB_SK_OBJECT, .title = "response surface", .fields = surface_fields};
static const sb_schema_field nan_fields[] = {
    SB_FIELD("learning_rate", &positive, false, "Learning rate from which every job diverges (default 0.1)."),
    SB_FIELD("large_batch_learning_rate", &positive, false,
             "Learning rate from which jobs with a large batch diverge (default 0.01)."),
    SB_FIELD("large_batch_size", &positive, false, "Batch size counted as large (default 128)."),
    SB_FIELDS_END,
};
static const sb_schema nan_loss = {.kind = SB_SK_OBJECT, .title = "NaN-loss rule", .fields = nan_fields};
static const sb_schema_field sim_fields[] = {
    SB_FIELD("seed", &seed, false, "Seed of the simulated cluster and of jitter (default 42; --seed overrides)."),
    SB_FIELD("max_concurrent", &sb_schema__positive_int, false, "Jobs the simulated cluster runs at once (default 5)."),
    SB_FIELD("infra_failure_rate", &rate, false,
             "Share of jobs hit by a transient infrastructure error (default 0.03)."),
    SB_FIELD("surface", &surface, false, "The response surface val_acc comes from."),
    SB_FIELD("nan_loss", &nan_loss, false, "Which learning rates make training diverge (NaN loss)."),
    SB_FIELD("duration_jitter", &jitter, false, "Durations vary by up to this share either way (default 0.1)."),
    SB_FIELD("epochs", &epochs, false,
             "Learning curves: jobs report progress over this many epochs (default 0: none)."),
    SB_FIELDS_END,
};
static const sb_schema simulation = {.kind = SB_SK_OBJECT, .title = "simulation settings", .fields = sim_fields};

/* backends: where the reference Conductor runs jobs other than simulated
 * ones (docs/backends.md). Only `sibyl-conductor --backend NAME` reads its
 * entry; sibyl itself validates it and goes on. */
static const sb_schema argv_list = {.kind = SB_SK_LIST, .title = "argument list", .item = &sb_schema__string,
                                    .flags = SB_SF_NONEMPTY};
static const sb_schema env_map = {.kind = SB_SK_DICT, .title = "environment", .item = &sb_schema__string};
static const sb_schema grace = {.kind = SB_SK_NUMBER, .title = "seconds", .has_min = true, .min = 0,
                                .has_max = true, .max = 3600};
/* Descriptions kept short: they are bytes of sibyl.wasm; docs/backends.md
 * says the rest. */
static const sb_schema_field local_fields[] = {
    SB_FIELD("command", &argv_list, true, "The trial's argv (templates; no shell)."),
    SB_FIELD("max_concurrent", &sb_schema__positive_int, false, "Trials at once (default 5)."),
    SB_FIELD("work_dir", &sb_schema__nonempty_string, false, "Folder for the jobs' folders."),
    SB_FIELD("env", &env_map, false, "Environment for each trial."),
    SB_FIELD_D("metrics_file", &sb_schema__nonempty_string, "A trial's metrics file.", "\"metrics.json\""),
    SB_FIELD_D("kill_grace_s", &grace, "SIGTERM to SIGKILL, seconds.", "5"),
    SB_FIELDS_END,
};
static const sb_schema local_backend = {.kind = SB_SK_OBJECT, .title = "local backend", .fields = local_fields};
/* backends.slurm: described in docs/slurm.md (descriptions here cost sibyl.wasm bytes) */
static const sb_schema_field slurm_fields[] = {
    SB_FIELD("command", &argv_list, true, "The job's argv, as local's."),
    SB_FIELD("partition", &sb_schema__nonempty_string, false, NULL),
    SB_FIELD("account", &sb_schema__nonempty_string, false, NULL),
    SB_FIELD("time_limit", &sb_schema__positive_int, false, NULL),
    SB_FIELD("cpus_per_task", &sb_schema__positive_int, false, NULL),
    SB_FIELD("mem", &sb_schema__nonempty_string, false, NULL),
    SB_FIELD("gres", &sb_schema__nonempty_string, false, NULL),
    SB_FIELD("max_concurrent", &sb_schema__positive_int, false, NULL),
    SB_FIELD("extra_args", &argv_list, false, NULL),
    SB_FIELD("work_dir", &sb_schema__nonempty_string, false, NULL),
    SB_FIELDS_END,
};
static const sb_schema slurm = {.kind = SB_SK_OBJECT, .title = "slurm backend", .fields = slurm_fields};
static const sb_schema_field backends_fields[] = {
    SB_FIELD("local", &local_backend, false, "sibyl-conductor --backend local."),
    SB_FIELD("slurm", &slurm, false, "sibyl-conductor --backend slurm (docs/slurm.md)."),
    SB_FIELDS_END,
};
static const sb_schema backends = {.kind = SB_SK_OBJECT, .title = "backends", .fields = backends_fields};

static const sb_schema_field outputs_fields[] = {
    SB_FIELD("dir", &sb_schema__nonempty_string, false,
             "Folder for output files, relative to the workspace file's folder (default: the current folder; "
             "--output-dir overrides)."),
    SB_FIELD_D("result_file", &sb_schema__nonempty_string, "Final result (default sweep_output.json).",
               "\"sweep_output.json\""),
    SB_FIELDS_END,
};
static const sb_schema outputs = {.kind = SB_SK_OBJECT, .title = "output settings", .fields = outputs_fields};

static const sb_schema_field workspace_fields[] = {
    SB_FIELD("version", &version, true, "Format version (1)."),
    SB_FIELD("name", &name, false, "Workspace name."),
    SB_FIELD("description", &sb_schema__string, false, NULL),
    SB_FIELD("servers", &servers, true, "The MCP servers steps can call."),
    SB_FIELD("polling", &sb_schema__polling, false, "Default backoff for poll steps."),
    SB_FIELD("streaming", &streaming, false, "Per-job result stream."),
    SB_FIELD("cost_model", &sb_schema__cost_model, false, "Trial cost estimates."),
    SB_FIELD("errors", &errors, false, "How failures are classified when the server does not say."),
    SB_FIELD("expressions", &expressions, false, "Expression language options."),
    SB_FIELD("simulation", &simulation, false, "The embedded simulated Conductor."),
    SB_FIELD("backends", &backends, false, "Where sibyl-conductor runs trials."),
    SB_FIELD("outputs", &outputs, false, "Where results go."),
    SB_FIELDS_END,
};

const sb_schema sb_schema_workspace = {.kind = SB_SK_OBJECT, .title = "workspace", .fields = workspace_fields,
                                       .doc = "A sibyl workspace: servers, polling, streaming, costs, errors."};
