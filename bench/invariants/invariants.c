/* Randomized invariants of the hard budget (issue 10, docs/budget.md).
 *
 *   invariants [RUNS [FIRST_SEED]]     (default 10000 runs from seed 1)
 *
 * Each run is one embedded sweep, in process: the core's run with the
 * embedded Solver and simulated Conductor (sb_services), on a virtual clock,
 * with a workspace and pipeline drawn from the seed: budget ($1 to ~$2,000),
 * parameter space (1 to 4 parameters, 1 to 5 levels), cost model (price,
 * hours, duration scale, cap margin), cluster (slots, infrastructure failure
 * rate), estimates (the planner's hours the cluster's, or 0.4x to 1.2x; the
 * estimates submitted as planned, scaled down or up, or left out so the
 * Conductor quotes), retry policy (none, or 1-3 attempts, transient only
 * or every failure), search (half the runs the fixed plan, half the
 * adaptive search: suggest_trials for a balanced start, then a suggest step
 * on every finished job adding trials to the same handle) and the simulated
 * surface (optimum, best value, noise, duration jitter). After each run it
 * checks:
 *   1. spent <= budget: total_cost, the ledger's total and the sum of the
 *      streamed costs, in cents;
 *   2. every submitted job is accounted for: the jobs the Conductor accepted
 *      (counted from its answers) = completed + failed + cancelled +
 *      stopped at cap + unstarted in the outputs, none left running or
 *      queued, one stream chunk each;
 *   3. the log agrees with the outputs: its WARN lines for jobs stopped at
 *      their cap and left unstarted, its final "All N jobs ... finished"
 *      counts and its STREAM lines match the result's numbers.
 * With `early-stopping` as third argument every run also has the simulated
 * Conductor's learning curves (5 to 20 epochs) and an early_stopping rule on
 * its poll step (asha or median, rungs listed or from min_steps, random
 * reduction factor and grace), drawn from a stream of their own; the jobs
 * the rule stopped count among the accounted-for and cancelled jobs, and
 * each has its WARN line.
 * Prints how many runs it checked and every seed that breaks an invariant,
 * with what broke; exits 1 if any did. The suite runs a short version
 * (tests/engine: invariants_short, 200 runs). */
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/sb_config.h"
#include "engine/sb_run.h"
#include "json/sb_json.h"
#include "services/sb_services.h"
#include "util/sb_alloc.h"
#include "util/sb_buf.h"
#include "util/sb_diag.h"
#include "util/sb_grow.h"

/* --- the seed's choices --- */

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static int pick(uint64_t *s, int lo, int hi) { return lo + (int)(next(s) % (uint64_t)(hi - lo + 1)); }
static double unit(uint64_t *s) { return (double)(next(s) >> 11) / 9007199254740992.0; }

typedef struct sweep {
    sb_buf ws, pl;
    double budget;
} sweep;

static const char *const lr_levels[] = {"0.0001", "0.0003", "0.001", "0.003", "0.01", "0.05", "0.1"};
static const char *const bs_levels[] = {"16", "32", "64", "128", "256"};
static const char *const do_levels[] = {"0.0", "0.1", "0.3", "0.5", "0.7"};
static const char *const wd_levels[] = {"0", "0.0001", "0.001", "0.01"};

static void levels(sb_buf *b, uint64_t *s, const char *name, const char *const *all, int n, bool *first)
{
    int k = pick(s, 1, n < 5 ? n : 5), start = pick(s, 0, n - k);
    sb_buf_printf(b, "%s\"%s\":[", *first ? "" : ",", name);
    for (int i = 0; i < k; i++)
        sb_buf_printf(b, "%s%s", i ? "," : "", all[start + i]);
    sb_buf_puts(b, "]");
    *first = false;
}

/* The adaptive search and the surface draw from a stream of their own, so
 * the other choices of a seed are those they always were. */
typedef struct search_choice {
    bool adaptive;
    double opt_lr, opt_dropout, best, noise, jitter;
    int opt_batch;
} search_choice;

