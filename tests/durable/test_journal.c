/* The journal format (core/journal): round trips of every record type,
 * known checksums, a torn tail at every cut, corruption at every byte,
 * headers of other formats, and encoding under failing allocations. */
#include <stdint.h>
#include <string.h>

#include "journal/sb_journal.h"
#include "sb_failalloc.h"
#include "sb_test.h"

static const sb_jfact facts[] = {
    {.type = SB_J_HEADER,
     .sibyl_version = "1.2.3",
     .config_hash = 0x0123456789abcdefull,
     .pipeline = "sweep",
     .pipelines_file = "p.yaml",
     .workspace_file = "w.yaml",
     .inputs_json = "{\"a\":1}",
     .seed = 42,
     .run_id = "run-42-abc",
     .mode = SB_JMODE_HTTP,
     .time_scale = 0,
     .start_ms = 1700000000000},
    {.type = SB_J_START, .now_ms = 1700000000000},
    {.type = SB_J_RESPONSE,
     .id = 7,
     .now_ms = 1700000000100,
     .status = 200,
     .content_type = "application/json",
     .session_id = NULL,
     .body = "{\"jsonrpc\":\"2.0\"}",
     .body_len = 17},
    {.type = SB_J_RESPONSE,
     .id = 8,
     .now_ms = 1700000000200,
     .status = 0,
     .content_type = NULL,
     .session_id = "s-1",
     .body = "a\0b",
     .body_len = 3}, /* bodies may hold NUL */
    {.type = SB_J_DRAIN, .now_ms = 1700000000250},
    {.type = SB_J_TIME, .now_ms = -5},
    {.type = SB_J_CANCEL, .now_ms = 1700000000300, .body = "interrupted (Ctrl-C)", .body_len = 20},
    {.type = SB_J_END, .status = 4},
};
#define NFACTS (sizeof facts / sizeof facts[0])

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool fact_eq(const sb_jfact *a, const sb_jfact *b)
{
    return a->type == b->type && a->now_ms == b->now_ms && a->id == b->id && a->status == b->status &&
           str_eq(a->content_type, b->content_type) && str_eq(a->session_id, b->session_id) &&
           a->body_len == b->body_len && (!a->body_len || memcmp(a->body, b->body, a->body_len) == 0) &&
           str_eq(a->sibyl_version, b->sibyl_version) && str_eq(a->pipeline, b->pipeline) &&
           str_eq(a->pipelines_file, b->pipelines_file) && str_eq(a->workspace_file, b->workspace_file) &&
           str_eq(a->inputs_json, b->inputs_json) && str_eq(a->run_id, b->run_id) && a->config_hash == b->config_hash &&
           a->seed == b->seed && a->mode == b->mode && a->time_scale == b->time_scale && a->start_ms == b->start_ms;
}

static sb_buf encode_all(void)
{
    sb_buf b = SB_BUF_INIT;
    sb_journal_begin(&b);
    for (size_t i = 0; i < NFACTS; i++)
        sb_journal_put(&b, &facts[i]);
    return b;
}

/* Reads everything; returns the last result and the count of records. */
static sb_jresult read_all(const void *p, size_t n, size_t *count, sb_journal_reader *r)
{
    *count = 0;
    sb_jresult res = sb_journal_open(r, p, n);
    sb_jfact f;
    while (res == SB_JOURNAL_OK && (res = sb_journal_next(r, &f)) == SB_JOURNAL_OK) {
        if (*count < NFACTS)
            CHECK(fact_eq(&f, &facts[*count]));
        ++*count;
    }
    return res;
}

static void test_round_trip(void)
{
    sb_buf b = encode_all();
    CHECK(!sb_buf_failed(&b));
    size_t n;
    sb_journal_reader r;
    CHECK_INT(read_all(b.data, b.len, &n, &r), SB_JOURNAL_END);
    CHECK_INT(n, NFACTS);
    CHECK_INT(r.good_len, b.len);
    sb_buf_free(&b);
}

/* CRC-32C check value and the exact bytes of a small record: the format is
 * documented byte for byte (docs/journal.md) and must not drift. */
static void test_known_bytes(void)
{
    CHECK_INT(sb_journal_crc32c(0, "123456789", 9), 0xe3069283u);
    sb_buf b = SB_BUF_INIT;
    sb_journal_begin(&b);
    sb_jfact t = {.type = SB_J_TIME, .now_ms = 1};
    sb_journal_put(&b, &t);
    static const uint8_t want_head[] = {'S', 'B', 'J', 'O', 'U', 'R', 'N', 'L', 1, 0, 0, 0, 8, 0, 0, 0};
    CHECK_INT(b.len, 12 + 9 + 8);
    CHECK(memcmp(b.data, want_head, sizeof want_head) == 0);
    CHECK_INT((uint8_t)b.data[20], 'T');
    uint8_t rec[9] = {'T', 1, 0, 0, 0, 0, 0, 0, 0};
    uint32_t crc = sb_journal_crc32c(0, rec, 9);
    CHECK_INT((uint8_t)b.data[16] | (uint8_t)b.data[17] << 8 | (uint8_t)b.data[18] << 16 |
                  (uint32_t)(uint8_t)b.data[19] << 24,
              crc);
    CHECK_INT(sb_journal_hash(SB_JOURNAL_HASH_INIT, "a", 1), 0xaf63dc4c8601ec8cull); /* FNV-1a 64 of "a" */
    sb_buf_free(&b);
}

/* Every cut inside the last record is a torn tail: the records before it
 * read back, good_len is where the last whole one ends. */
