/* The SSE parser: the same events whatever the chunking, line ends, comments,
 * BOM, the end of the stream, and the size limit. */
#include "mcp/sb_sse.h"
#include "sb_test.h"
#include "sb_failalloc.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"

/* Each event as one line: type|id|retry|data (data "-" when it had none). */
static bool render(void *ud, const sb_sse_event *ev)
{
    sb_buf *b = ud;
    sb_buf_printf(b, "%s|%s%s|%lld|", ev->type, ev->id, ev->has_id ? "*" : "", (long long)ev->retry_ms);
    if (ev->has_data)
        sb_buf_append(b, ev->data, ev->data_len);
    else
        sb_buf_putc(b, '-');
    sb_buf_putc(b, '\n');
    return true;
}

/* Parses text in chunks of the given sizes (0-terminated list; the rest in
 * one chunk), finishing when asked. Returns the rendering (sb_free). */
static char *parse_chunked(const char *text, size_t len, const size_t *cuts, bool finish, const char **err)
{
    sb_buf out = SB_BUF_INIT;
    sb_sse *p = sb_sse_new(0, render, &out);
    if (!p) {
        *err = "out of memory";
        return NULL;
    }
    size_t at = 0;
    bool ok = true;
    for (; cuts && *cuts && at < len; cuts++) {
        size_t n = *cuts > len - at ? len - at : *cuts;
        ok = ok && sb_sse_feed(p, text + at, n);
        at += n;
    }
    ok = ok && sb_sse_feed(p, text + at, len - at);
    if (finish)
        ok = ok && sb_sse_finish(p);
    *err = ok ? NULL : sb_sse_error(p);
    sb_sse_free(p);
    sb_buf_puts(&out, "");
    return sb_buf_take(&out);
}

static const char sample[] = "\xEF\xBB\xBF: a comment\r\n"
                             "id: 1\r\n"
                             "data: {\"a\":1}\r\n"
                             "\r\n"
                             "event: progress\n"
                             "data:line1\n"
                             "data: line2\n"
                             ": comment between fields\n"
                             "\n"
                             "retry: 500\r"
                             "id: 2\r"
                             "data\r"
                             "\r"
                             "id\n"
                             "data:  two spaces\n"
                             "\n\n\n"
                             "retry: 12x\n"
                             "field-unknown: x\n"
                             "data: last";

static const char sample_events[] = "message|1*|-1|{\"a\":1}\n"
                                    "progress|1|-1|line1\nline2\n"
                                    "message|2*|500|\n"
                                    "message|*|-1| two spaces\n";

static void test_sample_events(void)
{
    const char *err;
    char *got = parse_chunked(sample, sizeof sample - 1, NULL, false, &err);
    CHECK(err == NULL);
    /* Without the end of the stream, the unterminated last block waits. */
    CHECK_STR(got, sample_events);
    sb_free(got);
    got = parse_chunked(sample, sizeof sample - 1, NULL, true, &err);
    CHECK_STR(got, "message|1*|-1|{\"a\":1}\n"
                   "progress|1|-1|line1\nline2\n"
                   "message|2*|500|\n"
                   "message|*|-1| two spaces\n"
                   "message||-1|last\n");
    sb_free(got);
}

static void test_every_split_point(void)
{
    const char *err;
    size_t len = sizeof sample - 1;
    char *whole = parse_chunked(sample, len, NULL, true, &err);
    for (size_t i = 0; i <= len; i++) {
        size_t cuts[] = {i, 0};
        char *got = parse_chunked(sample, len, cuts, true, &err);
        CHECK(err == NULL);
        CHECK_STR(got, whole);
        sb_free(got);
    }
    /* Three-way splits too: a CR at one chunk's end and LF at the next's. */
    for (size_t i = 1; i < len; i += 3) {
        for (size_t j = 1; i + j < len; j += 5) {
            size_t cuts[] = {i, j, 0};
            char *got = parse_chunked(sample, len, cuts, true, &err);
            CHECK_STR(got, whole);
            sb_free(got);
        }
    }
    /* One byte at a time. */
    size_t ones[sizeof sample];
    for (size_t i = 0; i < len; i++)
        ones[i] = 1;
    ones[len] = 0;
    char *got = parse_chunked(sample, len, ones, true, &err);
    CHECK_STR(got, whole);
    sb_free(got);
    sb_free(whole);
}

