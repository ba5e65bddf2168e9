/* Protocol facts shared by the MCP client and server. Supporting a new
 * revision starts here. */
#ifndef SB_MCP_PROTO_H
#define SB_MCP_PROTO_H
#include <stdbool.h>

/* The revision sibyl asks for, and the one a server answers with when the
 * client asked for one it does not know. */
#define SB_MCP_LATEST_VERSION "2025-11-25"

/* Every revision spoken, newest first, NULL-terminated. */
extern const char *const sb_mcp_versions[];

bool sb_mcp_version_supported(const char *v);
/* "2025-11-25, 2025-06-18, 2025-03-26" (static text), for error messages. */
const char *sb_mcp_versions_text(void);

#endif
