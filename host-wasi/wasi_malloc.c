/* malloc for sibyl.wasm: size classes on 64 KiB pages, in place of
 * wasi-libc's dlmalloc (which costs 12 KB of code, rounds every block to 16
 * bytes plus a 4-byte tag, and spends a tenth of a long sweep's time).
 *
 * Layout. The heap is the wasm memory above the break sbrk (wasi_heap.c)
 * started from; it is handed out in 64 KiB pages, always page-aligned.
 *   - Small blocks (at most SMALL_MAX bytes) come in NCLASS size classes:
 *     multiples of 8 up to 256, then four classes per doubling up to 32 KiB.
 *     A page holds blocks of one class only, with no header: page_class[]
 *     (one byte per page of the 4 GiB address space) says which. Each page
 *     keeps its own free list and count of live blocks (side arrays indexed
 *     by page number); a class allocates from its current page, then from
 *     its other pages with free blocks (a doubly linked list), then from a
 *     new page. A page whose last block is freed goes back to the page pool,
 *     so memory freed by one class (a parsed message) serves any other.
 *   - Large blocks are runs of whole pages with an 8-byte header (the run's
 *     page count) before the payload. Freed runs sit in an address-ordered
 *     list, merged with free neighbours, and are reused first fit. A run at
 *     the top of the heap grows in place on realloc, so a buffer that keeps
 *     doubling (a JSON text being written) is not copied every time.
 * Blocks are 8-byte aligned (the strictest alignment the core's types need;
 * wasm itself does not trap on unaligned access). Single-threaded, as the
 * whole program. Pages are never given back to the runtime: wasm memory
 * cannot shrink. */
#if defined(__wasi__)
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define PAGE_SHIFT 16
#define PAGE ((size_t)1 << PAGE_SHIFT)
#define NPAGES ((size_t)1 << (32 - PAGE_SHIFT)) /* pages of a 4 GiB memory */
#define SMALL_MAX 32768u
#define NCLASS 60
#define LARGE_HEAD 0xff /* page_class of a large run's first page */
#define LARGE_HDR 8u

typedef struct free_block {
    struct free_block *next;
} free_block;

typedef struct free_run {
    struct free_run *next; /* address order */
    size_t npages;
} free_run;

static uint8_t page_class[NPAGES]; /* 0 unused or run interior, c + 1, or LARGE_HEAD */
/* Per small-class page (index 0 is never a heap page: data and stack lie
 * below the heap, so 0 means none): */
static free_block *page_free[NPAGES]; /* its freed blocks */
static uint16_t page_live[NPAGES];    /* blocks handed out and not freed */
static uint16_t page_next[NPAGES], page_prev[NPAGES]; /* in its class's list of pages with free blocks */
static bool page_listed[NPAGES];
static uint16_t cur[NCLASS];   /* the page a class allocates from, or 0 */
static uint16_t avail[NCLASS]; /* head of the class's list of other pages with free blocks */
static char *bump[NCLASS], *bump_end[NCLASS]; /* the part of cur never handed out yet */
static free_run *runs;

/* Class of a small request n (1 .. SMALL_MAX). */
static unsigned class_of(size_t n)
{
    if (n <= 256)
        return n ? (unsigned)((n + 7) / 8 - 1) : 0;
    unsigned b = 31u - (unsigned)__builtin_clz((unsigned)(n - 1)); /* 8 .. 14 */
    size_t base = (size_t)1 << b;
    return 32 + (b - 8) * 4 + (unsigned)((n - 1 - base) / (base / 4));
}

static size_t class_size(unsigned c)
{
    if (c < 32)
        return (c + 1) * 8;
    unsigned k = c - 32, b = 8 + k / 4;
    return ((size_t)1 << b) + (k % 4 + 1) * (((size_t)1 << b) / 4);
}

static char *heap_top(void) { return sbrk(0); }

/* n pages, page-aligned, from the free runs (first fit) or from sbrk. */
static char *pages_get(size_t n)
{
    for (free_run **pp = &runs; *pp; pp = &(*pp)->next) {
        free_run *r = *pp;
        if (r->npages < n)
            continue;
        if (r->npages == n) {
            *pp = r->next;
        } else {
            free_run *rest = (free_run *)((char *)r + n * PAGE);
            rest->next = r->next;
            rest->npages = r->npages - n;
            *pp = rest;
        }
        return (char *)r;
    }
    if (n > SIZE_MAX / PAGE)
        return NULL;
    char *p = sbrk((intptr_t)(n * PAGE));
    return p == (char *)-1 ? NULL : p;
}

/* Gives back n pages at p, merged with free neighbours. */
static void pages_put(char *p, size_t n)
{
    free_run **pp = &runs, *prev = NULL;
    while (*pp && (char *)*pp < p) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    free_run *r = (free_run *)p;
    r->npages = n;
    r->next = *pp;
    if (r->next && p + n * PAGE == (char *)r->next) {
        r->npages += r->next->npages;
        r->next = r->next->next;
    }
    if (prev && (char *)prev + prev->npages * PAGE == p) {
        prev->npages += r->npages;
        prev->next = r->next;
    } else {
        *pp = r;
    }
}

