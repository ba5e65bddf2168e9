/* A trial's latest per-epoch line (docs/backends.md), read from the tail of
 * its stdout file by the local and Slurm backends. */
#include "epoch_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/sb_json.h"

/* The last max bytes of the file (NUL-terminated, malloc'd), or NULL. */
static char *read_tail(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)max ? size - (long)max : 0;
    fseek(f, from, SEEK_SET);
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

sb_val epoch_progress(const char *path)
{
    size_t len = 0;
    char *text = read_tail(path, 8192, &len);
    sb_val found = sb_null();
    while (text && len && text[len - 1] != '\n') /* a line still being written */
        len--;
    while (text && len) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = 0;
        char *start = text + len;
        while (start > text && start[-1] != '\n')
            start--;
        sb_val v = *start == '{' ? sb_json_parse(start, strlen(start)) : sb_null();
        const sb_val *ep = v.kind == SB_MAP ? sb_map_get_str(v, "epoch") : NULL;
        if (ep && ep->kind == SB_INT && ep->as.i >= 1) {
            sb_val m = sb_map_new(sb_map_len(v)), p = sb_map_new(3);
            for (size_t k = 0; k < sb_map_len(v); k++) {
                const sb_val *key = sb_map_key_at(v, k);
                if (!sb_str_eq(*key, "epoch") && !sb_str_eq(*key, "epochs"))
                    sb_map_set(&m, sb_val_ref(*key), sb_val_ref(*sb_map_val_at(v, k)));
            }
            const sb_val *eps = sb_map_get_str(v, "epochs");
            sb_map_set_str(&p, "step", sb_int(ep->as.i));
            if (eps && eps->kind == SB_INT)
                sb_map_set_str(&p, "epochs", sb_int(eps->as.i));
            sb_map_set_str(&p, "metrics", m);
            sb_val_free(v);
            found = p;
            break;
        }
        sb_val_free(v);
        len = (size_t)(start - text);
    }
    free(text);
    return found;
}