static search_choice choose_search(uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 0x5eed;
    static const double lrs[] = {0.0001, 0.0003, 0.001, 0.003, 0.01};
    static const int batches[] = {16, 32, 64, 128, 256};
    search_choice c;
    c.adaptive = pick(&s, 0, 1);
    c.opt_lr = lrs[pick(&s, 0, 4)];
    c.opt_batch = batches[pick(&s, 0, 4)];
    c.opt_dropout = 0.1 * pick(&s, 0, 7);
    c.best = 70 + unit(&s) * 25;
    c.noise = unit(&s) * 2;
    c.jitter = unit(&s) * 0.5;
    return c;
}

static bool early_stopping_mode;

/* The early_stopping settings and epochs of a seed (own stream). */
static void early_stopping_yaml(uint64_t seed, sb_buf *pl, int *epochs)
{
    uint64_t s = seed * 0xD1B54A32D192ED03ULL + 0xe5;
    *epochs = pick(&s, 5, 20);
    bool asha = pick(&s, 0, 1);
    sb_buf_printf(pl, "        early_stopping: {rule: %s, metric: val_acc, reduction_factor: %.2f, grace: %d, ",
                  asha ? "asha" : "median", 1.5 + unit(&s) * 3, pick(&s, 0, 5));
    if (pick(&s, 0, 1)) {
        int a = pick(&s, 1, *epochs / 2), b = a + pick(&s, 1, *epochs / 2);
        sb_buf_printf(pl, "rungs: [%d, %d]}\n", a, b);
    } else {
        sb_buf_printf(pl, "min_steps: %d}\n", pick(&s, 1, 4));
    }
}

