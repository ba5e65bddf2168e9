/* The cost ledger and budget guard. Money is kept in integer micro-dollars so
 * sums are exact and the same everywhere; the API speaks USD doubles.
 *
 *   spent      = settled actual costs (completed jobs, partial costs of failed
 *                or cancelled jobs, caps of jobs stopped at their cap)
 *   committed  = for each submitted job not yet settled: its cap once it
 *                runs, its estimate while it waits (its cap without one)
 *   remaining  = budget - spent - committed
 *
 * The hard limit itself is kept where the money is spent: the Conductor
 * never starts a job whose cap does not fit its handle's budget and stops a
 * job at its cap (docs/budget.md). The ledger decides what budget each handle
 * is granted (sb_ledger_grant_for) and guards retries with their caps.
 *
 * A job is committed when submitted and settled once when it ends; settling
 * releases its commitment. Jobs are known by (handle id, job id): two handles
 * may use the same job ids (a NULL handle id is the empty one). The guard question is sb_ledger_fits(): would a new
 * job with this estimate keep spent + committed within the budget? */
#ifndef SB_LEDGER_H
#define SB_LEDGER_H
#include <stdbool.h>
#include <stddef.h>

#include "../value/sb_value.h"

typedef struct sb_ledger sb_ledger;

typedef enum sb_ledger_outcome {
    SB_LEDGER_COMPLETED,
    SB_LEDGER_FAILED,
    SB_LEDGER_CANCELLED,
    SB_LEDGER_STOPPED,  /* failed: the Conductor stopped it at its cost cap */
    SB_LEDGER_UNSTARTED, /* cancelled before it started: its cap never fit the budget */
    SB_LEDGER_STOPPED_EARLY /* cancelled by the poll step's stopping rule: what it ran is charged */
} sb_ledger_outcome;

/* budget_usd = INFINITY: no budget. Every estimate then fits, remaining is
 * INFINITY and the breakdown gives null for budget_usd, remaining_usd and
 * utilization (never a made-up figure). NULL on OOM. */
sb_ledger *sb_ledger_new(double budget_usd);
void sb_ledger_free(sb_ledger *l);           /* NULL-safe */

/* Records a submitted job's estimate. is_retry marks retries (reported on their
 * own line). false on OOM or if job_id is already known. */
bool sb_ledger_commit(sb_ledger *l, const char *handle_id, const char *job_id, double estimate_usd, bool is_retry);
/* The same with the job's cost cap (cap_usd <= 0: the estimate). */
bool sb_ledger_commit_capped(sb_ledger *l, const char *handle_id, const char *job_id, double estimate_usd,
                             double cap_usd, bool is_retry);
/* The job started: its cap replaces its estimate in `committed`. Unknown or
 * settled jobs are ignored. */
void sb_ledger_start(sb_ledger *l, const char *handle_id, const char *job_id);
/* The cap the Conductor gave the job (cap_usd > 0), replacing the one
 * committed. Unknown or settled jobs are ignored. */
void sb_ledger_set_cap(sb_ledger *l, const char *handle_id, const char *job_id, double cap_usd);

/* The budget to pass to the Conductor when submitting to handle_id (NULL: a
 * new handle): the run's budget less what the other handles may still
 * spend, i.e. their grant while they have unsettled jobs, their spending
 * once they have none (a handle never granted: what it spent and holds).
 * O(handles). Never below 0; INFINITY without a budget. */
double sb_ledger_grant_for(const sb_ledger *l, const char *handle_id);
/* Records the budget the Conductor holds for handle_id (it may only go
 * down, as the Conductor's does). false on OOM. */
bool sb_ledger_grant(sb_ledger *l, const char *handle_id, double budget_usd);
/* Settles a job with its actual cost. Unknown job ids are recorded as settled
 * non-retry jobs (a server may report jobs sibyl did not submit itself).
 * Settling twice is ignored. false on OOM. */
bool sb_ledger_settle(sb_ledger *l, const char *handle_id, const char *job_id, double actual_usd,
                      sb_ledger_outcome outcome);
/* Records a job this run did not submit but follows (a handle given as an
 * input), with the estimate and cap the server reports (<= 0: unknown):
 * committed like sb_ledger_commit_capped, settled like any other, and counted
 * apart in the breakdown. false on OOM or if job_id is already known. */
bool sb_ledger_adopt(sb_ledger *l, const char *handle_id, const char *job_id, double estimate_usd, double cap_usd,
                     bool is_retry);
/* Records a retry the guard refused (estimate did not fit). */
bool sb_ledger_record_skip(sb_ledger *l, const char *handle_id, const char *job_id, double estimate_usd,
                           const char *reason);

double sb_ledger_budget(const sb_ledger *l); /* INFINITY when there is no budget */
bool sb_ledger_has_budget(const sb_ledger *l);
double sb_ledger_spent(const sb_ledger *l);
double sb_ledger_committed(const sb_ledger *l);
double sb_ledger_remaining(const sb_ledger *l);
bool sb_ledger_fits(const sb_ledger *l, double estimate_usd);

/* A new map:
 * {budget_usd, successful_usd, failed_partial_usd, retries_usd, total_usd,
 *  committed_usd, remaining_usd, utilization (total/budget, 0..1),
 *  jobs: {completed, failed, cancelled, stopped_at_cap, unstarted, retries,
 *         running_or_queued},
 *  stopped_at_cap: {jobs, cost_usd}, unstarted: {jobs, estimated_cost_usd},
 *  skipped_retries: [{job_id, estimated_cost_usd, reason}],
 *  and only once a job was adopted (sb_ledger_adopt):
 *  spent_usd (what the jobs this run submitted cost: total less adopted),
 *  adopted: {jobs, cost_usd}}
 * successful = completed original jobs; failed_partial = failed, stopped or
 * cancelled original jobs; retries = every retry job, whatever its outcome;
 * total = the three added. failed and cancelled do not include the jobs
 * counted as stopped_at_cap and unstarted. Adopted jobs are in the totals
 * too (by outcome): the run answers for what it followed. Amounts are
 * rounded to cents. */
sb_val sb_ledger_breakdown(const sb_ledger *l);

#endif