static void test_line_ends_and_bom(void)
{
    const char *err;
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
        const char *want;
    } cases[] = {
        {"data: a\r\n\r\n", 0, "message||-1|a\n"},
        {"data: a\n\n", 0, "message||-1|a\n"},
        {"data: a\r\r", 0, "message||-1|a\n"},
        /* CR then LF is one line end; LF then CR is two. */
        {"data: a\r\ndata: b\n\r", 0, "message||-1|a\nb\n"},
        /* A BOM only counts at the very start. */
        {"\xEF\xBB\xBF" "data: x\n\n", 0, "message||-1|x\n"},
        {"data: \xEF\xBB\xBFx\n\n", 0, "message||-1|\xEF\xBB\xBFx\n"},
        /* A BOM prefix that is not a BOM is content (here: an unknown field). */
        {"\xEF\xBB" "data: y\n\n", 0, ""},
        /* Only one space after the colon goes; no colon means empty value. */
        {"data:\n\n", 0, "message||-1|\n"},
        {"data\ndata\n\n", 0, "message||-1|\n\n"},
        {"event\ndata: q\n\n", 0, "||-1|q\n"},
        /* Comments alone make no event; blank lines alone neither. */
        {":x\n\n\n\n", 0, ""},
        /* An id containing NUL is ignored. */
        {"id: a\0b\ndata: z\n\n", 17, "message||-1|z\n"},
        {"retry: 0\n\n", 0, "message||0|-\n"},
        {"retry: -5\n\n", 0, ""},
        {"retry: 99999999999999999999\n\n", 0, "message||86400000|-\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        char *got = parse_chunked(cases[i].text, len, NULL, true, &err);
        CHECK(err == NULL);
        CHECK_STR(got, cases[i].want);
        sb_free(got);
    }
}

static void test_state_accessors(void)
{
    sb_buf out = SB_BUF_INIT;
    sb_sse *p = sb_sse_new(0, render, &out);
    CHECK_STR(sb_sse_last_event_id(p), "");
    CHECK_INT(sb_sse_retry_ms(p), -1);
    const char *s = "id: e7\nretry: 250\ndata: \n\n";
    CHECK(sb_sse_feed(p, s, strlen(s)));
    CHECK(sb_sse_finish(p));
    CHECK_STR(sb_sse_last_event_id(p), "e7");
    CHECK_INT(sb_sse_retry_ms(p), 250);
    CHECK(!sb_sse_feed(p, "x", 1));
    CHECK_STR(sb_sse_error(p), "SSE data fed after the end of the stream");
    sb_sse_free(p);
    sb_buf_free(&out);
}

static void test_size_limit(void)
{
    sb_buf out = SB_BUF_INIT;
    sb_sse *p = sb_sse_new(64, render, &out);
    char line[200];
    memset(line, 'x', sizeof line);
    /* A line that never ends stops growing at the limit. */
    CHECK(sb_sse_feed(p, "data: ", 6));
    CHECK(!sb_sse_feed(p, line, sizeof line));
    CHECK_STR(sb_sse_error(p), "SSE line longer than the event limit");
    CHECK(!sb_sse_feed(p, "\n\n", 2));
    sb_sse_free(p);

    /* Many short data lines add up. */
    p = sb_sse_new(64, render, &out);
    bool ok = true;
    for (int i = 0; i < 20 && ok; i++)
        ok = sb_sse_feed(p, "data: 0123456789\n", 17);
    CHECK(!ok);
    CHECK_STR(sb_sse_error(p), "SSE event larger than the limit");
    sb_sse_free(p);

    /* Under the limit, events of any number pass: the limit is per event. */
    p = sb_sse_new(64, render, &out);
    for (int i = 0; i < 100; i++)
        CHECK(sb_sse_feed(p, "data: 0123456789\n\n", 18));
    sb_sse_free(p);
    CHECK_INT(out.len, 100 * strlen("message||-1|0123456789\n"));
    sb_buf_free(&out);
}

static bool stop_at_first(void *ud, const sb_sse_event *ev)
{
    (void)ev;
    ++*(int *)ud;
    return false;
}

static void test_handler_stops(void)
{
    int n = 0;
    sb_sse *p = sb_sse_new(0, stop_at_first, &n);
    CHECK(!sb_sse_feed(p, "data: a\n\ndata: b\n\n", 18));
    CHECK_INT(n, 1);
    CHECK_STR(sb_sse_error(p), "stopped by the event handler");
    sb_sse_free(p);
    sb_sse_free(NULL);
}


static void test_oom_is_clean(void)
{
    bool finished = false;
    for (long n = 0; n < 200 && !finished; n++) {
        sb_failalloc_left = n;
        sb_alloc_set(sb_failalloc_fn, NULL);
        const char *err = NULL;
        char *got = parse_chunked(sample, sizeof sample - 1, NULL, true, &err);
        finished = got && !err;
        if (err && got)
            CHECK_STR(err, "out of memory");
        sb_free(got);
        sb_alloc_set(NULL, NULL);
    }
    CHECK(finished);
}

SB_TEST_MAIN(TEST(test_sample_events) TEST(test_every_split_point) TEST(test_line_ends_and_bom)
                 TEST(test_state_accessors) TEST(test_size_limit) TEST(test_handler_stops) TEST(test_oom_is_clean))