static void make_sweep(sweep *w, uint64_t seed)
{
    search_choice sc = choose_search(seed);
    uint64_t s = seed * 0x2545F4914F6CDD1DULL + 1;
    double price = 1 + unit(&s) * 29, hours = 0.25 + unit(&s) * 3.75, margin = unit(&s) * 0.5;
    /* Budgets in cents: one run in ten $1 to $5 (no trial fits, or one),
     * the others from half a trial to about 40 trials. */
    if (pick(&s, 0, 9) == 0)
        w->budget = 1 + floor(unit(&s) * 400) / 100;
    else
        w->budget = floor(price * hours * (0.5 + unit(&s) * 40) * 100) / 100;
    if (w->budget < 1)
        w->budget = 1;
    int slots = pick(&s, 1, 8);
    double infra = unit(&s) * 0.3;
    sb_buf_printf(&w->ws,
                  "version: 1\n"
                  "servers:\n"
                  "  solver: {transport: embedded, service: solver}\n"
                  "  conductor: {transport: embedded, service: conductor_sim}\n"
                  "polling: {initial_delay_ms: 60000, max_delay_ms: 1800000, multiplier: 2, max_attempts: 50}\n"
                  "streaming: {enabled: true, file: stream.jsonl}\n"
                  "cost_model:\n"
                  "  gpu_hour_usd: %.2f\n"
                  "  base_hours: %.3f\n"
                  "  cap_margin_fraction: %.3f\n"
                  "  retry_reserve_fraction: %.2f\n"
                  "  duration_scale: {batch_size: {\"32\": %.2f, \"64\": 1.0, \"128\": %.2f}}\n"
                  "errors:\n"
                  "  transient_patterns: [\"(?i)nan loss\", \"(?i)cuda out of memory\", \"(?i)connection reset\"]\n"
                  "  default: permanent\n"
                  "expressions: {mixed_numeric: true}\n"
                  "simulation: {seed: %" PRIu64 ", max_concurrent: %d, infra_failure_rate: %.3f}\n",
                  price, hours, margin, unit(&s) * 0.3, 0.8 + unit(&s) * 0.6, 0.6 + unit(&s) * 0.5, seed, slots,
                  infra);
    /* The surface goes into the simulation map written just above. */
    w->ws.len -= 2; /* "}\n" */
    sb_buf_printf(&w->ws,
                  ", duration_jitter: %.3f, surface: {optimum: {learning_rate: %g, batch_size: %d, dropout: %.1f}, "
                  "best_value: %.2f, noise: %.3f}}\n",
                  sc.jitter, sc.opt_lr, sc.opt_batch, sc.opt_dropout, sc.best, sc.noise);
    sb_buf es = SB_BUF_INIT;
    if (early_stopping_mode) {
        int epochs;
        early_stopping_yaml(seed, &es, &epochs);
        w->ws.len -= 2; /* "}\n" */
        sb_buf_printf(&w->ws, ", epochs: %d}\n", epochs);
    }

    sb_buf space = SB_BUF_INIT;
    bool first = true;
    sb_buf_puts(&space, "{");
    /* learning_rate always (the retry patches it), the others by chance. */
    int np = pick(&s, 1, 4);
    levels(&space, &s, "learning_rate", lr_levels, 7, &first);
    if (np >= 2 && pick(&s, 0, 3))
        levels(&space, &s, "batch_size", bs_levels, 5, &first);
    if (np >= 3 && pick(&s, 0, 3))
        levels(&space, &s, "dropout", do_levels, 5, &first);
    if (np >= 4)
        levels(&space, &s, "weight_decay", wd_levels, 4, &first);
    sb_buf_puts(&space, "}");

    /* Estimates: as planned, too low (jobs reach their caps), too high, or
     * none (the Conductor quotes its own). */
    static const char *const est[] = {
        ", 'estimated_cost_usd': t.estimated_cost_usd",
        ", 'estimated_cost_usd': t.estimated_cost_usd * 0.5",
        ", 'estimated_cost_usd': t.estimated_cost_usd * 0.9",
        ", 'estimated_cost_usd': t.estimated_cost_usd * 1.5",
        "",
    };
    const char *e = est[pick(&s, 0, 4)];
    /* The planner's hours against the cluster's: often optimistic, as
     * estimates are, so jobs cost more than planned. */
    double optimism = pick(&s, 0, 1) ? 1.0 : 0.4 + unit(&s) * 0.8;
    int attempts = pick(&s, 0, 3);
    bool any_failure = pick(&s, 0, 2) == 0;
    char cost[128];
    snprintf(cost, sizeof cost, "{gpu_hour_usd: %.2f, base_hours: %.3f}", price, hours * optimism);
    sb_buf_printf(&w->pl,
                  "version: 1\n"
                  "pipelines:\n"
                  "  sweep:\n"
                  "    budget_usd: %.2f\n"
                  "    steps:\n"
                  "      plan:\n",
                  w->budget);
    if (sc.adaptive)
        sb_buf_printf(&w->pl,
                      "        call: solver.suggest_trials\n"
                      "        with: {budget_usd: %.2f, parameter_space: %s, cost_model: %s, metric: val_acc,\n"
                      "               seed: \"{{ run.seed }}\"}\n",
                      w->budget, sb_buf_str(&space), cost);
    else
        sb_buf_printf(&w->pl,
                      "        call: solver.plan_search_grid\n"
                      "        with: {budget_usd: %.2f, parameter_space: %s, cost_model: %s, max_concurrent: %d}\n",
                      w->budget, sb_buf_str(&space), cost, slots);
    sb_buf_printf(&w->pl,
                  "      submit:\n"
                  "        needs: [plan]\n"
                  "        call: conductor.submit_jobs\n"
                  "        with:\n"
                  "          idempotency_key: \"{{ run.id + '-submit' }}\"\n"
                  "          jobs: \"{{ steps.plan.output.trials.map(t, {'hyperparameters': t.hyperparameters%s}) }}\"\n"
                  "        handle: {id: \"{{ result.handle_id }}\", jobs: \"{{ result.job_ids }}\"}\n"
                  "      monitor:\n"
                  "        needs: [submit]\n"
                  "        poll: \"{{ steps.submit.handle }}\"\n"
                  "        status_tool: conductor.get_jobs_status\n"
                  "        stream: true\n"
                  "%s",
                  e, early_stopping_mode ? sb_buf_str(&es) : "");
    sb_buf_free(&es);
    if (sc.adaptive)
        sb_buf_printf(&w->pl,
                      "      more:\n"
                      "        on: monitor.job_finished\n"
                      "        suggest:\n"
                      "          call: solver.suggest_trials\n"
                      "          with:\n"
                      "            budget_usd: %.2f\n"
                      "            remaining_usd: \"{{ ledger.remaining_usd }}\"\n"
                      "            parameter_space: %s\n"
                      "            cost_model: %s\n"
                      "            trials: \"{{ jobs.trials }}\"\n"
                      "            metric: val_acc\n"
                      "            max_in_flight: %d\n"
                      "            seed: \"{{ run.seed }}\"\n",
                      w->budget, sb_buf_str(&space), cost, slots);
    if (attempts)
        sb_buf_printf(&w->pl,
                      "      retry:\n"
                      "        on: monitor.job_failed\n"
                      "        retry:\n"
                      "          max_attempts: %d\n"
                      "          when: \"{{ %s }}\"\n"
                      "          backoff: {initial_delay_ms: 1000, multiplier: 2.0}\n"
                      "          modify:\n"
                      "            learning_rate: \"{{ has(job.hyperparameters.learning_rate) ? "
                      "job.hyperparameters.learning_rate * 0.5 : 0.001 }}\"\n",
                      attempts, any_failure ? "true" : "error.type == 'transient'");
    sb_buf_puts(&w->pl, "    outputs:\n"
                        "      total_cost: \"{{ ledger.total_usd }}\"\n"
                        "      cost_breakdown: \"{{ ledger }}\"\n");
    sb_buf_free(&space);
}

