/* The journal file (cli_journal.h). */
#include "cli_journal.h"

#include <errno.h>
#include <fcntl.h>
#ifndef __wasi__
#include <signal.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/sb_alloc.h"

#define BATCH_BYTES 4096

static void init(cli_journal *j, const char *path, bool sync)
{
    memset(j, 0, sizeof *j);
    j->fd = -1;
    j->sync = sync;
    const char *k = getenv("SIBYL_JOURNAL_KILL_AT");
    j->kill_at = k ? strtol(k, NULL, 10) : 0;
    j->kill_after_cancel = k && strncmp(k, "cancel+", 7) == 0 ? strtol(k + 7, NULL, 10) + 1 : 0;
    j->batch = !sync && !k;
    j->path = sb_strdup(path);
}

static void fail(cli_journal *j, const char *what)
{
    if (!j->failed)
        fprintf(stderr, "%s: warning: cannot %s the journal (%s): the run goes on, but cannot be resumed\n",
                j->path ? j->path : CLI_JOURNAL_FILE, what, strerror(errno));
    j->failed = true;
}

static void write_out(cli_journal *j)
{
    if (j->fd < 0 || j->failed || j->buf.len == 0)
        return;
    const char *p = j->buf.data;
    size_t n = j->buf.len;
    while (n) {
        ssize_t w = write(j->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fail(j, "write");
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    sb_buf_reset(&j->buf);
    if (j->sync && !j->failed && fsync(j->fd) != 0 && errno != EINVAL && errno != ENOTSUP)
        fail(j, "sync");
    if (j->kill_at > 0 && ++j->writes == j->kill_at) {
#ifdef __wasi__
        _Exit(137); /* no signals: exit without flushing stdio, as a kill would */
#else
        kill(getpid(), SIGKILL);
#endif
    }
}

bool cli_journal_create(cli_journal *j, const char *path, const sb_jfact *header, bool sync)
{
    init(j, path, sync);
    j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (j->fd < 0) {
        fprintf(stderr, "%s: error: cannot create the journal: %s\n", path, strerror(errno));
        return false;
    }
    sb_journal_begin(&j->buf);
    sb_journal_put(&j->buf, header);
    write_out(j);
    if (j->sync) { /* the file's name too: fsync of the folder is not portable, a failure is harmless */
        fsync(j->fd);
    }
    return !j->failed;
}

bool cli_journal_reopen(cli_journal *j, const char *path, size_t good_len, bool sync)
{
    init(j, path, sync);
    j->fd = open(path, O_WRONLY);
    if (j->fd < 0 || ftruncate(j->fd, (off_t)good_len) != 0 || lseek(j->fd, 0, SEEK_END) < 0) {
        fprintf(stderr, "%s: error: cannot reopen the journal: %s\n", path, strerror(errno));
        return false;
    }
    return true;
}

void cli_journal_put(cli_journal *j, const sb_jfact *f)
{
    if (j->fd < 0 || j->failed)
        return;
    sb_journal_put(&j->buf, f);
    if (f->type == SB_J_CANCEL && j->kill_after_cancel > 0)
        j->kill_at = j->writes + j->kill_after_cancel;
    if (sb_buf_failed(&j->buf)) {
        errno = ENOMEM;
        fail(j, "encode a record for");
        return;
    }
    if (!j->batch || j->buf.len >= BATCH_BYTES)
        write_out(j);
}

void cli_journal_flush(cli_journal *j)
{
    bool sync = j->sync;
    j->sync = true;
    write_out(j);
    if (j->fd >= 0 && !j->failed && !sync)
        fsync(j->fd);
    j->sync = sync;
}

void cli_journal_close(cli_journal *j)
{
    if (j->fd >= 0) {
        cli_journal_flush(j);
        close(j->fd);
    }
    j->fd = -1;
    sb_buf_free(&j->buf);
    sb_free(j->path);
    j->path = NULL;
}

bool cli_stream_keep_lines(const char *path, long *lines)
{
    *lines = 0;
    size_t len;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return true; /* the crash came before the file was made: no line yet */
        fprintf(stderr, "%s: error: cannot read the stream file: %s\n", path, strerror(errno));
        return false;
    }
    fclose(f);
    char *text = cli_read_file(path, &len);
    if (!text)
        return false;
    size_t keep = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') {
            ++*lines;
            keep = i + 1;
        }
    sb_free(text);
    if (keep < len && truncate(path, (off_t)keep) != 0) {
        fprintf(stderr, "%s: error: cannot cut the stream file's last, incomplete line: %s\n", path, strerror(errno));
        return false;
    }
    return true;
}
