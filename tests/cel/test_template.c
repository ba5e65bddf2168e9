/* {{ }} templates over YAML trees: typed whole-value expressions, string
 * templates, when: booleans, positioned errors, and compile-once reuse. */
#include "cel/sb_cel_check.h"
#include "cel/sb_template.h"
#include "config/sb_yaml.h"
#include "sb_test.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

static sb_val yaml(const char *text)
{
    sb_diags *d = sb_diags_new();
    sb_val v;
    bool ok = sb_yaml_load("pipelines.yaml", text, strlen(text), d, &v);
    CHECK(ok);
    sb_diags_free(d);
    return v;
}

static sb_val json(const char *text)
{
    return sb_json_parse(text, strlen(text));
}

static char *to_json(sb_val v)
{
    if (v.kind == SB_ERROR)
        return sb_strdup(sb_str(v));
    return sb_val_to_json(v, 0);
}

static void check_eval(sb_tmpl *t, sb_val vars, const char *want)
{
    sb_val r = sb_tmpl_eval(t, vars);
    char *s = to_json(r);
    CHECK_STR(s, want);
    sb_free(s);
    sb_val_free(r);
}

static void test_typed_and_string(void)
{
    sb_val v = yaml("modify:\n"
                    "  learning_rate: \"{{ job.hyperparameters.learning_rate * 0.5 }}\"\n"
                    "  batch: '{{ job.hyperparameters.batch_size }}'\n"
                    "  note: 'lr {{ job.hyperparameters.learning_rate }} bs={{job.hyperparameters.batch_size}}'\n"
                    "  plain: no templates here\n"
                    "  list: ['{{ [1, 2] }}', '  {{ true }}  ', 3]\n"
                    "  map: '{{ {\"a\": {\"b\": 1}} }}'\n");
    sb_diags *d = sb_diags_new();
    sb_tmpl *t = sb_tmpl_compile(v, "pipelines.yaml", NULL, d);
    CHECK(t != NULL);
    CHECK_INT(sb_diags_count(d), 0);
    CHECK(sb_tmpl_is_dynamic(t));
    sb_val vars = json("{\"job\": {\"hyperparameters\": {\"learning_rate\": 0.01, \"batch_size\": 64}}}");
    check_eval(t, vars,
               "{\"modify\":{\"learning_rate\":0.005,\"batch\":64,\"note\":\"lr 0.01 bs=64\",\"plain\":\"no templates "
               "here\",\"list\":[[1,2],true,3],\"map\":{\"a\":{\"b\":1}}}}");
    /* compiled once, evaluated again with other variables */
    sb_val vars2 = json("{\"job\": {\"hyperparameters\": {\"learning_rate\": 0.1, \"batch_size\": 32}}}");
    sb_val r = sb_tmpl_eval(t, vars2);
    const sb_val *lr = sb_map_get_str(*sb_map_get_str(r, "modify"), "learning_rate");
    CHECK(lr && lr->kind == SB_DOUBLE && lr->as.d == 0.05);
    /* a typed result carries the YAML position of its template */
    CHECK_INT(lr->line, 2);
    CHECK_INT(lr->col, 18);
    sb_val_free(r);
    sb_val_free(vars2);
    sb_val_free(vars);
    sb_tmpl_free(t);
    sb_diags_free(d);
    sb_val_free(v);
}

/* An optional leaves a template as the JSON writer shows it: its value, or
 * null for none, whole or inside a string. */
