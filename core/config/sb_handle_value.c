/* ExternalHandle values (see sb_handle_value.h): made from a run's
 * PollableJobHandle, read from handle text (JSON or server:kind:id) and
 * checked against a workspace's servers. Messages name the column in the
 * text, the server and the id, so a user sees at once what to fix. */
#include <string.h>

#include "sb_handle_value.h"

#include "../json/sb_json.h"
#include "../util/sb_alloc.h"

/* Sets key -> v (consumed) in a map being built; false when memory ran out. */
static bool put(sb_val *map, const char *key, sb_val v)
{
    bool oom = sb_is_oom(v);
    return sb_map_set_str(map, key, v) && !oom;
}

static const char *const kind_names[] = {"conductor_handle", "mcp_task"};

const char *sb_handle_kind_name(sb_handle_kind k)
{
    return kind_names[k == SB_HANDLE_MCP_TASK];
}

static bool ident_char(char ch, bool first)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (!first && ch >= '0' && ch <= '9');
}

/* A workspace server name: letters, digits and _, not starting with a digit
 * (the schema's rule for the keys of servers:). */
static bool is_ident(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ident_char(s[i], i == 0))
            return false;
    return n > 0;
}

/* Ids are opaque to sibyl but travel in command lines, logs, JSON and
 * `server:kind:id` text: printable ASCII without spaces (what servers hand
 * out: h_0001, UUIDs, URNs). Returns the offset of the first other byte, or n. */
static size_t bad_id_at(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return i;
    return n;
}

sb_val sb_handle_make_external(const char *server, sb_handle_kind kind, const char *id, const char *status_tool,
                               const char *submit_tool, const char *cancel_tool)
{
    sb_val h = sb_map_new(7);
    bool ok = put(&h, "$type", sb_string_cstr("ExternalHandle"));
    ok = ok && put(&h, "server", sb_string_cstr(server));
    ok = ok && put(&h, "kind", sb_string_cstr(sb_handle_kind_name(kind)));
    ok = ok && put(&h, "id", sb_string_cstr(id));
    if (ok && status_tool)
        ok = put(&h, "status_tool", sb_string_cstr(status_tool));
    if (ok && submit_tool)
        ok = put(&h, "submit_tool", sb_string_cstr(submit_tool));
    if (ok && cancel_tool)
        ok = put(&h, "cancel_tool", sb_string_cstr(cancel_tool));
    if (!ok) {
        sb_val_free(h);
        return sb_oom();
    }
    return h;
}

bool sb_handle_is_external(sb_val v)
{
    const sb_val *t = sb_map_get_str(v, "$type");
    return v.kind == SB_MAP && t && sb_str_eq(*t, "ExternalHandle");
}

sb_handle_kind sb_handle_kind_of(sb_val h)
{
    const sb_val *k = sb_map_get_str(h, "kind");
    return k && sb_str_eq(*k, "mcp_task") ? SB_HANDLE_MCP_TASK : SB_HANDLE_CONDUCTOR;
}

const char *sb_handle_field(sb_val h, const char *key, const char *dflt)
{
    const sb_val *v = sb_map_get_str(h, key);
    return v && v->kind == SB_STRING ? sb_str(*v) : dflt;
}

