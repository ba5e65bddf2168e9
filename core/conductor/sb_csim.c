/* The simulated Conductor's handle: options, lifetime, the tools/call entry
 * point and the MCP result shape. */
#include "sb_csim_int.h"

#include "../util/sb_alloc.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

const char *const sb_csim__status_names[CSIM_NSTATUS] = {"queued", "running", "completed", "failed", "cancelled"};

void sb_csim_options_init(sb_csim_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 0;
    o->max_concurrent = 5;
    o->gpu_hour_usd = 12.60;
    o->gpus_per_trial = 1;
    o->base_hours = 2.0;
    o->duration_scale = sb_null();
    o->infra_failure_rate = 0.03;
    o->cap_margin_fraction = 0.10;
}

static bool field_number(sb_val map, const char *key, bool positive, double *out)
{
    const sb_val *v = sb_map_get_str(map, key);
    if (!v)
        return true;
    double d;
    if (v->kind == SB_BOOL || !sb_val_as_double(*v, &d) || !isfinite(d) || d < 0 || (positive && d == 0))
        return false;
    *out = d;
    return true;
}

bool sb_csim_options_from_cost_model(sb_csim_options *o, sb_val cost_model)
{
    if (cost_model.kind != SB_MAP)
        return false;
    double usd = o->gpu_hour_usd, gpus = o->gpus_per_trial, hours = o->base_hours, margin = o->cap_margin_fraction;
    if (!field_number(cost_model, "gpu_hour_usd", false, &usd) ||
        !field_number(cost_model, "gpus_per_trial", true, &gpus) ||
        !field_number(cost_model, "base_hours", true, &hours) ||
        !field_number(cost_model, "cap_margin_fraction", false, &margin))
        return false;
    const sb_val *scale = sb_map_get_str(cost_model, "duration_scale");
    if (scale && scale->kind != SB_MAP && scale->kind != SB_NULL)
        return false;
    o->gpu_hour_usd = usd;
    o->gpus_per_trial = gpus;
    o->base_hours = hours;
    o->cap_margin_fraction = margin;
    if (scale)
        o->duration_scale = *scale;
    return true;
}

static bool bad_amount(double d, bool positive)
{
    return !isfinite(d) || d < 0 || (positive && d == 0);
}

sb_csim *sb_csim_create(const sb_csim_options *opt)
{
    sb_csim_options def;
    sb_csim_options_init(&def);
    sb_csim *s = sb_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->opt = opt ? *opt : def;
    if (s->opt.max_concurrent < 1)
        s->opt.max_concurrent = def.max_concurrent;
    if (bad_amount(s->opt.gpu_hour_usd, false))
        s->opt.gpu_hour_usd = def.gpu_hour_usd;
    if (bad_amount(s->opt.gpus_per_trial, true))
        s->opt.gpus_per_trial = def.gpus_per_trial;
    if (bad_amount(s->opt.base_hours, true))
        s->opt.base_hours = def.base_hours;
    if (!(s->opt.infra_failure_rate >= 0 && s->opt.infra_failure_rate <= 1))
        s->opt.infra_failure_rate = def.infra_failure_rate;
    if (bad_amount(s->opt.cap_margin_fraction, false))
        s->opt.cap_margin_fraction = def.cap_margin_fraction;
    s->opt.duration_scale = s->opt.duration_scale.kind == SB_MAP ? sb_val_clone(s->opt.duration_scale) : sb_null();
    s->now = INT64_MIN;
    s->idem = sb_map_new(0);
    bool room = sb_heap_reserve(&s->running, (size_t)s->opt.max_concurrent);
    if (!room || s->idem.kind != SB_MAP || s->opt.duration_scale.kind == SB_ERROR) {
        sb_csim_free(s);
        return NULL;
    }
    return s;
}

