/* libFuzzer target for the run journal's reader (core/journal), which reads
 * a file a crash may have cut or a disk may have damaged.
 *
 * Checked (abort on failure):
 *   - every record read encodes back to exactly the bytes it was read from
 *     (nothing is misread, nothing ignored);
 *   - good_len only grows, ends where the last whole record ends, and never
 *     passes the input; a CORRUPT answer names the offset of the record at
 *     fault, which is good_len;
 *   - the reader ends (END, TORN or CORRUPT) within len / 9 + 1 records. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal/sb_journal.h"

#define FZ_ASSERT(cond, what)                                                                                          \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_journal: invariant failed: %s (%s)\n", what, #cond);                                 \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    sb_journal_reader r;
    sb_jresult res = sb_journal_open(&r, data, len);
    if (res != SB_JOURNAL_OK)
        return 0;
    size_t records = 0, prev = r.good_len;
    sb_jfact f;
    while ((res = sb_journal_next(&r, &f)) == SB_JOURNAL_OK) {
        FZ_ASSERT(r.good_len > prev && r.good_len <= len, "good_len grows within the input");
        sb_buf b = SB_BUF_INIT;
        sb_journal_put(&b, &f);
        FZ_ASSERT(!sb_buf_failed(&b), "encoding");
        FZ_ASSERT(b.len == r.good_len - prev && memcmp(b.data, data + prev, b.len) == 0, "round trip");
        sb_buf_free(&b);
        prev = r.good_len;
        FZ_ASSERT(++records <= len / SB_JOURNAL_RECORD_HEADER + 1, "the reader ends");
    }
    FZ_ASSERT(res == SB_JOURNAL_END || res == SB_JOURNAL_TORN || res == SB_JOURNAL_CORRUPT, "result");
    FZ_ASSERT(r.good_len == prev, "good_len at the last whole record");
    if (res == SB_JOURNAL_CORRUPT)
        FZ_ASSERT(r.error_offset == r.good_len && r.error, "corruption at the record's offset");
    if (res == SB_JOURNAL_END)
        FZ_ASSERT(r.good_len == len, "END at the end");
    return 0;
}
