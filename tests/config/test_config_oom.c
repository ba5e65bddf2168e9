/* Failing-allocation sweep over config loading (the failmalloc loop of style
 * note 7): load and validate the example workspace and pipelines with
 * allocation N failing, for N = 0, 1, ... until a run completes without
 * reaching N. Every run must fail cleanly or succeed correctly:
 *   - a validator that returns false has reported something (a diagnostic,
 *     or the diagnostics list itself ran out of memory);
 *   - a validator that returns true produced the same tree as a run without
 *     failures (nothing silently dropped);
 *   - every other result is either the out-of-memory error / a failed
 *     buffer, or exactly the result of a clean run;
 *   - nothing leaks (LSan checks at exit) and nothing crashes (ASan).
 * Two modes: only allocation N fails (recovery paths keep running with a
 * working allocator), and every allocation from N on fails. The invalid
 * golden cases get the same sweep; they must never come out valid.
 * "Validate" means what `sibyl pipeline validate` does: sb_config_pipelines,
 * then compiling every {{ }} of the tree (sb_tmpl_compile). */
#include <dirent.h>

#include "cel/sb_template.h"
#include "config/sb_config.h"
#include "config/sb_schema.h"
#include "json/sb_json.h"
#include "spec/sb_spec.h"
#include "sb_test.h"
#include "util/sb_alloc.h"
#include "sb_test_file.h"

static long fail_at = -1; /* allocation index that fails; -1: none */
static bool sticky;       /* and every one after it */
static long count;        /* allocations in this run */
static long failures;     /* allocations refused in this run */

static void *failing(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    long i = count++;
    if (fail_at >= 0 && (i == fail_at || (sticky && i > fail_at))) {
        failures++;
        return NULL;
    }
    return realloc(p, n);
}

static void arm(long n, bool all_after)
{
    fail_at = n;
    sticky = all_after;
    count = failures = 0;
    sb_alloc_set(failing, NULL);
}

static void disarm(void) { sb_alloc_set(NULL, NULL); }

static char *read_file(const char *path, size_t *len)
{
    char *text = sb_test_read_file(path, len);
    if (!text) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    return text;
}

#define EXAMPLE SIBYL_SOURCE_DIR "/examples/companies/vertex_foundry/config/"

typedef struct reference {
    char *ws_text, *pl_text;
    size_t ws_len, pl_len;
    sb_val ws, pl, order;
    char *pl_json, *schema_json;
    sb_val schema; /* schema_json parsed */
} reference;

static const sb_val *sweep_of(sb_val pl)
{
    return sb_map_get_str(*sb_map_get_str(pl, "pipelines"), "hyperparameter_sweep");
}

static char *write_schema(void)
{
    sb_buf b = SB_BUF_INIT;
    sb_schema_write_json_schema(&sb_schema_pipelines, "urn:test", &b);
    return sb_buf_take(&b);
}

static void reference_load(reference *r)
{
    r->ws_text = read_file(EXAMPLE "workspace.yaml", &r->ws_len);
    r->pl_text = read_file(EXAMPLE "pipelines.yaml", &r->pl_len);
    sb_diags *d = sb_diags_new();
    CHECK(sb_config_workspace("workspace.yaml", r->ws_text, r->ws_len, d, &r->ws));
    CHECK(sb_config_pipelines("pipelines.yaml", r->pl_text, r->pl_len, r->ws, d, &r->pl));
    CHECK_INT(sb_diags_count(d), 0);
    sb_diags_free(d);
    r->order = sb_config_step_order(*sweep_of(r->pl));
    CHECK(r->order.kind == SB_LIST);
    r->pl_json = sb_val_to_json(r->pl, SB_JSON_PRETTY);
    r->schema_json = write_schema();
    r->schema = sb_json_parse(r->schema_json, strlen(r->schema_json));
    CHECK(r->schema.kind == SB_MAP);
}

static void reference_free(reference *r)
{
    sb_free(r->ws_text);
    sb_free(r->pl_text);
    sb_val_free(r->ws);
    sb_val_free(r->pl);
    sb_val_free(r->order);
    sb_free(r->pl_json);
    sb_free(r->schema_json);
    sb_val_free(r->schema);
}

/* Where a run went wrong, for the failure message. */
static long bad_runs;
static void bad(const char *what, long n, bool all_after)
{
    if (bad_runs++ < 20)
        fprintf(stderr, "allocation %ld%s failing: %s\n", n, all_after ? " and later" : "", what);
}