/* --- the host: embedded services, a virtual clock, counters --- */

typedef struct queued {
    char *server, *body;
    size_t len;
    uint64_t id;
} queued;

typedef struct host {
    sb_services *services;
    queued *q;
    size_t nq, cap;
    bool oom;
    /* what the log and the Conductor said */
    int64_t accepted;      /* jobs the Conductor accepted, summed over submit_jobs answers */
    int64_t warn_stopped, warn_unstarted, warn_early, stream_lines, stream_cents;
    int64_t all_done[5];   /* from "All N jobs ... finished": N, completed, failed, cancelled, seen */
    int64_t suggested;     /* jobs submitted by the suggest step ("Submitted N suggested trials") */
    char *result;
} host;

static void on_send(void *ud, const sb_run_request *req)
{
    host *h = ud;
    if (!SB_GROW(h->q, h->cap, h->nq + 1)) {
        h->oom = true;
        return;
    }
    queued *e = &h->q[h->nq++];
    e->server = sb_strdup(req->server);
    e->body = req->body ? sb_strndup(req->body, req->body_len) : NULL;
    e->len = req->body_len;
    e->id = req->id;
}

static void on_event(void *ud, const sb_event *ev)
{
    host *h = ud;
    if (ev->kind == SB_EVENT_STREAM) {
        h->stream_lines++;
        const sb_val *c = sb_map_get_str(ev->data, "cost_usd");
        double d = 0;
        if (c)
            sb_val_as_double(*c, &d);
        h->stream_cents += llround(d * 100);
    } else if (ev->kind == SB_EVENT_LOG && ev->level == SB_LOG_WARN) {
        h->warn_stopped += strstr(ev->message, "stopped at its cost cap") != NULL;
        h->warn_unstarted += strstr(ev->message, "left unstarted") != NULL;
        h->warn_early += strstr(ev->message, "stopped early at rung") != NULL;
    } else if (ev->kind == SB_EVENT_LOG && strncmp(ev->message, "Submitted ", 10) == 0 &&
               strstr(ev->message, " suggested trial")) {
        h->suggested += atoll(ev->message + 10);
    } else if (ev->kind == SB_EVENT_LOG && strncmp(ev->message, "All ", 4) == 0) {
        long long n, c, f, x;
        const char *p = strstr(ev->message, "finished: ");
        if (sscanf(ev->message, "All %lld jobs", &n) == 1 && p && sscanf(p, "finished: %lld completed, %lld failed", &c, &f) == 2) {
            const char *q = strstr(p, " cancelled");
            while (q > p && q[-1] >= '0' && q[-1] <= '9')
                q--;
            x = q ? atoll(q) : -1;
            h->all_done[0] = n, h->all_done[1] = c, h->all_done[2] = f, h->all_done[3] = x, h->all_done[4]++;
        }
    }
}

