/* 100,000 jobs on one handle, 1,000 running at once, polled with a cursor:
 * it must finish, never exceed the limit, and report every job's final state
 * exactly once. (No timing assertion: speed is claimed only by a benchmark.) */
#include "csim_test_util.h"
#include "sb_test.h"

#include <stdlib.h>

#define NJOBS 100000
#define POLL_MS (2 * 3600000LL) /* every 2 virtual hours: fewer, bigger polls */

/* Built as values rather than JSON text: 100k jobs of hyperparameters drawn
 * from the 27-point grid, so some fail with NaN. */
static sb_val jobs_args(const char *handle, int first, int n)
{
    static const double lr[] = {0.0001, 0.001, 0.01};
    static const int64_t bs[] = {32, 64, 128};
    static const double dr[] = {0.1, 0.3, 0.5};
    sb_val jobs = sb_list_new((size_t)n);
    for (int i = first; i < first + n; i++) {
        sb_val hp = sb_map_new(3);
        sb_map_set_str(&hp, "learning_rate", sb_double(lr[i % 3]));
        sb_map_set_str(&hp, "batch_size", sb_int(bs[i / 3 % 3]));
        sb_map_set_str(&hp, "dropout", sb_double(dr[i / 9 % 3]));
        sb_val job = sb_map_new(1);
        sb_map_set_str(&job, "hyperparameters", hp);
        sb_list_push(&jobs, job);
    }
    sb_val args = sb_map_new(2);
    if (handle)
        sb_map_set_str(&args, "handle_id", sb_string_cstr(handle));
    sb_map_set_str(&args, "jobs", jobs);
    return args;
}

static void submit(sb_csim *s, int64_t t, const char *handle, int first, int n)
{
    sb_val args = jobs_args(handle, first, n);
    sb_val r = sb_csim_call(s, t, "submit_jobs", args);
    CHECK(r.kind == SB_MAP && !is_error(r));
    CHECK_INT(geti(*get(r, "structuredContent"), "accepted"), n);
    sb_val_free(r);
    sb_val_free(args);
}

static void test_hundred_thousand_jobs(void)
{
    sb_csim_options o;
    sb_csim_options_init(&o);
    o.seed = 2024;
    o.max_concurrent = 1000;
    sb_csim *s = sb_csim_create(&o);
    /* Half in one call, half joining the handle 1,000 at a time. */
    submit(s, 0, NULL, 0, NJOBS / 2);
    for (int k = NJOBS / 2; k < NJOBS; k += 1000)
        submit(s, 0, "h_0001", k, 1000);

    sb_val st = call(s, 0, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(sb_list_len(*get(st, "jobs")), NJOBS);
    CHECK_INT(count(st, "running"), 1000);
    CHECK_INT(count(st, "queued"), NJOBS - 1000);
    char cursor[32];
    snprintf(cursor, sizeof cursor, "%s", gstr(st, "cursor"));
    sb_val_free(st);

    unsigned char *final_seen = calloc(NJOBS + 1, 1);
    long finals = 0, reports = 0, polls = 0, max_reported = 0;
    bool limit_ok = true, once_ok = true;
    int64_t t = 0;
    for (bool done = false; !done && polls < 100000; polls++) {
        t += POLL_MS;
        char args[96];
        snprintf(args, sizeof args, "{\"handle_id\":\"h_0001\",\"since_cursor\":\"%s\"}", cursor);
        st = call(s, t, "get_jobs_status", args);
        const sb_val *jobs = get(st, "jobs");
        reports += (long)sb_list_len(*jobs);
        if ((long)sb_list_len(*jobs) > max_reported)
            max_reported = (long)sb_list_len(*jobs);
        for (size_t i = 0; i < sb_list_len(*jobs); i++) {
            sb_val j = *sb_list_at(*jobs, i);
            const char *status = gstr(j, "status");
            if (strcmp(status, "completed") && strcmp(status, "failed"))
                continue;
            long n = atol(gstr(j, "job_id") + 4);
            if (n < 1 || n > NJOBS || final_seen[n])
                once_ok = false;
            else
                final_seen[n] = 1;
            finals++;
        }
        limit_ok = limit_ok && count(st, "running") <= 1000;
        done = get(st, "done")->as.b;
        snprintf(cursor, sizeof cursor, "%s", gstr(st, "cursor"));
        sb_val_free(st);
    }
    CHECK(limit_ok);
    CHECK(once_ok);
    CHECK_INT(finals, NJOBS);
    /* A poll returns only what changed: far fewer than all jobs each time. */
    CHECK(max_reported < 5000);
    CHECK(reports < 3L * NJOBS);
    st = call(s, t, "get_jobs_status", "{\"handle_id\":\"h_0001\"}");
    CHECK_INT(count(st, "completed") + count(st, "failed"), NJOBS);
    CHECK(count(st, "failed") >= NJOBS / 9); /* lr 0.01 with batch 128 */
    sb_val_free(st);
    CHECK_INT(sb_csim_next_event_ms(s, t), -1);
    printf("# %ld polls over %.1f virtual hours, %ld job reports\n", polls, (double)t / 3600000.0, reports);
    free(final_seen);
    sb_csim_free(s);
}

SB_TEST_MAIN(TEST(test_hundred_thousand_jobs))