/* handle -> server ':' kind ':' id   (the id may itself hold ':') */
static sb_val parse_text(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && ident_char(s[i], i == 0))
        i++;
    if (i == 0)
        return sb_errorf("column 1: expected a server name (letters, digits, _) in SERVER:KIND:ID");
    if (i == n || s[i] != ':')
        return sb_errorf("column %zu: expected ':' after the server name '%.*s' (SERVER:KIND:ID)", i + 1, (int)i, s);
    size_t k0 = ++i;
    while (i < n && s[i] != ':')
        i++;
    sb_handle_kind kind;
    if (i - k0 == strlen(kind_names[0]) && memcmp(s + k0, kind_names[0], i - k0) == 0)
        kind = SB_HANDLE_CONDUCTOR;
    else if (i - k0 == strlen(kind_names[1]) && memcmp(s + k0, kind_names[1], i - k0) == 0)
        kind = SB_HANDLE_MCP_TASK;
    else
        return sb_errorf("column %zu: unknown handle kind '%.*s' (expected conductor_handle or mcp_task)", k0 + 1,
                         (int)(i - k0 > 40 ? 40 : i - k0), s + k0);
    if (i == n)
        return sb_errorf("column %zu: expected ':' and the id after the kind (SERVER:KIND:ID)", i + 1);
    size_t id0 = ++i;
    if (id0 == n)
        return sb_errorf("column %zu: the id is empty (SERVER:KIND:ID)", id0 + 1);
    size_t bad = bad_id_at(s + id0, n - id0);
    if (bad < n - id0)
        return sb_errorf("column %zu: the id may hold printable ASCII only, no spaces or control characters",
                         id0 + bad + 1);
    char server[64], *id = sb_strndup(s + id0, n - id0);
    if (!id)
        return sb_oom();
    if (k0 - 1 >= sizeof server) {
        sb_free(id);
        return sb_errorf("column 1: the server name is longer than %zu characters", sizeof server - 1);
    }
    memcpy(server, s, k0 - 1);
    server[k0 - 1] = '\0';
    sb_val h = sb_handle_make_external(server, kind, id, NULL, NULL, NULL);
    sb_free(id);
    return h;
}

/* A string field of a handle map: NULL when absent, an error message in *err
 * when present and not a non-empty string. */
static const char *str_field(sb_val m, const char *key, bool required, sb_val *err)
{
    const sb_val *v = sb_map_get_str(m, key);
    if (!v && !required)
        return NULL;
    if (!v || v->kind != SB_STRING || sb_str_len(*v) == 0) {
        if (err->kind == SB_NULL)
            *err = sb_errorf("%s: expected a non-empty string%s", key, v ? "" : ", it is missing");
        return NULL;
    }
    return sb_str(*v);
}

