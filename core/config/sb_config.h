/* Loading and validating sibyl's two config files. Shape problems come from
 * the schema tables (sb_schema.h); cross-references are checked here: `needs`
 * naming unknown steps, dependency cycles, `on:` events, server names, input
 * defaults against their types. Every problem is reported, each with
 * FILE:LINE:COL, and validation goes on past the first one. */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H
#include <stdbool.h>
#include <stddef.h>

#include "../util/sb_diag.h"
#include "../value/sb_value.h"

/* Parses and validates workspace.yaml. *out receives the tree (null on a
 * YAML error; the tree even when invalid, for tools that want it). Returns
 * true when there was no problem. */
bool sb_config_workspace(const char *file, const char *text, size_t len, sb_diags *d, sb_val *out);

/* Parses and validates pipelines.yaml. `workspace` (borrowed; null when not
 * given) enables the server-name checks. */
bool sb_config_pipelines(const char *file, const char *text, size_t len, sb_val workspace, sb_diags *d,
                         sb_val *out);

/* The checks of the two functions above on trees already loaded (a host
 * that builds the trees itself, and sb_run_new, which refuses a tree that
 * fails them). true when there was no problem. */
bool sb_config_check_workspace(const char *file, sb_val workspace, sb_diags *d);
bool sb_config_check_pipelines(const char *file, sb_val pipelines, sb_val workspace, sb_diags *d);

/* Checks one input value against its declaration (type, enum, minimum,
 * maximum). Returns true when it fits; otherwise false, with the reason
 * appended to why (the answer does not depend on that allocation). */
bool sb_config_check_input(sb_val decl, sb_val value, sb_buf *why);
/* For an input of type handle that passed sb_config_check_input: false, with
 * why, when the workspace (null: none) has servers: and the handle's server
 * is not one of them. true for any other input. */
bool sb_config_check_handle(sb_val decl, sb_val value, sb_val workspace, sb_buf *why);

/* The steps of `pipeline` in a deterministic topological order (a list of
 * step-name strings; ties broken by declaration order). An error value if
 * there is a cycle. */
sb_val sb_config_step_order(sb_val pipeline);

#endif
