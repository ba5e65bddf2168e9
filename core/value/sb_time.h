/* Calendar arithmetic and the text forms of timestamps and durations, for
 * the SB_TIMESTAMP and SB_DURATION values (sb_value.h).
 *
 * A timestamp is an instant in UTC: whole seconds since 1970-01-01T00:00:00Z
 * (negative before) plus 0..999999999 nanoseconds, in the proleptic Gregorian
 * calendar without leap seconds, from 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999999Z (protobuf's Timestamp range). A duration is
 * a signed count of nanoseconds in an int64 (about +-292 years; cel-go's
 * range, which the CEL conformance cases rely on).
 *
 * Pure functions: no allocation except through the sb_buf they append to. */
#ifndef SB_TIME_H
#define SB_TIME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/sb_buf.h"

#define SB_TS_MIN_SEC (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define SB_TS_MAX_SEC 253402300799LL   /* 9999-12-31T23:59:59Z */
#define SB_NS_PER_SEC 1000000000LL

/* Days since 1970-01-01 of a civil date (month 1..12, day 1..31). */
int64_t sb_time_days(int64_t year, int month, int day);
/* The civil date of a day count since 1970-01-01. */
void sb_time_civil(int64_t days, int64_t *year, int *month, int *day);
/* a / b rounded toward minus infinity (b > 0): the day of a second. */
static inline int64_t sb_time_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static inline bool sb_time_in_range(int64_t sec)
{
    return sec >= SB_TS_MIN_SEC && sec <= SB_TS_MAX_SEC;
}

/* RFC 3339 text ("2009-02-13T23:31:30.5+01:00"; 'T' and 'Z' upper case,
 * 1 to 9 fraction digits). false if malformed or outside the range. */
bool sb_time_parse_ts(const char *s, size_t len, int64_t *sec, int32_t *nsec);
/* RFC 3339 in UTC, fraction digits without trailing zeros:
 * "2009-02-13T23:31:30Z", "0001-01-01T00:00:00.000000002Z". */
void sb_time_write_ts(sb_buf *b, int64_t sec, int32_t nsec);

/* Duration text as cel-go reads it: [-+] then one or more <number><unit>,
 * number with an optional fraction, unit ns us µs ms s m h; "0" alone.
 * 0 on success, -1 malformed, -2 out of the int64 nanosecond range. */
int sb_time_parse_dur(const char *s, size_t len, int64_t *ns);
/* Seconds with the fraction's trailing zeros dropped: "6347s", "1.5s", "-0.000000001s". */
void sb_time_write_dur(sb_buf *b, int64_t ns);

#endif
