/* Running the Slurm command-line tools (slurm_cli.h). */
#define _GNU_SOURCE
#include "slurm_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server_common.h"

#define MAX_CAPTURE (4u << 20)

static void log_command(const char *const *argv)
{
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            sb_buf_putc(&b, ' ');
        sb_buf_puts(&b, argv[i]);
    }
    server_log(LOG_DEBUG, "slurm: %s", sb_buf_failed(&b) ? argv[0] : sb_buf_str(&b));
    sb_buf_free(&b);
}

static void drain(int fd, sb_buf *b, bool *open)
{
    char chunk[8192];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
        if (b && b->len + (size_t)n <= MAX_CAPTURE)
            sb_buf_append(b, chunk, (size_t)n);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        *open = false;
    }
}

int slurm_run(const char *const *argv, int timeout_s, sb_buf *out, sb_buf *err)
{
    log_command(argv);
    size_t n = 0;
    while (argv[n])
        n++;
    char secs[16];
    snprintf(secs, sizeof secs, "%d", timeout_s > 0 ? timeout_s : 30);
    const char **full = calloc(n + 5, sizeof *full);
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (!full || pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
        int e = errno;
        free(full);
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0)
                close(po[i]);
            if (pe[i] >= 0)
                close(pe[i]);
        }
        if (err)
            sb_buf_printf(err, "cannot run %s: %s", argv[0], strerror(e));
        errno = e;
        return -1;
    }
    full[0] = "timeout";
    full[1] = "-k";
    full[2] = "2";
    full[3] = secs;
    memcpy(full + 4, argv, n * sizeof *argv);
    pid_t pid = fork();
    if (pid == 0) {
        /* The server blocks SIGTERM, SIGINT and SIGCHLD (for sigwait) and
         * ignores SIGPIPE; a blocked mask survives exec, and timeout could
         * then not stop the command with SIGTERM. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        execvp("timeout", (char *const *)full);
        _exit(127);
    }
    int e = errno;
    free(full);
    close(po[1]);
    close(pe[1]);
    if (pid < 0) {
        close(po[0]);
        close(pe[0]);
        if (err)
            sb_buf_printf(err, "cannot run %s: %s", argv[0], strerror(e));
        errno = e;
        return -1;
    }
    bool oo = true, eo = true;
    while (oo || eo) {
        struct pollfd p[2] = {{oo ? po[0] : -1, POLLIN, 0}, {eo ? pe[0] : -1, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (oo && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            drain(po[0], out, &oo);
        if (eo && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            drain(pe[0], err, &eo);
    }
    close(po[0]);
    close(pe[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
