/* The simulated training run: how long a job takes, what it costs, what it
 * scores and whether it fails. All of it is decided when the job is
 * submitted, from the seed, the handle and job ids and the hyperparameters,
 * so the answer does not depend on when or how often anyone polls.
 *
 * Portability: only IEEE arithmetic, sqrt-free, and libm functions that are
 * exact everywhere (floor, frexp). exp/log/pow may differ in the last bit
 * between glibc and wasi-libc, so the logarithm is computed here, and metrics
 * are rounded (0.01 for val_acc) before anyone sees them. */
#include "sb_csim_int.h"

#include "../util/sb_alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LN2 0.69314718055994530942
#define LN10 2.30258509299404568402

/* --- randomness: splitmix64, one private stream per job --- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rng_next(uint64_t *st)
{
    *st += 0x9e3779b97f4a7c15ULL;
    return mix64(*st);
}

/* Uniform in [0, 1), 53 bits. */
static double rng_unit(uint64_t *st)
{
    return (double)(rng_next(st) >> 11) * (1.0 / 9007199254740992.0);
}

/* --- arithmetic --- */

/* Natural log for x > 0: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(z), z = (m-1)/(m+1), |z| < 0.172, so the odd series is done
 * (to well below double precision) in 15 terms. */
static double csim_ln(double x)
{
    int e;
    double m = frexp(x, &e);
    if (m < 0.70710678118654752440) {
        m *= 2;
        e--;
    }
    double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 1; k < 32; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return 2 * sum + e * LN2;
}

double sb_csim__round_to(double x, double per)
{
    return floor(x * per + 0.5) / per;
}

double sb_csim__cost(const sb_csim *s, int64_t ms)
{
    double hours = (double)ms / 3600000.0;
    return sb_csim__round_to(hours * s->opt.gpus_per_trial * s->opt.gpu_hour_usd, 100);
}

/* A penalty that grows like a*d^2 near the optimum and levels off at a/b far
 * away: smooth, monotone, and no exp() needed. */
static double falloff(double d, double a, double b)
{
    return a * d * d / (1 + b * d * d);
}

/* --- hyperparameters --- */

static bool is_number(sb_val v)
{
    return v.kind == SB_INT || v.kind == SB_UINT || v.kind == SB_DOUBLE;
}

static const sb_val *param(sb_val hyper, const char *name, const char *alias)
{
    const sb_val *v = sb_map_get_str(hyper, name);
    if (!v && alias)
        v = sb_map_get_str(hyper, alias);
    return v;
}

static bool positive_integer(sb_val v, double *out)
{
    double d;
    if (!is_number(v) || !sb_val_as_double(v, &d) || !isfinite(d) || d <= 0 || d != floor(d))
        return false;
    *out = d;
    return true;
}

typedef struct csim_hp {
    double lr, batch, dropout, epochs;
    bool has_lr, has_batch, has_dropout;
} csim_hp;

/* Reads and checks the hyperparameters the surface knows. Returns NULL when
 * they are valid, else the reason, with *bad the offending value. */
static const char *read_hp(sb_val hyper, csim_hp *hp, const sb_val **bad)
{
    memset(hp, 0, sizeof *hp);
    hp->epochs = 20;
    const sb_val *v = param(hyper, "learning_rate", "lr");
    if (v) {
        *bad = v;
        if (!is_number(*v) || !sb_val_as_double(*v, &hp->lr) || !isfinite(hp->lr) || !(hp->lr > 0))
            return "learning_rate must be a number > 0";
        hp->has_lr = true;
    }
    if ((v = param(hyper, "batch_size", NULL))) {
        *bad = v;
        if (!positive_integer(*v, &hp->batch))
            return "batch_size must be a positive integer";
        hp->has_batch = true;
    }
    if ((v = param(hyper, "dropout", NULL))) {
        *bad = v;
        if (!is_number(*v) || !sb_val_as_double(*v, &hp->dropout) || !(hp->dropout >= 0 && hp->dropout < 1))
            return "dropout must be a number in [0, 1)";
        hp->has_dropout = true;
    }
    if ((v = param(hyper, "epochs", NULL)) && positive_integer(*v, &hp->epochs) && hp->epochs > 1e6)
        hp->epochs = 1e6; /* only names the epoch of a NaN; keep it an int */
    return NULL;
}

/* --- the surface and its settings --- */

