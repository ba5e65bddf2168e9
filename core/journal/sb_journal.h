/* The run journal: every fact a run learned from outside (its header, the
 * start time, server answers, clock readings, cancel), as an append-only
 * byte format that a host writes to a file and a resume reads back
 * (docs/journal.md is the format's reference).
 *
 * Sans-I/O: the encoder appends records to an sb_buf, the reader walks a
 * byte range the caller holds. A decoded record's strings point into that
 * range (every string is stored with its NUL), so they are valid while the
 * caller keeps the bytes; nothing here allocates but the sb_buf.
 *
 * Layout: the 8-byte magic "SBJOURNL", a u32 format version, then records:
 *   u32 payload length | u32 CRC-32C of (type, payload) | u8 type | payload
 * (little-endian). A record cut short at the end of the bytes is a torn
 * tail (a write the host did not finish): the reader stops before it and
 * says where, so the host truncates it. A record whose checksum or payload
 * does not match is corruption: refused, with its offset. */
#ifndef SB_JOURNAL_H
#define SB_JOURNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/sb_buf.h"

#define SB_JOURNAL_FORMAT 1u
#define SB_JOURNAL_MAGIC "SBJOURNL"
#define SB_JOURNAL_FILE_HEADER 12u /* magic + version */
#define SB_JOURNAL_RECORD_HEADER 9u
/* Larger lengths are corruption, not a torn tail (no answer is this big). */
#define SB_JOURNAL_MAX_PAYLOAD (256u << 20)

typedef enum sb_jtype {
    SB_J_HEADER = 'H',   /* first record: what the run is (below) */
    SB_J_START = 'S',    /* now_ms: sb_run_start */
    SB_J_TIME = 'T',     /* now_ms: sb_run_on_time */
    SB_J_DRAIN = 'D',    /* now_ms: in-process services answered what was queued (HTTP host) */
    SB_J_RESPONSE = 'R', /* id, now_ms, status, content_type, session_id, body: sb_run_on_response */
    SB_J_CANCEL = 'C',   /* now_ms, body = reason: sb_run_cancel */
    SB_J_END = 'E'       /* status: the run finished and its outputs are written */
} sb_jtype;

/* How the host drove the run (a resume drives it the same way). */
typedef enum sb_jmode { SB_JMODE_VIRTUAL = 0, SB_JMODE_REAL = 1, SB_JMODE_HTTP = 2 } sb_jmode;

/* One record, flat: only the fields of its type are read or set. Strings
 * are NUL-terminated; NULL = absent (content_type, session_id). */
typedef struct sb_jfact {
    uint8_t type; /* sb_jtype */
    int64_t now_ms;
    uint64_t id;
    int32_t status; /* RESPONSE: HTTP status (0: transport failure); END: sb_run_status */
    const char *content_type, *session_id;
    const char *body; /* RESPONSE: answer body; CANCEL: reason */
    size_t body_len;
    /* HEADER */
    const char *sibyl_version, *pipeline, *pipelines_file, *workspace_file, *inputs_json, *run_id;
    uint64_t config_hash, seed;
    uint8_t mode;        /* sb_jmode */
    uint64_t time_scale; /* the --time-scale double's bits (0: none) */
    int64_t start_ms;    /* embedded runs: the start time (the START record may not have made it) */
} sb_jfact;

/* Appends the file header / one record to out (sticky failure: check
 * sb_buf_failed once). */
void sb_journal_begin(sb_buf *out);
void sb_journal_put(sb_buf *out, const sb_jfact *f);

typedef enum sb_jresult {
    SB_JOURNAL_OK,          /* a record was read */
    SB_JOURNAL_END,         /* no more records */
    SB_JOURNAL_TORN,        /* the bytes end inside a record: good_len says where the last whole one ends */
    SB_JOURNAL_CORRUPT,     /* a record fails its checksum or decoding: error_offset is its start */
    SB_JOURNAL_NOT_JOURNAL, /* no magic */
    SB_JOURNAL_VERSION      /* another format version (version says which) */
} sb_jresult;

typedef struct sb_journal_reader {
    const uint8_t *data;
    size_t len, pos;
    uint32_t version;
    size_t good_len;     /* bytes up to the end of the last whole record */
    size_t error_offset; /* CORRUPT: where the bad record starts */
    const char *error;   /* CORRUPT: why (static text) */
} sb_journal_reader;

/* Checks the file header. Bytes shorter than it are TORN with good_len 0
 * (a journal whose header never got written). */
sb_jresult sb_journal_open(sb_journal_reader *r, const void *data, size_t len);
sb_jresult sb_journal_next(sb_journal_reader *r, sb_jfact *out);

/* CRC-32C (Castagnoli), as the records use it; crc 0 to start. */
uint32_t sb_journal_crc32c(uint32_t crc, const void *data, size_t len);
/* FNV-1a 64 over len bytes, chained from h (start with SB_JOURNAL_HASH_INIT):
 * the header's config_hash. Not a defence against an attacker, a check that
 * the files are the ones the run used. */
#define SB_JOURNAL_HASH_INIT 0xcbf29ce484222325ull
uint64_t sb_journal_hash(uint64_t h, const void *data, size_t len);

#endif