void sb_csim_free(sb_csim *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->njobs; i++) {
        csim_job *j = &s->jobs[i];
        sb_val_free(j->id);
        sb_val_free(j->hyper);
        sb_val_free(j->retry_of);
        sb_val_free(j->error);
        sb_val_free(j->metrics);
        sb_val_free(j->progress);
    }
    sb_free(s->jobs);
    sb_free(s->effects);
    for (size_t i = 0; i < s->nhandles; i++) {
        csim_handle *h = s->handles[i];
        sb_val_free(h->id);
        sb_free(h->jobs);
        sb_free(h->log);
        sb_csim__index_free(&h->by_id);
        sb_free(h);
    }
    sb_free(s->handles);
    sb_heap_free(&s->running);
    sb_val_free(s->idem);
    sb_val_free(s->opt.duration_scale);
    sb_free(s);
}

/* --- results --- */

static sb_val result(sb_val text, sb_val structured, bool is_error)
{
    bool ok = true;
    sb_val item = sb_map_new(2);
    sb_csim__put(&item, "type", sb_string_cstr("text"), &ok);
    sb_csim__put(&item, "text", text, &ok);
    sb_val content = sb_list_new(1);
    sb_csim__push(&content, item, &ok);
    sb_val r = sb_map_new(3);
    sb_csim__put(&r, "content", content, &ok);
    sb_csim__put(&r, "structuredContent", structured, &ok);
    sb_csim__put(&r, "isError", sb_bool(is_error), &ok);
    if (!ok) {
        sb_val_free(r);
        return sb_oom();
    }
    return r;
}

sb_val sb_csim__ok(sb_val structured)
{
    if (sb_is_oom(structured))
        return structured;
    char *json = sb_val_to_json(structured, 0);
    if (!json) {
        sb_val_free(structured);
        return sb_oom();
    }
    sb_val text = sb_string_cstr(json);
    sb_free(json);
    return result(text, structured, false);
}

sb_val sb_csim__fail(const char *fmt, ...)
{
    sb_buf b = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (sb_buf_failed(&b)) {
        sb_buf_free(&b);
        return sb_oom();
    }
    bool ok = true;
    sb_val structured = sb_map_new(1);
    sb_csim__put(&structured, "error", sb_string(sb_buf_str(&b), b.len), &ok);
    sb_val text = sb_string(sb_buf_str(&b), b.len);
    sb_buf_free(&b);
    if (!ok) {
        sb_val_free(structured);
        sb_val_free(text);
        return sb_oom();
    }
    return result(text, structured, true);
}

/* --- lookups --- */

sb_val sb_csim__job_key(const void *ctx, uint32_t value)
{
    return ((const sb_csim *)ctx)->jobs[value].id;
}

/* Handle ids are "h_" and the 1-based handle number, at least four digits;
 * anything else, including other spellings of a known number, is unknown. */
csim_handle *sb_csim__find_handle(const sb_csim *s, sb_val id)
{
    if (id.kind != SB_STRING || sb_str_len(id) < 3 || strncmp(sb_str(id), "h_", 2) != 0)
        return NULL;
    uint64_t n = 0;
    for (const char *p = sb_str(id) + 2; *p; p++) {
        if (*p < '0' || *p > '9' || n > UINT32_MAX)
            return NULL;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (n < 1 || n > s->nhandles || !sb_val_equal(s->handles[n - 1]->id, id))
        return NULL;
    return s->handles[n - 1];
}

/* --- the entry point --- */

sb_val sb_csim_call(sb_csim *s, int64_t now_ms, const char *tool, sb_val args)
{
    if (!s)
        return sb_csim__fail("no simulated conductor");
    sb_csim__advance(s, now_ms);
    if (!tool)
        tool = "";
    if (args.kind != SB_MAP && args.kind != SB_NULL)
        return sb_csim__fail("%s: arguments must be an object, not %s", tool, sb_kind_name(sb_kind_of(args)));
    if (strcmp(tool, "submit_jobs") == 0)
        return sb_csim__submit(s, args);
    if (strcmp(tool, "get_jobs_status") == 0)
        return sb_csim__status(s, args);
    if (strcmp(tool, "cancel_jobs") == 0)
        return sb_csim__cancel(s, args);
    return sb_csim__fail("unknown tool '%s' (this server has submit_jobs, get_jobs_status, cancel_jobs)", tool);
}
