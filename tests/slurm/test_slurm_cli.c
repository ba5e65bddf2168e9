/* Running commands for the Slurm driver (servers/slurm_cli.h): exit status
 * and both streams captured; a command that does not end is stopped by
 * timeout with SIGTERM (status 124) even though the caller, like the
 * server, blocks SIGTERM and ignores SIGPIPE; a missing command is 127. */
#include <signal.h>
#include <string.h>

#include "../../servers/slurm_cli.h"
#include "sb_test.h"

static void test_capture(void)
{
    sb_buf out = SB_BUF_INIT, err = SB_BUF_INIT;
    const char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    CHECK_INT(slurm_run(argv, 10, &out, &err), 3);
    CHECK_STR(sb_buf_str(&out), "out\n");
    CHECK_STR(sb_buf_str(&err), "err\n");
    sb_buf_free(&out);
    sb_buf_free(&err);
    const char *none[] = {"sibyl-no-such-command", NULL};
    CHECK_INT(slurm_run(none, 10, NULL, NULL), 127);
}

static void test_timeout_with_blocked_signals(void)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    void (*pipe_was)(int) = signal(SIGPIPE, SIG_IGN);
    const char *argv[] = {"sleep", "30", NULL};
    CHECK_INT(slurm_run(argv, 1, NULL, NULL), 124); /* 137 if SIGTERM stayed blocked: SIGKILL after -k */
    signal(SIGPIPE, pipe_was);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

SB_TEST_MAIN(TEST(test_capture) TEST(test_timeout_with_blocked_signals))
