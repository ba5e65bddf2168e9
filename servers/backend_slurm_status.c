/* The slurm backend's state reading (backend_slurm_int.h): one squeue per
 * status call for every job in flight, sacct where accounting exists for
 * jobs that left squeue without a result file, the jobs' own files (start
 * and end stamps, exit status, metrics, stderr), and what the core is told. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_slurm_int.h"
#include "epoch_progress.h"
#include "server_common.h"
#include "slurm_cli.h"
#include "slurm_parse.h"
#include "json/sb_json.h"

/* --- reporting to the core --- */

static void finish(slurm_backend *b, sb_csim *core, int64_t now_ms, sjob *j, const sb_csim_result *r)
{
    if (!sb_csim_job_finished(core, now_ms, j->ref, r)) {
        server_log(LOG_WARN, "slurm: %s: out of memory reporting its end; reported again at the next poll", j->label);
        return;
    }
    size_t k = (size_t)(j - b->jobs);
    free(j->dir);
    free(j->label);
    b->jobs[k] = b->jobs[--b->njobs];
}

void slurm_backend__fail(slurm_backend *b, sb_csim *core, int64_t now_ms, sjob *j, const char *error, const char *type,
                         int64_t run_ms)
{
    if (!type)
        type = error_classes_of(&b->errors, error);
    server_log(LOG_INFO, "slurm: %s (Slurm job %s) failed: %s", j->label, j->slurm_id[0] ? j->slurm_id : "-", error);
    sb_csim_result r = {.ok = false, .error = error, .error_type = type, .run_ms = run_ms};
    finish(b, core, now_ms, j, &r);
}

static int64_t stamp_of(const char *dir, const char *name)
{
    sb_buf t = SB_BUF_INIT;
    int64_t ms = -1;
    if (slurm_backend__read_file(dir, name, &t) && !slurm_parse_stamp(t.data ? t.data : "", t.len, &ms))
        ms = -1;
    sb_buf_free(&t);
    return ms;
}

/* A job that ended, as Slurm's state (row) or, once it left squeue, its own
 * result file says. */
static void ended(slurm_backend *b, sb_csim *core, int64_t now_ms, int64_t host_ms, sjob *j, const slurm_row *row)
{
    int64_t start = stamp_of(j->dir, SLURM_FILE_START), end = -1;
    int rc = -1;
    sb_buf t = SB_BUF_INIT;
    if (slurm_backend__read_file(j->dir, SLURM_FILE_RESULT, &t) &&
        !slurm_parse_result(t.data ? t.data : "", t.len, &rc, &end))
        rc = -1;
    sb_buf_free(&t);
    int64_t run_ms = start >= 0 ? (end >= start ? end : host_ms) - start : -1;
    if (run_ms < -1)
        run_ms = 0;
    slurm_phase ph = row            ? slurm_state_phase(row->state, strlen(row->state))
                     : rc == 0      ? SLURM_COMPLETED
                     : rc > 0       ? SLURM_FAILED
                     : j->kill_sent ? SLURM_CANCELLED
                                    : SLURM_UNKNOWN;
    if (ph == SLURM_CANCELLED && j->kill_sent) {
        sb_csim_result r = {.ok = false, .error = "cancelled", .run_ms = run_ms};
        finish(b, core, now_ms, j, &r);
        return;
    }
    sb_buf out = SB_BUF_INIT, errt = SB_BUF_INIT, msg = SB_BUF_INIT, tail = SB_BUF_INIT;
    slurm_backend__read_file(j->dir, SLURM_FILE_STDERR, &errt);
    slurm_tail(errt.data ? errt.data : "", errt.len, TAIL_LINES, TAIL_BYTES, &tail);
    const char *type = NULL;
    if (ph == SLURM_COMPLETED) {
        sb_val m = sb_null();
        if (slurm_backend__read_file(j->dir, SLURM_FILE_METRICS, &out)) {
            m = sb_json_parse(out.data ? out.data : "", out.len); /* any layout, not only one line */
            if (m.kind != SB_MAP) {
                sb_val_free(m);
                m = sb_null();
            }
        }
        sb_buf_reset(&out);
        if (m.kind != SB_MAP && slurm_backend__read_file(j->dir, SLURM_FILE_STDOUT, &out))
            m = slurm_metrics_from_output(out.data ? out.data : "", out.len);
        if (m.kind == SB_MAP) {
            sb_csim_result r = {.ok = true, .metrics = m, .run_ms = run_ms};
            server_log(LOG_INFO, "slurm: %s (Slurm job %s) completed", j->label, j->slurm_id);
            finish(b, core, now_ms, j, &r);
            sb_val_free(m);
            goto done;
        }
        sb_val_free(m);
        sb_buf_puts(&msg, "exited 0 but reported no metrics (a JSON object of numbers on the last JSON line of stdout "
                          "or in " SLURM_FILE_METRICS ")");
        type = "permanent";
    } else if (ph == SLURM_FAILED && row && strcmp(row->state, "FAILED") != 0) {
        const char *why = strcmp(row->state, "TIMEOUT") == 0         ? "the job reached its Slurm time limit"
                          : strcmp(row->state, "OUT_OF_MEMORY") == 0 ? "the job ran out of memory"
                          : strcmp(row->state, "NODE_FAIL") == 0     ? "the node running the job failed"
                          : strcmp(row->state, "PREEMPTED") == 0     ? "the job was preempted"
                                                                     : "the job ended";
        sb_buf_printf(&msg, "Slurm %s: %s", row->state, why);
        /* the cluster's doing, not the job's: worth running again */
        if (!strcmp(row->state, "NODE_FAIL") || !strcmp(row->state, "PREEMPTED") || !strcmp(row->state, "BOOT_FAIL"))
            type = "transient";
    } else if (ph == SLURM_FAILED) {
        int code = row && row->exit_code >= 0 ? row->exit_code : rc;
        if (row && row->signal)
            sb_buf_printf(&msg, "killed by signal %d", row->signal);
        else if (code == 127)
            sb_buf_printf(&msg, "exit status 127 (command not found?)");
        else
            sb_buf_printf(&msg, "exit status %d", code);
    } else if (ph == SLURM_CANCELLED) {
        sb_buf_printf(&msg, "Slurm CANCELLED: the job was cancelled outside the Conductor");
    } else {
        sb_buf_printf(&msg, "the job left the Slurm queue without a result (state %s)", row ? row->state : "unknown");
    }
    if (tail.len) {
        sb_buf_puts(&msg, ": ");
        sb_buf_append(&msg, tail.data, tail.len);
    }
    slurm_backend__fail(b, core, now_ms, j, sb_buf_failed(&msg) ? "failed (out of memory)" : sb_buf_str(&msg), type,
                        run_ms);
done:
    sb_buf_free(&out);
    sb_buf_free(&errt);
    sb_buf_free(&msg);
    sb_buf_free(&tail);
}

