/* Growing a balanced set one combination at a time (see sb_solver_design.h
 * for the invariants and docs/mcp-tools-solver.md, section 2, for the
 * method as a contract).
 *
 * The next combination is built one parameter at a time, each level taken
 * from A_p (the levels at the parameter's minimum count): the level whose
 * pairs with the levels already chosen have been covered least, then the
 * preferred multiplier, then the earlier level. That is the greedy of
 * AETG/IPOG-style covering-array tools; each choice adds the least to the sum
 * of squared pair counts. A depth-first search in the same preference order
 * skips combinations already in the set. When every A_p combination is taken
 * (it happens at the ends of rounds, where A_p is small), a member gives up
 * its level of one parameter to the newcomer and takes the newcomer's.
 *
 * Work per combination: O(sum over p of |A_p| * P) plus hash lookups; swap
 * searches are bounded in total (SB_SOLVER_SWAP_WORK). */
#include "sb_solver_design.h"

#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"

/* Leaves the search may visit before it falls back to a swap. */
#define MAX_LEAVES 64
/* Members the swap searches of one set may look at in all: a set that needs
 * more is stuck for good (the planner then tries the other side), and this
 * keeps a stuck set from costing O(n^2). Counted, so the result does not
 * depend on the machine. */
#ifndef SB_SOLVER_SWAP_WORK
#define SB_SOLVER_SWAP_WORK 20000000u
#endif

/* --- setup --- */

typedef struct lvkey {
    uint64_t bits; /* a positive double's bits sort like the double */
    uint32_t idx;
} lvkey;