static void test_optionals_unwrapped(void)
{
    sb_val v = yaml("acc: '{{ m.?val_acc }}'\n"
                    "loss: '{{ m.?loss }}'\n"
                    "note: 'acc {{ m.?val_acc }}, loss {{ m.?loss }}'\n"
                    "list: ['{{ m.?val_acc }}', '{{ optional.none() }}']\n"
                    "nested: '{{ [m.?val_acc] }}'\n");
    sb_diags *d = sb_diags_new();
    sb_tmpl *t = sb_tmpl_compile(v, "pipelines.yaml", NULL, d);
    CHECK(t != NULL);
    sb_val vars = json("{\"m\": {\"val_acc\": 91.5}}");
    /* only the template's own result is unwrapped: inside a list it stays CEL's */
    check_eval(t, vars,
               "{\"acc\":91.5,\"loss\":null,\"note\":\"acc 91.5, loss null\",\"list\":[91.5,null],"
               "\"nested\":[91.5]}");
    sb_val r = sb_tmpl_eval(t, vars);
    const sb_val *acc = sb_map_get_str(r, "acc");
    CHECK(acc && acc->kind == SB_DOUBLE);
    sb_val_free(r);
    /* checked as what evaluation gives: dyn (the value or null); a condition
     * that is an optional is still refused, none being no bool */
    sb_cel_env *e = sb_cel_env_new(false);
    CHECK(sb_cel_env_declare(e, "m", sb_cel_type_parse(e, "map(string, double)")));
    const sb_cel_type *ty = sb_tmpl_check(t, e, false, d);
    sb_buf b = SB_BUF_INIT;
    if (ty)
        sb_cel_type_render(&b, ty);
    CHECK_STR(sb_buf_str(&b), "{acc: dyn, loss: dyn, note: string, list: list(dyn), nested: list(optional(double))}");
    sb_buf_free(&b);
    sb_val w = yaml("when: '{{ m.?ok }}'\n");
    sb_tmpl *tw = sb_tmpl_compile(*sb_map_get_str(w, "when"), "c.yaml", NULL, d);
    CHECK(tw && !sb_tmpl_check(tw, e, true, d));
    CHECK(sb_diags_count(d) == 1);
    sb_tmpl_free(tw);
    sb_val_free(w);
    sb_cel_env_free(e);
    sb_val_free(vars);
    sb_tmpl_free(t);
    sb_diags_free(d);
    sb_val_free(v);
}

static void test_errors_are_positioned(void)
{
    sb_val v = yaml("steps:\n"
                    "  retry:\n"
                    "    when: \"{{ error.typ == 'transient' }}\"\n");
    sb_diags *d = sb_diags_new();
    sb_tmpl *t = sb_tmpl_compile(v, "pipelines.yaml", NULL, d);
    CHECK(t != NULL);
    sb_val vars = json("{\"error\": {\"type\": \"transient\"}}");
    check_eval(t, vars, "pipelines.yaml:3:11: in '{{ error.typ == 'transient' }}': no such key: 'typ' (keys: type)");
    sb_val_free(vars);
    vars = json("{}");
    check_eval(t, vars, "pipelines.yaml:3:11: in '{{ error.typ == 'transient' }}': undeclared reference to 'error'");
    sb_val_free(vars);
    sb_tmpl_free(t);
    sb_diags_free(d);
    sb_val_free(v);

    /* every bad expression is reported at compile time, not only the first */
    v = yaml("a: '{{ 1 + }}'\nb: 'x {{ ) }} y'\nc: '{{ }}'\nd: 'open {{ 1 + 2'\ne: ok\n");
    d = sb_diags_new();
    t = sb_tmpl_compile(v, "p.yaml", NULL, d);
    CHECK(t == NULL);
    CHECK_INT(sb_diags_count(d), 4);
    sb_buf b = SB_BUF_INIT;
    sb_diags_sort(d);
    sb_diags_write(d, &b);
    CHECK_STR(sb_buf_str(&b),
              "p.yaml:1:4: error: in '{{ 1 + }}': col 4: unexpected end of expression, expected an expression\n"
              "p.yaml:2:4: error: in '{{ ) }}': col 1: unexpected ')', expected an expression\n"
              "p.yaml:3:4: error: in '{{  }}': empty expression\n"
              "p.yaml:4:4: error: in '{{ 1 + 2 }}': unterminated '{{' (no matching '}}')\n");
    sb_buf_free(&b);
    sb_diags_free(d);
    sb_val_free(v);
}

