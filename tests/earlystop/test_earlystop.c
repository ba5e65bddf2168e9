/* The early-stopping rule as data: each case is a rule and a sequence of
 * reports (job, step, value) with the verdict expected for each ('.'
 * continue, 'S' stop) and, for stops, the rung judged at. */
#include <math.h>
#include <stdint.h>

#include "earlystop/sb_earlystop.h"
#include "sb_failalloc.h"
#include "sb_test.h"

typedef struct report {
    int job;
    int64_t step;
    double value;
    char verdict;  /* '.' or 'S' */
    int64_t rung;  /* for 'S': the rung judged at */
} report;

typedef struct es_case {
    const char *name;
    sb_estop_kind kind;
    bool maximize;
    int64_t rungs[4];
    size_t nrungs;
    int64_t min_steps;
    double rf;
    uint32_t grace;
    report reports[16];
} es_case;

#define END {-1, 0, 0, 0, 0}

static const es_case cases[] = {
    /* rungs 1, 3, 9 (min_steps 1, rf 3); grace 3: the third job at a rung
     * is the first that can be stopped; keep floor(n/3) best. */
    {"asha derived rungs, max", SB_ESTOP_ASHA, true, {0}, 0, 1, 3, 3,
     {{0, 1, 50, '.', 0}, {1, 1, 60, '.', 0}, {2, 1, 40, 'S', 1}, {3, 1, 70, '.', 0},
      {0, 2, 55, '.', 0}, /* no rung between 1 and 3 */
      {0, 3, 58, '.', 0}, {1, 3, 62, '.', 0}, {3, 3, 61, 'S', 3}, END}},
    {"asha min mode (loss)", SB_ESTOP_ASHA, false, {2, 4}, 2, 1, 2, 2,
     {{0, 2, 0.9, '.', 0}, {1, 2, 0.5, '.', 0}, {2, 2, 0.7, 'S', 2}, {3, 2, 0.4, '.', 0}, END}},
    {"asha ties keep the earlier job", SB_ESTOP_ASHA, true, {1}, 1, 1, 2, 2,
     {{0, 1, 5, '.', 0}, {1, 1, 5, 'S', 1}, END}},
    {"asha NaN (diverged) is worst", SB_ESTOP_ASHA, true, {1}, 1, 1, 2, 2,
     {{0, 1, NAN, '.', 0}, {1, 1, 1, '.', 0}, {2, 1, NAN, 'S', 1}, END}},
    {"a jump over rungs is judged at the highest", SB_ESTOP_ASHA, true, {1, 3, 9}, 3, 1, 3, 1,
     {{0, 9, 80, '.', 0}, {1, 10, 70, 'S', 9}, {1, 11, 90, '.', 0}, /* past its last rung */ END}},
    {"before the first rung nothing is judged", SB_ESTOP_ASHA, true, {5}, 1, 1, 3, 1,
     {{0, 4, 1, '.', 0}, {1, 4, 0, '.', 0}, {0, 5, 10, '.', 0}, {1, 5, 0, 'S', 5}, END}},
    /* median: from min_steps 2, every step; grace 2 others. */
    {"median every step from min_steps", SB_ESTOP_MEDIAN, true, {0}, 0, 2, 3, 2,
     {{0, 1, 10, '.', 0}, {0, 2, 10, '.', 0}, {1, 2, 20, '.', 0}, {2, 2, 14, 'S', 2}, /* median of 10, 20: 15 */
      {3, 2, 14, '.', 0}, /* median of 10, 20, 14: 14, not worse */ END}},
    {"median min mode", SB_ESTOP_MEDIAN, false, {3}, 1, 1, 3, 1,
     {{0, 3, 0.5, '.', 0}, {1, 3, 0.6, 'S', 3}, {2, 3, 0.4, '.', 0}, END}},
};

