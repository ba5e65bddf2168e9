/* plan_search_grid: the headline sweep, budgets, ranges, errors, limits and
 * determinism. The planner's contract is docs/mcp-tools-solver.md. */
#include "solver_test_util.h"

#define SPACE_3X3X3                                                                                                    \
    "\"parameter_space\":{\"learning_rate\":[0.0001,0.001,0.01],\"batch_size\":[32,64,128],"                           \
    "\"dropout\":[0.1,0.3,0.5]}"
#define COST_HEADLINE                                                                                                  \
    "\"cost_model\":{\"gpu_hour_usd\":12.60,\"gpus_per_trial\":1,\"base_hours\":2.0,\"duration_scale\":"               \
    "{\"batch_size\":{\"32\":1.15,\"64\":1.0,\"128\":0.85}},\"retry_reserve_fraction\":0.08}"

static const char *headline(double budget)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"budget_usd\":%g," SPACE_3X3X3 "," COST_HEADLINE ",\"max_concurrent\":5,"
             "\"max_trials\":null}",
             budget);
    return buf;
}

/* Longest processing time first onto k slots, written out plainly. */
static double lpt(sb_val trials, int k)
{
    size_t n = sb_list_len(trials);
    double *h = malloc(n * sizeof *h), load[64] = {0};
    for (size_t i = 0; i < n; i++)
        h[i] = num(get(*sb_list_at(trials, i), "estimated_duration_hours"));
    for (size_t i = 0; i < n; i++) /* selection sort, descending */
        for (size_t j = i + 1; j < n; j++)
            if (h[j] > h[i]) {
                double t = h[i];
                h[i] = h[j];
                h[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        int m = 0;
        for (int s = 1; s < k; s++)
            if (load[s] < load[m])
                m = s;
        load[m] += h[i];
    }
    double w = 0;
    for (int s = 0; s < k; s++)
        w = load[s] > w ? load[s] : w;
    free(h);
    return w;
}

static void test_headline_18_trials(void)
{
    sb_val r = call_json(headline(500));
    plan_stats st = check_plan(r, 12.60);
    sb_val sc = sc_of(r);
    CHECK_INT(st.trials, 18);
    CHECK_INT(int_of(get(sc, "grid_size")), 27);
    CHECK(get(sc, "full_grid")->kind == SB_BOOL && !get(sc, "full_grid")->as.b);
    CHECK_INT(st.level_spread, 0);
    CHECK_INT(st.duplicates, 0);
    /* 18 trials over 9 cells of each parameter pair: every pair exactly twice */
    CHECK_INT(st.pair_spread, 0);
    const sb_val *lc = get(sc, "level_counts");
    CHECK_INT(int_of(get(*get(*lc, "learning_rate"), "0.0001")), 6);
    CHECK_INT(int_of(get(*get(*lc, "learning_rate"), "0.001")), 6);
    CHECK_INT(int_of(get(*get(*lc, "learning_rate"), "0.01")), 6);
    CHECK_INT(int_of(get(*get(*lc, "batch_size"), "32")), 6);
    CHECK_INT(int_of(get(*get(*lc, "batch_size"), "64")), 6);
    CHECK_INT(int_of(get(*get(*lc, "batch_size"), "128")), 6);
    CHECK_INT(int_of(get(*get(*lc, "dropout"), "0.1")), 6);
    CHECK_INT(int_of(get(*get(*lc, "dropout"), "0.3")), 6);
    CHECK_INT(int_of(get(*get(*lc, "dropout"), "0.5")), 6);
    double total = num(get(sc, "total_estimated_cost_usd"));
    CHECK(fabs(total - 453.6) < 1e-9);
    CHECK(num(get(sc, "budget_usd")) == 500);
    CHECK(num(get(sc, "retry_reserve_usd")) == 500 * 0.08);
    CHECK(num(get(sc, "planning_budget_usd")) == 500 - 500 * 0.08);
    CHECK_INT(int_of(get(sc, "max_concurrent")), 5);
    /* a 19th trial does not fit: even the cheapest (batch 128) is $21.42 */
    CHECK(total + 2.0 * 0.85 * 12.60 > 460);
    CHECK(num(get(sc, "estimated_wall_clock_hours")) == lpt(*get(sc, "trials"), 5));
    CHECK(num(get(sc, "estimated_wall_clock_hours")) == 8.0);
    const sb_val *ex = get(sc, "excluded");
    CHECK_INT(int_of(get(*ex, "count")), 9);
    CHECK_STR(sb_str(*get(*ex, "by")), "budget");
    CHECK_STR(sb_str(*get(*ex, "reason")),
              "budget: 9 more trials would cost about $226.80, over the $460.00 planning budget; even the cheapest "
              "next trial ($21.42) does not fit the $6.40 left");
    CHECK_STR(sb_str(*get(sc, "summary")),
              "Planned 18 of 27 combinations for an estimated $453.60 (planning budget $460.00: $500.00 minus a "
              "$40.00 retry reserve); about 8.00 h of wall clock with 5 at a time. Left out 9 (budget).");
    /* per-trial estimates follow the duration scale */
    const sb_val *t1 = sb_list_at(*get(sc, "trials"), 0);
    double h = num(get(*t1, "estimated_duration_hours"));
    long long bs = int_of(get(*get(*t1, "hyperparameters"), "batch_size"));
    CHECK(h == (bs == 32 ? 2.0 * 1.15 : bs == 64 ? 2.0 : 2.0 * 0.85));
    sb_val_free(r);
}

static void test_budget_200(void)
{
    sb_val r = call_json(headline(200));
    plan_stats st = check_plan(r, 12.60);
    sb_val sc = sc_of(r);
    CHECK(st.trials < 18 && st.trials >= 6); /* $184 / $28.98 >= 6 */
    CHECK(st.level_spread <= 1);
    CHECK(st.pair_spread <= 1);
    CHECK(num(get(sc, "planning_budget_usd")) == 200 - 200 * 0.08);
    CHECK(num(get(sc, "total_estimated_cost_usd")) <= 184);
    CHECK_STR(sb_str(*get(*get(sc, "excluded"), "by")), "budget");
    printf("  $200: %ld trials, $%.2f\n", st.trials, num(get(sc, "total_estimated_cost_usd")));
    sb_val_free(r);
}

/* As many trials as fit: in the headline space only batch size changes the
 * cost, so the most trials a balanced plan can have under a budget is known
 * in closed form: N = 3q + r trials cost at least 25.20 x (3q + the r cheapest
 * multipliers 0.85, 1.0). The planner must reach it for every budget. */
static void test_fills_budget(void)
{
    int mismatches = 0;
    for (double budget = 23.5; budget < 760; budget += 3.7) {
        double planning = budget - budget * 0.08;
        int best = 0;
        for (int n = 1; n <= 27; n++) {
            int q = n / 3, r = n % 3;
            double units = 3.0 * q + (r >= 1 ? 0.85 : 0) + (r >= 2 ? 1.0 : 0);
            if (units * 25.2 <= planning + 1e-9)
                best = n;
        }
        sb_val res = call_json(headline(budget));
        long long got = is_error_result(res) ? 0 : int_of(get(sc_of(res), "trial_count"));
        if (got != best) {
            mismatches++;
            fprintf(stderr, "  budget %.2f: %lld trials, %d fit\n", budget, got, best);
        }
        if (got > 0) {
            plan_stats st = check_plan(res, 12.60);
            CHECK(st.level_spread <= 1);
            CHECK_INT(st.duplicates, 0);
        }
        sb_val_free(res);
    }
    CHECK_INT(mismatches, 0);
}

static void test_full_grid_when_it_fits(void)
{
    sb_val r = call_json(headline(1000));
    plan_stats st = check_plan(r, 12.60);
    sb_val sc = sc_of(r);
    CHECK_INT(st.trials, 27);
    CHECK(get(sc, "full_grid")->as.b);
    CHECK_INT(st.pair_spread, 0);
    CHECK(fabs(num(get(sc, "total_estimated_cost_usd")) - 680.4) < 1e-9);
    const sb_val *ex = get(sc, "excluded");
    CHECK_INT(int_of(get(*ex, "count")), 0);
    CHECK(get(*ex, "by")->kind == SB_NULL && get(*ex, "reason")->kind == SB_NULL);
    /* the grid in index order: last parameter fastest */
    const sb_val *t2 = get(*sb_list_at(*get(sc, "trials"), 1), "hyperparameters");
    CHECK(num(get(*t2, "learning_rate")) == 0.0001 && int_of(get(*t2, "batch_size")) == 32 &&
          num(get(*t2, "dropout")) == 0.3);
    sb_val_free(r);
}

/* 26 of 27 combinations fit: built from the other side, one left out. */
static void test_dense_plan(void)
{
    sb_val r = call_json("{\"budget_usd\":26," SPACE_3X3X3 ",\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,"
                         "\"retry_reserve_fraction\":0}}");
    plan_stats st = check_plan(r, 1);
    CHECK_INT(st.trials, 26);
    CHECK(st.level_spread <= 1);
    CHECK(st.pair_spread <= 1);
    CHECK_INT(st.duplicates, 0);
    sb_val_free(r);
    /* with the headline's costs the dearest combination goes */
    r = call_json(headline((680.4 - 28.98) / 0.92 + 0.01));
    st = check_plan(r, 12.60);
    CHECK_INT(st.trials, 26);
    CHECK(st.level_spread <= 1);
    sb_val_free(r);
}

static void test_5x5x5x4(void)
{
    sb_val r = call_json("{\"budget_usd\":3000,\"parameter_space\":{\"lr\":[0.0001,0.0003,0.001,0.003,0.01],"
                         "\"batch\":[16,32,64,128,256],\"dropout\":[0.0,0.1,0.2,0.3,0.4],"
                         "\"optimizer\":[\"adam\",\"sgd\",\"adamw\",\"lamb\"]},\"cost_model\":{\"gpu_hour_usd\":"
                         "12.60,\"base_hours\":1.5,\"gpus_per_trial\":2,\"duration_scale\":{\"batch\":{\"16\":1.4,"
                         "\"32\":1.2,\"64\":1,\"128\":0.9,\"256\":0.8},\"optimizer\":{\"sgd\":0.9}}},"
                         "\"max_concurrent\":8}");
    plan_stats st = check_plan(r, 12.60 * 2);
    sb_val sc = sc_of(r);
    CHECK_INT(int_of(get(sc, "grid_size")), 500);
    CHECK(st.trials > 50 && st.trials < 500);
    CHECK(st.level_spread <= 1);
    CHECK(st.pair_spread <= 2);
    CHECK_INT(st.duplicates, 0);
    /* sgd runs 0.9 as long: when counts differ it is the one with the extra trial */
    long long adam = int_of(get(*get(*get(sc, "level_counts"), "optimizer"), "adam"));
    long long sgd = int_of(get(*get(*get(sc, "level_counts"), "optimizer"), "sgd"));
    CHECK(sgd == adam || sgd == adam + 1);
    printf("  5x5x5x4: %ld trials, pair spread %d\n", st.trials, st.pair_spread);
    sb_val_free(r);
}

static void test_max_trials(void)
{
    sb_val r = call_json("{\"budget_usd\":500," SPACE_3X3X3 "," COST_HEADLINE ",\"max_trials\":7}");
    plan_stats st = check_plan(r, 12.60);
    sb_val sc = sc_of(r);
    CHECK_INT(st.trials, 7);
    CHECK(st.level_spread <= 1);
    CHECK_STR(sb_str(*get(*get(sc, "excluded"), "by")), "max_trials");
    CHECK_STR(sb_str(*get(*get(sc, "excluded"), "reason")), "max_trials: at most 7 trials were asked for");
    CHECK_INT(int_of(get(sc, "max_concurrent")), 1);
    /* one slot: the wall clock is the sum of the durations */
    double sum = 0;
    for (size_t i = 0; i < 7; i++)
        sum += num(get(*sb_list_at(*get(sc, "trials"), i), "estimated_duration_hours"));
    CHECK(fabs(num(get(sc, "estimated_wall_clock_hours")) - sum) < 1e-12);
    sb_val_free(r);
}

static const sb_val *counts_of(sb_val r, const char *param)
{
    return get(*get(sc_of(r), "level_counts"), param);
}

static void test_ranges(void)
{
    sb_val r = call_json("{\"budget_usd\":100000,\"parameter_space\":{"
                         "\"lr\":{\"min\":0.0001,\"max\":0.1,\"scale\":\"log\",\"steps\":4},"
                         "\"dropout\":{\"min\":0.1,\"max\":0.5,\"steps\":5},"
                         "\"batch\":{\"min\":16,\"max\":256,\"scale\":\"log\",\"steps\":5,\"integer\":true},"
                         "\"wd\":{\"min\":0,\"max\":1,\"scale\":\"linear\",\"steps\":1}},"
                         "\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1}}");
    check_plan(r, 1);
    char *lr = sb_val_to_json(*counts_of(r, "lr"), 0), *dr = sb_val_to_json(*counts_of(r, "dropout"), 0);
    char *bs = sb_val_to_json(*counts_of(r, "batch"), 0), *wd = sb_val_to_json(*counts_of(r, "wd"), 0);
    CHECK_STR(lr, "{\"0.0001\":25,\"0.001\":25,\"0.01\":25,\"0.1\":25}");
    CHECK_STR(dr, "{\"0.1\":20,\"0.2\":20,\"0.3\":20,\"0.4\":20,\"0.5\":20}");
    CHECK_STR(bs, "{\"16\":20,\"32\":20,\"64\":20,\"128\":20,\"256\":20}");
    CHECK_STR(wd, "{\"0.0\":100}"); /* range levels are doubles unless integer: true */
    const sb_val *hp = get(*sb_list_at(*get(sc_of(r), "trials"), 0), "hyperparameters");
    CHECK(get(*hp, "batch")->kind == SB_INT);
    CHECK(get(*hp, "lr")->kind == SB_DOUBLE);
    sb_free(lr);
    sb_free(dr);
    sb_free(bs);
    sb_free(wd);
    sb_val_free(r);
}

static char *sample_levels(const char *extra_param, int seed)
{
    char args[1024];
    snprintf(args, sizeof args,
             "{\"budget_usd\":1e6,\"seed\":%d,\"parameter_space\":{%s\"lr\":{\"min\":1e-5,\"max\":0.1,"
             "\"scale\":\"log\",\"samples\":6}},\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1}}",
             seed, extra_param);
    sb_val r = call_json(args);
    CHECK(!is_error_result(r));
    sb_buf keys = SB_BUF_INIT; /* the levels only: counts depend on the other parameters */
    const sb_val *lc = counts_of(r, "lr");
    for (size_t i = 0; lc && i < sb_map_len(*lc); i++)
        sb_buf_printf(&keys, "%s%s", i ? " " : "", sb_str(*sb_map_key_at(*lc, i)));
    sb_val_free(r);
    return sb_buf_take(&keys);
}

static void test_samples(void)
{
    char *a = sample_levels("", 7), *b = sample_levels("", 7), *c = sample_levels("", 8);
    char *d = sample_levels("\"other\":{\"min\":0,\"max\":1,\"samples\":3},", 7);
    CHECK_STR(a, b);          /* seeded: the same draws every time */
    CHECK(strcmp(a, c) != 0); /* another seed, other draws */
    CHECK_STR(d, a);          /* another parameter's draws do not disturb these */
    printf("  samples: %s\n", a);
    /* six distinct levels, ascending, inside [min, max] */
    double prev = 0;
    int n = 0;
    for (char *p = a; *p; n++) {
        char *end;
        double v = strtod(p, &end);
        CHECK(end != p && v >= 1e-5 && v <= 0.1 && v > prev);
        prev = v;
        p = *end ? end + 1 : end;
    }
    CHECK_INT(n, 6);
    /* a range's own seed overrides the call's */
    sb_val r = call_json("{\"budget_usd\":1e6,\"seed\":1,\"parameter_space\":{\"x\":{\"min\":1,\"max\":100,"
                         "\"samples\":4,\"integer\":true,\"seed\":9}},\"cost_model\":{\"gpu_hour_usd\":1,"
                         "\"base_hours\":1}}");
    sb_val r2 = call_json("{\"budget_usd\":1e6,\"seed\":2,\"parameter_space\":{\"x\":{\"min\":1,\"max\":100,"
                          "\"samples\":4,\"integer\":true,\"seed\":9}},\"cost_model\":{\"gpu_hour_usd\":1,"
                          "\"base_hours\":1}}");
    char *x1 = sb_val_to_json(*counts_of(r, "x"), 0), *x2 = sb_val_to_json(*counts_of(r2, "x"), 0);
    CHECK_STR(x1, x2);
    printf("  integer samples: %s\n", x1);
    sb_free(x1);
    sb_free(x2);
    sb_val_free(r);
    sb_val_free(r2);
    sb_free(a);
    sb_free(b);
    sb_free(c);
    sb_free(d);
}

static void test_unreachable_budget(void)
{
    sb_val r = call_json(headline(20));
    CHECK(is_error_result(r));
    CHECK_STR(result_text(r), "budget_usd: no trial fits: the cheapest trial is estimated at $21.42, over the "
                              "planning budget of $18.40 ($20.00 minus a retry reserve of $1.60)");
    CHECK_STR(sb_str(*get(sc_of(r), "error")), result_text(r));
    sb_val_free(r);
    /* exactly the cheapest trial fits */
    sb_val ok = call_json("{\"budget_usd\":21.42," SPACE_3X3X3 ",\"cost_model\":{\"gpu_hour_usd\":12.6,"
                          "\"base_hours\":1.7,\"retry_reserve_fraction\":0}}");
    CHECK(!is_error_result(ok));
    CHECK_INT(int_of(get(sc_of(ok), "trial_count")), 1);
    sb_val_free(ok);
}

typedef struct bad_case {
    const char *args, *message;
} bad_case;

#define OKSPACE "\"parameter_space\":{\"a\":[1,2]}"
#define OKCOST "\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1}"

static const bad_case bad_cases[] = {
    {"[]", "arguments: expected an object, got []"},
    {"{\"budget\":5," OKSPACE "," OKCOST "}",
     "unknown argument \"budget\" (expected budget_usd, parameter_space, cost_model, max_concurrent, max_trials, "
     "seed)"},
    {"{" OKSPACE "," OKCOST "}", "budget_usd: required (a number > 0)"},
    {"{\"budget_usd\":0," OKSPACE "," OKCOST "}", "budget_usd: expected a number > 0, got 0"},
    {"{\"budget_usd\":\"500\"," OKSPACE "," OKCOST "}", "budget_usd: expected a number > 0, got \"500\""},
    {"{\"budget_usd\":5," OKCOST "}",
     "parameter_space: required (an object of parameter name -> list of levels or range)"},
    {"{\"budget_usd\":5,\"parameter_space\":[1]," OKCOST "}",
     "parameter_space: expected an object of parameter name -> list of levels or range, got [1]"},
    {"{\"budget_usd\":5,\"parameter_space\":{}," OKCOST "}", "parameter_space: empty; give at least one parameter"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":[]}," OKCOST "}", "parameter_space.a: the list of levels is empty"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":[1,[2]]}," OKCOST "}",
     "parameter_space.a[1]: expected a number, string, bool or null, got [2]"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":[0.5,2,0.5]}," OKCOST "}",
     "parameter_space.a: level 0.5 appears twice"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":[32,\"32\"]}," OKCOST "}",
     "parameter_space.a: levels 32 and \"32\" share the key \"32\" used in level_counts and duration_scale"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":5}," OKCOST "}",
     "parameter_space.a: expected a list of levels or a range {min, max, scale, steps | samples}, got 5"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":1,\"max\":2}}," OKCOST "}",
     "parameter_space.a: a range needs exactly one of steps or samples"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"max\":2,\"steps\":2}}," OKCOST "}",
     "parameter_space.a: a range needs min"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":3,\"max\":2,\"steps\":2}}," OKCOST "}",
     "parameter_space.a: min must be below max"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":0,\"max\":2,\"steps\":2,\"scale\":\"log\"}}," OKCOST "}",
     "parameter_space.a: a log scale needs min > 0"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":1,\"max\":2,\"steps\":2,\"scale\":\"exp\"}}," OKCOST "}",
     "parameter_space.a.scale: expected \"linear\" or \"log\", got \"exp\""},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":1,\"max\":2,\"steps\":0}}," OKCOST "}",
     "parameter_space.a.steps: expected an integer from 1 to 10000, got 0"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":1,\"max\":2,\"samples\":2.5}}," OKCOST "}",
     "parameter_space.a.samples: expected an integer from 1 to 10000, got 2.5"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":1,\"max\":2,\"step\":2}}," OKCOST "}",
     "parameter_space.a: unknown key \"step\" in a range (expected min, max, scale, steps or samples, seed, "
     "integer)"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":1,\"max\":3,\"samples\":4,\"integer\":true}}," OKCOST "}",
     "parameter_space.a: more samples than whole numbers between min and max"},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":1,\"max\":1.0000000000001,\"steps\":3}}," OKCOST "}",
     "parameter_space.a: the steps are too fine: some levels coincide (after rounding)"},
    {"{\"budget_usd\":5," OKSPACE "}", "cost_model: required (an object {gpu_hour_usd, base_hours, ...})"},
    {"{\"budget_usd\":5," OKSPACE ",\"cost_model\":{\"base_hours\":1}}",
     "cost_model.gpu_hour_usd: required (a number >= 0)"},
    {"{\"budget_usd\":5," OKSPACE ",\"cost_model\":{\"gpu_hour_usd\":-1,\"base_hours\":1}}",
     "cost_model.gpu_hour_usd: expected a number >= 0, got -1"},
    {"{\"budget_usd\":5," OKSPACE ",\"cost_model\":{\"gpu_hour_usd\":1}}",
     "cost_model.base_hours: required (a number > 0)"},
    {"{\"budget_usd\":5," OKSPACE ",\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,\"gpus_per_trial\":0}}",
     "cost_model.gpus_per_trial: expected a number > 0, got 0"},
    {"{\"budget_usd\":5," OKSPACE ",\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,\"retry_reserve_fraction\":1}}",
     "cost_model.retry_reserve_fraction: expected a number from 0 up to (not including) 1, got 1"},
    {"{\"budget_usd\":5," OKSPACE ",\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,\"duration_scale\":[]}}",
     "cost_model.duration_scale: expected an object of parameter name -> {level: multiplier}, got []"},
    /* Entries for parameters or levels the space lacks are ignored, but
     * their multipliers must still be numbers > 0. */
    {"{\"budget_usd\":5," OKSPACE
     ",\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,\"duration_scale\":{\"a\":{\"3\":\"x\"}}}}",
     "cost_model.duration_scale.a.\"3\": expected a number > 0, got \"x\""},
    {"{\"budget_usd\":5," OKSPACE
     ",\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,\"duration_scale\":{\"a\":{\"1\":0}}}}",
     "cost_model.duration_scale.a.\"1\": expected a number > 0, got 0"},
    {"{\"budget_usd\":5," OKSPACE
     ",\"cost_model\":{\"gpu_hour_usd\":1,\"base_hours\":1,\"duration_scale\":{\"a\":{\"1\":2,\"1.0\":3}}}}",
     "cost_model.duration_scale.a.\"1.0\": level 1 already has a multiplier"},
    {"{\"budget_usd\":5," OKSPACE "," OKCOST ",\"max_concurrent\":0}",
     "max_concurrent: expected an integer >= 1, got 0"},
    {"{\"budget_usd\":5," OKSPACE "," OKCOST ",\"max_trials\":-3}",
     "max_trials: expected null or an integer >= 1, got -3"},
    {"{\"budget_usd\":5," OKSPACE "," OKCOST ",\"seed\":\"x\"}", "seed: expected an integer >= 0, got \"x\""},
    {"{\"budget_usd\":5,\"parameter_space\":{\"a\":{\"min\":1,\"max\":2,\"steps\":10000},"
     "\"b\":{\"min\":1,\"max\":2,\"steps\":10000}}," OKCOST "}",
     "parameter_space: too many level pairs to balance (over 16777216); use fewer levels"},
};

