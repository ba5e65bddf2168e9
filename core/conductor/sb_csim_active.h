/* How many jobs of a simulated cluster are still queued or running, for a
 * host's log (the reference Conductor reports them when it stops). A
 * separate header so the sim's main header stays as it is. */
#ifndef SB_CSIM_ACTIVE_H
#define SB_CSIM_ACTIVE_H
#include <stddef.h>

#include "sb_conductor_sim.h"

/* Counts as of the sim's latest call (no time passes). */
void sb_csim_active(const sb_csim *s, size_t *queued, size_t *running);

#endif
