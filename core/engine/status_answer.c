/* Reading servers' answers: a tools/call result's value (every step and
 * handle reads results through sb_run__result_value), and sb_status_answer
 * (see sb_status_answer.h) for get_jobs_status. */
#include <stdio.h>
#include <string.h>

#include "../json/sb_json.h"
#include "../mcp/sb_mcp_client.h"
#include "../util/sb_alloc.h"
#include "run_int.h"
#include "sb_status_answer.h"

static const char *const state_names[] = {"queued", "running", "completed", "failed", "cancelled"};

const char *sb_job_state_name(sb_job_state s) { return (unsigned)s < SB_JOB_NSTATES ? state_names[s] : "?"; }

bool sb_job_state_final(sb_job_state s)
{
    return s == SB_JOB_COMPLETED || s == SB_JOB_FAILED || s == SB_JOB_CANCELLED;
}

static int parse_state(sb_val v)
{
    for (int k = 0; k < SB_JOB_NSTATES; k++)
        if (sb_str_eq(v, state_names[k]))
            return k;
    return -1;
}

sb_val sb_run__result_value(sb_val result)
{
    const sb_val *sc = sb_map_get_str(result, "structuredContent");
    if (sc)
        return sb_val_ref(*sc);
    sb_val text = sb_mcp_result_text(result);
    if (text.kind != SB_STRING)
        return sb_oom();
    sb_val v = sb_json_parse(sb_str(text), sb_str_len(text));
    if (v.kind == SB_ERROR && !sb_is_oom(v)) {
        sb_val_free(v);
        v = sb_val_ref(text);
    }
    sb_val_free(text);
    return v;
}

void sb_status_answer_clear(sb_status_answer *a)
{
    if (!a)
        return;
    sb_free(a->jobs);
    sb_val_free(a->value);
    memset(a, 0, sizeof *a);
    a->value = sb_null();
}

/* A new error "server '<server>': tools/call <tool>: <what>". */
static sb_val bad(const char *server, const char *tool, const char *what, sb_val at)
{
    sb_buf m = SB_BUF_INIT;
    sb_buf_printf(&m, "server '%s': tools/call %s: malformed answer: %s", server, tool, what);
    if (at.kind != SB_NULL) {
        sb_buf_puts(&m, " (found ");
        size_t mark = m.len;
        sb_val_write_json(&m, at, 0);
        if (m.len - mark > 120) { /* a hint, not the whole answer */
            m.len = mark + 120;
            sb_buf_puts(&m, "...");
        }
        sb_buf_putc(&m, ')');
    }
    sb_val e = sb_buf_failed(&m) ? sb_oom() : sb_error(sb_buf_str(&m));
    sb_buf_free(&m);
    return e;
}

static sb_val read_counts(sb_status_answer *a, sb_val counts, const char *server, const char *tool)
{
    static const char *const keys[] = {"queued", "running", "completed", "failed", "cancelled", "total"};
    if (counts.kind != SB_MAP)
        return bad(server, tool, "counts must be an object", counts);
    for (int k = 0; k < SB_JOB_NSTATES + 1; k++) {
        const sb_val *c = sb_map_get_str(counts, keys[k]);
        if (!c)
            continue;
        if (c->kind != SB_INT || c->as.i < 0) {
            char what[64];
            snprintf(what, sizeof what, "counts.%s must be an integer >= 0", keys[k]);
            return bad(server, tool, what, *c);
        }
        a->counts[k] = c->as.i;
    }
    a->has_counts = true;
    return sb_null();
}

/* One pass over a record's entries instead of a lookup by name per field
 * (a status answer holds a record per job, read at every poll). The names
 * have distinct lengths except job_id and status. A map's keys are unique,
 * so this finds what sb_map_get_str would. */
static void scan_record(sb_val rec, const sb_val **id, const sb_val **st, sb_status_fields *f)
{
    memset(f, 0, sizeof *f);
    *id = *st = NULL;
    size_t n = sb_map_len(rec);
    for (size_t i = 0; i < n; i++) {
        const sb_val *k = sb_map_key_at(rec, i);
        if (k->kind != SB_STRING)
            continue;
        const char *s = sb_str(*k);
        const sb_val **slot = NULL, *v = sb_map_val_at(rec, i);
        switch (sb_str_len(*k)) {
        case 5: slot = memcmp(s, "error", 5) == 0 ? &f->error : NULL; break;
        case 6: slot = memcmp(s, "job_id", 6) == 0 ? id : memcmp(s, "status", 6) == 0 ? st : NULL; break;
        case 7: slot = memcmp(s, "metrics", 7) == 0 ? &f->metrics : NULL; break;
        case 8: slot = memcmp(s, "cost_usd", 8) == 0 ? &f->cost_usd : NULL; break;
        case 10: slot = memcmp(s, "error_type", 10) == 0 ? &f->error_type : NULL; break;
        case 15: slot = memcmp(s, "hyperparameters", 15) == 0 ? &f->hyperparameters : NULL; break;
        case 16: slot = memcmp(s, "duration_seconds", 16) == 0 ? &f->duration_seconds : NULL; break;
        default: break;
        }
        if (slot)
            *slot = v;
    }
}

