/* unit_web_host: the C side of the web module (host-web/sb_web_*.c), built
 * natively under ASan/UBSan: every message is one valid JSON line, a run
 * ends with exactly one "done", and out of memory anywhere (creating a run,
 * validating, in the middle of a run, creating a watch) ends cleanly with
 * nothing leaked.
 *   unit_web_host EXAMPLE_CONFIG_DIR */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_failalloc.h"
#include "sb_test.h"
#include "sb_web_run.h"
#include "sb_web_watch.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

char *sb_web_validate(const char *ws_file, const char *ws_text, size_t ws_len, const char *pl_file, const char *pl_text,
                      size_t pl_len);

static char *ws_text, *pl_text;

static char *slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n)
        exit(2);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* A one-trial grid: a whole run in a few hundred turns. */
static const char small_opts[] = "{\"pipeline\":\"hyperparameter_sweep\",\"seed\":\"4\",\"start_ms\":1700000000000,"
                                 "\"inputs\":{\"budget_usd\":40,\"search\":\"grid\","
                                 "\"param_space\":{\"learning_rate\":[0.001],\"batch_size\":[64],\"dropout\":[0.3]}}}";

typedef struct tally {
    int lines, done, chunks, files, bad;
    char status[32];
} tally;

static bool armed; /* the failing allocator is on: count() must not use it */

/* Checks each line of a take: one JSON object with one known key. */
static void count(tally *t, char *msgs)
{
    if (!msgs)
        return;
    long left = sb_failalloc_left;
    if (armed)
        sb_failalloc_disarm();
    for (char *line = msgs, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl) {
            t->bad++;
            break;
        }
        sb_val v = sb_json_parse(line, (size_t)(nl - line));
        t->lines++;
        if (v.kind != SB_MAP || sb_map_len(v) != 1) {
            t->bad++;
        } else {
            const char *k = sb_str(*sb_map_key_at(v, 0));
            sb_val body = *sb_map_val_at(v, 0);
            if (strcmp(k, "done") == 0) {
                t->done++;
                const sb_val *s = sb_map_get_str(body, "status");
                snprintf(t->status, sizeof t->status, "%s", s && s->kind == SB_STRING ? sb_str(*s) : "?");
            } else if (strcmp(k, "event") == 0) {
                const sb_val *ty = sb_map_get_str(body, "type");
                t->chunks += ty && sb_str_eq(*ty, "chunk");
            } else if (strcmp(k, "file") == 0) {
                t->files++;
            } else if (strcmp(k, "start") && strcmp(k, "diagnostics") && strcmp(k, "send")) {
                t->bad++;
            }
        }
        sb_val_free(v);
    }
    sb_free(msgs);
    if (armed) {
        sb_failalloc_arm(left);
    }
}

/* Runs opts to the end (or max turns); returns the tally. */
static tally drive(const char *opts, int max_turns)
{
    tally t = {0};
    sb_web_run *w = sb_web_run_new("workspace.yaml", ws_text, strlen(ws_text), "pipelines.yaml", pl_text,
                                   strlen(pl_text), opts, strlen(opts));
    if (!w)
        return t; /* OOM at the very start */
    count(&t, sb_web_run_take(w));
    for (int i = 0; i < max_turns && sb_web_run_advance(w, 0, 8) != 0; i++)
        count(&t, sb_web_run_take(w));
    count(&t, sb_web_run_take(w));
    sb_web_run_free(w);
    return t;
}

static void test_run_messages(void)
{
    tally t = drive(small_opts, 100000);
    CHECK_INT(t.bad, 0);
    CHECK_INT(t.done, 1);
    CHECK_STR(t.status, "succeeded");
    CHECK(t.chunks >= 1);
    CHECK(t.files >= 1);
}

static void test_refusals(void)
{
    tally t = drive("not json", 10);
    CHECK_INT(t.done, 1);
    CHECK_STR(t.status, "failed");
    t = drive("{\"pipeline\":\"nope\"}", 10);
    CHECK_INT(t.done, 1);
    t = drive("{\"pipeline\":\"hyperparameter_sweep\",\"mode\":\"servers\"}", 10);
    CHECK_INT(t.done, 1);
    CHECK_INT(t.bad, 0);
    /* the NULL-safe entry points */
    CHECK(sb_web_run_advance(NULL, 0, 1) == 0);
    CHECK(sb_web_run_take(NULL) == NULL);
    CHECK(sb_web_run_next_deadline(NULL) < 0);
    sb_web_run_cancel(NULL, "x", 0);
    sb_web_run_on_response(NULL, 1, 200, NULL, NULL, NULL, 0, 0);
    sb_web_run_free(NULL);
}

/* Cancel in the middle: "done" says cancelled, once. */
static void test_cancel(void)
{
    tally t = {0};
    sb_web_run *w = sb_web_run_new("workspace.yaml", ws_text, strlen(ws_text), "pipelines.yaml", pl_text,
                                   strlen(pl_text), small_opts, strlen(small_opts));
    CHECK(w != NULL);
    for (int i = 0; i < 3; i++) {
        sb_web_run_advance(w, 0, 4);
        count(&t, sb_web_run_take(w));
    }
    sb_web_run_cancel(w, "stop", 0);
    while (sb_web_run_advance(w, 0, 8) != 0)
        count(&t, sb_web_run_take(w));
    count(&t, sb_web_run_take(w));
    CHECK_INT(t.done, 1);
    CHECK_STR(t.status, "cancelled");
    CHECK_INT(t.bad, 0);
    sb_web_run_free(w);
}

