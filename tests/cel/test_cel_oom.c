/* Every allocation failure is handled: each case runs with an allocator that
 * fails the 1st, 2nd, ... allocation until a run completes. A run must give
 * the right value or an error (never a wrong value, a crash or a leak: LSan
 * checks the last). */
#include "cel/sb_cel.h"
#include "cel/sb_template.h"
#include "sb_test.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

typedef struct failer {
    long count, fail_at;
    bool failed;
} failer;

static void *failing_alloc(void *ud, void *ptr, size_t size)
{
    failer *f = ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    if (++f->count == f->fail_at) {
        f->failed = true;
        return NULL;
    }
    return realloc(ptr, size);
}

static const struct {
    const char *expr, *vars, *want;
} cases[] = {
    {"jobs.status.failed_count > 0", "{\"jobs\": {\"status\": {\"failed_count\": 1}}}", "true"},
    {"results.filter(r, r.acc > 80.0).map(r, r.id)",
     "{\"results\": [{\"id\": \"a\", \"acc\": 90.5}, {\"id\": \"b\", \"acc\": 10.5}]}", "['a']"},
    {"'%s=%.2f %d'.format(['lr', 0.015, 3]) + string(1e6) + 'abc'.upperAscii()", "{}", "'lr=0.01 31e+06ABC'"},
    {"{'a': [1, 2], 'b': {'c': 'd'}}.transformMap(k, v, size(v))", "{}", "{'a': 2, 'b': 1}"},
    {"'a,b,c'.split(',').join('-') + 'x'.replace('', '.') + 'abc'.substring(1)", "{}", "'a-b-c.x.bc'"},
    {"'hello world'.matches('w[a-z]+d$') && !('x' in ['y'])", "{}", "true"},
    {"x.missing || true", "{\"x\": {}}", "true"},
    {"[1, 2, 3].exists(i, v, i + v == 5) ? b'ok' + b'!' : b''", "{}", "b'ok!'"},
    {"math.greatest([1, 2.5]) + double('1.5') + double(base64.decode(base64.encode(b'zz')).size())", "{}", "6.0"},
    {"a.b.c + y", "{\"a.b\": {\"c\": 1}, \"y\": 2}", "3"},
    {"string(timestamp(t) + duration('1h30m') - timestamp(0)) + '%s'.format([[timestamp(0)]])", "{\"t\": \"2024-01-01T00:00:00Z\"}",
     "'1704072600s[1970-01-01T00:00:00Z]'"},
    {"[?m.?a, ?m.?b].size() + m.?a.optMap(x, x * 2).orValue(0) + {?'k': m.?a}.size()", "{\"m\": {\"a\": 5}}", "12"},
};

static bool same_json(sb_val got, const char *want)
{
    sb_cel_program *p = sb_cel_parse(want, strlen(want), NULL, NULL);
    sb_val w = sb_cel_eval(p, sb_null());
    bool ok = w.kind == got.kind && sb_val_equal(w, got);
    sb_val_free(w);
    sb_cel_program_free(p);
    return ok;
}

static void test_failing_allocations(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sb_val vars = sb_json_parse(cases[i].vars, strlen(cases[i].vars));
        bool completed = false;
        for (long n = 1; n < 100000 && !completed; n++) {
            failer f = {0, n, false};
            sb_alloc_set(failing_alloc, &f);
            sb_val err;
            sb_cel_program *p = sb_cel_parse(cases[i].expr, strlen(cases[i].expr), NULL, &err);
            sb_val r = p ? sb_cel_eval(p, vars) : err;
            /* the same expression as a template */
            char tsrc[512];
            snprintf(tsrc, sizeof tsrc, "v: {{ %s }}", cases[i].expr);
            sb_val ts = sb_string_cstr(tsrc);
            sb_diags *d = sb_diags_new();
            sb_tmpl *t = ts.kind == SB_STRING && d ? sb_tmpl_compile(ts, "t.yaml", NULL, d) : NULL;
            sb_val tr = t ? sb_tmpl_eval(t, vars) : sb_null();
            sb_alloc_set(NULL, NULL);
            if (r.kind != SB_ERROR && !same_json(r, cases[i].want)) {
                fprintf(stderr, "case %zu, failing allocation %ld: wrong value\n", i, n);
                CHECK(0);
            }
            if (!f.failed) {
                completed = true;
                CHECK(r.kind != SB_ERROR);
                CHECK(tr.kind == SB_STRING);
            }
            sb_val_free(r);
            sb_val_free(tr);
            sb_tmpl_free(t);
            sb_diags_free(d);
            sb_val_free(ts);
            sb_cel_program_free(p);
        }
        CHECK(completed);
        sb_val_free(vars);
    }
}

SB_TEST_MAIN(TEST(test_failing_allocations))