void sb_status_job_fields(sb_val rec, sb_status_fields *f)
{
    const sb_val *id, *st;
    scan_record(rec, &id, &st, f);
}

/* The name of the first field of f of the wrong kind, or NULL. */
static const char *bad_field(const sb_status_fields *fp, const sb_val **at)
{
    sb_status_fields f = *fp;
    double x;
    if ((*at = f.hyperparameters) && f.hyperparameters->kind != SB_MAP)
        return "hyperparameters must be an object";
    if ((*at = f.metrics) && f.metrics->kind != SB_MAP)
        return "metrics must be an object";
    if ((*at = f.error) && f.error->kind != SB_STRING)
        return "error must be a string";
    if ((*at = f.error_type) && f.error_type->kind != SB_STRING)
        return "error_type must be a string";
    if ((*at = f.duration_seconds) && !sb_val_as_double(*f.duration_seconds, &x))
        return "duration_seconds must be a number";
    if ((*at = f.cost_usd) && !sb_val_as_double(*f.cost_usd, &x))
        return "cost_usd must be a number";
    return NULL;
}

static sb_val read_jobs(sb_status_answer *a, sb_val jobs, const char *server, const char *tool)
{
    size_t n = sb_list_len(jobs);
    a->jobs = sb_calloc(n ? n : 1, sizeof *a->jobs);
    if (!a->jobs)
        return sb_oom();
    for (size_t k = 0; k < n; k++) {
        sb_val rec = *sb_list_at(jobs, k);
        const sb_val *id, *st;
        sb_status_fields f;
        scan_record(rec, &id, &st, &f);
        char what[96];
        if (rec.kind != SB_MAP) {
            snprintf(what, sizeof what, "jobs[%zu] must be an object", k);
            return bad(server, tool, what, rec);
        }
        if (!id || id->kind != SB_STRING || sb_str_len(*id) == 0) {
            snprintf(what, sizeof what, "jobs[%zu].job_id must be a non-empty string", k);
            return bad(server, tool, what, id ? *id : sb_null());
        }
        int state = st ? parse_state(*st) : -1;
        if (state < 0) {
            snprintf(what, sizeof what, "jobs[%zu].status must be queued, running, completed, failed or cancelled",
                     k);
            return bad(server, tool, what, st ? *st : sb_null());
        }
        const sb_val *at;
        const char *field = bad_field(&f, &at);
        if (field) {
            snprintf(what, sizeof what, "jobs[%zu].%s", k, field);
            return bad(server, tool, what, *at);
        }
        a->jobs[a->njobs++] = (sb_status_job){sb_str(*id), (sb_job_state)state, rec};
    }
    return sb_null();
}

sb_val sb_status_answer_read(sb_val result, const char *server, const char *tool, sb_status_answer *out)
{
    memset(out, 0, sizeof *out);
    out->value = sb_null();
    if (result.kind == SB_ERROR)
        return sb_is_oom(result) ? sb_oom() : sb_error(sb_str(result));
    if (sb_mcp_result_is_error(result))
        return sb_mcp_result_error(server, tool, result);
    out->value = sb_run__result_value(result);
    if (sb_is_oom(out->value)) {
        out->value = sb_null();
        return sb_oom();
    }
    sb_val v = out->value, e = sb_null();
    const sb_val *jobs = sb_map_get_str(v, "jobs"), *counts = sb_map_get_str(v, "counts"),
                 *cursor = sb_map_get_str(v, "cursor"), *done = sb_map_get_str(v, "done"),
                 *hid = sb_map_get_str(v, "handle_id");
    if (v.kind != SB_MAP)
        e = bad(server, tool, "expected a JSON object", v);
    else if (!jobs || jobs->kind != SB_LIST)
        e = bad(server, tool, "no jobs list", jobs ? *jobs : sb_null());
    else if (cursor && cursor->kind != SB_STRING && cursor->kind != SB_NULL)
        e = bad(server, tool, "cursor must be a string", *cursor);
    else if (done && done->kind != SB_BOOL)
        e = bad(server, tool, "done must be true or false", *done);
    else if (hid && hid->kind != SB_STRING)
        e = bad(server, tool, "handle_id must be a string", *hid);
    if (e.kind == SB_NULL && counts)
        e = read_counts(out, *counts, server, tool);
    if (e.kind == SB_NULL)
        e = read_jobs(out, *jobs, server, tool);
    if (e.kind != SB_NULL) {
        sb_status_answer_clear(out);
        return e;
    }
    out->cursor = cursor && cursor->kind == SB_STRING ? sb_str(*cursor) : NULL;
    out->handle_id = hid ? sb_str(*hid) : NULL;
    out->has_done = done != NULL;
    out->done = done && done->as.b;
    return sb_null();
}
