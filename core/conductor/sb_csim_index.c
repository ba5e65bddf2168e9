/* Job ids -> job indices. Our own table rather than an sb_val map because
 * room can be reserved before a submission commits, so inserting (and thus
 * committing) cannot fail halfway. */
#include "sb_csim_int.h"

#include "../util/sb_alloc.h"

#include <string.h>

uint64_t sb_csim__hash(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t slot_of(uint64_t hash, size_t cap)
{
    return (size_t)(hash >> 32) & (cap - 1);
}

bool sb_csim__index_reserve(csim_index *ix, size_t n)
{
    size_t want = ix->len + n;
    if (want < n || want > UINT32_MAX - 1)
        return false;
    if (want * 2 <= ix->cap)
        return true;
    size_t cap = 16;
    while (cap < want * 2)
        cap *= 2;
    uint64_t *slots = sb_calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < ix->cap; i++) {
        uint64_t e = ix->slots[i];
        if (!e)
            continue;
        size_t s = slot_of(e, cap);
        while (slots[s])
            s = (s + 1) & (cap - 1);
        slots[s] = e;
    }
    sb_free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    return true;
}

void sb_csim__index_put(csim_index *ix, uint64_t hash, uint32_t value)
{
    size_t s = slot_of(hash, ix->cap);
    while (ix->slots[s])
        s = (s + 1) & (ix->cap - 1);
    ix->slots[s] = (hash & 0xffffffff00000000ULL) | ((uint64_t)value + 1);
    ix->len++;
}

int64_t sb_csim__index_find(const csim_index *ix, const char *key, size_t len, csim_key_fn key_of, const void *ctx)
{
    if (!ix->cap)
        return -1;
    uint64_t hash = sb_csim__hash(key, len);
    for (size_t s = slot_of(hash, ix->cap); ix->slots[s]; s = (s + 1) & (ix->cap - 1)) {
        uint64_t e = ix->slots[s];
        if ((e >> 32) != (hash >> 32))
            continue;
        uint32_t v = (uint32_t)(e & 0xffffffffu) - 1;
        sb_val k = key_of(ctx, v);
        if (sb_str_len(k) == len && memcmp(sb_str(k), key, len) == 0)
            return v;
    }
    return -1;
}

void sb_csim__index_free(csim_index *ix)
{
    sb_free(ix->slots);
    ix->slots = NULL;
    ix->cap = ix->len = 0;
}
