#include "sb_sse.h"

#include <string.h>

#include "../util/sb_alloc.h"
#include "../util/sb_buf.h"

static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

struct sb_sse {
    size_t max;
    sb_sse_event_fn fn;
    void *ud;
    sb_buf line;    /* the current, unterminated line */
    sb_buf data;    /* this block's data lines, '\n'-joined */
    sb_buf type;    /* this block's event field */
    sb_buf last_id; /* persists across blocks */
    bool has_data, has_type, has_id, has_field;
    int64_t block_retry;
    int64_t retry;
    unsigned bom_seen; /* BOM bytes matched so far; 3 = settled */
    bool after_cr;     /* the previous byte was CR: a following LF is no new line */
    bool finished;
    const char *error; /* static text; non-NULL = failed (sticky) */
};

sb_sse *sb_sse_new(size_t max_event_bytes, sb_sse_event_fn fn, void *ud)
{
    sb_sse *p = sb_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->max = max_event_bytes ? max_event_bytes : SB_SSE_DEFAULT_MAX_EVENT;
    p->fn = fn;
    p->ud = ud;
    p->block_retry = -1;
    p->retry = -1;
    return p;
}

void sb_sse_free(sb_sse *p)
{
    if (!p)
        return;
    sb_buf_free(&p->line);
    sb_buf_free(&p->data);
    sb_buf_free(&p->type);
    sb_buf_free(&p->last_id);
    sb_free(p);
}

static bool fail(sb_sse *p, const char *why)
{
    if (!p->error)
        p->error = why;
    return false;
}

static bool check_buf(sb_sse *p, const sb_buf *b) { return !sb_buf_failed(b) || fail(p, "out of memory"); }

static void reset_block(sb_sse *p)
{
    sb_buf_reset(&p->data);
    sb_buf_reset(&p->type);
    p->has_data = p->has_type = p->has_id = p->has_field = false;
    p->block_retry = -1;
}

static bool dispatch(sb_sse *p)
{
    if (!p->has_field)
        return true;
    sb_sse_event ev = {
        .type = p->has_type ? sb_buf_str(&p->type) : "message",
        .data = sb_buf_str(&p->data),
        .data_len = p->data.len,
        .has_data = p->has_data,
        .id = sb_buf_str(&p->last_id),
        .has_id = p->has_id,
        .retry_ms = p->block_retry,
    };
    bool go_on = p->fn ? p->fn(p->ud, &ev) : true;
    reset_block(p);
    return go_on || fail(p, "stopped by the event handler");
}

/* Only ASCII digits count; anything else makes the field ignored. Values past
 * a day are clamped: a reconnection delay that long is a broken server. */
static int64_t parse_retry(const char *v, size_t n)
{
    if (n == 0)
        return -1;
    int64_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        if (r < 86400000)
            r = r * 10 + (v[i] - '0');
    }
    return r > 86400000 ? 86400000 : r;
}

/* line -> comment | field [":" [" "] value] | "" (dispatch) */
static bool process_line(sb_sse *p, const char *s, size_t n)
{
    if (n == 0)
        return dispatch(p);
    /* The same bound whether the line came whole or in pieces (keep_partial). */
    if (n > p->max)
        return fail(p, "SSE line longer than the event limit");
    if (s[0] == ':')
        return true;
    const char *colon = memchr(s, ':', n);
    size_t name_len = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vn = (size_t)(s + n - v);
    if (vn && *v == ' ') {
        v++;
        vn--;
    }
#define FIELD_IS(lit) (name_len == sizeof lit - 1 && memcmp(s, lit, name_len) == 0)
    if (FIELD_IS("data")) {
        if (p->data.len + vn + 1 > p->max)
            return fail(p, "SSE event larger than the limit");
        if (p->has_data)
            sb_buf_putc(&p->data, '\n');
        sb_buf_append(&p->data, v, vn);
        p->has_data = p->has_field = true;
        return check_buf(p, &p->data);
    }
    if (FIELD_IS("event")) {
        sb_buf_reset(&p->type);
        sb_buf_append(&p->type, v, vn);
        p->has_type = p->has_field = true;
        return check_buf(p, &p->type);
    }
    if (FIELD_IS("id")) {
        /* An id containing NUL is ignored, as the WHATWG algorithm says. */
        if (memchr(v, '\0', vn))
            return true;
        sb_buf_reset(&p->last_id);
        sb_buf_append(&p->last_id, v, vn);
        p->has_id = p->has_field = true;
        return check_buf(p, &p->last_id);
    }
    if (FIELD_IS("retry")) {
        int64_t r = parse_retry(v, vn);
        if (r >= 0) {
            p->block_retry = p->retry = r;
            p->has_field = true;
        }
        return true;
    }
#undef FIELD_IS
    return true;
}

/* Line bytes with no terminator yet: keep them, within the limit. */
static bool keep_partial(sb_sse *p, const char *s, size_t n)
{
    if (p->line.len + n > p->max)
        return fail(p, "SSE line longer than the event limit");
    sb_buf_append(&p->line, s, n);
    return check_buf(p, &p->line);
}

/* Feeds bytes that are past the BOM check. */
static bool feed_body(sb_sse *p, const char *s, size_t n)
{
    size_t i = 0;
    if (p->after_cr && n > 0) {
        p->after_cr = false;
        if (s[0] == '\n')
            i = 1;
    }
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\n' && s[j] != '\r')
            j++;
        if (j == n)
            return keep_partial(p, s + i, n - i);
        bool ok;
        if (p->line.len == 0) {
            ok = process_line(p, s + i, j - i);
        } else {
            ok = keep_partial(p, s + i, j - i) && process_line(p, p->line.data, p->line.len);
            sb_buf_reset(&p->line);
        }
        if (!ok)
            return false;
        if (s[j] == '\r') {
            if (j + 1 == n)
                p->after_cr = true;
            else if (s[j + 1] == '\n')
                j++;
        }
        i = j + 1;
    }
    return true;
}

bool sb_sse_feed(sb_sse *p, const void *bytes, size_t len)
{
    if (p->error)
        return false;
    if (p->finished)
        return fail(p, "SSE data fed after the end of the stream");
    const unsigned char *s = bytes;
    /* A BOM may arrive split over chunks; bytes that turn out not to be one
     * are replayed as content. */
    while (p->bom_seen < 3 && len > 0) {
        if (*s == bom[p->bom_seen]) {
            p->bom_seen++;
            s++;
            len--;
            continue;
        }
        unsigned matched = p->bom_seen;
        p->bom_seen = 3;
        if (matched && !feed_body(p, (const char *)bom, matched))
            return false;
    }
    return feed_body(p, (const char *)s, len);
}

bool sb_sse_finish(sb_sse *p)
{
    if (p->error)
        return false;
    if (p->finished)
        return true;
    p->finished = true;
    if (p->bom_seen > 0 && p->bom_seen < 3) {
        unsigned matched = p->bom_seen;
        p->bom_seen = 3;
        if (!feed_body(p, (const char *)bom, matched))
            return false;
    }
    if (p->line.len > 0) {
        bool ok = process_line(p, p->line.data, p->line.len);
        sb_buf_reset(&p->line);
        if (!ok)
            return false;
    }
    return dispatch(p);
}

const char *sb_sse_error(const sb_sse *p) { return p->error; }
const char *sb_sse_last_event_id(const sb_sse *p) { return sb_buf_str(&p->last_id); }
int64_t sb_sse_retry_ms(const sb_sse *p) { return p->retry; }
