/* Runs the tests/cel .check files: type-checker cases written as data.
 *
 *   # a comment
 *   decl NAME TYPE        declares a variable for every case after it
 *   hint NAME WHERE       a name that is a variable elsewhere (sb_cel_env_hint)
 *   clear                 drops the declarations and hints so far
 *   (blank line)
 *   options mixed_numeric optional, for the next case only
 *   EXPRESSION            one line
 *   :: TYPE               the type the checker gives (sb_cel_type_render's text)
 *   !! MESSAGE            or: the exact error ("col N: message")
 *
 * Cases are separated by blank lines. Every case runs under ASan/LSan and
 * natively and as wasm (tests/wasm-units). Then one check of a template runs
 * with every allocation failing in turn (sb_failalloc.h): each must end
 * cleanly, with nothing leaked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/sb_cel_check.h"
#include "cel/sb_template.h"
#include "sb_failalloc.h"
#include "sb_test.h"
#include "util/sb_alloc.h"

#define MAXDECL 64

typedef struct decls {
    char *line[MAXDECL]; /* "decl NAME TYPE" or "hint NAME WHERE" */
    size_t n;
} decls;

static char *trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

static bool declare(sb_cel_env *e, const char *line)
{
    const char *name = line + 5, *sp = strchr(name, ' ');
    if (!sp)
        return false;
    char nm[64];
    size_t n = (size_t)(sp - name) < sizeof nm - 1 ? (size_t)(sp - name) : sizeof nm - 1;
    memcpy(nm, name, n);
    nm[n] = 0;
    if (strncmp(line, "hint ", 5) == 0)
        return sb_cel_env_hint(e, nm, sp + 1);
    const sb_cel_type *t = sb_cel_type_parse(e, sp + 1);
    if (!t)
        fprintf(stderr, "bad type in '%s'\n", line);
    return t && sb_cel_env_declare(e, nm, t);
}

static bool run_case(const char *file, int lineno, const decls *ds, bool mixed, const char *expr, const char *want)
{
    sb_cel_env *e = sb_cel_env_new(mixed);
    bool ok = e != NULL;
    for (size_t i = 0; ok && i < ds->n; i++)
        ok = declare(e, ds->line[i]);
    sb_cel_options o = {0};
    o.mixed_numeric = mixed;
    sb_val err = sb_null();
    sb_cel_program *p = ok ? sb_cel_parse(expr, strlen(expr), &o, &err) : NULL;
    if (!p) {
        fprintf(stderr, "%s:%d: cannot parse '%s': %s\n", file, lineno, expr, err.kind == SB_ERROR ? sb_str(err) : "");
        sb_val_free(err);
        sb_cel_env_free(e);
        return false;
    }
    const sb_cel_type *t = sb_cel_check(e, p, &err);
    sb_buf got = SB_BUF_INIT;
    if (t) {
        sb_buf_puts(&got, ":: ");
        sb_cel_type_render(&got, t);
    } else {
        sb_buf_printf(&got, "!! %s", sb_str(err));
    }
    bool pass = !sb_buf_failed(&got) && strcmp(sb_buf_str(&got), want) == 0;
    if (!pass)
        fprintf(stderr, "%s:%d: %s\n  want %s\n  got  %s\n", file, lineno, expr, want, sb_buf_str(&got));
    sb_buf_free(&got);
    sb_val_free(err);
    sb_cel_program_free(p);
    sb_cel_env_free(e);
    return pass;
}

static int run_file(const char *path, int *cases)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    decls ds = {{0}, 0};
    char buf[4096], expr[4096] = "";
    bool mixed = false;
    int failures = 0, lineno = 0, expr_line = 0;
    while (fgets(buf, sizeof buf, f)) {
        lineno++;
        char *l = trim(buf);
        if (l[0] == '#')
            continue;
        if (!l[0]) {
            expr[0] = 0;
            mixed = false;
        } else if ((strncmp(l, "decl ", 5) == 0 || strncmp(l, "hint ", 5) == 0) && ds.n < MAXDECL) {
            ds.line[ds.n++] = sb_strdup(l);
        } else if (strcmp(l, "clear") == 0) {
            while (ds.n)
                sb_free(ds.line[--ds.n]);
        } else if (strcmp(l, "options mixed_numeric") == 0) {
            mixed = true;
        } else if (strncmp(l, ":: ", 3) == 0 || strncmp(l, "!! ", 3) == 0) {
            (*cases)++;
            if (!run_case(path, expr_line, &ds, mixed, expr, l))
                failures++;
        } else {
            snprintf(expr, sizeof expr, "%s", l);
            expr_line = lineno;
        }
    }
    while (ds.n)
        sb_free(ds.line[--ds.n]);
    fclose(f);
    return failures;
}

static bool oom_ok = true;

/* An environment, a template of several expressions, its check. */
static void oom_run(bool check)
{
    sb_cel_env *e = sb_cel_env_new(false);
    const sb_cel_type *in = e ? sb_cel_type_parse(e, "{tags: list(string), n: int, m: map(string, double)}") : NULL;
    bool ok = in && sb_cel_env_declare(e, "inputs", in) && sb_cel_env_hint(e, "job", "elsewhere");
    sb_val tree = sb_map_new(2);
    sb_map_set_str(&tree, "a", sb_string_cstr("{{ inputs.tags.map(t, t + '!').filter(u, size(u) > inputs.n) }}"));
    sb_map_set_str(&tree, "b", sb_string_cstr("n={{ inputs.m['x'] * 2.0 }} {{ [1, 2].exists(i, i == inputs.n) }}"));
    sb_diags *d = sb_diags_new();
    sb_tmpl *t = ok && d && !sb_is_oom(tree) ? sb_tmpl_compile(tree, "t.yaml", NULL, d) : NULL;
    const sb_cel_type *r = t ? sb_tmpl_check(t, e, false, d) : NULL;
    if (check) {
        sb_buf b = SB_BUF_INIT;
        if (r)
            sb_cel_type_render(&b, r);
        if (!r || strcmp(sb_buf_str(&b), "{a: list(string), b: string}") != 0) {
            fprintf(stderr, "failing allocations: the checking run gave '%s'\n", r ? sb_buf_str(&b) : "nothing");
            oom_ok = false;
        }
        sb_buf_free(&b);
    }
    sb_tmpl_free(t);
    sb_diags_free(d);
    sb_val_free(tree);
    sb_cel_env_free(e);
}

int main(int argc, char **argv)
{
    int failures = 0, cases = 0;
    for (int i = 1; i < argc; i++)
        failures += run_file(argv[i], &cases);
    long n = sb_failalloc_until_enough(oom_run);
    printf("failing allocations: %ld points, %s\n", n, oom_ok ? "ok" : "FAILED");
    failures += !oom_ok;
    printf("%d check cases, %d failed\n", cases, failures);
    return failures || cases == 0 ? 1 : 0;
}
