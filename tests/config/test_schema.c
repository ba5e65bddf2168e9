/* Config behaviour the golden cases do not show: step order, the JSON Schema
 * documents, input checks, the loader's limits (depth, nodes, bytes), and
 * that the shipped example is valid. */
#include "config/sb_config.h"
#include "config/sb_schema.h"
#include "config/sb_yaml.h"
#include "json/sb_json.h"
#include "sb_test.h"
#include "sb_test_file.h"
#include "util/sb_alloc.h"

static char *read_file(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SIBYL_SOURCE_DIR, rel);
    char *text = sb_test_read_file(path, len);
    if (!text) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    return text;
}

#define WS_PATH "examples/companies/vertex_foundry/config/workspace.yaml"
#define PL_PATH "examples/companies/vertex_foundry/config/pipelines.yaml"

/* The diagnostics, sorted, as the CLI prints them ("" when none). */
static char *diag_text(sb_diags *d)
{
    sb_buf b = SB_BUF_INIT;
    sb_diags_sort(d);
    sb_diags_write(d, &b);
    return sb_buf_take(&b);
}

static void load_examples(sb_val *ws, sb_val *pl)
{
    size_t wl, pn;
    char *wt = read_file(WS_PATH, &wl), *pt = read_file(PL_PATH, &pn);
    sb_diags *d = sb_diags_new();
    CHECK(sb_config_workspace(WS_PATH, wt, wl, d, ws));
    CHECK(sb_config_pipelines(PL_PATH, pt, pn, *ws, d, pl));
    char *msgs = diag_text(d);
    CHECK_STR(msgs, "");
    sb_free(msgs);
    sb_diags_free(d);
    sb_free(wt);
    sb_free(pt);
}

static char *order_of(sb_val pipeline)
{
    sb_val order = sb_config_step_order(pipeline);
    char *s = order.kind == SB_ERROR ? sb_strdup(sb_str(order)) : sb_val_to_json(order, 0);
    sb_val_free(order);
    return s;
}

static void test_example_is_valid_and_ordered(void)
{
    sb_val ws, pl;
    load_examples(&ws, &pl);
    CHECK_INT(sb_map_len(*sb_map_get_str(ws, "servers")), 2);
    const sb_val *sweep = sb_map_get_str(*sb_map_get_str(pl, "pipelines"), "hyperparameter_sweep");
    CHECK(sweep != NULL);
    char *o = order_of(*sweep);
    /* retry_failed_jobs has no needs: it is event-triggered and is placed where
     * it is declared; the engine starts it from monitor_jobs' events. */
    CHECK_STR(o, "[\"plan_search_grid\",\"validate_plan\",\"initial_trials\",\"submit_jobs\",\"monitor_jobs\","
                 "\"retry_failed_jobs\",\"suggest_trials\",\"aggregate_results\",\"select_best\",\"generate_report\","
                 "\"calculate_cost\"]");
    sb_free(o);
    sb_val_free(pl);
    sb_val_free(ws);
}

static sb_val load_ok(const char *text)
{
    sb_diags *d = sb_diags_new();
    sb_val v;
    bool ok = sb_yaml_load("t.yaml", text, strlen(text), d, &v);
    CHECK(ok);
    sb_diags_free(d);
    return v;
}

