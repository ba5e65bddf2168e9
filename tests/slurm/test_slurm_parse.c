/* The Slurm driver's pure half (servers/slurm_parse.h): squeue and sbatch
 * output, the job's own files, metrics, the batch script (run by /bin/sh to
 * show that hyperparameter text is never interpreted), --time. Under failing
 * allocations too. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../servers/slurm_parse.h"
#include "sb_failalloc.h"
#include "sb_test.h"

#define S(lit) lit, sizeof lit - 1

static void test_states(void)
{
    CHECK_INT(slurm_state_phase(S("PENDING")), SLURM_QUEUED);
    CHECK_INT(slurm_state_phase(S("RUNNING")), SLURM_RUNNING);
    CHECK_INT(slurm_state_phase(S("COMPLETING")), SLURM_RUNNING);
    CHECK_INT(slurm_state_phase(S("COMPLETED")), SLURM_COMPLETED);
    const char *failed[] = {"FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED"};
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(slurm_state_phase(failed[i], strlen(failed[i])), SLURM_FAILED);
    CHECK_INT(slurm_state_phase(S("CANCELLED")), SLURM_CANCELLED);
    CHECK_INT(slurm_state_phase(S("CANCELLED by 0")), SLURM_CANCELLED);
    CHECK_INT(slurm_state_phase(S("CANCELLED+")), SLURM_CANCELLED);
    CHECK_INT(slurm_state_phase(S("CANCEL")), SLURM_UNKNOWN);
    CHECK_INT(slurm_state_phase(S("")), SLURM_UNKNOWN);
    CHECK_INT(slurm_state_phase(S("pending")), SLURM_UNKNOWN);
}

static void test_sbatch(void)
{
    char id[24] = "";
    CHECK(slurm_parse_sbatch(S("42\n"), id));
    CHECK_STR(id, "42");
    CHECK(slurm_parse_sbatch(S("1234;ci\n"), id));
    CHECK_STR(id, "1234");
    CHECK(slurm_parse_sbatch(S("7"), id));
    CHECK_STR(id, "7");
    CHECK(!slurm_parse_sbatch(S(""), id));
    CHECK(!slurm_parse_sbatch(S("\n"), id));
    CHECK(!slurm_parse_sbatch(S("Submitted batch job 5\n"), id));
    CHECK(!slurm_parse_sbatch(S("5\n6\n"), id));
    CHECK(!slurm_parse_sbatch(S("12345678901234567890\n"), id));
    CHECK(!slurm_parse_sbatch(S("5x\n"), id));
}

static void test_squeue(void)
{
    slurm_row r[4];
    char err[128] = "";
    /* as squeue prints them here: running, exit 1 (256), a signal, cancelled, pending */
    const char out[] = "11|RUNNING|None|0|\n"
                       "12|FAILED|NonZeroExitCode|256|\n"
                       "\n"
                       "13|CANCELLED|None|15|\n"
                       "14_2|PENDING|JobArrayTaskLimit|N/A|   \n";
    long n = slurm_parse_squeue(S(out), r, 4, err, sizeof err);
    CHECK_INT(n, 4);
    CHECK_STR(r[0].id, "11");
    CHECK_STR(r[0].state, "RUNNING");
    CHECK_INT(r[0].exit_code, 0);
    CHECK_STR(r[1].reason, "NonZeroExitCode");
    CHECK_INT(r[1].exit_code, 1);
    CHECK_INT(r[1].signal, 0);
    CHECK_INT(r[2].exit_code, -1);
    CHECK_INT(r[2].signal, 15);
    CHECK_STR(r[3].id, "14_2");
    CHECK_INT(r[3].exit_code, -1);
    CHECK_INT(slurm_parse_squeue(S(""), r, 4, err, sizeof err), 0);

    CHECK_INT(slurm_parse_squeue(S("11|RUNNING|None|\n"), r, 4, err, sizeof err), -1);
    CHECK_STR(err, "squeue output line 1: expected 4 fields separated by '|'");
    CHECK_INT(slurm_parse_squeue(S("1|RUNNING|None|0|\nx|RUNNING|None|0|\n"), r, 4, err, sizeof err), -1);
    CHECK_STR(err, "squeue output line 2: bad job id");
    CHECK_INT(slurm_parse_squeue(S("1|RUNNING|None|-1|\n"), r, 4, err, sizeof err), -1);
    CHECK_STR(err, "squeue output line 1: exit_code is not a wait status");
    CHECK_INT(slurm_parse_squeue(S("1||None|0|\n"), r, 4, err, sizeof err), -1);
    CHECK_STR(err, "squeue output line 1: bad state");
    CHECK_INT(slurm_parse_squeue(S("1|A|B|0|x\n"), r, 4, err, sizeof err), -1);
    CHECK_STR(err, "squeue output line 1: text after the 4th field");
    CHECK_INT(slurm_parse_squeue(S("1|A|B|0|\n2|A|B|0|\n"), r, 1, err, sizeof err), -1);
    CHECK_STR(err, "squeue output line 2: more rows than jobs asked for");
}

