/* Allocation for the whole core goes through one realloc-style hook, so a
 * test can fail the Nth allocation (see tests/unit/failalloc) and a host can
 * account memory. Contract of the hook (Lua's lua_Alloc shape):
 *   fn(ud, ptr, 0)        frees ptr (ptr may be NULL) and returns NULL;
 *   fn(ud, NULL, n)       allocates n bytes or returns NULL;
 *   fn(ud, ptr, n)        resizes, returning NULL (ptr untouched) on failure. */
#ifndef SB_ALLOC_H
#define SB_ALLOC_H
#include <stddef.h>

typedef void *(*sb_alloc_fn)(void *ud, void *ptr, size_t size);

/* Installs fn (NULL restores the libc default). Not thread-safe: call before
 * any other sb_ function. */
void sb_alloc_set(sb_alloc_fn fn, void *ud);

void *sb_malloc(size_t size);
void *sb_calloc(size_t n, size_t size);
void *sb_realloc(void *ptr, size_t size);
void sb_free(void *ptr);
char *sb_strndup(const char *s, size_t n);
char *sb_strdup(const char *s);

#endif
