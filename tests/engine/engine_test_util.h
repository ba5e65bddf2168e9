/* Helpers shared by the engine tests and the transcript driver: loading the
 * case files, building job lists, reading values by path. */
#ifndef ENGINE_TEST_UTIL_H
#define ENGINE_TEST_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"
#include "util/sb_alloc.h"
#include "config/sb_schema.h"
#include "json/sb_json.h"
#include "spec/sb_spec.h"

/* s with the first `from` replaced by `to` (sb_free it); a copy of s when
 * `from` is NULL. Aborts if `from` is absent: the case file changed. */
static inline char *et_replace(const char *s, const char *from, const char *to)
{
    if (!from)
        return sb_strdup(s);
    const char *at = strstr(s, from);
    if (!at) {
        fprintf(stderr, "et_replace: '%s' is not in the case file\n", from);
        abort();
    }
    sb_buf b = SB_BUF_INIT;
    sb_buf_append(&b, s, (size_t)(at - s));
    sb_buf_puts(&b, to);
    sb_buf_puts(&b, at + strlen(from));
    return sb_buf_take(&b);
}

/* Loads cases/workspace.yaml (with one line edited when from != NULL) and
 * cases/pipelines.yaml into h. */
static inline bool et_load(fake_host *h, const char *from, const char *to)
{
    char *ws = fh_read_file("cases/workspace.yaml"), *pl = fh_read_file("cases/pipelines.yaml");
    char *edited = ws ? et_replace(ws, from, to) : NULL;
    bool ok = edited && pl && fh_load_config(h, edited, pl);
    sb_free(ws);
    sb_free(pl);
    sb_free(edited);
    return ok;
}

/* {"jobs": [n jobs]}: learning rates 0.01, 0.02, ..., batch size 64, the
 * given estimate each. */
static inline char *et_jobs_input(int n, double estimate, const char *extra)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "{\"jobs\":[");
    for (int i = 0; i < n; i++)
        sb_buf_printf(&b, "%s{\"hyperparameters\":{\"learning_rate\":%g,\"batch_size\":64},\"estimated_cost_usd\":%g}",
                      i ? "," : "", 0.01 * (i + 1), estimate);
    sb_buf_printf(&b, "]%s%s}", extra ? "," : "", extra ? extra : "");
    return sb_buf_take(&b);
}

/* The value at a dotted path; list items by index ("jobs.0.job_id"). */
static inline const sb_val *et_at(const sb_val *v, const char *path)
{
    char key[128];
    while (v && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        path += n + (path[n] == '.');
        if (v->kind == SB_LIST) {
            char *end;
            unsigned long i = strtoul(key, &end, 10);
            v = *end || i >= sb_list_len(*v) ? NULL : sb_list_at(*v, i);
        } else {
            v = sb_map_get_str(*v, key);
        }
    }
    return v;
}

/* The JSON text at path in v (sb_free it), or NULL. */
static inline char *et_json_at(sb_val v, const char *path)
{
    const sb_val *x = et_at(&v, path);
    return x ? sb_val_to_json(*x, 0) : NULL;
}

/* The same in a JSON text. */
static inline char *et_json_at_text(const char *json, const char *path)
{
    sb_val v = sb_json_parse(json, strlen(json));
    char *s = et_json_at(v, path);
    sb_val_free(v);
    return s;
}

#endif
