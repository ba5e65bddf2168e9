/* Requests to the embedded services (core/services): queued when the run
 * sends them, answered in-process when the host drains the queue. */
#include <string.h>

#include "transport.h"
#include "util/sb_alloc.h"
#include "util/sb_grow.h"

typedef struct queued {
    char *server;
    uint64_t id;
    char *body;
    size_t len;
} queued;

struct embedded_queue {
    queued *q;
    size_t n, cap;
};

embedded_queue *embedded_new(void) { return sb_calloc(1, sizeof(embedded_queue)); }

void embedded_free(embedded_queue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n; i++) {
        sb_free(q->q[i].server);
        sb_free(q->q[i].body);
    }
    sb_free(q->q);
    sb_free(q);
}

bool embedded_push(embedded_queue *q, const sb_run_request *req)
{
    if (!SB_GROW(q->q, q->cap, q->n + 1))
        return false;
    queued *e = &q->q[q->n];
    e->server = sb_strdup(req->server);
    e->id = req->id;
    e->body = req->body ? sb_strndup(req->body, req->body_len) : NULL;
    e->len = req->body_len;
    if (!e->server || (req->body && !e->body)) {
        sb_free(e->server);
        sb_free(e->body);
        return false;
    }
    q->n++;
    return true;
}

size_t embedded_pending(const embedded_queue *q) { return q ? q->n : 0; }

void embedded_drain(embedded_queue *q, sb_services *svc, sb_run *run, int64_t now)
{
    embedded_drain_some(q, svc, run, now, SIZE_MAX);
}

size_t embedded_drain_some(embedded_queue *q, sb_services *svc, sb_run *run, int64_t now, size_t max)
{
    size_t done = 0;
    for (; q->n && done < max; done++) {
        queued e = q->q[0];
        memmove(q->q, q->q + 1, (q->n - 1) * sizeof *q->q);
        q->n--;
        int status = 0;
        char *resp = NULL;
        if (sb_services_has(svc, e.server)) {
            /* In-process: a 200 answer goes over as the message value, the
             * rest (202, errors) as the text a server would send. */
            sb_val msg = sb_services_answer(svc, e.server, now, e.body ? e.body : "", e.len, &status);
            if (status == 200 && msg.kind == SB_MAP) {
                sb_run_on_message(run, e.id, msg, now);
            } else {
                resp = msg.kind == SB_MAP ? sb_val_to_json(msg, 0) : NULL;
                sb_val_free(msg);
                sb_run_on_response(run, e.id, status, resp ? "application/json" : NULL, NULL, resp ? resp : "",
                                   resp ? strlen(resp) : 0, now);
            }
        } else {
            static const char msg[] = "no embedded service answers this server";
            sb_run_on_response(run, e.id, 0, NULL, NULL, msg, sizeof msg - 1, now);
        }
        sb_free(resp);
        sb_free(e.server);
        sb_free(e.body);
    }
    return done;
}
