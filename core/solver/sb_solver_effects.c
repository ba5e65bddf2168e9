/* The model behind suggest_trials: an additive (main-effects) model over the
 * levels, y = grand + sum_p effect[p][level_p] + noise, fitted by
 * backfitting, which stays exact for the unbalanced designs an adaptive
 * search makes (level means alone are biased once the search concentrates).
 * A trial's score is its prediction plus an exploration bonus that grows
 * with the noise and shrinks with how often its levels have been seen; a
 * level never seen is as good as the best seen level of its parameter, so one
 * trial is enough to learn it. Deterministic: fixed iteration count and
 * order, IEEE basic arithmetic only (sqrt is exactly rounded). */
#include "sb_solver_int.h"

#include <math.h>
#include <string.h>

#include "../util/sb_alloc.h"

/* Enough sweeps for the designs a sweep makes (3-10 levels): the effects
 * move by less than 1e-12 after this many on every case tested. */
#define BACKFIT_SWEEPS 40
/* Weight of the exploration bonus, in units of the residual noise. */
#define EXPLORE_WEIGHT 1.0

bool sb_solver__effects_fit(sb_solver_effects *m, const sb_solver_spec *spec, const uint16_t *obs, const double *y,
                            size_t nobs)
{
    memset(m, 0, sizeof *m);
    m->nparams = spec->nparams;
    m->off = sb_malloc((spec->nparams + 1) * sizeof *m->off);
    if (!m->off)
        return false;
    m->off[0] = 0;
    for (size_t p = 0; p < spec->nparams; p++)
        m->off[p + 1] = m->off[p] + spec->params[p].nlevels;
    size_t total = m->off[spec->nparams];
    m->effect = sb_calloc(total ? total : 1, sizeof *m->effect);
    m->count = sb_calloc(total ? total : 1, sizeof *m->count);
    double *sum = sb_calloc(total ? total : 1, sizeof *sum);
    double *fit = sb_calloc(nobs ? nobs : 1, sizeof *fit); /* current sum of effects per observation */
    if (!m->effect || !m->count || !sum || !fit) {
        sb_free(sum);
        sb_free(fit);
        sb_solver__effects_free(m);
        return false;
    }
    m->nobs = nobs;
    double g = 0;
    for (size_t i = 0; i < nobs; i++) {
        g += y[i];
        for (size_t p = 0; p < spec->nparams; p++)
            m->count[m->off[p] + obs[i * spec->nparams + p]]++;
    }
    m->grand = nobs ? g / (double)nobs : 0;
    for (int sweep = 0; nobs && sweep < BACKFIT_SWEEPS; sweep++) {
        for (size_t p = 0; p < spec->nparams; p++) {
            double *e = m->effect + m->off[p];
            memset(sum + m->off[p], 0, spec->params[p].nlevels * sizeof *sum);
            for (size_t i = 0; i < nobs; i++) {
                uint16_t l = obs[i * spec->nparams + p];
                sum[m->off[p] + l] += y[i] - m->grand - (fit[i] - e[l]);
            }
            for (size_t l = 0; l < spec->params[p].nlevels; l++) {
                uint32_t n = m->count[m->off[p] + l];
                double ne = n ? sum[m->off[p] + l] / n : 0;
                e[l] = ne;
            }
            for (size_t i = 0; i < nobs; i++) {
                fit[i] = 0;
                for (size_t q = 0; q < spec->nparams; q++)
                    fit[i] += m->effect[m->off[q] + obs[i * spec->nparams + q]];
            }
        }
    }
    /* Residual noise, over the degrees of freedom the levels seen leave. */
    size_t dof = 1;
    for (size_t p = 0; p < spec->nparams; p++) {
        size_t seen = 0;
        for (size_t l = 0; l < spec->params[p].nlevels; l++)
            seen += m->count[m->off[p] + l] ? 1 : 0;
        dof += seen ? seen - 1 : 0;
    }
    double rss = 0, tss = 0;
    for (size_t i = 0; i < nobs; i++) {
        double r = y[i] - m->grand - fit[i];
        rss += r * r;
        tss += (y[i] - m->grand) * (y[i] - m->grand);
    }
    if (nobs > dof)
        m->sigma = sqrt(rss / (double)(nobs - dof));
    else
        m->sigma = nobs > 1 ? sqrt(tss / (double)(nobs - 1)) : 1;
    if (!(m->sigma > 0))
        m->sigma = 1e-9 * (fabs(m->grand) + 1);
    /* Unseen levels: as good as the best seen level of the parameter. */
    for (size_t p = 0; p < spec->nparams; p++) {
        double best = 0;
        bool any = false;
        for (size_t l = 0; l < spec->params[p].nlevels; l++)
            if (m->count[m->off[p] + l] && (!any || m->effect[m->off[p] + l] > best))
                best = m->effect[m->off[p] + l], any = true;
        for (size_t l = 0; l < spec->params[p].nlevels; l++)
            if (!m->count[m->off[p] + l])
                m->effect[m->off[p] + l] = best;
    }
    sb_free(sum);
    sb_free(fit);
    return true;
}

double sb_solver__effects_predict(const sb_solver_effects *m, const uint16_t *combo)
{
    double s = m->grand;
    for (size_t p = 0; p < m->nparams; p++)
        s += m->effect[m->off[p] + combo[p]];
    return s;
}

double sb_solver__effects_score(const sb_solver_effects *m, const uint16_t *combo)
{
    double u = 0;
    for (size_t p = 0; p < m->nparams; p++)
        u += 1.0 / (1.0 + m->count[m->off[p] + combo[p]]);
    return sb_solver__effects_predict(m, combo) + EXPLORE_WEIGHT * m->sigma * sqrt(u / (double)m->nparams);
}

void sb_solver__effects_free(sb_solver_effects *m)
{
    sb_free(m->off);
    sb_free(m->effect);
    sb_free(m->count);
    memset(m, 0, sizeof *m);
}
