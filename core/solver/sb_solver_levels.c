/* Levels of a range parameter: {min, max, scale: linear|log, steps: N} gives N
 * evenly spaced levels (both ends included), {..., samples: N} gives N
 * distinct seeded draws, sorted ascending. Optional: seed (overrides the
 * call's seed for this parameter), integer: true (levels rounded to whole
 * numbers).
 *
 * Portability: levels must come out bit-identical in glibc and wasi-libc, so
 * ln and exp are computed here from basic IEEE operations, and every computed
 * level is rounded to 12 significant digits (printf %.12g and strtod are
 * correctly rounded in both libcs). That rounding also turns
 * 0.30000000000000004 into the 0.3 a person expects. */
#include "sb_solver_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"

#define LN2_HI 6.93147180369123816490e-01 /* trailing zero bits: k * LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN2 1.44269504088896338700e+00

/* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(z), z =
 * (m-1)/(m+1), |z| < 0.172, so 15 odd terms reach below double precision.
 * Summed smallest first (Horner) to keep the error near one ulp. */
double sb_solver__ln(double x)
{
    int e;
    double m = frexp(x, &e);
    if (m < 0.70710678118654752440) {
        m *= 2;
        e--;
    }
    double z = (m - 1) / (m + 1), z2 = z * z, poly = 0;
    for (int k = 29; k >= 1; k -= 2)
        poly = 1.0 / k + z2 * poly;
    return e * LN2_HI + (2 * z * poly + e * LN2_LO);
}

/* y = k ln2 + r with |r| <= ln2/2; e^r by its Taylor series (r^21/21! is far
 * below an ulp), then scaled by 2^k exactly. */
double sb_solver__exp(double y)
{
    if (y > 709.0)
        return HUGE_VAL;
    if (y < -745.0)
        return 0.0;
    double k = floor(y * INV_LN2 + 0.5);
    double r = (y - k * LN2_HI) - k * LN2_LO, p = 1.0;
    for (int i = 21; i >= 1; i--)
        p = 1.0 + r * p / i;
    return ldexp(p, (int)k);
}

static double snap12(double x)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.12g", x);
    return strtod(tmp, NULL);
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 bits, from a splitmix64 stream. */
static double rng_unit(uint64_t *st)
{
    *st += 0x9e3779b97f4a7c15ULL;
    return (double)(mix64(*st) >> 11) * (1.0 / 9007199254740992.0);
}