#define BAD(what, why)                                                                                            \
    do {                                                                                                          \
        bad(what, n, all_after);                                                                                  \
        CHECK(!why);                                                                                              \
    } while (0)

/* A validator's outcome: true with the clean tree, or false with something said. */
static void judge(bool ok, sb_val tree, sb_val want, sb_diags *d, const char *what, long n, bool all_after)
{
    if (ok && !sb_val_equal(tree, want))
        BAD(what, "valid but the tree differs from a clean run");
    if (!ok && sb_diags_count(d) == 0 && !sb_diags_oom(d))
        BAD(what, "invalid without a diagnostic");
    if (!ok && failures == 0)
        BAD(what, "invalid although no allocation failed");
}

/* One run with allocation n failing; returns true if n was never reached. */
static bool run_examples(const reference *r, long n, bool all_after)
{
    arm(n, all_after);
    sb_diags *d = sb_diags_new();
    sb_val ws = sb_null(), pl = sb_null();
    if (d) {
        bool ok = sb_config_workspace("workspace.yaml", r->ws_text, r->ws_len, d, &ws);
        judge(ok, ws, r->ws, d, "workspace", n, all_after);
    }
    sb_diags_free(d);

    d = sb_diags_new();
    if (d) {
        bool ok = sb_config_pipelines("pipelines.yaml", r->pl_text, r->pl_len, ws.kind == SB_MAP ? ws : sb_null(),
                                      d, &pl);
        judge(ok, pl, r->pl, d, "pipelines", n, all_after);
        if (pl.kind == SB_MAP) {
            sb_tmpl *t = sb_tmpl_compile(pl, "pipelines.yaml", NULL, d);
            if (!t && sb_diags_count(d) == 0 && !sb_diags_oom(d))
                BAD("sb_tmpl_compile", "templates failed without a diagnostic");
            if (!t && failures == 0)
                BAD("sb_tmpl_compile", "templates failed although no allocation failed");
            sb_tmpl_free(t);
        }
        if (ok) {
            sb_val order = sb_config_step_order(*sweep_of(pl));
            if (!sb_is_oom(order) && !sb_val_equal(order, r->order))
                BAD("step order", "step order differs");
            sb_val_free(order);
            char *js = sb_val_to_json(pl, SB_JSON_PRETTY);
            if (js && strcmp(js, r->pl_json) != 0)
                BAD("sb_val_to_json", "JSON differs");
            sb_free(js);
        }
    }
    sb_diags_free(d);

    char *schema = write_schema();
    if (schema && strcmp(schema, r->schema_json) != 0)
        BAD("JSON Schema", "JSON Schema text differs");
    sb_free(schema);
    sb_val parsed = sb_json_parse(r->schema_json, strlen(r->schema_json));
    if (!sb_is_oom(parsed) && !sb_val_equal(parsed, r->schema)) {
        bad("sb_json_parse", n, all_after);
        fprintf(stderr, "  got %s: %s\n", sb_kind_name(parsed.kind), sb_str(parsed));
        CHECK(!"parsed JSON differs and is not the out-of-memory error");
    }
    sb_val_free(parsed);

    sb_val_free(pl);
    sb_val_free(ws);
    disarm();
    return count <= n;
}

static void sweep(const reference *r, bool all_after)
{
    long n = 0;
    while (!run_examples(r, n, all_after))
        n++;
    printf("  examples, %s: %ld runs\n", all_after ? "allocation N and later failing" : "allocation N failing", n + 1);
    CHECK(n > 100); /* sanity: the sweep did exercise the loader */
}

static void test_examples_single_failure(void)
{
    reference r;
    reference_load(&r);
    sweep(&r, false);
    reference_free(&r);
}

static void test_examples_all_failures_after(void)
{
    reference r;
    reference_load(&r);
    sweep(&r, true);
    reference_free(&r);
}

/* The golden cases: no failing allocation may make an invalid one valid, and
 * none may be refused without a diagnostic or the out-of-memory mark. */