static int on_write(void *ud, const char *name, const char *data, size_t len)
{
    host *h = ud;
    (void)name;
    sb_free(h->result);
    h->result = sb_strndup(data, len);
    return h->result ? 0 : 1;
}

/* Counts the jobs a submit_jobs answer says the Conductor accepted. */
static void note_answer(host *h, const char *body, sb_val msg)
{
    if (!body || !strstr(body, "\"submit_jobs\""))
        return;
    const sb_val *res = sb_map_get_str(msg, "result");
    const sb_val *sc = res ? sb_map_get_str(*res, "structuredContent") : NULL;
    const sb_val *n = sc ? sb_map_get_str(*sc, "accepted") : NULL;
    const sb_val *replayed = sc ? sb_map_get_str(*sc, "replayed") : NULL;
    if (n && n->kind == SB_INT && !(replayed && replayed->kind == SB_BOOL && replayed->as.b))
        h->accepted += n->as.i;
}

static void deliver(host *h, sb_run *run, int64_t now)
{
    for (size_t i = 0; i < h->nq; i++) {
        queued e = h->q[i];
        int status = 0;
        sb_val msg = sb_services_answer(h->services, e.server, now, e.body ? e.body : "", e.len, &status);
        if (status == 200 && msg.kind == SB_MAP) {
            note_answer(h, e.body, msg);
            sb_run_on_message(run, e.id, msg, now);
        } else {
            char *t = msg.kind == SB_MAP ? sb_val_to_json(msg, 0) : NULL;
            sb_val_free(msg);
            sb_run_on_response(run, e.id, status, t ? "application/json" : NULL, NULL, t ? t : "", t ? strlen(t) : 0,
                               now);
            sb_free(t);
        }
        sb_free(e.server);
        sb_free(e.body);
    }
    h->nq = 0;
}

/* --- one run and its checks --- */

static int failures;
/* What the runs did, to show the invariants were exercised. */
static struct {
    long submitted, succeeded, with_stopped, with_unstarted, with_skipped, jobs, adaptive, with_suggested;
    long with_early, early_jobs;
    double max_use; /* highest spent / budget */
} seen;

static void broke(uint64_t seed, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("seed %" PRIu64 ": ", seed);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures++;
}

static int64_t cents_of(sb_val m, const char *key)
{
    const sb_val *v = m.kind == SB_MAP ? sb_map_get_str(m, key) : NULL;
    double d = NAN;
    if (v)
        sb_val_as_double(*v, &d);
    return isfinite(d) ? llround(d * 100) : INT64_MIN;
}

static int64_t int_of(sb_val m, const char *key)
{
    const sb_val *v = m.kind == SB_MAP ? sb_map_get_str(m, key) : NULL;
    return v && v->kind == SB_INT ? v->as.i : INT64_MIN;
}

