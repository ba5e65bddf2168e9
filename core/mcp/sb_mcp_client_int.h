/* The MCP client's insides, shared by its four files: sb_mcp_client.c (ops,
 * queueing, completions), _send.c (requests out), _answer.c (what answers do)
 * and _read.c (reading bodies). */
#ifndef SB_MCP_CLIENT_INT_H
#define SB_MCP_CLIENT_INT_H
#include "sb_jsonrpc.h"
#include "sb_mcp_client.h"

/* A resumed stream that brings no new event id counts as idle; this many in
 * a row means the server is not getting anywhere. */
#define SB_MCP_MAX_IDLE_RESUMES 100
/* Reconnection delay when a stream has an event id but never said `retry`. */
#define SB_MCP_DEFAULT_RETRY_MS 1000
/* Task polling when the server gives no pollInterval, and the floor applied to
 * one it gives (a 0 ms interval would spin a real-clock host). */
#define SB_MCP_DEFAULT_POLL_MS 1000
#define SB_MCP_MIN_POLL_MS 10
/* Replies to server-initiated requests waiting to be sent. */
#define SB_MCP_MAX_OUTBOX 64

typedef enum op_phase {
    PH_CALL,        /* the request itself */
    PH_TASK_GET,    /* polling tasks/get for a task-augmented call */
    PH_TASK_RESULT  /* fetching tasks/result once the task ended */
} op_phase;

typedef enum op_state {
    ST_QUEUED, /* waits for a ready session, then POSTs */
    ST_SENT,   /* a request (http_id) is in flight */
    ST_RESUME, /* the stream ended early: GET + Last-Event-ID at not_before */
    ST_POLL,   /* a task is running: POST tasks/get at not_before */
    ST_DONE    /* result is ready to pop */
} op_state;

/* One request the caller queued (or the session's own initialize). */
typedef struct sb_mcp_op {
    uint64_t call_id; /* 0 for initialize */
    char *method;
    char *tool;       /* tools/call only */
    sb_val params;
    int64_t task_ttl_ms;
    op_phase phase;
    op_state state;
    int64_t rpc_id;   /* id of the JSON-RPC request whose answer is awaited */
    uint64_t http_id; /* ST_SENT: the HTTP request in flight */
    uint32_t epoch;   /* session epoch it was sent in */
    bool had_session; /* it carried an MCP-Session-Id */
    bool resent;      /* already resent once after a session expiry */
    char *last_event_id;
    int64_t retry_ms; /* the stream's retry, or -1 */
    unsigned idle_resumes;
    int64_t not_before;
    char *task_id;
    sb_val result; /* ST_DONE */
    uint64_t done_seq;
} sb_mcp_op;

typedef enum client_state {
    CS_IDLE,         /* no session; the next waiting call starts one */
    CS_INITIALIZING, /* initialize is out */
    CS_NOTIFY,       /* notifications/initialized to send or in flight */
    CS_READY,
    CS_CLOSED
} client_state;

struct sb_mcp_client {
    char *server, *client_name, *client_version;
    client_state state;
    char *session_id; /* from the initialize answer, or NULL */
    char *version;    /* negotiated, or NULL */
    char *new_session; /* MCP-Session-Id seen on initialize's answer */
    bool borrowed;     /* session_id is another client's (sb_mcp_client_use_session): never DELETEd */
    sb_val server_info;
    uint32_t epoch; /* bumped when a session expires */
    sb_mcp_op *init;
    bool notify_sent;
    uint64_t notify_http;
    bool delete_pending;
    uint64_t delete_http;
    sb_mcp_op **ops; /* creation order */
    size_t nops, capops;
    char **outbox; /* reply bodies to POST */
    size_t nout, capout;
    sb_mcp_event *events;
    size_t nev, capev, dropped;
    uint64_t next_call, next_http, done_seq;
    int64_t next_rpc;
    char *cur_body; /* the body handed out last; freed on the next call */
};

/* --- sb_mcp_client.c --- */

/* A new op owning params (consumed, even on failure); NULL on OOM. */
sb_mcp_op *sb_mcp__op_new(const char *method, const char *tool, sb_val params);
void sb_mcp__op_free(sb_mcp_op *op);
/* Forgets how the last request went, before the op is sent anew. */
void sb_mcp__op_reset_stream(sb_mcp_op *op);
/* Queued, waiting to resume, or waiting to poll: it needs a request sent. */
bool sb_mcp__waiting(const sb_mcp_op *op);
void sb_mcp__drop_session(sb_mcp_client *c);
/* Completes op with result (consumed). */
void sb_mcp__op_done(sb_mcp_client *c, sb_mcp_op *op, sb_val result);
/* Completes op with "server 'S': <call>: <detail>" (detail, an SB_ERROR, is
 * consumed). For the session's own initialize, fails the session instead. */
void sb_mcp__op_fail(sb_mcp_client *c, sb_mcp_op *op, sb_val detail);
/* The session could not be set up: every call waiting for it fails with
 * detail (consumed), and the next call starts from scratch. */
void sb_mcp__fail_init(sb_mcp_client *c, sb_val detail);
/* {key: v} (v consumed), or sb_oom(). */
sb_val sb_mcp__one(const char *key, sb_val v);

/* --- sb_mcp_client_read.c --- */

typedef enum answer_kind { ANS_FOUND, ANS_RESUME, ANS_FAIL } answer_kind;

/* Reads a 2xx answer for op: a JSON body or an SSE stream. ANS_FOUND fills
 * *msg (the response to op->rpc_id); ANS_RESUME means the stream ended early
 * but can be resumed (op's last_event_id/retry_ms updated); ANS_FAIL sets
 * *why (an SB_ERROR detail). Notifications on the stream become events and
 * server requests get a reply queued. */
answer_kind sb_mcp__read_answer(sb_mcp_client *c, sb_mcp_op *op, int status, const char *ctype, const char *body,
                                size_t len, sb_jsonrpc_msg *msg, sb_val *why);
/* The same for a JSON body already read into a value (borrowed). */
answer_kind sb_mcp__read_message(sb_mcp_op *op, sb_val message, sb_jsonrpc_msg *msg, sb_val *why);
/* "HTTP 400" or "HTTP 400: JSON-RPC error -32000: ..." when the body is one. */
sb_val sb_mcp__http_detail(int status, const char *ctype, const char *body, size_t len);
/* Case-insensitive media type match, ignoring parameters. */
bool sb_mcp__media_is(const char *ctype, const char *type);

#endif
