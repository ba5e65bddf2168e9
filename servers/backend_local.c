/* The local backend: trials as child processes (see backend_local.h).
 *
 * A trial runs the workspace's command (an argv list, each element a
 * template; no shell) in its own folder WORK_DIR/HANDLE/JOB, in its own
 * process group, stdin from /dev/null, stdout and stderr to stdout.txt and
 * stderr.txt there. Its end is found by waitpid on its pid (never -1: the
 * server has no other children to steal); what is left of its group then is
 * killed, so a trial never leaves processes behind. Kill = SIGTERM to the
 * group, SIGKILL after the grace. Run time is measured on the monotonic
 * clock from spawn to reap. */
#define _GNU_SOURCE
#include "backend_local.h"
#include "epoch_progress.h"
#include "file_tail.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cel/sb_cel.h"
#include "cel/sb_template.h"
#include "error_class.h"
#include "server_common.h"
#include "util/sb_buf.h"
#include "util/sb_diag.h"
#include "json/sb_json.h"

extern char **environ;

typedef struct trial {
    sb_csim_job_ref ref;
    pid_t pid;
    int64_t started_ms;
    int64_t term_ms; /* when SIGTERM went to its group; -1: not asked to stop */
    bool sigkilled;
    char *dir;
} trial;

struct local_backend {
    sb_tmpl *command;
    char **env_extra; /* "K=V", NULL-terminated */
    char *work_dir, *workspace_dir, *metrics_file;
    int64_t grace_ms;
    uint64_t seed;
    error_classes errors; /* as the engine classifies (core/engine/run_retry.c) */
    trial *trials;
    size_t ntrials, cap;
};

/* --- small helpers --- */

