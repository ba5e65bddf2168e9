/* The native half of `sibyl handle` (cmd_handle_http.c): following a
 * checked ExternalHandle on an HTTP server of the workspace. */
#ifndef SIBYL_CMD_HANDLE_HTTP_H
#define SIBYL_CMD_HANDLE_HTTP_H
#include <stdbool.h>

#include "value/sb_value.h"

/* verb: "status", "watch" or "cancel"; text: the handle as the user gave it
 * (for messages); h: it as an ExternalHandle of a server of ws with transport
 * http. Returns the exit code. */
int handle_follow(const char *verb, const char *text, sb_val h, sb_val ws, const char *ws_path, const char *out_dir,
                  bool stream);

#endif
