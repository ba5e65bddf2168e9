#include "file_tail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/sb_json.h"

char *file_tail(const char *path, size_t max, size_t *len)
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

sb_val file_last_json_object(const char *path, size_t max, bool whole_lines, bool (*accept)(sb_val))
{
    size_t len = 0;
    char *text = file_tail(path, max, &len);
    sb_val found = sb_null();
    while (whole_lines && text && len && text[len - 1] != '\n')
        len--;
    while (text && len) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = 0;
        char *start = text + len;
        while (start > text && start[-1] != '\n')
            start--;
        if (*start == '{') {
            sb_val v = sb_json_parse(start, strlen(start));
            if (v.kind == SB_MAP && (!accept || accept(v))) {
                found = v;
                break;
            }
            sb_val_free(v);
        }
        len = (size_t)(start - text);
    }
    free(text);
    return found;
}
