/* sb_handle_watch: see sb_handle.h. */
#include <string.h>

#include "../util/sb_alloc.h"
#include "run_int.h"
#include "sb_handle.h"
#include "sb_status_answer.h"

struct sb_handle_watch {
    sb_val handle;    /* as an ExternalHandle of kind conductor_handle */
    sb_mcp_client *client;
    uint64_t call;    /* the status call in flight, 0 when none */
    uint64_t cancel;  /* the cancel call in flight, 0 when none */
    sb_val cancelled; /* its answer (the tool's result value or an error), null before */
    uint32_t polls;
    sb_val cursor;    /* since-cursor of the last answer, or null */
    sb_val finished;  /* job id -> true, for jobs already handed out */
    sb_val ready;     /* finished jobs not yet handed out, oldest first */
    size_t next;      /* index of the next one to hand out in ready */
    bool answered;    /* a usable answer came */
    bool done;        /* its done flag */
    bool has_counts;
    int64_t counts[SB_JOB_NSTATES + 1]; /* its counts */
    sb_val error;     /* the last failure, or null */
};

sb_handle_watch *sb_handle_watch_new(sb_val handle)
{
    if (!sb_run__handle_is_pollable(handle) &&
        !(sb_handle_is_external(handle) && sb_handle_kind_of(handle) == SB_HANDLE_CONDUCTOR))
        return NULL;
    sb_val ext = sb_handle_external(handle);
    if (ext.kind != SB_MAP) {
        sb_val_free(ext);
        return NULL;
    }
    sb_handle_watch *w = sb_calloc(1, sizeof *w);
    if (!w) {
        sb_val_free(ext);
        return NULL;
    }
    w->handle = ext;
    w->cursor = w->error = w->cancelled = sb_null();
    w->finished = sb_map_new(0);
    w->ready = sb_list_new(0);
    w->client = sb_mcp_client_new(sb_str(*sb_map_get_str(handle, "server")), "sibyl", SIBYL_VERSION);
    if (!w->client || w->finished.kind != SB_MAP || w->ready.kind != SB_LIST) {
        sb_handle_watch_free(w);
        return NULL;
    }
    return w;
}

void sb_handle_watch_free(sb_handle_watch *w)
{
    if (!w)
        return;
    sb_mcp_client_free(w->client);
    sb_val_free(w->handle);
    sb_val_free(w->cursor);
    sb_val_free(w->finished);
    sb_val_free(w->ready);
    sb_val_free(w->error);
    sb_val_free(w->cancelled);
    sb_free(w);
}

bool sb_handle_watch_poll(sb_handle_watch *w)
{
    if (w->call)
        return false;
    sb_val args = sb_map_new(2);
    bool ok = sb_map_set_str(&args, "handle_id", sb_val_ref(*sb_map_get_str(w->handle, "id")));
    if (ok && w->cursor.kind != SB_NULL)
        ok = sb_map_set_str(&args, "since_cursor", sb_val_ref(w->cursor));
    if (ok)
        w->call = sb_mcp_client_call_tool(w->client, sb_handle_field(w->handle, "status_tool", "get_jobs_status"), args);
    sb_val_free(args);
    if (w->call)
        w->polls++;
    return w->call != 0;
}

bool sb_handle_watch_next_request(sb_handle_watch *w, int64_t now_ms, sb_mcp_request *out)
{
    return sb_mcp_client_next_request(w->client, now_ms, out);
}

static void set_error(sb_handle_watch *w, sb_val e)
{
    sb_val_free(w->error);
    w->error = e;
}

/* Takes in a status answer read by sb_status_answer_read: remember its
 * cursor, queue what finished. */
static void take(sb_handle_watch *w, const sb_status_answer *a)
{
    /* Compact the queue when everything in it was handed out. */
    if (w->next == sb_list_len(w->ready) && w->next) {
        sb_val_free(w->ready);
        w->ready = sb_list_new(0);
        w->next = 0;
    }
    for (size_t i = 0; i < a->njobs; i++) {
        const sb_status_job *j = &a->jobs[i];
        if (!sb_job_state_final(j->state) || sb_map_get_str(w->finished, j->job_id))
            continue;
        if (!sb_map_set_str(&w->finished, j->job_id, sb_bool(true)) || !sb_list_push(&w->ready, sb_val_ref(j->record))) {
            set_error(w, sb_oom());
            return;
        }
    }
    if (a->cursor) {
        sb_val c = sb_string_cstr(a->cursor);
        if (c.kind != SB_STRING) {
            set_error(w, sb_oom());
            return;
        }
        sb_val_free(w->cursor);
        w->cursor = c;
    }
    w->answered = true;
    w->done = a->has_done && a->done;
    w->has_counts = a->has_counts;
    memcpy(w->counts, a->counts, sizeof w->counts);
    set_error(w, sb_null());
}

