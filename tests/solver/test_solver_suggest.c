/* suggest_trials: the balanced start, never a configuration tried or in
 * flight, the model's pick, the money and in-flight limits, failures, bad
 * arguments, determinism, and failing allocations. */
#include <string.h>

#include "solver_test_util.h"

#define SPACE "{\"learning_rate\":[0.0001,0.001,0.01],\"batch_size\":[32,64,128],\"dropout\":[0.3,0.5,0.7]}"
#define COST                                                                                                           \
    "{\"gpu_hour_usd\":12.6,\"gpus_per_trial\":1,\"base_hours\":2,\"retry_reserve_fraction\":0.08,"                    \
    "\"duration_scale\":{\"batch_size\":{\"32\":1.15,\"64\":1,\"128\":0.85}}}"

static sb_val suggest(const char *extra)
{
    char buf[16384];
    snprintf(buf, sizeof buf,
             "{\"budget_usd\":500,\"parameter_space\":" SPACE ",\"cost_model\":" COST ",\"metric\":\"val_acc\"%s%s}",
             *extra ? "," : "", extra);
    sb_val a = parse_json(buf);
    sb_val r = sb_solver_call("suggest_trials", a);
    sb_val_free(a);
    return r;
}

static const sb_val *trials_of(sb_val r)
{
    return get(sc_of(r), "trials");
}

/* A made-up additive surface with its best at (lr index bl, batch bb, dropout bd). */
static double score(int l, int b, int d, int bl, int bb, int bd)
{
    return 86 - 3 * abs(l - bl) - 1.3 * abs(b - bb) - 0.9 * abs(d - bd);
}

static const double LR[] = {0.0001, 0.001, 0.01};
static const int BS[] = {32, 64, 128};
static const double DO[] = {0.3, 0.5, 0.7};

static int index_of(const double *xs, double x)
{
    for (int i = 0; i < 3; i++)
        if (xs[i] == x)
            return i;
    return -1;
}

static void combo(sb_val t, int *l, int *b, int *d)
{
    const sb_val *h = get(t, "hyperparameters");
    *l = index_of(LR, num(get(*h, "learning_rate")));
    *b = index_of((const double[]){32, 64, 128}, num(get(*h, "batch_size")));
    *d = index_of(DO, num(get(*h, "dropout")));
}

static void test_initial_design_is_balanced(void)
{
    sb_val r = suggest("");
    CHECK(!is_error_result(r));
    const sb_val *t = trials_of(r);
    CHECK(t && sb_list_len(*t) == 9);
    CHECK_STR(sb_str(*get(sc_of(r), "phase")), "initial");
    int nl[3] = {0}, nb[3] = {0}, nd[3] = {0}, pairs[3][3] = {{0}};
    for (size_t i = 0; t && i < sb_list_len(*t); i++) {
        int l, b, d;
        combo(*sb_list_at(*t, i), &l, &b, &d);
        CHECK(l >= 0 && b >= 0 && d >= 0);
        if (l < 0 || b < 0 || d < 0)
            continue;
        nl[l]++, nb[b]++, nd[d]++, pairs[l][b]++;
        CHECK_STR(sb_str(*get(*sb_list_at(*t, i), "source")), "initial");
    }
    for (int k = 0; k < 3; k++) {
        CHECK_INT(nl[k], 3);
        CHECK_INT(nb[k], 3);
        CHECK_INT(nd[k], 3);
        for (int m = 0; m < 3; m++)
            CHECK_INT(pairs[k][m], 1); /* a Latin square: every (lr, batch) pair once */
    }
    /* Deterministic: the same arguments, the same bytes. */
    sb_val r2 = suggest("");
    CHECK_STR(result_text(r), result_text(r2));
    sb_val_free(r);
    sb_val_free(r2);
}

/* Appends {"hyperparameters":..., "status": st[, "metrics": {"val_acc": y}]} to b. */
static void trial_json(sb_buf *b, int l, int bb, int d, const char *st, double y)
{
    sb_buf_printf(b, "%s{\"hyperparameters\":{\"learning_rate\":%g,\"batch_size\":%d,\"dropout\":%g},\"status\":\"%s\"",
                  sb_buf_str(b)[b->len - 1] == '[' ? "" : ",", LR[l], BS[bb], DO[d], st);
    if (!strcmp(st, "completed"))
        sb_buf_printf(b, ",\"metrics\":{\"val_acc\":%.2f}", y);
    sb_buf_puts(b, "}");
}

/* The balanced start, completed, on a surface with its best at (bl, bb, bd):
 * the model's first pick is the best, wherever it is. */