static void test_step_order_rules(void)
{
    /* Declared out of dependency order: a step is placed as soon as what it
     * needs is placed, scanning in declaration order. */
    sb_val p = load_ok("steps:\n"
                       "  report: {needs: [rank, cost]}\n"
                       "  cost: {needs: [poll]}\n"
                       "  plan: {}\n"
                       "  rank: {needs: [poll]}\n"
                       "  submit: {needs: [plan]}\n"
                       "  poll: {needs: [submit]}\n");
    char *o = order_of(p);
    CHECK_STR(o, "[\"plan\",\"submit\",\"poll\",\"cost\",\"rank\",\"report\"]");
    sb_free(o);
    sb_val_free(p);
    p = load_ok("steps:\n  b: {needs: [a]}\n  c: {needs: [b]}\n  a: {}\n");
    o = order_of(p);
    CHECK_STR(o, "[\"a\",\"b\",\"c\"]");
    sb_free(o);
    sb_val_free(p);
    p = load_ok("steps:\n  a: {needs: [c]}\n  b: {needs: [a]}\n  c: {needs: [b]}\n  d: {}\n");
    o = order_of(p);
    CHECK_STR(o, "dependency cycle");
    sb_free(o);
    sb_val_free(p);
    p = load_ok("steps: {}\n");
    o = order_of(p);
    CHECK_STR(o, "[]");
    sb_free(o);
    sb_val_free(p);
}

/* Walks map keys; "#N" takes list item N. */
static const sb_val *path(sb_val v, const char *const *keys)
{
    const sb_val *cur = &v;
    for (; *keys && cur; keys++)
        cur = (*keys)[0] == '#' ? sb_list_at(*cur, (size_t)atoi(*keys + 1)) : sb_map_get_str(*cur, *keys);
    return cur;
}

static char *json_at(sb_val v, const char *const *keys)
{
    const sb_val *p = path(v, keys);
    return p ? sb_val_to_json(*p, 0) : sb_strdup("(missing)");
}

#define CHECK_AT(root, want, ...)                                                                                 \
    do {                                                                                                          \
        static const char *const k_[] = {__VA_ARGS__, NULL};                                                     \
        char *j_ = json_at(root, k_);                                                                             \
        CHECK_STR(j_, want);                                                                                      \
        sb_free(j_);                                                                                              \
    } while (0)

static sb_val schema_json(const sb_schema *s, const char *id)
{
    sb_buf b = SB_BUF_INIT;
    sb_schema_write_json_schema(s, id, &b);
    CHECK(!sb_buf_failed(&b));
    sb_val v = sb_json_parse(b.data, b.len);
    if (v.kind == SB_ERROR)
        fprintf(stderr, "JSON Schema does not parse: %s\n", sb_str(v));
    CHECK(v.kind == SB_MAP);
    sb_buf_free(&b);
    sb_val root = sb_map_new(0);
    /* The document wraps the top schema in allOf[0]; expose it as "top". */
    const sb_val *all = sb_map_get_str(v, "allOf");
    CHECK(all && sb_list_len(*all) == 1);
    sb_map_set_str(&root, "doc", sb_val_ref(v));
    if (all && sb_list_len(*all) == 1)
        sb_map_set_str(&root, "top", sb_val_ref(*sb_list_at(*all, 0)));
    sb_val_free(v);
    return root;
}

