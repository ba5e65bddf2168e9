/* The Solver's MCP face: the tools/list table and tools/call dispatch. A call
 * result is built here in full MCP shape so any host (the embedded service,
 * the reference server) can pass it on unchanged. */
#include "sb_solver_int.h"

#include <string.h>

#include "../util/sb_alloc.h"

#define PLAN_DESCRIPTION                                                                                               \
    "Plans a hyperparameter sweep inside a dollar budget. Fills the budget minus a retry reserve with as many "        \
    "trials as fit, using every parameter's levels evenly (level counts differ by at most one) and covering "          \
    "pairs of levels as evenly as it can; the full grid when it fits. Returns the trials with estimated cost "         \
    "and duration, the total, the estimated wall clock at max_concurrent, and what was left out and why. "             \
    "Deterministic: the same arguments give the same plan."

/* JSON Schema (2020-12) of the arguments; docs/mcp-tools-solver.md explains
 * each field. */
static const char plan_schema[] =
    "{\"type\":\"object\",\"required\":[\"budget_usd\",\"parameter_space\",\"cost_model\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"budget_usd\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"description\":\"Total dollars for the sweep.\"},"
    "\"parameter_space\":{\"type\":\"object\",\"minProperties\":1,\"description\":\"Parameter name -> list of "
    "levels, or a range {min, max, scale: linear|log, steps: N} (N evenly spaced levels) or {min, max, scale, "
    "samples: N} (N seeded draws).\",\"additionalProperties\":{\"oneOf\":["
    "{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":[\"number\",\"string\",\"boolean\",\"null\"]}},"
    "{\"type\":\"object\",\"required\":[\"min\",\"max\"],\"additionalProperties\":false,\"properties\":{"
    "\"min\":{\"type\":\"number\"},\"max\":{\"type\":\"number\"},"
    "\"scale\":{\"enum\":[\"linear\",\"log\"],\"default\":\"linear\"},"
    "\"steps\":{\"type\":\"integer\",\"minimum\":1},\"samples\":{\"type\":\"integer\",\"minimum\":1},"
    "\"seed\":{\"type\":\"integer\",\"minimum\":0},\"integer\":{\"type\":\"boolean\",\"default\":false}},"
    "\"oneOf\":[{\"required\":[\"steps\"]},{\"required\":[\"samples\"]}]}]}},"
    "\"cost_model\":{\"type\":\"object\",\"required\":[\"gpu_hour_usd\",\"base_hours\"],\"properties\":{"
    "\"gpu_hour_usd\":{\"type\":\"number\",\"minimum\":0},"
    "\"gpus_per_trial\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"default\":1},"
    "\"base_hours\":{\"type\":\"number\",\"exclusiveMinimum\":0},"
    "\"duration_scale\":{\"type\":[\"object\",\"null\"],\"description\":\"Parameter name -> {level as JSON "
    "text: duration multiplier}.\",\"additionalProperties\":{\"type\":\"object\",\"additionalProperties\":"
    "{\"type\":\"number\",\"exclusiveMinimum\":0}}},"
    "\"retry_reserve_fraction\":{\"type\":\"number\",\"minimum\":0,\"exclusiveMaximum\":1,\"default\":0.1}}},"
    "\"max_concurrent\":{\"type\":[\"integer\",\"null\"],\"minimum\":1,\"default\":1},"
    "\"max_trials\":{\"type\":[\"integer\",\"null\"],\"minimum\":1},"
    "\"seed\":{\"type\":[\"integer\",\"null\"],\"minimum\":0,\"default\":0}}}";

#define SUGGEST_DESCRIPTION                                                                                            \
    "Suggests the next trials of an adaptive search (ask/tell). Given the space, the cost model, the trials so far "   \
    "(hyperparameters, status, metrics) and the money left, it first proposes a small balanced design, then the "     \
    "untried configurations an additive model of the results ranks best (plus an exploration bonus). Never proposes " \
    "a configuration already tried or in flight; stops at the money left (minus the retry reserve), max_in_flight "   \
    "or the end of the space. Deterministic: the same arguments give the same answer."

static const char suggest_schema[] =
    "{\"type\":\"object\",\"required\":[\"budget_usd\",\"parameter_space\",\"cost_model\",\"metric\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"budget_usd\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"description\":\"The sweep's whole budget; "
    "the retry reserve is a fraction of it.\"},"
    "\"remaining_usd\":{\"type\":[\"number\",\"null\"],\"description\":\"Dollars neither spent nor committed "
    "(default budget_usd).\"},"
    "\"parameter_space\":{\"type\":\"object\",\"minProperties\":1,\"description\":\"As for plan_search_grid.\"},"
    "\"cost_model\":{\"type\":\"object\",\"description\":\"As for plan_search_grid.\"},"
    "\"trials\":{\"type\":[\"array\",\"null\"],\"description\":\"Every trial submitted so far.\",\"items\":{"
    "\"type\":\"object\",\"required\":[\"hyperparameters\"],\"properties\":{"
    "\"hyperparameters\":{\"type\":\"object\"},\"status\":{\"type\":\"string\",\"description\":\"completed, "
    "failed or cancelled when finished; anything else is in flight.\"},\"metrics\":{\"type\":[\"object\",\"null\"]}}}},"
    "\"metric\":{\"type\":\"string\",\"minLength\":1},"
    "\"direction\":{\"enum\":[\"max\",\"min\"],\"default\":\"max\"},"
    "\"max_in_flight\":{\"type\":[\"integer\",\"null\"],\"minimum\":1},"
    "\"initial_trials\":{\"type\":[\"integer\",\"null\"],\"minimum\":0},"
    "\"seed\":{\"type\":[\"integer\",\"null\"],\"minimum\":0,\"default\":0}}}";

static const sb_tool_desc tools[] = {
    {"plan_search_grid", PLAN_DESCRIPTION, plan_schema},
    {"suggest_trials", SUGGEST_DESCRIPTION, suggest_schema},
};

const sb_tool_desc *sb_solver_tools(size_t *count)
{
    *count = sizeof tools / sizeof *tools;
    return tools;
}

/* [{"type":"text","text":text}]; consumes text. */
static sb_val text_content(sb_val text)
{
    sb_val item = sb_map_new(2), list = sb_list_new(1);
    bool ok = sb_solver__put(&item, "type", sb_string_cstr("text"));
    ok = sb_solver__put(&item, "text", text) && ok;
    ok = item.kind != SB_ERROR && sb_list_push(&list, item) && ok;
    if (!ok) {
        sb_val_free(list);
        return sb_oom();
    }
    return list;
}

/* Consumes text and structured (either may be the out-of-memory error). */
static sb_val mcp_result(sb_val text, sb_val structured, bool is_error)
{
    sb_val content = text.kind == SB_ERROR ? text : text_content(text);
    sb_val r = sb_map_new(3);
    bool ok = true;
    ok = sb_solver__put(&r, "content", content) && ok;
    ok = sb_solver__put(&r, "structuredContent", structured) && ok;
    ok = sb_solver__put(&r, "isError", sb_bool(is_error)) && ok;
    if (!ok) {
        sb_val_free(r);
        return sb_oom();
    }
    return r;
}

static sb_val error_result(const char *msg, size_t len)
{
    sb_val s = sb_map_new(1);
    if (!sb_solver__put(&s, "error", sb_string(msg, len))) {
        sb_val_free(s);
        s = sb_oom();
    }
    return mcp_result(sb_string(msg, len), s, true);
}

static sb_val oom_result(void)
{
    return error_result("out of memory", strlen("out of memory"));
}

static sb_val ok_result(sb_val structured)
{
    char *json = sb_val_to_json(structured, 0);
    if (!json) {
        sb_val_free(structured);
        return oom_result();
    }
    sb_val text = sb_string_cstr(json);
    sb_free(json);
    return mcp_result(text, structured, false);
}

/* Not even one trial fits: stop the run before anything is submitted. */
static sb_solver_status check_reachable(const sb_solver_spec *spec, sb_buf *err)
{
    uint16_t *combo = sb_malloc(spec->nparams * sizeof *combo);
    if (!combo)
        return SB_SOLVER_ENOMEM;
    double cheapest = sb_solver__cheapest(spec, combo);
    sb_free(combo);
    if (cheapest <= spec->planning)
        return SB_SOLVER_OK;
    sb_buf_puts(err, "budget_usd: no trial fits: the cheapest trial is estimated at ");
    sb_solver__money(err, cheapest);
    sb_buf_puts(err, ", over the planning budget of ");
    sb_solver__money(err, spec->planning);
    sb_buf_puts(err, " (");
    sb_solver__money(err, spec->budget);
    sb_buf_puts(err, " minus a retry reserve of ");
    sb_solver__money(err, spec->reserve);
    sb_buf_puts(err, ")");
    return sb_buf_failed(err) ? SB_SOLVER_ENOMEM : SB_SOLVER_EINVAL;
}

static sb_val plan_search_grid(sb_val args)
{
    sb_buf err = SB_BUF_INIT;
    sb_solver_spec spec;
    sb_solver_plan plan = {0};
    sb_val out = sb_null();
    sb_solver_status st = sb_solver__spec_parse(&spec, args, &err);
    if (st == SB_SOLVER_OK)
        st = check_reachable(&spec, &err);
    if (st == SB_SOLVER_OK)
        st = sb_solver__plan_build(&spec, &plan);
    if (st == SB_SOLVER_OK) {
        out = sb_solver__result(&spec, &plan);
        st = out.kind == SB_ERROR ? SB_SOLVER_ENOMEM : SB_SOLVER_OK;
    }
    sb_solver__plan_free(&plan);
    sb_solver__spec_free(&spec);
    if (st == SB_SOLVER_OK)
        out = ok_result(out);
    else if (st == SB_SOLVER_EINVAL && !sb_buf_failed(&err))
        out = error_result(sb_buf_str(&err), err.len);
    else
        out = oom_result();
    sb_buf_free(&err);
    return out;
}

static sb_val suggest_trials(sb_val args)
{
    sb_buf err = SB_BUF_INIT;
    sb_val out = sb_null();
    sb_solver_status st = sb_solver__suggest(args, &out, &err);
    if (st == SB_SOLVER_OK)
        out = ok_result(out);
    else if (st == SB_SOLVER_EINVAL && !sb_buf_failed(&err))
        out = error_result(sb_buf_str(&err), err.len);
    else
        out = oom_result();
    sb_buf_free(&err);
    return out;
}

static sb_val call(const char *tool, sb_val args)
{
    if (tool && strcmp(tool, "plan_search_grid") == 0)
        return plan_search_grid(args);
    if (tool && strcmp(tool, "suggest_trials") == 0)
        return suggest_trials(args);
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "unknown tool ");
    sb_buf_json_string(&b, tool ? tool : "", tool ? strlen(tool) : 0);
    sb_buf_puts(&b, " (the Solver has plan_search_grid and suggest_trials)");
    sb_val r = sb_buf_failed(&b) ? oom_result() : error_result(sb_buf_str(&b), b.len);
    sb_buf_free(&b);
    return r;
}

sb_val sb_solver_call(const char *tool, sb_val args)
{
    sb_val r = call(tool, args);
    /* Building the answer itself ran out: the small "out of memory" result
     * may still fit, and is easier on the caller than a bare error value. */
    return sb_is_oom(r) ? oom_result() : r;
}

sb_val sb_solver_mcp_tool(void *ud, int64_t now_ms, const char *tool, sb_val args)
{
    (void)ud;
    (void)now_ms;
    return sb_solver_call(tool, args);
}