static void test_sacct(void)
{
    slurm_row r[3];
    char err[128] = "";
    CHECK_INT(slurm_parse_sacct(S("41|TIMEOUT|0:15\n42|FAILED|1:0\n43|COMPLETED|0:0\n"), r, 3, err, sizeof err), 3);
    CHECK_STR(r[0].state, "TIMEOUT");
    CHECK_INT(r[0].signal, 15);
    CHECK_INT(r[0].exit_code, -1);
    CHECK_INT(r[1].exit_code, 1);
    CHECK_STR(r[2].id, "43");
    CHECK_INT(slurm_parse_sacct(S(""), r, 3, err, sizeof err), 0);
    CHECK_INT(slurm_parse_sacct(S("41|TIMEOUT|0\n"), r, 3, err, sizeof err), -1);
    CHECK_STR(err, "sacct output line 1: bad ExitCode");
    CHECK_INT(slurm_parse_sacct(S("41|TIMEOUT|0:15|x\n"), r, 3, err, sizeof err), -1);
    CHECK_STR(err, "sacct output line 1: expected 3 fields separated by '|'");
    CHECK_INT(slurm_parse_sacct(S("41|A|0:0\n42|A|0:0\n"), r, 1, err, sizeof err), -1);

    CHECK(!slurm_config_has_accounting(S("MinJobAge = 3600 sec\nAccountingStorageType   = accounting_storage/none\n")));
    CHECK(slurm_config_has_accounting(S("AccountingStorageType   = accounting_storage/slurmdbd\n")));
    CHECK(!slurm_config_has_accounting(S("AccountingStorageTypeX = y\n")));
    CHECK(!slurm_config_has_accounting(S("")));
}

static void test_files(void)
{
    int rc = -1;
    int64_t ms = 0;
    CHECK(slurm_parse_result(S("1 1796527926123\n"), &rc, &ms));
    CHECK_INT(rc, 1);
    CHECK_INT(ms, 1796527926123LL);
    CHECK(!slurm_parse_result(S("1 1796527926123"), &rc, &ms)); /* not complete */
    CHECK(!slurm_parse_result(S("256 5\n"), &rc, &ms));
    CHECK(!slurm_parse_result(S("x 5\n"), &rc, &ms));
    CHECK(!slurm_parse_result(S("\n"), &rc, &ms));
    CHECK(slurm_parse_stamp(S("17\n"), &ms));
    CHECK_INT(ms, 17);
    CHECK(!slurm_parse_stamp(S("17"), &ms));
    CHECK(!slurm_parse_stamp(S("99999999999999999999\n"), &ms));
}

static void test_metrics(void)
{
    const char out[] = "epoch 1 loss 0.9\n"
                       "{\"val_acc\": 81.5, \"train_loss\": 0.31}\n"
                       "{\"val_acc\": 84.2, \"train_loss\": 0.23}\n"
                       "{\"note\": \"not metrics\"}\n"
                       "done\n\n";
    sb_val m = slurm_metrics_from_output(S(out));
    CHECK(m.kind == SB_MAP);
    double d = 0;
    CHECK(m.kind == SB_MAP && sb_val_as_double(*sb_map_get_str(m, "val_acc"), &d) && d == 84.2);
    sb_val_free(m);
    CHECK(slurm_metrics_from_output(S("no json here\n{broken\n")).kind == SB_NULL);
    CHECK(slurm_metrics_from_output(S("")).kind == SB_NULL);
    CHECK(slurm_metrics_from_output(S("{}\n")).kind == SB_NULL);
    m = slurm_metrics_from_output(S("{\"a\":1}"));
    CHECK(m.kind == SB_MAP);
    sb_val_free(m);
}

