/* JSON-RPC 2.0 messages as MCP uses them: build them as text, and classify a
 * received message.
 *
 * MCP narrows JSON-RPC: ids are integers or strings (never null in a request),
 * params are objects, and batches (JSON arrays of messages) were removed in
 * protocol revision 2025-06-18, so an array is an invalid message here.
 *
 * Ownership: arguments are borrowed. Builders return a new NUL-terminated
 * string (sb_free) or NULL when memory runs out. A parsed sb_jsonrpc_msg owns
 * its values; release them with sb_jsonrpc_msg_clear(). */
#ifndef SB_JSONRPC_H
#define SB_JSONRPC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../value/sb_value.h"

/* The standard error codes (X-macro: name, code, message). */
#define SB_JSONRPC_ERRORS(X)                                                                                     \
    X(PARSE_ERROR, -32700, "Parse error")                                                                        \
    X(INVALID_REQUEST, -32600, "Invalid Request")                                                                \
    X(METHOD_NOT_FOUND, -32601, "Method not found")                                                              \
    X(INVALID_PARAMS, -32602, "Invalid params")                                                                  \
    X(INTERNAL_ERROR, -32603, "Internal error")

enum {
#define SB_JSONRPC_ENUM_(name, code, msg) SB_JSONRPC_##name = code,
    SB_JSONRPC_ERRORS(SB_JSONRPC_ENUM_)
#undef SB_JSONRPC_ENUM_
};

/* The standard message of a code ("Server error" for other codes). */
const char *sb_jsonrpc_error_name(int64_t code);

typedef enum sb_jsonrpc_kind {
    SB_JSONRPC_INVALID,
    SB_JSONRPC_REQUEST,        /* method + id */
    SB_JSONRPC_NOTIFICATION,   /* method, no id */
    SB_JSONRPC_RESPONSE,       /* id + result */
    SB_JSONRPC_ERROR_RESPONSE  /* id (may be null) + error */
} sb_jsonrpc_kind;

typedef struct sb_jsonrpc_msg {
    sb_jsonrpc_kind kind;
    /* SB_INT or SB_STRING; SB_NULL when absent or null. For an invalid
     * message it is the id when one could be read, so a server can still
     * answer the request with an error. */
    sb_val id;
    sb_val method;  /* SB_STRING for requests and notifications, else SB_NULL */
    sb_val params;  /* SB_MAP or SB_LIST, SB_NULL when absent */
    sb_val result;  /* any value, for responses */
    /* For error responses: code, message (SB_STRING) and data (SB_NULL when
     * absent). */
    int64_t error_code;
    sb_val error_message;
    sb_val error_data;
    /* For invalid messages: SB_JSONRPC_PARSE_ERROR (not JSON) or
     * SB_JSONRPC_INVALID_REQUEST (JSON, but not a JSON-RPC 2.0 message), and
     * an SB_ERROR value saying what is wrong. When memory ran out, problem is
     * sb_oom() and invalid_code SB_JSONRPC_INTERNAL_ERROR. */
    int invalid_code;
    sb_val problem;
} sb_jsonrpc_msg;

/* Parses and classifies len bytes of JSON text. Always fills *out (clear it
 * afterwards); returns out->kind. */
sb_jsonrpc_kind sb_jsonrpc_parse(const char *text, size_t len, sb_jsonrpc_msg *out);
/* The same for an already parsed value (borrowed; *out takes references). */
sb_jsonrpc_kind sb_jsonrpc_classify(sb_val v, sb_jsonrpc_msg *out);
void sb_jsonrpc_msg_clear(sb_jsonrpc_msg *m);

/* Builders. A params/data value of kind SB_NULL means "omit the member". */
char *sb_jsonrpc_request(int64_t id, const char *method, sb_val params);
char *sb_jsonrpc_notification(const char *method, sb_val params);
/* id: SB_INT or SB_STRING (SB_NULL writes "id":null, for unreadable requests). */
char *sb_jsonrpc_result(sb_val id, sb_val result);
char *sb_jsonrpc_error(sb_val id, int64_t code, const char *message, sb_val data);

#endif