void sb_csim_surface_init(struct sb_csim_surface *sf)
{
    *sf = (struct sb_csim_surface){.set = true,
                                   .opt_lr = 0.001,
                                   .opt_batch = 64,
                                   .opt_dropout = 0.3,
                                   .best_value = 86.0,
                                   .noise = 0.3,
                                   .duration_jitter = 0.1,
                                   .nan_lr = 0.1,
                                   .nan_lr_large_batch = 0.01,
                                   .large_batch = 128};
}

static const struct sb_csim_surface *surface_of(const sb_csim *s, struct sb_csim_surface *def)
{
    if (s->opt.surface.set)
        return &s->opt.surface;
    sb_csim_surface_init(def);
    return def;
}

/* A number field of map in [lo, hi] (lo excluded when lo_open); absent keeps
 * *out. */
static bool sim_number(sb_val map, const char *key, double lo, bool lo_open, double hi, double *out)
{
    const sb_val *v = sb_map_get_str(map, key);
    if (!v)
        return true;
    double d;
    if (!is_number(*v) || !sb_val_as_double(*v, &d) || !isfinite(d) || d < lo || (lo_open && d == lo) || d > hi)
        return false;
    *out = d;
    return true;
}

static bool sim_map(sb_val map, const char *key, const sb_val **out)
{
    *out = sb_map_get_str(map, key);
    return !*out || (*out)->kind == SB_MAP;
}

bool sb_csim_options_from_simulation(sb_csim_options *o, sb_val sim)
{
    if (sim.kind != SB_MAP)
        return false;
    sb_csim_options n = *o;
    if (!n.surface.set)
        sb_csim_surface_init(&n.surface);
    struct sb_csim_surface *sf = &n.surface;
    double conc = n.max_concurrent, epochs = n.epochs;
    const sb_val *surf, *opt = NULL, *nan;
    bool ok = sim_number(sim, "max_concurrent", 1, false, 1e9, &conc) && conc == floor(conc) &&
              sim_number(sim, "infra_failure_rate", 0, false, 1, &n.infra_failure_rate) &&
              sim_number(sim, "duration_jitter", 0, false, 0.99, &sf->duration_jitter) && sim_map(sim, "surface", &surf) &&
              sim_number(sim, "epochs", 0, false, 1e6, &epochs) && epochs == floor(epochs) &&
              sim_map(sim, "nan_loss", &nan);
    if (ok && surf)
        ok = sim_number(*surf, "best_value", -1e9, false, 1e9, &sf->best_value) &&
             sim_number(*surf, "noise", 0, false, 1e6, &sf->noise) && sim_map(*surf, "optimum", &opt);
    if (ok && opt)
        ok = sim_number(*opt, "learning_rate", 0, true, 1e9, &sf->opt_lr) &&
             sim_number(*opt, "batch_size", 0, true, 1e12, &sf->opt_batch) &&
             sim_number(*opt, "dropout", 0, false, 0.999999, &sf->opt_dropout);
    if (ok && nan)
        ok = sim_number(*nan, "learning_rate", 0, true, 1e300, &sf->nan_lr) &&
             sim_number(*nan, "large_batch_learning_rate", 0, true, 1e300, &sf->nan_lr_large_batch) &&
             sim_number(*nan, "large_batch_size", 0, true, 1e300, &sf->large_batch);
    if (!ok)
        return false;
    n.max_concurrent = (int)conc;
    n.epochs = (int)epochs;
    *o = n;
    return true;
}

/* val_acc before noise. The optimum is the surface's (by default lr 0.001,
 * batch 64, dropout 0.3 at 86); distance is measured in decades of learning
 * rate (too high hurts a bit more than too low), octaves of batch size and
 * steps of 0.2 dropout. Parameters the job does not set cost nothing. */
static double surface(const struct sb_csim_surface *sf, const csim_hp *hp)
{
    double p = 0;
    if (hp->has_lr) {
        double d = (csim_ln(hp->lr) - csim_ln(sf->opt_lr)) / LN10;
        if (d > 0)
            d *= 1.15;
        p += falloff(d, 6.0, 0.25);
    }
    if (hp->has_batch)
        p += falloff((csim_ln(hp->batch) - csim_ln(sf->opt_batch)) / LN2, 1.6, 0.2);
    if (hp->has_dropout)
        p += falloff((hp->dropout - sf->opt_dropout) / 0.2, 1.2, 0.3);
    return sf->best_value - p;
}

/* --- the cost model --- */