static void test_torn_tail_every_cut(void)
{
    sb_buf b = encode_all();
    sb_buf one = SB_BUF_INIT;
    sb_journal_begin(&one);
    for (size_t i = 0; i + 1 < NFACTS; i++)
        sb_journal_put(&one, &facts[i]);
    size_t whole = one.len;
    for (size_t cut = whole + 1; cut < b.len; cut++) {
        size_t n;
        sb_journal_reader r;
        CHECK_INT(read_all(b.data, cut, &n, &r), SB_JOURNAL_TORN);
        CHECK_INT(n, NFACTS - 1);
        CHECK_INT(r.good_len, whole);
    }
    /* A journal cut inside its file header, or empty. */
    sb_journal_reader r;
    CHECK_INT(sb_journal_open(&r, b.data, 5), SB_JOURNAL_TORN);
    CHECK_INT(sb_journal_open(&r, b.data, 0), SB_JOURNAL_TORN);
    CHECK_INT(r.good_len, 0);
    sb_buf_free(&one);
    sb_buf_free(&b);
}

/* A flipped bit anywhere after the file header is never misread: each
 * record up to the damaged one reads back, then CORRUPT with the damaged
 * record's offset, or TORN when the flip made a length run past the end. */
static void test_corruption_every_byte(void)
{
    sb_buf b = encode_all();
    size_t starts[NFACTS + 1], p = SB_JOURNAL_FILE_HEADER;
    for (size_t i = 0; i < NFACTS; i++) {
        starts[i] = p;
        p += SB_JOURNAL_RECORD_HEADER + ((uint8_t)b.data[p] | (uint8_t)b.data[p + 1] << 8 |
                                         (uint8_t)b.data[p + 2] << 16 | (size_t)(uint8_t)b.data[p + 3] << 24);
    }
    starts[NFACTS] = p;
    for (size_t at = SB_JOURNAL_FILE_HEADER; at < b.len; at++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b.data[at] ^= (char)(1 << bit);
            size_t rec = 0;
            while (starts[rec + 1] <= at)
                rec++;
            size_t n;
            sb_journal_reader r;
            sb_jresult res = read_all(b.data, b.len, &n, &r);
            CHECK(res == SB_JOURNAL_CORRUPT || res == SB_JOURNAL_TORN);
            CHECK_INT(n, rec);
            if (res == SB_JOURNAL_CORRUPT)
                CHECK_INT(r.error_offset, starts[rec]);
            b.data[at] ^= (char)(1 << bit);
        }
    }
    sb_buf_free(&b);
}

static void test_headers(void)
{
    static const struct {
        const char *bytes;
        size_t len;
        sb_jresult want;
    } cases[] = {
        {"SBJOURNL\x01\x00\x00\x00", 12, SB_JOURNAL_OK},
        {"SBJOURNL\x02\x00\x00\x00", 12, SB_JOURNAL_VERSION},
        {"SBJOURNX\x01\x00\x00\x00", 12, SB_JOURNAL_NOT_JOURNAL},
        {"{\"json\": true}", 14, SB_JOURNAL_NOT_JOURNAL},
        {"SBJOU", 5, SB_JOURNAL_TORN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sb_journal_reader r;
        CHECK_INT(sb_journal_open(&r, cases[i].bytes, cases[i].len), cases[i].want);
    }
    sb_journal_reader r;
    CHECK_INT(sb_journal_open(&r, "SBJOURNL\x07\x00\x00\x00", 12), SB_JOURNAL_VERSION);
    CHECK_INT(r.version, 7);
}

/* Records in the wrong place: a first record that is not the header, a
 * second header, an unknown type, a record length beyond the limit. */
static void test_structure(void)
{
    sb_buf b = SB_BUF_INIT;
    sb_journal_begin(&b);
    sb_journal_put(&b, &facts[1]);
    size_t n;
    sb_journal_reader r;
    sb_jfact f;
    CHECK_INT(sb_journal_open(&r, b.data, b.len), SB_JOURNAL_OK);
    CHECK_INT(sb_journal_next(&r, &f), SB_JOURNAL_CORRUPT);
    CHECK_STR(r.error, "the first record is not the header");
    sb_buf_reset(&b);
    sb_journal_begin(&b);
    sb_journal_put(&b, &facts[0]);
    sb_journal_put(&b, &facts[0]);
    CHECK_INT(read_all(b.data, b.len, &n, &r), SB_JOURNAL_CORRUPT);
    CHECK_STR(r.error, "a second header record");
    sb_buf_reset(&b);
    sb_journal_begin(&b);
    sb_journal_put(&b, &facts[0]);
    sb_jfact unknown = {.type = 'Z'};
    sb_journal_put(&b, &unknown);
    CHECK_INT(read_all(b.data, b.len, &n, &r), SB_JOURNAL_CORRUPT);
    CHECK_STR(r.error, "malformed record");
    sb_buf_reset(&b);
    sb_journal_begin(&b);
    sb_buf_append(&b, "\xff\xff\xff\x7f\0\0\0\0H", 9);
    CHECK_INT(read_all(b.data, b.len, &n, &r), SB_JOURNAL_CORRUPT);
    CHECK_STR(r.error, "record length out of range");
    sb_buf_free(&b);
}

static void encode_under(bool check)
{
    sb_buf b = encode_all();
    if (check) {
        CHECK(!sb_buf_failed(&b));
        size_t n;
        sb_journal_reader r;
        CHECK_INT(read_all(b.data, b.len, &n, &r), SB_JOURNAL_END);
    }
    sb_buf_free(&b);
}

static void test_failing_allocations(void)
{
    CHECK(sb_failalloc_until_enough(encode_under) >= 1);
}

SB_TEST_MAIN(TEST(test_round_trip) TEST(test_known_bytes) TEST(test_torn_tail_every_cut)
                 TEST(test_corruption_every_byte) TEST(test_headers) TEST(test_structure)
                     TEST(test_failing_allocations))
