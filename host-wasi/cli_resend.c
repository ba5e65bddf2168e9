/* Requests to send again after a replay (cli_resend.h). */
#include "cli_resend.h"

#include <string.h>

#include "util/sb_alloc.h"
#include "util/sb_grow.h"

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = sb_strdup(s);
    *oom |= d == NULL;
    return d;
}

static void free_req(sb_run_request *q)
{
    sb_free((char *)q->server);
    sb_free((char *)q->method);
    sb_free((char *)q->body);
    sb_free((char *)q->session_id);
    sb_free((char *)q->protocol_version);
    sb_free((char *)q->last_event_id);
    sb_free((char *)q->accept);
    sb_free((char *)q->content_type);
}

void cli_resend_add(cli_resend *r, const sb_run_request *req)
{
    if (!SB_GROW(r->v, r->cap, r->n + 1)) {
        r->oom = true;
        return;
    }
    sb_run_request *q = &r->v[r->n].req;
    memset(q, 0, sizeof *q);
    bool oom = false;
    q->id = req->id;
    q->server = dup_or_null(req->server, &oom);
    q->method = dup_or_null(req->method, &oom);
    if (req->body) {
        char *b = sb_malloc(req->body_len + 1);
        oom |= b == NULL;
        if (b) {
            memcpy(b, req->body, req->body_len);
            b[req->body_len] = 0;
        }
        q->body = b;
        q->body_len = req->body_len;
    }
    q->session_id = dup_or_null(req->session_id, &oom);
    q->protocol_version = dup_or_null(req->protocol_version, &oom);
    q->last_event_id = dup_or_null(req->last_event_id, &oom);
    q->accept = dup_or_null(req->accept, &oom);
    q->content_type = dup_or_null(req->content_type, &oom);
    if (oom) {
        free_req(q);
        r->oom = true;
        return;
    }
    r->n++;
}

void cli_resend_drop(cli_resend *r, uint64_t id)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].req.id == id) {
            free_req(&r->v[i].req);
            memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof r->v[0]);
            r->n--;
            return;
        }
}

void cli_resend_free(cli_resend *r)
{
    for (size_t i = 0; i < r->n; i++)
        free_req(&r->v[i].req);
    sb_free(r->v);
    memset(r, 0, sizeof *r);
}
