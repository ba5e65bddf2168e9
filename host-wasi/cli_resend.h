/* Requests a resumed HTTP run had sent and not seen answered before the
 * crash: gathered while the journal is replayed (the run makes them again,
 * byte for byte), sent for real once the replay is over. Requests are
 * copied; the list owns them. */
#ifndef SIBYL_CLI_RESEND_H
#define SIBYL_CLI_RESEND_H
#include <stdbool.h>
#include <stddef.h>

#include "engine/sb_run.h"

typedef struct cli_resend_req {
    sb_run_request req; /* every string owned */
} cli_resend_req;

typedef struct cli_resend {
    cli_resend_req *v;
    size_t n, cap;
    bool oom;
} cli_resend;

void cli_resend_add(cli_resend *r, const sb_run_request *req);
/* The answer to id was in the journal: nothing to send again. */
void cli_resend_drop(cli_resend *r, uint64_t id);
void cli_resend_free(cli_resend *r);

#endif
