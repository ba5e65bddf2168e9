/* libFuzzer target: parse + evaluate CEL, and compile + evaluate the same
 * bytes as a {{ }} template. The first byte picks options (mixed numeric,
 * tight limits); the rest is the expression. Small limits keep every input
 * fast, and a limit breach must always be a clean error.
 *   build/<dir>/tests/fuzz_cel -max_total_time=600 CORPUS tests/cel/fuzz-seeds */
#include <stdint.h>
#include <string.h>

#include "cel/sb_cel.h"
#include "cel/sb_template.h"
#include "util/sb_alloc.h"
#include "util/sb_diag.h"

static sb_val make_vars(void)
{
    sb_val v = sb_map_new(8);
    sb_map_set_str(&v, "x", sb_int(7));
    sb_map_set_str(&v, "u", sb_uint(3));
    sb_map_set_str(&v, "d", sb_double(2.5));
    sb_map_set_str(&v, "s", sb_string_cstr("héllo wörld"));
    sb_map_set_str(&v, "b", sb_bytes("\x00\xff", 2));
    sb_val l = sb_list_new(4);
    for (int i = 0; i < 4; i++)
        sb_list_push(&l, sb_int(i));
    sb_list_push(&l, sb_string_cstr("z"));
    sb_map_set_str(&v, "l", l);
    sb_val m = sb_map_new(2);
    sb_map_set_str(&m, "a", sb_int(1));
    sb_map_set_str(&m, "b", sb_list_new(0));
    sb_map_set_str(&v, "m", m);
    sb_map_set_str(&v, "a.b", sb_bool(true));
    sb_map_set_str(&v, "n", sb_null());
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    const char *src = (const char *)data + 1;
    size_t len = size - 1;
    sb_cel_options o;
    memset(&o, 0, sizeof o);
    o.mixed_numeric = flags & 1;
    o.limits.max_steps = (flags & 2) ? 500 : 20000;
    o.limits.max_bytes = (flags & 4) ? 4096 : (1u << 20);
    o.limits.max_depth = (flags & 8) ? 8 : 0;
    o.container = (flags & 16) ? "a" : NULL;
    sb_val vars = make_vars();

    sb_val err;
    sb_cel_program *p = sb_cel_parse(src, len, &o, &err);
    if (p) {
        sb_val r1 = sb_cel_eval(p, vars);
        sb_val r2 = sb_cel_eval(p, vars);
        /* programs are immutable: the same input gives the same kind of result */
        if (r1.kind != r2.kind)
            __builtin_trap();
        if (r1.kind == SB_ERROR && strcmp(sb_str(r1), sb_str(r2)) != 0)
            __builtin_trap();
        sb_buf b = SB_BUF_INIT;
        sb_cel_render(&b, r1);
        sb_val_write_json(&b, r1, 0);
        sb_buf_free(&b);
        sb_val_free(r1);
        sb_val_free(r2);
        sb_cel_program_free(p);
    } else {
        if (err.kind != SB_ERROR || err.col == 0 || err.col > len + 1)
            __builtin_trap();
        sb_val_free(err);
    }

    /* the same bytes as a template string value */
    sb_val s = sb_string(src, len);
    if (s.kind == SB_STRING) {
        sb_diags *d = sb_diags_new();
        sb_tmpl *t = sb_tmpl_compile(s, "fuzz.yaml", &o, d);
        if (t) {
            sb_val r = sb_tmpl_eval(t, vars);
            sb_val_free(r);
            r = sb_tmpl_eval_bool(t, vars);
            sb_val_free(r);
        }
        sb_tmpl_free(t);
        sb_diags_free(d);
    }
    sb_val_free(s);
    sb_val_free(vars);
    return 0;
}
