/* The output folder of `sibyl pipeline run`: which one, made and checked
 * before the run starts, so that a run never does hours of work it cannot
 * save.
 *
 * Which folder: --output-dir as given (relative to the current folder);
 * else the workspace's outputs.dir, relative to the workspace file's folder
 * when it is relative (as any path in a config file); else ".".
 *
 * Under WASI a path is reachable only below a preopened folder. wasi-libc
 * reads "/abs/x" as "abs/x" below "." when no preopen covers /abs, which
 * would write beside the caller while the log names /abs/x: such paths are
 * refused with a message saying how to preopen them.
 *
 * Errors are printed as "PATH: error: why (OS reason)"; the caller exits 4.
 * Returned strings are the caller's (sb_free). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __wasi__
#include <wasi/libc-find-relpath.h>
#endif

#include "cli_outdir.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"

char *cli_outdir_resolve(const char *arg, const char *ws_dir, const char *ws_path)
{
    if (arg)
        return sb_strdup(arg);
    if (!ws_dir)
        return sb_strdup(".");
    const char *slash = ws_path ? strrchr(ws_path, '/') : NULL;
    if (ws_dir[0] == '/' || !slash)
        return sb_strdup(ws_dir);
    sb_buf b = SB_BUF_INIT;
    /* "/" itself when the workspace sits at the root */
    size_t n = slash == ws_path ? 1 : (size_t)(slash - ws_path);
    sb_buf_append(&b, ws_path, n);
    if (strcmp(ws_dir, ".") != 0 && strcmp(ws_dir, "./") != 0)
        sb_buf_printf(&b, "%s%s", n == 1 && ws_path[0] == '/' ? "" : "/", ws_dir);
    return sb_buf_take(&b);
}

/* Under WASI: an absolute path no preopen covers. The preopen "." has the
 * empty prefix, so matching only it means none does. */
static bool outside_sandbox(const char *path)
{
#ifdef __wasi__
    const char *prefix = NULL, *rel = NULL;
    return path[0] == '/' && !(__wasilibc_find_abspath(path, &prefix, &rel) >= 0 && prefix && prefix[0]);
#else
    (void)path;
    return false;
#endif
}

bool cli_path_reachable(const char *path)
{
#ifdef __wasi__
    if (!outside_sandbox(path))
        return true;
    fprintf(stderr,
            "%s: error: sibyl.wasm cannot reach this path: a WASI program sees only preopened folders "
            "(run it with SIBYL_WASI_DIRS=%s, which ./sibyl and scripts/run-wasi.mjs preopen, "
            "or wasmtime --dir=%s)\n",
            path, path, path);
    return false;
#else
    (void)path;
    return true;
#endif
}

/* "." and ".." name folders that exist; mkdir on them fails under WASI
 * (outside every preopen) and means nothing elsewhere. */
static bool skip_component(const char *start, size_t len)
{
    return len == 0 || (len == 1 && start[0] == '.') || (len == 2 && start[0] == '.' && start[1] == '.');
}

/* mkdir -p, creating only the components that are missing. Under WASI the
 * folders above a preopen (/tmp above the preopen /tmp/x) are outside the
 * sandbox: they exist, and a mkdir there would land below ".". */
static bool make_dirs(const char *dir)
{
    char *path = sb_strdup(dir);
    if (!path) {
        fprintf(stderr, "%s: error: out of memory\n", dir);
        return false;
    }
    bool ok = true;
    char *start = path;
    for (char *p = path;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (!skip_component(start, (size_t)(p - start)) && !outside_sandbox(path)) {
            struct stat st;
            if (stat(path, &st) == 0) {
                if (!S_ISDIR(st.st_mode)) {
                    fprintf(stderr, "%s: error: cannot create the output folder: %s exists and is not a folder (%s)\n",
                            dir, path, strerror(ENOTDIR));
                    ok = false;
                }
            } else if (errno != ENOENT || (mkdir(path, 0777) != 0 && errno != EEXIST)) {
                fprintf(stderr, "%s: error: cannot create the output folder: %s: %s\n", dir, path, strerror(errno));
                ok = false;
            }
        }
        *p = c;
        if (!ok || !c)
            break;
        start = p + 1;
    }
    sb_free(path);
    return ok;
}

bool cli_outdir_prepare(const char *dir, const char *probe)
{
    if (!cli_path_reachable(dir) || !make_dirs(dir))
        return false;
    if (!probe)
        return true;
    if (!cli_path_reachable(probe))
        return false;
    /* Creating the file is the only check that holds everywhere (read-only
     * mounts, ACLs, WASI rights, root ignoring the mode bits). */
    /* "x": never truncate a file of that name; one already there is left alone. */
    FILE *f = fopen(probe, "wbx");
    if (!f && errno == EEXIST)
        return true;
    if (!f || fclose(f) != 0) {
        fprintf(stderr, "%s: error: cannot create files in the output folder %s: %s\n", probe, dir, strerror(errno));
        return false;
    }
    remove(probe);
    return true;
}
