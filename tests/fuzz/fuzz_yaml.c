/* libFuzzer target for the config path: arbitrary bytes through the YAML
 * loader, both validators, step ordering and the JSON writer.
 *
 * Beyond "no crash, no leak, no UB" it checks contracts the callers rely on
 * (a failed invariant aborts, so the fuzzer keeps the input):
 *   - a validator returns false exactly when it reported something, and a
 *     problem found in a document that loaded carries a line and column;
 *   - the validators agree with sb_yaml_load on whether the YAML loads;
 *   - a pipelines file that validates has a step order that lists every
 *     step once (the engine runs steps in that order);
 *   - the JSON written for a loaded tree is accepted by sb_json_parse.
 * Like `sibyl pipeline validate`, it also compiles every {{ }} of the
 * pipelines tree (core/cel's template scanner and parser on YAML positions). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/sb_template.h"
#include "config/sb_config.h"
#include "config/sb_yaml.h"
#include "json/sb_json.h"
#include "util/sb_alloc.h"

#define FZ_ASSERT(cond, what)                                                                                     \
    do {                                                                                                          \
        if (!(cond)) {                                                                                            \
            fprintf(stderr, "fuzz_yaml: invariant failed: %s (%s)\n", what, #cond);                               \
            abort();                                                                                              \
        }                                                                                                         \
    } while (0)

/* Server names the fuzzer's pipelines are checked against when its own text
 * is not a workspace, so the server-name checks run on every input. */
static const char builtin_ws[] = "version: 1\nservers:\n"
                                 "  solver: {transport: embedded, service: solver}\n"
                                 "  conductor: {transport: embedded, service: conductor_sim}\n";

static void check_diags(sb_diags *d, bool ok, bool loaded, const char *what)
{
    size_t n = sb_diags_count(d);
    FZ_ASSERT(sb_diags_oom(d) == 0, what);
    FZ_ASSERT(ok == (n == 0), what);
    for (size_t i = 0; loaded && i < n; i++) {
        const sb_diag *g = sb_diags_at(d, i);
        if (g->line == 0 || g->col == 0)
            fprintf(stderr, "diagnostic without position: %s\n", g->msg);
        FZ_ASSERT(g->line > 0 && g->col > 0, what);
    }
    sb_diags_sort(d);
    sb_buf b = SB_BUF_INIT;
    sb_diags_write(d, &b);
    FZ_ASSERT(!sb_buf_failed(&b), what);
    sb_buf_free(&b);
}

static void check_json(sb_val tree, int flags)
{
    char *js = sb_val_to_json(tree, flags);
    FZ_ASSERT(js != NULL, "JSON writer");
    sb_val back = sb_json_parse(js, strlen(js));
    if (back.kind == SB_ERROR)
        fprintf(stderr, "sb_json_parse: %s\non: %s\n", sb_str(back), js);
    FZ_ASSERT(back.kind != SB_ERROR, "the JSON of a loaded tree parses");
    sb_val_free(back);
    sb_free(js);
}

static void check_order(sb_val file)
{
    const sb_val *ps = sb_map_get_str(file, "pipelines");
    for (size_t i = 0; ps && i < sb_map_len(*ps); i++) {
        sb_val p = *sb_map_val_at(*ps, i);
        const sb_val *steps = sb_map_get_str(p, "steps");
        sb_val order = sb_config_step_order(p);
        FZ_ASSERT(order.kind == SB_LIST, "a valid pipeline has a step order");
        FZ_ASSERT(sb_list_len(order) == sb_map_len(*steps), "the step order lists every step");
        for (size_t k = 0; k < sb_list_len(order); k++) {
            FZ_ASSERT(sb_map_get(*steps, *sb_list_at(order, k)) != NULL, "the step order names steps");
            for (size_t j = 0; j < k; j++)
                FZ_ASSERT(!sb_val_equal(*sb_list_at(order, j), *sb_list_at(order, k)), "each step once");
        }
        sb_val_free(order);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    if (size < 80) {
        /* --input values go through the plain-scalar rules alone. */
        sb_val v = sb_yaml_resolve_plain(text, size);
        FZ_ASSERT(!sb_is_oom(v), "resolve_plain");
        sb_val_free(v);
    }

    sb_diags *d = sb_diags_new();
    sb_val tree;
    bool loaded = sb_yaml_load("fuzz.yaml", text, size, d, &tree);
    check_diags(d, loaded, false, "sb_yaml_load");
    sb_diags_free(d);
    if (loaded) {
        check_json(tree, 0);
        check_json(tree, SB_JSON_PRETTY);
    }
    sb_val_free(tree);

    sb_val ws;
    d = sb_diags_new();
    bool ws_ok = sb_config_workspace("fuzz.yaml", text, size, d, &ws);
    check_diags(d, ws_ok, loaded, "sb_config_workspace");
    FZ_ASSERT(loaded || !ws_ok, "workspace agrees with the loader");
    sb_diags_free(d);

    sb_val builtin = sb_null();
    const sb_val *servers = sb_map_get_str(ws, "servers");
    if (!servers || servers->kind != SB_MAP) {
        sb_diags *bd = sb_diags_new();
        bool bok = sb_config_workspace("builtin.yaml", builtin_ws, sizeof builtin_ws - 1, bd, &builtin);
        FZ_ASSERT(bok, "the built-in workspace is valid");
        sb_diags_free(bd);
    }

    sb_val pl;
    d = sb_diags_new();
    bool pl_ok = sb_config_pipelines("fuzz.yaml", text, size, builtin.kind == SB_MAP ? builtin : ws, d, &pl);
    check_diags(d, pl_ok, loaded, "sb_config_pipelines");
    FZ_ASSERT(loaded || !pl_ok, "pipelines agree with the loader");
    sb_diags_free(d);
    if (pl_ok)
        check_order(pl);
    if (pl.kind == SB_MAP) {
        d = sb_diags_new();
        sb_tmpl *t = sb_tmpl_compile(pl, "fuzz.yaml", NULL, d);
        FZ_ASSERT((t != NULL) == (sb_diags_count(d) == 0), "templates: NULL exactly when something was reported");
        sb_tmpl_free(t);
        sb_diags_free(d);
    }

    sb_val_free(pl);
    sb_val_free(builtin);
    sb_val_free(ws);
    return 0;
}
