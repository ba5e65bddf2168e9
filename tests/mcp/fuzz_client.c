/* libFuzzer target for the client reading whatever a server answers. After a
 * scripted handshake, one tools/call is answered again and again with the
 * fuzzed status, Content-Type and body. Checked (abort on failure):
 *   - after every answer, the call has either completed or the client has a
 *     request to send (it never stalls silently);
 *   - the call completes exactly once, with a map or an error, by the end
 *     (close() finishes whatever is left);
 *   - nothing leaks (LSan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/sb_mcp_client.h"
#include "util/sb_alloc.h"

#define FZ_ASSERT(cond, what)                                                                                     \
    do {                                                                                                          \
        if (!(cond)) {                                                                                            \
            fprintf(stderr, "fuzz_mcp_client: invariant failed: %s (%s)\n", what, #cond);                         \
            abort();                                                                                              \
        }                                                                                                         \
    } while (0)

static void answer(sb_mcp_client *c, uint64_t id, int status, const char *ctype, const char *body, int64_t now)
{
    sb_mcp_client_on_response(c, id, status, ctype, "s1", body, strlen(body), now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = {200, 200, 200, 202, 400, 404, 500, 0};
    static const char *const ctypes[] = {"text/event-stream", "application/json", NULL, "text/html"};
    if (size < 2)
        return 0;
    int status = statuses[data[0] & 7];
    const char *ctype = ctypes[(data[0] >> 3) & 3];
    sb_mcp_call_opts opts = {.progress = data[0] & 0x20, .task_ttl_ms = (data[0] & 0x40) ? 1000 : 0};
    bool answer_init_too = data[1] & 1;
    char *body = malloc(size - 1);
    memcpy(body, data + 2, size - 2);
    body[size - 2] = '\0'; /* C-string bodies keep the harness simple; NULs end them */

    sb_mcp_client *c = sb_mcp_client_new("fz", "sibyl", "0");
    sb_val args = sb_map_new(0);
    uint64_t call = sb_mcp_client_call_tool_ex(c, "t", args, &opts);
    sb_val_free(args);
    FZ_ASSERT(call == 1, "call queued");

    sb_mcp_request r;
    int64_t now = 0;
    FZ_ASSERT(sb_mcp_client_next_request(c, now, &r), "initialize");
    if (answer_init_too)
        answer(c, r.id, status, ctype, body, now);
    else
        answer(c, r.id, 200, "application/json",
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-11-25\"}}", now);

    uint64_t id = 0;
    sb_val result = sb_null();
    bool done = false;
    for (int round = 0; round < 8 && !done; round++) {
        done = sb_mcp_client_next_completion(c, &id, &result);
        if (done)
            break;
        FZ_ASSERT(sb_mcp_client_next_request(c, now, &r), "an unfinished call has a request to send");
        now += 1000;
        /* The initialized notification gets the usual 202; the rest the fuzzed answer. */
        if (r.body && strstr(r.body, "notifications/initialized"))
            answer(c, r.id, 202, NULL, "", now);
        else
            answer(c, r.id, status, ctype, body, now);
    }
    sb_mcp_client_close(c);
    if (!done)
        done = sb_mcp_client_next_completion(c, &id, &result);
    FZ_ASSERT(done && id == call, "the call completes");
    FZ_ASSERT(result.kind == SB_MAP || result.kind == SB_ERROR, "a result map or an error");
    sb_val_free(result);
    FZ_ASSERT(!sb_mcp_client_next_completion(c, &id, &result), "exactly once");
    sb_mcp_event ev;
    while (sb_mcp_client_next_event(c, &ev))
        sb_mcp_event_clear(&ev);
    while (sb_mcp_client_next_request(c, now, &r))
        ;
    sb_mcp_client_free(c);
    free(body);
    return 0;
}