static void test_model_finds_the_best(void)
{
    for (int bl = 0; bl < 3; bl++)
        for (int bb = 0; bb < 3; bb++)
            for (int bd = 0; bd < 3; bd += 2) {
                sb_val r0 = suggest("");
                const sb_val *t0 = trials_of(r0);
                sb_buf b = SB_BUF_INIT;
                sb_buf_puts(&b, "\"trials\":[");
                bool best_tried = false;
                for (size_t i = 0; t0 && i < sb_list_len(*t0); i++) {
                    int l, bt, d;
                    combo(*sb_list_at(*t0, i), &l, &bt, &d);
                    best_tried |= l == bl && bt == bb && d == bd;
                    trial_json(&b, l, bt, d, "completed", score(l, bt, d, bl, bb, bd));
                }
                sb_buf_puts(&b, "],\"max_in_flight\":1");
                sb_val r = suggest(sb_buf_str(&b));
                CHECK(!is_error_result(r));
                const sb_val *t = trials_of(r);
                if (!best_tried && t && sb_list_len(*t) == 1) {
                    int l, bt, d;
                    combo(*sb_list_at(*t, 0), &l, &bt, &d);
                    CHECK(l == bl && bt == bb && d == bd);
                    CHECK_STR(sb_str(*get(sc_of(r), "phase")), "model");
                    const sb_val *pb = get(sc_of(r), "predicted_best");
                    CHECK(pb && num(get(*get(*pb, "hyperparameters"), "batch_size")) == BS[bb]);
                } else {
                    CHECK(best_tried || (t && sb_list_len(*t) == 1));
                }
                sb_buf_free(&b);
                sb_val_free(r);
                sb_val_free(r0);
            }
}

/* Nothing tried, in flight or finished is proposed again; a full space stops. */
static void test_never_repeats(void)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "\"trials\":[");
    int n = 0;
    for (int l = 0; l < 3; l++)
        for (int bb = 0; bb < 3; bb++)
            for (int d = 0; d < 3; d++, n++)
                if (n != 13)
                    trial_json(&b, l, bb, d,
                               n % 3 == 0   ? "running"
                               : n % 3 == 1 ? "queued"
                                            : "completed",
                               score(l, bb, d, 0, 0, 0));
    sb_buf_puts(&b, "]");
    sb_val r = suggest(sb_buf_str(&b));
    const sb_val *t = trials_of(r);
    CHECK(t && sb_list_len(*t) == 1);
    if (t && sb_list_len(*t) == 1) {
        int l, bb, d;
        combo(*sb_list_at(*t, 0), &l, &bb, &d);
        CHECK(l * 9 + bb * 3 + d == 13); /* the one left */
    }
    sb_val_free(r);
    /* all 27 */
    b.len = 0;
    sb_buf_puts(&b, "\"trials\":[");
    for (int k = 0; k < 27; k++)
        trial_json(&b, k / 9, k / 3 % 3, k % 3, "completed", 80);
    sb_buf_puts(&b, "]");
    r = suggest(sb_buf_str(&b));
    CHECK(!is_error_result(r));
    CHECK_INT(sb_list_len(*trials_of(r)), 0);
    CHECK_STR(sb_str(*get(sc_of(r), "stop")), "space");
    sb_val_free(r);
    sb_buf_free(&b);
}

/* A failure leaves its configuration open for one more try; two close it. */
static void check_error(const char *extra, const char *want);

static void test_failures(void)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "\"trials\":[");
    for (int k = 0; k < 27; k++)
        if (k != 4)
            trial_json(&b, k / 9, k / 3 % 3, k % 3, "completed", 80);
    trial_json(&b, 0, 1, 1, "failed", 0); /* k = 4 */
    sb_buf_puts(&b, "]");
    /* By default a failure closes the combination: the pipeline's retry
     * step retries failed jobs, a new trial would pay twice. */
    sb_val r = suggest(sb_buf_str(&b));
    CHECK_INT(sb_list_len(*trials_of(r)), 0);
    CHECK_STR(sb_str(*get(sc_of(r), "stop")), "space");
    sb_val_free(r);
    /* retry_transient: one failure leaves it open, the second closes it. */
    sb_buf_puts(&b, ",\"retry_transient\":true");
    r = suggest(sb_buf_str(&b));
    CHECK_INT(sb_list_len(*trials_of(r)), 1);
    sb_val_free(r);
    b.len -= strlen(",\"retry_transient\":true") + 1;
    trial_json(&b, 0, 1, 1, "failed", 0);
    sb_buf_puts(&b, "],\"retry_transient\":true");
    r = suggest(sb_buf_str(&b));
    CHECK_INT(sb_list_len(*trials_of(r)), 0);
    CHECK_STR(sb_str(*get(sc_of(r), "stop")), "space");
    sb_val_free(r);
    check_error("\"retry_transient\":1", "retry_transient: expected null, true or false, got 1");
    /* one permanent failure closes it */
    b.len = 0;
    sb_buf_puts(&b, "\"trials\":[");
    for (int k = 0; k < 27; k++)
        if (k != 4)
            trial_json(&b, k / 9, k / 3 % 3, k % 3, "completed", 80);
    sb_buf_puts(&b, ",{\"hyperparameters\":{\"learning_rate\":0.0001,\"batch_size\":64,\"dropout\":0.5},"
                    "\"status\":\"failed\",\"error_type\":\"permanent\"}]");
    r = suggest(sb_buf_str(&b));
    CHECK(!is_error_result(r));
    CHECK_INT(sb_list_len(*trials_of(r)), 0);
    sb_val_free(r);
    sb_buf_free(&b);
}

