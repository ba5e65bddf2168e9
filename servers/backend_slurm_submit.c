/* The slurm backend's effects (backend_slurm_int.h): START makes the job's
 * folder, writes its batch script (every word quoted) and runs sbatch;
 * KILL runs scancel. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend_slurm_int.h"
#include "server_common.h"
#include "slurm_cli.h"
#include "slurm_parse.h"

/* --- files of a job --- */

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

static bool push(char **v, size_t *n, char *word)
{
    v[*n] = word;
    return word && ++*n;
}

/* sbatch --parsable and the job's options, then the script: a NULL-ended
 * list of n words (free_argv), or NULL when memory runs out. */
static char **sbatch_argv(const slurm_backend *b, const sjob *j, int64_t cap_ms, size_t *n)
{
    char **v = calloc(b->nextra + 16, sizeof *v), *w;
    bool ok = v != NULL;
    *n = 0;
    ok = ok && push(v, n, strdup("sbatch")) && push(v, n, strdup("--parsable"));
    ok = ok && asprintf(&w, "--job-name=sibyl-%s", j->label) >= 0 && push(v, n, w);
    for (char *p = ok ? v[*n - 1] : NULL; p && *p; p++)
        if (*p == ' ' || (unsigned char)*p < 0x20)
            *p = '_';
    ok = ok && asprintf(&w, "--chdir=%s", j->dir) >= 0 && push(v, n, w);
    ok = ok && asprintf(&w, "--output=%s/" SLURM_FILE_SLURM_OUT, j->dir) >= 0 && push(v, n, w);
    ok = ok && asprintf(&w, "--time=%lld", (long long)minutes_for(b, cap_ms)) >= 0 && push(v, n, w);
    if (ok && b->partition)
        ok = asprintf(&w, "--partition=%s", b->partition) >= 0 && push(v, n, w);
    if (ok && b->account)
        ok = asprintf(&w, "--account=%s", b->account) >= 0 && push(v, n, w);
    if (ok && b->cpus_per_task > 0)
        ok = asprintf(&w, "--cpus-per-task=%d", b->cpus_per_task) >= 0 && push(v, n, w);
    if (ok && b->mem)
        ok = asprintf(&w, "--mem=%s", b->mem) >= 0 && push(v, n, w);
    if (ok && b->gres)
        ok = asprintf(&w, "--gres=%s", b->gres) >= 0 && push(v, n, w);
    for (size_t i = 0; ok && i < b->nextra; i++)
        ok = push(v, n, strdup(b->extra[i]));
    ok = ok && asprintf(&w, "%s/" SLURM_FILE_SCRIPT, j->dir) >= 0 && push(v, n, w);
    if (!ok) {
        free_argv(v, *n);
        return NULL;
    }
    return v;
}

static void submit(slurm_backend *b, sjob *j, const sb_csim_effect *e, const char *handle_dir, sb_buf *why,
                   const char **type)
{
    char *name = folder_name(e->job_id, e->job);
    if (!name || asprintf(&j->dir, "%s/%s", handle_dir, name) < 0)
        j->dir = NULL;
    free(name);
    if (!j->dir || !slurm_backend__mkdirs(j->dir)) {
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
    size_t n = 0;
    char **av = sbatch_argv(b, j, e->cap_ms, &n);
    if (!av) {
        sb_buf_puts(why, "out of memory in the Conductor");
        *type = "transient";
        return;
    }
    sb_buf out = SB_BUF_INIT, err = SB_BUF_INIT;
    int rc = slurm_run((const char *const *)av, CMD_TIMEOUT_S, &out, &err);
    if (rc == 0 && slurm_parse_sbatch(out.data ? out.data : "", out.len, j->slurm_id)) {
        server_log(LOG_INFO, "slurm: %s submitted as Slurm job %s (--time=%lld)", j->label, j->slurm_id,
                   (long long)minutes_for(b, e->cap_ms));
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
    free_argv(av, n);
}

void slurm_backend__start(slurm_backend *b, sb_csim *core, int64_t now_ms, const sb_csim_effect *e)
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
        slurm_backend__fail(b, core, now_ms, j, sb_buf_failed(&why) ? "cannot submit the job" : sb_buf_str(&why), type,
                            0);
    }
    sb_buf_free(&why);
}

void slurm_backend__kill(slurm_backend *b, const sb_csim_effect *e)
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
