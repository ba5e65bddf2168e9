/* The Conductor's slurm backend (backend_slurm.h). A job here is the core's
 * job ref plus what Slurm knows of it: its Slurm id and its folder. Jobs
 * leave this table once their end is reported to the core. */
#define _GNU_SOURCE
#include "backend_slurm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cel/sb_cel.h"
#include "cel/sb_template.h"
#include "server_common.h"
#include "slurm_cli.h"
#include "slurm_parse.h"
#include "util/sb_diag.h"
#include "json/sb_json.h"

#define CMD_TIMEOUT_S 30
#define TAIL_LINES 5
#define TAIL_BYTES 600
#define MAX_FILE (16u << 20)
/* Slurm's largest limit we pass: a year, in minutes */
#define MAX_MINUTES 525600

typedef struct sjob {
    sb_csim_job_ref ref;
    char slurm_id[24];
    char *dir;
    char *label; /* handle/job, for messages */
    bool running_reported, kill_sent;
    int misses; /* squeue answers that did not list it */
} sjob;

struct slurm_backend {
    sb_tmpl *command;
    char *partition, *account, *mem, *gres, *run_dir;
    char **extra;
    size_t nextra;
    int64_t time_limit_min;
    int cpus_per_task;
    bool accounting; /* the cluster keeps accounting: sacct knows jobs that left squeue */
    uint64_t seed;
    char *workspace_dir;
    /* error classification: message.matches(pattern) over these lists */
    sb_cel_program *matcher;
    sb_val transient, permanent;
    bool default_transient;
    sjob *jobs;
    size_t njobs, cap;
};

static char *dupstr(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const char *str_key(sb_val m, const char *k)
{
    const sb_val *v = sb_map_get_str(m, k);
    return v && v->kind == SB_STRING ? sb_str(*v) : NULL;
}

static int64_t int_key(sb_val m, const char *k)
{
    const sb_val *v = sb_map_get_str(m, k);
    return v && v->kind == SB_INT ? v->as.i : 0;
}

static bool mkdirs(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return false;
    bool ok = true;
    for (char *q = p + 1; ok; q++) {
        if (*q == '/' || *q == 0) {
            char c = *q;
            *q = 0;
            ok = mkdir(p, 0755) == 0 || errno == EEXIST;
            *q = c;
            if (!c)
                break;
        }
    }
    free(p);
    return ok;
}

static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    char *out = NULL;
    return asprintf(&out, "%s/%s", cwd, path) < 0 ? NULL : out;
}

/* The workspace's `errors` (docs/workspace-format.md), defaults included. */
static bool set_patterns(slurm_backend *b, sb_val errors)
{
    static const char *const defaults[] = {"(?i)nan loss", "(?i)cuda out of memory",
                                           "(?i)connection (reset|timed out|timeout)"};
    const sb_val *t = errors.kind == SB_MAP ? sb_map_get_str(errors, "transient_patterns") : NULL;
    const sb_val *p = errors.kind == SB_MAP ? sb_map_get_str(errors, "permanent_patterns") : NULL;
    const sb_val *d = errors.kind == SB_MAP ? sb_map_get_str(errors, "default") : NULL;
    if (t && t->kind == SB_LIST) {
        b->transient = sb_val_ref(*t);
    } else {
        b->transient = sb_list_new(3);
        for (size_t i = 0; i < 3; i++)
            sb_list_push(&b->transient, sb_string_cstr(defaults[i]));
    }
    b->permanent = p && p->kind == SB_LIST ? sb_val_ref(*p) : sb_list_new(0);
    b->default_transient = d && d->kind == SB_STRING && strcmp(sb_str(*d), "transient") == 0;
    static const char src[] = "message.matches(pattern)";
    b->matcher = sb_cel_parse(src, sizeof src - 1, NULL, NULL);
    return b->matcher && b->transient.kind == SB_LIST && b->permanent.kind == SB_LIST;
}

