/* Ranking finished jobs by a metric. */
#ifndef SB_AGGREGATE_H
#define SB_AGGREGATE_H
#include <stdbool.h>
#include <stddef.h>

#include "../value/sb_value.h"

/* Ranks `results` (a list of maps; borrowed) by the number found at the dotted
 * `metric_path` (e.g. "metrics.val_acc") in each, best first (maximize: higher
 * is better), ties kept in input order. Returns a new map:
 *   ranked:  results that have a numeric metric, best first
 *   top:     the first top_k of ranked
 *   best:    ranked[0], or null when ranked is empty
 *   stats:   {count, mean, std (sample, n-1; 0 when count < 2), min, max}
 *   best_per_dollar: for maximize, the result with the highest metric per
 *            cost_usd (results without a positive cost_usd left out); null
 *            for minimize or when none qualifies
 *   missing: how many results had no numeric metric
 * Returns an SB_ERROR value if results is not a list or on OOM. */
sb_val sb_aggregate_rank(sb_val results, const char *metric_path, bool maximize, size_t top_k);

/* Looks up a dotted path ("a.b.c") in nested maps; NULL when absent. */
const sb_val *sb_path_get(sb_val root, const char *path);

#endif