static void run_case(const es_case *c, bool check)
{
    sb_estop_rule rule;
    sb_estop_rule_init(&rule, c->kind);
    rule.maximize = c->maximize;
    for (size_t k = 0; k < c->nrungs; k++)
        rule.rungs[k] = c->rungs[k];
    rule.nrungs = c->nrungs;
    rule.min_steps = c->min_steps;
    rule.reduction_factor = c->rf;
    rule.grace = c->grace;
    sb_estop *e = sb_estop_new(&rule);
    if (!e) {
        if (check) {
            fprintf(stderr, "%s: rule refused\n", c->name);
            CHECK(e != NULL);
        }
        return;
    }
    uint32_t cursor[8] = {0};
    for (const report *r = c->reports; r->job >= 0; r++) {
        sb_estop_decision d;
        uint32_t before = cursor[r->job];
        sb_estop_verdict v = sb_estop_report(e, &cursor[r->job], r->step, r->value, &d);
        if (v == SB_ESTOP_OOM) {
            if (check)
                CHECK(v != SB_ESTOP_OOM);
            CHECK(cursor[r->job] == before); /* nothing changed */
            break;
        }
        if (!check)
            continue;
        char got = v == SB_ESTOP_STOP ? 'S' : '.';
        if (got != r->verdict || (got == 'S' && d.rung != r->rung)) {
            sb_test_failures++;
            fprintf(stderr, "%s: report %d (job %d step %lld value %g): got %c at rung %lld (bar %g, n %zu), want %c "
                            "at rung %lld\n",
                    c->name, (int)(r - c->reports), r->job, (long long)r->step, r->value, got, (long long)d.rung, d.bar,
                    d.n, r->verdict, (long long)r->rung);
        }
        sb_test_checks++;
    }
    sb_estop_free(e);
}

static void test_cases(void)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        run_case(&cases[k], true);
}

static const es_case *oom_case;
static void run_oom(bool check) { run_case(oom_case, check); }

/* Every case, with allocation failing at each point: a clean refusal, no
 * leak, and the same verdicts once memory suffices. */
static void test_out_of_memory(void)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        oom_case = &cases[k];
        sb_failalloc_until_enough(run_oom);
    }
}

static void test_rules_out_of_range(void)
{
    sb_estop_rule r;
    sb_estop_rule_init(&r, SB_ESTOP_ASHA);
    r.reduction_factor = 1;
    CHECK(sb_estop_new(&r) == NULL);
    sb_estop_rule_init(&r, SB_ESTOP_ASHA);
    r.min_steps = 0;
    CHECK(sb_estop_new(&r) == NULL);
    sb_estop_rule_init(&r, SB_ESTOP_MEDIAN);
    r.rungs[0] = 3;
    r.rungs[1] = 3;
    r.nrungs = 2;
    CHECK(sb_estop_new(&r) == NULL);
    sb_estop_free(NULL);
}

static void test_derived_rungs(void)
{
    sb_estop_rule r;
    sb_estop_rule_init(&r, SB_ESTOP_ASHA);
    r.min_steps = 2;
    r.reduction_factor = 1.5; /* 2, 3, 4.5 -> 5 (rounded half up), 6.75 -> 7 */
    sb_estop *e = sb_estop_new(&r);
    CHECK(e && sb_estop_rung_step(e, 0) == 2 && sb_estop_rung_step(e, 1) == 3 && sb_estop_rung_step(e, 2) == 5 &&
          sb_estop_rung_step(e, 3) == 7);
    sb_estop_free(e);
    sb_estop_rule_init(&r, SB_ESTOP_MEDIAN);
    r.min_steps = 4;
    e = sb_estop_new(&r);
    CHECK(e && sb_estop_rung_step(e, 0) == 4 && sb_estop_rung_step(e, 10) == 14 &&
          sb_estop_rung_step(e, SB_ESTOP_MAX_RUNGS) == -1);
    sb_estop_free(e);
}

SB_TEST_MAIN(TEST(test_cases) TEST(test_out_of_memory) TEST(test_rules_out_of_range) TEST(test_derived_rungs))
