/* sibyl workspace validate / pipeline validate / schema */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config/sb_yaml.h"
#include "util/sb_alloc.h"

int cli_cmd_workspace(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "validate") != 0)
        return cli_usage_error("usage: sibyl workspace validate FILE");
    size_t len;
    char *text = cli_read_file(argv[2], &len);
    if (!text)
        return CLI_INVALID;
    sb_diags *d = sb_diags_new();
    sb_val v;
    bool ok = sb_yaml_load(argv[2], text, len, d, &v);
    cli_print_diags(d);
    sb_diags_free(d);
    sb_val_free(v);
    sb_free(text);
    if (ok)
        printf("%s: valid workspace\n", argv[2]);
    return ok ? CLI_OK : CLI_INVALID;
}

int cli_cmd_pipeline(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error("pipeline: not built yet");
}

int cli_cmd_schema(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error("schema: not built yet");
}