static bool any_match(const slurm_backend *b, const char *msg, sb_val patterns)
{
    for (size_t i = 0; i < sb_list_len(patterns); i++) {
        sb_val vars = sb_map_new(2);
        sb_map_set_str(&vars, "message", sb_string_cstr(msg));
        sb_map_set_str(&vars, "pattern", sb_val_ref(*sb_list_at(patterns, i)));
        sb_val v = sb_cel_eval(b->matcher, vars);
        bool hit = v.kind == SB_BOOL && v.as.b;
        sb_val_free(v);
        sb_val_free(vars);
        if (hit)
            return true;
    }
    return false;
}

static const char *classify(const slurm_backend *b, const char *msg)
{
    if (any_match(b, msg, b->permanent))
        return "permanent";
    if (any_match(b, msg, b->transient))
        return "transient";
    return b->default_transient ? "transient" : "permanent";
}

slurm_backend *slurm_backend_new(const slurm_config *c, char *err, size_t errlen)
{
    sb_val cfg = c->slurm;
    const char *ws_file = c->file;
    if (cfg.kind != SB_MAP) {
        snprintf(err, errlen, "--backend slurm needs `backends: {slurm: {command: [...]}}` in the workspace");
        return NULL;
    }
    const sb_val *cmd = sb_map_get_str(cfg, "command");
    if (!cmd || cmd->kind != SB_LIST || sb_list_len(*cmd) == 0) {
        snprintf(err, errlen, "backends.slurm.command must be a non-empty list (the job's argv)");
        return NULL;
    }
    slurm_backend *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->transient = b->permanent = sb_null();
    b->seed = c->seed;
    char *wsdir = ws_file ? realpath(ws_file, NULL) : NULL;
    if (wsdir && strrchr(wsdir, '/'))
        *strrchr(wsdir, '/') = 0;
    b->workspace_dir = wsdir ? wsdir : getcwd(NULL, 0);
    if (!b->workspace_dir || !set_patterns(b, c->errors)) {
        snprintf(err, errlen, "out of memory");
        slurm_backend_free(b);
        return NULL;
    }
    sb_diags *d = sb_diags_new();
    sb_cel_options copt = {.mixed_numeric = true};
    b->command = d ? sb_tmpl_compile(*cmd, ws_file ? ws_file : "workspace", &copt, d) : NULL;
    if (!b->command) {
        sb_buf m = SB_BUF_INIT;
        if (d)
            sb_diags_write(d, &m);
        snprintf(err, errlen, "%s", d && !sb_buf_failed(&m) ? sb_buf_str(&m) : "out of memory");
        sb_buf_free(&m);
        sb_diags_free(d);
        slurm_backend_free(b);
        return NULL;
    }
    sb_diags_free(d);
    b->partition = dupstr(str_key(cfg, "partition"));
    b->account = dupstr(str_key(cfg, "account"));
    b->gres = dupstr(str_key(cfg, "gres"));
    b->mem = dupstr(str_key(cfg, "mem"));
    b->time_limit_min = int_key(cfg, "time_limit");
    b->cpus_per_task = (int)int_key(cfg, "cpus_per_task");
    const sb_val *extra = sb_map_get_str(cfg, "extra_args");
    size_t nextra = extra && extra->kind == SB_LIST ? sb_list_len(*extra) : 0;
    b->extra = calloc(nextra + 1, sizeof *b->extra);
    for (size_t i = 0; b->extra && i < nextra; i++) {
        const sb_val *a = sb_list_at(*extra, i);
        if (a->kind == SB_STRING)
            b->extra[b->nextra++] = dupstr(sb_str(*a));
    }
    /* Each Conductor run gets its own folder, so job folders of an earlier
     * run (same handle and job ids) are never mistaken for this run's. */
    const char *wd = c->work_dir ? c->work_dir : ".";
    char stamp[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    char *rel = NULL;
    if (asprintf(&rel, "%s/sibyl-slurm-%s-%ld", wd, stamp, (long)getpid()) >= 0) {
        b->run_dir = absolute(rel);
        free(rel);
    }
    if (!b->extra || !b->run_dir) {
        snprintf(err, errlen, "out of memory");
        slurm_backend_free(b);
        return NULL;
    }
    /* sacct only where accounting exists (without slurmdbd it knows nothing) */
    const char *show[] = {"scontrol", "show", "config", NULL};
    sb_buf conf = SB_BUF_INIT;
    if (slurm_run(show, CMD_TIMEOUT_S, &conf, NULL) == 0)
        b->accounting = slurm_config_has_accounting(conf.data ? conf.data : "", conf.len);
    sb_buf_free(&conf);
    if (!mkdirs(b->run_dir)) {
        snprintf(err, errlen, "backends.slurm.work_dir: cannot create %s: %s", b->run_dir, strerror(errno));
        slurm_backend_free(b);
        return NULL;
    }
    return b;
}

void slurm_backend_free(slurm_backend *b)
{
    if (!b)
        return;
    sb_tmpl_free(b->command);
    sb_cel_program_free(b->matcher);
    sb_val_free(b->transient);
    sb_val_free(b->permanent);
    free(b->workspace_dir);
    free(b->partition);
    free(b->account);
    free(b->mem);
    free(b->gres);
    free(b->run_dir);
    for (size_t i = 0; b->extra && i < b->nextra; i++)
        free(b->extra[i]);
    free(b->extra);
    for (size_t i = 0; i < b->njobs; i++) {
        free(b->jobs[i].dir);
        free(b->jobs[i].label);
    }
    free(b->jobs);
    free(b);
}

const char *slurm_backend_run_dir(const slurm_backend *b)
{
    return b->run_dir;
}

size_t slurm_backend_in_flight(const slurm_backend *b)
{
    return b->njobs;
}

/* --- files of a job --- */

static bool read_job_file(const char *dir, const char *name, sb_buf *out)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return false;
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return false;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len + n <= MAX_FILE)
        sb_buf_append(out, chunk, n);
    fclose(f);
    return !sb_buf_failed(out);
}

