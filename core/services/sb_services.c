#include "sb_services.h"

#include <string.h>

#include "../conductor/sb_conductor_sim.h"
#include "../mcp/sb_mcp_server.h"
#include "../solver/sb_solver.h"
#include "../util/sb_alloc.h"

#ifndef SIBYL_VERSION
#define SIBYL_VERSION "0"
#endif

typedef struct service {
    char *name;
    sb_mcp_server *server;
    sb_csim *sim; /* conductor_sim only */
} service;

struct sb_services {
    service *list;
    size_t n;
};

static sb_val solver_tool(void *ud, int64_t now_ms, const char *tool, sb_val args)
{
    (void)ud;
    (void)now_ms;
    return sb_solver_call(tool, args);
}

static sb_val csim_tool(void *ud, int64_t now_ms, const char *tool, sb_val args)
{
    return sb_csim_call(ud, now_ms, tool, args);
}

void sb_services_sim_options(sb_val ws, sb_csim_options *o)
{
    sb_csim_options_init(o);
    const sb_val *cm = ws.kind == SB_MAP ? sb_map_get_str(ws, "cost_model") : NULL;
    if (cm)
        sb_csim_options_from_cost_model(o, *cm);
    const sb_val *sim = ws.kind == SB_MAP ? sb_map_get_str(ws, "simulation") : NULL;
    if (sim)
        sb_csim_options_from_simulation(o, *sim); /* validated by the schema */
}

static bool add_service(sb_services *s, const char *name, const char *kind, sb_val ws, uint64_t seed)
{
    service *sv = &s->list[s->n];
    memset(sv, 0, sizeof *sv);
    sv->name = sb_strdup(name);
    if (!sv->name)
        return false;
    size_t ntools;
    if (strcmp(kind, "solver") == 0) {
        const sb_tool_desc *tools = sb_solver_tools(&ntools);
        sv->server = sb_mcp_server_new("sibyl-solver", SIBYL_VERSION, "Plans hyperparameter searches inside a budget.",
                                       tools, ntools, solver_tool, NULL);
    } else {
        sb_csim_options o;
        sb_services_sim_options(ws, &o);
        o.seed = seed;
        sv->sim = sb_csim_create(&o);
        const sb_tool_desc *tools = sb_csim_tools(&ntools);
        sv->server = sv->sim ? sb_mcp_server_new("sibyl-conductor-sim", SIBYL_VERSION,
                                                 "A simulated GPU cluster running training jobs.", tools, ntools,
                                                 csim_tool, sv->sim)
                             : NULL;
    }
    s->n++; /* counted even when incomplete, so free releases it */
    return sv->server != NULL;
}

sb_services *sb_services_new(sb_val workspace, uint64_t seed)
{
    sb_services *s = sb_calloc(1, sizeof *s);
    const sb_val *servers = sb_map_get_str(workspace, "servers");
    size_t n = servers ? sb_map_len(*servers) : 0;
    if (!s || !(s->list = sb_calloc(n ? n : 1, sizeof *s->list))) {
        sb_free(s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        sb_val def = *sb_map_val_at(*servers, i);
        const sb_val *t = sb_map_get_str(def, "transport"), *svc = sb_map_get_str(def, "service");
        if (!t || !sb_str_eq(*t, "embedded") || !svc || svc->kind != SB_STRING)
            continue;
        if (!add_service(s, sb_str(*sb_map_key_at(*servers, i)), sb_str(*svc), workspace, seed)) {
            sb_services_free(s);
            return NULL;
        }
    }
    return s;
}

void sb_services_free(sb_services *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        sb_free(s->list[i].name);
        sb_mcp_server_free(s->list[i].server);
        sb_csim_free(s->list[i].sim);
    }
    sb_free(s->list);
    sb_free(s);
}

static service *find(const sb_services *s, const char *name)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->list[i].name, name) == 0)
            return &s->list[i];
    return NULL;
}

bool sb_services_has(const sb_services *s, const char *server) { return find(s, server) != NULL; }

char *sb_services_handle(sb_services *s, const char *server, int64_t now_ms, const char *body, size_t len,
                         int *status)
{
    service *sv = find(s, server);
    if (!sv) {
        *status = 404;
        return NULL;
    }
    return sb_mcp_server_handle(sv->server, now_ms, body, len, status);
}

sb_val sb_services_answer(sb_services *s, const char *server, int64_t now_ms, const char *body, size_t len, int *status)
{
    service *sv = find(s, server);
    if (!sv) {
        *status = 404;
        return sb_null();
    }
    return sb_mcp_server_answer(sv->server, now_ms, body, len, status);
}

int64_t sb_services_next_event(const sb_services *s, int64_t now_ms)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; s && i < s->n; i++)
        if (s->list[i].sim) {
            int64_t t = sb_csim_next_event_ms(s->list[i].sim, now_ms);
            if (t >= 0 && t < best)
                best = t;
        }
    return best;
}