static void check_run(uint64_t seed, const sweep *w, host *h)
{
    int64_t budget = llround(w->budget * 100);
    sb_val r = h->result ? sb_json_parse(h->result, strlen(h->result)) : sb_null();
    if (r.kind != SB_MAP) {
        broke(seed, "no result file");
        sb_val_free(r);
        return;
    }
    const sb_val *outs = sb_map_get_str(r, "outputs");
    sb_val o = outs ? *outs : r;
    const sb_val *bp = sb_map_get_str(r, "cost_breakdown");
    sb_val b = bp ? *bp : sb_null();
    int64_t total = cents_of(r, "total_cost"), ledger = cents_of(b, "total_usd");
    (void)o;
    /* 1. spent <= budget */
    if (total == INT64_MIN || total > budget)
        broke(seed, "total_cost %lld cents above the budget of %lld", (long long)total, (long long)budget);
    if (ledger != total)
        broke(seed, "ledger total %lld cents, total_cost %lld", (long long)ledger, (long long)total);
    if (h->stream_cents != ledger)
        broke(seed, "streamed costs %lld cents, ledger %lld", (long long)h->stream_cents, (long long)ledger);
    if (h->accepted > 0) {
        seen.submitted++;
        seen.jobs += (long)h->accepted;
    }
    if (total > 0 && (double)total / (double)budget > seen.max_use)
        seen.max_use = (double)total / (double)budget;
    /* 2. every submitted job accounted for */
    const sb_val *jp = b.kind == SB_MAP ? sb_map_get_str(b, "jobs") : NULL;
    sb_val j = jp ? *jp : sb_null();
    int64_t early = sb_map_get_str(j, "stopped_early") ? int_of(j, "stopped_early") : 0;
    int64_t done = int_of(j, "completed") + int_of(j, "failed") + int_of(j, "cancelled") + int_of(j, "stopped_at_cap") +
                   int_of(j, "unstarted") + early;
    if (done != h->accepted)
        broke(seed, "%lld jobs accepted, %lld accounted for in the outputs", (long long)h->accepted, (long long)done);
    if (int_of(j, "running_or_queued") != 0)
        broke(seed, "%lld jobs never settled", (long long)int_of(j, "running_or_queued"));
    if (h->stream_lines != h->accepted)
        broke(seed, "%lld stream chunks for %lld jobs", (long long)h->stream_lines, (long long)h->accepted);
    /* 3. the log agrees with the outputs */
    if (h->warn_stopped != int_of(j, "stopped_at_cap"))
        broke(seed, "%lld WARN lines for jobs stopped at their cap, %lld in the outputs", (long long)h->warn_stopped,
              (long long)int_of(j, "stopped_at_cap"));
    if (h->warn_unstarted != int_of(j, "unstarted"))
        broke(seed, "%lld WARN lines for unstarted jobs, %lld in the outputs", (long long)h->warn_unstarted,
              (long long)int_of(j, "unstarted"));
    if (h->warn_early != early)
        broke(seed, "%lld WARN lines for jobs stopped early, %lld in the outputs", (long long)h->warn_early,
              (long long)early);
    const sb_val *se = b.kind == SB_MAP ? sb_map_get_str(b, "stopped_early") : NULL;
    if ((se ? int_of(*se, "jobs") : 0) != early)
        broke(seed, "stopped_early.jobs differs from jobs.stopped_early");
    seen.with_early += early > 0;
    seen.early_jobs += early;
    seen.with_stopped += int_of(j, "stopped_at_cap") > 0;
    seen.with_unstarted += int_of(j, "unstarted") > 0;
    const sb_val *sk = b.kind == SB_MAP ? sb_map_get_str(b, "skipped_retries") : NULL;
    seen.with_skipped += sk && sk->kind == SB_LIST && sb_list_len(*sk) > 0;
    const sb_val *sp = sb_map_get_str(b, "stopped_at_cap");
    if (sp && int_of(*sp, "jobs") != int_of(j, "stopped_at_cap"))
        broke(seed, "stopped_at_cap.jobs differs from jobs.stopped_at_cap");
    if (h->accepted > 0) {
        if (h->all_done[4] != 1)
            broke(seed, "%lld 'All N jobs finished' lines", (long long)h->all_done[4]);
        else if (h->all_done[0] != h->accepted || h->all_done[1] != int_of(j, "completed") ||
                 h->all_done[2] != int_of(j, "failed") + int_of(j, "stopped_at_cap") ||
                 h->all_done[3] != int_of(j, "cancelled") + int_of(j, "unstarted") + early)
            broke(seed, "the log says %lld jobs: %lld completed, %lld failed, %lld cancelled; the outputs differ",
                  (long long)h->all_done[0], (long long)h->all_done[1], (long long)h->all_done[2],
                  (long long)h->all_done[3]);
    }
    sb_val_free(r);
}

