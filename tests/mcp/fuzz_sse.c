/* libFuzzer target for the SSE parser. The first input byte picks a split
 * point and an event limit; the rest is the stream. Checked (abort on
 * failure): the stream fed whole and fed in three chunks gives the same
 * events and the same error, and no event's data exceeds the limit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/sb_sse.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"

#define FZ_ASSERT(cond, what)                                                                                     \
    do {                                                                                                          \
        if (!(cond)) {                                                                                            \
            fprintf(stderr, "fuzz_sse: invariant failed: %s (%s)\n", what, #cond);                                \
            abort();                                                                                              \
        }                                                                                                         \
    } while (0)

typedef struct sink {
    sb_buf out;
    size_t max;
} sink;

static bool on_event(void *ud, const sb_sse_event *ev)
{
    sink *s = ud;
    FZ_ASSERT(ev->data_len <= s->max, "event data within the limit");
    FZ_ASSERT(ev->has_data || ev->data_len == 0, "no data without a data field");
    sb_buf_printf(&s->out, "[%s|%s|%d|%lld|%d|", ev->type, ev->id, ev->has_id, (long long)ev->retry_ms,
                  ev->has_data);
    sb_buf_append(&s->out, ev->data, ev->data_len);
    sb_buf_puts(&s->out, "]\n");
    return true;
}

/* Parses data in the given chunks; returns the rendering and sets *err. */
static char *run(const uint8_t *data, size_t len, const size_t *cuts, size_t ncuts, size_t max, const char **err,
                 char *last_id, size_t last_id_cap)
{
    sink s = {SB_BUF_INIT, max};
    sb_sse *p = sb_sse_new(max, on_event, &s);
    FZ_ASSERT(p != NULL, "allocation");
    size_t at = 0;
    bool ok = true;
    for (size_t i = 0; i < ncuts && ok; i++) {
        ok = sb_sse_feed(p, data + at, cuts[i] - at);
        at = cuts[i];
    }
    ok = ok && sb_sse_feed(p, data + at, len - at) && sb_sse_finish(p);
    *err = ok ? "" : sb_sse_error(p);
    snprintf(last_id, last_id_cap, "%s", sb_sse_last_event_id(p));
    sb_sse_free(p);
    sb_buf_putc(&s.out, '\0');
    return sb_buf_take(&s.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t knob = data[0];
    data++;
    size--;
    size_t max = (knob & 0x80) ? 64 : SB_SSE_DEFAULT_MAX_EVENT;
    size_t a = size ? (knob & 0x7f) % (size + 1) : 0;
    size_t b = a + (size - a) / 2;
    size_t cuts[] = {a, b};
    const char *e1, *e2;
    char id1[128], id2[128];
    char *whole = run(data, size, NULL, 0, max, &e1, id1, sizeof id1);
    char *split = run(data, size, cuts, 2, max, &e2, id2, sizeof id2);
    FZ_ASSERT(strcmp(whole, split) == 0, "same events whatever the chunking");
    FZ_ASSERT(strcmp(e1, e2) == 0, "same error whatever the chunking");
    if (!*e1)
        FZ_ASSERT(strcmp(id1, id2) == 0, "same last event id");
    sb_free(whole);
    sb_free(split);
    return 0;
}
