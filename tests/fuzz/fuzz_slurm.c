/* libFuzzer target for the Slurm driver's readers (servers/slurm_parse.h):
 * the input is read as squeue output, sacct output, sbatch output, scontrol's
 * configuration, the job's result and stamp files, and job output for
 * metrics; its first line is also quoted as a shell word. Checks: rows hold valid ids and bounded exit codes; a metrics
 * object has only finite numbers; quoting round-trips (the quoted word, with
 * its quotes removed the way sh does, is the input). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../servers/slurm_parse.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

/* Undoes slurm_sh_quote the way sh reads '...' and \'. */
static int unquote_equals(const char *q, size_t qn, const uint8_t *want, size_t wn)
{
    size_t k = 0;
    for (size_t i = 0; i < qn;) {
        if (q[i] == '\'') {
            for (i++; i < qn && q[i] != '\''; i++) {
                if (k >= wn || (uint8_t)q[i] != want[k++])
                    return 0;
            }
            if (i++ >= qn)
                return 0;
        } else if (q[i] == '\\' && i + 1 < qn) {
            if (k >= wn || (uint8_t)q[i + 1] != want[k++])
                return 0;
            i += 2;
        } else {
            return 0;
        }
    }
    return k == wn;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    slurm_row rows[8];
    char err[128];
    long n = slurm_parse_squeue(t, size, rows, 8, err, sizeof err);
    check(n >= -1 && n <= 8);
    for (long i = 0; i < n; i++) {
        check(rows[i].id[0] >= '0' && rows[i].id[0] <= '9');
        check(rows[i].exit_code >= -1 && rows[i].exit_code <= 255);
        check(rows[i].signal >= 0 && rows[i].signal < 128);
        check(rows[i].exit_code == -1 || rows[i].signal == 0);
        (void)slurm_state_phase(rows[i].state, strlen(rows[i].state));
    }
    if (n < 0)
        check(strncmp(err, "squeue output line ", 19) == 0);

    n = slurm_parse_sacct(t, size, rows, 8, err, sizeof err);
    check(n >= -1 && n <= 8);
    for (long i = 0; i < n; i++)
        check(rows[i].exit_code >= -1 && rows[i].exit_code <= 255 && rows[i].signal >= 0 && rows[i].signal < 128);
    (void)slurm_config_has_accounting(t, size);

    char id[24];
    if (slurm_parse_sbatch(t, size, id))
        check(id[0] >= '0' && id[0] <= '9' && strlen(id) <= 19);
    int rc;
    int64_t ms;
    if (slurm_parse_result(t, size, &rc, &ms))
        check(rc >= 0 && rc <= 255 && ms >= 0);
    if (slurm_parse_stamp(t, size, &ms))
        check(ms >= 0);

    sb_val m = slurm_metrics_from_output(t, size);
    check(m.kind == SB_NULL || m.kind == SB_MAP || sb_is_oom(m));
    if (m.kind == SB_MAP)
        for (size_t i = 0; i < sb_map_len(m); i++) {
            double d;
            check(sb_val_as_double(*sb_map_val_at(m, i), &d) && isfinite(d));
        }
    sb_val_free(m);

    sb_buf b = SB_BUF_INIT;
    slurm_tail(t, size, 3, 64, &b);
    check(b.len <= 64 && b.len <= size);
    sb_buf_reset(&b);
    const uint8_t *nl = memchr(data, '\n', size);
    size_t wn = nl ? (size_t)(nl - data) : size;
    if (slurm_sh_quote(t, wn, &b))
        check(unquote_equals(b.data, b.len, data, wn));
    else
        check(memchr(data, 0, wn) != NULL);
    sb_buf_free(&b);
    return 0;
}
