/* Helpers shared by the simulated Conductor's tests: calls written as JSON
 * text, and field access on the results. */
#ifndef CSIM_TEST_UTIL_H
#define CSIM_TEST_UTIL_H
#include "conductor/sb_conductor_sim.h"
#include "util/sb_alloc.h"
#include "value/sb_value.h"
#include "json/sb_json.h"

#include <stdio.h>
#include <string.h>

static inline sb_val parse(const char *json)
{
    sb_val v = sb_json_parse(json, strlen(json));
    if (v.kind == SB_ERROR)
        fprintf(stderr, "bad test JSON: %s: %s\n", sb_str(v), json);
    return v;
}

/* The whole tools/call result. */
static inline sb_val call_raw(sb_csim *s, int64_t t, const char *tool, const char *args_json)
{
    sb_val args = parse(args_json);
    sb_val r = sb_csim_call(s, t, tool, args);
    sb_val_free(args);
    return r;
}

static inline const sb_val *get(sb_val m, const char *key)
{
    static const sb_val missing = {SB_NULL, 0, 0, 0, {0}};
    const sb_val *v = sb_map_get_str(m, key);
    return v ? v : &missing;
}

static inline bool is_error(sb_val r)
{
    return get(r, "isError")->kind == SB_BOOL && get(r, "isError")->as.b;
}

/* structuredContent of a successful call (a new reference), or null after
 * printing the error. */
static inline sb_val call(sb_csim *s, int64_t t, const char *tool, const char *args_json)
{
    sb_val r = call_raw(s, t, tool, args_json);
    if (r.kind != SB_MAP || is_error(r)) {
        char *j = sb_val_to_json(r, 0);
        fprintf(stderr, "unexpected failure of %s %s: %s\n", tool, args_json, j ? j : "?");
        sb_free(j);
        sb_val_free(r);
        return sb_null();
    }
    sb_val sc = sb_val_ref(*get(r, "structuredContent"));
    sb_val_free(r);
    return sc;
}

/* The error message of a call that must fail ("" when it did not). */
static inline const char *call_err(sb_csim *s, int64_t t, const char *tool, const char *args_json)
{
    static char err_buf[512];
    sb_val r = call_raw(s, t, tool, args_json);
    err_buf[0] = 0;
    if (is_error(r)) {
        const sb_val *content = get(r, "content");
        const sb_val *text = sb_list_len(*content) ? get(*sb_list_at(*content, 0), "text") : NULL;
        snprintf(err_buf, sizeof err_buf, "%s", text && text->kind == SB_STRING ? sb_str(*text) : "(no text)");
        /* structuredContent carries the same message */
        if (!sb_str_eq(*get(*get(r, "structuredContent"), "error"), err_buf))
            snprintf(err_buf, sizeof err_buf, "(structuredContent.error differs)");
    }
    sb_val_free(r);
    return err_buf;
}

static inline int64_t geti(sb_val m, const char *key)
{
    const sb_val *v = get(m, key);
    return v->kind == SB_INT ? v->as.i : -999999;
}

static inline double getd(sb_val m, const char *key)
{
    double d = -999999;
    sb_val_as_double(*get(m, key), &d);
    return d;
}

static inline const char *gstr(sb_val m, const char *key)
{
    const sb_val *v = get(m, key);
    return v->kind == SB_STRING ? sb_str(*v) : "(none)";
}

static inline int64_t count(sb_val status, const char *which)
{
    return geti(*get(status, "counts"), which);
}

/* The job with this id in a status answer's jobs list. */
static inline const sb_val *find_job(sb_val status, const char *id)
{
    const sb_val *jobs = get(status, "jobs");
    for (size_t i = 0; i < sb_list_len(*jobs); i++)
        if (sb_str_eq(*get(*sb_list_at(*jobs, i), "job_id"), id))
            return sb_list_at(*jobs, i);
    return get(status, "no such job");
}

static inline bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* Runs virtual time from event to event until nothing runs, polling with a
 * cursor as a host with a virtual clock would; returns the full status
 * (every job) at the end time *t. */
static inline sb_val run_to_end(sb_csim *s, const char *handle, int64_t *t)
{
    char args[96], cursor[32] = "c_0";
    for (int64_t next; (next = sb_csim_next_event_ms(s, *t)) >= 0;) {
        *t = next;
        snprintf(args, sizeof args, "{\"handle_id\":\"%s\",\"since_cursor\":\"%s\"}", handle, cursor);
        sb_val st = call(s, *t, "get_jobs_status", args);
        snprintf(cursor, sizeof cursor, "%s", gstr(st, "cursor"));
        sb_val_free(st);
    }
    snprintf(args, sizeof args, "{\"handle_id\":\"%s\"}", handle);
    return call(s, *t, "get_jobs_status", args);
}

#endif
