/* sibyl workspace validate / pipeline validate / schema */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config/sb_config.h"
#include "cel/sb_template.h"
#include "config/sb_schema.h"
#include "spec/sb_spec.h"
#include "util/sb_alloc.h"

/* Reads and validates a workspace file; *ws receives the tree (caller frees).
 * Prints diagnostics. Returns CLI_OK, CLI_INVALID. */
static int load_workspace(const char *path, sb_val *ws)
{
    size_t len;
    *ws = sb_null();
    char *text = cli_read_file(path, &len);
    if (!text)
        return CLI_INVALID;
    sb_diags *d = sb_diags_new();
    bool ok = sb_config_workspace(path, text, len, d, ws);
    cli_print_diags(d);
    sb_diags_free(d);
    sb_free(text);
    return ok ? CLI_OK : CLI_INVALID;
}

static const char workspace_help[] =
    "usage: sibyl workspace validate FILE\n\n"
    "Checks a workspace.yaml: YAML syntax, the schema (unknown keys, wrong types,\n"
    "missing fields) and server settings. Prints every problem as FILE:LINE:COL.\n"
    "Exit 0 when valid, 1 when not, 2 on a usage error.\n";

int cli_cmd_workspace(int argc, char **argv)
{
    if (argc >= 2 && cli_is_help(argv[1])) {
        fputs(workspace_help, stdout);
        return CLI_OK;
    }
    if (argc != 3 || strcmp(argv[1], "validate") != 0) {
        fputs(workspace_help, stderr);
        return CLI_USAGE;
    }
    sb_val ws;
    int rc = load_workspace(argv[2], &ws);
    if (rc == CLI_OK) {
        const sb_val *servers = sb_map_get_str(ws, "servers");
        printf("%s: valid workspace (%zu server%s)\n", argv[2], sb_map_len(*servers),
               sb_map_len(*servers) == 1 ? "" : "s");
    }
    sb_val_free(ws);
    return rc;
}

int cli_pipeline_run(int argc, char **argv);
int cli_pipeline_resume(int argc, char **argv);

static const char pipeline_help[] =
    "usage: sibyl pipeline validate --config FILE [--workspace FILE]\n"
    "       sibyl pipeline run NAME [--config FILE] [--workspace FILE] [options]\n"
    "                                 (sibyl pipeline run --help for the options)\n"
    "       sibyl pipeline resume --output-dir DIR   (an interrupted run, from its journal)\n\n"
    "Checks a pipelines.yaml: YAML syntax, the schema, step references in needs\n"
    "and on, dependency cycles, input defaults and, with --workspace, the server\n"
    "names in call and status_tool. Prints every problem as FILE:LINE:COL.\n"
    "Exit 0 when valid, 1 when not, 2 on a usage error.\n";

int cli_cmd_pipeline(int argc, char **argv)
{
    if (argc >= 2 && cli_is_help(argv[1])) {
        fputs(pipeline_help, stdout);
        return CLI_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cli_pipeline_run(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "resume") == 0)
        return cli_pipeline_resume(argc - 2, argv + 2);
    if (argc < 2 || strcmp(argv[1], "validate") != 0) {
        fputs(pipeline_help, stderr);
        return CLI_USAGE;
    }
    const char *config = NULL, *workspace = NULL;
    for (int i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(pipeline_help, stdout);
            return CLI_OK;
        }
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "--workspace") == 0) && i + 1 >= argc)
            return cli_usage_error("%s needs a file name", argv[i]);
        if (strcmp(argv[i], "--config") == 0)
            config = argv[++i];
        else if (strcmp(argv[i], "--workspace") == 0)
            workspace = argv[++i];
        else
            return cli_usage_error("pipeline validate: unknown argument '%s' (see sibyl pipeline --help)", argv[i]);
    }
    if (!config)
        return cli_usage_error("pipeline validate: --config FILE is required");

    sb_val ws = sb_null();
    int rc = CLI_OK;
    if (workspace && load_workspace(workspace, &ws) != CLI_OK)
        rc = CLI_INVALID; /* go on: report the pipeline's problems too */

    size_t len;
    char *text = cli_read_file(config, &len);
    if (!text) {
        sb_val_free(ws);
        return CLI_INVALID;
    }
    sb_diags *d = sb_diags_new();
    sb_val doc;
    bool ok = sb_config_pipelines(config, text, len, ws.kind == SB_MAP ? ws : sb_null(), d, &doc);
    if (doc.kind == SB_MAP) {
        /* Parse every {{ expression }} too, so syntax errors show up now, positioned. */
        sb_tmpl *t = sb_tmpl_compile(doc, config, NULL, d);
        ok = ok && t != NULL;
        sb_tmpl_free(t);
    }
    if (ok && doc.kind == SB_MAP) {
        /* Then type-check each pipeline's expressions against the variables
         * each field sees, as `pipeline run` does before starting. */
        const sb_val *ps = sb_map_get_str(doc, "pipelines");
        for (size_t i = 0; ps && i < sb_map_len(*ps); i++) {
            sb_spec *sp = sb_spec_compile(ws.kind == SB_MAP ? ws : sb_null(), doc, sb_str(*sb_map_key_at(*ps, i)),
                                          workspace, config, d);
            ok = ok && sp != NULL;
            sb_spec_free(sp);
        }
    }
    cli_print_diags(d);
    sb_diags_free(d);
    sb_free(text);
    if (ok && rc == CLI_OK) {
        const sb_val *ps = sb_map_get_str(doc, "pipelines");
        size_t n = sb_map_len(*ps);
        printf("%s: %zu valid pipeline%s:", config, n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
            const sb_val *steps = sb_map_get_str(*sb_map_val_at(*ps, i), "steps");
            printf("%s %s (%zu steps)", i ? "," : "", sb_str(*sb_map_key_at(*ps, i)), sb_map_len(*steps));
        }
        printf("\n");
    }
    sb_val_free(doc);
    sb_val_free(ws);
    return ok ? rc : CLI_INVALID;
}

int cli_cmd_schema(int argc, char **argv)
{
    static const char help[] = "usage: sibyl schema workspace|pipelines\n\n"
                               "Prints the JSON Schema of workspace.yaml or pipelines.yaml, for editors\n"
                               "(the same files are in schemas/).\n";
    if (argc == 2 && cli_is_help(argv[1])) {
        fputs(help, stdout);
        return CLI_OK;
    }
    const sb_schema *s = NULL;
    const char *id = NULL;
    if (argc == 2 && strcmp(argv[1], "workspace") == 0)
        s = &sb_schema_workspace, id = "urn:sibyl:schema:workspace:1";
    else if (argc == 2 && strcmp(argv[1], "pipelines") == 0)
        s = &sb_schema_pipelines, id = "urn:sibyl:schema:pipelines:1";
    if (!s) {
        fputs(help, stderr);
        return CLI_USAGE;
    }
    sb_buf b = SB_BUF_INIT;
    sb_schema_write_json_schema(s, id, &b);
    if (sb_buf_failed(&b)) {
        sb_buf_free(&b);
        fprintf(stderr, "sibyl: error: out of memory\n");
        return CLI_INTERNAL;
    }
    printf("%s\n", sb_buf_str(&b));
    sb_buf_free(&b);
    return CLI_OK;
}