static bool one(uint64_t seed, bool verbose)
{
    sweep w = {SB_BUF_INIT, SB_BUF_INIT, 0};
    make_sweep(&w, seed);
    sb_diags *d = sb_diags_new();
    sb_val ws = sb_null(), pl = sb_null();
    bool ok = sb_config_workspace("workspace.yaml", sb_buf_str(&w.ws), w.ws.len, d, &ws) &&
              sb_config_pipelines("pipelines.yaml", sb_buf_str(&w.pl), w.pl.len, ws, d, &pl);
    host h;
    memset(&h, 0, sizeof h);
    sb_run *run = NULL;
    if (ok) {
        h.services = sb_services_new(ws, seed);
        sb_host hs = {SB_HOST_VERSION, &h, on_send, on_event, on_write};
        sb_run_config cfg = {ws, pl, "sweep", "workspace.yaml", "pipelines.yaml", sb_null(), seed, NULL, NULL};
        run = h.services ? sb_run_new(&cfg, &hs, d) : NULL;
    }
    if (!run) {
        broke(seed, "the generated sweep was refused:");
        for (size_t i = 0; i < sb_diags_count(d); i++)
            printf("  %s:%u:%u: %s\n", sb_diags_at(d, i)->file, sb_diags_at(d, i)->line, sb_diags_at(d, i)->col,
                   sb_diags_at(d, i)->msg);
        printf("--- workspace ---\n%s--- pipelines ---\n%s", sb_buf_str(&w.ws), sb_buf_str(&w.pl));
    } else {
        int64_t now = 1767225600000LL;
        sb_run_start(run, now);
        while (!sb_run_done(run) && !h.oom) {
            deliver(&h, run, now);
            if (sb_run_done(run))
                break;
            int64_t t = sb_run_next_deadline(run);
            if (t == INT64_MAX) {
                sb_run_cancel(run, "the run waits for nothing", now);
                break;
            }
            if (t > now)
                now = t;
            sb_run_on_time(run, now);
        }
        deliver(&h, run, now);
        if (h.oom)
            broke(seed, "the host ran out of memory");
        int before = failures;
        check_run(seed, &w, &h);
        seen.succeeded += sb_run_get_status(run) == SB_RUN_SUCCEEDED;
        seen.adaptive += choose_search(seed).adaptive;
        seen.with_suggested += h.suggested > 0;
        if (verbose || failures > before)
            printf("  seed %" PRIu64 ": budget $%.2f, status %s%s%s\n", seed, w.budget,
                   sb_run_status_name(sb_run_get_status(run)), sb_run_error(run) ? ": " : "",
                   sb_run_error(run) ? sb_run_error(run) : "");
    }
    sb_run_free(run);
    sb_services_free(h.services);
    sb_free(h.q);
    sb_free(h.result);
    sb_val_free(ws);
    sb_val_free(pl);
    sb_diags_free(d);
    sb_buf_free(&w.ws);
    sb_buf_free(&w.pl);
    return ok;
}

int main(int argc, char **argv)
{
    long runs = argc > 1 ? atol(argv[1]) : 10000;
    uint64_t first = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    bool verbose = getenv("SIBYL_INVARIANTS_VERBOSE") != NULL;
    early_stopping_mode = argc > 3 && strcmp(argv[3], "early-stopping") == 0;
    if (runs < 1 || (argc > 3 && !early_stopping_mode)) {
        fprintf(stderr, "usage: invariants [RUNS [FIRST_SEED [early-stopping]]]\n");
        return 2;
    }
    int failed_runs = 0;
    for (long i = 0; i < runs; i++) {
        int before = failures;
        one(first + (uint64_t)i, verbose);
        failed_runs += failures > before;
    }
    printf("runs that submitted jobs: %ld (%ld jobs); succeeded: %ld; with jobs stopped at their cap: %ld; "
           "with jobs left unstarted: %ld; with retries skipped by the guard: %ld; highest spent/budget: %.4f\n",
           seen.submitted, seen.jobs, seen.succeeded, seen.with_stopped, seen.with_unstarted, seen.with_skipped,
           seen.max_use);
    printf("adaptive searches: %ld, with trials added by the suggest step: %ld\n", seen.adaptive,
           seen.with_suggested);
    if (early_stopping_mode)
        printf("early stopping: runs with jobs stopped early: %ld (%ld jobs)\n", seen.with_early, seen.early_jobs);
    printf("invariants: %ld runs checked (seeds %" PRIu64 "..%" PRIu64 "), %d broke an invariant\n", runs, first,
           first + (uint64_t)runs - 1, failed_runs);
    return failed_runs ? 1 : 0;
}