static void test_tail(void)
{
    sb_buf b = SB_BUF_INIT;
    slurm_tail(S("a\nb\nc\nd\n\n"), 2, 100, &b);
    CHECK_STR(sb_buf_str(&b), "c\nd");
    sb_buf_reset(&b);
    slurm_tail(S("one line"), 5, 100, &b);
    CHECK_STR(sb_buf_str(&b), "one line");
    sb_buf_reset(&b);
    slurm_tail(S("abcdef"), 5, 3, &b);
    CHECK_STR(sb_buf_str(&b), "def");
    sb_buf_reset(&b);
    slurm_tail(S("x\xc3\xa9y"), 5, 2, &b); /* the cut would split é */
    CHECK_STR(sb_buf_str(&b), "y");
    sb_buf_free(&b);
}

static void test_quote(void)
{
    sb_buf b = SB_BUF_INIT;
    CHECK(slurm_sh_quote(S("it's $HOME"), &b));
    CHECK_STR(sb_buf_str(&b), "'it'\\''s $HOME'");
    CHECK(!slurm_sh_quote("a\0b", 3, &b));
    sb_buf_free(&b);
    CHECK_INT(slurm_time_minutes(0), 0);
    CHECK_INT(slurm_time_minutes(1), 1);
    CHECK_INT(slurm_time_minutes(119999), 1);
    CHECK_INT(slurm_time_minutes(120000), 2);
}

/* The generated script, run by /bin/sh: the command sees each hostile word
 * exactly as given, and the result file records its exit status. */
static void test_script_runs(void)
{
    char dir[] = "/tmp/sibyl-slurm-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    const char *env[] = {"SIBYL_NOTE=it's $HOME `x`"};
    const char *argv[] = {
        "sh",   "-c",  "printf '%s\\n' \"$@\" \"$SIBYL_NOTE\"; exit 3", "x", "$(touch pwned)", "a b;c", "'q'\"",
        "`id`", "\\n*"};
    sb_buf b = SB_BUF_INIT;
    CHECK(slurm_batch_script(dir, argv, sizeof argv / sizeof *argv, env, 1, "job_001\nrm -rf /", &b));
    CHECK(strstr(sb_buf_str(&b), "# sibyl-conductor job job_001?rm -rf /\n") != NULL);
    char path[256], cmd[512];
    snprintf(path, sizeof path, "%s/" SLURM_FILE_SCRIPT, dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(sb_buf_str(&b), f);
        fclose(f);
    }
    sb_buf_free(&b);
    snprintf(cmd, sizeof cmd, "cd / && /bin/sh %s", path);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    char buf[512];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/" SLURM_FILE_STDOUT, dir);
    if ((f = fopen(path, "r"))) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[n] = 0;
    CHECK_STR(buf, "$(touch pwned)\na b;c\n'q'\"\n`id`\n\\n*\nit's $HOME `x`\n");
    snprintf(path, sizeof path, "%s/pwned", dir);
    CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof path, "%s/" SLURM_FILE_RESULT, dir);
    n = 0;
    if ((f = fopen(path, "r"))) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    int rc = -1;
    int64_t end = 0;
    CHECK(slurm_parse_result(buf, n, &rc, &end));
    CHECK_INT(rc, 3);
    CHECK(end > 1700000000000LL);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);

    const char *bad[] = {"ok", NULL};
    b = (sb_buf)SB_BUF_INIT;
    CHECK(!slurm_batch_script("/tmp", bad, 0, NULL, 0, "j", &b));
    const char *badenv[] = {"1X=2"}, *noeq[] = {"X"};
    CHECK(!slurm_batch_script("/tmp", bad, 1, badenv, 1, "j", &b));
    CHECK(!slurm_batch_script("/tmp", bad, 1, noeq, 1, "j", &b));
    CHECK(b.len == 0);
    sb_buf_free(&b);
}

static void oom_run(bool check)
{
    sb_val m = slurm_metrics_from_output(S("x\n{\"val_acc\": 1, \"train_loss\": 2}\n"));
    if (check)
        CHECK(m.kind == SB_MAP);
    sb_val_free(m);
    const char *argv[] = {"python3", "train.py", "--lr=0.1"};
    sb_buf b = SB_BUF_INIT;
    bool ok = slurm_batch_script("/tmp/x", argv, 3, NULL, 0, "job_1", &b);
    if (check)
        CHECK(ok && strstr(sb_buf_str(&b), "'python3' 'train.py' '--lr=0.1' </dev/null") != NULL);
    sb_buf_free(&b);
}

static void test_oom(void)
{
    CHECK(sb_failalloc_until_enough(oom_run) > 0);
}

SB_TEST_MAIN(TEST(test_states) TEST(test_sbatch) TEST(test_squeue) TEST(test_sacct) TEST(test_files) TEST(test_metrics)
                 TEST(test_tail) TEST(test_quote) TEST(test_script_runs) TEST(test_oom))