/* --- the one status query --- */

static sjob *find_slurm(slurm_backend *b, const char *id)
{
    for (size_t i = 0; i < b->njobs; i++)
        if (strcmp(b->jobs[i].slurm_id, id) == 0)
            return &b->jobs[i];
    return NULL;
}

static bool has_result(const sjob *j)
{
    sb_buf t = SB_BUF_INIT;
    int code;
    int64_t end;
    bool has = slurm_backend__read_file(j->dir, SLURM_FILE_RESULT, &t) &&
               slurm_parse_result(t.data ? t.data : "", t.len, &code, &end);
    sb_buf_free(&t);
    return has;
}

/* Where the cluster keeps accounting: one sacct for the jobs squeue no
 * longer lists that left no result file (killed: TIMEOUT, NODE_FAIL...), so
 * they end with Slurm's word for it. */
static void accounted(slurm_backend *b, sb_csim *core, int64_t now_ms, int64_t host_ms)
{
    if (!b->accounting)
        return;
    size_t n = 0;
    sb_buf ids = SB_BUF_INIT;
    for (size_t i = 0; i < b->njobs; i++) {
        const sjob *j = &b->jobs[i];
        if (j->slurm_id[0] && j->misses > 0 && !j->kill_sent && !has_result(j)) {
            if (n++)
                sb_buf_putc(&ids, ',');
            sb_buf_puts(&ids, j->slurm_id);
        }
    }
    slurm_row *rows = n && !sb_buf_failed(&ids) ? calloc(n, sizeof *rows) : NULL;
    if (!rows) {
        sb_buf_free(&ids);
        return;
    }
    const char *argv[] = {"sacct", "-X", "-n", "-P", "-j", sb_buf_str(&ids), "-o", SLURM_SACCT_FORMAT, NULL};
    sb_buf out = SB_BUF_INIT;
    char perr[160] = "";
    long nrows = slurm_run(argv, CMD_TIMEOUT_S, &out, NULL) == 0
                     ? slurm_parse_sacct(out.data ? out.data : "", out.len, rows, n, perr, sizeof perr)
                     : -1;
    if (nrows < 0)
        server_log(LOG_WARN, "slurm: sacct failed%s%s", perr[0] ? ": " : "", perr);
    for (long r = 0; r < nrows; r++) {
        sjob *j = find_slurm(b, rows[r].id);
        slurm_phase ph = slurm_state_phase(rows[r].state, strlen(rows[r].state));
        if (j && (ph == SLURM_COMPLETED || ph == SLURM_FAILED || ph == SLURM_CANCELLED))
            ended(b, core, now_ms, host_ms, j, &rows[r]);
    }
    free(rows);
    sb_buf_free(&out);
    sb_buf_free(&ids);
}

