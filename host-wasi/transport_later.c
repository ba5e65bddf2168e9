/* Delayed MCP requests kept until due (transport.h, http_later). */
#include <stdint.h>

#include "transport.h"
#include "util/sb_alloc.h"
#include "util/sb_grow.h"

struct http_later_req {
    int64_t at;
    sb_run_request req; /* strings owned */
};

static char *dup0(const char *s)
{
    return s ? sb_strdup(s) : NULL;
}

static void req_free(struct http_later_req *l)
{
    sb_free((char *)l->req.server);
    sb_free((char *)l->req.method);
    sb_free((char *)l->req.body);
    sb_free((char *)l->req.session_id);
    sb_free((char *)l->req.protocol_version);
    sb_free((char *)l->req.last_event_id);
    sb_free((char *)l->req.accept);
    sb_free((char *)l->req.content_type);
}

bool http_later_send(http_later *q, http_host *h, const char *server, const sb_mcp_request *m, int64_t now)
{
    sb_run_request r = {server,        m->id,           m->method,   m->body,    m->body_len, m->session_id,
                        m->protocol_version, m->last_event_id, m->accept, m->content_type};
    if (m->not_before_ms <= now) {
        http_host_send(h, &r);
        return true;
    }
    if (!SB_GROW(q->items, q->cap, q->n + 1))
        return false;
    struct http_later_req *l = &q->items[q->n++];
    l->at = m->not_before_ms;
    l->req = (sb_run_request){dup0(server),        m->id,
                              dup0(m->method),     m->body ? sb_strndup(m->body, m->body_len) : NULL,
                              m->body_len,         dup0(m->session_id),
                              dup0(m->protocol_version), dup0(m->last_event_id),
                              dup0(m->accept),     dup0(m->content_type)};
    return true;
}

void http_later_send_due(http_later *q, http_host *h, int64_t now)
{
    for (size_t i = 0; i < q->n;)
        if (q->items[i].at <= now) {
            http_host_send(h, &q->items[i].req);
            req_free(&q->items[i]);
            q->items[i] = q->items[--q->n];
        } else {
            i++;
        }
}

int64_t http_later_next(const http_later *q)
{
    int64_t t = INT64_MAX;
    for (size_t i = 0; i < q->n; i++)
        if (q->items[i].at < t)
            t = q->items[i].at;
    return t;
}

void http_later_free(http_later *q)
{
    for (size_t i = 0; i < q->n; i++)
        req_free(&q->items[i]);
    sb_free(q->items);
    *q = (http_later){0};
}
