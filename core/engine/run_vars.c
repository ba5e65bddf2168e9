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

bool sb_run__put(sb_val *map, const char *key, sb_val v)
{
    bool oom = sb_is_oom(v);
    return sb_map_set_str(map, key, v) && !oom;
}

static sb_val step_entry(const step *s)
{
    sb_val m = sb_map_new(4);
    bool ok = sb_run__put(&m, "status", sb_string_cstr(state_names[s->state]));
    ok = ok && sb_run__put(&m, "output", sb_val_ref(s->output));
    if (s->handle.kind != SB_NULL)
        ok = ok && sb_run__put(&m, "handle", sb_val_ref(s->handle));
    if (s->reason)
        ok = ok && sb_run__put(&m, "reason", sb_string_cstr(s->reason));
    if (!ok) {
        sb_val_free(m);
        return sb_oom();
    }
    return m;
}

static void clean(sb_run *r)
{
    for (size_t k = 0; k < r->ndirty; k++)
        r->steps[r->dirty[k]].dirty = false;
    r->ndirty = 0;
}

/* The `steps` variable. Every step start evaluates expressions, so the map
 * is kept between evaluations and only the entries of steps that changed are
 * replaced (sb_run__touch lists them): a pipeline of n steps costs O(n), not
 * O(n^2). When an expression kept a reference to the map (it is shared and
 * may not change) it is built anew. */
static sb_val steps_var(sb_run *r)
{
    if (r->steps_view.kind == SB_MAP) {
        bool ok = true;
        for (size_t k = 0; ok && k < r->ndirty; k++) {
            const step *s = &r->steps[r->dirty[k]];
            ok = sb_run__put(&r->steps_view, s->name, step_entry(s));
        }
        if (ok) {
            clean(r);
            return sb_val_ref(r->steps_view);
        }
        sb_val_free(r->steps_view);
        r->steps_view = sb_null();
    }
    clean(r);
    sb_val steps = sb_map_new(r->nsteps);
    bool ok = steps.kind == SB_MAP;
    for (size_t i = 0; i < r->nsteps && ok; i++)
        ok = sb_run__put(&steps, r->steps[i].name, step_entry(&r->steps[i]));
    if (!ok) {
        sb_val_free(steps);
        return sb_oom();
    }
    r->steps_view = steps;
    return sb_val_ref(steps);
}

/* The breakdown walks every job of the ledger and expressions see it at
 * every event: it is rebuilt only after the ledger changed. */
static sb_val ledger_view(sb_run *r)
{
    if (!r->ledger)
        return sb_null();
    if (r->ledger_view.kind != SB_MAP || r->ledger_view_gen != r->ledger_gen) {
        sb_val_free(r->ledger_view);
        r->ledger_view = sb_ledger_breakdown(r->ledger);
        r->ledger_view_gen = r->ledger_gen;
    }
    return sb_val_ref(r->ledger_view);
}

sb_val sb_run__vars(sb_run *r, sb_val extra)
{
    sb_val v = sb_map_new(8);
    if (v.kind != SB_MAP)
        return v;
    bool ok = sb_run__put(&v, "inputs", sb_val_ref(r->inputs));
    ok = ok && sb_run__put(&v, "workspace", sb_val_ref(r->spec->workspace));
    sb_val run = sb_map_new(3);
    ok = ok && sb_run__put(&run, "id", sb_string_cstr(r->run_id));
    ok = ok && sb_run__put(&run, "seed", sb_uint(r->seed));
    ok = ok && sb_run__put(&run, "pipeline", sb_string_cstr(r->pipeline_name));
    ok = sb_run__put(&v, "run", run) && ok;
    ok = ok && sb_run__put(&v, "ledger", ledger_view(r));
    ok = ok && sb_run__put(&v, "steps", steps_var(r));
    for (size_t i = 0; ok && extra.kind == SB_MAP && i < sb_map_len(extra); i++)
        ok = sb_map_set(&v, sb_val_ref(*sb_map_key_at(extra, i)), sb_val_ref(*sb_map_val_at(extra, i)));
    /* An incomplete map would turn memory exhaustion into wrong answers
     * ("undeclared reference", a `has()` that is false). */
    if (!ok || sb_is_oom(extra)) {
        sb_val_free(v);
        return sb_oom();
    }
    return v;
}