static void test_json_schema_workspace(void)
{
    sb_val s = schema_json(&sb_schema_workspace, "urn:test:ws");
    CHECK_AT(s, "\"https://json-schema.org/draft/2020-12/schema\"", "doc", "$schema");
    CHECK_AT(s, "\"urn:test:ws\"", "doc", "$id");
    CHECK_AT(s, "\"string\"", "doc", "$defs", "expression", "type");
    CHECK_AT(s, "\"\\\\{\\\\{[\\\\s\\\\S]*\\\\}\\\\}\"", "doc", "$defs", "expression", "pattern");
    CHECK_AT(s, "\"object\"", "top", "type");
    CHECK_AT(s, "false", "top", "additionalProperties");
    CHECK_AT(s, "[\"version\",\"servers\"]", "top", "required");
    CHECK_AT(s, "1", "top", "properties", "version", "minimum");
    CHECK_AT(s, "1", "top", "properties", "version", "maximum");
    CHECK_AT(s, "1", "top", "properties", "servers", "minProperties");
    CHECK_AT(s, "\"^[A-Za-z_][A-Za-z0-9_]*$\"", "top", "properties", "servers", "propertyNames", "pattern");
    CHECK_AT(s, "[\"transport\"]", "top", "properties", "servers", "additionalProperties", "required");
    CHECK_AT(s, "\"Format version; 1.\"", "top", "properties", "version", "description");
    CHECK_AT(s, "[\"gpu_hour_usd\",\"base_hours\"]", "top", "properties", "cost_model", "required");
    /* A field's doc is used when its type has none (then the type is wrapped). */
    CHECK_AT(s, "\"How trial cost and duration are estimated.\"", "top", "properties", "cost_model", "description");
    CHECK_AT(s, "\"Per-job result stream.\"", "top", "properties", "streaming", "description");
    /* A field with a default carries it (and wraps its type). */
    CHECK_AT(s, "[\"none\",\"full\",\"equal\"]", "top", "properties", "polling", "properties", "jitter", "allOf", "#0",
             "enum");
    CHECK_AT(s, "\"none\"", "top", "properties", "polling", "properties", "jitter", "default");
    CHECK_AT(s, "2000", "top", "properties", "polling", "properties", "initial_delay_ms", "default");
    CHECK_AT(s, "50", "top", "properties", "polling", "properties", "max_attempts", "default");
    CHECK_AT(s, "\"sweep_output.json\"", "top", "properties", "outputs", "allOf", "#0", "properties", "result_file",
             "default");
    sb_val_free(s);
}

static void test_json_schema_pipelines(void)
{
    sb_val s = schema_json(&sb_schema_pipelines, "urn:test:pl");
    CHECK_AT(s, "[\"version\",\"pipelines\"]", "top", "required");
    const sb_val *pls = path(s, (const char *const[]){"top", "properties", "pipelines", "allOf", NULL});
    CHECK(pls && sb_list_len(*pls) == 1);
    if (!pls || sb_list_len(*pls) != 1) {
        sb_val_free(s);
        return;
    }
    sb_val pipeline = *sb_map_get_str(*sb_list_at(*pls, 0), "additionalProperties");
    CHECK_AT(pipeline, "[\"steps\"]", "required");
    const sb_val *steps_all = path(pipeline, (const char *const[]){"properties", "steps", "allOf", NULL});
    CHECK(steps_all && sb_list_len(*steps_all) == 1);
    sb_val steps = *sb_list_at(*steps_all, 0);
    CHECK_AT(steps, "1", "minProperties");
    sb_val step = *sb_map_get_str(steps, "additionalProperties");
    /* Exactly one kind per step. */
    CHECK_AT(step, "[{\"required\":[\"call\"]},{\"required\":[\"poll\"]},{\"required\":[\"aggregate\"]},"
                   "{\"required\":[\"select\"]},{\"required\":[\"compute\"]},{\"required\":[\"assert\"]},"
                   "{\"required\":[\"retry\"]},{\"required\":[\"suggest\"]}]",
             "oneOf");
    /* A field that takes an expression accepts either form. */
    const sb_val *when = path(step, (const char *const[]){"properties", "when", "anyOf", NULL});
    CHECK(when && sb_list_len(*when) == 2);
    if (when && sb_list_len(*when) == 2) {
        CHECK_AT(*sb_list_at(*when, 0), "\"#/$defs/expression\"", "$ref");
        CHECK_AT(*sb_list_at(*when, 1), "\"boolean\"", "type");
    }
    CHECK_AT(step, "100", "properties", "retry", "allOf", "#0", "properties", "max_attempts", "allOf", "#0",
             "maximum");
    CHECK_AT(step, "[\"max\",\"min\"]", "properties", "aggregate", "allOf", "#0", "properties", "direction",
             "allOf", "#0", "anyOf", "#1", "enum");
    sb_val_free(s);
}

