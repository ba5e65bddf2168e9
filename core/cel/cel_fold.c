/* Unicode simple case folding for (?i) in matches() (cel_regex.c), as RE2
 * and Go do it: characters that fold to each other form an orbit (k, K and
 * KELVIN SIGN; s, S and LONG S; the three sigmas), and two characters match
 * case-insensitively when they are in the same orbit. sb_cel__fold maps a
 * character to its orbit's representative (the smallest code point).
 *
 * The table is generated from the Unicode Character Database (version 14.0,
 * Python's unicodedata: a character's one-character case folding, else its
 * one-character lower case; full foldings such as "ss" for U+00DF are not
 * simple foldings and do not count), for planes 0 and 1. Each entry is a run
 * of characters lo..hi, every one (step 1) or every other one (step 2),
 * folding by the same delta: key = lo | (hi - lo) << 17 | step2 << 25.
 * Runs do not overlap and are sorted by lo. 210 runs, 1454 characters. */
#include "cel_int.h"

static const uint32_t fold_key[] = {
    0x0320061, 0x02c00e0, 0x00c00f8, 0x25c0101, 0x2080133, 0x21c013a,
    0x258014b, 0x0000178, 0x208017a, 0x000017f, 0x2040183, 0x0000188,
    0x000018c, 0x0000192, 0x0000199, 0x20801a1, 0x00001a8, 0x00001ad,
    0x00001b0, 0x20401b4, 0x00001b9, 0x00001bd, 0x00001c5, 0x00001c6,
    0x00001c8, 0x00001c9, 0x00001cb, 0x00001cc, 0x21c01ce, 0x00001dd,
    0x22001df, 0x00001f2, 0x00001f3, 0x00001f5, 0x00001f6, 0x00001f7,
    0x24c01f9, 0x0000220, 0x2200223, 0x000023c, 0x000023d, 0x0000242,
    0x0000243, 0x2100247, 0x0000253, 0x0000254, 0x0020256, 0x0000259,
    0x000025b, 0x0000260, 0x0000263, 0x0000268, 0x0000269, 0x000026f,
    0x0000272, 0x0000275, 0x0000280, 0x0000283, 0x0000288, 0x0000289,
    0x002028a, 0x000028c, 0x0000292, 0x2040371, 0x0000377, 0x0000399,
    0x000039c, 0x00003ac, 0x00403ad, 0x00e03b1, 0x00003b9, 0x00203ba,
    0x00003bc, 0x00803bd, 0x00003c2, 0x01003c3, 0x00003cc, 0x00203cd,
    0x00003d0, 0x00003d1, 0x00003d5, 0x00003d6, 0x00003d7, 0x22c03d9,
    0x00003f0, 0x00003f1, 0x00003f3, 0x00003f4, 0x00003f5, 0x00003f8,
    0x00003f9, 0x00003fb, 0x00403fd, 0x03e0430, 0x01e0450, 0x2400461,
    0x268048b, 0x21804c2, 0x00004cf, 0x2bc04d1, 0x04a0561, 0x00a13f8,
    0x0001c80, 0x0001c81, 0x0001c82, 0x0021c83, 0x0001c85, 0x0001c86,
    0x0001c87, 0x0541c90, 0x0041cbd, 0x3281e01, 0x0001e9b, 0x0001e9e,
    0x2bc1ea1, 0x00e1f08, 0x00a1f18, 0x00e1f28, 0x00e1f38, 0x00a1f48,
    0x20c1f59, 0x00e1f68, 0x00e1f88, 0x00e1f98, 0x00e1fa8, 0x0021fb8,
    0x0021fba, 0x0001fbc, 0x0001fbe, 0x0061fc8, 0x0001fcc, 0x0021fd8,
    0x0021fda, 0x0021fe8, 0x0021fea, 0x0001fec, 0x0021ff8, 0x0021ffa,
    0x0001ffc, 0x0002126, 0x000212a, 0x000212b, 0x000214e, 0x01e2170,
    0x0002184, 0x03224d0, 0x05e2c30, 0x0002c61, 0x0002c62, 0x0002c63,
    0x0002c64, 0x0002c65, 0x0002c66, 0x2082c68, 0x0002c6d, 0x0002c6e,
    0x0002c6f, 0x0002c70, 0x0002c73, 0x0002c76, 0x0022c7e, 0x2c42c81,
    0x2042cec, 0x0002cf3, 0x04a2d00, 0x0002d27, 0x0002d2d, 0x210a641,
    0x000a64a, 0x000a64b, 0x240a64d, 0x234a681, 0x218a723, 0x278a733,
    0x204a77a, 0x000a77d, 0x210a77f, 0x000a78c, 0x000a78d, 0x204a791,
    0x224a797, 0x000a7aa, 0x000a7ab, 0x000a7ac, 0x000a7ad, 0x000a7ae,
    0x000a7b0, 0x000a7b1, 0x000a7b2, 0x21ca7b5, 0x000a7c4, 0x000a7c5,
    0x000a7c6, 0x204a7c8, 0x000a7d1, 0x204a7d7, 0x000a7f6, 0x000ab53,
    0x09eab70, 0x032ff41, 0x04f0428, 0x04704d8, 0x0150597, 0x01d05a3,
    0x00d05b3, 0x00305bb, 0x0650cc0, 0x03f18c0, 0x03f6e60, 0x043e922,
};
static const int32_t fold_delta[] = {
    -32, -32, -32, -1, -1, -1, -1, -121, -1, -300,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -2, -1, -2, -1, -2, -1, -79,
    -1, -1, -2, -1, -97, -56, -1, -130, -1, -1,
    -163, -1, -195, -1, -210, -206, -205, -202, -203, -205,
    -207, -209, -211, -211, -213, -214, -218, -218, -218, -69,
    -217, -71, -219, -1, -1, -84, -743, -38, -37, -32,
    -116, -32, -775, -32, -31, -32, -64, -63, -62, -57,
    -47, -54, -8, -1, -86, -80, -116, -92, -96, -1,
    -7, -1, -130, -32, -80, -1, -1, -1, -15, -1,
    -48, -8, -6254, -6253, -6244, -6242, -6243, -6236, -6181, -3008,
    -3008, -1, -59, -7615, -1, -8, -8, -8, -8, -8,
    -8, -8, -8, -8, -8, -8, -74, -9, -7289, -86,
    -9, -8, -100, -8, -112, -7, -128, -126, -9, -7549,
    -8415, -8294, -28, -16, -1, -26, -48, -1, -10743, -3814,
    -10727, -10795, -10792, -1, -10780, -10749, -10783, -10782, -1, -1,
    -10815, -1, -1, -1, -7264, -7264, -7264, -1, -35266, -35267,
    -1, -1, -1, -1, -1, -35332, -1, -1, -42280, -1,
    -1, -42308, -42319, -42315, -42305, -42308, -42258, -42282, -42261, -1,
    -48, -42307, -35384, -1, -1, -1, -1, -928, -38864, -32,
    -40, -40, -39, -39, -39, -39, -64, -32, -32, -34,
};
#define NFOLD (sizeof fold_key / sizeof *fold_key)

static bool in_run(size_t i, int32_t c)
{
    int32_t lo = (int32_t)(fold_key[i] & 0x1FFFF), hi = lo + (int32_t)(fold_key[i] >> 17 & 0xFF);
    return c >= lo && c <= hi && (!(fold_key[i] >> 25) || (c - lo) % 2 == 0);
}

int32_t sb_cel__fold(int32_t c)
{
    size_t lo = 0, hi = NFOLD;
    while (lo < hi) { /* the last run starting at or before c */
        size_t mid = (lo + hi) / 2;
        if ((int32_t)(fold_key[mid] & 0x1FFFF) <= c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && in_run(lo - 1, c) ? c + fold_delta[lo - 1] : c;
}

int32_t sb_cel__fold_next(uint32_t *it)
{
    for (;;) {
        uint32_t i = *it >> 8, k = *it & 0xFF;
        if (i >= NFOLD)
            return -1;
        uint32_t step = (fold_key[i] >> 25) ? 2 : 1;
        if (k * step > (fold_key[i] >> 17 & 0xFF)) {
            *it = (i + 1) << 8;
            continue;
        }
        (*it)++;
        return (int32_t)((fold_key[i] & 0x1FFFF) + k * step);
    }
}
