/* cel_conformance: runs cel-spec conformance cases, in the tagged JSON form
 * of shared/conformance/cel/README.md, against the CEL evaluator. A test tool
 * (built natively and as wasm32-wasi; check-conformance.mjs runs both and
 * compares their output), not part of sibyl.
 *
 * The file is read with sb_json_parse, which keeps what the cases need:
 * "\u0000" inside expressions, and int64/uint64 values exactly (the tagged
 * values carry them as strings anyway: {"int64": "-9223372036854775808"}).
 *
 * Output: one "FAIL file/section/name: ..." line per failure ("SKIP ..."
 * lines too with --verbose), "FILE: N passed, N failed, N skipped" per file,
 * then the same for all files. Exit 0 when nothing failed, 3 when a case
 * failed, 1 when the file cannot be read, 2 on a usage error. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/sb_cel.h"
#include "json/sb_json.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"
#include "sb_test_file.h"

enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2, EXIT_FAILED = 3 };

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

/* Cases of a feature this evaluator does not have are skipped: those that
 * need protobuf message types (tagged "proto" if a case file has them; the
 * visible cases need none). */
static const char *skip_reason(sb_val c)
{
    const sb_val *feat = sb_map_get_str(c, "features");
    for (size_t i = 0; feat && i < sb_list_len(*feat); i++)
        if (sb_str_eq(*sb_list_at(*feat, i), "proto"))
            return "protobuf message types are not supported";
    return NULL;
}

static const char conf_usage[] = "usage: cel_conformance FILE.json [--verbose] [--file NAME]\n"
                                 "  Runs cel-spec conformance cases (tagged JSON); one line per failure,\n"
                                 "  a summary per file, then 'N passed, N failed, N skipped'.\n"
                                 "  --verbose   also list skipped cases with the reason\n"
                                 "  --file NAME only the cases of one file (basic, macros, ...)\n";

static char *read_file(const char *path, size_t *len)
{
    char *text = sb_test_read_file(path, len);
    if (!text)
        fprintf(stderr, "%s: error: cannot open: %s\n", path, strerror(errno));
    return text;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *only = NULL;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(conf_usage, stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "cel_conformance: unexpected argument '%s' (see --help)\n", argv[i]);
            return EXIT_USAGE;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fputs(conf_usage, stderr);
        return EXIT_USAGE;
    }
    size_t len;
    char *text = read_file(path, &len);
    if (!text)
        return EXIT_INVALID;
    sb_val cases = sb_json_parse(text, len);
    sb_free(text);
    if (cases.kind != SB_LIST) {
        fprintf(stderr, "%s: error: %s\n", path,
                cases.kind == SB_ERROR ? sb_str(cases) : "not a JSON list of cases");
        sb_val_free(cases);
        return EXIT_INVALID;
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
    return fail ? EXIT_FAILED : EXIT_OK;
}