static void test_check_input(void)
{
    static const struct {
        const char *decl, *value, *want; /* want NULL: accepted */
    } cases[] = {
        {"{type: number}", "500", NULL},
        {"{type: number}", "2.5", NULL},
        {"{type: number}", "'500'", "expected number, found string \"500\""},
        {"{type: integer}", "3", NULL},
        {"{type: integer}", "3.0", "expected integer, found number 3.0"},
        {"{type: string}", "yes", NULL},
        {"{type: string}", "12", "expected string, found integer 12"},
        {"{type: boolean}", "true", NULL},
        {"{type: boolean}", "no", "expected boolean, found string \"no\""},
        {"{type: list}", "[1, a]", NULL},
        {"{type: list}", "{a: 1}", "expected list, found a mapping"},
        {"{type: map}", "{a: 1}", NULL},
        {"{type: map}", "~", "expected map, found null"},
        {"{type: any}", "[{}]", NULL},
        {"{type: integer, minimum: 1, maximum: 64}", "1", NULL},
        {"{type: integer, minimum: 1, maximum: 64}", "64", NULL},
        {"{type: integer, minimum: 1, maximum: 64}", "0", "must be at least 1, found integer 0"},
        {"{type: integer, minimum: 1, maximum: 64}", "65", "must be at most 64, found integer 65"},
        {"{type: number, minimum: 0.5}", "0.25", "must be at least 0.5, found number 0.25"},
        {"{type: number, maximum: 1}", ".inf",
         "expected a finite number, found infinity (a number beyond +/-1.8e308, or .inf)"},
        {"{type: number, minimum: 1}", ".inf",
         "expected a finite number, found infinity (a number beyond +/-1.8e308, or .inf)"},
        {"{type: number}", ".nan", "expected a finite number, found NaN (not a number)"},
        {"{type: any}", "{a: [1, -.inf]}",
         "numbers must be finite, found minus infinity (a number beyond +/-1.8e308, or .inf)"},
        {"{type: integer}", ".inf", "expected integer, found infinity"},
        {"{type: string, minimum: 3}", "ab", NULL}, /* bounds apply to numbers only */
        {"{type: string, enum: [val_acc, train_loss]}", "val_acc", NULL},
        {"{type: string, enum: [val_acc, train_loss]}", "loss",
         "expected one of [\"val_acc\",\"train_loss\"], found string \"loss\""},
        {"{type: number, enum: [1, 2]}", "2.0", NULL}, /* numbers compare by value */
        {"{type: integer, enum: [1, 2], minimum: 5}", "3", "expected one of [1,2], found integer 3"},
        {"{enum: [[1], {a: b}]}", "{a: b}", NULL},
        {"{}", "anything", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sb_val decl = load_ok(cases[i].decl), value = load_ok(cases[i].value);
        sb_buf why = SB_BUF_INIT;
        bool fits = sb_config_check_input(decl, value, &why);
        const char *msg = fits ? NULL : sb_buf_str(&why);
        if (cases[i].want)
            CHECK_STR(msg, cases[i].want);
        else if (msg)
            fprintf(stderr, "case %zu (%s, %s): unexpected \"%s\"\n", i, cases[i].decl, cases[i].value, msg);
        CHECK(cases[i].want || fits);
        CHECK(fits == (why.len == 0));
        sb_buf_free(&why);
        sb_val_free(decl);
        sb_val_free(value);
    }
}

/* n nested flow sequences: [[...[]...]] */
static char *nested(int n)
{
    char *s = sb_malloc((size_t)n * 2 + 2);
    for (int i = 0; i < n; i++) {
        s[i] = '[';
        s[n + i] = ']';
    }
    s[2 * n] = '\n';
    s[2 * n + 1] = '\0';
    return s;
}

/* Block-style nesting: a: / <indent>a: / ... with a scalar at the bottom. */
static char *nested_block(int n)
{
    sb_buf b = SB_BUF_INIT;
    for (int i = 0; i < n; i++)
        sb_buf_printf(&b, "%*sa:%s", i, "", i == n - 1 ? " 1\n" : "\n");
    return sb_buf_take(&b);
}

static char *load_diags(const char *text, size_t len, bool *ok)
{
    sb_diags *d = sb_diags_new();
    sb_val v;
    *ok = sb_yaml_load("t.yaml", text, len, d, &v);
    sb_val_free(v);
    char *s = diag_text(d);
    sb_diags_free(d);
    return s;
}

static void test_depth_limit(void)
{
    CHECK_INT(SB_YAML_MAX_DEPTH, 64);
    bool ok;
    char *t = nested(64), *m = load_diags(t, strlen(t), &ok);
    CHECK(ok);
    CHECK_STR(m, "");
    sb_free(m);
    sb_free(t);
    t = nested(65);
    m = load_diags(t, strlen(t), &ok);
    CHECK(!ok);
    CHECK_STR(m, "t.yaml:1:65: error: nesting deeper than 64 levels\n");
    sb_free(m);
    sb_free(t);
    t = nested(1000);
    m = load_diags(t, strlen(t), &ok);
    CHECK(!ok);
    CHECK_STR(m, "t.yaml:1:65: error: nesting deeper than 64 levels\n");
    sb_free(m);
    sb_free(t);
    /* Scalars are not levels: 64 mappings with a value at the bottom load. */
    t = nested_block(64);
    m = load_diags(t, strlen(t), &ok);
    CHECK(ok);
    CHECK_STR(m, "");
    sb_free(m);
    sb_free(t);
    t = nested_block(65);
    m = load_diags(t, strlen(t), &ok);
    CHECK(!ok);
    CHECK_STR(m, "t.yaml:65:65: error: nesting deeper than 64 levels\n");
    sb_free(m);
    sb_free(t);
}

static void test_json_depth_limit(void)
{
    /* The JSON reader has the same rule at its own limit. */
    char *t = nested(SB_JSON_MAX_DEPTH);
    sb_val v = sb_json_parse(t, strlen(t));
    CHECK(v.kind == SB_LIST);
    sb_val_free(v);
    sb_free(t);
    t = nested(SB_JSON_MAX_DEPTH + 1);
    v = sb_json_parse(t, strlen(t));
    CHECK(v.kind == SB_ERROR);
    CHECK_STR(sb_str(v), "line 1, column 129: nesting deeper than 128 levels");
    sb_val_free(v);
    sb_free(t);
}

/* A flow sequence of `items` zeros: items + 1 nodes with the list itself. */
static char *flat(size_t items)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_putc(&b, '[');
    for (size_t i = 0; i < items; i++)
        sb_buf_puts(&b, i ? ",0" : "0");
    sb_buf_puts(&b, "]\n");
    return sb_buf_take(&b);
}

