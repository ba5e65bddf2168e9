/* The fake Conductor (see fake_host.h): scripted job fates, a cluster-wide
 * limit on running jobs, cursors as positions in a per-handle change log, so
 * a status call costs what changed since the cursor, not the handle size. */
#include <stdio.h>
#include <string.h>

#include "fake_host.h"
#include "util/sb_alloc.h"

enum { FC_QUEUED, FC_RUNNING, FC_COMPLETED, FC_FAILED, FC_CANCELLED };
static const char *const fc_status[] = {"queued", "running", "completed", "failed", "cancelled"};

typedef struct fc_job {
    char *id, *retry_of;
    size_t handle;
    sb_val hyper;
    double estimate; /* < 0: not given */
    int state;
    int64_t submitted, started, finished;
    double charged;
    fc_fate fate;
    uint64_t stamp; /* last status call that listed it */
} fc_job;

typedef struct fc_handle {
    size_t *log; /* job indices in the order of their changes; a cursor is a position */
    size_t nlog, logcap;
    sb_val index; /* job id -> job index, in submission order */
    int64_t counts[5];
    unsigned next_default;
} fc_handle;

typedef struct fc_event {
    int64_t t;
    uint64_t seq;
    size_t job;
    bool end; /* else: ready to start */
} fc_event;

struct fake_conductor {
    int max_running, running;
    const fc_rule *rules;
    fc_fate_fn fate_fn;
    void *fate_ud;
    fc_job *jobs;
    size_t njobs, jcap;
    fc_handle *handles;
    size_t nhandles;
    fc_event *heap;
    size_t nheap, hcap;
    uint64_t seq;
    size_t *ready; /* FIFO of jobs ready to start */
    size_t rhead, nready, rcap;
    sb_val idem; /* idempotency key -> first answer */
    uint64_t calls;
};

static const sb_tool_desc conductor_tools[] = {
    {"submit_jobs", "Submits jobs (to a new handle, or joining handle_id).", NULL},
    {"get_jobs_status", "Counts and the jobs changed since since_cursor.", NULL},
    {"cancel_jobs", "Cancels the queued and running jobs of a handle.", NULL},
};

const sb_tool_desc *fc_tools(size_t *n)
{
    *n = sizeof conductor_tools / sizeof *conductor_tools;
    return conductor_tools;
}

fake_conductor *fc_new(int max_running, const fc_rule *rules, fc_fate_fn fate_fn, void *fate_ud)
{
    fake_conductor *c = sb_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_running = max_running;
    c->rules = rules;
    c->fate_fn = fate_fn;
    c->fate_ud = fate_ud;
    c->idem = sb_map_new(0);
    return c;
}

void fc_free(fake_conductor *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->njobs; i++) {
        sb_free(c->jobs[i].id);
        sb_free(c->jobs[i].retry_of);
        sb_val_free(c->jobs[i].hyper);
    }
    for (size_t i = 0; i < c->nhandles; i++) {
        sb_free(c->handles[i].log);
        sb_val_free(c->handles[i].index);
    }
    sb_free(c->jobs);
    sb_free(c->handles);
    sb_free(c->heap);
    sb_free(c->ready);
    sb_val_free(c->idem);
    sb_free(c);
}

size_t fc_jobs(const fake_conductor *c)
{
    return c->njobs;
}

size_t fc_count(const fake_conductor *c, const char *status)
{
    size_t n = 0;
    for (size_t i = 0; i < c->njobs; i++)
        n += strcmp(fc_status[c->jobs[i].state], status) == 0;
    return n;
}

static fc_fate fate_of(fake_conductor *c, const char *id)
{
    if (c->fate_fn)
        return c->fate_fn(c->fate_ud, id, c->njobs);
    for (const fc_rule *r = c->rules; r && r->job; r++) {
        size_t n = strlen(r->job);
        if (n && r->job[n - 1] == '*' ? strncmp(id, r->job, n - 1) == 0 : strcmp(id, r->job) == 0)
            return r->fate;
    }
    return (fc_fate){.run_ms = 60000, .val_acc = 80, .train_loss = 0.5, .cost_usd = 1};
}

