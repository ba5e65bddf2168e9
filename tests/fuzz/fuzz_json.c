/* libFuzzer target for the JSON reader and writer: sb_json_parse on
 * arbitrary bytes, against cJSON as an oracle, then write -> parse -> write
 * must be stable. Server replies take this path, and the engine writes what
 * it read (stream chunks, sweep_output.json), so a value that changes on the
 * way through is a bug.
 *
 * Checked (abort on failure):
 *   - a parse error is a message starting "line L, column C:";
 *   - where cJSON accepts the text too, both values agree, modulo the
 *     differences documented in tests/json/json_oracle.h (big integers, NUL);
 *   - parse(write(v)) succeeds and writes the same text as v, compact and
 *     pretty alike;
 *   - parse(write(v)) equals v unless v holds a non-finite double (1e999
 *     reads as infinity, which JSON can only write as null). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json/json_oracle.h"
#include "json/sb_json.h"
#include "util/sb_alloc.h"

#define FZ_ASSERT(cond, what)                                                                                     \
    do {                                                                                                          \
        if (!(cond)) {                                                                                            \
            fprintf(stderr, "fuzz_json: invariant failed: %s (%s)\n", what, #cond);                               \
            abort();                                                                                              \
        }                                                                                                         \
    } while (0)

static bool has_nonfinite(sb_val v)
{
    switch (v.kind) {
    case SB_DOUBLE: return !isfinite(v.as.d);
    case SB_LIST:
        for (size_t i = 0; i < sb_list_len(v); i++)
            if (has_nonfinite(*sb_list_at(v, i)))
                return true;
        return false;
    case SB_MAP:
        for (size_t i = 0; i < sb_map_len(v); i++)
            if (has_nonfinite(*sb_map_val_at(v, i)))
                return true;
        return false;
    default: return false;
    }
}

/* Parses text that sibyl wrote, which must never fail. */
static sb_val reparse(const char *js)
{
    sb_val v = sb_json_parse(js, strlen(js));
    if (v.kind == SB_ERROR)
        fprintf(stderr, "sb_json_parse: %s\non: %s\n", sb_str(v), js);
    FZ_ASSERT(v.kind != SB_ERROR, "written JSON parses");
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_val v = sb_json_parse((const char *)data, size);
    sb_val theirs;
    bool oracle_ok = json_oracle_parse((const char *)data, size, &theirs);
    if (v.kind == SB_ERROR) {
        FZ_ASSERT(!sb_is_oom(v), "no OOM without a failing allocator");
        FZ_ASSERT(strncmp(sb_str(v), "line ", 5) == 0, "errors say where");
        sb_val_free(v);
        sb_val_free(theirs);
        return 0;
    }
    if (oracle_ok) {
        const char *why = json_oracle_compare(v, theirs);
        if (why)
            fprintf(stderr, "sb_json and cJSON disagree: %s\n", why);
        FZ_ASSERT(!why, "sb_json agrees with cJSON where both accept");
    }
    sb_val_free(theirs);
    char *w1 = sb_val_to_json(v, 0);
    char *p1 = sb_val_to_json(v, SB_JSON_PRETTY);
    FZ_ASSERT(w1 && p1, "JSON writer");
    sb_val v2 = reparse(w1), v3 = reparse(p1);
    char *w2 = sb_val_to_json(v2, 0), *w3 = sb_val_to_json(v3, 0);
    if (strcmp(w1, w2) != 0 || strcmp(w1, w3) != 0)
        fprintf(stderr, "first:  %s\nsecond: %s\npretty: %s\n", w1, w2, w3);
    FZ_ASSERT(strcmp(w1, w2) == 0, "write(parse(write(v))) == write(v)");
    FZ_ASSERT(strcmp(w1, w3) == 0, "the pretty form reads back the same");
    FZ_ASSERT(has_nonfinite(v) || sb_val_equal(v, v2), "parse(write(v)) == v");
    FZ_ASSERT(sb_val_equal(v2, v3), "compact and pretty forms read back equal");
    sb_free(w1);
    sb_free(w2);
    sb_free(w3);
    sb_free(p1);
    sb_val_free(v);
    sb_val_free(v2);
    sb_val_free(v3);
    return 0;
}