static void test_node_limit(void)
{
    CHECK_INT(SB_YAML_MAX_NODES, 200000);
    char *t = flat(SB_YAML_MAX_NODES - 1);
    sb_diags *d = sb_diags_new();
    sb_val v;
    CHECK(sb_yaml_load("t.yaml", t, strlen(t), d, &v));
    CHECK_INT(sb_list_len(v), SB_YAML_MAX_NODES - 1);
    CHECK_INT(sb_diags_count(d), 0);
    sb_val_free(v);
    sb_diags_free(d);
    sb_free(t);

    bool ok;
    t = flat(SB_YAML_MAX_NODES);
    char *m = load_diags(t, strlen(t), &ok);
    CHECK(!ok);
    /* node 200001 is the 200000th item: "[" + 199999 * "0," */
    CHECK_STR(m, "t.yaml:1:400000: error: document too large: more than 200000 nodes\n");
    sb_free(m);
    sb_free(t);

    /* Far past the limit, with collections after it: still one diagnostic. */
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < SB_YAML_MAX_NODES / 2; i++)
        sb_buf_printf(&b, "- {k%zu: [1, {x: 2}]}\n", i);
    d = sb_diags_new();
    CHECK(!sb_config_workspace("big.yaml", b.data, b.len, d, &v));
    CHECK(v.kind == SB_NULL);
    CHECK_INT(sb_diags_count(d), 1);
    if (sb_diags_count(d) == 1)
        CHECK_STR(sb_diags_at(d, 0)->msg, "document too large: more than 200000 nodes");
    sb_val_free(v);
    sb_diags_free(d);
    sb_buf_free(&b);
}

