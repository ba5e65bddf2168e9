/* --input k=v and --input-file F: the values a run starts from. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"
#include "json/sb_json.h"
#include "util/sb_alloc.h"

int cli_input_arg(sb_val *inputs, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cli_usage_error("--input expects NAME=VALUE, got '%s'", arg);
    const char *text = eq + 1;
    /* JSON when it parses (numbers, true, lists, maps, "quoted"), else the
     * text as a string, so --input target_metric=val_acc needs no quotes. */
    sb_val v = sb_json_parse(text, strlen(text));
    if (v.kind == SB_ERROR) {
        sb_val_free(v);
        v = sb_string_cstr(text);
    }
    sb_val key = sb_string(arg, (size_t)(eq - arg));
    if (!sb_map_set(inputs, key, v)) {
        fprintf(stderr, "sibyl: error: out of memory\n");
        return CLI_INTERNAL;
    }
    return CLI_OK;
}

/* "FILE:LINE:COL: error: why", the form of every other diagnostic, from the
 * JSON parser's "line L, column C: why" (printed as is if it has another form). */
/* The number after the prefix pre at *s, moving *s past both; 0 when absent.
 * (strtoul rather than sscanf: sscanf alone costs sibyl.wasm some 3.5 KB.) */
static unsigned long after(const char **s, const char *pre)
{
    size_t n = strlen(pre);
    if (strncmp(*s, pre, n) != 0 || !isdigit((unsigned char)(*s)[n]))
        return 0;
    char *end;
    unsigned long v = strtoul(*s + n, &end, 10);
    *s = end;
    return v;
}

static void print_json_error(const char *path, const char *msg)
{
    const char *s = msg;
    unsigned long line = after(&s, "line "), col = line ? after(&s, ", column ") : 0;
    if (col && strncmp(s, ": ", 2) == 0)
        fprintf(stderr, "%s:%lu:%lu: error: %s\n", path, line, col, s + 2);
    else
        fprintf(stderr, "%s: error: %s\n", path, msg);
}

int cli_input_file(sb_val *inputs, const char *path)
{
    size_t len;
    char *text = cli_read_file(path, &len);
    if (!text)
        return CLI_INVALID;
    sb_val v = sb_json_parse(text, len);
    sb_free(text);
    if (v.kind != SB_MAP) {
        if (v.kind == SB_ERROR)
            print_json_error(path, sb_str(v));
        else
            fprintf(stderr, "%s:1:1: error: expected a JSON object of input values, found %s\n", path,
                    sb_kind_name((sb_kind)v.kind));
        sb_val_free(v);
        return CLI_INVALID;
    }
    /* Values given with --input win over the file, whatever the order. */
    for (size_t i = 0; i < sb_map_len(v); i++)
        if (!sb_map_get(*inputs, *sb_map_key_at(v, i)))
            sb_map_set(inputs, sb_val_ref(*sb_map_key_at(v, i)), sb_val_ref(*sb_map_val_at(v, i)));
    sb_val_free(v);
    return CLI_OK;
}