static bool write_job_file(const char *dir, const char *name, const char *text, size_t len, mode_t mode)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return false;
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(text, 1, len, f) == len;
    ok = f && fclose(f) == 0 && ok;
    ok = ok && chmod(path, mode) == 0;
    free(path);
    return ok;
}

/* A job id as a folder name: letters, digits, '.', '-', '_' kept, the rest
 * '_'; a name that had to change gets the core's ref appended so two ids
 * never share a folder. */
static char *folder_name(const char *id, sb_csim_job_ref ref)
{
    size_t n = strlen(id);
    char *s = malloc(n + 16);
    if (!s)
        return NULL;
    bool changed = n == 0 || id[0] == '.';
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == '_';
        s[i] = keep ? c : '_';
        changed = changed || !keep;
    }
    s[n] = 0;
    if (changed || n > 100) {
        if (n > 100)
            n = 100;
        snprintf(s + n, 16, "~%u", (unsigned)ref);
    }
    return s;
}

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

static void fail(slurm_backend *b, sb_csim *core, int64_t now_ms, sjob *j, const char *error, const char *type,
                 int64_t run_ms)
{
    if (!type)
        type = classify(b, error);
    server_log(LOG_INFO, "slurm: %s (Slurm job %s) failed: %s", j->label, j->slurm_id[0] ? j->slurm_id : "-", error);
    sb_csim_result r = {.ok = false, .error = error, .error_type = type, .run_ms = run_ms};
    finish(b, core, now_ms, j, &r);
}