static void test_size_limit(void)
{
    size_t n = SB_YAML_MAX_BYTES;
    char *t = sb_malloc(n + 1);
    /* Exactly at the limit: one long comment line loads as an empty document. */
    t[0] = '#';
    memset(t + 1, 'x', n - 2);
    t[n - 1] = '\n';
    bool ok;
    char *m = load_diags(t, n, &ok);
    CHECK(ok);
    CHECK_STR(m, "");
    sb_free(m);
    /* One byte more is refused before parsing. */
    t[n - 1] = 'x';
    t[n] = '\n';
    m = load_diags(t, n + 1, &ok);
    CHECK(!ok);
    CHECK_STR(m, "t.yaml: error: file too large: 8388609 bytes (limit 8388608)\n");
    sb_free(m);
    sb_diags *d = sb_diags_new();
    sb_val v;
    CHECK(!sb_config_pipelines("p.yaml", t, n + 1, sb_null(), d, &v));
    CHECK(v.kind == SB_NULL);
    CHECK_INT(sb_diags_count(d), 1);
    sb_diags_free(d);
    sb_free(t);
}

static void test_pipelines_without_workspace(void)
{
    /* Server names are checked only against a workspace; the call's shape is
     * always checked. */
    const char *text = "version: 1\npipelines:\n  p:\n    steps:\n"
                       "      a: {call: nowhere.tool}\n"
                       "      b: {call: notool}\n";
    sb_diags *d = sb_diags_new();
    sb_val v;
    CHECK(!sb_config_pipelines("p.yaml", text, strlen(text), sb_null(), d, &v));
    char *m = diag_text(d);
    CHECK_STR(m, "p.yaml:6:17: error: pipelines.p.steps.b.call: expected server.tool, found \"notool\"\n");
    sb_free(m);
    sb_val_free(v);
    sb_diags_free(d);
}

static void test_expressions_stand_in_for_values(void)
{
    /* A {{ }} string is accepted where a typed value is expected (top_k is an
     * integer >= 1; when is a bool); plain strings are not. */
    const char *text = "version: 1\npipelines:\n  p:\n    steps:\n"
                       "      a: {aggregate: {from: x, metric: m, top_k: \"{{ inputs.k }}\"}}\n"
                       "      b: {when: \"{{ true }}\", aggregate: {from: x, metric: m, top_k: \"3\"}}\n"
                       "      c: {when: \"true\", compute: {x: 1}}\n";
    sb_diags *d = sb_diags_new();
    sb_val v;
    CHECK(!sb_config_pipelines("p.yaml", text, strlen(text), sb_null(), d, &v));
    char *m = diag_text(d);
    CHECK_STR(m, "p.yaml:6:70: error: pipelines.p.steps.b.aggregate.top_k: expected an integer or a {{ expression "
                 "}}, found string \"3\" (remove the quotes to make it a number)\n"
                 "p.yaml:7:17: error: pipelines.p.steps.c.when: expected true or false or a {{ expression }}, "
                 "found string \"true\"\n");
    sb_free(m);
    sb_val_free(v);
    sb_diags_free(d);
}

SB_TEST_MAIN(TEST(test_example_is_valid_and_ordered) TEST(test_step_order_rules) TEST(test_json_schema_workspace)
                 TEST(test_json_schema_pipelines) TEST(test_check_input) TEST(test_depth_limit)
                 TEST(test_json_depth_limit) TEST(test_node_limit) TEST(test_size_limit)
                 TEST(test_pipelines_without_workspace) TEST(test_expressions_stand_in_for_values))
