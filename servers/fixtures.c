/* The conformance suite's fixture tools (--conformance-fixtures): fixed
 * answers the suite's server scenarios check, plus test_reconnection, whose
 * first run closes the stream so the client must resume it (SEP-1699). */
#include <string.h>

#include "server_common.h"
#include "json/sb_json.h"

#define NO_ARGS "{\"type\":\"object\",\"properties\":{}}"
#define PNG "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="

static const sb_mcp_app_tool tools[] = {
    {"test_simple_text", "Returns a fixed text.", NO_ARGS, NULL, SB_MCP_TASK_FORBIDDEN},
    {"test_image_content", "Returns a 1x1 PNG image.", NO_ARGS, NULL, SB_MCP_TASK_FORBIDDEN},
    {"test_audio_content", "Returns a tiny WAV file.", NO_ARGS, NULL, SB_MCP_TASK_FORBIDDEN},
    {"test_embedded_resource", "Returns an embedded text resource.", NO_ARGS, NULL, SB_MCP_TASK_FORBIDDEN},
    {"test_multiple_content_types", "Returns text, an image and a resource.", NO_ARGS, NULL, SB_MCP_TASK_FORBIDDEN},
    {"test_tool_with_logging", "Sends three log messages while it runs.", NO_ARGS, NULL, SB_MCP_TASK_FORBIDDEN},
    {"test_tool_with_progress", "Reports progress 0, 50 and 100 of 100.", NO_ARGS, NULL, SB_MCP_TASK_FORBIDDEN},
    {"test_error_handling", "Always fails with a tool error.", NO_ARGS, NULL, SB_MCP_TASK_FORBIDDEN},
    {"test_reconnection", "Closes its SSE stream before answering; the client resumes it.", NO_ARGS, NULL,
     SB_MCP_TASK_FORBIDDEN},
    {"json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features",
     "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\",\"$defs\":{\"address\":"
     "{\"type\":\"object\",\"properties\":{\"street\":{\"type\":\"string\"},\"city\":{\"type\":\"string\"}}}},"
     "\"properties\":{\"name\":{\"type\":\"string\"},\"address\":{\"$ref\":\"#/$defs/address\"}},"
     "\"additionalProperties\":false}",
     NULL, SB_MCP_TASK_FORBIDDEN},
};

static const struct {
    const char *name, *result;
} answers[] = {
    {"test_simple_text",
     "{\"content\":[{\"type\":\"text\",\"text\":\"This is a simple text response for testing.\"}]}"},
    {"test_image_content", "{\"content\":[{\"type\":\"image\",\"data\":\"" PNG "\",\"mimeType\":\"image/png\"}]}"},
    {"test_audio_content",
     "{\"content\":[{\"type\":\"audio\",\"data\":"
     "\"UklGRiQAAABXQVZFZm10IBAAAAABAAEARKwAAIhYAQACABAAZGF0YQAAAAA=\",\"mimeType\":\"audio/wav\"}]}"},
    {"test_embedded_resource",
     "{\"content\":[{\"type\":\"resource\",\"resource\":{\"uri\":\"test://embedded-resource\","
     "\"mimeType\":\"text/plain\",\"text\":\"This is an embedded resource content.\"}}]}"},
    {"test_multiple_content_types",
     "{\"content\":[{\"type\":\"text\",\"text\":\"Multiple content types test:\"},{\"type\":\"image\",\"data\":\"" PNG
     "\",\"mimeType\":\"image/png\"},{\"type\":\"resource\",\"resource\":{\"uri\":\"test://mixed-content-resource\","
     "\"mimeType\":\"application/json\",\"text\":\"{\\\"test\\\":\\\"data\\\",\\\"value\\\":123}\"}}]}"},
    {"test_tool_with_logging",
     "{\"content\":[{\"type\":\"text\",\"text\":\"Tool with logging executed successfully\"}]}"},
    {"test_tool_with_progress",
     "{\"content\":[{\"type\":\"text\",\"text\":\"Tool with progress executed successfully\"}]}"},
    {"test_error_handling", "{\"content\":[{\"type\":\"text\",\"text\":\"This tool intentionally returns an error for "
                            "testing\"}],\"isError\":true}"},
    {"test_reconnection", "{\"content\":[{\"type\":\"text\",\"text\":\"Reconnection test completed\"}]}"},
    {"json_schema_2020_12_tool", "{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]}"},
};

const sb_mcp_app_tool *fixture_tools(size_t *n)
{
    *n = sizeof tools / sizeof *tools;
    return tools;
}

bool fixture_is(const char *tool)
{
    for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
        if (strcmp(tools[i].name, tool) == 0)
            return true;
    return false;
}

sb_val fixture_call(sb_mcp_call *c, const char *tool, sb_val args)
{
    (void)args;
    if (strcmp(tool, "test_tool_with_logging") == 0) {
        static const char *const lines[] = {"Tool execution started", "Tool processing data",
                                            "Tool execution completed"};
        for (int i = 0; i < 3; i++) {
            sb_val s = sb_string_cstr(lines[i]);
            bool ok = s.kind == SB_STRING && sb_mcp_call_log(c, "info", s);
            sb_val_free(s);
            if (!ok)
                return sb_oom();
        }
    } else if (strcmp(tool, "test_tool_with_progress") == 0) {
        for (int i = 0; i <= 2; i++)
            if (!sb_mcp_call_progress(c, 50.0 * i, 100, NULL))
                return sb_oom();
    } else if (strcmp(tool, "test_reconnection") == 0 && sb_mcp_call_attempt(c) == 0) {
        sb_mcp_call_defer(c, true);
        return sb_null();
    }
    for (size_t i = 0; i < sizeof answers / sizeof *answers; i++)
        if (strcmp(answers[i].name, tool) == 0)
            return sb_json_parse(answers[i].result, strlen(answers[i].result));
    return sb_errorf("no fixture %s", tool);
}
