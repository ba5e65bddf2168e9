/* Helpers private to core/mcp. */
#ifndef SB_MCP_INT_H
#define SB_MCP_INT_H
#include <stdbool.h>
#include <stdint.h>

#include "../value/sb_value.h"

/* sb_map_set_str that also refuses an SB_ERROR value (a constructor that ran
 * out of memory), so a half-built message is never sent. Consumes v. */
static inline bool sb_mcp_put(sb_val *map, const char *key, sb_val v)
{
    if (v.kind == SB_ERROR) {
        sb_val_free(v);
        return false;
    }
    return sb_map_set_str(map, key, v);
}

static inline bool sb_mcp_push(sb_val *list, sb_val v)
{
    if (v.kind == SB_ERROR) {
        sb_val_free(v);
        return false;
    }
    return sb_list_push(list, v);
}

/* JSON-RPC answers as values (sb_mcp_server.c); each consumes what it is
 * given and returns sb_oom() when memory runs out. reply: {jsonrpc, id,
 * result}, an SB_ERROR result becomes sb_oom(). reply_error: {jsonrpc, id,
 * error{code, message: "<standard name>: <detail>"}}. */
sb_val sb_mcp__reply(sb_val id, sb_val result);
sb_val sb_mcp__reply_error(sb_val id, int64_t code, sb_val detail);

/* The params of a tools/call request m (a struct sb_jsonrpc_msg): sets *name
 * (a string) and *args (a map, SB_NULL or absent: NULL) and returns SB_NULL,
 * or returns the -32602 error answer that names what is wrong. */
struct sb_jsonrpc_msg;
sb_val sb_mcp__call_params(const struct sb_jsonrpc_msg *m, const sb_val **name, const sb_val **args);

#endif