static int64_t stamp_of(const char *dir, const char *name)
{
    sb_buf t = SB_BUF_INIT;
    int64_t ms = -1;
    if (read_job_file(dir, name, &t) && !slurm_parse_stamp(t.data ? t.data : "", t.len, &ms))
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
    if (read_job_file(j->dir, SLURM_FILE_RESULT, &t) && !slurm_parse_result(t.data ? t.data : "", t.len, &rc, &end))
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
    read_job_file(j->dir, SLURM_FILE_STDERR, &errt);
    slurm_tail(errt.data ? errt.data : "", errt.len, TAIL_LINES, TAIL_BYTES, &tail);
    const char *type = NULL;
    if (ph == SLURM_COMPLETED) {
        sb_val m = sb_null();
        if (read_job_file(j->dir, SLURM_FILE_METRICS, &out)) {
            m = sb_json_parse(out.data ? out.data : "", out.len); /* any layout, not only one line */
            if (m.kind != SB_MAP) {
                sb_val_free(m);
                m = sb_null();
            }
        }
        sb_buf_reset(&out);
        if (m.kind != SB_MAP && read_job_file(j->dir, SLURM_FILE_STDOUT, &out))
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
    fail(b, core, now_ms, j, sb_buf_failed(&msg) ? "failed (out of memory)" : sb_buf_str(&msg), type, run_ms);
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
    bool has =
        read_job_file(j->dir, SLURM_FILE_RESULT, &t) && slurm_parse_result(t.data ? t.data : "", t.len, &code, &end);
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

static void query(slurm_backend *b, sb_csim *core, int64_t now_ms, int64_t host_ms)
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

/* --- effects --- */

static bool put_str(sb_val *m, const char *k, const char *s)
{
    sb_val v = sb_string_cstr(s);
    return !sb_is_oom(v) && sb_map_set_str(m, k, v);
}

/* The command's words for one job: the template evaluated with the
 * variables hyperparameters, job_id, handle_id, seed and workspace_dir (as
 * the local backend has them) and job_dir; numbers and bools written as
 * JSON writes them. */
static char **job_argv(const slurm_backend *b, const sb_csim_effect *e, const char *dir, size_t *argc, sb_buf *err)
{
    sb_val vars = sb_map_new(8);
    bool ok = !sb_is_oom(vars) && sb_map_set_str(&vars, "hyperparameters", sb_val_ref(e->hyperparameters));
    ok = ok && put_str(&vars, "job_id", e->job_id) && put_str(&vars, "handle_id", e->handle_id) &&
         put_str(&vars, "job_dir", dir) && put_str(&vars, "workspace_dir", b->workspace_dir) &&
         sb_map_set_str(&vars, "seed", sb_uint(b->seed));
    if (!ok) {
        sb_val_free(vars);
        sb_buf_puts(err, "out of memory");
        return NULL;
    }
    sb_val words = sb_tmpl_eval(b->command, vars);
    sb_val_free(vars);
    if (words.kind == SB_ERROR) {
        sb_buf_printf(err, "backends.slurm.command: %s", sb_str(words));
        sb_val_free(words);
        return NULL;
    }
    size_t n = sb_list_len(words);
    char **argv = calloc(n + 1, sizeof *argv);
    for (size_t i = 0; argv && i < n; i++) {
        const sb_val *w = sb_list_at(words, i);
        sb_buf t = SB_BUF_INIT;
        if (w->kind == SB_STRING)
            sb_buf_append(&t, sb_str(*w), sb_str_len(*w));
        else if (w->kind == SB_INT || w->kind == SB_DOUBLE || w->kind == SB_BOOL || w->kind == SB_UINT)
            sb_val_write_json(&t, *w, 0);
        else {
            sb_buf_printf(err, "backends.slurm.command[%zu]: a %s is not a word of a command line", i,
                          sb_kind_name(sb_kind_of(*w)));
            sb_buf_free(&t);
            for (size_t k = 0; k < i; k++)
                free(argv[k]);
            free(argv);
            sb_val_free(words);
            return NULL;
        }
        argv[i] = sb_buf_take(&t);
        if (!argv[i])
            argv[i] = strdup("");
    }
    sb_val_free(words);
    if (!argv)
        sb_buf_puts(err, "out of memory");
    *argc = n;
    return argv;
}

static void free_argv(char **argv, size_t n)
{
    for (size_t i = 0; argv && i < n; i++)
        free(argv[i]);
    free(argv);
}

static int64_t minutes_for(const slurm_backend *b, int64_t cap_ms)
{
    int64_t m = slurm_time_minutes(cap_ms);
    if (m > MAX_MINUTES || m == 0)
        m = MAX_MINUTES;
    if (b->time_limit_min > 0 && b->time_limit_min < m)
        m = b->time_limit_min;
    return m;
}

static void submit(slurm_backend *b, sjob *j, const sb_csim_effect *e, const char *handle_dir, sb_buf *why,
                   const char **type)
{
    char *name = folder_name(e->job_id, e->job);
    if (!name || asprintf(&j->dir, "%s/%s", handle_dir, name) < 0)
        j->dir = NULL;
    free(name);
    if (!j->dir || !mkdirs(j->dir)) {
        sb_buf_printf(why, "cannot create the job folder: %s", strerror(errno));
        return;
    }
    size_t argc = 0;
    char **argv = job_argv(b, e, j->dir, &argc, why);
    if (!argv) {
        *type = "permanent";
        return;
    }
    char *hp = sb_val_to_json(e->hyperparameters, 0);
    char *metrics = NULL, *jobdir = NULL, *jobid = NULL, *hpfile = NULL;
    bool ok = hp && asprintf(&metrics, "SIBYL_METRICS_FILE=%s/" SLURM_FILE_METRICS, j->dir) >= 0 &&
              asprintf(&jobdir, "SIBYL_JOB_DIR=%s", j->dir) >= 0 &&
              asprintf(&jobid, "SIBYL_JOB_ID=%s", e->job_id) >= 0 &&
              asprintf(&hpfile, "SIBYL_HYPERPARAMETERS_FILE=%s/hyperparameters.json", j->dir) >= 0;
    const char *env[] = {metrics, jobdir, jobid, hpfile};
    sb_buf script = SB_BUF_INIT;
    ok = ok && write_job_file(j->dir, "hyperparameters.json", hp, strlen(hp), 0644);
    ok = ok && slurm_batch_script(j->dir, (const char *const *)argv, argc, env, 4, j->label, &script) &&
         write_job_file(j->dir, SLURM_FILE_SCRIPT, script.data, script.len, 0755);
    free(hp);
    free(metrics);
    free(jobdir);
    free(jobid);
    free(hpfile);
    free_argv(argv, argc);
    sb_buf_free(&script);
    if (!ok) {
        sb_buf_printf(why, "cannot write the job's batch script in %s", j->dir);
        return;
    }
    char a_name[160], a_chdir[4200], a_out[4200], a_time[40], a_part[300], a_acct[300], a_cpus[40], a_mem[100],
        a_gres[300], script_path[4200];
    const char *av[32 + 64];
    size_t n = 0;
    av[n++] = "sbatch";
    av[n++] = "--parsable";
    snprintf(a_name, sizeof a_name, "--job-name=sibyl-%s", j->label);
    for (char *p = a_name; *p; p++)
        if (*p == ' ' || (unsigned char)*p < 0x20)
            *p = '_';
    av[n++] = a_name;
    snprintf(a_chdir, sizeof a_chdir, "--chdir=%s", j->dir);
    av[n++] = a_chdir;
    snprintf(a_out, sizeof a_out, "--output=%s/" SLURM_FILE_SLURM_OUT, j->dir);
    av[n++] = a_out;
    snprintf(a_time, sizeof a_time, "--time=%lld", (long long)minutes_for(b, e->cap_ms));
    av[n++] = a_time;
    if (b->partition && snprintf(a_part, sizeof a_part, "--partition=%s", b->partition) > 0)
        av[n++] = a_part;
    if (b->account && snprintf(a_acct, sizeof a_acct, "--account=%s", b->account) > 0)
        av[n++] = a_acct;
    if (b->cpus_per_task > 0 && snprintf(a_cpus, sizeof a_cpus, "--cpus-per-task=%d", b->cpus_per_task) > 0)
        av[n++] = a_cpus;
    if (b->mem && snprintf(a_mem, sizeof a_mem, "--mem=%s", b->mem) > 0)
        av[n++] = a_mem;
    if (b->gres && snprintf(a_gres, sizeof a_gres, "--gres=%s", b->gres) > 0)
        av[n++] = a_gres;
    for (size_t i = 0; i < b->nextra && n < 32 + 60; i++)
        av[n++] = b->extra[i];
    snprintf(script_path, sizeof script_path, "%s/" SLURM_FILE_SCRIPT, j->dir);
    av[n++] = script_path;
    av[n] = NULL;
    sb_buf out = SB_BUF_INIT, err = SB_BUF_INIT;
    int rc = slurm_run(av, CMD_TIMEOUT_S, &out, &err);
    if (rc == 0 && slurm_parse_sbatch(out.data ? out.data : "", out.len, j->slurm_id)) {
        server_log(LOG_INFO, "slurm: %s submitted as Slurm job %s (%s)", j->label, j->slurm_id, a_time);
    } else {
        sb_buf tail = SB_BUF_INIT;
        slurm_tail(err.len ? err.data : out.data ? out.data : "", err.len ? err.len : out.len, 3, 400, &tail);
        sb_buf_printf(why, "sbatch failed (exit %d): %s", rc, tail.len ? sb_buf_str(&tail) : "no output");
        sb_buf_free(&tail);
        if (rc == 124) /* the controller did not answer in time */
            *type = "transient";
    }
    sb_buf_free(&out);
    sb_buf_free(&err);
}

static void start(slurm_backend *b, sb_csim *core, int64_t now_ms, const sb_csim_effect *e)
{
    if (b->njobs == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        sjob *p = realloc(b->jobs, cap * sizeof *p);
        if (!p) {
            sb_csim_result r = {
                .ok = false, .error = "out of memory in the Conductor", .error_type = "transient", .run_ms = 0};
            sb_csim_job_finished(core, now_ms, e->job, &r);
            return;
        }
        b->jobs = p;
        b->cap = cap;
    }
    sjob *j = &b->jobs[b->njobs++];
    *j = (sjob){.ref = e->job};
    char *handle_dir = NULL;
    if (asprintf(&j->label, "%s/%s", e->handle_id, e->job_id) < 0)
        j->label = NULL;
    if (asprintf(&handle_dir, "%s/%s", b->run_dir, e->handle_id) < 0)
        handle_dir = NULL;
    sb_buf why = SB_BUF_INIT;
    const char *type = NULL;
    if (j->label && handle_dir)
        submit(b, j, e, handle_dir, &why, &type);
    else
        sb_buf_puts(&why, "out of memory in the Conductor");
    free(handle_dir);
    if (!j->slurm_id[0]) {
        if (!j->label)
            j->label = strdup(e->job_id);
        fail(b, core, now_ms, j, sb_buf_failed(&why) ? "cannot submit the job" : sb_buf_str(&why), type, 0);
    }
    sb_buf_free(&why);
}

static void kill_job(slurm_backend *b, const sb_csim_effect *e)
{
    for (size_t i = 0; i < b->njobs; i++) {
        sjob *j = &b->jobs[i];
        if (j->ref != e->job || !j->slurm_id[0] || j->kill_sent)
            continue;
        j->kill_sent = true;
        const char *argv[] = {"scancel", j->slurm_id, NULL};
        sb_buf err = SB_BUF_INIT;
        int rc = slurm_run(argv, CMD_TIMEOUT_S, NULL, &err);
        server_log(rc == 0 ? LOG_INFO : LOG_WARN, "slurm: %s (Slurm job %s) %s%s%s", j->label, j->slurm_id,
                   e->reason == SB_CSIM_KILL_CAP ? "stopped at its cost cap" : "cancelled",
                   rc == 0 ? "" : ": scancel failed: ", rc == 0 ? "" : sb_buf_str(&err));
        sb_buf_free(&err);
        return;
    }
}

void slurm_backend_sync(slurm_backend *b, sb_csim *core, int64_t now_ms, int64_t host_ms, bool q)
{
    sb_csim_tick(core, now_ms);
    if (q) {
        server_log(LOG_DEBUG, "slurm: status call: %zu job(s) in flight", b->njobs);
        query(b, core, now_ms, host_ms);
    }
    sb_csim_effect e;
    while (sb_csim_next_effect(core, &e)) {
        if (e.kind == SB_CSIM_START)
            start(b, core, now_ms, &e);
        else
            kill_job(b, &e);
    }
}

void slurm_backend_cancel_all(slurm_backend *b)
{
    size_t n = 0;
    const char **argv = calloc(b->njobs + 2, sizeof *argv);
    if (!argv)
        return;
    argv[n++] = "scancel";
    for (size_t i = 0; i < b->njobs; i++)
        if (b->jobs[i].slurm_id[0])
            argv[n++] = b->jobs[i].slurm_id;
    argv[n] = NULL;
    if (n > 1) {
        server_log(LOG_INFO, "slurm: cancelling %zu job(s) in flight", n - 1);
        slurm_run(argv, CMD_TIMEOUT_S, NULL, NULL);
    }
    free(argv);
}
