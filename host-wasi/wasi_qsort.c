/* qsort for sibyl.wasm: a heapsort, in place of wasi-libc's smoothsort
 * (2 KB of code). Every comparator in sibyl is a total order (ties broken by
 * position or index: the native build's qsort is another algorithm and the
 * wasm and native outputs are compared byte for byte), so any correct sort
 * gives the same order. O(n log n) comparisons, no allocation. */
#if defined(__wasi__)
#include <stdlib.h>

typedef int (*cmp_fn)(const void *, const void *);

static void swap(char *a, char *b, size_t size)
{
    while (size--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Moves the element at root down the heap of the first n elements until
 * both its children are no larger. */
static void sift(char *base, size_t root, size_t n, size_t size, cmp_fn cmp)
{
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (cmp(base + root * size, base + child * size) >= 0)
            return;
        swap(base + root * size, base + child * size, size);
    }
}

void qsort(void *base, size_t n, size_t size, cmp_fn cmp)
{
    char *b = base;
    for (size_t i = n / 2; i-- > 0;)
        sift(b, i, n, size, cmp);
    for (size_t end = n; end-- > 1;) {
        swap(b, b + end * size, size);
        sift(b, 0, end, size, cmp);
    }
}
#endif
