/* Exact sums of dollars. Each double is added into a fixed-point register
 * wide enough for every finite double (bits 2^-1074 .. 2^1024 plus carry
 * room), so the sum does not depend on the order of the additions, and
 * removing a trial's cost removes it exactly. The value read out is the sum
 * correctly rounded to a double: what Python's math.fsum gives for the same
 * costs, so another implementation of the contract can reproduce it. */
#include "sb_solver_int.h"

#include <math.h>
#include <string.h>

/* Limb i holds bits 32i .. 32i+31 above 2^-1074; limbs are signed and carried
 * lazily: each addition puts less than 2^32 into a limb, so 2^30 additions
 * cannot overflow one. */
#define BIAS 1074

static void normalize(sb_solver_sum *s)
{
    int64_t carry = 0;
    for (int i = 0; i < SB_SOLVER_SUM_LIMBS; i++) {
        int64_t v = s->limb[i] + carry;
        carry = v >> 32; /* arithmetic: floor division by 2^32 */
        s->limb[i] = v - carry * ((int64_t)1 << 32);
    }
    /* carry now is the sign: 0 or -1 for the sums we make (|sum| < 2^1100) */
    s->limb[SB_SOLVER_SUM_LIMBS - 1] += carry * ((int64_t)1 << 32);
    s->adds = 0;
}

void sb_solver__sum_add(sb_solver_sum *s, double x)
{
    if (x == 0 || !isfinite(x))
        return;
    if (s->adds >= (1u << 30))
        normalize(s);
    s->adds++;
    int e;
    double f = frexp(fabs(x), &e); /* |x| = f * 2^e, f in [0.5, 1) */
    /* m * 2^(e - 53) with m < 2^53 an integer; subnormals have fewer bits */
    int shift = e - 53 + BIAS;
    uint64_t m;
    if (shift < 0) { /* subnormal: m's low bits are zero, shift them out */
        m = (uint64_t)ldexp(f, 53 + shift);
        shift = 0;
    } else {
        m = (uint64_t)ldexp(f, 53);
    }
    int limb = shift / 32, bit = shift % 32;
    uint64_t lo = (m << bit) & 0xffffffffu;
    uint64_t mid = (m >> (32 - bit)) & 0xffffffffu; /* bit < 32, so 32 - bit in 1..32 */
    uint64_t hi = bit ? m >> (64 - bit) : 0;        /* m < 2^53: at most 84 bits in all */
    int64_t sign = x < 0 ? -1 : 1;
    s->limb[limb] += sign * (int64_t)lo;
    s->limb[limb + 1] += sign * (int64_t)mid;
    s->limb[limb + 2] += sign * (int64_t)hi;
}

void sb_solver__sum_sub_sum(sb_solver_sum *s, const sb_solver_sum *t)
{
    normalize(s);
    sb_solver_sum u = *t;
    normalize(&u);
    for (int i = 0; i < SB_SOLVER_SUM_LIMBS; i++)
        s->limb[i] -= u.limb[i];
    s->adds = 1;
}

double sb_solver__sum_value(const sb_solver_sum *in)
{
    sb_solver_sum s = *in;
    normalize(&s);
    bool neg = s.limb[SB_SOLVER_SUM_LIMBS - 1] < 0;
    if (neg) {
        for (int i = 0; i < SB_SOLVER_SUM_LIMBS; i++)
            s.limb[i] = -s.limb[i];
        normalize(&s);
    }
    int top = SB_SOLVER_SUM_LIMBS - 1;
    while (top >= 0 && s.limb[top] == 0)
        top--;
    if (top < 0)
        return 0.0;
    /* A 64-bit window from the highest set bit down, with every bit below
     * it folded into the window's lowest bit (sticky). The window holds 11
     * bits beyond the 53 kept, so converting it to double rounds the same way
     * as rounding the whole sum would. */
    uint64_t hi = (uint64_t)s.limb[top];
    int lz = 0;
    while (!(hi & (0x80000000u >> lz)))
        lz++;
    uint64_t w = (hi << (32 + lz)) | (top >= 1 ? (uint64_t)s.limb[top - 1] << lz : 0);
    bool sticky = false;
    if (top >= 2) {
        uint64_t next = (uint64_t)s.limb[top - 2];
        if (lz > 0)
            w |= next >> (32 - lz);
        sticky = (next & ((1ull << (32 - lz)) - 1)) != 0;
    }
    for (int i = top - 3; i >= 0 && !sticky; i--)
        sticky = s.limb[i] != 0;
    if (sticky)
        w |= 1;
    int exp = 32 * top - 32 - lz - BIAS;
    double v = ldexp((double)w, exp);
    return neg ? -v : v;
}
