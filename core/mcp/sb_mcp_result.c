/* Reading tools/call results (CallToolResult). */
#include "../util/sb_alloc.h"
#include "sb_mcp_client.h"

bool sb_mcp_result_is_error(sb_val result)
{
    const sb_val *e = result.kind == SB_MAP ? sb_map_get_str(result, "isError") : NULL;
    return e && e->kind == SB_BOOL && e->as.b;
}

/* Appends the text items of content, '\n'-joined. */
static void content_text(sb_buf *b, sb_val result)
{
    const sb_val *content = result.kind == SB_MAP ? sb_map_get_str(result, "content") : NULL;
    if (!content || content->kind != SB_LIST)
        return;
    bool first = true;
    for (size_t i = 0; i < sb_list_len(*content); i++) {
        sb_val item = *sb_list_at(*content, i);
        const sb_val *type = item.kind == SB_MAP ? sb_map_get_str(item, "type") : NULL;
        const sb_val *text = item.kind == SB_MAP ? sb_map_get_str(item, "text") : NULL;
        if (!type || !sb_str_eq(*type, "text") || !text || text->kind != SB_STRING)
            continue;
        if (!first)
            sb_buf_putc(b, '\n');
        sb_buf_append(b, sb_str(*text), sb_str_len(*text));
        first = false;
    }
}

sb_val sb_mcp_result_text(sb_val result)
{
    sb_buf b = SB_BUF_INIT;
    content_text(&b, result);
    sb_val v = sb_buf_failed(&b) ? sb_oom() : sb_string(sb_buf_str(&b), b.len);
    sb_buf_free(&b);
    return v;
}

sb_val sb_mcp_result_error(const char *server, const char *tool, sb_val result)
{
    if (!sb_mcp_result_is_error(result))
        return sb_null();
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "server '%s': tools/call %s: tool error: ", server, tool);
    size_t before = b.len;
    content_text(&b, result);
    if (b.len == before) {
        const sb_val *sc = sb_map_get_str(result, "structuredContent");
        if (sc)
            sb_val_write_json(&b, *sc, 0);
        else
            sb_buf_puts(&b, "(no message)");
    }
    sb_val v = sb_buf_failed(&b) ? sb_oom() : sb_error(sb_buf_str(&b));
    sb_buf_free(&b);
    return v;
}