static bool heap_less(const fc_event *a, const fc_event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static bool heap_push(fake_conductor *c, int64_t t, size_t job, bool end)
{
    if (c->nheap == c->hcap) {
        size_t cap = c->hcap ? c->hcap * 2 : 64;
        fc_event *h = sb_realloc(c->heap, cap * sizeof *h);
        if (!h)
            return false;
        c->heap = h;
        c->hcap = cap;
    }
    size_t i = c->nheap++;
    fc_event e = {t, c->seq++, job, end};
    while (i > 0 && heap_less(&e, &c->heap[(i - 1) / 2])) {
        c->heap[i] = c->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    c->heap[i] = e;
    return true;
}

static fc_event heap_pop(fake_conductor *c)
{
    fc_event top = c->heap[0], last = c->heap[--c->nheap];
    size_t i = 0;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= c->nheap)
            break;
        if (k + 1 < c->nheap && heap_less(&c->heap[k + 1], &c->heap[k]))
            k++;
        if (!heap_less(&c->heap[k], &last))
            break;
        c->heap[i] = c->heap[k];
        i = k;
    }
    if (c->nheap)
        c->heap[i] = last;
    return top;
}

static bool log_change(fake_conductor *c, size_t job)
{
    fc_handle *h = &c->handles[c->jobs[job].handle];
    if (h->nlog == h->logcap) {
        size_t cap = h->logcap ? h->logcap * 2 : 64;
        size_t *l = sb_realloc(h->log, cap * sizeof *l);
        if (!l)
            return false;
        h->log = l;
        h->logcap = cap;
    }
    h->log[h->nlog++] = job;
    return true;
}

static void set_state(fake_conductor *c, size_t job, int state)
{
    fc_job *j = &c->jobs[job];
    fc_handle *h = &c->handles[j->handle];
    h->counts[j->state]--;
    h->counts[state]++;
    j->state = state;
    log_change(c, job);
}

static void start_ready(fake_conductor *c, int64_t t)
{
    while ((c->max_running <= 0 || c->running < c->max_running) && c->rhead < c->nready) {
        size_t k = c->ready[c->rhead++];
        fc_job *j = &c->jobs[k];
        if (j->state != FC_QUEUED)
            continue;
        j->started = t;
        c->running++;
        set_state(c, k, FC_RUNNING);
        if (j->fate.run_ms != FH_NEVER)
            heap_push(c, t + j->fate.run_ms, k, true);
    }
    if (c->rhead == c->nready)
        c->rhead = c->nready = 0;
}

/* Brings the cluster up to time now: jobs become ready, end, and free slots. */
static void advance(fake_conductor *c, int64_t now)
{
    while (c->nheap && c->heap[0].t <= now) {
        fc_event e = heap_pop(c);
        fc_job *j = &c->jobs[e.job];
        if (e.end && j->state == FC_RUNNING) {
            j->finished = e.t;
            j->charged = j->fate.cost_usd;
            c->running--;
            set_state(c, e.job, j->fate.fail ? FC_FAILED : FC_COMPLETED);
        } else if (!e.end && j->state == FC_QUEUED) {
            if (c->nready == c->rcap) {
                size_t cap = c->rcap ? c->rcap * 2 : 64;
                size_t *r = sb_realloc(c->ready, cap * sizeof *r);
                if (!r)
                    continue;
                c->ready = r;
                c->rcap = cap;
            }
            c->ready[c->nready++] = e.job;
        }
        start_ready(c, e.t);
    }
}

static fc_handle *handle_by_id(fake_conductor *c, const sb_val *id)
{
    unsigned n;
    if (!id || id->kind != SB_STRING || sscanf(sb_str(*id), "h_%u", &n) != 1 || n < 1 || n > c->nhandles)
        return NULL;
    return &c->handles[n - 1];
}