void slurm_backend__query(slurm_backend *b, sb_csim *core, int64_t now_ms, int64_t host_ms)
{
    size_t n = 0;
    sb_buf ids = SB_BUF_INIT;
    for (size_t i = 0; i < b->njobs; i++)
        if (b->jobs[i].slurm_id[0]) {
            if (n++)
                sb_buf_putc(&ids, ',');
            sb_buf_puts(&ids, b->jobs[i].slurm_id);
        }
    if (n == 0 || sb_buf_failed(&ids)) {
        sb_buf_free(&ids);
        return;
    }
    const char *argv[] = {"squeue", "-h", "-t", "all", "-j", sb_buf_str(&ids), "-O", SLURM_SQUEUE_FORMAT, NULL};
    sb_buf out = SB_BUF_INIT, err = SB_BUF_INIT;
    int rc = slurm_run(argv, CMD_TIMEOUT_S, &out, &err);
    sb_buf_free(&ids);
    slurm_row *rows = calloc(n, sizeof *rows);
    long nrows = -1;
    char perr[160] = "";
    if (rc == 0 && rows)
        nrows = slurm_parse_squeue(out.data ? out.data : "", out.len, rows, n, perr, sizeof perr);
    else if (rc == 1 && err.data && strstr(err.data, "Invalid job id"))
        nrows = 0; /* none of them is known any more */
    if (nrows < 0) {
        sb_buf tail = SB_BUF_INIT;
        slurm_tail(err.data ? err.data : "", err.len, 2, 300, &tail);
        server_log(LOG_WARN, "slurm: squeue failed (exit %d): %s; jobs keep their state until the next poll", rc,
                   perr[0] ? perr : sb_buf_str(&tail));
        sb_buf_free(&tail);
    } else {
        for (size_t i = 0; i < b->njobs; i++)
            if (b->jobs[i].slurm_id[0])
                b->jobs[i].misses++;
        for (long r = 0; r < nrows; r++) {
            sjob *j = find_slurm(b, rows[r].id);
            if (j)
                j->misses = 0;
        }
        /* Walk the rows (ended() reorders the table) */
        for (long r = 0; r < nrows; r++) {
            sjob *j = find_slurm(b, rows[r].id);
            if (!j)
                continue;
            slurm_phase ph = slurm_state_phase(rows[r].state, strlen(rows[r].state));
            if (ph == SLURM_RUNNING && !j->running_reported) {
                j->running_reported = true;
                server_log(LOG_INFO, "slurm: %s (Slurm job %s) running", j->label, j->slurm_id);
                sb_csim_job_running(core, now_ms, j->ref);
            } else if (ph == SLURM_COMPLETED || ph == SLURM_FAILED || ph == SLURM_CANCELLED) {
                ended(b, core, now_ms, host_ms, j, &rows[r]);
            }
            if (ph == SLURM_RUNNING) {
                /* The trainer's latest epoch, from its stdout on the shared folder. */
                char path[4200];
                snprintf(path, sizeof path, "%s/" SLURM_FILE_STDOUT, j->dir);
                sb_val pr = epoch_progress(path);
                if (pr.kind == SB_MAP)
                    sb_csim_job_progress(core, j->ref, pr);
                sb_val_free(pr);
            }
        }
        accounted(b, core, now_ms, host_ms);
        /* Jobs squeue no longer lists (past MinJobAge): their own result
         * file, or, after a second miss, the end without one. */
        for (size_t i = 0; i < b->njobs;) {
            sjob *j = &b->jobs[i];
            size_t before = b->njobs;
            if (j->slurm_id[0] && j->misses > 0 && (j->kill_sent || j->misses >= 2 || has_result(j)))
                ended(b, core, now_ms, host_ms, j, NULL);
            if (b->njobs == before)
                i++;
        }
    }
    free(rows);
    sb_buf_free(&out);
    sb_buf_free(&err);
}
