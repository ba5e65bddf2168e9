/* memcpy, memmove and memset for sibyl.wasm as the bulk-memory instructions
 * (memory.copy, memory.fill), in place of wasi-libc's word loops (1.6 KB of
 * code). The compiler already emits the instructions for the core's own
 * copies (cmake/SizeProfile.cmake, -mbulk-memory); what calls these is libc
 * itself (stdio, qsort, strings). memory.copy allows overlap, so memcpy and
 * memmove are one. The builtins below become the instructions, not calls. */
#if defined(__wasi__) && defined(__wasm_bulk_memory__)
#include <string.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    __builtin_memmove(dst, src, n);
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    __builtin_memmove(dst, src, n);
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    __builtin_memset(dst, c, n);
    return dst;
}
#endif
