/* Time zones for the timestamp accessors (getHours('Europe/Paris')...).
 *
 * The core does no I/O, so instead of the host's tzdata a compact built-in
 * table names the common IANA zones with their standard offset and today's
 * daylight-saving rule, applied to every year (historic changes of a zone's
 * rules are not modelled: a 1990 timestamp in 'US/Central' uses the rule in
 * force since 2007). docs/expressions.md lists the zones. Besides names, a
 * zone may be a fixed offset "[+-]HH:MM" (or "H:MM": cel-go's reading, hours
 * and minutes as signed integers, the sign of the hours applying to both). */
#include <string.h>

#include "../value/sb_time.h"
#include "cel_int.h"

enum { R_NONE, R_US, R_EU, R_AU, R_NZ };

/* Names, '\0'-terminated, one after another; a first byte below ' ' stands
 * for the region prefix regions[byte - 1]. zone_code[i] of the i-th name:
 * standard offset in quarter hours * 8 + daylight rule. */
static const char *const regions[] = {"America/", "Europe/", "Asia/", "Australia/", "Africa/", "Pacific/", "US/"};
static const char zone_names[] =
    "UTC\0"
    "Etc/UTC\0"
    "GMT\0"
    "Etc/GMT\0"
    "\1New_York\0"
    "\7Eastern\0"
    "\1Toronto\0"
    "\1Chicago\0"
    "\7Central\0"
    "\1Denver\0"
    "\7Mountain\0"
    "\1Phoenix\0"
    "\7Arizona\0"
    "\1Los_Angeles\0"
    "\7Pacific\0"
    "\1Vancouver\0"
    "\1Anchorage\0"
    "\7Alaska\0"
    "\6Honolulu\0"
    "\7Hawaii\0"
    "\1Mexico_City\0"
    "\1Sao_Paulo\0"
    "\1Argentina/Buenos_Aires\0"
    "\2London\0"
    "\2Dublin\0"
    "\2Lisbon\0"
    "\2Paris\0"
    "\2Berlin\0"
    "\2Madrid\0"
    "\2Rome\0"
    "\2Amsterdam\0"
    "\2Brussels\0"
    "\2Vienna\0"
    "\2Zurich\0"
    "\2Stockholm\0"
    "\2Oslo\0"
    "\2Copenhagen\0"
    "\2Warsaw\0"
    "\2Prague\0"
    "\2Athens\0"
    "\2Helsinki\0"
    "\2Kyiv\0"
    "\2Kiev\0"
    "\2Bucharest\0"
    "\2Istanbul\0"
    "\2Moscow\0"
    "\5Lagos\0"
    "\5Johannesburg\0"
    "\5Cairo\0"
    "\5Nairobi\0"
    "\3Dubai\0"
    "\3Karachi\0"
    "\3Kolkata\0"
    "\3Calcutta\0"
    "\3Kathmandu\0"
    "\3Dhaka\0"
    "Indian/Cocos\0"
    "\3Bangkok\0"
    "\3Jakarta\0"
    "\3Shanghai\0"
    "\3Hong_Kong\0"
    "\3Singapore\0"
    "\3Taipei\0"
    "\4Perth\0"
    "\3Tokyo\0"
    "\3Seoul\0"
    "\4Darwin\0"
    "\4Adelaide\0"
    "\4Brisbane\0"
    "\4Sydney\0"
    "\4Melbourne\0"
    "\4Canberra\0"
    "\4Hobart\0"
    "\6Auckland\0";
static const int16_t zone_code[] = {0, 0, 0, 0, -159, -159, -159, -191, -191, -223, -223, -224, -224, -255, -255, -255, -287, -287, -320, -320, -192, -96, -96, 2, 2, 2, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 66, 66, 66, 66, 66, 96, 96, 32, 64, 64, 96, 128, 160, 176, 176, 184, 192, 208, 224, 224, 256, 256, 256, 256, 256, 288, 288, 304, 307, 320, 323, 323, 323, 323, 388};

static int64_t weekday(int64_t days) /* 0 = Sunday; day 0 was a Thursday */
{
    return (days % 7 + 11) % 7;
}

static int64_t first_sunday(int64_t y, int m, int nth)
{
    int64_t d = sb_time_days(y, m, 1);
    return d + (7 - weekday(d)) % 7 + 7 * (nth - 1);
}

static int64_t last_sunday(int64_t y, int m)
{
    int64_t d = sb_time_days(y + (m == 12), m == 12 ? 1 : m + 1, 1) - 1;
    return d - weekday(d);
}

/* Whether daylight saving time is in force at utc (seconds); std in seconds. */
static bool in_dst(int rule, int64_t utc, int64_t std)
{
    int64_t y;
    int mo, d;
    sb_time_civil(sb_time_floor_div(utc + std, 86400), &y, &mo, &d);
    int64_t start, end;
    switch (rule) {
    case R_US: /* 2nd Sunday of March 02:00 standard .. 1st Sunday of November 02:00 daylight */
        start = first_sunday(y, 3, 2) * 86400 + 7200 - std;
        end = first_sunday(y, 11, 1) * 86400 + 7200 - (std + 3600);
        return utc >= start && utc < end;
    case R_EU: /* last Sunday of March .. last Sunday of October, 01:00 UTC */
        start = last_sunday(y, 3) * 86400 + 3600;
        end = last_sunday(y, 10) * 86400 + 3600;
        return utc >= start && utc < end;
    case R_AU: /* 1st Sunday of October 02:00 standard .. 1st Sunday of April 03:00 daylight */
    case R_NZ: /* last Sunday of September 02:00 standard .. 1st Sunday of April 03:00 daylight */
        start = (rule == R_AU ? first_sunday(y, 10, 1) : last_sunday(y, 9)) * 86400 + 7200 - std;
        end = first_sunday(y, 4, 1) * 86400 + 10800 - (std + 3600);
        return utc < end || utc >= start;
    default:
        return false;
    }
}

/* A signed decimal integer of 1 to 4 digits. */
static bool small_int(const char *s, size_t len, int *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == len || len - i > 4)
        return false;
    int v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

bool sb_cel__tz_offset(const char *name, size_t len, int64_t utc, int64_t *off)
{
    const char *colon = memchr(name, ':', len);
    if (colon) {
        int h, m;
        size_t hl = (size_t)(colon - name);
        if (!small_int(name, hl, &h) || !small_int(colon + 1, len - hl - 1, &m) || colon[1] == '+' ||
            colon[1] == '-')
            return false;
        *off = (int64_t)(name[0] == '-' ? h * 60 - m : h * 60 + m) * 60;
        return true;
    }
    if (len == 0) {
        *off = 0;
        return true;
    }
    const char *z = zone_names;
    for (size_t i = 0; i < sizeof zone_code / sizeof *zone_code; i++, z += strlen(z) + 1) {
        const char *rest = z;
        size_t pl = 0;
        if (*z < ' ') {
            pl = strlen(regions[*z - 1]);
            rest++;
            if (len < pl || memcmp(name, regions[*z - 1], pl) != 0)
                continue;
        }
        if (strlen(rest) == len - pl && memcmp(rest, name + pl, len - pl) == 0) {
            int64_t std = (int64_t)(zone_code[i] >> 3) * 900;
            *off = std + (in_dst(zone_code[i] & 7, utc, std) ? 3600 : 0);
            return true;
        }
    }
    return false;
}
