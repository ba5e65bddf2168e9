/* The journal's records: encoding and checked decoding (sb_journal.h). */
#include "sb_journal.h"

#include <string.h>

#define ABSENT 0xffffffffu

static uint32_t crc_table[256];
static bool crc_ready;

uint32_t sb_journal_crc32c(uint32_t crc, const void *data, size_t len)
{
    if (!crc_ready) { /* built once; idempotent, so a race would write the same values */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = true;
    }
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

uint64_t sb_journal_hash(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* --- encoding --- */

static void put_u32(sb_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    sb_buf_append(b, x, 4);
}

static void put_u64(sb_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

/* u32 length (ABSENT for NULL), the bytes, a NUL. */
static void put_str(sb_buf *b, const char *s, size_t len)
{
    if (!s) {
        put_u32(b, ABSENT);
        return;
    }
    put_u32(b, (uint32_t)len);
    sb_buf_append(b, s, len);
    sb_buf_putc(b, 0);
}

static void put_cstr(sb_buf *b, const char *s)
{
    put_str(b, s, s ? strlen(s) : 0);
}

void sb_journal_begin(sb_buf *out)
{
    sb_buf_append(out, SB_JOURNAL_MAGIC, 8);
    put_u32(out, SB_JOURNAL_FORMAT);
}

void sb_journal_put(sb_buf *out, const sb_jfact *f)
{
    size_t at = out->len;
    put_u32(out, 0); /* length and checksum, filled in below */
    put_u32(out, 0);
    sb_buf_putc(out, (char)f->type);
    switch (f->type) {
    case SB_J_HEADER:
        put_cstr(out, f->sibyl_version);
        put_u64(out, f->config_hash);
        put_cstr(out, f->pipeline);
        put_cstr(out, f->pipelines_file);
        put_cstr(out, f->workspace_file);
        put_cstr(out, f->inputs_json);
        put_u64(out, f->seed);
        put_cstr(out, f->run_id);
        sb_buf_putc(out, (char)f->mode);
        put_u64(out, f->time_scale);
        put_u64(out, (uint64_t)f->start_ms);
        break;
    case SB_J_RESPONSE:
        put_u64(out, f->id);
        put_u64(out, (uint64_t)f->now_ms);
        put_u32(out, (uint32_t)f->status);
        put_cstr(out, f->content_type);
        put_cstr(out, f->session_id);
        put_str(out, f->body ? f->body : "", f->body ? f->body_len : 0);
        break;
    case SB_J_CANCEL:
        put_u64(out, (uint64_t)f->now_ms);
        put_cstr(out, f->body ? f->body : "");
        break;
    case SB_J_END:
        put_u32(out, (uint32_t)f->status);
        break;
    default: /* START, TIME, DRAIN */
        put_u64(out, (uint64_t)f->now_ms);
        break;
    }
    if (sb_buf_failed(out))
        return;
    uint8_t *rec = (uint8_t *)out->data + at;
    size_t payload = out->len - at - SB_JOURNAL_RECORD_HEADER;
    uint32_t crc = sb_journal_crc32c(0, rec + 8, payload + 1);
    for (int i = 0; i < 4; i++) {
        rec[i] = (uint8_t)(payload >> (8 * i));
        rec[4 + i] = (uint8_t)(crc >> (8 * i));
    }
}

/* --- decoding --- */

typedef struct cursor {
    const uint8_t *p;
    size_t n;
    bool bad;
} cursor;

static uint32_t get_u32(cursor *c)
{
    if (c->n < 4) {
        c->bad = true;
        return 0;
    }
    uint32_t v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
    c->p += 4;
    c->n -= 4;
    return v;
}

static uint64_t get_u64(cursor *c)
{
    uint64_t lo = get_u32(c);
    return lo | (uint64_t)get_u32(c) << 32;
}

static uint8_t get_u8(cursor *c)
{
    if (c->n < 1) {
        c->bad = true;
        return 0;
    }
    c->n--;
    return *c->p++;
}

static const char *get_str(cursor *c, size_t *len)
{
    uint32_t n = get_u32(c);
    if (c->bad || n == ABSENT) {
        if (len)
            *len = 0;
        return NULL;
    }
    if ((size_t)n + 1 > c->n || c->p[n] != 0) {
        c->bad = true;
        return NULL;
    }
    const char *s = (const char *)c->p;
    c->p += (size_t)n + 1;
    c->n -= (size_t)n + 1;
    if (len)
        *len = n;
    return s;
}

/* A present string where the format requires one. */
static const char *need_str(cursor *c, size_t *len)
{
    const char *s = get_str(c, len);
    if (!s)
        c->bad = true;
    return s;
}

sb_jresult sb_journal_open(sb_journal_reader *r, const void *data, size_t len)
{
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    size_t have = len < 8 ? len : 8;
    if (memcmp(data ? data : "", SB_JOURNAL_MAGIC, have) != 0)
        return SB_JOURNAL_NOT_JOURNAL;
    if (len < SB_JOURNAL_FILE_HEADER)
        return SB_JOURNAL_TORN;
    cursor c = {r->data + 8, 4, false};
    r->version = get_u32(&c);
    if (r->version != SB_JOURNAL_FORMAT)
        return SB_JOURNAL_VERSION;
    r->pos = r->good_len = SB_JOURNAL_FILE_HEADER;
    return SB_JOURNAL_OK;
}

static sb_jresult corrupt(sb_journal_reader *r, const char *why)
{
    r->error_offset = r->pos;
    r->error = why;
    return SB_JOURNAL_CORRUPT;
}

static bool decode(cursor *c, uint8_t type, sb_jfact *f)
{
    memset(f, 0, sizeof *f);
    f->type = type;
    switch (type) {
    case SB_J_HEADER:
        f->sibyl_version = need_str(c, NULL);
        f->config_hash = get_u64(c);
        f->pipeline = need_str(c, NULL);
        f->pipelines_file = need_str(c, NULL);
        f->workspace_file = need_str(c, NULL);
        f->inputs_json = need_str(c, NULL);
        f->seed = get_u64(c);
        f->run_id = get_str(c, NULL);
        f->mode = get_u8(c);
        f->time_scale = get_u64(c);
        f->start_ms = (int64_t)get_u64(c);
        if (f->mode > SB_JMODE_HTTP)
            c->bad = true;
        break;
    case SB_J_RESPONSE:
        f->id = get_u64(c);
        f->now_ms = (int64_t)get_u64(c);
        f->status = (int32_t)get_u32(c);
        f->content_type = get_str(c, NULL);
        f->session_id = get_str(c, NULL);
        f->body = need_str(c, &f->body_len);
        break;
    case SB_J_CANCEL:
        f->now_ms = (int64_t)get_u64(c);
        f->body = need_str(c, &f->body_len);
        break;
    case SB_J_END:
        f->status = (int32_t)get_u32(c);
        break;
    case SB_J_START:
    case SB_J_TIME:
    case SB_J_DRAIN:
        f->now_ms = (int64_t)get_u64(c);
        break;
    default:
        return false;
    }
    return !c->bad && c->n == 0;
}

sb_jresult sb_journal_next(sb_journal_reader *r, sb_jfact *out)
{
    if (r->pos < SB_JOURNAL_FILE_HEADER)
        return SB_JOURNAL_END; /* not opened */
    size_t left = r->len - r->pos;
    if (left == 0)
        return SB_JOURNAL_END;
    if (left < SB_JOURNAL_RECORD_HEADER)
        return SB_JOURNAL_TORN;
    cursor h = {r->data + r->pos, 8, false};
    uint32_t payload = get_u32(&h), crc = get_u32(&h);
    if (payload > SB_JOURNAL_MAX_PAYLOAD)
        return corrupt(r, "record length out of range");
    if ((size_t)payload + 1 > left - 8)
        return SB_JOURNAL_TORN;
    const uint8_t *rec = r->data + r->pos + 8;
    if (sb_journal_crc32c(0, rec, (size_t)payload + 1) != crc)
        return corrupt(r, "checksum mismatch");
    cursor c = {rec + 1, payload, false};
    if (!decode(&c, rec[0], out))
        return corrupt(r, "malformed record");
    if ((r->pos == SB_JOURNAL_FILE_HEADER) != (rec[0] == SB_J_HEADER))
        return corrupt(r, rec[0] == SB_J_HEADER ? "a second header record" : "the first record is not the header");
    r->pos += SB_JOURNAL_RECORD_HEADER + payload;
    r->good_len = r->pos;
    return SB_JOURNAL_OK;
}
