/* sibyl expr: evaluate one CEL expression (or a {{ }} template) and print the
 * result as JSON, or the error with a caret under its column.
 * sibyl cel-conformance: run cel-spec conformance cases in the tagged JSON
 * form of shared/conformance/cel/README.md. */
#include <math.h>
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

/* ---- a JSON reader for the conformance file ----
 * sb_json_parse cannot be used: some expressions contain "\u0000", and the
 * tagged values need to know 3.0 from 3. Numbers with '.', 'e' or 'E' become
 * doubles; strings keep NUL bytes. */

typedef struct jr {
    const char *s;
    size_t len, pos;
    const char *err;
    int depth;
} jr;

static void jws(jr *j)
{
    while (j->pos < j->len && strchr(" \t\r\n", j->s[j->pos]) && j->s[j->pos])
        j->pos++;
}

static sb_val jvalue(jr *j);

static int jhex4(jr *j)
{
    if (j->pos + 4 > j->len)
        return -1;
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = j->s[j->pos++];
        int h = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static void put_utf8(sb_buf *b, unsigned cp)
{
    if (cp < 0x80) {
        sb_buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        sb_buf_putc(b, (char)(0xC0 | (cp >> 6)));
        sb_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        sb_buf_putc(b, (char)(0xE0 | (cp >> 12)));
        sb_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        sb_buf_putc(b, (char)(0xF0 | (cp >> 18)));
        sb_buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        sb_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        sb_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

static sb_val jstring(jr *j)
{
    sb_buf b = SB_BUF_INIT;
    j->pos++; /* opening quote */
    while (j->pos < j->len && j->s[j->pos] != '"') {
        char c = j->s[j->pos++];
        if (c != '\\') {
            sb_buf_putc(&b, c);
            continue;
        }
        if (j->pos >= j->len)
            break;
        c = j->s[j->pos++];
        switch (c) {
        case 'n':
            sb_buf_putc(&b, '\n');
            break;
        case 't':
            sb_buf_putc(&b, '\t');
            break;
        case 'r':
            sb_buf_putc(&b, '\r');
            break;
        case 'b':
            sb_buf_putc(&b, '\b');
            break;
        case 'f':
            sb_buf_putc(&b, '\f');
            break;
        case 'u': {
            int cp = jhex4(j);
            if (cp >= 0xD800 && cp <= 0xDBFF && j->pos + 6 <= j->len && j->s[j->pos] == '\\' &&
                j->s[j->pos + 1] == 'u') {
                j->pos += 2;
                int lo = jhex4(j);
                if (lo >= 0xDC00 && lo <= 0xDFFF)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    cp = -1;
            }
            if (cp < 0) {
                j->err = "bad \\u escape";
                sb_buf_free(&b);
                return sb_null();
            }
            put_utf8(&b, (unsigned)cp);
            break;
        }
        default:
            sb_buf_putc(&b, c);
            break;
        }
    }
    if (j->pos >= j->len) {
        j->err = "unterminated string";
        sb_buf_free(&b);
        return sb_null();
    }
    j->pos++;
    sb_val v = sb_string(sb_buf_str(&b), b.len);
    sb_buf_free(&b);
    return v;
}

static sb_val jvalue(jr *j)
{
    jws(j);
    if (j->pos >= j->len) {
        j->err = "unexpected end";
        return sb_null();
    }
    if (++j->depth > 200) {
        j->err = "nested too deeply";
        return sb_null();
    }
    char c = j->s[j->pos];
    sb_val v = sb_null();
    if (c == '"') {
        v = jstring(j);
    } else if (c == '[' || c == '{') {
        bool obj = c == '{';
        v = obj ? sb_map_new(0) : sb_list_new(0);
        j->pos++;
        jws(j);
        if (j->pos < j->len && j->s[j->pos] == (obj ? '}' : ']')) {
            j->pos++;
        } else {
            for (;;) {
                sb_val k = sb_null();
                if (obj) {
                    jws(j);
                    if (j->pos >= j->len || j->s[j->pos] != '"') {
                        j->err = "object key expected";
                        break;
                    }
                    k = jstring(j);
                    jws(j);
                    if (j->err || j->pos >= j->len || j->s[j->pos] != ':') {
                        sb_val_free(k);
                        j->err = j->err ? j->err : "':' expected";
                        break;
                    }
                    j->pos++;
                }
                sb_val item = jvalue(j);
                if (j->err) {
                    sb_val_free(k);
                    sb_val_free(item);
                    break;
                }
                if (obj)
                    sb_map_set(&v, k, item);
                else
                    sb_list_push(&v, item);
                jws(j);
                if (j->pos < j->len && j->s[j->pos] == ',') {
                    j->pos++;
                    continue;
                }
                if (j->pos < j->len && j->s[j->pos] == (obj ? '}' : ']')) {
                    j->pos++;
                    break;
                }
                j->err = "',' or closing bracket expected";
                break;
            }
        }
    } else if (c == 't' && j->pos + 4 <= j->len && memcmp(j->s + j->pos, "true", 4) == 0) {
        j->pos += 4;
        v = sb_bool(true);
    } else if (c == 'f' && j->pos + 5 <= j->len && memcmp(j->s + j->pos, "false", 5) == 0) {
        j->pos += 5;
        v = sb_bool(false);
    } else if (c == 'n' && j->pos + 4 <= j->len && memcmp(j->s + j->pos, "null", 4) == 0) {
        j->pos += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        size_t st = j->pos;
        bool dbl = false;
        while (j->pos < j->len && strchr("+-0123456789.eE", j->s[j->pos]) && j->s[j->pos]) {
            if (strchr(".eE", j->s[j->pos]))
                dbl = true;
            j->pos++;
        }
        char tmp[64];
        size_t n = j->pos - st < 63 ? j->pos - st : 63;
        memcpy(tmp, j->s + st, n);
        tmp[n] = '\0';
        v = dbl ? sb_double(strtod(tmp, NULL)) : sb_int(strtoll(tmp, NULL, 10));
    } else {
        j->err = "unexpected character";
    }
    j->depth--;
    return v;
}

/* ---- tagged values ---- */

static sb_val b64_decode(const char *s, size_t len)
{
    sb_buf b = SB_BUF_INIT;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '+'             ? 62
                : c == '/'             ? 63
                                       : -1;
        if (v < 0)
            continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sb_buf_putc(&b, (char)((acc >> bits) & 0xFF));
        }
    }
    sb_val r = sb_bytes(sb_buf_str(&b), b.len);
    sb_buf_free(&b);
    return r;
}

static sb_val untag(sb_val t)
{
    if (t.kind != SB_MAP || sb_map_len(t) != 1)
        return sb_errorf("bad tagged value");
    sb_val k = *sb_map_key_at(t, 0), v = *sb_map_val_at(t, 0);
    const char *tag = sb_str(k);
    if (strcmp(tag, "null") == 0)
        return sb_null();
    if (strcmp(tag, "bool") == 0)
        return sb_bool(v.kind == SB_BOOL && v.as.b);
    if (strcmp(tag, "int64") == 0)
        return sb_int(strtoll(sb_str(v), NULL, 10));
    if (strcmp(tag, "uint64") == 0)
        return sb_uint(strtoull(sb_str(v), NULL, 10));
    if (strcmp(tag, "double") == 0) {
        if (v.kind == SB_STRING) {
            if (sb_str_eq(v, "NaN"))
                return sb_double(NAN);
            return sb_double(sb_str_eq(v, "-Infinity") ? -INFINITY : INFINITY);
        }
        double d = 0;
        sb_val_as_double(v, &d);
        return sb_double(d);
    }
    if (strcmp(tag, "string") == 0)
        return sb_val_ref(v);
    if (strcmp(tag, "bytes") == 0)
        return b64_decode(sb_str(v), sb_str_len(v));
    if (strcmp(tag, "type") == 0)
        return sb_type(sb_str(v));
    if (strcmp(tag, "list") == 0) {
        sb_val l = sb_list_new(sb_list_len(v));
        for (size_t i = 0; i < sb_list_len(v); i++) {
            sb_val e = untag(*sb_list_at(v, i));
            if (e.kind == SB_ERROR) {
                sb_val_free(l);
                return e;
            }
            sb_list_push(&l, e);
        }
        return l;
    }
    if (strcmp(tag, "map") == 0) {
        sb_val m = sb_map_new(sb_list_len(v));
        for (size_t i = 0; i < sb_list_len(v); i++) {
            sb_val pair = *sb_list_at(v, i);
            sb_val mk = untag(*sb_list_at(pair, 0)), mv = untag(*sb_list_at(pair, 1));
            if (mk.kind == SB_ERROR || mv.kind == SB_ERROR) {
                sb_val_free(mk);
                sb_val_free(mv);
                sb_val_free(m);
                return sb_errorf("bad tagged map");
            }
            sb_map_set(&m, mk, mv);
        }
        return m;
    }
    return sb_errorf("unknown tag '%s'", tag);
}

/* Strict comparison: kinds must match (1 != 1u != 1.0), NaN equals NaN. */
static bool same(sb_val a, sb_val b)
{
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case SB_DOUBLE:
        return (isnan(a.as.d) && isnan(b.as.d)) || a.as.d == b.as.d;
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
            sb_val k = *sb_map_key_at(a, i);
            const sb_val *o = sb_map_get(b, k);
            if (!o)
                return false;
            bool key_found = false;
            for (size_t j = 0; j < sb_map_len(b); j++)
                if (same(k, *sb_map_key_at(b, j)))
                    key_found = true;
            if (!key_found || !same(*sb_map_val_at(a, i), *o))
                return false;
        }
        return true;
    default:
        return sb_val_equal(a, b);
    }
}

