/* An incremental parser for Server-Sent Events (text/event-stream), following
 * the WHATWG HTML "event stream interpretation": feed bytes in any chunking and
 * the same events come out.
 *
 * Lines end with CRLF, LF or CR (a CRLF split across two chunks counts once);
 * a UTF-8 BOM at the very start is skipped; lines starting with ':' are
 * comments; "field: value" loses one space after the colon; a line without a
 * colon is a field with an empty value; unknown fields are ignored.
 *
 * Where this differs from a browser's EventSource, on purpose:
 *   - every block that had a field is delivered, even one without data (MCP
 *     servers "prime" a stream with an event that has only an id);
 *   - an unterminated last block is delivered by sb_sse_finish(), since an
 *     HTTP body that has fully arrived is all there will be;
 *   - bounded: a line or an event whose data grows past max_event_bytes is an
 *     error, never unbounded growth.
 *
 * Ownership: the parser copies what it keeps; an event's strings are valid
 * only during the callback. */
#ifndef SB_SSE_H
#define SB_SSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_SSE_DEFAULT_MAX_EVENT ((size_t)8 << 20) /* 8 MiB */

typedef struct sb_sse_event {
    const char *type;     /* the event field, "message" when absent */
    const char *data;     /* data lines joined with '\n'; "" when none */
    size_t data_len;
    bool has_data;        /* at least one data field */
    const char *id;       /* the last event ID in effect (it persists), "" if none */
    bool has_id;          /* this block had an id field */
    int64_t retry_ms;     /* this block's retry field, or -1 */
} sb_sse_event;

/* Return false to stop parsing (feed/finish then return false and the error
 * is "stopped by the event handler"). */
typedef bool (*sb_sse_event_fn)(void *ud, const sb_sse_event *ev);

typedef struct sb_sse sb_sse;

/* max_event_bytes 0 means SB_SSE_DEFAULT_MAX_EVENT. NULL on OOM. */
sb_sse *sb_sse_new(size_t max_event_bytes, sb_sse_event_fn fn, void *ud);
void sb_sse_free(sb_sse *p);

/* Feeds the next len bytes. false once the parser has failed (sticky): see
 * sb_sse_error(). */
bool sb_sse_feed(sb_sse *p, const void *bytes, size_t len);
/* The stream ended: the last line and block count even without their
 * terminators. Further feeding is an error. */
bool sb_sse_finish(sb_sse *p);

/* NULL while all is well, else why the parser stopped. */
const char *sb_sse_error(const sb_sse *p);
/* The stream's last event ID ("" if none): what a reconnection sends as
 * Last-Event-ID. */
const char *sb_sse_last_event_id(const sb_sse *p);
/* The reconnection time the stream asked for (the last valid retry field),
 * or -1 if none. */
int64_t sb_sse_retry_ms(const sb_sse *p);

#endif
