/* sibyl pipeline resume: rebuilds a run from the journal in its output
 * folder (cli_journal.h) and lets it go on live. The journal's header names
 * the config files, inputs, seed and clock; they must be what the run used
 * (hash), with this very sibyl version and journal format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_drive.h"
#include "cli_journal.h"
#include "cli_run.h"
#include "util/sb_alloc.h"
#include "util/sb_grow.h"
#include "json/sb_json.h"

static const char resume_help[] =
    "usage: sibyl pipeline resume --output-dir DIR [options]\n\n"
    "Resumes the run whose journal (" CLI_JOURNAL_FILE ") is in DIR: replays what the run had\n"
    "learned (server answers, clock readings, a cancel) without sending anything again,\n"
    "sends the requests that were in flight (their idempotency keys make that safe), keeps\n"
    "the stream file's lines and appends the missing ones, and goes on live. The config\n"
    "files, inputs and seed come from the journal and must be unchanged.\n\n"
    "options:\n"
    "  --output-dir DIR   the interrupted run's output folder (required)\n"
    "  --config FILE      the pipelines file, when it moved (default: the journal's)\n"
    "  --workspace FILE   the workspace file, when it moved (default: the journal's)\n"
    "  --stream           print each finished job's chunk as a STREAM line\n"
    "  --verbose          every poll, and what servers say\n"
    "  --no-progress      no live progress line\n\n"
    "A finished run is left as it is. exit codes as for pipeline run; 1 also for a journal\n"
    "that is missing, corrupted, of another format or sibyl version, or of other config files.\n";

static const char *status_name(int32_t s)
{
    return s >= SB_RUN_PENDING && s <= SB_RUN_CANCELLED ? sb_run_status_name((sb_run_status)s) : "?";
}

static int resume(run_args *a, const char *jpath, const char *text, size_t len)
{
    sb_journal_reader r;
    sb_jresult jr = sb_journal_open(&r, text, len);
    if (jr == SB_JOURNAL_NOT_JOURNAL) {
        fprintf(stderr, "%s: error: not a sibyl journal\n", jpath);
        return CLI_INVALID;
    }
    if (jr == SB_JOURNAL_VERSION) {
        fprintf(stderr,
                "%s: error: journal format %u, this sibyl reads format %u: resume with the sibyl that "
                "wrote it\n",
                jpath, r.version, SB_JOURNAL_FORMAT);
        return CLI_INVALID;
    }
    sb_jfact *facts = NULL;
    size_t n = 0, cap = 0;
    sb_jfact f;
    while (jr == SB_JOURNAL_OK && (jr = sb_journal_next(&r, &f)) == SB_JOURNAL_OK) {
        if (!SB_GROW(facts, cap, n + 1)) {
            sb_free(facts);
            fprintf(stderr, "sibyl: error: out of memory\n");
            return CLI_INTERNAL;
        }
        facts[n++] = f;
    }
    if (jr == SB_JOURNAL_CORRUPT) {
        fprintf(stderr, "%s: error: corrupted record at byte offset %zu (%s): the journal cannot be replayed\n", jpath,
                r.error_offset, r.error);
        sb_free(facts);
        return CLI_INVALID;
    }
    if (n == 0) {
        fprintf(stderr, "%s: error: the journal has no header (the run died before it began): run it again\n", jpath);
        sb_free(facts);
        return CLI_INVALID;
    }
    if (jr == SB_JOURNAL_TORN)
        fprintf(stderr, "%s: note: an incomplete last record (%zu bytes) is dropped\n", jpath, len - r.good_len);
    const sb_jfact *hdr = &facts[0];
    int rc = CLI_OK;
    if (strcmp(hdr->sibyl_version, SIBYL_VERSION) != 0) {
        fprintf(stderr, "%s: error: written by sibyl %s, this is sibyl %s: resume with the sibyl that wrote it\n",
                jpath, hdr->sibyl_version, SIBYL_VERSION);
        rc = CLI_INVALID;
    } else if (facts[n - 1].type == SB_J_END) {
        int32_t st = facts[n - 1].status;
        printf("%s: the run already finished (%s): nothing to resume, nothing changed\n", jpath, status_name(st));
        rc = st == SB_RUN_SUCCEEDED ? CLI_OK : CLI_RUN_FAILED;
    }
    if (rc != CLI_OK || facts[n - 1].type == SB_J_END) {
        sb_free(facts);
        return rc;
    }
    a->name = hdr->pipeline;
    if (!a->config)
        a->config = hdr->pipelines_file;
    if (!a->workspace)
        a->workspace = hdr->workspace_file;
    a->seed = hdr->seed;
    a->seed_given = true;
    a->clock = hdr->mode == SB_JMODE_VIRTUAL ? "virtual" : hdr->mode == SB_JMODE_REAL ? "real" : NULL;
    memcpy(&a->time_scale, &hdr->time_scale, sizeof a->time_scale);
    a->start_ms = hdr->start_ms;
    a->inputs = sb_json_parse(hdr->inputs_json, strlen(hdr->inputs_json));
    uint64_t hash = SB_JOURNAL_HASH_INIT;
    sb_val ws = sb_null(), pl = sb_null();
    if (a->inputs.kind != SB_MAP) {
        fprintf(stderr, "%s: error: the journal's inputs are not a JSON object\n", jpath);
        rc = CLI_INVALID;
    }
    if (rc == CLI_OK)
        rc = cli_load_config(a->workspace, true, sb_null(), &ws, &hash);
    if (rc == CLI_OK)
        rc = cli_load_config(a->config, false, ws, &pl, &hash);
    if (rc == CLI_OK && cli_config_hash(hash, a->name, hdr->inputs_json, a->seed) != hdr->config_hash) {
        fprintf(stderr,
                "%s: error: %s or %s changed since the run began (the journal's hash differs): a "
                "resume needs the same config, inputs and seed; start a new run instead\n",
                jpath, a->workspace, a->config);
        rc = CLI_INVALID;
    }
    if (rc == CLI_OK) {
        cli_resume res = {hdr, facts + 1, n - 1, r.good_len};
        rc = cli_drive(a, ws, pl, a->workspace, hash, &res);
    }
    sb_val_free(ws);
    sb_val_free(pl);
    sb_free(facts);
    return rc;
}

int cli_pipeline_resume(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (cli_is_help(o)) {
            fputs(resume_help, stdout);
            return CLI_OK;
        }
        bool needs = strcmp(o, "--output-dir") == 0 || strcmp(o, "--config") == 0 || strcmp(o, "--workspace") == 0;
        if (needs && (i + 1 >= argc || !*argv[i + 1] || strncmp(argv[i + 1], "--", 2) == 0))
            return cli_usage_error("%s needs a value (see sibyl pipeline resume --help)", o);
        if (strcmp(o, "--output-dir") == 0)
            a.out_dir = argv[++i];
        else if (strcmp(o, "--config") == 0)
            a.config = argv[++i];
        else if (strcmp(o, "--workspace") == 0)
            a.workspace = argv[++i];
        else if (strcmp(o, "--stream") == 0)
            a.stream = true;
        else if (strcmp(o, "--verbose") == 0)
            a.verbose = true;
        else if (strcmp(o, "--no-progress") == 0)
            a.no_progress = true;
        else
            return cli_usage_error("pipeline resume: unknown argument '%s' (see sibyl pipeline resume --help)", o);
    }
    if (!a.out_dir)
        return cli_usage_error("pipeline resume: --output-dir DIR is required (the interrupted run's output folder)");
    char *jpath = term_path(a.out_dir, CLI_JOURNAL_FILE);
    size_t len = 0;
    char *text = jpath ? cli_read_file(jpath, &len) : NULL;
    int rc = text ? resume(&a, jpath, text, len) : jpath ? CLI_INVALID : CLI_INTERNAL;
    sb_val_free(a.inputs);
    sb_free(text);
    sb_free(jpath);
    return rc;
}
