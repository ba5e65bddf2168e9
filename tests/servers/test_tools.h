/* Tools for the endpoint and app tests:
 *   echo {text}  -> text content; with structuredContent {text}
 *   slow {}      -> defers until its third run (attempt 2), reporting
 *                   progress attempt/2 each run, then "done after N runs"
 *   logs {}      -> a debug and an info log message, then "logged"
 *   hangup {}    -> defers with disconnect on its first run, then "back"
 *   broken {}    -> an internal error (SB_ERROR) */
#ifndef TEST_TOOLS_H
#define TEST_TOOLS_H
#include <stdio.h>
#include <string.h>

#include "mcp/sb_mcp_app.h"
#include "json/sb_json.h"

static const sb_mcp_app_tool test_tools[] = {
    {"echo", "Echoes text.", "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}",
     "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}}}", SB_MCP_TASK_FORBIDDEN},
    {"slow", "Takes three runs.", NULL, NULL, SB_MCP_TASK_OPTIONAL},
    {"logs", "Logs twice.", NULL, NULL, SB_MCP_TASK_FORBIDDEN},
    {"hangup", "Closes its stream once.", NULL, NULL, SB_MCP_TASK_FORBIDDEN},
    {"broken", "Fails inside.", NULL, NULL, SB_MCP_TASK_REQUIRED},
};
#define NTEST_TOOLS (sizeof test_tools / sizeof *test_tools)

static sb_val text_result(const char *text)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "{\"content\":[{\"type\":\"text\",\"text\":");
    sb_buf_json_string(&b, text, strlen(text));
    sb_buf_puts(&b, "}]}");
    if (sb_buf_failed(&b)) {
        sb_buf_free(&b);
        return sb_oom();
    }
    sb_val r = sb_json_parse(b.data, b.len);
    sb_buf_free(&b);
    return r;
}

static sb_val test_tool(void *ud, sb_mcp_call *c, const char *tool, sb_val args)
{
    (void)ud;
    char text[64];
    if (strcmp(tool, "echo") == 0) {
        const sb_val *t = sb_map_get_str(args, "text");
        return text_result(t && t->kind == SB_STRING ? sb_str(*t) : "");
    }
    if (strcmp(tool, "slow") == 0) {
        unsigned n = sb_mcp_call_attempt(c);
        if (!sb_mcp_call_progress(c, n, 2, NULL))
            return sb_oom();
        if (n < 2) {
            sb_mcp_call_defer(c, false);
            return sb_null();
        }
        snprintf(text, sizeof text, "done after %u runs", n + 1);
        return text_result(text);
    }
    if (strcmp(tool, "logs") == 0) {
        sb_val d = sb_string_cstr("details"), i = sb_string_cstr("news");
        bool ok = d.kind == SB_STRING && i.kind == SB_STRING && sb_mcp_call_log(c, "debug", d) &&
                  sb_mcp_call_log(c, "info", i);
        sb_val_free(d);
        sb_val_free(i);
        return ok ? text_result("logged") : sb_oom();
    }
    if (strcmp(tool, "hangup") == 0) {
        if (sb_mcp_call_attempt(c) == 0) {
            sb_mcp_call_defer(c, true);
            return sb_null();
        }
        return text_result("back");
    }
    return sb_error("the tool broke");
}

#endif
