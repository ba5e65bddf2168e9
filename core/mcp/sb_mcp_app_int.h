/* Internals of sb_mcp_app shared by its files: sb_mcp_app.c (the app,
 * sessions, dispatch) and sb_mcp_app_call.c (tools/call, deferred answers,
 * tasks). */
#ifndef SB_MCP_APP_INT_H
#define SB_MCP_APP_INT_H
#include "../util/sb_alloc.h"
#include "sb_jsonrpc.h"
#include "sb_mcp_app.h"
#include "sb_mcp_server.h"

struct sb_mcp_call {
    int64_t now_ms;
    unsigned attempt;
    bool is_task;
    sb_val progress_token; /* borrowed; SB_NULL when none */
    int log_level;         /* index into the syslog names */
    const char *logger;
    sb_val *notes; /* list the notifications go to; NULL drops them */
    bool deferred, disconnect;
};

typedef struct sb_mcp__tool {
    char *name;
    sb_mcp_task_support tasks;
} sb_mcp__tool;

typedef struct sb_mcp__session {
    char *id;
    int level;
} sb_mcp__session;

enum { SB_MCP__WORKING, SB_MCP__COMPLETED, SB_MCP__FAILED, SB_MCP__CANCELLED };

typedef struct sb_mcp__task {
    char *id, *session, *tool;
    sb_val args;   /* the call's arguments, for the next run */
    sb_val result; /* the tools/call result once terminal (SB_NULL while working or cancelled) */
    int status;
    unsigned attempt;
    int64_t created, updated, ttl; /* ms; ttl < 0: unlimited */
} sb_mcp__task;

/* A deferred answer: a plain tools/call whose tool deferred, or tasks/result
 * of a task still working. */
enum { SB_MCP__PEND_CALL, SB_MCP__PEND_TASK_RESULT };
typedef struct sb_mcp__pend {
    uint64_t id;
    int kind;
    char *session, *tool, *task_id;
    sb_val req_id, args, progress_token;
    unsigned attempt;
} sb_mcp__pend;

struct sb_mcp_app {
    sb_mcp_server *inner; /* initialize, ping, invalid messages */
    sb_mcp__tool *tools;
    size_t ntools;
    sb_val tools_result;
    sb_mcp_app_fn fn;
    void *ud;
    char *logger;
    sb_mcp__session *sessions;
    size_t nsessions, capsessions;
    sb_mcp__task *tasks;
    size_t ntasks, captasks;
    sb_mcp__pend *pend;
    size_t npend, cappend;
    uint64_t next_pend, next_task;
};

/* Makes room for one more element of a growable array; false on OOM. */
#define SB_MCP__GROW(arr, n, cap) sb_mcp__grow((void **)&(arr), &(cap), (n) + 1, sizeof *(arr))
static inline bool sb_mcp__grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 8;
    void *p = sb_realloc(*arr, c * size);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

int sb_mcp__log_level(const char *name);
int sb_mcp__session_level(const sb_mcp_app *a, const char *session);
const sb_mcp__tool *sb_mcp__find_tool(const sb_mcp_app *a, const char *name);
void sb_mcp__pend_remove(sb_mcp_app *a, size_t i);
void sb_mcp__task_remove(sb_mcp_app *a, size_t i);

/* Method handlers: each returns the response message, SB_NULL when out->pending
 * was set, or SB_ERROR (OOM). */
sb_val sb_mcp__tools_call(sb_mcp_app *a, const char *session, int64_t now_ms, const sb_jsonrpc_msg *m,
                          sb_mcp_app_reply *out);
sb_val sb_mcp__tasks_method(sb_mcp_app *a, const char *session, int64_t now_ms, const sb_jsonrpc_msg *m,
                            sb_mcp_app_reply *out);
sb_val sb_mcp__poll(sb_mcp_app *a, uint64_t pending, int64_t now_ms, sb_mcp_app_reply *out);
/* Drops terminal tasks whose ttl ran out. */
void sb_mcp__expire_tasks(sb_mcp_app *a, int64_t now_ms);

#endif
