/* sibyl expr: evaluate one CEL expression (or a {{ }} template) and print the
 * result as JSON, or the error with a caret under its column. Variables come
 * as JSON (--vars, --vars-file), read by sb_json_parse. (The cel-spec
 * conformance runner is a test tool: tests/cel/cel_conformance.c.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cel/sb_cel.h"
#include "cel/sb_template.h"
#include "cli.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

/* ---- sibyl expr ---- */

static const char expr_usage[] = "usage: sibyl expr 'EXPR' [--vars JSON | --vars-file FILE] [--mixed-numeric]\n"
                                 "  Evaluates a CEL expression and prints the result as JSON.\n"
                                 "  --vars JSON        variables, a JSON object: {\"job\": {\"lr\": 0.01}}\n"
                                 "  --vars-file FILE   the same, read from a file\n"
                                 "  --mixed-numeric    let int and double mix in arithmetic (1 * 0.5 == 0.5)\n"
                                 "  --bench N          evaluate N times and print evaluations per second\n"
                                 "                     (after N/10 untimed evaluations: a JIT such as V8's\n"
                                 "                     tiers wasm up while it runs)\n"
                                 "  A template such as '{{ 2 * 3 }}' is accepted too (as in a pipeline file).\n";

/* Prints "error: MSG", then the line of src holding column col and a caret. */
static void print_caret(const char *src, size_t len, unsigned col, const char *msg)
{
    fprintf(stderr, "error: %s\n", msg);
    if (!col || !len)
        return;
    /* find the line that holds the col-th code point */
    size_t i = 0, line_start = 0;
    unsigned cp = 1, line_col = 1;
    while (i < len && cp < col) {
        unsigned char ch = (unsigned char)src[i];
        i++;
        while (i < len && ((unsigned char)src[i] & 0xC0) == 0x80)
            i++;
        cp++;
        line_col++;
        if (ch == '\n') {
            line_start = i;
            line_col = 1;
        }
    }
    size_t line_end = line_start;
    while (line_end < len && src[line_end] != '\n' && src[line_end] != '\r')
        line_end++;
    fputs("  ", stderr);
    for (size_t k = line_start; k < line_end; k++)
        fputc(src[k] == '\0' || src[k] == '\t' ? ' ' : src[k], stderr);
    fputs("\n  ", stderr);
    for (unsigned k = 1; k < line_col; k++)
        fputc(' ', stderr);
    fputs("^\n", stderr);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int load_vars(const char *json, size_t len, const char *what, sb_val *out)
{
    sb_val v = sb_json_parse(json, len);
    if (v.kind == SB_ERROR) {
        fprintf(stderr, "%s: error: %s\n", what, sb_str(v));
        sb_val_free(v);
        return CLI_INVALID;
    }
    if (v.kind != SB_MAP) {
        fprintf(stderr, "%s: error: variables must be a JSON object, got %s\n", what, sb_kind_name(v.kind));
        sb_val_free(v);
        return CLI_INVALID;
    }
    *out = v;
    return CLI_OK;
}

static int print_result(sb_val r)
{
    sb_buf b = SB_BUF_INIT;
    sb_val_write_json(&b, r, 0);
    if (sb_buf_failed(&b)) {
        sb_buf_free(&b);
        fputs("sibyl: error: out of memory\n", stderr);
        return CLI_INTERNAL;
    }
    printf("%s\n", sb_buf_str(&b));
    sb_buf_free(&b);
    return CLI_OK;
}

static int run_template(const char *src, const sb_cel_options *opt, sb_val vars)
{
    const char *o = strstr(src, "{{"), *c = strstr(src, "}}");
    if (o && c && c > o) {
        o += 2;
        while (o < c && *o == ' ')
            o++;
        while (c > o && c[-1] == ' ')
            c--;
        fprintf(stderr, "note: evaluating a {{ }} template; `sibyl expr` also takes a bare expression: %.*s\n",
                (int)(c - o), o);
    }
    sb_val s = sb_string_cstr(src);
    sb_diags *d = sb_diags_new();
    sb_tmpl *t = sb_tmpl_compile(s, "<expr>", opt, d);
    sb_val_free(s);
    if (!t) {
        cli_print_diags(d);
        sb_diags_free(d);
        return CLI_INVALID;
    }
    sb_diags_free(d);
    sb_val r = sb_tmpl_eval(t, vars);
    sb_tmpl_free(t);
    int rc;
    if (r.kind == SB_ERROR) {
        fprintf(stderr, "error: %s\n", sb_str(r));
        rc = CLI_INVALID;
    } else {
        rc = print_result(r);
    }
    sb_val_free(r);
    return rc;
}

int cli_cmd_expr(int argc, char **argv)
{
    const char *src = NULL;
    sb_val vars = sb_null();
    sb_cel_options opt;
    memset(&opt, 0, sizeof opt);
    long bench = 0;
    int rc = CLI_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(expr_usage, stdout);
            sb_val_free(vars);
            return CLI_OK;
        } else if (strcmp(a, "--mixed-numeric") == 0) {
            opt.mixed_numeric = true;
        } else if ((strcmp(a, "--vars") == 0 || strcmp(a, "--vars-file") == 0 || strcmp(a, "--bench") == 0) &&
                   i + 1 < argc) {
            const char *val = argv[++i];
            if (strcmp(a, "--bench") == 0) {
                bench = strtol(val, NULL, 10);
                if (bench <= 0) {
                    sb_val_free(vars);
                    return cli_usage_error("--bench needs a positive count");
                }
                continue;
            }
            if (vars.kind != SB_NULL) {
                sb_val_free(vars);
                return cli_usage_error("give --vars or --vars-file once");
            }
            if (strcmp(a, "--vars") == 0) {
                rc = load_vars(val, strlen(val), "--vars", &vars);
            } else {
                size_t len;
                char *text = cli_read_file(val, &len);
                if (!text)
                    return CLI_INVALID;
                rc = load_vars(text, len, val, &vars);
                sb_free(text);
            }
            if (rc != CLI_OK)
                return rc;
        } else if (a[0] == '-' && a[1] != '\0' && strcmp(a, "-") != 0 && !(a[1] >= '0' && a[1] <= '9') && a[1] != ' ' &&
                   a[1] != '(') {
            sb_val_free(vars);
            return cli_usage_error("expr: unknown option '%s' (see sibyl expr --help)", a);
        } else if (!src) {
            src = a;
        } else {
            sb_val_free(vars);
            return cli_usage_error("expr: one expression expected; quote it: sibyl expr 'a + b'");
        }
    }
    if (!src) {
        sb_val_free(vars);
        fputs(expr_usage, stderr);
        return CLI_USAGE;
    }
    if (sb_tmpl_has_expr(src, strlen(src)) && !bench) {
        rc = run_template(src, &opt, vars);
        sb_val_free(vars);
        return rc;
    }
    sb_val err;
    size_t len = strlen(src);
    sb_cel_program *p = sb_cel_parse(src, len, &opt, &err);
    if (!p) {
        print_caret(src, len, err.col, sb_str(err));
        sb_val_free(err);
        sb_val_free(vars);
        return sb_is_oom(err) ? CLI_INTERNAL : CLI_INVALID;
    }
    if (bench) {
        for (long i = 0; i < bench / 10; i++)
            sb_val_free(sb_cel_eval(p, vars));
        double t0 = now_ms();
        long errors = 0;
        for (long i = 0; i < bench; i++) {
            sb_val r = sb_cel_eval(p, vars);
            errors += r.kind == SB_ERROR;
            sb_val_free(r);
        }
        double ms = now_ms() - t0;
        printf("{\"evals\":%ld,\"ms\":%.3f,\"evals_per_sec\":%.0f,\"errors\":%ld}\n", bench, ms,
               ms > 0 ? (double)bench / (ms / 1e3) : 0.0, errors);
        sb_cel_program_free(p);
        sb_val_free(vars);
        return errors ? CLI_INVALID : CLI_OK;
    }
    sb_val r = sb_cel_eval(p, vars);
    if (r.kind == SB_ERROR) {
        print_caret(src, len, r.col, sb_str(r));
        rc = sb_is_oom(r) ? CLI_INTERNAL : CLI_INVALID;
    } else {
        rc = print_result(r);
    }
    sb_val_free(r);
    sb_cel_program_free(p);
    sb_val_free(vars);
    return rc;
}
