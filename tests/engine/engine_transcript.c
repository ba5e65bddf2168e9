/* Prints the transcript (requests sent, events, result file) of one sweep
 * with a transient failure and a retry, full jitter, seed 7. ctest runs it
 * natively and as wasm32-wasi and compares the two outputs byte for byte
 * (compare-transcripts.sh): the same inputs must give the same run on every
 * platform. Run it from tests/engine. */
#include "engine_test_util.h"

static const fc_rule rules[] = {
    {"job_001", {.run_ms = 600000, .val_acc = 80.125, .train_loss = 0.25, .cost_usd = 10.5}},
    {"job_002", {.run_ms = 60000, .fail = true, .error = "NaN loss at step 300", .cost_usd = 2.1}},
    {"job_002_retry_*", {.run_ms = 120000, .val_acc = 90.3, .train_loss = 0.125, .cost_usd = 10.25}},
    {"job_003", {.start_after_ms = 45000, .run_ms = 600000, .val_acc = 85.7, .train_loss = 0.3, .cost_usd = 9.99}},
    FC_END};

int main(void)
{
    fake_host h;
    fh_init(&h);
    h.progress = true;
    fake_conductor *fc = fc_new(2, rules, NULL, NULL);
    int rc = 1;
    if (fc && fh_add_conductor(&h, fc) && et_load(&h, "jitter: none", "jitter: full") &&
        fh_run(&h, "sweep", 7, NULL, (int64_t)100 * 3600 * 1000)) {
        fputs(sb_buf_str(&h.transcript), stdout);
        printf("RESULT %s", h.file_text ? h.file_text : "(none)\n");
        rc = sb_run_get_status(h.run) == SB_RUN_SUCCEEDED ? 0 : 1;
    }
    fh_free(&h);
    fc_free(fc);
    return rc;
}
