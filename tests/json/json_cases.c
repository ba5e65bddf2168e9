/* json_cases DIR: runs the JSON documents in DIR against DIR/expect.txt.
 *
 * Each line of expect.txt is "FILE: EXPECTED" (lines starting with '#' are
 * comments). EXPECTED is what sb_json_parse makes of the file: the value as
 * json_describe writes it, the word "accepted" (any value; for long files),
 * or the error message. The name says what the file is:
 *   y_*.json  valid JSON: must be accepted;
 *   n_*.json  invalid JSON: must be refused (the message pins line:column);
 *   i_*.json  RFC 8259 leaves the outcome to the implementation; expect.txt
 *             pins ours, and docs/json.md lists it.
 * Every .json file in DIR needs a line, and every line a file. Each file is
 * also parsed with allocation failing at every step until it succeeds: each
 * attempt must give out of memory or the full result, and leak nothing.
 * Built natively and as wasm32-wasi (same files, same expectations).
 * Exit 0 when everything matches, 1 otherwise. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/sb_json.h"
#include "json_describe.h"
#include "sb_failalloc.h"
#include "util/sb_alloc.h"
#include "sb_test_file.h"

static int failures;


/* What the reader makes of text: the description or the error message. */
static char *outcome(const char *text, size_t len, bool *accepted, bool *oom)
{
    sb_val v = sb_json_parse(text, len);
    *accepted = v.kind != SB_ERROR;
    *oom = sb_is_oom(v);
    sb_buf b = SB_BUF_INIT;
    if (*accepted)
        json_describe(&b, v);
    else
        sb_buf_puts(&b, sb_str(v));
    sb_val_free(v);
    return sb_buf_take(&b);
}

static void fail(const char *file, const char *what, const char *got, const char *want)
{
    failures++;
    printf("FAIL %s: %s\n", file, what);
    if (got)
        printf("  got:  %s\n  want: %s\n", got, want);
}

static void run_case(const char *dir, const char *file, const char *want)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t len;
    char *text = sb_test_read_file(path, &len);
    if (!text) {
        fail(file, "listed in expect.txt but cannot be read", NULL, NULL);
        return;
    }
    bool accepted, oom;
    char *got = outcome(text, len, &accepted, &oom);
    if (file[0] == 'y' && !accepted)
        fail(file, "valid JSON refused", got, want);
    else if (file[0] == 'n' && accepted)
        fail(file, "invalid JSON accepted", got, want);
    else if (!(accepted && strcmp(want, "accepted") == 0) && strcmp(got, want) != 0)
        fail(file, "unexpected outcome", got, want);
    /* The same text with allocations failing: out of memory or the same. */
    for (long n = 0;; n++) {
        sb_failalloc_arm(n);
        bool a2, oom2;
        char *again = outcome(text, len, &a2, &oom2);
        sb_failalloc_disarm();
        bool done = again && !oom2;
        if (done && strcmp(again, got) != 0)
            fail(file, "differs when allocations fail", again, got);
        sb_free(again);
        if (done)
            break;
    }
    sb_free(got);
    sb_free(text);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: json_cases DIR\n", stderr);
        return 2;
    }
    const char *dir = argv[1];
    char path[1024];
    snprintf(path, sizeof path, "%s/expect.txt", dir);
    size_t len;
    char *manifest = sb_test_read_file(path, &len);
    if (!manifest) {
        fprintf(stderr, "json_cases: cannot read %s\n", path);
        return 2;
    }
    char *listed[1024];
    size_t nlisted = 0, ncases = 0;
    for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *sep = strstr(line, ": ");
        if (!sep || nlisted == sizeof listed / sizeof *listed) {
            fprintf(stderr, "json_cases: bad line in expect.txt: %s\n", line);
            return 2;
        }
        *sep = '\0';
        listed[nlisted++] = line;
        run_case(dir, line, sep + 2);
        ncases++;
    }
    qsort(listed, nlisted, sizeof *listed, cmp_str);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "json_cases: cannot list %s\n", dir);
        return 2;
    }
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        const char *name = e->d_name;
        if (!bsearch(&name, listed, nlisted, sizeof *listed, cmp_str))
            fail(e->d_name, "has no line in expect.txt", NULL, NULL);
        if (!strchr("yni", name[0]) || name[1] != '_')
            fail(e->d_name, "name must start with y_, n_ or i_", NULL, NULL);
    }
    closedir(d);
    sb_free(manifest);
    printf("%zu cases, %d failed\n", ncases, failures);
    return failures ? 1 : 0;
}