static void test_bad_arguments(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
        sb_val r = call_json(bad_cases[i].args);
        CHECK(is_error_result(r));
        if (strcmp(result_text(r), bad_cases[i].message) != 0)
            fprintf(stderr, "  case %zu: %s\n", i, bad_cases[i].args);
        CHECK_STR(result_text(r), bad_cases[i].message);
        CHECK_STR(sb_str(*get(sc_of(r), "error")), bad_cases[i].message);
        sb_val_free(r);
    }
    /* not a tool of the Solver */
    sb_val a = parse_json("{}");
    sb_val r = sb_solver_call("plan_grid", a);
    CHECK(is_error_result(r));
    CHECK_STR(result_text(r), "unknown tool \"plan_grid\" (the Solver has plan_search_grid and suggest_trials)");
    sb_val_free(r);
    r = sb_solver_call(NULL, a);
    CHECK(is_error_result(r));
    sb_val_free(r);
    sb_val_free(a);
}

/* duration_scale keys name levels by their JSON text or the number they
 * spell; strings by their own text. */
static void test_duration_scale_keys(void)
{
    sb_val r = call_json("{\"budget_usd\":1000,\"parameter_space\":{\"opt\":[\"adam\",\"sgd\"],\"bs\":[64,128]},"
                         "\"cost_model\":{\"gpu_hour_usd\":10,\"base_hours\":1,\"retry_reserve_fraction\":0,"
                         "\"duration_scale\":{\"opt\":{\"sgd\":0.5},\"bs\":{\"64.0\":2,\"1.28e2\":1}}}}");
    check_plan(r, 10);
    sb_val trials = *get(sc_of(r), "trials");
    CHECK_INT(sb_list_len(trials), 4);
    for (size_t i = 0; i < sb_list_len(trials); i++) {
        sb_val t = *sb_list_at(trials, i);
        const sb_val *hp = get(t, "hyperparameters");
        double want = (sb_str_eq(*get(*hp, "opt"), "sgd") ? 0.5 : 1) * (int_of(get(*hp, "bs")) == 64 ? 2 : 1);
        CHECK(num(get(t, "estimated_duration_hours")) == want);
        CHECK(num(get(t, "estimated_cost_usd")) == want * 10);
    }
    sb_val_free(r);
}

