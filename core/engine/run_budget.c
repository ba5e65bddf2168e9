/* The engine's side of the hard budget (docs/budget.md). The limit is kept
 * where the money is spent: the Conductor holds one budget per handle, starts
 * a job only while spent + caps of running jobs + its cap fit it, and stops a
 * job at its cap. The engine decides each handle's budget, passes it (and
 * the workspace's cap margin) with every submission to that handle, and
 * records the caps the Conductor answers in the ledger. */
#include <math.h>
#include <string.h>

#include "run_int.h"

bool sb_run__budget_args(sb_run *r, sb_val *args, const char *handle_id)
{
    if (!r->has_budget || args->kind != SB_MAP)
        return true;
    /* A new map: the evaluated arguments may be shared, hence immutable. */
    sb_val a = sb_map_new(sb_map_len(*args) + 2);
    bool ok = a.kind == SB_MAP;
    for (size_t k = 0; ok && k < sb_map_len(*args); k++)
        ok = sb_map_set(&a, sb_val_ref(*sb_map_key_at(*args, k)), sb_val_ref(*sb_map_val_at(*args, k)));
    sb_val_free(*args);
    *args = a;
    if (!ok)
        return false;
    if (!sb_map_get_str(*args, "budget_usd")) {
        /* Rounded down to cents: the Conductor counts whole cents. */
        double grant = floor(sb_ledger_grant_for(r->ledger, handle_id) * 100 + 1e-6) / 100;
        ok = sb_run__put(args, "budget_usd", sb_double(grant));
    }
    if (ok && !sb_map_get_str(*args, "cap_margin_fraction"))
        ok = sb_run__put(args, "cap_margin_fraction", sb_double(r->cap_margin));
    return ok;
}

bool sb_run__budget_answer(sb_run *r, const char *handle_id, sb_val sent, sb_val answer, sb_val job_ids)
{
    if (answer.kind != SB_MAP)
        return true;
    r->ledger_gen++;
    /* A server that does not echo the budget is taken to hold what was sent. */
    const sb_val *b = sb_map_get_str(answer, "budget_usd");
    if ((!b || b->kind == SB_NULL) && sent.kind == SB_MAP)
        b = sb_map_get_str(sent, "budget_usd");
    double usd;
    if (r->has_budget && b && sb_val_as_double(*b, &usd) && !sb_ledger_grant(r->ledger, handle_id, usd))
        return false;
    const sb_val *caps = sb_map_get_str(answer, "cost_caps_usd");
    for (size_t k = 0; caps && caps->kind == SB_LIST && k < sb_list_len(*caps) && k < sb_list_len(job_ids); k++) {
        const sb_val *id = sb_list_at(job_ids, k);
        if (id->kind == SB_STRING && sb_val_as_double(*sb_list_at(*caps, k), &usd))
            sb_ledger_set_cap(r->ledger, handle_id, sb_str(*id), usd);
    }
    return true;
}

bool sb_run__budget_refused(sb_run *r, const char *handle_id, const char *what, const char *id, double est,
                            double cap)
{
    sb_buf m = SB_BUF_INIT;
    sb_buf_printf(&m, "%s skipped by the budget guard: ", what);
    if (est < 0) {
        sb_buf_puts(&m, "its cost cannot be estimated");
    } else {
        sb_buf_puts(&m, "its cost cap is $");
        sb_run__fmt_usd(&m, cap);
        sb_buf_puts(&m, " but only $");
        sb_run__fmt_usd(&m, sb_ledger_remaining(r->ledger));
        sb_buf_puts(&m, " of the budget is uncommitted");
    }
    sb_run__log(r, SB_LOG_WARN, "%s", sb_buf_str(&m));
    sb_buf_free(&m);
    r->ledger_gen++;
    return sb_ledger_record_skip(r->ledger, handle_id, id, est < 0 ? 0 : est, est < 0 ? "no estimate" : "over budget");
}
