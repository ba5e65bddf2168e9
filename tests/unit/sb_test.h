/* A minimal unit-test harness: each test file defines TESTS as an X-macro
 * list and includes this header at the end... kept deliberately small:
 *
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_STR(a, "b"); }
 *   SB_TEST_MAIN(TEST(test_x) TEST(test_y))
 *
 * A failed check prints FILE:LINE and the expression, and the test goes on;
 * the process exits non-zero if any check failed. Every test also runs under
 * ASan/LSan in the native build, so each one is a leak test. */
#ifndef SB_TEST_H
#define SB_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sb_test_failures;
static int sb_test_checks;

#define CHECK(cond)                                                                                               \
    do {                                                                                                          \
        sb_test_checks++;                                                                                         \
        if (!(cond)) {                                                                                            \
            sb_test_failures++;                                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                              \
        }                                                                                                         \
    } while (0)

#define CHECK_STR(got, want)                                                                                      \
    do {                                                                                                          \
        const char *g_ = (got), *w_ = (want);                                                                     \
        sb_test_checks++;                                                                                         \
        if (!g_ || strcmp(g_, w_) != 0) {                                                                         \
            sb_test_failures++;                                                                                   \
            fprintf(stderr, "%s:%d: %s\n  got:  %s\n  want: %s\n", __FILE__, __LINE__, #got, g_ ? g_ : "(null)", \
                    w_);                                                                                          \
        }                                                                                                         \
    } while (0)

#define CHECK_INT(got, want)                                                                                      \
    do {                                                                                                          \
        long long g_ = (long long)(got), w_ = (long long)(want);                                                  \
        sb_test_checks++;                                                                                         \
        if (g_ != w_) {                                                                                           \
            sb_test_failures++;                                                                                   \
            fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_);                \
        }                                                                                                         \
    } while (0)

#define TEST(fn) {#fn, fn},
#define SB_TEST_MAIN(list)                                                                                        \
    int main(int argc, char **argv)                                                                               \
    {                                                                                                             \
        static const struct {                                                                                     \
            const char *name;                                                                                     \
            void (*fn)(void);                                                                                     \
        } tests[] = {list};                                                                                       \
        int ran = 0;                                                                                              \
        for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {                                               \
            if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)                                                  \
                continue;                                                                                         \
            int before = sb_test_failures;                                                                        \
            tests[i].fn();                                                                                        \
            ran++;                                                                                                \
            printf("%s %s\n", sb_test_failures == before ? "ok  " : "FAIL", tests[i].name);                       \
        }                                                                                                         \
        printf("%d tests, %d checks, %d failed checks\n", ran, sb_test_checks, sb_test_failures);                 \
        return sb_test_failures || ran == 0 ? 1 : 0;                                                              \
    }

#endif