static void golden_dir(const char *kind, sb_val ws)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/golden/config/%s", SIBYL_SOURCE_DIR, kind);
    DIR *dh = opendir(dir);
    CHECK(dh != NULL);
    if (!dh)
        return;
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dh)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < 6 || strcmp(e->d_name + nl - 5, ".yaml") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *text = read_file(path, &len);
        files++;
        /* A case whose expectation is success (exit 0) is valid: failing
         * allocations may refuse it, but never without saying so. */
        char expected[2048];
        snprintf(expected, sizeof expected, "%.*s.expected", (int)(strlen(path) - 5), path);
        size_t elen = 0;
        char *etext = read_file(expected, &elen);
        bool valid_case = etext && elen >= 11 && memcmp(etext + elen - 11, "--- exit 0\n", 11) == 0;
        sb_free(etext);
        for (int mode = 0; mode < 2; mode++) {
            for (long n = 0;; n++) {
                arm(n, mode == 1);
                sb_diags *d = sb_diags_new();
                sb_val v = sb_null();
                bool ok = false;
                if (d && kind[0] == 'w') {
                    ok = sb_config_workspace(e->d_name, text, len, d, &v);
                } else if (d) {
                    ok = sb_config_pipelines(e->d_name, text, len, ws, d, &v);
                    sb_tmpl *t = v.kind == SB_MAP ? sb_tmpl_compile(v, e->d_name, NULL, d) : NULL;
                    ok = ok && t;
                    sb_tmpl_free(t);
                    /* and the type check, as `pipeline validate` runs it */
                    const sb_val *ps = ok ? sb_map_get_str(v, "pipelines") : NULL;
                    for (size_t i = 0; ps && i < sb_map_len(*ps); i++) {
                        sb_spec *sp = sb_spec_compile(ws, v, sb_str(*sb_map_key_at(*ps, i)), "workspace.yaml",
                                                      e->d_name, d);
                        ok = ok && sp != NULL;
                        sb_spec_free(sp);
                    }
                }
                if (ok && !valid_case) {
                    fprintf(stderr, "%s valid with allocation %ld failing\n", e->d_name, n);
                    CHECK(!ok);
                }
                if (d && !ok && sb_diags_count(d) == 0 && !sb_diags_oom(d)) {
                    fprintf(stderr, "%s: no diagnostic with allocation %ld failing\n", e->d_name, n);
                    CHECK(!"invalid without a diagnostic");
                }
                sb_val_free(v);
                sb_diags_free(d);
                disarm();
                if (count <= n)
                    break;
            }
        }
        sb_free(text);
    }
    closedir(dh);
    CHECK(files > 5);
}

/* Files with exactly one problem, so a check that forgets its verdict when
 * it cannot allocate its message would let the file through. */
static void test_single_problem_files(void)
{
    static const char *const texts[] = {
        "version: 1\npipelines:\n  p:\n    inputs:\n      n: {type: integer, default: x}\n"
        "    steps:\n      s: {compute: {x: 1}}\n",
        "version: 1\npipelines:\n  p:\n    inputs:\n      n: {type: integer, default: 9, maximum: 3}\n"
        "    steps:\n      s: {compute: {x: 1}}\n",
        "version: 1\npipelines:\n  p:\n    steps:\n      s: {compute: {x: 1}, colour: red}\n",
        "version: 1\npipelines:\n  p:\n    steps:\n      a: {needs: [b], compute: {x: 1}}\n"
        "      b: {needs: [a], compute: {x: 1}}\n",
        "version: 1\npipelines:\n  p:\n    steps:\n      a: {call: nowhere.tool}\n",
        "version: 1\npipelines:\n  p:\n    steps:\n      a: {needs: [zz], compute: {x: 1}}\n",
    };
    reference r;
    reference_load(&r);
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
        for (int mode = 0; mode < 2; mode++) {
            for (long n = 0;; n++) {
                arm(n, mode == 1);
                sb_diags *d = sb_diags_new();
                sb_val v = sb_null();
                bool ok = d && sb_config_pipelines("p.yaml", texts[t], strlen(texts[t]), r.ws, d, &v);
                if (ok) {
                    fprintf(stderr, "text %zu valid with allocation %ld%s failing\n", t, n, mode ? " and later" : "");
                    CHECK(!ok);
                }
                sb_val_free(v);
                sb_diags_free(d);
                disarm();
                if (count <= n)
                    break;
            }
        }
    }
    reference_free(&r);
}

static void test_golden_cases(void)
{
    reference r;
    reference_load(&r);
    golden_dir("workspace", r.ws);
    golden_dir("pipelines", r.ws);
    reference_free(&r);
}

SB_TEST_MAIN(TEST(test_examples_single_failure) TEST(test_examples_all_failures_after) TEST(test_single_problem_files) TEST(test_golden_cases))
