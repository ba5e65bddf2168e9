/* sbrk for sibyl.wasm: the heap grows the wasm linear memory geometrically.
 *
 * wasi-libc's malloc (dlmalloc) asks sbrk for one 64 KiB page-multiple at a
 * time, and wasi-libc's sbrk turns each request into a memory.grow. A long
 * sweep grows its heap to hundreds of MiB, so that is thousands of grows, and
 * each costs the runtime more than the allocation it serves (Node's V8 makes a
 * new ArrayBuffer for the memory on every grow, which its garbage collector
 * then has to clean up). This sbrk keeps its own break inside the memory and
 * grows the memory by at least an eighth of its size when the break needs
 * more, so a run makes a few dozen grows instead. Pages grown ahead and not
 * yet used are never touched: they cost address space, not resident memory.
 *
 * Contract (the one dlmalloc relies on): sbrk(0) returns the break; sbrk(n),
 * n > 0, returns the old break and moves it up by n, the new range contiguous
 * with the old one; (void *)-1 with errno ENOMEM when the memory cannot grow.
 * The heap never shrinks (wasm memory cannot). Defining sbrk here keeps the
 * linker from taking wasi-libc's. */
#if defined(__wasi__)
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#define PAGE 65536u
/* At least this much is grown at once (256 pages); and at least 1/8 of the
 * memory, so the number of grows is logarithmic in the heap's size. */
#define MIN_GROW_PAGES 256u

static uintptr_t brk_at; /* 0 until the first call: then the memory's end */

static uintptr_t mem_end(void) { return (uintptr_t)__builtin_wasm_memory_size(0) * PAGE; }

void *sbrk(intptr_t increment)
{
    if (!brk_at)
        brk_at = mem_end();
    if (increment < 0) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uintptr_t old = brk_at, want = old + (uintptr_t)increment;
    if (want < old) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uintptr_t end = mem_end();
    if (want > end) {
        uintptr_t need = (want - end + PAGE - 1) / PAGE;
        uintptr_t ahead = end / PAGE / 8;
        if (ahead < MIN_GROW_PAGES)
            ahead = MIN_GROW_PAGES;
        /* Grow ahead when the runtime allows it; else exactly what is needed. */
        if (__builtin_wasm_memory_grow(0, need + ahead) == SIZE_MAX &&
            __builtin_wasm_memory_grow(0, need) == SIZE_MAX) {
            errno = ENOMEM;
            return (void *)-1;
        }
    }
    brk_at = want;
    return (void *)old;
}
#else
/* Native builds use the system allocator; nothing to define. */
typedef int sb_wasi_heap_unused;
#endif