static int cmp_lvkey(const void *a, const void *b)
{
    const lvkey *x = a, *y = b;
    if (x->bits != y->bits)
        return x->bits < y->bits ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* rank: position by (multiplier, index), dearest first when excluding;
 * cls: distinct multipliers before the level's own. */
static void rank_levels(sb_solver_design *d, size_t p, lvkey *scratch)
{
    const double *scale = d->spec->params[p].scale;
    uint32_t L = d->L[p];
    for (uint32_t l = 0; l < L; l++) {
        memcpy(&scratch[l].bits, &scale[l], sizeof scratch[l].bits);
        if (d->exclude)
            scratch[l].bits = ~scratch[l].bits;
        scratch[l].idx = l;
    }
    qsort(scratch, L, sizeof *scratch, cmp_lvkey);
    uint16_t c = 0;
    for (uint32_t r = 0; r < L; r++) {
        if (r > 0 && scratch[r].bits != scratch[r - 1].bits)
            c++;
        d->rank[d->off[p] + scratch[r].idx] = (uint16_t)r;
        d->by_rank[d->off[p] + r] = (uint16_t)scratch[r].idx;
        d->cls[d->off[p] + scratch[r].idx] = c;
    }
}

void sb_solver__design_free(sb_solver_design *d)
{
    sb_free(d->L);
    sb_free(d->off);
    sb_free(d->radix);
    sb_free(d->count);
    sb_free(d->minc);
    sb_free(d->nmin);
    sb_free(d->rank);
    sb_free(d->by_rank);
    sb_free(d->cls);
    sb_free(d->pair_off);
    sb_free(d->pair);
    sb_free(d->trials);
    sb_free(d->tidx);
    sb_free(d->thours);
    sb_free(d->tcost);
    sb_solver__set_free(&d->used);
    sb_free(d->keys);
    sb_free(d->combo);
    sb_free(d->found);
    memset(d, 0, sizeof *d);
}

bool sb_solver__design_init(sb_solver_design *d, const sb_solver_spec *spec, size_t cap, bool exclude)
{
    memset(d, 0, sizeof *d);
    d->spec = spec;
    d->exclude = exclude;
    size_t P = d->P = spec->nparams, total = 0, cells = 0, maxl = 0;
    for (size_t p = 0; p < P; p++) {
        total += spec->params[p].nlevels;
        maxl = spec->params[p].nlevels > maxl ? spec->params[p].nlevels : maxl;
        for (size_t q = p + 1; q < P; q++)
            cells += spec->params[p].nlevels * spec->params[q].nlevels;
    }
    d->cap = cap;
    d->L = sb_malloc(P * sizeof *d->L);
    d->off = sb_malloc(P * sizeof *d->off);
    d->radix = sb_malloc(P * sizeof *d->radix);
    d->count = sb_calloc(total, sizeof *d->count);
    d->minc = sb_calloc(P, sizeof *d->minc);
    d->nmin = sb_malloc(P * sizeof *d->nmin);
    d->rank = sb_malloc(total * sizeof *d->rank);
    d->by_rank = sb_malloc(total * sizeof *d->by_rank);
    d->cls = sb_malloc(total * sizeof *d->cls);
    d->pair_off = sb_calloc(P * P, sizeof *d->pair_off);
    d->pair = sb_calloc(cells ? cells : 1, sizeof *d->pair);
    d->trials = sb_malloc((cap ? cap : 1) * P * sizeof *d->trials);
    d->tidx = sb_malloc((cap ? cap : 1) * sizeof *d->tidx);
    d->thours = sb_malloc((cap ? cap : 1) * sizeof *d->thours);
    d->tcost = sb_malloc((cap ? cap : 1) * sizeof *d->tcost);
    d->keys = sb_malloc(total * sizeof *d->keys);
    d->combo = sb_malloc(P * sizeof *d->combo);
    d->found = sb_malloc(SB_SOLVER_SWAP_CANDIDATES * P * sizeof *d->found);
    lvkey *scratch = sb_malloc(maxl * sizeof *scratch);
    bool ok = d->L && d->off && d->radix && d->count && d->minc && d->nmin && d->rank && d->by_rank && d->cls &&
              d->pair_off && d->pair && d->trials && d->tidx && d->thours && d->tcost && d->keys && d->combo &&
              d->found && scratch && sb_solver__set_reserve(&d->used, cap);
    if (ok) {
        size_t o = 0, c = 0;
        uint64_t r = 1;
        for (size_t p = P; p-- > 0;) {
            d->radix[p] = r;
            r *= spec->params[p].nlevels;
        }
        for (size_t p = 0; p < P; p++) {
            d->L[p] = (uint32_t)spec->params[p].nlevels;
            d->off[p] = o;
            o += d->L[p];
            d->nmin[p] = d->L[p];
            rank_levels(d, p, scratch);
            for (size_t q = p + 1; q < P; q++) {
                d->pair_off[p * P + q] = c;
                c += spec->params[p].nlevels * spec->params[q].nlevels;
            }
        }
    }
    sb_free(scratch);
    if (!ok)
        sb_solver__design_free(d);
    return ok;
}

/* --- bookkeeping --- */

static void pairs_add(sb_solver_design *d, const uint16_t *c, uint32_t delta /* 1 or -1u */)
{
    for (size_t p = 0; p < d->P; p++)
        for (size_t q = p + 1; q < d->P; q++)
            *sb_solver__design_pair(d, p, q, c[p], c[q]) += delta;
}

/* Counts only ever grow by one level of A_p at a time. */
static void count_inc(sb_solver_design *d, size_t p, uint16_t l)
{
    if (d->count[d->off[p] + l]++ == d->minc[p] && --d->nmin[p] == 0) {
        d->minc[p]++;
        d->nmin[p] = d->L[p];
    }
}

double sb_solver__design_hours(const sb_solver_design *d, const uint16_t *c)
{
    return sb_solver__hours(d->spec, c);
}

static double cost_of(const sb_solver_design *d, const uint16_t *c)
{
    return sb_solver__cost_of_hours(d->spec, sb_solver__design_hours(d, c));
}

uint64_t sb_solver__design_unevenness(const sb_solver_design *d)
{
    uint64_t f = 0;
    for (size_t p = 0; p < d->P; p++)
        for (size_t q = p + 1; q < d->P; q++) {
            /* in the full grid every cell of (p, q) is covered grid / (L_p L_q) times */
            uint64_t full = d->spec->grid / ((uint64_t)d->L[p] * d->L[q]);
            const uint32_t *cell = &d->pair[d->pair_off[p * d->P + q]];
            for (size_t i = 0; i < (size_t)d->L[p] * d->L[q]; i++) {
                uint64_t k = d->exclude ? full - cell[i] : cell[i];
                f += k * k;
            }
        }
    return f;
}

/* --- choosing --- */

/* Keys of A_p's levels given combo[0..p), smallest preferred. */
static size_t depth_keys(sb_solver_design *d, int mode, size_t p)
{
    uint64_t *k = d->keys + d->off[p];
    const uint32_t *cnt = d->count + d->off[p];
    const uint16_t *rk = d->rank + d->off[p], *cl = d->cls + d->off[p];
    size_t m = 0;
    for (uint32_t l = 0; l < d->L[p]; l++) {
        if (cnt[l] != d->minc[p])
            continue;
        uint64_t score = 0; /* < 2^32: counts are below 2^17 and P <= 64 */
        for (size_t q = 0; q < p; q++)
            score += *sb_solver__design_pair(d, q, p, d->combo[q], (uint16_t)l);
        k[m++] = mode == SB_SOLVER_MODE_PAIR ? (score << 16) | rk[l] : ((uint64_t)cl[l] << 48) | (score << 16) | rk[l];
    }
    return m;
}

/* Depth-first search in preference order for a combination of A_p levels not
 * in the set. Candidates are selected lazily: the first is almost always
 * taken, so a full sort would be wasted. */
static bool search(sb_solver_design *d, int mode, size_t p)
{
    if (p == d->P) {
        if (d->leaves < SB_SOLVER_SWAP_CANDIDATES)
            memcpy(d->found + d->leaves * d->P, d->combo, d->P * sizeof *d->combo);
        d->leaves++;
        return !sb_solver__set_has(&d->used, sb_solver__design_index(d, d->combo));
    }
    uint64_t *k = d->keys + d->off[p];
    size_t m = depth_keys(d, mode, p);
    for (size_t i = 0; i < m; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < m; j++)
            if (k[j] < k[best])
                best = j;
        uint64_t t = k[i];
        k[i] = k[best];
        k[best] = t;
        d->combo[p] = d->by_rank[d->off[p] + (k[i] & 0xffff)];
        if (search(d, mode, p + 1))
            return true;
        if (d->leaves >= MAX_LEAVES)
            return false;
    }
    return false;
}

/* A member w and parameter q such that giving c w's level of q, and w c's,
 * makes two combinations not in the set. Most recent members first. */
static bool find_swap(sb_solver_design *d, const uint16_t *c, size_t *w_out, size_t *q_out)
{
    uint64_t ci = sb_solver__design_index(d, c);
    for (size_t w = d->n; w-- > 0;) {
        if (d->swap_work++ >= SB_SOLVER_SWAP_WORK)
            return false;
        const uint16_t *t = d->trials + w * d->P;
        for (size_t q = 0; q < d->P; q++) {
            if (t[q] == c[q])
                continue;
            uint64_t c2 = ci - c[q] * d->radix[q] + t[q] * d->radix[q];
            uint64_t w2 = d->tidx[w] - t[q] * d->radix[q] + c[q] * d->radix[q];
            if (!sb_solver__set_has(&d->used, c2) && !sb_solver__set_has(&d->used, w2)) {
                *w_out = w;
                *q_out = q;
                return true;
            }
        }
    }
    return false;
}

/* The joining combination: c, or c with w's level of p. */
static const uint16_t *joining(sb_solver_design *d, const sb_solver_cand *x)
{
    if (!x->swap)
        return x->c;
    if (x->c != d->combo)
        memcpy(d->combo, x->c, d->P * sizeof *d->combo);
    d->combo[x->p] = d->trials[x->w * d->P + x->p];
    return d->combo;
}

bool sb_solver__design_choose(sb_solver_design *d, int mode, sb_solver_cand *x)
{
    d->leaves = 0;
    x->swap = false;
    if (search(d, mode, 0)) {
        memcpy(d->found, d->combo, d->P * sizeof *d->combo);
        x->c = d->found;
        x->cost = cost_of(d, x->c);
        return true;
    }
    size_t tries = d->leaves < SB_SOLVER_SWAP_CANDIDATES ? d->leaves : SB_SOLVER_SWAP_CANDIDATES;
    for (size_t i = 0; i < tries; i++) {
        const uint16_t *c = d->found + i * d->P;
        if (find_swap(d, c, &x->w, &x->p)) {
            x->swap = true;
            x->c = c;
            x->cost = cost_of(d, joining(d, x));
            uint16_t *t = d->trials + x->w * d->P;
            uint16_t keep = t[x->p];
            t[x->p] = c[x->p];
            x->w_cost = cost_of(d, t);
            t[x->p] = keep;
            return true;
        }
    }
    return false;
}

void sb_solver__design_total_after(const sb_solver_design *d, const sb_solver_cand *x, sb_solver_sum *out)
{
    *out = d->total;
    if (x->swap) {
        sb_solver__sum_add(out, -d->tcost[x->w]);
        sb_solver__sum_add(out, x->w_cost);
    }
    sb_solver__sum_add(out, x->cost);
}

void sb_solver__design_apply(sb_solver_design *d, const sb_solver_cand *x)
{
    for (size_t p = 0; p < d->P; p++)
        count_inc(d, p, x->c[p]);
    sb_solver__design_total_after(d, x, &d->total);
    const uint16_t *c = joining(d, x); /* before w changes */
    if (x->swap) {
        uint16_t *t = d->trials + x->w * d->P;
        sb_solver__set_remove(&d->used, d->tidx[x->w]);
        pairs_add(d, t, (uint32_t)-1);
        t[x->p] = x->c[x->p];
        pairs_add(d, t, 1);
        d->tidx[x->w] = sb_solver__design_index(d, t);
        sb_solver__set_add(&d->used, d->tidx[x->w]);
        d->thours[x->w] = sb_solver__design_hours(d, t);
        d->tcost[x->w] = x->w_cost;
    }
    uint16_t *t = d->trials + d->n * d->P;
    memcpy(t, c, d->P * sizeof *t);
    d->tidx[d->n] = sb_solver__design_index(d, t);
    d->thours[d->n] = sb_solver__design_hours(d, t);
    d->tcost[d->n] = x->cost;
    sb_solver__set_add(&d->used, d->tidx[d->n]);
    pairs_add(d, t, 1);
    d->n++;
}

/* --- relief: extra trials onto cheaper levels --- */

/* Moves member a's level of r to y (the counts of its old level and of y
 * trade places between the minimum and one above it). */
static void move_level(sb_solver_design *d, size_t a, size_t r, uint16_t y, uint64_t new_index)
{
    uint16_t *t = d->trials + a * d->P;
    uint32_t *cnt = d->count + d->off[r];
    cnt[t[r]]--;
    cnt[y]++;
    sb_solver__set_remove(&d->used, d->tidx[a]);
    pairs_add(d, t, (uint32_t)-1);
    t[r] = y;
    pairs_add(d, t, 1);
    d->tidx[a] = new_index;
    sb_solver__set_add(&d->used, new_index);
    d->thours[a] = sb_solver__design_hours(d, t);
    double cost = sb_solver__cost_of_hours(d->spec, d->thours[a]);
    sb_solver__sum_add(&d->total, -d->tcost[a]);
    sb_solver__sum_add(&d->total, cost);
    d->tcost[a] = cost;
}

bool sb_solver__design_relieve(sb_solver_design *d)
{
    bool moved = false;
    for (size_t a = 0; a < d->n; a++) {
        uint16_t *t = d->trials + a * d->P;
        for (size_t r = 0; r < d->P; r++) {
            const double *scale = d->spec->params[r].scale;
            const uint32_t *cnt = d->count + d->off[r];
            uint16_t x = t[r];
            if (cnt[x] != d->minc[r] + 1)
                continue;
            /* the cheapest level at the minimum count that makes a new combination */
            long best = -1;
            for (uint32_t y = 0; y < d->L[r]; y++) {
                if (cnt[y] != d->minc[r] || !(scale[y] < scale[x]) || (best >= 0 && !(scale[y] < scale[best])))
                    continue;
                if (!sb_solver__set_has(&d->used, d->tidx[a] - x * d->radix[r] + y * d->radix[r]))
                    best = (long)y;
            }
            if (best >= 0) {
                move_level(d, a, r, (uint16_t)best, d->tidx[a] - x * d->radix[r] + (uint64_t)best * d->radix[r]);
                moved = true;
            }
        }
    }
    return moved;
}
