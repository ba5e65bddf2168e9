/* Reading a whole file in a test program: one helper for every test tool.
 * Returns the bytes (NUL-terminated, also when the file is empty; *len is the
 * length without the NUL), owned by the caller (sb_free), or NULL with errno
 * set when the file cannot be opened. */
#ifndef SB_TEST_FILE_H
#define SB_TEST_FILE_H
#include <stdio.h>

#include "util/sb_buf.h"

static inline char *sb_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    sb_buf b = SB_BUF_INIT;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sb_buf_append(&b, tmp, n);
    fclose(f);
    *len = b.len;
    sb_buf_putc(&b, '\0');
    return sb_buf_take(&b);
}

#endif
