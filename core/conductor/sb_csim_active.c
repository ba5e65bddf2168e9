#include "sb_csim_active.h"

#include "sb_csim_int.h"

void sb_csim_active(const sb_csim *s, size_t *queued, size_t *running)
{
    size_t q = 0, r = 0;
    for (size_t i = 0; s && i < s->njobs; i++) {
        q += s->jobs[i].status == CSIM_QUEUED;
        r += s->jobs[i].status == CSIM_RUNNING;
    }
    *queued = q;
    *running = r;
}