static bool scale_key_matches(sb_val key, sb_val v)
{
    if (key.kind != SB_STRING)
        return sb_val_equal(key, v);
    if (v.kind == SB_STRING)
        return sb_val_equal(key, v);
    double want, got;
    if (!is_number(v) || !sb_val_as_double(v, &got) || sb_str_len(key) == 0)
        return false;
    char *end;
    want = strtod(sb_str(key), &end);
    return *end == '\0' && want == got;
}

/* base_hours times every duration_scale factor whose value the job has. */
static double estimated_hours(const sb_csim *s, sb_val hyper)
{
    double hours = s->opt.base_hours;
    sb_val scale = s->opt.duration_scale;
    for (size_t i = 0; i < sb_map_len(scale); i++) {
        const sb_val *name = sb_map_key_at(scale, i), *table = sb_map_val_at(scale, i);
        const sb_val *v = name->kind == SB_STRING ? sb_map_get_str(hyper, sb_str(*name)) : NULL;
        if (!v || table->kind != SB_MAP)
            continue;
        for (size_t k = 0; k < sb_map_len(*table); k++) {
            double f;
            if (scale_key_matches(*sb_map_key_at(*table, k), *v) && sb_val_as_double(*sb_map_val_at(*table, k), &f)) {
                hours *= f;
                break;
            }
        }
    }
    return hours;
}

double sb_csim__quote(const sb_csim *s, sb_val hyper)
{
    return estimated_hours(s, hyper) * s->opt.gpus_per_trial * s->opt.gpu_hour_usd;
}

/* Whole seconds, at least one, as ms. */
static int64_t seconds_ms(double seconds)
{
    double r = floor(seconds + 0.5);
    if (!(r >= 1))
        r = 1;
    if (r > 1e12)
        r = 1e12;
    return (int64_t)r * 1000;
}

static sb_val invalid_message(const char *why, sb_val bad)
{
    char *got = sb_val_to_json(bad, 0);
    if (!got)
        return sb_oom();
    sb_val m = sb_errorf("invalid config: %s (got %s)", why, got);
    sb_free(got);
    if (m.kind != SB_ERROR || sb_is_oom(m))
        return sb_oom();
    sb_val str = sb_string(sb_str(m), sb_str_len(m));
    sb_val_free(m);
    return str;
}

/* --- learning curves --- */

int64_t sb_csim__step_at(const sb_csim *s, const csim_job *j, int64_t now)
{
    if (s->opt.epochs <= 0 || s->exec || j->status != CSIM_RUNNING || j->epochs < 2 || j->full_ms <= 0 ||
        now <= j->started_ms)
        return 0;
    /* In doubles: ms up to 2^62 times epochs up to 10^6 overflows int64. */
    double step = floor((double)(now - j->started_ms) * (double)j->epochs / (double)j->full_ms);
    return step >= (double)j->epochs - 1 ? (int64_t)j->epochs - 1 : (int64_t)step;
}

/* The curve is x (1 + a) / (x + a) of the way from chance (10) to the job's
 * final val_acc at x = step / epochs, a = 0.25 / rate: saturating, exactly
 * the final value at the last epoch, with noise that fades as it converges
 * (uniform, +- 1.5 points at the start). A job that will diverge (NaN loss)
 * shows its training loss climbing instead of falling. Rational arithmetic
 * only (see the top of this file), rounded like the final metrics. */
void sb_csim__curve(const sb_csim *s, const csim_job *j, int64_t step, double *val_acc, double *train_loss)
{
    (void)s;
    double x = (double)step / (double)(j->epochs ? j->epochs : 1);
    double a = 0.25 / j->curve_rate;
    double g = x * (1 + a) / (x + a);
    uint64_t st = j->curve_seed ^ mix64((uint64_t)step + 1);
    double u = rng_unit(&st), u2 = rng_unit(&st);
    double acc = 10 + (j->val_acc - 10) * g + (u - 0.5) * 3 * (1 - x);
    if (acc < 0)
        acc = 0;
    if (acc > 99.5)
        acc = 99.5;
    *val_acc = sb_csim__round_to(acc, 100);
    double loss = 0.05 + 0.012 * (100 - acc) + (u2 - 0.5) * 0.006;
    if (j->outcome == CSIM_OUT_NAN)
        loss = 1.2 + 4 * x;
    *train_loss = sb_csim__round_to(loss, 10000);
}