static sb_val job_record(const fc_job *j)
{
    sb_val m = sb_map_new(14);
    sb_map_set_str(&m, "job_id", sb_string_cstr(j->id));
    sb_map_set_str(&m, "status", sb_string_cstr(fc_status[j->state]));
    sb_map_set_str(&m, "hyperparameters", sb_val_ref(j->hyper));
    if (j->retry_of)
        sb_map_set_str(&m, "retry_of", sb_string_cstr(j->retry_of));
    if (j->estimate >= 0)
        sb_map_set_str(&m, "estimated_cost_usd", sb_double(j->estimate));
    sb_map_set_str(&m, "submitted_at_ms", sb_int(j->submitted));
    if (j->started >= 0)
        sb_map_set_str(&m, "started_at_ms", sb_int(j->started));
    if (j->state >= FC_COMPLETED)
        sb_map_set_str(&m, "finished_at_ms", sb_int(j->finished));
    if (j->state == FC_COMPLETED) {
        sb_val metrics = sb_map_new(2);
        sb_map_set_str(&metrics, "val_acc", sb_double(j->fate.val_acc));
        sb_map_set_str(&metrics, "train_loss", sb_double(j->fate.train_loss));
        sb_map_set_str(&m, "metrics", metrics);
    }
    if (j->state == FC_FAILED) {
        sb_map_set_str(&m, "error", sb_string_cstr(j->fate.error ? j->fate.error : "failed"));
        if (j->fate.error_type)
            sb_map_set_str(&m, "error_type", sb_string_cstr(j->fate.error_type));
    }
    if (j->state >= FC_COMPLETED && j->started >= 0) {
        sb_map_set_str(&m, "duration_seconds", sb_int((j->finished - j->started) / 1000));
        sb_map_set_str(&m, "cost_usd", sb_double(j->charged));
    }
    return m;
}

static sb_val counts_of(const fc_handle *h)
{
    sb_val m = sb_map_new(6);
    int64_t total = 0;
    for (int k = 0; k < 5; k++) {
        sb_map_set_str(&m, fc_status[k], sb_int(h->counts[k]));
        total += h->counts[k];
    }
    sb_map_set_str(&m, "total", sb_int(total));
    return m;
}

