/* Runs the tests/cel .test files: CEL cases written as data (jq's tests style).
 *
 *   # a comment
 *   EXPRESSION                     one line
 *   vars {"x": 1}                  optional: variables as JSON
 *   options mixed_numeric max_steps=100 container=a.b   optional
 *   => EXPECTED                    a CEL expression giving the expected value,
 *                                  compared strictly (1 != 1u != 1.0; NaN == NaN)
 *   !! MESSAGE                     or: the exact error message expected
 *   !~ TEXT                        or: an error whose message contains TEXT
 *
 * Cases are separated by blank lines. Every case also runs under ASan/LSan. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/sb_cel.h"
#include "sb_test.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

static bool same(sb_val a, sb_val b)
{
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case SB_DOUBLE:
        return (isnan(a.as.d) && isnan(b.as.d)) || (a.as.d == b.as.d && signbit(a.as.d) == signbit(b.as.d));
    case SB_LIST:
        if (sb_list_len(a) != sb_list_len(b))
            return false;
        for (size_t i = 0; i < sb_list_len(a); i++)
            if (!same(*sb_list_at(a, i), *sb_list_at(b, i)))
                return false;
        return true;
    case SB_MAP:
        if (sb_map_len(a) != sb_map_len(b))
            return false;
        for (size_t i = 0; i < sb_map_len(a); i++) {
            /* same keys in the same order: map order is part of the result */
            if (!same(*sb_map_key_at(a, i), *sb_map_key_at(b, i)) || !same(*sb_map_val_at(a, i), *sb_map_val_at(b, i)))
                return false;
        }
        return true;
    default:
        return sb_val_equal(a, b);
    }
}

static char *show(sb_val v)
{
    sb_buf b = SB_BUF_INIT;
    if (v.kind == SB_ERROR) {
        sb_buf_printf(&b, "error: %s", sb_str(v));
    } else {
        sb_buf_printf(&b, "%s ", sb_kind_name(v.kind));
        sb_cel_render(&b, v);
    }
    return sb_buf_take(&b);
}

typedef struct tcase {
    int line;
    char *expr, *vars, *options, *want, *err;
    bool err_sub;
} tcase;

static void parse_options(const char *s, sb_cel_options *o, char *container, size_t clen)
{
    memset(o, 0, sizeof *o);
    if (!s)
        return;
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (strncmp(p, "mixed_numeric", 13) == 0)
            o->mixed_numeric = true;
        else if (strncmp(p, "max_steps=", 10) == 0)
            o->limits.max_steps = strtoull(p + 10, NULL, 10);
        else if (strncmp(p, "max_bytes=", 10) == 0)
            o->limits.max_bytes = strtoull(p + 10, NULL, 10);
        else if (strncmp(p, "max_depth=", 10) == 0)
            o->limits.max_depth = strtoull(p + 10, NULL, 10);
        else if (strncmp(p, "max_expr_len=", 13) == 0)
            o->limits.max_expr_len = strtoull(p + 13, NULL, 10);
        else if (strncmp(p, "container=", 10) == 0) {
            size_t n = strcspn(p + 10, " ");
            snprintf(container, clen, "%.*s", (int)n, p + 10);
            o->container = container;
        } else {
            fprintf(stderr, "unknown option: %s\n", p);
            sb_test_failures++;
        }
        p += strcspn(p, " ");
    }
}

static int passed, failed;

static void run_case(const char *file, tcase *t)
{
    sb_cel_options o;
    char container[128];
    parse_options(t->options, &o, container, sizeof container);
    sb_val vars = sb_null();
    if (t->vars) {
        vars = sb_json_parse(t->vars, strlen(t->vars));
        if (vars.kind == SB_ERROR) {
            fprintf(stderr, "%s:%d: bad vars JSON: %s\n", file, t->line, sb_str(vars));
            sb_val_free(vars);
            failed++;
            sb_test_failures++;
            return;
        }
    }
    sb_val err;
    sb_cel_program *p = sb_cel_parse(t->expr, strlen(t->expr), &o, &err);
    sb_val got = p ? sb_cel_eval(p, vars) : err;
    /* evaluating twice must give the same answer (programs are immutable) */
    if (p) {
        sb_val again = sb_cel_eval(p, vars);
        if (!(again.kind == got.kind &&
              (got.kind == SB_ERROR ? strcmp(sb_str(got), sb_str(again)) == 0 : same(got, again)))) {
            fprintf(stderr, "%s:%d: second evaluation differs\n", file, t->line);
            failed++;
            sb_test_failures++;
        }
        sb_val_free(again);
    }
    bool ok;
    char *want_s = NULL;
    if (t->err) {
        ok = got.kind == SB_ERROR &&
             (t->err_sub ? strstr(sb_str(got), t->err) != NULL : strcmp(sb_str(got), t->err) == 0);
        want_s = sb_strdup(t->err);
    } else {
        sb_val werr;
        sb_cel_program *wp = sb_cel_parse(t->want, strlen(t->want), NULL, &werr);
        sb_val want = wp ? sb_cel_eval(wp, sb_null()) : werr;
        ok = want.kind != SB_ERROR && same(got, want);
        want_s = show(want);
        sb_val_free(want);
        sb_cel_program_free(wp);
    }
    if (ok) {
        passed++;
    } else {
        failed++;
        sb_test_failures++;
        char *g = show(got);
        fprintf(stderr, "%s:%d: %s\n  got:  %s\n  want: %s%s\n", file, t->line, t->expr, g, t->err ? "error: " : "",
                want_s);
        sb_free(g);
    }
    sb_free(want_s);
    sb_val_free(got);
    sb_cel_program_free(p);
    sb_val_free(vars);
}

static char *dup_line(const char *s)
{
    return sb_strdup(s);
}

static void free_case(tcase *t)
{
    sb_free(t->expr);
    sb_free(t->vars);
    sb_free(t->options);
    sb_free(t->want);
    sb_free(t->err);
    memset(t, 0, sizeof *t);
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        sb_test_failures++;
        return;
    }
    char line[8192];
    int lineno = 0;
    tcase t;
    memset(&t, 0, sizeof t);
    bool more = true;
    while (more) {
        more = fgets(line, sizeof line, f) != NULL;
        lineno++;
        if (more) {
            line[strcspn(line, "\n")] = '\0';
            if (line[0] == '#')
                continue;
        }
        if (!more || line[0] == '\0') {
            if (t.expr) {
                if (!t.want && !t.err) {
                    fprintf(stderr, "%s:%d: case without => or !!\n", path, t.line);
                    sb_test_failures++;
                } else {
                    run_case(path, &t);
                }
            }
            free_case(&t);
            continue;
        }
        if (!t.expr) {
            t.line = lineno;
            t.expr = dup_line(line);
        } else if (strncmp(line, "vars ", 5) == 0) {
            t.vars = dup_line(line + 5);
        } else if (strncmp(line, "options ", 8) == 0) {
            t.options = dup_line(line + 8);
        } else if (strncmp(line, "=> ", 3) == 0) {
            t.want = dup_line(line + 3);
        } else if (strncmp(line, "!! ", 3) == 0 || strncmp(line, "!~ ", 3) == 0) {
            t.err = dup_line(line + 3);
            t.err_sub = line[1] == '~';
        } else {
            fprintf(stderr, "%s:%d: unexpected line: %s\n", path, lineno, line);
            sb_test_failures++;
        }
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        run_file(argv[i]);
    printf("%d passed, %d failed\n", passed, failed);
    return sb_test_failures || (passed + failed) == 0 ? 1 : 0;
}
