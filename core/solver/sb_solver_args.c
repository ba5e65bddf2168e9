/* plan_search_grid arguments -> sb_solver_spec. Every message names the
 * argument at fault by its path (parameter_space.dropout[2],
 * cost_model.duration_scale.batch_size."256") and shows what was given.
 *
 * Strictness: unknown top-level arguments and unknown range keys are errors
 * (a typo must not silently change a sweep); unknown cost_model keys are
 * ignored so a workspace's whole cost model can be passed as it is. */
#include "sb_solver_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../util/sb_alloc.h"

bool sb_solver__as_number(sb_val v, double *out)
{
    return (v.kind == SB_INT || v.kind == SB_UINT || v.kind == SB_DOUBLE) && sb_val_as_double(v, out) && isfinite(*out);
}

bool sb_solver__as_count(sb_val v, uint64_t *out)
{
    if (v.kind == SB_INT && v.as.i >= 0 && (uint64_t)v.as.i <= SB_SOLVER_MAX_GRID)
        *out = (uint64_t)v.as.i;
    else if (v.kind == SB_UINT && v.as.u <= SB_SOLVER_MAX_GRID)
        *out = v.as.u;
    else if (v.kind == SB_DOUBLE && v.as.d >= 0 && v.as.d <= 9007199254740992.0 && v.as.d == floor(v.as.d))
        *out = (uint64_t)v.as.d;
    else
        return false;
    return true;
}

void sb_solver__put_json(sb_buf *b, sb_val v)
{
    sb_val_write_json(b, v, 0);
}

bool sb_solver__put(sb_val *map, const char *key, sb_val v)
{
    if (v.kind == SB_ERROR) {
        sb_val_free(v);
        return false;
    }
    return sb_map_set_str(map, key, v);
}

