/* Events and log lines. The run only describes what happened; the host
 * decides how it looks (timestamps, colours, files). */
#include <stdio.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "run_int.h"

const char *sb_log_level_name(sb_log_level l)
{
    static const char *const n[] = {"INFO", "WARN", "ERROR", "SUCCESS", "STREAM", "DEBUG"};
    return (unsigned)l < sizeof n / sizeof *n ? n[l] : "INFO";
}

void sb_run__event(sb_run *r, sb_event_kind kind, sb_log_level level, const char *message, sb_val data)
{
    if (!r->host.event)
        return;
    sb_event ev = {kind, r->now, level, message ? message : "", data};
    r->host.event(r->host.ud, &ev);
}

void sb_run__log(sb_run *r, sb_log_level level, const char *fmt, ...)
{
    sb_buf b = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    sb_run__event(r, SB_EVENT_LOG, level, sb_buf_failed(&b) ? "out of memory" : sb_buf_str(&b), sb_null());
    sb_buf_free(&b);
}

void sb_run__step_event(sb_run *r, size_t i)
{
    static const char *const names[] = {"waiting", "running", "succeeded", "failed", "skipped"};
    step *s = &r->steps[i];
    sb_val d = sb_map_new(5);
    sb_map_set_str(&d, "name", sb_string_cstr(s->name));
    sb_map_set_str(&d, "index", sb_int(s->number));
    sb_map_set_str(&d, "total", sb_int((int64_t)r->nsteps));
    sb_map_set_str(&d, "status", sb_string_cstr(names[s->state]));
    if (s->reason)
        sb_map_set_str(&d, "reason", sb_string_cstr(s->reason));
    sb_run__event(r, SB_EVENT_STEP, SB_LOG_INFO, s->name, d);
    sb_val_free(d);
}

void sb_run__progress(sb_run *r)
{
    int64_t c[6] = {0};
    for (size_t i = 0; i < r->nsteps; i++)
        if (r->steps[i].poll)
            for (int k = 0; k < 6; k++)
                c[k] += r->steps[i].poll->counts[k];
    sb_val d = sb_map_new(10);
    /* done counts every finished job, failed and cancelled ones included, so
     * that done + running + queued is the total. */
    sb_map_set_str(&d, "done", sb_int(c[2] + c[3] + c[4]));
    sb_map_set_str(&d, "queued", sb_int(c[0]));
    sb_map_set_str(&d, "running", sb_int(c[1]));
    sb_map_set_str(&d, "completed", sb_int(c[2]));
    sb_map_set_str(&d, "failed", sb_int(c[3]));
    sb_map_set_str(&d, "cancelled", sb_int(c[4]));
    sb_map_set_str(&d, "total", sb_int(c[5]));
    sb_map_set_str(&d, "spent_usd", sb_double(sb_ledger_spent(r->ledger)));
    sb_map_set_str(&d, "committed_usd", sb_double(sb_ledger_committed(r->ledger)));
    if (r->has_budget)
        sb_map_set_str(&d, "budget_usd", sb_double(sb_ledger_budget(r->ledger)));
    sb_map_set_str(&d, "best", sb_val_ref(r->best));
    sb_run__event(r, SB_EVENT_PROGRESS, SB_LOG_INFO, "", d);
    sb_val_free(d);
}

void sb_run__fmt_usd(sb_buf *b, double usd)
{
    /* printf's %.2f is exact-then-rounded in glibc and in wasi-libc alike. */
    sb_buf_printf(b, "%.2f", usd);
}

/* Days from 1970-01-01 to a civil date, and back (Howard Hinnant's
 * algorithms), so timestamps do not depend on the C library's gmtime. */
void sb_time_format(int64_t epoch_ms, char buf[20])
{
    int64_t secs = epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    snprintf(buf, 20, "%04d-%02d-%02d %02d:%02d:%02d", (int)(y % 10000), (int)m, (int)d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
}