static void unlist(unsigned c, uint16_t pg)
{
    if (page_prev[pg])
        page_next[page_prev[pg]] = page_next[pg];
    else
        avail[c] = page_next[pg];
    if (page_next[pg])
        page_prev[page_next[pg]] = page_prev[pg];
    page_next[pg] = page_prev[pg] = 0;
    page_listed[pg] = false;
}

static void list(unsigned c, uint16_t pg)
{
    page_prev[pg] = 0;
    page_next[pg] = avail[c];
    if (avail[c])
        page_prev[avail[c]] = pg;
    avail[c] = pg;
    page_listed[pg] = true;
}

static void *small_alloc(unsigned c)
{
    uint16_t pg = cur[c];
    size_t size = class_size(c);
    if (!pg || (!page_free[pg] && bump_end[c] - bump[c] < (ptrdiff_t)size)) {
        /* The current page is full: another of the class's, or a new one. */
        if (avail[c]) {
            pg = avail[c];
            unlist(c, pg);
            bump[c] = bump_end[c] = NULL;
        } else {
            char *p = pages_get(1);
            if (!p)
                return NULL;
            pg = (uint16_t)((uintptr_t)p >> PAGE_SHIFT);
            page_class[pg] = (uint8_t)(c + 1);
            page_free[pg] = NULL;
            page_live[pg] = 0;
            bump[c] = p;
            bump_end[c] = p + PAGE;
        }
        cur[c] = pg;
    }
    page_live[pg]++;
    free_block *b = page_free[pg];
    if (b) {
        page_free[pg] = b->next;
        return b;
    }
    void *p = bump[c];
    bump[c] += size;
    return p;
}

static void *large_alloc(size_t n)
{
    if (n > SIZE_MAX - LARGE_HDR - PAGE)
        return NULL;
    size_t np = (n + LARGE_HDR + PAGE - 1) / PAGE;
    char *run = pages_get(np);
    if (!run)
        return NULL;
    page_class[(uintptr_t)run >> PAGE_SHIFT] = LARGE_HEAD;
    *(size_t *)run = np;
    return run + LARGE_HDR;
}

void *malloc(size_t n)
{
    void *p = n <= SMALL_MAX ? small_alloc(class_of(n)) : large_alloc(n);
    if (!p)
        errno = ENOMEM;
    return p;
}

void free(void *p)
{
    if (!p)
        return;
    unsigned k = page_class[(uintptr_t)p >> PAGE_SHIFT];
    if (k == LARGE_HEAD) {
        char *run = (char *)p - LARGE_HDR;
        page_class[(uintptr_t)run >> PAGE_SHIFT] = 0;
        pages_put(run, *(size_t *)run);
        return;
    }
    unsigned c = k - 1;
    uint16_t pg = (uint16_t)((uintptr_t)p >> PAGE_SHIFT);
    if (--page_live[pg] == 0 && pg != cur[c]) {
        if (page_listed[pg])
            unlist(c, pg);
        page_class[pg] = 0;
        pages_put((char *)((uintptr_t)pg << PAGE_SHIFT), 1);
        return;
    }
    free_block *b = p;
    b->next = page_free[pg];
    page_free[pg] = b;
    if (pg != cur[c] && !page_listed[pg])
        list(c, pg);
}

static size_t usable(void *p)
{
    unsigned k = page_class[(uintptr_t)p >> PAGE_SHIFT];
    if (k == LARGE_HEAD)
        return *(size_t *)((char *)p - LARGE_HDR) * PAGE - LARGE_HDR;
    return class_size(k - 1);
}

/* Grows the large block at p to hold n bytes without moving it: into the
 * free run right after it, or at the top of the heap. */
static bool grow_in_place(void *p, size_t n)
{
    char *run = (char *)p - LARGE_HDR;
    size_t np = *(size_t *)run, want = (n + LARGE_HDR + PAGE - 1) / PAGE;
    char *end = run + np * PAGE;
    for (free_run **pp = &runs; *pp; pp = &(*pp)->next) {
        free_run *r = *pp;
        if ((char *)r != end)
            continue;
        if (np + r->npages < want)
            return false;
        size_t take = want - np;
        if (r->npages == take) {
            *pp = r->next;
        } else {
            free_run *rest = (free_run *)((char *)r + take * PAGE);
            rest->next = r->next;
            rest->npages = r->npages - take;
            *pp = rest;
        }
        *(size_t *)run = want;
        return true;
    }
    if (end != heap_top() || sbrk((intptr_t)((want - np) * PAGE)) == (void *)-1)
        return false;
    *(size_t *)run = want;
    return true;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    size_t have = usable(p);
    if (n <= have && (n > SMALL_MAX || have <= SMALL_MAX))
        return p;
    if (have > SMALL_MAX && n > SMALL_MAX && n < SIZE_MAX - LARGE_HDR - PAGE && grow_in_place(p, n))
        return p;
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, have < n ? have : n);
    free(p);
    return q;
}

void *calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}
#else
/* Native builds use the system allocator; nothing to define. */
typedef int sb_wasi_malloc_unused;
#endif