static sb_val from_map(sb_val m)
{
    /* A map made while memory ran out may hold the out-of-memory value: that
     * is what to say, not that a field is not a string. */
    for (size_t i = 0; i < sb_map_len(m); i++)
        if (sb_is_oom(*sb_map_val_at(m, i)))
            return sb_oom();
    const sb_val *t = sb_map_get_str(m, "$type");
    sb_val err = sb_null();
    if (t && sb_str_eq(*t, "PollableJobHandle")) {
        const char *server = str_field(m, "server", true, &err), *id = str_field(m, "handle_id", true, &err);
        const char *st = str_field(m, "status_tool", false, &err), *sub = str_field(m, "submit_tool", false, &err);
        if (err.kind != SB_NULL)
            return err;
        if (!is_ident(server, strlen(server)))
            return sb_errorf("server: '%s' is not a server name (letters, digits, _)", server);
        return sb_handle_make_external(server, SB_HANDLE_CONDUCTOR, id, st, sub, NULL);
    }
    if (!t || !sb_str_eq(*t, "ExternalHandle"))
        return sb_errorf("$type: expected \"ExternalHandle\" or \"PollableJobHandle\"");
    static const char *const keys[] = {"$type",       "server",      "kind",        "id",
                                       "status_tool", "submit_tool", "cancel_tool", "session"};
    for (size_t i = 0; i < sb_map_len(m); i++) {
        size_t k = 0;
        while (k < sizeof keys / sizeof *keys && !sb_str_eq(*sb_map_key_at(m, i), keys[k]))
            k++;
        if (k == sizeof keys / sizeof *keys)
            return sb_errorf("unknown field '%s' (an ExternalHandle has $type, server, kind, id, status_tool, "
                             "submit_tool, cancel_tool, session)",
                             sb_str(*sb_map_key_at(m, i)));
    }
    const char *server = str_field(m, "server", true, &err), *kind = str_field(m, "kind", true, &err);
    const char *id = str_field(m, "id", true, &err);
    const char *st = str_field(m, "status_tool", false, &err), *sub = str_field(m, "submit_tool", false, &err);
    const char *cancel = str_field(m, "cancel_tool", false, &err);
    const char *session = str_field(m, "session", false, &err);
    if (err.kind != SB_NULL)
        return err;
    if (!is_ident(server, strlen(server)))
        return sb_errorf("server: '%s' is not a server name (letters, digits, _)", server);
    sb_handle_kind k;
    if (strcmp(kind, kind_names[0]) == 0)
        k = SB_HANDLE_CONDUCTOR;
    else if (strcmp(kind, kind_names[1]) == 0)
        k = SB_HANDLE_MCP_TASK;
    else
        return sb_errorf("kind: unknown handle kind '%s' (expected conductor_handle or mcp_task)", kind);
    const sb_val *idv = sb_map_get_str(m, "id");
    if (bad_id_at(id, sb_str_len(*idv)) < sb_str_len(*idv))
        return sb_errorf("id: the id of server %s may hold printable ASCII only, no spaces or control characters",
                         server);
    if (k == SB_HANDLE_MCP_TASK && (st || sub || cancel))
        return sb_errorf("%s: an mcp_task handle is followed with tasks/get; it names no tools", st    ? "status_tool"
                                                                                                 : sub ? "submit_tool"
                                                                                                       : "cancel_tool");
    if (session && k != SB_HANDLE_MCP_TASK)
        return sb_errorf("session: only an mcp_task handle names the MCP session its task belongs to");
    if (session && bad_id_at(session, strlen(session)) < strlen(session))
        return sb_errorf("session: printable ASCII only, no spaces or control characters");
    sb_val h = sb_handle_make_external(server, k, id, st, sub, cancel);
    if (session && h.kind == SB_MAP && !put(&h, "session", sb_string_cstr(session))) {
        sb_val_free(h);
        return sb_oom();
    }
    return h;
}

sb_val sb_handle_external(sb_val v)
{
    if (v.kind == SB_STRING)
        return parse_text(sb_str(v), sb_str_len(v));
    if (v.kind == SB_MAP)
        return from_map(v);
    return sb_errorf("expected a handle: SERVER:KIND:ID text or an ExternalHandle object");
}

sb_val sb_handle_parse(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i < len && text[i] == '{') {
        sb_val v = sb_json_parse(text, len);
        if (v.kind == SB_ERROR)
            return v; /* "line L, column C: what" */
        sb_val h = sb_handle_external(v);
        sb_val_free(v);
        return h;
    }
    return parse_text(text, len);
}

bool sb_handle_check_server(sb_val h, sb_val workspace, sb_buf *why)
{
    const sb_val *servers = workspace.kind == SB_MAP ? sb_map_get_str(workspace, "servers") : NULL;
    const sb_val *server = sb_map_get_str(h, "server");
    if (!servers || servers->kind != SB_MAP || !server || sb_map_get(*servers, *server))
        return true;
    sb_buf_printf(why, "unknown server '%s' for %s %s (the workspace defines: ", sb_str(*server),
                  sb_handle_kind_name(sb_handle_kind_of(h)), sb_handle_field(h, "id", "?"));
    for (size_t i = 0; i < sb_map_len(*servers); i++)
        sb_buf_printf(why, "%s%s", i ? ", " : "", sb_str(*sb_map_key_at(*servers, i)));
    sb_buf_puts(why, sb_map_len(*servers) ? ")" : "no servers)");
    return false;
}

sb_val sb_handle_text(sb_val h)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s:%s:%s", sb_handle_field(h, "server", "?"), sb_handle_kind_name(sb_handle_kind_of(h)),
                  sb_handle_field(h, "id", "?"));
    sb_val v = sb_buf_failed(&b) ? sb_oom() : sb_string(sb_buf_str(&b), b.len);
    sb_buf_free(&b);
    return v;
}
