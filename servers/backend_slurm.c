/* The Conductor's slurm backend (backend_slurm.h): set-up from the
 * workspace, error classification, the job files, and the sync that drives
 * the other two parts (backend_slurm_int.h). A job here is the core's job
 * ref plus what Slurm knows of it: its Slurm id and its folder. Jobs leave
 * the table once their end is reported to the core. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend_slurm_int.h"
#include "server_common.h"
#include "slurm_cli.h"
#include "slurm_parse.h"
#include "util/sb_diag.h"

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

bool slurm_backend__mkdirs(const char *path)
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
    b->seed = c->seed;
    char *wsdir = ws_file ? realpath(ws_file, NULL) : NULL;
    if (wsdir && strrchr(wsdir, '/'))
        *strrchr(wsdir, '/') = 0;
    b->workspace_dir = wsdir ? wsdir : getcwd(NULL, 0);
    if (!b->workspace_dir || !error_classes_init(&b->errors, c->errors)) {
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
    if (!slurm_backend__mkdirs(b->run_dir)) {
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
    error_classes_free(&b->errors);
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

bool slurm_backend__read_file(const char *dir, const char *name, sb_buf *out)
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

void slurm_backend_sync(slurm_backend *b, sb_csim *core, int64_t now_ms, int64_t host_ms, bool q)
{
    sb_csim_tick(core, now_ms);
    if (q) {
        server_log(LOG_DEBUG, "slurm: status call: %zu job(s) in flight", b->njobs);
        slurm_backend__query(b, core, now_ms, host_ms);
    }
    sb_csim_effect e;
    while (sb_csim_next_effect(core, &e)) {
        if (e.kind == SB_CSIM_START)
            slurm_backend__start(b, core, now_ms, &e);
        else
            slurm_backend__kill(b, &e);
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