static void test_when_bool(void)
{
    sb_val vars = json("{\"x\": 3}");
    struct {
        const char *yaml, *want;
    } cases[] = {
        {"when: '{{ x > 2 }}'\n", "true"},
        {"when: false\n", "false"},
        {"when: '{{ x }}'\n", "c.yaml:1:7: in '{{ x }}': must evaluate to a bool, got int"},
        {"when: 'x > 2'\n", "c.yaml:1:7: expected a bool, got the string 'x > 2' (write a condition as '{{ expr }}')"},
        {"when: 'is {{ x > 2 }}'\n", "c.yaml:1:7: expected a bool, got a string template (only a value that is "
                                     "exactly one '{{ expr }}' keeps its type)"},
        {"when: 1\n", "c.yaml:1:7: expected a bool, got int"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sb_val v = yaml(cases[i].yaml);
        sb_val w = sb_val_ref(*sb_map_get_str(v, "when"));
        sb_diags *d = sb_diags_new();
        sb_tmpl *t = sb_tmpl_compile(w, "c.yaml", NULL, d);
        CHECK(t != NULL);
        sb_val r = sb_tmpl_eval_bool(t, vars);
        char *s = to_json(r);
        CHECK_STR(s, cases[i].want);
        sb_free(s);
        sb_val_free(r);
        sb_tmpl_free(t);
        sb_diags_free(d);
        sb_val_free(w);
        sb_val_free(v);
    }
    sb_val_free(vars);
}

static void test_mixed_numeric_option(void)
{
    sb_val v = yaml("half: '{{ batch_size * 0.5 }}'\n");
    sb_val vars = json("{\"batch_size\": 64}");
    sb_diags *d = sb_diags_new();
    sb_tmpl *t = sb_tmpl_compile(v, "w.yaml", NULL, d);
    check_eval(t, vars,
               "w.yaml:1:7: in '{{ batch_size * 0.5 }}': no matching overload for '*' applied to (int, double)");
    sb_tmpl_free(t);
    sb_cel_options o = {.mixed_numeric = true};
    t = sb_tmpl_compile(v, "w.yaml", &o, d);
    check_eval(t, vars, "{\"half\":32.0}");
    sb_tmpl_free(t);
    sb_diags_free(d);
    sb_val_free(vars);
    sb_val_free(v);
}

static void test_scan(void)
{
    CHECK(sb_tmpl_has_expr("a {{ b", 6));
    CHECK(!sb_tmpl_has_expr("a { { b }", 9));
    /* "}}" inside a string literal does not end the expression */
    sb_val s = sb_string_cstr("{{ '}}' + \"{{\" }}");
    sb_diags *d = sb_diags_new();
    sb_tmpl *t = sb_tmpl_compile(s, "f", NULL, d);
    check_eval(t, sb_null(), "\"}}{{\"");
    sb_tmpl_free(t);
    sb_val_free(s);
    /* a literal "{{" in text */
    s = sb_string_cstr("{{ '{{' }} x }}");
    t = sb_tmpl_compile(s, "f", NULL, d);
    check_eval(t, sb_null(), "\"{{ x }}\"");
    sb_tmpl_free(t);
    sb_val_free(s);
    /* values render as CEL's string(): doubles shortest, lists as %s */
    s = sb_string_cstr("{{ 1.0 }} {{ 2.5e-7 }} {{ [1, 'a', null] }} {{ {'b': 1, 'a': 2} }} {{ b'hi' }} {{ int }}");
    t = sb_tmpl_compile(s, "f", NULL, d);
    check_eval(t, sb_null(), "\"1 2.5e-07 [1, a, null] {a: 2, b: 1} hi int\"");
    sb_tmpl_free(t);
    sb_val_free(s);
    CHECK_INT(sb_diags_count(d), 0);
    sb_diags_free(d);
}

SB_TEST_MAIN(TEST(test_typed_and_string) TEST(test_optionals_unwrapped) TEST(test_errors_are_positioned)
                 TEST(test_when_bool) TEST(test_mixed_numeric_option) TEST(test_scan))
