/* A trial's latest per-epoch line (docs/backends.md), read from the tail of
 * its stdout file by the local and Slurm backends. */
#include "epoch_progress.h"
#include "file_tail.h"

static bool has_epoch(sb_val v)
{
    const sb_val *ep = sb_map_get_str(v, "epoch");
    return ep && ep->kind == SB_INT && ep->as.i >= 1;
}

sb_val epoch_progress(const char *path)
{
    sb_val v = file_last_json_object(path, 8192, true, has_epoch);
    if (v.kind != SB_MAP)
        return v;
    const sb_val *ep = sb_map_get_str(v, "epoch"), *eps = sb_map_get_str(v, "epochs");
    sb_val m = sb_map_new(sb_map_len(v)), p = sb_map_new(3);
    for (size_t k = 0; k < sb_map_len(v); k++) {
        const sb_val *key = sb_map_key_at(v, k);
        if (!sb_str_eq(*key, "epoch") && !sb_str_eq(*key, "epochs"))
            sb_map_set(&m, sb_val_ref(*key), sb_val_ref(*sb_map_val_at(v, k)));
    }
    sb_map_set_str(&p, "step", sb_int(ep->as.i));
    if (eps && eps->kind == SB_INT)
        sb_map_set_str(&p, "epochs", sb_int(eps->as.i));
    sb_map_set_str(&p, "metrics", m);
    sb_val_free(v);
    return p;
}
