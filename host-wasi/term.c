/* How a run looks in a terminal. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_run.h"
#include "util/sb_alloc.h"

void term_clear_progress(term *t)
{
    if (t->progress_shown) {
        fputs("\r\033[K", stderr);
        t->progress_shown = false;
    }
}

static void print_line(term *t, int64_t time_ms, const char *level, const char *msg)
{
    char ts[20];
    sb_time_format(time_ms, ts);
    term_clear_progress(t);
    printf("[%s] %s: %s\n", ts, level, msg);
    fflush(stdout);
}

static void show_progress(term *t, const sb_event *ev)
{
    sb_val d = ev->data;
    const sb_val *dn = sb_map_get_str(d, "done"), *f = sb_map_get_str(d, "failed"),
                 *r = sb_map_get_str(d, "running"), *q = sb_map_get_str(d, "queued"),
                 *tot = sb_map_get_str(d, "total"), *sp = sb_map_get_str(d, "spent_usd"),
                 *b = sb_map_get_str(d, "budget_usd"), *best = sb_map_get_str(d, "best");
    double spent = 0, budget = 0;
    if (sp)
        sb_val_as_double(*sp, &spent);
    if (b)
        sb_val_as_double(*b, &budget);
    /* The event's "done" counts every finished job (failed and cancelled
     * ones included), so that done + running + queued adds up to the total. */
    long long nf = f ? (long long)f->as.i : 0, ndone = dn ? (long long)dn->as.i : 0;
    char line[256];
    int n = snprintf(line, sizeof line, "%lld/%lld done (%lld failed), %lld running, %lld queued, $%.2f", ndone,
                     tot ? (long long)tot->as.i : 0, nf, r ? (long long)r->as.i : 0, q ? (long long)q->as.i : 0, spent);
    if (b && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " of $%.2f", budget);
    const sb_val *m = best ? sb_map_get_str(*best, "metrics") : NULL;
    if (m && sb_map_len(*m) && n > 0 && (size_t)n < sizeof line) {
        double x = 0;
        sb_val_as_double(*sb_map_val_at(*m, 0), &x);
        snprintf(line + n, sizeof line - (size_t)n, ", best %s %.2f", sb_str(*sb_map_key_at(*m, 0)), x);
    }
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    t->progress_shown = true;
}

void term_event(term *t, const sb_event *ev)
{
    if (ev->kind == SB_EVENT_STREAM && t->stream_skip > 0) {
        t->stream_skip--; /* in the file before the crash */
        return;
    }
    if (t->quiet && ev->kind != SB_EVENT_STREAM)
        return;
    switch (ev->kind) {
    case SB_EVENT_LOG:
        /* DEBUG lines (what servers say: progress, their log messages) only
         * with --verbose; a server's progress also shows on the progress line. */
        if (ev->level == SB_LOG_DEBUG) {
            const sb_val *k = sb_map_get_str(ev->data, "kind");
            if (t->verbose)
                print_line(t, ev->time_ms, "DEBUG", ev->message);
            else if (t->progress && k && sb_str_eq(*k, "progress")) {
                fprintf(stderr, "\r\033[K%.200s", ev->message);
                fflush(stderr);
                t->progress_shown = true;
            }
            break;
        }
        print_line(t, ev->time_ms, sb_log_level_name(ev->level), ev->message);
        break;
    case SB_EVENT_POLL: {
        const sb_val *changed = sb_map_get_str(ev->data, "changed");
        if (t->verbose || (changed && changed->as.i > 0))
            print_line(t, ev->time_ms, "INFO", ev->message);
        break;
    }
    case SB_EVENT_STREAM:
        if (t->stream_file) {
            /* One line per finished job, flushed at once: a crash loses nothing. */
            if (fprintf(t->stream_file, "%s\n", ev->message) < 0 || fflush(t->stream_file) != 0) {
                if (!t->stream_errors++)
                    fprintf(stderr, "%s: error: cannot write the stream file: %s\n", t->stream_path, strerror(errno));
                t->write_errors++;
            }
        }
        if (t->stream && !t->quiet)
            print_line(t, ev->time_ms, "STREAM", ev->message);
        break;
    case SB_EVENT_PROGRESS:
        if (t->progress)
            show_progress(t, ev);
        break;
    case SB_EVENT_STEP:
        break;
    }
}

char *term_path(const char *out_dir, const char *name)
{
    if (!out_dir || strcmp(out_dir, ".") == 0 || name[0] == '/')
        return sb_strdup(name);
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s/%s", out_dir, name);
    return sb_buf_take(&b);
}

/* The engine's write_file: every failure is printed (path, OS reason) and
 * counted in write_errors, which makes the exit status 4 whatever the run's
 * status. */
int term_write_file(term *t, const char *name, const char *data, size_t len)
{
    char *path = term_path(t->out_dir, name);
    sb_buf tmp = SB_BUF_INIT;
    sb_buf_printf(&tmp, "%s.tmp", path ? path : "");
    if (!path || sb_buf_failed(&tmp)) {
        fprintf(stderr, "%s: error: cannot write: out of memory\n", name);
        t->write_errors++;
        sb_free(path);
        sb_buf_free(&tmp);
        return -1;
    }
    /* Write beside, then rename: a reader never sees half a result. */
    errno = 0;
    FILE *f = fopen(sb_buf_str(&tmp), "wb");
    int rc = -1;
    if (!f) {
        fprintf(stderr, "%s: error: cannot write the file: %s: %s\n", path, sb_buf_str(&tmp), strerror(errno));
    } else {
        size_t w = fwrite(data, 1, len, f);
        rc = (w == len && fflush(f) == 0) ? 0 : -1;
        int err = errno;
        if (fclose(f) != 0 && rc == 0) {
            err = errno;
            rc = -1;
        }
        if (rc != 0) {
            fprintf(stderr, "%s: error: cannot write the file: %s: %s\n", path, sb_buf_str(&tmp), strerror(err));
            remove(sb_buf_str(&tmp));
        } else if (rename(sb_buf_str(&tmp), path) != 0) {
            /* The content is complete in the .tmp file: keep it. */
            fprintf(stderr, "%s: error: cannot write the file: %s; its content is in %s\n", path, strerror(errno),
                    sb_buf_str(&tmp));
            rc = -1;
        }
    }
    if (rc != 0)
        t->write_errors++;
    sb_buf_free(&tmp);
    sb_free(path);
    return rc;
}

int64_t host_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void host_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}
