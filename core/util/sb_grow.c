#include "sb_grow.h"

#include <stdint.h>
#include <string.h>

#include "sb_alloc.h"

/* The first allocation: at least this many elements and bytes, so small
 * arrays of small elements do not realloc at every push. */
#define FIRST_ELEMS 8
#define FIRST_BYTES 64

bool sb_grow(void *itemsp, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap)
        return true;
    if (elem_size == 0)
        return false;
    size_t max = SIZE_MAX / elem_size;
    if (need > max)
        return false;
    size_t n;
    if (*cap == 0) {
        n = FIRST_BYTES / elem_size;
        if (n < FIRST_ELEMS)
            n = FIRST_ELEMS;
    } else {
        n = *cap > max / 2 ? max : *cap * 2;
    }
    if (n > max)
        n = max;
    if (n < need)
        n = need;
    /* The pointer is read and written with memcpy: itemsp points at a T *,
     * not a void *, and this keeps the access well defined for any T. */
    void *old;
    memcpy(&old, itemsp, sizeof old);
    void *p = sb_realloc(old, n * elem_size);
    if (!p)
        return false;
    memcpy(itemsp, &p, sizeof p);
    *cap = n;
    return true;
}
