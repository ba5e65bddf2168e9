/* libFuzzer target for handle text (sb_handle_parse): what `sibyl handle`
 * and pipeline inputs of type handle read from users.
 *
 * Checked (abort on failure):
 *   - the answer is an ExternalHandle or an error, never anything else;
 *   - an error is positioned: "column C: ..." (C within the text, + 1 for a
 *     missing part at the end) or, for JSON, "line L, column C: ..." from the
 *     JSON reader, or names the field at fault;
 *   - a handle has a server name (letters, digits, _), a known kind and a
 *     non-empty id of printable ASCII without spaces;
 *   - its text form (sb_handle_text) reads back as the same server, kind and
 *     id, and its JSON reads back as the same handle. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/sb_handle_value.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

#define FZ_ASSERT(cond, what)                                                                                          \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_handle: invariant failed: %s (%s)\n", what, #cond);                                  \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static bool same(sb_val a, sb_val b, const char *key)
{
    const sb_val *x = sb_map_get_str(a, key), *y = sb_map_get_str(b, key);
    return x && y && sb_val_equal(*x, *y);
}

static void check_error(const char *msg, size_t len, bool json)
{
    unsigned long c = 0, l = 0;
    if (strncmp(msg, "column ", 7) == 0) {
        c = strtoul(msg + 7, NULL, 10);
        FZ_ASSERT(c >= 1 && c <= len + 1, "a column within the text");
    } else if (json && strncmp(msg, "line ", 5) == 0) {
        l = strtoul(msg + 5, NULL, 10);
        FZ_ASSERT(l >= 1 && strstr(msg, ", column "), "a JSON error with line and column");
    } else {
        FZ_ASSERT(json, "text errors are positioned");
        FZ_ASSERT(strchr(msg, ':') || strncmp(msg, "unknown field '", 15) == 0, "an object error names its field");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t i = 0;
    while (i < size && strchr(" \t\r\n", text[i]) && text[i])
        i++;
    bool json = i < size && text[i] == '{';
    sb_val h = sb_handle_parse(text, size);
    FZ_ASSERT(h.kind == SB_MAP || h.kind == SB_ERROR, "a handle or an error");
    if (h.kind == SB_ERROR) {
        if (!sb_is_oom(h))
            check_error(sb_str(h), size, json);
        sb_val_free(h);
        return 0;
    }
    FZ_ASSERT(sb_handle_is_external(h), "an ExternalHandle");
    const char *server = sb_handle_field(h, "server", ""), *id = sb_handle_field(h, "id", "");
    FZ_ASSERT(*server && !(server[0] >= '0' && server[0] <= '9') &&
                  strspn(server, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(server),
              "a server name");
    const sb_val *idv = sb_map_get_str(h, "id");
    for (size_t k = 0; k < sb_str_len(*idv); k++)
        FZ_ASSERT((unsigned char)id[k] > 0x20 && (unsigned char)id[k] < 0x7f, "an id of printable ASCII");
    FZ_ASSERT(sb_str_len(*idv) > 0, "a non-empty id");
    sb_val t = sb_handle_text(h);
    FZ_ASSERT(t.kind == SB_STRING, "text form");
    sb_val back = sb_handle_parse(sb_str(t), sb_str_len(t));
    FZ_ASSERT(back.kind == SB_MAP && same(h, back, "server") && same(h, back, "kind") && same(h, back, "id"),
              "the text form reads back");
    char *j = sb_val_to_json(h, 0);
    sb_val again = j ? sb_handle_parse(j, strlen(j)) : sb_null();
    FZ_ASSERT(again.kind == SB_MAP && sb_val_equal(again, h), "the JSON reads back");
    sb_free(j);
    sb_val_free(again);
    sb_val_free(back);
    sb_val_free(t);
    sb_val_free(h);
    return 0;
}
