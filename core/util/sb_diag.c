#include "sb_diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sb_alloc.h"
#include "sb_grow.h"

typedef struct entry {
    sb_diag d;
    size_t seq;      /* insertion order, for a stable sort */
    size_t file_ord; /* order in which the file first appeared */
} entry;

struct sb_diags {
    entry *items;
    size_t len, cap;
    int oom;
};

sb_diags *sb_diags_new(void) { return sb_calloc(1, sizeof(sb_diags)); }

void sb_diags_free(sb_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->len; i++) {
        sb_free((char *)d->items[i].d.file);
        sb_free((char *)d->items[i].d.msg);
    }
    sb_free(d->items);
    sb_free(d);
}

void sb_diags_add(sb_diags *d, const char *file, uint32_t line, uint32_t col, const char *fmt, ...)
{
    if (!d)
        return;
    if (!SB_GROW(d->items, d->cap, d->len + 1)) {
        d->oom = 1;
        return;
    }
    sb_buf b = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char *msg = sb_buf_take(&b);
    char *f = sb_strdup(file ? file : "<input>");
    if (!msg || !f) {
        sb_free(msg);
        sb_free(f);
        d->oom = 1;
        return;
    }
    size_t ord = d->len;
    for (size_t i = 0; i < d->len; i++)
        if (strcmp(d->items[i].d.file, f) == 0) {
            ord = d->items[i].file_ord;
            break;
        }
    entry *e = &d->items[d->len];
    e->d.file = f;
    e->d.line = line;
    e->d.col = col;
    e->d.msg = msg;
    e->seq = d->len;
    e->file_ord = ord;
    d->len++;
}

size_t sb_diags_count(const sb_diags *d) { return d ? d->len : 0; }

const sb_diag *sb_diags_at(const sb_diags *d, size_t i) { return i < d->len ? &d->items[i].d : NULL; }

static int cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->file_ord != y->file_ord)
        return x->file_ord < y->file_ord ? -1 : 1;
    if (x->d.line != y->d.line)
        return x->d.line < y->d.line ? -1 : 1;
    if (x->d.col != y->d.col)
        return x->d.col < y->d.col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sb_diags_sort(sb_diags *d)
{
    if (d && d->len > 1)
        qsort(d->items, d->len, sizeof *d->items, cmp);
}

void sb_diags_write(const sb_diags *d, sb_buf *out)
{
    for (size_t i = 0; d && i < d->len; i++) {
        const sb_diag *e = &d->items[i].d;
        if (e->line && e->col)
            sb_buf_printf(out, "%s:%u:%u: error: %s\n", e->file, (unsigned)e->line, (unsigned)e->col, e->msg);
        else if (e->line)
            sb_buf_printf(out, "%s:%u: error: %s\n", e->file, (unsigned)e->line, e->msg);
        else
            sb_buf_printf(out, "%s: error: %s\n", e->file, e->msg);
    }
}

int sb_diags_oom(const sb_diags *d) { return d ? d->oom : 0; }
