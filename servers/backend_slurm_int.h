/* The slurm backend's parts (backend_slurm.h): the table of jobs in Slurm
 * and what its three files share. backend_slurm.c sets it up and drives it
 * (sync), backend_slurm_submit.c starts and cancels jobs, and
 * backend_slurm_status.c reads their state (one squeue per status call) and
 * reports their ends to the core. Not thread-safe, as the backend. */
#ifndef BACKEND_SLURM_INT_H
#define BACKEND_SLURM_INT_H
#include "backend_slurm.h"
#include "error_class.h"

#include "cel/sb_cel.h"
#include "cel/sb_template.h"
#include "util/sb_buf.h"

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
    error_classes errors; /* the workspace's errors: rules */
    sjob *jobs;
    size_t njobs, cap;
};

/* Appends the file dir/name to out (at most MAX_FILE bytes); false when it
 * cannot be read (or memory ran out). */
bool slurm_backend__read_file(const char *dir, const char *name, sb_buf *out);
/* mkdir -p */
bool slurm_backend__mkdirs(const char *path);

/* Reports j failed (type NULL: classified) and drops it from the table. */
void slurm_backend__fail(slurm_backend *b, sb_csim *core, int64_t now_ms, sjob *j, const char *error, const char *type,
                         int64_t run_ms);
/* The one squeue for every job in flight (and sacct where accounting exists
 * for jobs that left it without a result), reporting starts and ends. */
void slurm_backend__query(slurm_backend *b, sb_csim *core, int64_t now_ms, int64_t host_ms);

/* START: the job's folder, script and sbatch; a job that cannot be
 * submitted is reported failed at once. */
void slurm_backend__start(slurm_backend *b, sb_csim *core, int64_t now_ms, const sb_csim_effect *e);
/* KILL: scancel (its end comes through the next query). */
void slurm_backend__kill(slurm_backend *b, const sb_csim_effect *e);

#endif
