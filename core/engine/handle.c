/* Handles are ordinary values, so they pass between steps, appear in
 * outputs and serialize losslessly as JSON:
 *   {"$type": "PollableJobHandle", "server", "handle_id", "job_ids",
 *    "status_tool", "submit_tool"}
 *   {"$type": "ExternalHandle", "server", "kind", "id", ...} (core/config/sb_handle_value.h) */
#include <string.h>

#include "run_int.h"

sb_val sb_run__handle_make(const char *server, const char *handle_id, sb_val job_ids, const char *status_tool,
                   const char *submit_tool)
{
    /* sb_run__put: a string that could not be made fails the handle rather
     * than sit in it as an error value. */
    sb_val h = sb_map_new(6);
    bool ok = sb_run__put(&h, "$type", sb_string_cstr("PollableJobHandle"));
    ok = ok && sb_run__put(&h, "server", sb_string_cstr(server));
    ok = ok && sb_run__put(&h, "handle_id", sb_string_cstr(handle_id));
    ok = ok && sb_run__put(&h, "job_ids", sb_val_ref(job_ids));
    ok = ok && sb_run__put(&h, "status_tool", sb_string_cstr(status_tool));
    ok = ok && sb_run__put(&h, "submit_tool", sb_string_cstr(submit_tool));
    if (!ok) {
        sb_val_free(h);
        return sb_oom();
    }
    return h;
}

bool sb_run__handle_is_pollable(sb_val v)
{
    const sb_val *t = sb_map_get_str(v, "$type");
    const sb_val *id = sb_map_get_str(v, "handle_id");
    const sb_val *srv = sb_map_get_str(v, "server");
    return t && sb_str_eq(*t, "PollableJobHandle") && id && id->kind == SB_STRING && srv && srv->kind == SB_STRING;
}