/* Proposals fit the money left minus the reserve; max_in_flight caps them. */
static void test_money_and_slots(void)
{
    /* $500 budget, $40 reserve: $100 remaining leaves $60, two trials at most. */
    sb_val r = suggest("\"remaining_usd\":100");
    const sb_val *t = trials_of(r);
    CHECK(t && sb_list_len(*t) >= 2 && sb_list_len(*t) <= 2);
    double sum = 0;
    for (size_t i = 0; t && i < sb_list_len(*t); i++)
        sum += num(get(*sb_list_at(*t, i), "estimated_cost_usd"));
    CHECK(sum <= 60);
    CHECK_STR(sb_str(*get(sc_of(r), "stop")), "budget");
    sb_val_free(r);
    r = suggest("\"remaining_usd\":40");
    CHECK_INT(sb_list_len(*trials_of(r)), 0);
    CHECK_STR(sb_str(*get(sc_of(r), "stop")), "budget");
    sb_val_free(r);
    /* five in flight of at most five: nothing now */
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "\"max_in_flight\":5,\"trials\":[");
    for (int k = 0; k < 5; k++)
        trial_json(&b, k / 9, k / 3 % 3, k % 3, "running", 0);
    sb_buf_puts(&b, "]");
    r = suggest(sb_buf_str(&b));
    CHECK_INT(sb_list_len(*trials_of(r)), 0);
    CHECK_STR(sb_str(*get(sc_of(r), "stop")), "in_flight");
    CHECK_INT(int_of(get(sc_of(r), "in_flight")), 5);
    sb_val_free(r);
    sb_buf_free(&b);
}

/* direction min: the smallest loss is the best. */
static void test_minimize(void)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "\"metric\":\"val_acc\",\"direction\":\"min\",\"max_in_flight\":1,\"trials\":[");
    sb_val r0 = suggest("");
    const sb_val *t0 = trials_of(r0);
    for (size_t i = 0; t0 && i < sb_list_len(*t0); i++) {
        int l, bb, d;
        combo(*sb_list_at(*t0, i), &l, &bb, &d);
        trial_json(&b, l, bb, d, "completed", 100 - score(l, bb, d, 2, 0, 2));
    }
    sb_buf_puts(&b, "]");
    /* the duplicate "metric" key: the parser keeps the last one, the same */
    sb_val r = suggest(sb_buf_str(&b) + strlen("\"metric\":\"val_acc\","));
    const sb_val *t = trials_of(r);
    CHECK(t && sb_list_len(*t) == 1);
    const sb_val *pb = get(sc_of(r), "predicted_best");
    CHECK(pb && num(get(*get(*pb, "hyperparameters"), "learning_rate")) == 0.01 &&
          num(get(*get(*pb, "hyperparameters"), "batch_size")) == 32);
    sb_val_free(r);
    sb_val_free(r0);
    sb_buf_free(&b);
}

static void check_error(const char *extra, const char *want)
{
    sb_val r = suggest(extra);
    CHECK(is_error_result(r));
    CHECK_STR(result_text(r), want);
    sb_val_free(r);
}