static char *dupstr(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int mkdirs(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    for (char *q = p + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *q = '/';
    }
    int rc = mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

/* A job or handle id as one folder name: [A-Za-z0-9._-] kept, anything else
 * '_' (ids are free text; "." and ".." are not names of their own). */
static void folder_name(char *out, size_t n, const char *id)
{
    size_t k = 0;
    for (const char *p = id; *p && k + 1 < n; p++) {
        char c = *p;
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
        out[k++] = keep ? c : '_';
    }
    out[k] = 0;
    if (k == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        snprintf(out, n, "_%s", k ? out : "");
}

/* The last non-empty line of text (in place), at most 300 bytes. */
static const char *last_line(char *text, size_t len)
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        text[--len] = 0;
    char *start = text + len;
    while (start > text && start[-1] != '\n')
        start--;
    if (strlen(start) > 300)
        start[300] = 0;
    return start;
}

/* --- setup --- */

local_backend *local_new(const local_config *c, char *err, size_t errlen)
{
    local_backend *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (c->command.kind != SB_LIST || sb_list_len(c->command) == 0) {
        snprintf(err, errlen, "%s: backends.local.command: a non-empty list of arguments is needed",
                 c->file ? c->file : "workspace");
        local_free(b);
        return NULL;
    }
    sb_diags *d = sb_diags_new();
    sb_cel_options opt = {.mixed_numeric = true};
    b->command = d ? sb_tmpl_compile(c->command, c->file, &opt, d) : NULL;
    if (!b->command) {
        sb_buf m = SB_BUF_INIT;
        if (d)
            sb_diags_write(d, &m);
        snprintf(err, errlen, "%s", d && m.len ? sb_buf_str(&m) : "out of memory");
        sb_buf_free(&m);
        sb_diags_free(d);
        local_free(b);
        return NULL;
    }
    sb_diags_free(d);
    size_t nenv = c->env.kind == SB_MAP ? sb_map_len(c->env) : 0;
    b->env_extra = calloc(nenv + 1, sizeof *b->env_extra);
    for (size_t i = 0; b->env_extra && i < nenv; i++) {
        const sb_val *k = sb_map_key_at(c->env, i), *v = sb_map_val_at(c->env, i);
        if (k->kind != SB_STRING || v->kind != SB_STRING)
            continue;
        size_t n = sb_str_len(*k) + sb_str_len(*v) + 2;
        if ((b->env_extra[i] = malloc(n)))
            snprintf(b->env_extra[i], n, "%s=%s", sb_str(*k), sb_str(*v));
    }
    char *wsdir = c->file ? realpath(c->file, NULL) : NULL;
    if (wsdir && strrchr(wsdir, '/'))
        *strrchr(wsdir, '/') = 0;
    b->workspace_dir = wsdir ? wsdir : getcwd(NULL, 0);
    b->work_dir = dupstr(c->work_dir);
    b->metrics_file = dupstr(c->metrics_file ? c->metrics_file : "metrics.json");
    b->grace_ms = (int64_t)(c->kill_grace_s * 1000);
    b->seed = c->seed;
    if (!b->env_extra || !b->work_dir || !b->metrics_file || !b->workspace_dir || !error_classes_init(&b->errors, c->errors)) {
        snprintf(err, errlen, "out of memory");
        local_free(b);
        return NULL;
    }
    if (mkdirs(b->work_dir) != 0) {
        snprintf(err, errlen, "cannot create the work folder %s: %s", b->work_dir, strerror(errno));
        local_free(b);
        return NULL;
    }
    return b;
}

void local_free(local_backend *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->ntrials; i++) {
        kill(-b->trials[i].pid, SIGKILL);
        waitpid(b->trials[i].pid, NULL, 0);
        free(b->trials[i].dir);
    }
    free(b->trials);
    sb_tmpl_free(b->command);
    for (size_t i = 0; b->env_extra && b->env_extra[i]; i++)
        free(b->env_extra[i]);
    free(b->env_extra);
    free(b->work_dir);
    free(b->workspace_dir);
    free(b->metrics_file);
    error_classes_free(&b->errors);
    free(b);
}

size_t local_active(const local_backend *b)
{
    return b ? b->ntrials : 0;
}

/* --- starting --- */

static void report_failed(sb_csim *core, int64_t core_now, sb_csim_job_ref ref, const char *msg, const char *type,
                          int64_t run_ms)
{
    sb_csim_result r = {.ok = false, .metrics = sb_null(), .error = msg, .error_type = type, .run_ms = run_ms};
    sb_csim_job_finished(core, core_now, ref, &r);
}

/* The argv for a job: each element of the command evaluated; strings as
 * they are, numbers and bools as JSON writes them. NULL after *why. */
static char **render_argv(const local_backend *b, const sb_csim_effect *e, char *why, size_t n)
{
    sb_val vars = sb_map_new(5);
    sb_map_set_str(&vars, "hyperparameters", sb_val_ref(e->hyperparameters));
    sb_map_set_str(&vars, "job_id", sb_string_cstr(e->job_id));
    sb_map_set_str(&vars, "handle_id", sb_string_cstr(e->handle_id));
    sb_map_set_str(&vars, "seed", sb_uint(b->seed));
    sb_map_set_str(&vars, "workspace_dir", sb_string_cstr(b->workspace_dir));
    sb_val args = sb_tmpl_eval(b->command, vars);
    sb_val_free(vars);
    char **argv = NULL;
    if (args.kind == SB_ERROR) {
        snprintf(why, n, "the command cannot be built: %s", sb_str(args));
    } else if (args.kind != SB_LIST) {
        snprintf(why, n, "the command cannot be built: out of memory");
    } else if ((argv = calloc(sb_list_len(args) + 1, sizeof *argv))) {
        for (size_t i = 0; i < sb_list_len(args); i++) {
            sb_val a = *sb_list_at(args, i);
            if (a.kind == SB_STRING) {
                argv[i] = strdup(sb_str(a));
            } else if (a.kind == SB_INT || a.kind == SB_UINT || a.kind == SB_DOUBLE || a.kind == SB_BOOL) {
                argv[i] = sb_val_to_json(a, 0);
            } else {
                snprintf(why, n, "the command cannot be built: argument %zu is a %s, not a string or number", i,
                         sb_kind_name(sb_kind_of(a)));
                for (size_t k = 0; k < i; k++)
                    free(argv[k]);
                free(argv);
                argv = NULL;
                break;
            }
        }
    } else {
        snprintf(why, n, "out of memory");
    }
    sb_val_free(args);
    return argv;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* The server's environment, minus the names the workspace sets, plus those
 * and SIBYL_JOB_ID, SIBYL_HANDLE_ID. Entries borrowed except the ids. */
static char **make_env(const local_backend *b, const sb_csim_effect *e, char *ids[2])
{
    size_t n = 0, extra = 0;
    while (environ[n])
        n++;
    while (b->env_extra[extra])
        extra++;
    char **env = calloc(n + extra + 3, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool shadowed = (len == 12 && strncmp(environ[i], "SIBYL_JOB_ID", 12) == 0) ||
                        (len == 15 && strncmp(environ[i], "SIBYL_HANDLE_ID", 15) == 0);
        for (size_t x = 0; x < extra && !shadowed; x++)
            shadowed = strncmp(b->env_extra[x], environ[i], len) == 0 && b->env_extra[x][len] == '=';
        if (!shadowed)
            env[k++] = environ[i];
    }
    for (size_t x = 0; x < extra; x++)
        env[k++] = b->env_extra[x];
    size_t lj = strlen(e->job_id) + 14, lh = strlen(e->handle_id) + 17;
    ids[0] = malloc(lj);
    ids[1] = malloc(lh);
    if (!ids[0] || !ids[1]) {
        free(env);
        return NULL;
    }
    snprintf(ids[0], lj, "SIBYL_JOB_ID=%s", e->job_id);
    snprintf(ids[1], lh, "SIBYL_HANDLE_ID=%s", e->handle_id);
    env[k++] = ids[0];
    env[k++] = ids[1];
    return env;
}

/* A new folder for the job (a suffix when a folder of that name exists: two
 * ids may map to one name). */
static char *job_dir(const local_backend *b, const sb_csim_effect *e)
{
    char hname[300], jname[300];
    folder_name(hname, sizeof hname, e->handle_id);
    folder_name(jname, sizeof jname, e->job_id);
    size_t n = strlen(b->work_dir) + strlen(hname) + strlen(jname) + 16;
    char *path = malloc(n);
    if (!path)
        return NULL;
    snprintf(path, n, "%s/%s", b->work_dir, hname);
    if (mkdirs(path) != 0) {
        free(path);
        return NULL;
    }
    for (int k = 1; k < 1000; k++) {
        if (k == 1)
            snprintf(path, n, "%s/%s/%s", b->work_dir, hname, jname);
        else
            snprintf(path, n, "%s/%s/%s.%d", b->work_dir, hname, jname, k);
        if (mkdir(path, 0777) == 0)
            return path;
        if (errno != EEXIST)
            break;
    }
    free(path);
    return NULL;
}

static int spawn(const char *dir, char **argv, char **env, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "stdout.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, "stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    /* Its own group (so a kill reaches its children too), an empty signal
     * mask and default dispositions: the server blocks SIGTERM, SIGINT and
     * SIGCHLD and ignores SIGPIPE, and a child would inherit that. */
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGCHLD);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults);
    int rc = posix_spawnp(pid, argv[0], &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

static void start(local_backend *b, sb_csim *core, int64_t core_now, const sb_csim_effect *e, int64_t now_ms)
{
    char why[600];
    if (b->ntrials == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        trial *t = realloc(b->trials, cap * sizeof *t);
        if (!t) {
            report_failed(core, core_now, e->job, "the conductor ran out of memory", "transient", 0);
            return;
        }
        b->trials = t;
        b->cap = cap;
    }
    char **argv = render_argv(b, e, why, sizeof why);
    if (!argv) {
        server_log(LOG_WARN, "job %s/%s not started: %s", e->handle_id, e->job_id, why);
        report_failed(core, core_now, e->job, why, "permanent", 0);
        return;
    }
    char *dir = job_dir(b, e);
    if (!dir) {
        snprintf(why, sizeof why, "cannot create the job's folder under %s: %s", b->work_dir, strerror(errno));
        report_failed(core, core_now, e->job, why, "transient", 0);
        free_strv(argv);
        return;
    }
    char *ids[2] = {NULL, NULL};
    char **env = make_env(b, e, ids);
    pid_t pid = 0;
    int rc = env ? spawn(dir, argv, env, &pid) : ENOMEM;
    free(env);
    free(ids[0]);
    free(ids[1]);
    if (rc != 0) {
        snprintf(why, sizeof why, "cannot run '%s': %s", argv[0], strerror(rc));
        server_log(LOG_WARN, "job %s/%s not started: %s", e->handle_id, e->job_id, why);
        report_failed(core, core_now, e->job, why, rc == ENOMEM || rc == EAGAIN ? "transient" : "permanent", 0);
        free_strv(argv);
        free(dir);
        return;
    }
    free_strv(argv);
    server_log(LOG_INFO, "job %s/%s started: pid %d in %s", e->handle_id, e->job_id, (int)pid, dir);
    b->trials[b->ntrials++] = (trial){.ref = e->job, .pid = pid, .started_ms = now_ms, .term_ms = -1, .dir = dir};
    sb_csim_job_running(core, core_now, e->job);
}

void local_apply(local_backend *b, sb_csim *core, int64_t core_now, const sb_csim_effect *e, int64_t now_ms)
{
    if (e->kind == SB_CSIM_START) {
        start(b, core, core_now, e, now_ms);
        return;
    }
    for (size_t i = 0; i < b->ntrials; i++) {
        trial *t = &b->trials[i];
        if (t->ref == e->job && t->term_ms < 0) {
            kill(-t->pid, SIGTERM);
            t->term_ms = now_ms;
        }
    }
}

/* --- ending --- */

void local_progress(local_backend *b, sb_csim *core)
{
    for (size_t i = 0; i < b->ntrials; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/stdout.txt", b->trials[i].dir);
        sb_val p = epoch_progress(path);
        if (p.kind == SB_MAP)
            sb_csim_job_progress(core, b->trials[i].ref, p);
        sb_val_free(p);
    }
}

/* The last line of stdout that is a JSON object, or null. */
static sb_val last_json_line(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/stdout.txt", dir);
    return file_last_json_object(path, 65536, false, NULL);
}

static sb_val read_metrics(const local_backend *b, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, b->metrics_file);
    size_t len = 0;
    char *text = file_tail(path, 1 << 20, &len);
    sb_val v = text ? sb_json_parse(text, len) : sb_null();
    free(text);
    if (v.kind == SB_MAP)
        return v;
    sb_val_free(v);
    return last_json_line(dir);
}

static void finish(local_backend *b, sb_csim *core, int64_t core_now, const trial *t, int status, int64_t now_ms)
{
    int64_t ran = now_ms - t->started_ms;
    server_log(LOG_INFO, "job pid %d ended after %lld ms: %s %d%s", (int)t->pid, (long long)ran,
               WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
               t->term_ms >= 0 ? " (asked to stop)" : "");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        sb_val m = read_metrics(b, t->dir);
        if (m.kind == SB_MAP) {
            sb_csim_result r = {.ok = true, .metrics = m, .run_ms = ran};
            sb_csim_job_finished(core, core_now, t->ref, &r);
            sb_val_free(m);
            return;
        }
        char why[300];
        snprintf(why, sizeof why, "exited 0 without metrics (no %s and no JSON object on stdout)", b->metrics_file);
        report_failed(core, core_now, t->ref, why, "permanent", ran);
        return;
    }
    char path[4200], why[600];
    snprintf(path, sizeof path, "%s/stderr.txt", t->dir);
    size_t len = 0;
    char *tail = file_tail(path, 4096, &len);
    const char *line = tail ? last_line(tail, len) : "";
    if (WIFEXITED(status))
        snprintf(why, sizeof why, "exit status %d: %s", WEXITSTATUS(status), *line ? line : "(stderr empty)");
    else
        snprintf(why, sizeof why, "killed by signal %d (%s): %s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                 *line ? line : "(stderr empty)");
    free(tail);
    report_failed(core, core_now, t->ref, why, error_classes_of(&b->errors, why), ran);
}

int64_t local_poll(local_backend *b, sb_csim *core, int64_t core_now, int64_t now_ms)
{
    int64_t next = -1;
    for (size_t i = 0; i < b->ntrials;) {
        trial *t = &b->trials[i];
        int status = 0;
        pid_t r = waitpid(t->pid, &status, WNOHANG);
        if (r == t->pid || (r < 0 && errno == ECHILD)) {
            kill(-t->pid, SIGKILL); /* whatever it left behind in its group */
            trial done = *t;
            b->trials[i] = b->trials[--b->ntrials];
            if (r < 0)
                status = 0x7f00; /* lost: reported as a failure below */
            finish(b, core, core_now, &done, status, now_ms);
            free(done.dir);
            continue;
        }
        if (t->term_ms >= 0 && !t->sigkilled) {
            int64_t left = t->term_ms + b->grace_ms - now_ms;
            if (left <= 0) {
                kill(-t->pid, SIGKILL);
                t->sigkilled = true;
            } else if (next < 0 || left < next) {
                next = left;
            }
        }
        i++;
    }
    return next;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void local_stop_all(local_backend *b)
{
    if (!b)
        return;
    int64_t t0 = mono_ms();
    for (size_t i = 0; i < b->ntrials; i++)
        kill(-b->trials[i].pid, SIGTERM);
    while (b->ntrials) {
        for (size_t i = 0; i < b->ntrials;) {
            if (waitpid(b->trials[i].pid, NULL, WNOHANG) == b->trials[i].pid) {
                kill(-b->trials[i].pid, SIGKILL);
                free(b->trials[i].dir);
                b->trials[i] = b->trials[--b->ntrials];
            } else {
                i++;
            }
        }
        if (!b->ntrials)
            break;
        if (mono_ms() - t0 > b->grace_ms)
            for (size_t i = 0; i < b->ntrials; i++)
                kill(-b->trials[i].pid, SIGKILL);
        struct timespec nap = {0, 20 * 1000000L};
        nanosleep(&nap, NULL);
    }
}
