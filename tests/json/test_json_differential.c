/* json_differential DIR...: sb_json against cJSON (json_oracle.h).
 *   - every file in the DIRs, and a few thousand generated documents: where
 *     both readers accept, the values agree;
 *   - y_*.json files are accepted by both (so the valid cases are valid for
 *     an independent reader too); n_*.json are refused by sb_json.
 * json_differential --bench [MB]: prints how long each reader takes on a
 * generated document (a figure, not a test). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json/sb_json.h"
#include "json_oracle.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"
#include "sb_test_file.h"

static int failures, compared, refused_by_one;

static void check_text(const char *name, const char *text, size_t len)
{
    sb_val mine = sb_json_parse(text, len), theirs;
    bool ok_theirs = json_oracle_parse(text, len, &theirs);
    bool ok_mine = mine.kind != SB_ERROR;
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    if (strncmp(base, "y_", 2) == 0 && (!ok_mine || !ok_theirs)) {
        printf("FAIL %s: valid JSON refused by %s%s\n", name, ok_mine ? "cJSON" : "sb_json: ",
               ok_mine ? "" : sb_str(mine));
        failures++;
    }
    if (strncmp(base, "n_", 2) == 0 && ok_mine) {
        printf("FAIL %s: invalid JSON accepted by sb_json\n", name);
        failures++;
    }
    if (ok_mine && ok_theirs) {
        compared++;
        const char *why = json_oracle_compare(mine, theirs);
        if (why) {
            printf("FAIL %s: %s\n", name, why);
            failures++;
        }
    } else if (ok_mine != ok_theirs) {
        refused_by_one++;
    }
    sb_val_free(mine);
    sb_val_free(theirs);
}


static void check_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        printf("FAIL %s: cannot list\n", dir);
        failures++;
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "expect.txt") == 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *text = sb_test_read_file(path, &len);
        if (text)
            check_text(path, text, len);
        sb_free(text);
    }
    closedir(d);
}

/* ---- generated documents: a deterministic mix of the number, string and
 * nesting forms JSON allows ---- */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)(g_rng % n);
}

static void gen_number(sb_buf *b)
{
    if (rnd(4) == 0)
        sb_buf_putc(b, '-');
    if (rnd(5) == 0) {
        sb_buf_putc(b, '0');
    } else {
        sb_buf_putc(b, (char)('1' + rnd(9)));
        for (unsigned i = rnd(rnd(3) == 0 ? 25 : 8); i > 0; i--)
            sb_buf_putc(b, (char)('0' + rnd(10)));
    }
    if (rnd(3) == 0) {
        sb_buf_putc(b, '.');
        for (unsigned i = 1 + rnd(20); i > 0; i--)
            sb_buf_putc(b, (char)('0' + rnd(10)));
    }
    if (rnd(4) == 0) {
        sb_buf_putc(b, "eE"[rnd(2)]);
        if (rnd(2))
            sb_buf_putc(b, "+-"[rnd(2)]);
        sb_buf_printf(b, "%u", rnd(rnd(8) == 0 ? 400 : 30));
    }
}

static void gen_string(sb_buf *b)
{
    static const char *const parts[] = {"a", "key", " ", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u00e9", "\\u4E2D",
                                        "\\uD83D\\uDE00", "é", "中", "😀", "\\b\\f\\r", "\\u0041", "\x7f"};
    sb_buf_putc(b, '"');
    for (unsigned i = rnd(6); i > 0; i--)
        sb_buf_puts(b, parts[rnd(sizeof parts / sizeof *parts)]);
    sb_buf_putc(b, '"');
}

static void gen_value(sb_buf *b, int depth)
{
    static const char *const ws[] = {"", "", " ", "\n", "\t", "\r\n  "};
    unsigned k = rnd(depth > 6 ? 6 : 8);
    switch (k) {
    case 0: sb_buf_puts(b, "null"); break;
    case 1: sb_buf_puts(b, rnd(2) ? "true" : "false"); break;
    case 2:
    case 3: gen_number(b); break;
    case 4:
    case 5: gen_string(b); break;
    case 6:
    case 7: {
        bool obj = k == 7;
        sb_buf_putc(b, obj ? '{' : '[');
        for (unsigned i = 0, n = rnd(5); i < n; i++) {
            if (i)
                sb_buf_putc(b, ',');
            sb_buf_puts(b, ws[rnd(6)]);
            if (obj) {
                gen_string(b);
                sb_buf_puts(b, ws[rnd(6)]);
                sb_buf_putc(b, ':');
            }
            gen_value(b, depth + 1);
            sb_buf_puts(b, ws[rnd(6)]);
        }
        sb_buf_putc(b, obj ? '}' : ']');
        break;
    }
    }
}

static void check_generated(int count)
{
    for (int i = 0; i < count; i++) {
        sb_buf b = SB_BUF_INIT;
        gen_value(&b, 0);
        char name[32];
        snprintf(name, sizeof name, "generated #%d", i);
        check_text(name, sb_buf_str(&b), b.len);
        sb_buf_free(&b);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int bench(double mb)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_putc(&b, '[');
    while (b.len < mb * 1e6) {
        if (b.len > 1)
            sb_buf_putc(&b, ',');
        gen_value(&b, 1);
    }
    sb_buf_putc(&b, ']');
    double best_mine = 1e30, best_theirs = 1e30;
    for (int round = 0; round < 5; round++) {
        double t0 = now_ms();
        sb_val v = sb_json_parse(b.data, b.len);
        double t1 = now_ms();
        sb_val w;
        json_oracle_parse(b.data, b.len, &w);
        double t2 = now_ms();
        if (v.kind == SB_ERROR || w.kind == SB_NULL) {
            printf("bench document refused: %s\n", v.kind == SB_ERROR ? sb_str(v) : "by cJSON");
            return 1;
        }
        sb_val_free(v);
        sb_val_free(w);
        best_mine = t1 - t0 < best_mine ? t1 - t0 : best_mine;
        best_theirs = t2 - t1 < best_theirs ? t2 - t1 : best_theirs;
    }
    printf("{\"bytes\":%zu,\"sb_json_ms\":%.2f,\"cjson_and_conversion_ms\":%.2f,\"sb_json_MB_per_s\":%.0f}\n", b.len,
           best_mine, best_theirs, (double)b.len / 1e3 / best_mine);
    sb_buf_free(&b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--bench") == 0)
        return bench(argc >= 3 ? atof(argv[2]) : 8);
    for (int i = 1; i < argc; i++)
        check_dir(argv[i]);
    check_generated(5000);
    printf("%d documents compared, %d accepted by one reader only, %d failed\n", compared, refused_by_one, failures);
    return failures ? 1 : 0;
}