static void test_bad_arguments(void)
{
    check_error("\"direction\":\"up\"", "direction: expected \"max\" or \"min\", got \"up\"");
    check_error("\"trials\":5", "trials: expected a list of {hyperparameters, status, metrics}, got 5");
    check_error("\"trials\":[7]", "trials[0]: expected an object {hyperparameters, status, metrics}, got 7");
    check_error("\"trials\":[{\"hyperparameters\":3}]",
                "trials[0].hyperparameters: expected an object or null (not known yet), got 3");
    check_error("\"seed\":-1", "seed: expected null or an integer >= 0, got -1");
    check_error("\"max_in_flight\":0", "max_in_flight: expected null or an integer >= 1, got 0");
    check_error("\"remaining_usd\":\"lots\"", "remaining_usd: expected a number, got \"lots\"");
    check_error("\"colour\":1", "unknown argument \"colour\" (expected budget_usd, remaining_usd, parameter_space, "
                                "cost_model, trials, metric, direction, max_in_flight, initial_trials, seed, "
                                "retry_transient)");
    sb_val a = parse_json("{\"budget_usd\":500,\"parameter_space\":" SPACE ",\"cost_model\":" COST "}");
    sb_val r = sb_solver_call("suggest_trials", a);
    CHECK_STR(result_text(r), "metric: expected the name of the metric to optimise (required)");
    sb_val_free(r);
    sb_val_free(a);
    /* the shared parser names the plan arguments */
    a = parse_json("{\"budget_usd\":0,\"parameter_space\":" SPACE ",\"cost_model\":" COST ",\"metric\":\"x\"}");
    r = sb_solver_call("suggest_trials", a);
    CHECK(is_error_result(r) && strncmp(result_text(r), "budget_usd: ", 12) == 0);
    sb_val_free(r);
    sb_val_free(a);
}

/* Trials outside the space (a retry's patched learning rate) count in flight
 * but close nothing. */
static void test_outside_the_space(void)
{
    sb_val r = suggest("\"max_in_flight\":2,\"trials\":[{\"hyperparameters\":{\"learning_rate\":0.005,"
                       "\"batch_size\":128,\"dropout\":0.5},\"status\":\"running\"}]");
    CHECK_INT(sb_list_len(*trials_of(r)), 1);
    CHECK_INT(int_of(get(sc_of(r), "in_flight")), 1);
    CHECK_INT(int_of(get(sc_of(r), "tried")), 0);
    sb_val_free(r);
    /* hyperparameters not known yet: in flight, nothing closed */
    r = suggest("\"max_in_flight\":2,\"trials\":[{\"hyperparameters\":null},{\"job_id\":\"j\"}],"
                "\"seed\":18446744073709551615");
    CHECK_INT(sb_list_len(*trials_of(r)), 0);
    CHECK_INT(int_of(get(sc_of(r), "in_flight")), 2);
    sb_val_free(r);
}

/* --- failing allocations: each call ends cleanly, never a wrong answer --- */

static long fail_after, allocations;

static void *failing(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        free(p);
        return NULL;
    }
    allocations++;
    if (fail_after-- <= 0)
        return NULL;
    return realloc(p, n);
}

static void test_oom(void)
{
    const char *extra = "\"max_in_flight\":3,\"trials\":[{\"hyperparameters\":{\"learning_rate\":0.001,"
                        "\"batch_size\":64,\"dropout\":0.3},\"status\":\"completed\",\"metrics\":{\"val_acc\":85}},"
                        "{\"hyperparameters\":{\"learning_rate\":0.01,\"batch_size\":32,\"dropout\":0.5},"
                        "\"status\":\"completed\",\"metrics\":{\"val_acc\":80}}],\"initial_trials\":1";
    sb_val good = suggest(extra);
    char *want = sb_val_to_json(good, 0);
    sb_val_free(good);
    for (long n = 0;; n++) {
        char buf[4096];
        snprintf(buf, sizeof buf,
                 "{\"budget_usd\":500,\"parameter_space\":" SPACE ",\"cost_model\":" COST ",\"metric\":\"val_acc\",%s}",
                 extra);
        sb_val a = parse_json(buf);
        fail_after = n;
        allocations = 0;
        sb_alloc_set(failing, NULL);
        sb_val r = sb_solver_call("suggest_trials", a);
        sb_alloc_set(NULL, NULL);
        sb_val_free(a);
        if (allocations <= n) {
            char *got = sb_val_to_json(r, 0);
            CHECK_STR(got, want);
            sb_free(got);
            sb_val_free(r);
            break;
        }
        CHECK(sb_is_oom(r) || (is_error_result(r) && !strcmp(result_text(r), "out of memory")));
        sb_val_free(r);
    }
    sb_free(want);
}

SB_TEST_MAIN(TEST(test_initial_design_is_balanced) TEST(test_model_finds_the_best) TEST(test_never_repeats)
                 TEST(test_failures) TEST(test_money_and_slots) TEST(test_minimize) TEST(test_bad_arguments)
                     TEST(test_outside_the_space) TEST(test_oom))