/* "int64:5", "list[...]" and so on: what failure lines show. */
static void describe(sb_buf *b, sb_val v)
{
    switch (v.kind) {
    case SB_ERROR:
        sb_buf_printf(b, "error(%s)", sb_str(v));
        return;
    case SB_STRING:
        sb_buf_puts(b, "string:");
        sb_buf_json_string(b, sb_str(v), sb_str_len(v));
        return;
    case SB_BYTES:
        sb_buf_puts(b, "bytes:");
        sb_base64_encode(b, (const unsigned char *)sb_str(v), sb_str_len(v));
        return;
    case SB_TYPE:
        sb_buf_printf(b, "type:%s", sb_str(v));
        return;
    case SB_DOUBLE:
        sb_buf_puts(b, "double:");
        break;
    case SB_INT:
        sb_buf_puts(b, "int64:");
        break;
    case SB_UINT:
        sb_buf_puts(b, "uint64:");
        break;
    case SB_LIST:
        sb_buf_putc(b, '[');
        for (size_t i = 0; i < sb_list_len(v); i++) {
            if (i)
                sb_buf_puts(b, ", ");
            describe(b, *sb_list_at(v, i));
        }
        sb_buf_putc(b, ']');
        return;
    case SB_MAP:
        sb_buf_putc(b, '{');
        for (size_t i = 0; i < sb_map_len(v); i++) {
            if (i)
                sb_buf_puts(b, ", ");
            describe(b, *sb_map_key_at(v, i));
            sb_buf_puts(b, ": ");
            describe(b, *sb_map_val_at(v, i));
        }
        sb_buf_putc(b, '}');
        return;
    default:
        break;
    }
    sb_cel_render(b, v);
}