static sb_solver_status bad(sb_buf *err, const char *path, const char *want, const sb_val *got)
{
    sb_buf_printf(err, "%s: expected %s", path, want);
    if (got) {
        sb_buf_puts(err, ", got ");
        sb_solver__put_json(err, *got);
    }
    return sb_buf_failed(err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
}

static sb_solver_status say(sb_buf *err, const char *msg)
{
    sb_buf_puts(err, msg);
    return sb_buf_failed(err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
}

/* Parsing state beyond the spec: per parameter, a map level value -> index
 * (CEL key equality, so 64 and 64.0 are one level) used to find duplicates
 * and to resolve duration_scale keys. */
typedef struct parse {
    sb_solver_spec *spec;
    sb_buf *err;
    sb_val *index; /* nparams maps */
    sb_buf path;
} parse;

/* A path for a message, in ps->path (valid until the next call). */
#if defined(__GNUC__)
static const char *path_of(parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
static const char *path_of(parse *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_buf_reset(&ps->path);
    sb_buf_vprintf(&ps->path, fmt, ap);
    va_end(ap);
    if (sb_buf_failed(&ps->path))
        ps->err->failed = true; /* whatever message follows is out of memory */
    return sb_buf_str(&ps->path);
}

static bool is_level_kind(sb_val v)
{
    double d;
    switch (v.kind) {
    case SB_NULL:
    case SB_BOOL:
    case SB_INT:
    case SB_UINT:
    case SB_STRING:
        return true;
    case SB_DOUBLE:
        return sb_solver__as_number(v, &d);
    default:
        return false;
    }
}

/* Keys and the index map for p's levels; rejects repeats of a value or a key. */
static sb_solver_status index_levels(parse *ps, size_t pi)
{
    sb_solver_param *p = &ps->spec->params[pi];
    const char *name = sb_str(p->name);
    p->keys = sb_calloc(p->nlevels, sizeof *p->keys);
    p->scale = sb_malloc(p->nlevels * sizeof *p->scale);
    ps->index[pi] = sb_map_new(p->nlevels);
    sb_val by_key = sb_map_new(p->nlevels);
    sb_solver_status st = SB_SOLVER_OK;
    if (!p->keys || !p->scale || ps->index[pi].kind != SB_MAP || by_key.kind != SB_MAP)
        st = SB_SOLVER_ENOMEM;
    for (size_t i = 0; st == SB_SOLVER_OK && i < p->nlevels; i++) {
        sb_val lv = p->levels[i];
        p->scale[i] = 1.0;
        p->keys[i] = lv.kind == SB_STRING ? sb_strndup(sb_str(lv), sb_str_len(lv)) : sb_val_to_json(lv, 0);
        if (!p->keys[i]) {
            st = SB_SOLVER_ENOMEM;
            break;
        }
        if (sb_map_get(ps->index[pi], lv)) {
            sb_buf_printf(ps->err, "parameter_space.%s: level ", name);
            sb_solver__put_json(ps->err, lv);
            sb_buf_puts(ps->err, " appears twice");
            st = sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
            break;
        }
        const sb_val *other = sb_map_get_str(by_key, p->keys[i]);
        if (other) {
            sb_buf_printf(ps->err, "parameter_space.%s: levels ", name);
            sb_solver__put_json(ps->err, p->levels[other->as.i]);
            sb_buf_puts(ps->err, " and ");
            sb_solver__put_json(ps->err, lv);
            sb_buf_printf(ps->err, " share the key \"%s\" used in level_counts and duration_scale", p->keys[i]);
            st = sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
            break;
        }
        if (!sb_map_set(&ps->index[pi], sb_val_ref(lv), sb_int((int64_t)i)) ||
            !sb_map_set_str(&by_key, p->keys[i], sb_int((int64_t)i)))
            st = SB_SOLVER_ENOMEM;
    }
    sb_val_free(by_key);
    return st;
}

static sb_solver_status list_levels(parse *ps, sb_solver_param *p, sb_val list)
{
    const char *name = sb_str(p->name);
    size_t n = sb_list_len(list);
    if (n == 0) {
        sb_buf_printf(ps->err, "parameter_space.%s: the list of levels is empty", name);
        return sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
    }
    if (n > SB_SOLVER_MAX_LEVELS) {
        sb_buf_printf(ps->err, "parameter_space.%s: %zu levels, at most %d", name, n, SB_SOLVER_MAX_LEVELS);
        return sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        sb_val lv = *sb_list_at(list, i);
        if (!is_level_kind(lv)) {
            sb_buf_printf(ps->err, "parameter_space.%s[%zu]: expected a number, string, bool or null, got ", name, i);
            sb_solver__put_json(ps->err, lv);
            return sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
        }
    }
    if (!(p->levels = sb_malloc(n * sizeof *p->levels)))
        return SB_SOLVER_ENOMEM;
    for (size_t i = 0; i < n; i++)
        p->levels[i] = sb_val_ref(*sb_list_at(list, i));
    p->nlevels = n;
    return SB_SOLVER_OK;
}

static sb_solver_status parse_space(parse *ps, sb_val space)
{
    sb_solver_spec *spec = ps->spec;
    size_t n = sb_map_len(space);
    if (n == 0)
        return say(ps->err, "parameter_space: empty; give at least one parameter");
    if (n > SB_SOLVER_MAX_PARAMS) {
        sb_buf_printf(ps->err, "parameter_space: %zu parameters, at most %d", n, SB_SOLVER_MAX_PARAMS);
        return sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
    }
    spec->params = sb_calloc(n, sizeof *spec->params);
    ps->index = sb_calloc(n, sizeof *ps->index);
    if (!spec->params || !ps->index)
        return SB_SOLVER_ENOMEM;
    spec->nparams = n;
    spec->grid = 1;
    uint64_t cells = 0, levels_before = 0;
    for (size_t i = 0; i < n; i++) {
        sb_solver_param *p = &spec->params[i];
        sb_val key = *sb_map_key_at(space, i), v = *sb_map_val_at(space, i);
        if (key.kind != SB_STRING || sb_str_len(key) == 0 || strlen(sb_str(key)) != sb_str_len(key))
            return bad(ps->err, "parameter_space", "parameter names that are non-empty strings", &key);
        p->name = key;
        const char *name = sb_str(key);
        sb_solver_status st;
        if (v.kind == SB_LIST) {
            st = list_levels(ps, p, v);
        } else if (v.kind == SB_MAP) {
            st = sb_solver__range_levels(v, name, spec->seed, &p->levels, &p->nlevels, ps->err);
        } else {
            return bad(ps->err, path_of(ps, "parameter_space.%s", name),
                       "a list of levels or a range {min, max, scale, steps | samples}", &v);
        }
        if (st == SB_SOLVER_OK)
            st = index_levels(ps, i);
        if (st != SB_SOLVER_OK)
            return st;
        if (spec->grid > SB_SOLVER_MAX_GRID / p->nlevels)
            return say(ps->err, "parameter_space: the grid has more than 2^53 combinations");
        spec->grid *= p->nlevels;
        cells += levels_before * p->nlevels; /* this parameter paired with every earlier one */
        levels_before += p->nlevels;
        if (cells > SB_SOLVER_MAX_PAIR_CELLS) {
            sb_buf_printf(ps->err, "parameter_space: too many level pairs to balance (over %d); use fewer levels",
                          SB_SOLVER_MAX_PAIR_CELLS);
            return sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
        }
    }
    return SB_SOLVER_OK;
}

/* The level of parameter pi that a duration_scale key names: a string key
 * names the string level with that text, the number it spells (the simulated
 * Conductor's rule: "64" names 64 and 64.0), or true/false/null. -1: none;
 * -2: two levels. */
static long scale_level(parse *ps, size_t pi, sb_val key)
{
    sb_val idx = ps->index[pi];
    const sb_val *hit = sb_map_get(idx, key); /* a string key finds only a string level */
    if (key.kind != SB_STRING)
        return hit ? (long)hit->as.i : -1;
    const sb_val *num = NULL;
    const char *s = sb_str(key);
    char *end;
    double d = sb_str_len(key) ? strtod(s, &end) : 0;
    if (sb_str_len(key) && *end == '\0' && isfinite(d))
        num = sb_map_get(idx, sb_double(d));
    else if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
        num = sb_map_get(idx, sb_bool(s[0] == 't'));
    else if (strcmp(s, "null") == 0)
        num = sb_map_get(idx, sb_null());
    if (hit && num && hit->as.i != num->as.i)
        return -2;
    hit = hit ? hit : num;
    return hit ? (long)hit->as.i : -1;
}

static sb_solver_status parse_scale_table(parse *ps, size_t pi, sb_val table, bool *seen)
{
    sb_solver_param *p = &ps->spec->params[pi];
    const char *name = sb_str(p->name);
    if (table.kind != SB_MAP)
        return bad(ps->err, path_of(ps, "cost_model.duration_scale.%s", name),
                   "an object of level -> duration multiplier", &table);
    memset(seen, 0, p->nlevels * sizeof *seen);
    for (size_t k = 0; k < sb_map_len(table); k++) {
        sb_val key = *sb_map_key_at(table, k), f = *sb_map_val_at(table, k);
        sb_buf kt = SB_BUF_INIT;
        sb_solver__put_json(&kt, key);
        if (key.kind != SB_STRING) { /* shown quoted, as it would be as a JSON object key */
            sb_buf q = SB_BUF_INIT;
            sb_buf_json_string(&q, sb_buf_str(&kt), kt.len);
            sb_buf_free(&kt);
            kt = q;
        }
        const char *where = path_of(ps, "cost_model.duration_scale.%s.%s", name, sb_buf_str(&kt));
        bool oom = sb_buf_failed(&kt);
        sb_buf_free(&kt);
        if (oom)
            return SB_SOLVER_ENOMEM;
        long li = scale_level(ps, pi, key);
        double x;
        if (!sb_solver__as_number(f, &x) || !(x > 0))
            return bad(ps->err, where, "a number > 0", &f);
        /* A level this space does not have: the cost model is the
         * workspace's, shared by every space, so it may list more. */
        if (li == -1)
            continue;
        if (li == -2) {
            sb_buf_printf(ps->err, "%s: names two different levels of %s", where, name);
            return sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
        }
        if (seen[li]) {
            sb_buf_printf(ps->err, "%s: level %s already has a multiplier", where, p->keys[li]);
            return sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
        }
        seen[li] = true;
        p->scale[li] = x;
    }
    return SB_SOLVER_OK;
}

static sb_solver_status parse_duration_scale(parse *ps, sb_val ds)
{
    sb_solver_spec *spec = ps->spec;
    if (ds.kind == SB_NULL)
        return SB_SOLVER_OK;
    if (ds.kind != SB_MAP)
        return bad(ps->err, "cost_model.duration_scale", "an object of parameter name -> {level: multiplier}", &ds);
    size_t n = sb_map_len(ds), maxl = 0;
    for (size_t i = 0; i < spec->nparams; i++)
        maxl = spec->params[i].nlevels > maxl ? spec->params[i].nlevels : maxl;
    spec->scale_order = sb_malloc((n ? n : 1) * sizeof *spec->scale_order);
    bool *seen = sb_malloc(maxl * sizeof *seen);
    sb_solver_status st = spec->scale_order && seen ? SB_SOLVER_OK : SB_SOLVER_ENOMEM;
    for (size_t i = 0; st == SB_SOLVER_OK && i < n; i++) {
        sb_val key = *sb_map_key_at(ds, i);
        size_t pi = 0;
        while (pi < spec->nparams && !sb_val_equal(spec->params[pi].name, key))
            pi++;
        if (pi == spec->nparams) /* not in this space: its factor is 1 for every trial */
            continue;
        st = parse_scale_table(ps, pi, *sb_map_val_at(ds, i), seen);
        spec->scale_order[spec->nscaled++] = pi;
    }
    sb_free(seen);
    return st;
}

/* Reads an optional number field of obj into *out with bounds lo < x (or lo
 * <= x when lo_incl) and x < hi (or <= when hi_incl). */
static sb_solver_status number_field(parse *ps, sb_val obj, const char *key, const char *path, bool required, double lo,
                                     bool lo_incl, double hi, bool hi_incl, const char *want, double *out)
{
    const sb_val *v = sb_map_get_str(obj, key);
    if (!v || (v->kind == SB_NULL && !required))
        return required ? say(ps->err, path_of(ps, "%s: required (%s)", path, want)) : SB_SOLVER_OK;
    double x;
    if (!sb_solver__as_number(*v, &x) || (lo_incl ? x < lo : x <= lo) || (hi_incl ? x > hi : x >= hi))
        return bad(ps->err, path, want, v);
    *out = x;
    return SB_SOLVER_OK;
}

static sb_solver_status parse_cost_model(parse *ps, sb_val cm)
{
    sb_solver_spec *spec = ps->spec;
    sb_solver_status st;
    if (cm.kind != SB_MAP)
        return bad(ps->err, "cost_model", "an object {gpu_hour_usd, base_hours, ...}", &cm);
    spec->gpus_per_trial = 1.0;
    spec->reserve_fraction = 0.1;
    spec->cap_margin = 0.1;
    if ((st = number_field(ps, cm, "gpu_hour_usd", "cost_model.gpu_hour_usd", true, 0, true, HUGE_VAL, false,
                           "a number >= 0", &spec->gpu_hour_usd)) ||
        (st = number_field(ps, cm, "gpus_per_trial", "cost_model.gpus_per_trial", false, 0, false, HUGE_VAL, false,
                           "a number > 0", &spec->gpus_per_trial)) ||
        (st = number_field(ps, cm, "base_hours", "cost_model.base_hours", true, 0, false, HUGE_VAL, false,
                           "a number > 0", &spec->base_hours)) ||
        (st = number_field(ps, cm, "retry_reserve_fraction", "cost_model.retry_reserve_fraction", false, 0, true, 1,
                           false, "a number from 0 up to (not including) 1", &spec->reserve_fraction)) ||
        (st = number_field(ps, cm, "cap_margin_fraction", "cost_model.cap_margin_fraction", false, 0, true, 10,
                           true, "a number from 0 to 10", &spec->cap_margin)))
        return st;
    const sb_val *ds = sb_map_get_str(cm, "duration_scale");
    return ds ? parse_duration_scale(ps, *ds) : SB_SOLVER_OK;
}

static sb_solver_status count_field(parse *ps, sb_val args, const char *key, uint64_t min, const char *want,
                                    uint64_t *out)
{
    const sb_val *v = sb_map_get_str(args, key);
    if (!v || v->kind == SB_NULL)
        return SB_SOLVER_OK;
    uint64_t n;
    if (!sb_solver__as_count(*v, &n) || n < min)
        return bad(ps->err, key, want, v);
    *out = n;
    return SB_SOLVER_OK;
}

static sb_solver_status check_keys(parse *ps, sb_val args)
{
    static const char *const known[] = {"budget_usd",     "parameter_space", "cost_model",
                                        "max_concurrent", "max_trials",      "seed"};
    for (size_t i = 0; i < sb_map_len(args); i++) {
        sb_val k = *sb_map_key_at(args, i);
        bool ok = false;
        for (size_t j = 0; j < sizeof known / sizeof *known; j++)
            ok = ok || sb_str_eq(k, known[j]);
        if (!ok) {
            sb_buf_puts(ps->err, "unknown argument ");
            sb_solver__put_json(ps->err, k);
            sb_buf_puts(ps->err, " (expected budget_usd, parameter_space, cost_model, max_concurrent, max_trials, "
                                 "seed)");
            return sb_buf_failed(ps->err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
        }
    }
    return SB_SOLVER_OK;
}

static sb_solver_status parse_all(parse *ps, sb_val args)
{
    sb_solver_spec *spec = ps->spec;
    sb_solver_status st;
    if (args.kind != SB_MAP)
        return bad(ps->err, "arguments", "an object", &args);
    if ((st = check_keys(ps, args)))
        return st;
    const sb_val *budget = sb_map_get_str(args, "budget_usd");
    if ((st = number_field(ps, args, "budget_usd", "budget_usd", true, 0, false, HUGE_VAL, false, "a number > 0",
                           &spec->budget)))
        return st;
    spec->budget_val = *budget;
    spec->max_concurrent = 1;
    if ((st = count_field(ps, args, "seed", 0, "an integer >= 0", &spec->seed)) ||
        (st = count_field(ps, args, "max_concurrent", 1, "an integer >= 1", &spec->max_concurrent)) ||
        (st = count_field(ps, args, "max_trials", 1, "null or an integer >= 1", &spec->max_trials)))
        return st;
    const sb_val *space = sb_map_get_str(args, "parameter_space");
    if (!space)
        return say(ps->err, "parameter_space: required (an object of parameter name -> list of levels or range)");
    if (space->kind != SB_MAP)
        return bad(ps->err, "parameter_space", "an object of parameter name -> list of levels or range", space);
    if ((st = parse_space(ps, *space)))
        return st;
    const sb_val *cm = sb_map_get_str(args, "cost_model");
    if (!cm)
        return say(ps->err, "cost_model: required (an object {gpu_hour_usd, base_hours, ...})");
    if ((st = parse_cost_model(ps, *cm)))
        return st;
    spec->reserve = spec->budget * spec->reserve_fraction;
    spec->planning = spec->budget - spec->reserve;
    return SB_SOLVER_OK;
}

sb_solver_status sb_solver__spec_parse(sb_solver_spec *spec, sb_val args, sb_buf *err)
{
    memset(spec, 0, sizeof *spec);
    parse ps = {.spec = spec, .err = err, .path = SB_BUF_INIT};
    sb_solver_status st = parse_all(&ps, args);
    if (st == SB_SOLVER_OK && (sb_buf_failed(&ps.path) || sb_buf_failed(err)))
        st = SB_SOLVER_ENOMEM;
    if (ps.index)
        for (size_t i = 0; i < spec->nparams; i++)
            sb_val_free(ps.index[i]);
    sb_free(ps.index);
    sb_buf_free(&ps.path);
    if (st != SB_SOLVER_OK)
        sb_solver__spec_free(spec);
    return st;
}

void sb_solver__spec_free(sb_solver_spec *spec)
{
    for (size_t i = 0; spec->params && i < spec->nparams; i++) {
        sb_solver_param *p = &spec->params[i];
        for (size_t j = 0; j < p->nlevels; j++) {
            if (p->levels)
                sb_val_free(p->levels[j]);
            if (p->keys)
                sb_free(p->keys[j]);
        }
        sb_free(p->levels);
        sb_free(p->keys);
        sb_free(p->scale);
    }
    sb_free(spec->params);
    sb_free(spec->scale_order);
    memset(spec, 0, sizeof *spec);
}

double sb_solver__hours(const sb_solver_spec *spec, const uint16_t *combo)
{
    double h = spec->base_hours;
    for (size_t i = 0; i < spec->nscaled; i++) {
        size_t p = spec->scale_order[i];
        h *= spec->params[p].scale[combo[p]];
    }
    return h;
}

double sb_solver__cost_of_hours(const sb_solver_spec *spec, double hours)
{
    return hours * spec->gpus_per_trial * spec->gpu_hour_usd;
}
