/* sibyl: the terminal front end. Dispatches to the command table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util/sb_alloc.h"

static const cli_command commands[] = {
#define CLI_COMMAND(id, name, summary) {name, summary, cli_cmd_##id},
#include "cli_commands.def"
#undef CLI_COMMAND
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sibyl COMMAND [ARGS...]\n\n"
               "sibyl runs ML pipelines described in YAML: plans a sweep inside a budget,\n"
               "launches the trials, polls them, retries transient failures, ranks results.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\noptions:\n"
               "  -h, --help       this help (also after a command: sibyl COMMAND --help)\n"
               "  --version        print the version\n\n"
               "exit codes: 0 ok, 1 invalid input, 2 usage error, 3 run failed, 4 internal error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("sibyl %s\n", SIBYL_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cli_usage_error("unknown command '%s' (see sibyl --help)", argv[1]);
    return CLI_USAGE;
}

/* Installed data: PREFIX/bin/sibyl finds PREFIX/share/sibyl (the examples)
 * from its own location, never from the source tree. SIBYL_DATA_DIR
 * overrides it; the installed launcher of sibyl.wasm sets it, as WASI has no
 * /proc/self/exe. NULL when there is none. The caller frees the result. */
static char *data_dir(void)
{
    const char *env = getenv("SIBYL_DATA_DIR");
    if (env && *env)
        return sb_strdup(env);
#ifndef __wasi__
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0'; /* PREFIX/bin */
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s/../share/sibyl", exe);
    struct stat st;
    if (sb_buf_failed(&b) || stat(sb_buf_str(&b), &st) != 0 || !S_ISDIR(st.st_mode)) {
        sb_buf_free(&b);
        return NULL;
    }
    return sb_buf_take(&b);
#else
    return NULL;
#endif
}

/* The scenario's commands name examples/... relative to a checkout. When such
 * a path is missing from the current folder, the installed copy is read
 * instead (DATA_DIR/examples/...); messages still name the path as typed.
 * NULL: no installed copy. The caller frees the result. */
static char *installed_example(const char *path)
{
    struct stat st;
    if (strncmp(path, "examples/", 9) != 0 || stat(path, &st) == 0 || errno != ENOENT)
        return NULL;
    char *dir = data_dir();
    if (!dir)
        return NULL;
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s/%s", dir, path);
    sb_free(dir);
    if (sb_buf_failed(&b) || stat(sb_buf_str(&b), &st) != 0) {
        sb_buf_free(&b);
        return NULL;
    }
    return sb_buf_take(&b);
}

/* Reads open_path; messages name path, the name the user gave. */
static char *read_file(const char *open_path, const char *path, size_t *len)
{
    /* A folder opens and then fails to read, with a reason that differs
     * between platforms (WASI: "Capabilities insufficient"). */
    struct stat st;
    if (stat(open_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(EISDIR));
        return NULL;
    }
    FILE *f = fopen(open_path, "rb");
    if (!f) {
        fprintf(stderr, "%s: error: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    sb_buf b = SB_BUF_INIT;
    char tmp[8192];
    size_t n;
    errno = 0;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sb_buf_append(&b, tmp, n);
    int err = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (err || sb_buf_failed(&b)) {
        if (err)
            fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(err));
        else
            fprintf(stderr, "%s: error: out of memory\n", path);
        sb_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return sb_buf_take(&b);
}

char *cli_read_file(const char *path, size_t *len)
{
    char *installed = installed_example(path);
    char *text = read_file(installed ? installed : path, path, len);
    sb_free(installed);
    return text;
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sibyl: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_USAGE;
}

void cli_print_diags(sb_diags *d)
{
    sb_diags_sort(d);
    sb_buf b = SB_BUF_INIT;
    sb_diags_write(d, &b);
    fputs(sb_buf_str(&b), stderr);
    sb_buf_free(&b);
}

bool cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }
