/* Evening out pair coverage after the greedy: local search over swaps of one
 * parameter's levels between two members. A swap never changes level counts
 * or the number of members, so it keeps every invariant; it is taken when it
 * lowers F, the sum over parameter pairs and level pairs of the squared pair
 * counts (for a fixed number of members, F is smallest when the counts are
 * as equal as possible). The greedy minimises F one member at a time and
 * cannot undo early choices; this pass can.
 *
 * Moving member a's level of r from x to y changes F by
 *   2 * sum over q != r of (n(y, a_q) - n(x, a_q) + 1)
 * (n: the pair counters), so for each (a, r) every y is scored in O(L_r P);
 * the few best y's are then tried against a bounded number of members b at
 * level y (b moves from y to x). For an exclude set F of the set and of its
 * complement differ by a constant, so the same pass serves both.
 *
 * The amount of work is counted, not timed, so the result is the same on
 * every machine. */
#include "sb_solver_design.h"

#include <string.h>

#include "../util/sb_alloc.h"

#ifndef SB_SOLVER_POLISH_WORK
#define SB_SOLVER_POLISH_WORK 60000000u /* about one counter read per unit */
#endif
#define POLISH_PASSES 24
#define POLISH_Y 3  /* target levels tried per (member, parameter) */
#define POLISH_B 24 /* members at a target level tried */

typedef struct polish {
    sb_solver_design *d;
    sb_solver_budget_fn ok;
    const void *ctx;
    uint32_t *perm;  /* P rows of n: per parameter, the members grouped by level */
    uint32_t *start; /* per level: where its group starts in its parameter's row */
    uint32_t *pos;   /* n x P: a member's place in each row */
    uint64_t work;
} polish;

static bool lists_init(polish *s)
{
    sb_solver_design *d = s->d;
    size_t n = d->n, P = d->P, total = d->off[P - 1] + d->L[P - 1];
    s->perm = sb_malloc(n * P * sizeof *s->perm);
    s->pos = sb_malloc(n * P * sizeof *s->pos);
    s->start = sb_malloc(total * sizeof *s->start);
    if (!s->perm || !s->pos || !s->start)
        return false;
    for (size_t r = 0; r < P; r++) {
        uint32_t *row = s->perm + r * n, *st = s->start + d->off[r];
        uint32_t at = 0;
        for (uint32_t l = 0; l < d->L[r]; l++) {
            st[l] = at;
            at += d->count[d->off[r] + l];
        }
        /* counting sort, members in index order within a level; the search's
         * key scratch serves as the cursors */
        for (uint32_t l = 0; l < d->L[r]; l++)
            d->keys[d->off[r] + l] = st[l];
        for (size_t a = 0; a < n; a++) {
            uint16_t l = d->trials[a * P + r];
            uint32_t i = (uint32_t)d->keys[d->off[r] + l]++;
            row[i] = (uint32_t)a;
            s->pos[a * P + r] = i;
        }
    }
    return true;
}

static uint32_t group_len(const polish *s, size_t r, uint16_t l)
{
    return s->d->count[s->d->off[r] + l];
}

/* Pair-counter change, over q != r, of member t moving from level x to y of r. */
static int64_t move_delta(const sb_solver_design *d, const uint16_t *t, size_t r, uint16_t x, uint16_t y)
{
    int64_t s = 0;
    for (size_t q = 0; q < d->P; q++)
        if (q != r)
            s += (int64_t)*sb_solver__design_pair(d, r, q, y, t[q]) - *sb_solver__design_pair(d, r, q, x, t[q]) + 1;
    return s;
}

/* The move of b from y to x after a moved from x to y (cells a and b share
 * are one count further). */
static int64_t second_delta(const sb_solver_design *d, const uint16_t *a, const uint16_t *b, size_t r, uint16_t x,
                            uint16_t y)
{
    int64_t s = 0;
    for (size_t q = 0; q < d->P; q++) {
        if (q == r)
            continue;
        int64_t nx = *sb_solver__design_pair(d, r, q, x, b[q]), ny = *sb_solver__design_pair(d, r, q, y, b[q]);
        if (b[q] == a[q]) {
            nx -= 1;
            ny += 1;
        }
        s += nx - ny + 1;
    }
    return s;
}

static void pairs_move(sb_solver_design *d, const uint16_t *t, size_t r, uint16_t from, uint16_t to)
{
    for (size_t q = 0; q < d->P; q++) {
        if (q == r)
            continue;
        (*sb_solver__design_pair(d, r, q, from, t[q]))--;
        (*sb_solver__design_pair(d, r, q, to, t[q]))++;
    }
}

/* Member a leaves level x for y of r, member b the other way, if both new
 * combinations are free and the budget allows. */
static bool try_swap(polish *s, size_t a, size_t b, size_t r)
{
    sb_solver_design *d = s->d;
    uint16_t *ta = d->trials + a * d->P, *tb = d->trials + b * d->P;
    uint16_t x = ta[r], y = tb[r];
    uint64_t ia = d->tidx[a] - x * d->radix[r] + y * d->radix[r];
    uint64_t ib = d->tidx[b] - y * d->radix[r] + x * d->radix[r];
    if (sb_solver__set_has(&d->used, ia) || sb_solver__set_has(&d->used, ib))
        return false;
    const double *scale = d->spec->params[r].scale;
    double ha = d->thours[a], hb = d->thours[b], ca = d->tcost[a], cb = d->tcost[b];
    sb_solver_sum total = d->total;
    if (scale[x] != scale[y]) {
        ta[r] = y;
        tb[r] = x;
        ha = sb_solver__design_hours(d, ta);
        hb = sb_solver__design_hours(d, tb);
        ta[r] = x;
        tb[r] = y;
        ca = sb_solver__cost_of_hours(d->spec, ha);
        cb = sb_solver__cost_of_hours(d->spec, hb);
        sb_solver__sum_add(&total, -d->tcost[a]);
        sb_solver__sum_add(&total, -d->tcost[b]);
        sb_solver__sum_add(&total, ca);
        sb_solver__sum_add(&total, cb);
        if (!s->ok(s->ctx, &total))
            return false;
    }
    pairs_move(d, ta, r, x, y);
    ta[r] = y;
    pairs_move(d, tb, r, y, x);
    tb[r] = x;
    sb_solver__set_remove(&d->used, d->tidx[a]);
    sb_solver__set_remove(&d->used, d->tidx[b]);
    d->tidx[a] = ia;
    d->tidx[b] = ib;
    sb_solver__set_add(&d->used, ia);
    sb_solver__set_add(&d->used, ib);
    d->thours[a] = ha;
    d->thours[b] = hb;
    d->tcost[a] = ca;
    d->tcost[b] = cb;
    d->total = total;
    size_t n = d->n, P = d->P;
    uint32_t pa = s->pos[a * P + r], pb = s->pos[b * P + r];
    s->perm[r * n + pa] = (uint32_t)b;
    s->perm[r * n + pb] = (uint32_t)a;
    s->pos[a * P + r] = pb;
    s->pos[b * P + r] = pa;
    return true;
}

/* Tries to improve member a on parameter r; true if it moved. */
static bool improve(polish *s, size_t a, size_t r, unsigned pass)
{
    sb_solver_design *d = s->d;
    const uint16_t *ta = d->trials + a * d->P;
    uint16_t x = ta[r];
    int64_t best[POLISH_Y];
    uint16_t best_y[POLISH_Y];
    int nbest = 0;
    s->work += (uint64_t)d->L[r] * d->P;
    for (uint32_t y = 0; y < d->L[r]; y++) {
        if (y == x || group_len(s, r, (uint16_t)y) == 0)
            continue;
        int64_t dy = move_delta(d, ta, r, x, (uint16_t)y);
        if (dy >= (int64_t)d->P - 1) /* b's move cannot make up for that much */
            continue;
        if (nbest == POLISH_Y && dy >= best[POLISH_Y - 1])
            continue;
        int i = nbest < POLISH_Y ? nbest++ : POLISH_Y - 1;
        while (i > 0 && best[i - 1] > dy) { /* equal deltas keep the lower level first */
            best[i] = best[i - 1];
            best_y[i] = best_y[i - 1];
            i--;
        }
        best[i] = dy;
        best_y[i] = (uint16_t)y;
    }
    for (int k = 0; k < nbest; k++) {
        uint16_t y = best_y[k];
        uint32_t len = group_len(s, r, y), st = s->start[d->off[r] + y];
        uint32_t first = (uint32_t)((a * 31u + pass) % len);
        for (uint32_t j = 0; j < len && j < POLISH_B; j++) {
            size_t b = s->perm[r * d->n + st + (first + j) % len];
            s->work += d->P;
            int64_t db = second_delta(d, ta, d->trials + b * d->P, r, x, y);
            if (best[k] + db < 0 && try_swap(s, a, b, r))
                return true;
        }
    }
    return false;
}

bool sb_solver__design_polish(sb_solver_design *d, sb_solver_budget_fn ok, const void *ctx)
{
    if (d->n < 2 || d->P < 2)
        return true;
    polish s = {.d = d, .ok = ok, .ctx = ctx};
    bool good = lists_init(&s);
    for (unsigned pass = 0; good && pass < POLISH_PASSES && s.work < SB_SOLVER_POLISH_WORK; pass++) {
        bool moved = false;
        for (size_t a = 0; a < d->n && s.work < SB_SOLVER_POLISH_WORK; a++)
            for (size_t r = 0; r < d->P; r++)
                moved = improve(&s, a, r, pass) || moved;
        if (!moved)
            break;
    }
    sb_free(s.perm);
    sb_free(s.pos);
    sb_free(s.start);
    return good;
}