bool sb_csim__plan_job(const sb_csim *s, csim_job *j, sb_val handle_id, bool retry_infra)
{
    j->error = sb_null();
    j->val_acc = j->train_loss = 0;
    csim_hp hp;
    const sb_val *bad = NULL;
    const char *why = read_hp(j->hyper, &hp, &bad);
    if (why) {
        j->outcome = CSIM_OUT_INVALID;
        j->run_ms = 0;
        j->error = invalid_message(why, *bad);
        return j->error.kind == SB_STRING;
    }

    uint64_t st = s->opt.seed ^ mix64(sb_csim__hash(sb_str(handle_id), sb_str_len(handle_id)));
    st = mix64(st ^ mix64(sb_csim__hash(sb_str(j->id), sb_str_len(j->id)) + 0x9e3779b97f4a7c15ULL));
    /* Every draw is made whatever the outcome, so each number keeps its place
     * in the stream. */
    double u_dur = rng_unit(&st), u_acc1 = rng_unit(&st), u_acc2 = rng_unit(&st), u_loss = rng_unit(&st);
    double u_infra = rng_unit(&st), u_infra_at = rng_unit(&st), u_infra_kind = rng_unit(&st);
    double u_nan_at = rng_unit(&st);
    /* The curve's stream comes after every earlier draw, so answers without
     * curves are what they were. */
    j->curve_seed = mix64(st ^ 0x6a09e667f3bcc909ULL);

    struct sb_csim_surface def;
    const struct sb_csim_surface *sf = surface_of(s, &def);
    /* 1 - 0.1 and 2 * 0.1 are exactly 0.9 and 0.2: the default spread gives
     * the same doubles as before it was configurable. */
    double seconds = estimated_hours(s, j->hyper) * 3600.0 * ((1 - sf->duration_jitter) + 2 * sf->duration_jitter * u_dur);
    int64_t dur_ms = seconds_ms(seconds);
    j->full_ms = dur_ms;
    j->epochs = param(j->hyper, "epochs", NULL) || s->opt.epochs <= 0 ? (uint32_t)hp.epochs : (uint32_t)s->opt.epochs;
    /* Larger learning rates learn a little faster (and smaller slower): 15%
     * per decade from the optimum, at most two decades either way. */
    double decades = hp.has_lr ? (csim_ln(hp.lr) - csim_ln(sf->opt_lr)) / LN10 : 0;
    if (decades > 2)
        decades = 2;
    if (decades < -2)
        decades = -2;
    j->curve_rate = 1 + 0.15 * decades;

    double acc = surface(sf, &hp) + (u_acc1 + u_acc2 - 1) * sf->noise; /* triangular, +-noise */
    if (acc < 10)
        acc = 10;
    if (acc > 99.5)
        acc = 99.5;
    j->val_acc = sb_csim__round_to(acc, 100);
    j->train_loss = sb_csim__round_to(0.05 + 0.012 * (100 - j->val_acc) + (u_loss - 0.5) * 0.006, 10000);

    bool nan = hp.has_lr && (hp.lr >= sf->nan_lr ||
                             (hp.lr >= sf->nan_lr_large_batch && hp.has_batch && hp.batch >= sf->large_batch));
    /* A retry of a job that hit the infrastructure is spared, so no job is
     * struck twice in a row. */
    bool infra = !retry_infra && u_infra < s->opt.infra_failure_rate;
    if (nan) {
        double f = 0.15 + 0.15 * u_nan_at;
        int epoch = (int)floor(f * hp.epochs) + 1;
        if (epoch > hp.epochs)
            epoch = (int)hp.epochs;
        j->outcome = CSIM_OUT_NAN;
        j->run_ms = seconds_ms((double)dur_ms / 1000.0 * f);
        sb_val m = sb_errorf("NaN loss detected at epoch %d", epoch);
        j->error = sb_is_oom(m) ? m : sb_string(sb_str(m), sb_str_len(m));
        sb_val_free(m);
    } else if (infra) {
        j->outcome = CSIM_OUT_INFRA;
        j->run_ms = seconds_ms((double)dur_ms / 1000.0 * (0.05 + 0.9 * u_infra_at));
        j->error = sb_string_cstr(u_infra_kind < 0.5 ? "CUDA out of memory" : "connection reset by peer");
    } else {
        j->outcome = CSIM_OUT_OK;
        j->run_ms = dur_ms;
        return true;
    }
    if (j->error.kind != SB_STRING) {
        j->error = sb_null();
        return false;
    }
    return true;
}