static void run_new_only(bool check)
{
    sb_web_run *w = sb_web_run_new("workspace.yaml", ws_text, strlen(ws_text), "pipelines.yaml", pl_text,
                                   strlen(pl_text), small_opts, strlen(small_opts));
    char *m = sb_web_run_take(w);
    if (check) {
        CHECK(w != NULL);
        CHECK(m != NULL && strstr(m, "{\"start\":") == m);
    }
    sb_free(m);
    sb_web_run_free(w);
}

static void validate_only(bool check)
{
    char *out = sb_web_validate("workspace.yaml", ws_text, strlen(ws_text), "pipelines.yaml", pl_text, strlen(pl_text));
    if (check)
        CHECK(out && strncmp(out, "{\"ok\":true,", 11) == 0);
    sb_free(out);
}

static const char handle[] =
    "{\"$type\":\"PollableJobHandle\",\"server\":\"conductor\",\"handle_id\":\"h_1\","
    "\"job_ids\":[\"job_001\"],\"status_tool\":\"get_jobs_status\",\"submit_tool\":\"submit_jobs\"}";
static const char urls[] = "{\"conductor\":\"http://127.0.0.1:1/mcp\"}";

static void watch_start(bool check)
{
    sb_web_watch *w =
        sb_web_watch_new(handle, strlen(handle), "workspace.yaml", ws_text, strlen(ws_text), urls, strlen(urls), 0);
    int polled = sb_web_watch_poll(w, 0);
    char *m = sb_web_watch_take(w);
    if (check) {
        CHECK(polled == 1);
        CHECK(m && strstr(m, "{\"start\":") == m && strstr(m, "{\"send\":"));
    }
    sb_free(m);
    sb_web_watch_free(w);
}

/* Creating a run loads both example files (some 3,000 allocations, the
 * loaders' own tests cover their failures): every 7th allocation fails in
 * turn, and every one of the last 400 (the run's own setup). */
static void test_out_of_memory_at_creation(void)
{
    sb_failalloc_arm(1L << 40);
    run_new_only(false);
    long total = (1L << 40) - sb_failalloc_left;
    sb_failalloc_disarm();
    for (long n = 0; n < total; n++) {
        if (n % 7 && n < total - 400)
            continue;
        sb_failalloc_arm(n);
        run_new_only(false);
        sb_failalloc_disarm();
    }
    run_new_only(true);
    long b = sb_failalloc_until_enough(validate_only), c = sb_failalloc_until_enough(watch_start);
    printf("allocations: run_new %ld, validate %ld, watch %ld\n", total, b, c);
    CHECK(total > 400 && b > 0 && c > 0);
}

/* Out of memory at points spread over a whole run: each attempt ends (a
 * "done" or no handle at all), and LeakSanitizer sees nothing left. */
static void test_out_of_memory_mid_run(void)
{
    sb_failalloc_arm(1L << 40);
    armed = true;
    drive(small_opts, 100000);
    armed = false;
    long total = (1L << 40) - sb_failalloc_left;
    sb_failalloc_disarm();
    CHECK(total > 1000);
    int attempts = 0;
    for (long n = 0; n < total; n += total / 13 + 1, attempts++) {
        sb_failalloc_arm(n);
        armed = true;
        tally t = drive(small_opts, 100000);
        armed = false;
        sb_failalloc_disarm();
        CHECK(t.done <= 1);
        CHECK_INT(t.bad, 0);
    }
    CHECK(attempts >= 13);
}

/* A watch's answers: a failed transport counts as a failed poll; five in
 * a row end it. */
static void test_watch_gives_up(void)
{
    sb_web_watch *w =
        sb_web_watch_new(handle, strlen(handle), "workspace.yaml", ws_text, strlen(ws_text), urls, strlen(urls), 0);
    tally t = {0};
    count(&t, sb_web_watch_take(w));
    for (int poll = 0; poll < 10 && !t.done; poll++) {
        if (sb_web_watch_poll(w, poll) != 1)
            break;
        char *m = sb_web_watch_take(w);
        /* answer each "send" with a transport failure */
        for (char *p = m; p && (p = strstr(p, "{\"send\":{\"id\":")); p++) {
            double id = strtod(p + 14, NULL);
            sb_web_watch_on_response(w, id, 0, NULL, NULL, "refused", 7, poll);
        }
        count(&t, m);
        count(&t, sb_web_watch_take(w));
    }
    CHECK_INT(t.done, 1);
    CHECK_STR(t.status, "failed");
    CHECK_INT(t.bad, 0);
    sb_web_watch_free(w);
}

static void setup(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: unit_web_host EXAMPLE_CONFIG_DIR\n");
        exit(2);
    }
    ws_text = slurp(argv[1], "workspace.yaml");
    pl_text = slurp(argv[1], "pipelines.yaml");
}

int main(int argc, char **argv)
{
    setup(argc, argv);
    test_run_messages();
    test_refusals();
    test_cancel();
    test_out_of_memory_at_creation();
    test_out_of_memory_mid_run();
    test_watch_gives_up();
    free(ws_text);
    free(pl_text);
    printf("%d checks, %d failed\n", sb_test_checks, sb_test_failures);
    return sb_test_failures ? 1 : 0;
}