/* One stream per parameter, so adding a parameter changes no other's draws. */
static uint64_t stream_seed(uint64_t seed, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return mix64(seed ^ h);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct range {
    const char *name;
    double min, max;
    bool log, integer;
    double lmin, lmax; /* ln of the ends when log */
} range;

/* The level at fraction u of the way from min to max (u in [0, 1]). */
static double level_at(const range *r, double u)
{
    double v = r->log ? sb_solver__exp(r->lmin + (r->lmax - r->lmin) * u) : r->min + (r->max - r->min) * u;
    if (r->integer)
        return floor(v + 0.5);
    return snap12(v);
}

static sb_solver_status fail(sb_buf *err, const char *name, const char *what)
{
    sb_buf_printf(err, "parameter_space.%s: %s", name, what);
    return sb_buf_failed(err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
}

static sb_solver_status bad_field(sb_buf *err, const char *name, const char *field, const char *want, sb_val got)
{
    sb_buf_printf(err, "parameter_space.%s.%s: expected %s, got ", name, field, want);
    sb_solver__put_json(err, got);
    return sb_buf_failed(err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
}

static sb_solver_status read_range(sb_val obj, range *r, uint64_t *seed, uint64_t *n, bool *samples, sb_buf *err)
{
    static const char *const known[] = {"min", "max", "scale", "steps", "samples", "seed", "integer"};
    for (size_t i = 0; i < sb_map_len(obj); i++) {
        sb_val k = *sb_map_key_at(obj, i);
        bool ok = false;
        for (size_t j = 0; j < sizeof known / sizeof *known; j++)
            ok = ok || sb_str_eq(k, known[j]);
        if (!ok) {
            sb_buf_printf(err, "parameter_space.%s: unknown key ", r->name);
            sb_solver__put_json(err, k);
            sb_buf_puts(err, " in a range (expected min, max, scale, steps or samples, seed, integer)");
            return sb_buf_failed(err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
        }
    }
    const sb_val *v;
    if (!(v = sb_map_get_str(obj, "min")) || !sb_solver__as_number(*v, &r->min))
        return v ? bad_field(err, r->name, "min", "a number", *v) : fail(err, r->name, "a range needs min");
    if (!(v = sb_map_get_str(obj, "max")) || !sb_solver__as_number(*v, &r->max))
        return v ? bad_field(err, r->name, "max", "a number", *v) : fail(err, r->name, "a range needs max");
    if ((v = sb_map_get_str(obj, "scale"))) {
        if (!sb_str_eq(*v, "linear") && !sb_str_eq(*v, "log"))
            return bad_field(err, r->name, "scale", "\"linear\" or \"log\"", *v);
        r->log = sb_str_eq(*v, "log");
    }
    if ((v = sb_map_get_str(obj, "integer"))) {
        if (v->kind != SB_BOOL)
            return bad_field(err, r->name, "integer", "true or false", *v);
        r->integer = v->as.b;
    }
    if ((v = sb_map_get_str(obj, "seed")) && !sb_solver__as_count(*v, seed))
        return bad_field(err, r->name, "seed", "an integer >= 0", *v);
    const sb_val *steps = sb_map_get_str(obj, "steps"), *draws = sb_map_get_str(obj, "samples");
    if (!steps == !draws)
        return fail(err, r->name, "a range needs exactly one of steps or samples");
    *samples = draws != NULL;
    v = steps ? steps : draws;
    if (!sb_solver__as_count(*v, n) || *n < 1 || *n > SB_SOLVER_MAX_LEVELS) {
        char want[64];
        snprintf(want, sizeof want, "an integer from 1 to %d", SB_SOLVER_MAX_LEVELS);
        return bad_field(err, r->name, steps ? "steps" : "samples", want, *v);
    }
    if (r->min > r->max || (r->min == r->max && (*samples || *n > 1)))
        return fail(err, r->name, "min must be below max");
    if (r->log && !(r->min > 0))
        return fail(err, r->name, "a log scale needs min > 0");
    if (r->integer && (fabs(r->min) > 4503599627370496.0 || fabs(r->max) > 4503599627370496.0))
        return fail(err, r->name, "integer levels must lie within +/-2^52");
    if (r->log) {
        r->lmin = sb_solver__ln(r->min);
        r->lmax = sb_solver__ln(r->max);
    }
    return SB_SOLVER_OK;
}

/* Sorts vals[0..*n) and drops repeats. */
static void sort_unique(double *vals, size_t *n)
{
    qsort(vals, *n, sizeof *vals, cmp_double);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || vals[i] != vals[k - 1])
            vals[k++] = vals[i];
    *n = k;
}

static sb_solver_status fill_steps(const range *r, double *vals, size_t n, sb_buf *err)
{
    for (size_t i = 0; i < n; i++)
        vals[i] = n == 1 ? r->min : level_at(r, (double)i / (double)(n - 1));
    if (!r->integer && n > 1) {
        vals[0] = r->min; /* the ends exactly as written */
        vals[n - 1] = r->max;
    }
    size_t k = n;
    sort_unique(vals, &k);
    if (k < n)
        return fail(err, r->name, "the steps are too fine: some levels coincide (after rounding)");
    return SB_SOLVER_OK;
}

static sb_solver_status fill_samples(const range *r, uint64_t seed, double *vals, size_t n, sb_buf *err)
{
    if (r->integer && floor(r->max) - ceil(r->min) + 1 < (double)n)
        return fail(err, r->name, "more samples than whole numbers between min and max");
    uint64_t st = stream_seed(seed, r->name);
    size_t have = 0;
    /* Redraw only what repeats; each round keeps everything distinct so far. */
    for (int round = 0; round < 64 && have < n; round++) {
        while (have < n)
            vals[have++] = level_at(r, rng_unit(&st));
        sort_unique(vals, &have);
    }
    if (have < n)
        return fail(err, r->name, "could not draw that many distinct samples between min and max");
    return SB_SOLVER_OK;
}

sb_solver_status sb_solver__range_levels(sb_val obj, const char *name, uint64_t seed, sb_val **levels, size_t *n,
                                         sb_buf *err)
{
    *levels = NULL;
    *n = 0;
    range r = {.name = name};
    uint64_t count = 0;
    bool samples = false;
    sb_solver_status st = read_range(obj, &r, &seed, &count, &samples, err);
    if (st != SB_SOLVER_OK)
        return st;
    double *vals = sb_malloc((size_t)count * sizeof *vals);
    if (!vals)
        return SB_SOLVER_ENOMEM;
    st = samples ? fill_samples(&r, seed, vals, (size_t)count, err) : fill_steps(&r, vals, (size_t)count, err);
    sb_val *out = st == SB_SOLVER_OK ? sb_malloc((size_t)count * sizeof *out) : NULL;
    if (st == SB_SOLVER_OK && !out)
        st = SB_SOLVER_ENOMEM;
    if (out)
        for (size_t i = 0; i < count; i++)
            out[i] = r.integer ? sb_int((int64_t)vals[i]) : sb_double(vals[i]);
    sb_free(vals);
    if (st == SB_SOLVER_OK) {
        *levels = out;
        *n = (size_t)count;
    }
    return st;
}
