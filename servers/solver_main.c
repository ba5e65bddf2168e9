/* sibyl-solver: the Solver's tools (core/solver, the same code the embedded
 * service runs) over Streamable HTTP. Every tool in the Solver's own table is
 * served; the ones this file knows also list an output schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_common.h"
#include "solver/sb_solver.h"

/* Output schemas. Tool errors carry structuredContent {"error": message}
 * (docs/mcp-tools-solver.md), so each schema admits that shape too: clients
 * validate error results against it as well. */
static const struct {
    const char *tool, *schema;
} outputs[] = {
    {"plan_search_grid", "{\"type\":\"object\",\"properties\":{"
                         "\"trials\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
                         "\"total_estimated_cost_usd\":{\"type\":\"number\"},"
                         "\"error\":{\"type\":\"string\"}}}"},
};

static const char *output_schema(const char *tool)
{
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++)
        if (strcmp(outputs[i].tool, tool) == 0)
            return outputs[i].schema;
    return NULL;
}

static sb_val solver_tool(void *ud, sb_mcp_call *c, const char *tool, sb_val args)
{
    (void)ud;
    if (fixture_is(tool))
        return fixture_call(c, tool, args);
    return sb_solver_call(tool, args);
}

int main(int argc, char **argv)
{
    const char *prog = "sibyl-solver";
    server_opts o;
    int rc = server_parse(argc, argv, prog, false, &o);
    if (rc >= 0)
        return rc;
    size_t n = 0;
    const sb_tool_desc *desc = sb_solver_tools(&n);
    sb_mcp_app_tool *own = calloc(n ? n : 1, sizeof *own);
    if (!own)
        return 1;
    for (size_t i = 0; i < n; i++)
        own[i] = (sb_mcp_app_tool){desc[i].name, desc[i].description, desc[i].input_schema_json,
                                   output_schema(desc[i].name), SB_MCP_TASK_FORBIDDEN};
    size_t nall = 0;
    sb_mcp_app_tool *all = server_tools(own, n, o.fixtures, &nall);
    sb_mcp_app *app = all ? sb_mcp_app_new(prog, SIBYL_VERSION, "Plans hyperparameter searches inside a budget.", all,
                                           nall, solver_tool, NULL)
                          : NULL;
    free(own);
    free(all);
    if (!app) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    rc = server_run(prog, &o, app, NULL, NULL);
    sb_mcp_app_free(app);
    return rc;
}