static sb_val fc_submit(fake_conductor *c, int64_t now, sb_val args)
{
    const sb_val *key = sb_map_get_str(args, "idempotency_key");
    if (key && key->kind == SB_STRING) {
        const sb_val *first = sb_map_get(c->idem, *key);
        if (first) {
            sb_val again = sb_val_clone(*first);
            sb_map_set_str(&again, "replayed", sb_bool(true));
            return fh_tool_result(again);
        }
    }
    const sb_val *jobs = sb_map_get_str(args, "jobs"), *hid = sb_map_get_str(args, "handle_id");
    if (!jobs || jobs->kind != SB_LIST || sb_list_len(*jobs) == 0)
        return fh_tool_error("submit_jobs: jobs must be a non-empty list");
    fc_handle *h = NULL;
    if (hid && hid->kind != SB_NULL) {
        h = handle_by_id(c, hid);
        if (!h)
            return fh_tool_error("submit_jobs: unknown handle_id");
    }
    /* All or nothing: check every spec before anything changes. */
    for (size_t k = 0; k < sb_list_len(*jobs); k++) {
        sb_val spec = *sb_list_at(*jobs, k);
        const sb_val *id = sb_map_get_str(spec, "job_id"), *of = sb_map_get_str(spec, "retry_of");
        const sb_val *hp = sb_map_get_str(spec, "hyperparameters");
        char msg[400];
        if (!hp || hp->kind != SB_MAP)
            return fh_tool_error("submit_jobs: every job needs hyperparameters (an object)");
        if (id && h && sb_map_get(h->index, *id)) {
            snprintf(msg, sizeof msg, "submit_jobs: job_id '%s' already exists in handle %s", sb_str(*id),
                     sb_str(*hid));
            return fh_tool_error(msg);
        }
        if (of && (!h || !sb_map_get(h->index, *of)))
            return fh_tool_error("submit_jobs: retry_of must name a job of the same handle");
    }
    if (!h) {
        fc_handle *hs = sb_realloc(c->handles, (c->nhandles + 1) * sizeof *hs);
        if (!hs)
            return sb_oom();
        c->handles = hs;
        h = &hs[c->nhandles++];
        memset(h, 0, sizeof *h);
        h->index = sb_map_new(sb_list_len(*jobs));
    }
    size_t hi = (size_t)(h - c->handles);
    char hname[24];
    snprintf(hname, sizeof hname, "h_%04zu", hi + 1);
    advance(c, now);
    sb_val ids = sb_list_new(sb_list_len(*jobs));
    for (size_t k = 0; k < sb_list_len(*jobs); k++) {
        sb_val spec = *sb_list_at(*jobs, k);
        const sb_val *id = sb_map_get_str(spec, "job_id"), *of = sb_map_get_str(spec, "retry_of");
        const sb_val *est = sb_map_get_str(spec, "estimated_cost_usd");
        char idbuf[32];
        if (!id || id->kind != SB_STRING) {
            sb_val probe;
            do {
                snprintf(idbuf, sizeof idbuf, "job_%03u", ++h->next_default);
                probe = sb_string_cstr(idbuf);
                bool taken = sb_map_get(h->index, probe) != NULL;
                sb_val_free(probe);
                if (!taken)
                    break;
            } while (1);
        }
        if (c->njobs == c->jcap) {
            size_t cap = c->jcap ? c->jcap * 2 : 64;
            fc_job *j = sb_realloc(c->jobs, cap * sizeof *j);
            if (!j)
                break;
            c->jobs = j;
            c->jcap = cap;
        }
        fc_job *j = &c->jobs[c->njobs];
        memset(j, 0, sizeof *j);
        j->id = sb_strdup(id && id->kind == SB_STRING ? sb_str(*id) : idbuf);
        j->retry_of = of && of->kind == SB_STRING ? sb_strdup(sb_str(*of)) : NULL;
        j->handle = hi;
        j->hyper = sb_val_ref(*sb_map_get_str(spec, "hyperparameters"));
        j->estimate = -1;
        if (est)
            sb_val_as_double(*est, &j->estimate);
        j->state = FC_QUEUED;
        j->submitted = now;
        j->started = j->finished = -1;
        j->fate = fate_of(c, j->id);
        size_t ji = c->njobs++;
        sb_map_set(&h->index, sb_string_cstr(j->id), sb_int((int64_t)ji));
        h->counts[FC_QUEUED]++;
        log_change(c, ji);
        if (j->fate.start_after_ms != FH_NEVER)
            heap_push(c, now + j->fate.start_after_ms, ji, false);
        sb_list_push(&ids, sb_string_cstr(j->id));
    }
    advance(c, now);
    sb_val out = sb_map_new(3);
    sb_map_set_str(&out, "handle_id", sb_string_cstr(hname));
    sb_map_set_str(&out, "accepted", sb_int((int64_t)sb_list_len(ids)));
    sb_map_set_str(&out, "job_ids", ids);
    if (key && key->kind == SB_STRING)
        sb_map_set(&c->idem, sb_val_ref(*key), sb_val_ref(out));
    return fh_tool_result(out);
}

