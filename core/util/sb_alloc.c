#include "sb_alloc.h"

#include <stdlib.h>
#include <string.h>

static void *default_alloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

static sb_alloc_fn g_fn = default_alloc;
static void *g_ud;

void sb_alloc_set(sb_alloc_fn fn, void *ud)
{
    g_fn = fn ? fn : default_alloc;
    g_ud = fn ? ud : NULL;
}

void *sb_malloc(size_t size) { return g_fn(g_ud, NULL, size ? size : 1); }

void *sb_calloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    void *p = sb_malloc(n * size);
    if (p)
        memset(p, 0, n * size ? n * size : 1);
    return p;
}

void *sb_realloc(void *ptr, size_t size) { return g_fn(g_ud, ptr, size ? size : 1); }

void sb_free(void *ptr)
{
    if (ptr)
        g_fn(g_ud, ptr, 0);
}

char *sb_strndup(const char *s, size_t n)
{
    char *p = sb_malloc(n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sb_strdup(const char *s) { return sb_strndup(s, strlen(s)); }