static void test_tools_list(void)
{
    size_t n = 0;
    const sb_tool_desc *t = sb_solver_tools(&n);
    CHECK_INT(n, 2);
    CHECK_STR(t[0].name, "plan_search_grid");
    CHECK_STR(t[1].name, "suggest_trials");
    sb_val sg = parse_json(t[1].input_schema_json);
    const sb_val *sgp = sg.kind == SB_MAP ? get(sg, "properties") : NULL;
    CHECK(sgp && get(*sgp, "trials") && get(*sgp, "remaining_usd") && get(*sgp, "metric") &&
          get(*sgp, "max_in_flight"));
    sb_val_free(sg);
    CHECK(strlen(t[0].description) > 40);
    sb_val schema = parse_json(t[0].input_schema_json);
    CHECK(schema.kind == SB_MAP);
    CHECK_STR(sb_str(*get(schema, "type")), "object");
    const sb_val *props = get(schema, "properties");
    CHECK(props && get(*props, "budget_usd") && get(*props, "parameter_space") && get(*props, "cost_model") &&
          get(*props, "max_concurrent") && get(*props, "max_trials") && get(*props, "seed"));
    sb_val_free(schema);
    /* the MCP server's tool-function shape gives the same answers */
    sb_val a = parse_json("{\"budget_usd\":20,\"parameter_space\":{\"a\":[1]},\"cost_model\":{\"gpu_hour_usd\":1,"
                          "\"base_hours\":1}}");
    sb_val r1 = sb_solver_call("plan_search_grid", a), r2 = sb_solver_mcp_tool(NULL, 12345, "plan_search_grid", a);
    CHECK_STR(result_text(r1), result_text(r2));
    CHECK(!is_error_result(r2));
    sb_val_free(r1);
    sb_val_free(r2);
    sb_val_free(a);
}

