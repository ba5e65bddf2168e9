/* Evaluations whose result is a scalar allocate nothing: no context, no
 * locals, no intermediate values (optional chains ending in orValue(),
 * hasValue() or value() included), so a pipeline's conditions cost no heap
 * traffic. Counted with a counting allocator (sb_alloc_set). */
#include <stdlib.h>
#include <string.h>

#include "cel/sb_cel.h"
#include "json/sb_json.h"
#include "sb_test.h"
#include "util/sb_alloc.h"

static long allocs;

static void *counting(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    allocs++;
    return realloc(p, n);
}

static void test_scalar_results_do_not_allocate(void)
{
    static const char vj[] = "{\"jobs\": {\"status\": {\"failed_count\": 2}}, \"error\": {\"type\": \"transient\"},"
                             " \"job\": {\"hyperparameters\": {\"learning_rate\": 0.01}, \"outputs\": {\"m\": {}}},"
                             " \"metrics\": {\"val_acc\": 0.9}, \"r\": [1, 2, 3]}";
    static const char *const exprs[] = {
        "jobs.status.failed_count > 0",
        "error.type == 'transient' && !(error.type in ['fatal', 'oom'])",
        "job.hyperparameters.learning_rate * 0.5",
        "metrics.?val_acc.orValue(0.0)",
        "metrics.?loss.orValue(1.5)",
        "job.?outputs.?m.?val_acc.orValue(-1.0)",
        "job.?outputs.m.loss.hasValue()",
        "metrics.?val_acc.value() > 0.5",
        "duration('1h') + duration('30m') > duration('90m')",
        "r.exists(x, x > 2) && r.all(x, x > 0)",
        "size(r) + size('abc')",
    };
    sb_val vars = sb_json_parse(vj, sizeof vj - 1);
    CHECK(vars.kind == SB_MAP);
    for (size_t i = 0; i < sizeof exprs / sizeof *exprs; i++) {
        sb_cel_program *p = sb_cel_parse(exprs[i], strlen(exprs[i]), NULL, NULL);
        CHECK(p != NULL);
        allocs = 0;
        sb_alloc_set(counting, NULL);
        sb_val r = sb_cel_eval(p, vars);
        sb_alloc_set(NULL, NULL);
        if (allocs != 0 || r.kind == SB_ERROR)
            fprintf(stderr, "%s: %ld allocations, %s\n", exprs[i], allocs, sb_kind_name(r.kind));
        CHECK(allocs == 0 && r.kind != SB_ERROR);
        sb_val_free(r);
        sb_cel_program_free(p);
    }
    sb_val_free(vars);
}

SB_TEST_MAIN(TEST(test_scalar_results_do_not_allocate))