typedef struct file_count {
    char name[48];
    int pass, fail, skip;
} file_count;

/* Features this evaluator does not have; their cases are skipped. */
static const char *skip_reason(sb_val c)
{
    const sb_val *feat = sb_map_get_str(c, "features");
    for (size_t i = 0; feat && i < sb_list_len(*feat); i++) {
        sb_val f = *sb_list_at(*feat, i);
        if (sb_str_eq(f, "timestamp_duration"))
            return "timestamps and durations are not supported (sb_val has no such types)";
        if (sb_str_eq(f, "optional"))
            return "optional values (optional.of, .?f, [?k]) are not supported";
    }
    return NULL;
}

static const char conf_usage[] = "usage: sibyl cel-conformance FILE.json [--verbose] [--file NAME]\n"
                                 "  Runs cel-spec conformance cases (tagged JSON); one line per failure,\n"
                                 "  a summary per file, then 'N passed, N failed, N skipped'.\n"
                                 "  --verbose   also list skipped cases with the reason\n"
                                 "  --file NAME only the cases of one file (basic, macros, ...)\n";

int cli_cmd_cel_conformance(int argc, char **argv)
{
    const char *path = NULL, *only = NULL;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(conf_usage, stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (argv[i][0] == '-' || path) {
            return cli_usage_error("cel-conformance: unexpected argument '%s' (see --help)", argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fputs(conf_usage, stderr);
        return CLI_USAGE;
    }
    size_t len;
    char *text = cli_read_file(path, &len);
    if (!text)
        return CLI_INVALID;
    jr j = {text, len, 0, NULL, 0};
    sb_val cases = jvalue(&j);
    sb_free(text);
    if (j.err || cases.kind != SB_LIST) {
        fprintf(stderr, "%s: error: not a JSON list of cases (%s at byte %zu)\n", path, j.err ? j.err : "not a list",
                j.pos);
        sb_val_free(cases);
        return CLI_INVALID;
    }
    file_count files[64];
    size_t nfiles = 0;
    int pass = 0, fail = 0, skip = 0;
    for (size_t i = 0; i < sb_list_len(cases); i++) {
        sb_val c = *sb_list_at(cases, i);
        const sb_val *file = sb_map_get_str(c, "file"), *sect = sb_map_get_str(c, "section"),
                     *name = sb_map_get_str(c, "name"), *expr = sb_map_get_str(c, "expr");
        if (!file || !sect || !name || !expr)
            continue;
        if (only && !sb_str_eq(*file, only))
            continue;
        file_count *fc = NULL;
        for (size_t k = 0; k < nfiles; k++)
            if (strcmp(files[k].name, sb_str(*file)) == 0)
                fc = &files[k];
        if (!fc && nfiles < 64) {
            fc = &files[nfiles++];
            memset(fc, 0, sizeof *fc);
            snprintf(fc->name, sizeof fc->name, "%s", sb_str(*file));
        }
        const char *why = skip_reason(c);
        if (why) {
            skip++;
            if (fc)
                fc->skip++;
            if (verbose)
                printf("SKIP %s/%s/%s: %s\n", sb_str(*file), sb_str(*sect), sb_str(*name), why);
            continue;
        }
        /* variables: tagged values under possibly dotted names */
        sb_val vars = sb_map_new(0);
        const sb_val *b = sb_map_get_str(c, "bindings");
        for (size_t k = 0; b && k < sb_map_len(*b); k++)
            sb_map_set(&vars, sb_val_ref(*sb_map_key_at(*b, k)), untag(*sb_map_val_at(*b, k)));
        sb_cel_options opt;
        memset(&opt, 0, sizeof opt);
        const sb_val *cont = sb_map_get_str(c, "container");
        if (cont && cont->kind == SB_STRING)
            opt.container = sb_str(*cont);
        const sb_val *want_v = sb_map_get_str(c, "expected_value");
        const sb_val *want_e = sb_map_get_str(c, "expected_error");
        sb_val err;
        sb_cel_program *p = sb_cel_parse(sb_str(*expr), sb_str_len(*expr), &opt, &err);
        sb_val got = p ? sb_cel_eval(p, vars) : err;
        sb_val want = want_v ? untag(*want_v) : sb_null();
        bool ok = want_e ? got.kind == SB_ERROR : (want_v && same(got, want));
        if (ok) {
            pass++;
            if (fc)
                fc->pass++;
        } else {
            fail++;
            if (fc)
                fc->fail++;
            sb_buf out = SB_BUF_INIT;
            sb_buf_printf(&out, "FAIL %s/%s/%s: ", sb_str(*file), sb_str(*sect), sb_str(*name));
            sb_buf_json_string(&out, sb_str(*expr), sb_str_len(*expr));
            sb_buf_puts(&out, ": got ");
            describe(&out, got);
            sb_buf_puts(&out, ", want ");
            if (want_e)
                sb_buf_printf(&out, "an error (%s)", sb_str(*want_e));
            else
                describe(&out, want);
            printf("%s\n", sb_buf_str(&out));
            sb_buf_free(&out);
        }
        sb_val_free(want);
        sb_val_free(got);
        sb_cel_program_free(p);
        sb_val_free(vars);
    }
    sb_val_free(cases);
    for (size_t k = 0; k < nfiles; k++)
        printf("%s: %d passed, %d failed, %d skipped\n", files[k].name, files[k].pass, files[k].fail, files[k].skip);
    printf("%d passed, %d failed, %d skipped\n", pass, fail, skip);
    return fail ? CLI_RUN_FAILED : CLI_OK;
}
