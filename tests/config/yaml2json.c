/* yaml2json FILE: prints a YAML file as JSON, read by sibyl's own loader (so
 * the same scalar rules and rejections apply). Test-only: the JSON Schema
 * check feeds the example configs through it to a JSON Schema validator.
 * Exit 0 on success, 1 with FILE:LINE:COL diagnostics when the YAML does not
 * load, 2 on a usage error. */
#include <stdio.h>

#include "config/sb_yaml.h"
#include "util/sb_alloc.h"
#include "sb_test_file.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: yaml2json FILE\n", stderr);
        return 2;
    }
    size_t len;
    char *text = sb_test_read_file(argv[1], &len);
    if (!text) {
        perror(argv[1]);
        return 1;
    }
    sb_diags *d = sb_diags_new();
    sb_val v;
    bool ok = sb_yaml_load(argv[1], text, len, d, &v);
    sb_buf out = SB_BUF_INIT;
    if (ok) {
        sb_val_write_json(&out, v, SB_JSON_PRETTY);
    } else {
        sb_diags_sort(d);
        sb_diags_write(d, &out);
    }
    fputs(sb_buf_str(&out), ok ? stdout : stderr);
    if (ok)
        fputc('\n', stdout);
    sb_buf_free(&out);
    sb_val_free(v);
    sb_diags_free(d);
    sb_free(text);
    return ok ? 0 : 1;
}