void sb_handle_watch_on_response(sb_handle_watch *w, uint64_t id, int status, const char *content_type,
                                 const char *session_id, const char *body, size_t len, int64_t now_ms)
{
    sb_mcp_client_on_response(w->client, id, status, content_type, session_id, body, len, now_ms);
    uint64_t call;
    sb_val result;
    while (sb_mcp_client_next_completion(w->client, &call, &result)) {
        if (call && call == w->cancel) {
            w->cancel = 0;
            sb_val_free(w->cancelled);
            if (result.kind == SB_ERROR || !sb_mcp_result_is_error(result)) {
                w->cancelled = result.kind == SB_ERROR ? result : sb_run__result_value(result);
                if (result.kind != SB_ERROR)
                    sb_val_free(result);
            } else {
                sb_val text = sb_mcp_result_text(result);
                w->cancelled = sb_errorf("%s refused: %s", sb_handle_field(w->handle, "cancel_tool", "cancel_jobs"),
                                         text.kind == SB_STRING ? sb_str(text) : "(no message)");
                sb_val_free(text);
                sb_val_free(result);
            }
            continue;
        }
        if (call != w->call) {
            sb_val_free(result);
            continue;
        }
        w->call = 0;
        sb_status_answer a;
        sb_val err = sb_status_answer_read(result, sb_handle_field(w->handle, "server", "?"),
                                           sb_handle_field(w->handle, "status_tool", "get_jobs_status"), &a);
        sb_val_free(result);
        if (err.kind != SB_NULL) {
            set_error(w, err);
            continue;
        }
        take(w, &a);
        sb_status_answer_clear(&a);
    }
    sb_mcp_event ev;
    while (sb_mcp_client_next_event(w->client, &ev))
        sb_mcp_event_clear(&ev);
}

bool sb_handle_watch_cancel(sb_handle_watch *w)
{
    if (w->cancel)
        return false;
    sb_val args = sb_map_new(1);
    if (sb_map_set_str(&args, "handle_id", sb_val_ref(*sb_map_get_str(w->handle, "id"))))
        w->cancel = sb_mcp_client_call_tool(w->client, sb_handle_field(w->handle, "cancel_tool", "cancel_jobs"), args);
    sb_val_free(args);
    return w->cancel != 0;
}

sb_val sb_handle_watch_cancelled(const sb_handle_watch *w) { return w->cancelled; }

bool sb_handle_watch_busy(const sb_handle_watch *w) { return w->call || w->cancel || sb_mcp_client_busy(w->client); }

bool sb_handle_watch_next_result(sb_handle_watch *w, sb_val *job)
{
    if (w->next >= sb_list_len(w->ready))
        return false;
    *job = sb_val_ref(*sb_list_at(w->ready, w->next++));
    return true;
}

sb_val sb_handle_watch_status(const sb_handle_watch *w)
{
    sb_val s = sb_map_new(5);
    bool ok = sb_map_set_str(&s, "polls", sb_int(w->polls));
    ok = ok && sb_map_set_str(&s, "in_flight", sb_bool(w->call != 0));
    ok = ok && sb_map_set_str(&s, "handle", sb_val_ref(w->handle));
    static const char *const keys[] = {"queued", "running", "completed", "failed", "cancelled", "total"};
    sb_val counts = sb_map_new(6);
    for (int k = 0; w->has_counts && k < SB_JOB_NSTATES + 1; k++)
        ok = ok && sb_map_set_str(&counts, keys[k], sb_int(w->counts[k]));
    ok = ok && sb_map_set_str(&s, "done", sb_bool(w->answered && w->done));
    ok = sb_map_set_str(&s, "counts", counts) && ok;
    if (w->error.kind != SB_NULL)
        ok = ok && sb_map_set_str(&s, "error", sb_string(sb_str(w->error), sb_str_len(w->error)));
    if (!ok) {
        sb_val_free(s);
        return sb_oom();
    }
    return s;
}

sb_val sb_handle_chunk(sb_val rec)
{
    const sb_val *st = sb_map_get_str(rec, "status"), *id = sb_map_get_str(rec, "job_id");
    if (rec.kind != SB_MAP || !st || !id || id->kind != SB_STRING)
        return sb_errorf("not a job record");
    sb_status_fields f;
    sb_status_job_fields(rec, &f);
    const sb_val *of = sb_map_get_str(rec, "retry_of");
    bool done = sb_str_eq(*st, "completed"), failed = sb_str_eq(*st, "failed");
    bool unstarted = sb_str_eq(*st, "cancelled") && f.error_type && sb_str_eq(*f.error_type, "budget");
    const char *type = done ? "job_completed" : failed ? "job_failed" : unstarted ? "job_unstarted" : "job_cancelled";
    sb_val c = sb_map_new(10);
    bool ok = sb_run__put(&c, "type", sb_string_cstr(type));
    ok = ok && sb_run__put(&c, "job_id", sb_val_ref(*id));
    if (of && of->kind == SB_STRING)
        ok = ok && sb_run__put(&c, "retry_of", sb_val_ref(*of));
    ok = ok && sb_run__put(&c, "hyperparameters", f.hyperparameters ? sb_val_ref(*f.hyperparameters) : sb_map_new(0));
    if (done) {
        ok = ok && sb_run__put(&c, "metrics", f.metrics ? sb_val_ref(*f.metrics) : sb_map_new(0));
    } else if (failed || unstarted) {
        ok = ok && sb_run__put(&c, "error", f.error ? sb_val_ref(*f.error) : sb_string_cstr("unknown error"));
        /* Without the workspace's patterns, the server's word or "unknown". */
        ok = ok && sb_run__put(&c, "error_type", f.error_type ? sb_val_ref(*f.error_type) : sb_string_cstr("unknown"));
    }
    ok = ok && sb_run__put(&c, "duration_seconds", f.duration_seconds ? sb_val_ref(*f.duration_seconds) : sb_int(0));
    ok = ok && sb_run__put(&c, "cost_usd", f.cost_usd ? sb_val_ref(*f.cost_usd) : sb_int(0));
    if (!ok) {
        sb_val_free(c);
        return sb_oom();
    }
    return c;
}
