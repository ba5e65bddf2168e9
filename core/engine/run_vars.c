/* The variables every expression sees:
 *   inputs     the resolved inputs
 *   steps      name -> {status, output, handle?, reason?}
 *   workspace  the workspace tree
 *   run        {id, seed, pipeline}
 *   ledger     the cost breakdown so far (see sb_ledger_breakdown)
 * plus, in event-triggered steps, job, error, jobs and attempt (passed in
 * `extra` by the caller). */
#include "../util/sb_alloc.h"
#include "run_int.h"

static const char *const state_names[] = {"waiting", "running", "succeeded", "failed", "skipped"};

static sb_val steps_var(sb_run *r)
{
    sb_val steps = sb_map_new(r->nsteps);
    for (size_t i = 0; i < r->nsteps && steps.kind == SB_MAP; i++) {
        step *s = &r->steps[i];
        sb_val m = sb_map_new(4);
        sb_map_set_str(&m, "status", sb_string_cstr(state_names[s->state]));
        sb_map_set_str(&m, "output", sb_val_ref(s->output));
        if (s->handle.kind != SB_NULL)
            sb_map_set_str(&m, "handle", sb_val_ref(s->handle));
        if (s->reason)
            sb_map_set_str(&m, "reason", sb_string_cstr(s->reason));
        sb_map_set_str(&steps, s->name, m);
    }
    return steps;
}

sb_val run_vars(sb_run *r, sb_val extra)
{
    sb_val v = sb_map_new(8);
    if (v.kind != SB_MAP)
        return v;
    sb_map_set_str(&v, "inputs", sb_val_ref(r->inputs));
    sb_map_set_str(&v, "workspace", sb_val_ref(r->workspace));
    sb_val run = sb_map_new(3);
    sb_map_set_str(&run, "id", sb_string_cstr(r->run_id));
    sb_map_set_str(&run, "seed", sb_uint(r->seed));
    sb_map_set_str(&run, "pipeline", sb_string_cstr(r->pipeline_name));
    sb_map_set_str(&v, "run", run);
    sb_map_set_str(&v, "ledger", r->ledger ? sb_ledger_breakdown(r->ledger) : sb_null());
    sb_map_set_str(&v, "steps", steps_var(r));
    for (size_t i = 0; extra.kind == SB_MAP && i < sb_map_len(extra); i++)
        sb_map_set(&v, sb_val_ref(*sb_map_key_at(extra, i)), sb_val_ref(*sb_map_val_at(extra, i)));
    return v;
}
