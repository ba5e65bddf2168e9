/* Prints plan_search_grid's answers to a fixed set of calls, for
 * golden.sh to compare with golden.expected. The same program is built
 * natively and for wasm32-wasi: both must print the same bytes, which is the
 * determinism promise of the contract (docs/mcp-tools-solver.md).
 * Large answers are printed as their length and FNV-1a hash.
 *   solver_golden OUT_FILE
 * writes to a file rather than stdout: Node's WASI writes to a non-blocking
 * stdout pipe and drops what does not fit the pipe buffer. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "solver/sb_solver.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

#define HEADLINE_SPACE                                                                                                 \
    "\"parameter_space\":{\"learning_rate\":[0.0001,0.001,0.01],\"batch_size\":[32,64,128],"                           \
    "\"dropout\":[0.1,0.3,0.5]}"
#define HEADLINE_COST                                                                                                  \
    "\"cost_model\":{\"gpu_hour_usd\":12.60,\"gpus_per_trial\":1,\"base_hours\":2.0,\"duration_scale\":"               \
    "{\"batch_size\":{\"32\":1.15,\"64\":1.0,\"128\":0.85}},\"retry_reserve_fraction\":0.08}"

static const struct {
    const char *name, *args;
    int hash; /* print a hash instead of the text */
} cases[] = {
    {"headline", "{\"budget_usd\":500," HEADLINE_SPACE "," HEADLINE_COST ",\"max_concurrent\":5}", 0},
    {"headline_200", "{\"budget_usd\":200," HEADLINE_SPACE "," HEADLINE_COST ",\"max_concurrent\":5}", 0},
    {"headline_full_grid", "{\"budget_usd\":1000," HEADLINE_SPACE "," HEADLINE_COST ",\"max_concurrent\":5}", 1},
    {"headline_26", "{\"budget_usd\":708.1," HEADLINE_SPACE "," HEADLINE_COST ",\"max_concurrent\":5}", 0},
    {"ranges",
     "{\"budget_usd\":900,\"seed\":42,\"parameter_space\":{\"lr\":{\"min\":1e-5,\"max\":0.1,\"scale\":\"log\","
     "\"samples\":5},\"wd\":{\"min\":0.0001,\"max\":0.1,\"scale\":\"log\",\"steps\":4},\"dropout\":{\"min\":0,"
     "\"max\":0.5,\"steps\":6},\"width\":{\"min\":64,\"max\":1024,\"scale\":\"log\",\"steps\":5,\"integer\":true}},"
     "\"cost_model\":{\"gpu_hour_usd\":2.75,\"base_hours\":0.75,\"duration_scale\":{\"width\":{\"64\":0.6,"
     "\"128\":0.7,\"256\":1,\"512\":1.6,\"1024\":2.9}}},\"max_concurrent\":7}",
     0},
    {"mixed_5x5x5x4",
     "{\"budget_usd\":3000,\"parameter_space\":{\"lr\":[0.0001,0.0003,0.001,0.003,0.01],"
     "\"batch\":[16,32,64,128,256],\"dropout\":[0.0,0.1,0.2,0.3,0.4],\"optimizer\":[\"adam\",\"sgd\",\"adamw\","
     "\"lamb\"]},\"cost_model\":{\"gpu_hour_usd\":12.60,\"base_hours\":1.5,\"gpus_per_trial\":2,"
     "\"duration_scale\":{\"optimizer\":{\"sgd\":0.9,\"lamb\":1.1},\"batch\":{\"16\":1.4,\"32\":1.2,\"64\":1,"
     "\"128\":0.9,\"256\":0.8}}},\"max_concurrent\":8}",
     0},
    {"large_104000",
     "{\"budget_usd\":10000,\"parameter_space\":{\"a\":{\"min\":1,\"max\":20,\"steps\":20},\"b\":{\"min\":0.001,"
     "\"max\":1,\"scale\":\"log\",\"steps\":20},\"c\":{\"min\":0,\"max\":1,\"samples\":20},\"d\":{\"min\":1,"
     "\"max\":13,\"steps\":13,\"integer\":true}},\"cost_model\":{\"gpu_hour_usd\":1.1,\"base_hours\":0.9,"
     "\"retry_reserve_fraction\":0.01,\"duration_scale\":{\"d\":{\"1\":0.5,\"13\":3}}},\"max_concurrent\":50}",
     1},
    {"dense_5x5x5x5",
     "{\"budget_usd\":600,\"parameter_space\":{\"a\":[1,2,3,4,5],\"b\":[1,2,3,4,5],\"c\":[1,2,3,4,5],"
     "\"d\":[1,2,3,4,5]},\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,\"retry_reserve_fraction\":0}}",
     1},
    {"unreachable", "{\"budget_usd\":20," HEADLINE_SPACE "," HEADLINE_COST "}", 0},
    {"bad_argument",
     "{\"budget_usd\":5,\"parameter_space\":{\"a\":[1,2]},\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,"
     "\"duration_scale\":{\"a\":{\"1\":0}}}}",
     0},
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: solver_golden OUT_FILE\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        fprintf(stderr, "solver_golden: cannot write %s\n", argv[1]);
        return 1;
    }
    int status = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sb_val args = sb_json_parse(cases[i].args, strlen(cases[i].args));
        sb_val r = sb_solver_call("plan_search_grid", args);
        char *json = sb_val_to_json(r, 0);
        if (!json) {
            status = 1;
            continue;
        }
        fprintf(out, "== %s\n", cases[i].name);
        if (cases[i].hash) {
            const sb_val *sc = sb_map_get_str(r, "structuredContent");
            const sb_val *n = sc ? sb_map_get_str(*sc, "trial_count") : NULL;
            const sb_val *t = sc ? sb_map_get_str(*sc, "total_estimated_cost_usd") : NULL;
            char *tj = t ? sb_val_to_json(*t, 0) : NULL;
            fprintf(out, "trials %lld, total %s, %zu bytes, fnv1a %016llx\n", n ? (long long)n->as.i : -1,
                    tj ? tj : "-", strlen(json), (unsigned long long)fnv1a(json));
            sb_free(tj);
        } else {
            fprintf(out, "%s\n", json);
        }
        sb_free(json);
        sb_val_free(r);
        sb_val_free(args);
    }
    if (fclose(out) != 0)
        status = 1;
    return status;
}
