#include "sb_mcp_proto.h"

#include <string.h>

/* 2025-03-26 introduced Streamable HTTP; older revisions used the HTTP+SSE
 * transport, which sibyl does not speak. */
const char *const sb_mcp_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

bool sb_mcp_version_supported(const char *v)
{
    for (const char *const *p = sb_mcp_versions; *p; p++)
        if (strcmp(*p, v) == 0)
            return true;
    return false;
}

const char *sb_mcp_versions_text(void) { return "2025-11-25, 2025-06-18, 2025-03-26"; }
