#include "sb_schema_common.h"

const sb_schema sb_schema__any = {.kind = SB_SK_ANY, .title = "value"};
const sb_schema sb_schema__string = {.kind = SB_SK_STRING, .title = "string"};
const sb_schema sb_schema__nonempty_string = {.kind = SB_SK_STRING, .title = "string", .flags = SB_SF_NONEMPTY};
const sb_schema sb_schema__bool = {.kind = SB_SK_BOOL, .title = "boolean"};
const sb_schema sb_schema__expr_bool = {.kind = SB_SK_BOOL, .title = "condition", .flags = SB_SF_EXPR,
                                        .doc = "true, false, or a {{ CEL expression }} that must yield a bool"};
const sb_schema sb_schema__expr_any = {.kind = SB_SK_ANY, .title = "value", .flags = SB_SF_EXPR};
const sb_schema sb_schema__positive_int = {.kind = SB_SK_INT, .title = "integer", .has_min = true, .min = 1};
const sb_schema sb_schema__nonneg_number = {.kind = SB_SK_NUMBER, .title = "number", .has_min = true, .min = 0};

static const sb_schema delay_ms = {.kind = SB_SK_INT, .title = "milliseconds", .has_min = true, .min = 0,
                                   .has_max = true, .max = 86400000};
static const sb_schema multiplier = {.kind = SB_SK_NUMBER, .title = "multiplier", .has_min = true, .min = 1,
                                     .has_max = true, .max = 100};
static const char *const jitter_modes[] = {"none", "full", "equal", NULL};
static const sb_schema jitter = {.kind = SB_SK_STRING, .title = "jitter", .enums = jitter_modes,
                                 .doc = "none: exact delays; full: uniform in [0, delay]; equal: delay/2 + "
                                        "uniform in [0, delay/2]. Drawn from the run's seed."};
static const sb_schema attempts = {.kind = SB_SK_INT, .title = "attempts", .has_min = true, .min = 1,
                                   .has_max = true, .max = 1000000};
static const sb_schema timeout_ms = {.kind = SB_SK_INT, .title = "milliseconds", .has_min = true, .min = 1};

static const sb_schema_field polling_fields[] = {
    SB_FIELD_D("initial_delay_ms", &delay_ms, "Delay before the first poll (default 2000).", "2000"),
    SB_FIELD_D("max_delay_ms", &delay_ms, "Cap on the delay between polls (default 10000).", "10000"),
    SB_FIELD_D("multiplier", &multiplier, "Growth of the delay per poll: initial * multiplier^n (default 1.5).", "1.5"),
    SB_FIELD_D("jitter", &jitter, "none | full | equal (default none).", "\"none\""),
    SB_FIELD_D("max_attempts", &attempts,
               "Polls in a row without progress (no job changed state) before the handle counts as stalled "
               "(default 50). A poll that sees progress resets the count, so a healthy long sweep never hits it.",
               "50"),
    SB_FIELD("timeout_ms", &timeout_ms, false, "Overall limit for the poll step (default: none)."),
    SB_FIELDS_END,
};
const sb_schema sb_schema__polling = {.kind = SB_SK_OBJECT, .title = "polling settings", .fields = polling_fields,
                                      .doc = "Exponential backoff between polls of a job handle."};

static const sb_schema_field backoff_fields[] = {
    SB_FIELD_D("initial_delay_ms", &delay_ms, "Delay before the first retry (default 0).", "0"),
    SB_FIELD_D("max_delay_ms", &delay_ms, "Cap on the delay (default 60000).", "60000"),
    SB_FIELD_D("multiplier", &multiplier, "Growth of the delay per attempt (default 2).", "2.0"),
    SB_FIELD_D("jitter", &jitter, "none | full | equal (default none).", "\"none\""),
    SB_FIELDS_END,
};
const sb_schema sb_schema__backoff = {.kind = SB_SK_OBJECT, .title = "backoff settings", .fields = backoff_fields};

static const sb_schema scale_levels = {.kind = SB_SK_DICT, .title = "level multipliers",
                                       .item = &sb_schema__nonneg_number,
                                       .doc = "Level (as written, e.g. \"32\") -> duration multiplier."};
static const sb_schema duration_scale = {.kind = SB_SK_DICT, .title = "duration scale", .item = &scale_levels,
                                         .doc = "Parameter -> level -> multiplier on base_hours."};
static const sb_schema fraction = {.kind = SB_SK_NUMBER, .title = "fraction", .has_min = true, .min = 0,
                                   .has_max = true, .max = 0.9};
static const sb_schema cap_margin = {.kind = SB_SK_NUMBER, .title = "margin", .has_min = true, .min = 0,
                                     .has_max = true, .max = 10};
static const char *const currencies[] = {"USD", NULL};
static const sb_schema currency = {.kind = SB_SK_STRING, .title = "currency", .enums = currencies};
static const sb_schema positive_number = {.kind = SB_SK_NUMBER, .title = "number", .flags = SB_SF_POSITIVE};

static const sb_schema_field cost_fields[] = {
    SB_FIELD("currency", &currency, false, "Only USD for now."),
    SB_FIELD("gpu_hour_usd", &positive_number, true, "Price of one GPU-hour."),
    SB_FIELD("gpus_per_trial", &positive_number, false, "GPUs one trial uses (default 1)."),
    SB_FIELD("base_hours", &positive_number, true, "Duration of a trial at reference levels."),
    SB_FIELD("duration_scale", &duration_scale, false, "Per-parameter duration multipliers."),
    SB_FIELD("retry_reserve_fraction", &fraction, false,
             "Share of the budget the Solver leaves unplanned, for retries (default 0.1)."),
    SB_FIELD_D("cap_margin_fraction", &cap_margin, "A job's cost cap is its estimate times 1 + this (default 0.10): "
               "the Conductor stops a job that reaches its cap (docs/budget.md).", "0.10"),
    SB_FIELDS_END,
};
const sb_schema sb_schema__cost_model = {.kind = SB_SK_OBJECT, .title = "cost model", .fields = cost_fields,
                                         .doc = "How trial cost and duration are estimated."};