static void test_deterministic(void)
{
    const char *args = "{\"budget_usd\":300,\"seed\":3,\"parameter_space\":{\"lr\":{\"min\":1e-4,\"max\":1e-1,"
                       "\"scale\":\"log\",\"samples\":5},\"bs\":[16,32,64,128],\"wd\":{\"min\":0,\"max\":0.1,"
                       "\"steps\":3},\"opt\":[\"adam\",\"sgd\"]},\"cost_model\":{\"gpu_hour_usd\":3.1,"
                       "\"base_hours\":1.3,\"duration_scale\":{\"bs\":{\"16\":1.3,\"128\":0.7},\"opt\":{\"sgd\":"
                       "0.95}}},\"max_concurrent\":3}";
    sb_val a = call_json(args), b = call_json(args);
    CHECK_STR(result_text(a), result_text(b));
    plan_stats st = check_plan(a, 3.1);
    CHECK(st.level_spread <= 1);
    CHECK(st.trials > 0 && st.trials < 120);
    sb_val_free(a);
    sb_val_free(b);
}

/* 20 x 20 x 20 x 13 = 104,000 combinations, 10,000 trials. */
static void test_large_space(void)
{
    char args[512];
    snprintf(args, sizeof args,
             "{\"budget_usd\":10000,\"parameter_space\":{\"a\":{\"min\":1,\"max\":20,\"steps\":20},"
             "\"b\":{\"min\":0.001,\"max\":1,\"scale\":\"log\",\"steps\":20},\"c\":{\"min\":0,\"max\":1,"
             "\"samples\":20},\"d\":{\"min\":1,\"max\":13,\"steps\":13,\"integer\":true}},\"cost_model\":"
             "{\"gpu_hour_usd\":1,\"base_hours\":1,\"retry_reserve_fraction\":0},\"max_concurrent\":50}");
    sb_val r = call_json(args);
    plan_stats st = check_plan(r, 1);
    CHECK_INT(int_of(get(sc_of(r), "grid_size")), 104000);
    CHECK_INT(st.trials, 10000);
    CHECK(st.level_spread <= 1);
    CHECK_INT(st.duplicates, 0);
    CHECK(st.pair_spread <= 3);
    printf("  104,000 combinations: %ld trials, pair spread %d\n", st.trials, st.pair_spread);
    sb_val_free(r);
}

SB_TEST_MAIN(TEST(test_headline_18_trials) TEST(test_budget_200) TEST(test_fills_budget)
                 TEST(test_full_grid_when_it_fits) TEST(test_dense_plan) TEST(test_5x5x5x4) TEST(test_max_trials)
                     TEST(test_ranges) TEST(test_samples) TEST(test_unreachable_budget) TEST(test_bad_arguments)
                         TEST(test_duration_scale_keys) TEST(test_tools_list) TEST(test_deterministic)
                             TEST(test_large_space))
