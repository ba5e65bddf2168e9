/* The planner's parts that the contract leans on: exact sums (the reported
 * total is the correctly rounded sum of the trial costs), the portable ln and
 * exp behind log ranges, and the combination set. */
#include "sb_test.h"
#include "solver/sb_solver_int.h"

#include <float.h>

static double sum_of(const double *x, size_t n)
{
    sb_solver_sum s = SB_SOLVER_SUM_INIT;
    for (size_t i = 0; i < n; i++)
        sb_solver__sum_add(&s, x[i]);
    return sb_solver__sum_value(&s);
}

static void test_sum_is_exact(void)
{
    double tenth[10];
    for (int i = 0; i < 10; i++)
        tenth[i] = 0.1;
    CHECK(sum_of(tenth, 10) == 1.0); /* a plain loop gives 0.9999999999999999 */
    double cancel[] = {1e100, 1.0, -1e100};
    CHECK(sum_of(cancel, 3) == 1.0);
    double tiny[] = {DBL_MIN, 4.9e-324, 1e-300, -1e-300};
    CHECK(sum_of(tiny, 4) == DBL_MIN + 4.9e-324);
    double big[] = {1e308, 1e308, -1e308};
    CHECK(sum_of(big, 3) == 1e308);
    double neg[] = {-2.5, 1.25};
    CHECK(sum_of(neg, 2) == -1.25);
    CHECK(sum_of(neg, 0) == 0.0);
    /* ties round to even: 2^53 + 1 is halfway between 2^53 and 2^53 + 2 */
    double tie[] = {9007199254740992.0, 1.0};
    CHECK(sum_of(tie, 2) == 9007199254740992.0);
    double tie_up[] = {9007199254740992.0, 1.0, 1e-300}; /* a hair above halfway */
    CHECK(sum_of(tie_up, 3) == 9007199254740994.0);
    /* the headline's 18 costs: order does not matter, removal is exact */
    double c[18];
    for (int i = 0; i < 18; i++)
        c[i] = (i % 3 == 0 ? 1.7 : i % 3 == 1 ? 2.0 : 2.3) * 1 * 12.60;
    double fwd = sum_of(c, 18), rev[18];
    for (int i = 0; i < 18; i++)
        rev[i] = c[17 - i];
    CHECK(fwd == sum_of(rev, 18));
    CHECK(fabs(fwd - 453.6) < 1e-12);
    sb_solver_sum s = SB_SOLVER_SUM_INIT, t = SB_SOLVER_SUM_INIT;
    for (int i = 0; i < 18; i++)
        sb_solver__sum_add(&s, c[i]);
    sb_solver__sum_add(&s, 1e-7);
    sb_solver__sum_add(&s, -1e-7);
    CHECK(sb_solver__sum_value(&s) == fwd);
    sb_solver__sum_add(&t, c[0]);
    sb_solver__sum_sub_sum(&s, &t);
    double rest = sum_of(c + 1, 17);
    CHECK(sb_solver__sum_value(&s) == rest);
    /* many additions (carry propagation) */
    sb_solver_sum m = SB_SOLVER_SUM_INIT;
    for (int i = 0; i < 1000000; i++)
        sb_solver__sum_add(&m, 0.01);
    CHECK(sb_solver__sum_value(&m) == 10000.0); /* 10^6 x double(0.01), exactly rounded */
}

static void test_ln_exp(void)
{
    static const double xs[] = {1e-300, 1e-5, 0.0001, 0.001, 0.3, 0.5, 0.7071, 1.0, 1.5, 2.0, 10.0, 1234.5, 1e300};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        double l = sb_solver__ln(xs[i]);
        CHECK(fabs(l - log(xs[i])) <= 4 * DBL_EPSILON * fmax(1.0, fabs(l)));
        double e = sb_solver__exp(l);
        /* exp magnifies the error of its argument by |l| */
        CHECK(fabs(e - xs[i]) <= 8 * DBL_EPSILON * fmax(1.0, fabs(l)) * xs[i]);
    }
    CHECK(sb_solver__ln(1.0) == 0.0);
    CHECK(sb_solver__exp(0.0) == 1.0);
    CHECK(sb_solver__exp(800) == HUGE_VAL);
    CHECK(sb_solver__exp(-800) == 0.0);
}

static void test_set(void)
{
    sb_solver_set s = {0};
    CHECK(!sb_solver__set_has(&s, 5));
    CHECK(sb_solver__set_reserve(&s, 1000));
    for (uint64_t i = 0; i < 1000; i++)
        sb_solver__set_add(&s, i * 7919);
    CHECK_INT(s.len, 1000);
    for (uint64_t i = 0; i < 1000; i += 2)
        sb_solver__set_remove(&s, i * 7919);
    sb_solver__set_remove(&s, 3); /* absent: nothing happens */
    CHECK_INT(s.len, 500);
    int wrong = 0;
    for (uint64_t i = 0; i < 1000; i++)
        wrong += sb_solver__set_has(&s, i * 7919) != (i % 2 == 1);
    CHECK_INT(wrong, 0);
    CHECK(sb_solver__set_has(&s, 9007199254740991ULL) == false);
    sb_solver__set_add(&s, 9007199254740991ULL);
    CHECK(sb_solver__set_has(&s, 9007199254740991ULL));
    sb_solver__set_free(&s);
}

SB_TEST_MAIN(TEST(test_sum_is_exact) TEST(test_ln_exp) TEST(test_set))
