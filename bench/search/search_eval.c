/* The simulated cluster as a function, for search benchmarks whose peers
 * (random subsets, Optuna) must see the numbers sibyl's own runs see. One
 * JSON object per stdin line:
 *   {"seed": N, "simulation": {...the workspace's simulation section...},
 *    "job_id": "job_007", "hyperparameters": {...}}
 * one JSON object per stdout line:
 *   {"status": "completed"|"failed", "val_acc": x|null, "true_val_acc": y, "cost_usd": c}
 * The job runs alone on a fresh cluster with that seed, handle h_0001 and
 * that job id: the same draws as the job of that id in a sweep with that
 * seed (the draws depend only on seed, handle and job id). true_val_acc is
 * the surface without noise. The workspace's cost model is the example's.
 * With simulation.epochs the answer also has "curve": the val_acc the job
 * reported at each epoch it reached before it ended (index 0: epoch 1; the
 * last epoch of a completed job is its val_acc), read by polling its status
 * every simulated minute, as a client would see it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conductor/sb_conductor_sim.h"
#include "util/sb_alloc.h"
#include "json/sb_json.h"

#define COST_MODEL                                                                                                     \
    "{\"gpu_hour_usd\":12.6,\"gpus_per_trial\":1,\"base_hours\":2.0,"                                                  \
    "\"duration_scale\":{\"batch_size\":{\"32\":1.15,\"64\":1.0,\"128\":0.85}}}"

/* curve: when not NULL, filled with one val_acc per epoch reached (n of them). */
static sb_val run_job(const sb_csim_options *o, sb_val job_id, sb_val hyper, double *curve, int *n)
{
    sb_csim *s = sb_csim_create(o);
    sb_val args = sb_map_new(1), jobs = sb_list_new(1), spec = sb_map_new(2);
    sb_map_set_str(&spec, "job_id", sb_val_ref(job_id));
    sb_map_set_str(&spec, "hyperparameters", sb_val_ref(hyper));
    sb_list_push(&jobs, spec);
    sb_map_set_str(&args, "jobs", jobs);
    sb_val r = sb_csim_call(s, 0, "submit_jobs", args);
    sb_val_free(r);
    sb_val_free(args);
    int64_t t = sb_csim_next_event_ms(s, 0);
    for (int64_t at = 60000; curve && t > 0 && at < t; at += 60000) {
        sb_val a = sb_map_new(1);
        sb_map_set_str(&a, "handle_id", sb_string_cstr("h_0001"));
        sb_val st = sb_csim_call(s, at, "get_jobs_status", a);
        sb_val_free(a);
        const sb_val *sc = sb_map_get_str(st, "structuredContent");
        const sb_val *jl = sc ? sb_map_get_str(*sc, "jobs") : NULL;
        const sb_val *pr = jl && sb_list_len(*jl) ? sb_map_get_str(*sb_list_at(*jl, 0), "progress") : NULL;
        const sb_val *step = pr ? sb_map_get_str(*pr, "step") : NULL;
        const sb_val *m = pr ? sb_map_get_str(*pr, "metrics") : NULL;
        const sb_val *acc = m ? sb_map_get_str(*m, "val_acc") : NULL;
        double d;
        if (step && step->kind == SB_INT && step->as.i == *n + 1 && step->as.i <= 1000 && acc &&
            sb_val_as_double(*acc, &d))
            curve[(*n)++] = d;
        sb_val_free(st);
    }
    args = sb_map_new(1);
    sb_map_set_str(&args, "handle_id", sb_string_cstr("h_0001"));
    r = sb_csim_call(s, t < 0 ? 0 : t, "get_jobs_status", args);
    sb_val_free(args);
    sb_csim_free(s);
    const sb_val *sc = sb_map_get_str(r, "structuredContent");
    const sb_val *list = sc ? sb_map_get_str(*sc, "jobs") : NULL;
    sb_val job = list && sb_list_len(*list) ? sb_val_ref(*sb_list_at(*list, 0)) : sb_null();
    sb_val_free(r);
    return job;
}

static double metric(sb_val job)
{
    const sb_val *m = sb_map_get_str(job, "metrics");
    const sb_val *v = m ? sb_map_get_str(*m, "val_acc") : NULL;
    double d = 0;
    return v && sb_val_as_double(*v, &d) ? d : -1;
}

int main(void)
{
    sb_val cm = sb_json_parse(COST_MODEL, strlen(COST_MODEL));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        sb_val q = sb_json_parse(line, (size_t)n);
        const sb_val *seed = q.kind == SB_MAP ? sb_map_get_str(q, "seed") : NULL;
        const sb_val *sim = q.kind == SB_MAP ? sb_map_get_str(q, "simulation") : NULL;
        const sb_val *id = q.kind == SB_MAP ? sb_map_get_str(q, "job_id") : NULL;
        const sb_val *hp = q.kind == SB_MAP ? sb_map_get_str(q, "hyperparameters") : NULL;
        sb_csim_options o;
        sb_csim_options_init(&o);
        sb_csim_options_from_cost_model(&o, cm);
        double sd = 0;
        if (!seed || !sb_val_as_double(*seed, &sd) || !id || id->kind != SB_STRING || !hp || hp->kind != SB_MAP ||
            (sim && !sb_csim_options_from_simulation(&o, *sim))) {
            fprintf(stderr, "search_eval: bad request: %s", line);
            return 2;
        }
        o.seed = seed->kind == SB_UINT ? seed->as.u : (uint64_t)sd;
        static double curve[1001];
        int ncurve = 0;
        sb_val job = run_job(&o, *id, *hp, o.epochs > 0 ? curve : NULL, &ncurve);
        sb_csim_options exact = o;
        if (!exact.surface.set)
            sb_csim_surface_init(&exact.surface);
        exact.surface.noise = 0;
        exact.infra_failure_rate = 0;
        exact.surface.nan_lr = exact.surface.nan_lr_large_batch = 1e300; /* the surface even where it diverges */
        exact.epochs = 0;
        sb_val truth = run_job(&exact, *id, *hp, NULL, NULL);
        const sb_val *st = sb_map_get_str(job, "status"), *cost = sb_map_get_str(job, "cost_usd");
        double c = 0;
        if (cost)
            sb_val_as_double(*cost, &c);
        bool ok = st && sb_str_eq(*st, "completed");
        if (ok && ncurve < 1001)
            curve[ncurve++] = metric(job);
        if (o.epochs > 0) {
            printf("{\"curve\":[");
            for (int k = 0; k < ncurve; k++)
                printf("%s%.2f", k ? "," : "", curve[k]);
            printf("],\"epochs\":%d,", o.epochs);
        } else {
            printf("{");
        }
        if (ok)
            printf("\"status\":\"completed\",\"val_acc\":%.2f,\"true_val_acc\":%.2f,\"cost_usd\":%.2f}\n", metric(job),
                   metric(truth), c);
        else
            printf("\"status\":\"failed\",\"val_acc\":null,\"true_val_acc\":%.2f,\"cost_usd\":%.2f}\n", metric(truth),
                   c);
        fflush(stdout);
        sb_val_free(job);
        sb_val_free(truth);
        sb_val_free(q);
    }
    free(line);
    sb_val_free(cm);
    return 0;
}
