/* The terminal front end (native and sibyl.wasm). One file per command
 * family; commands are listed once in cli_commands.def.
 *
 * Exit codes, for every command:
 *   0  success
 *   1  invalid input (a config, expression, file or server reply is wrong)
 *   2  usage error (unknown command or option, missing argument)
 *   3  the run itself failed (a step failed, a budget or timeout was hit)
 *   4  internal error (out of memory, I/O error writing outputs) */
#ifndef SIBYL_CLI_H
#define SIBYL_CLI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/sb_diag.h"
#include "value/sb_value.h"

enum { CLI_OK = 0, CLI_INVALID = 1, CLI_USAGE = 2, CLI_RUN_FAILED = 3, CLI_INTERNAL = 4 };

typedef int (*cli_fn)(int argc, char **argv);

typedef struct cli_command {
    const char *name;    /* first word(s) after `sibyl` */
    const char *summary; /* one line for --help */
    cli_fn run;          /* argv[0] is the command name */
} cli_command;

#define CLI_COMMAND(id, name, summary) int cli_cmd_##id(int argc, char **argv);
#include "cli_commands.def"
#undef CLI_COMMAND

/* Reads a whole file (NUL-terminated; *len excludes the NUL). On failure
 * prints "FILE: error: why" to stderr and returns NULL. Free with sb_free. */
char *cli_read_file(const char *path, size_t *len);
/* Prints "sibyl: error: ..." to stderr; returns CLI_USAGE for `return`. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int cli_usage_error(const char *fmt, ...);
/* Prints the diagnostics, sorted, to stderr. */
void cli_print_diags(sb_diags *d);
/* true if argv[i] is -h or --help */
bool cli_is_help(const char *arg);

#endif