static sb_val fc_status_call(fake_conductor *c, int64_t now, sb_val args)
{
    const sb_val *hid = sb_map_get_str(args, "handle_id"), *since = sb_map_get_str(args, "since_cursor");
    fc_handle *h = handle_by_id(c, hid);
    if (!h)
        return fh_tool_error("get_jobs_status: unknown handle_id");
    size_t from = 0;
    if (since && since->kind != SB_NULL) {
        unsigned long long n;
        if (since->kind != SB_STRING || sscanf(sb_str(*since), "c_%llu", &n) != 1 || n > h->nlog)
            return fh_tool_error("get_jobs_status: since_cursor is not a cursor of this handle");
        from = (size_t)n;
    }
    advance(c, now);
    uint64_t stamp = ++c->calls;
    sb_val jobs = sb_list_new(0);
    if (!since || since->kind == SB_NULL) {
        for (size_t k = 0; k < sb_map_len(h->index); k++)
            sb_list_push(&jobs, job_record(&c->jobs[sb_map_val_at(h->index, k)->as.i]));
    } else {
        /* Each changed job once, in its latest state, ordered by its latest change. */
        size_t *pick = sb_malloc((h->nlog - from + 1) * sizeof *pick), n = 0;
        if (!pick) {
            sb_val_free(jobs);
            return sb_oom();
        }
        for (size_t k = h->nlog; k-- > from;)
            if (c->jobs[h->log[k]].stamp != stamp) {
                c->jobs[h->log[k]].stamp = stamp;
                pick[n++] = h->log[k];
            }
        for (size_t k = n; k-- > 0;)
            sb_list_push(&jobs, job_record(&c->jobs[pick[k]]));
        sb_free(pick);
    }
    char cursor[32];
    snprintf(cursor, sizeof cursor, "c_%zu", h->nlog);
    sb_val out = sb_map_new(5);
    sb_map_set_str(&out, "handle_id", sb_val_ref(*hid));
    sb_map_set_str(&out, "cursor", sb_string_cstr(cursor));
    sb_map_set_str(&out, "done", sb_bool(h->counts[FC_QUEUED] + h->counts[FC_RUNNING] == 0));
    sb_map_set_str(&out, "counts", counts_of(h));
    sb_map_set_str(&out, "jobs", jobs);
    return fh_tool_result(out);
}

static sb_val fc_cancel(fake_conductor *c, int64_t now, sb_val args)
{
    const sb_val *hid = sb_map_get_str(args, "handle_id");
    fc_handle *h = handle_by_id(c, hid);
    if (!h)
        return fh_tool_error("cancel_jobs: unknown handle_id");
    advance(c, now);
    sb_val ids = sb_list_new(0);
    double charged = 0;
    for (size_t k = 0; k < sb_map_len(h->index); k++) {
        size_t ji = (size_t)sb_map_val_at(h->index, k)->as.i;
        fc_job *j = &c->jobs[ji];
        if (j->state != FC_QUEUED && j->state != FC_RUNNING)
            continue;
        /* job_ids (contract §1.6): only those; without it, every job. */
        const sb_val *only = sb_map_get_str(args, "job_ids");
        bool listed = !only || only->kind != SB_LIST;
        for (size_t n = 0; !listed && n < sb_list_len(*only); n++)
            listed = sb_str_eq(*sb_list_at(*only, n), j->id);
        if (!listed)
            continue;
        if (j->state == FC_RUNNING) {
            c->running--;
            double run = j->fate.run_ms == FH_NEVER || j->fate.run_ms == 0 ? 1 : (double)j->fate.run_ms;
            j->charged = j->fate.cost_usd * ((double)(now - j->started) / run);
            if (j->charged > j->fate.cost_usd)
                j->charged = j->fate.cost_usd;
            charged += j->charged;
        }
        j->finished = now;
        set_state(c, ji, FC_CANCELLED);
        sb_list_push(&ids, sb_string_cstr(j->id));
    }
    start_ready(c, now);
    sb_val out = sb_map_new(2);
    sb_map_set_str(&out, "cancelled", ids);
    sb_map_set_str(&out, "cost_usd_charged", sb_double(charged));
    return fh_tool_result(out);
}

sb_val fc_tool(void *ud, int64_t now_ms, const char *tool, sb_val args)
{
    fake_conductor *c = ud;
    if (strcmp(tool, "submit_jobs") == 0)
        return fc_submit(c, now_ms, args);
    if (strcmp(tool, "get_jobs_status") == 0)
        return fc_status_call(c, now_ms, args);
    if (strcmp(tool, "cancel_jobs") == 0)
        return fc_cancel(c, now_ms, args);
    return fh_tool_error("unknown tool");
}

bool fh_add_conductor(fake_host *h, fake_conductor *c)
{
    size_t n;
    const sb_tool_desc *t = fc_tools(&n);
    return fh_add_server(h, "conductor", t, n, fc_tool, c);
}
