/* Handle text (sb_handle_parse) as data: tests/config/handles.test, one
 * case per block (input, then the ExternalHandle as compact JSON, or after
 * %%FAIL the exact error). Each case also runs with every allocation failing
 * in turn (tests/unit/sb_failalloc.h): it must fail cleanly, as out of
 * memory, and leak nothing. The same file runs natively and as wasm32-wasi
 * (from tests/config, where handles.test is). */
#include "sb_failalloc.h"
#include "sb_test.h"

#include "config/sb_config.h"
#include "config/sb_handle_value.h"
#include "config/sb_yaml.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static const char *cur_input;
static size_t cur_len;

static void parse_once(bool check)
{
    sb_val h = sb_handle_parse(cur_input, cur_len);
    if (!check)
        CHECK(h.kind == SB_MAP || h.kind == SB_ERROR); /* OOM or the real answer, never a crash */
    sb_val_free(h);
}

/* Next line of *p (without its newline), or NULL at the end. */
static char *next_line(char **p)
{
    if (!**p)
        return NULL;
    char *s = *p, *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = s + strlen(s);
    }
    return s;
}

static void test_cases(void)
{
    char *text = slurp("handles.test");
    CHECK(text != NULL);
    if (!text)
        return;
    int ncases = 0;
    bool fail = false;
    char *p = text, *line;
    while ((line = next_line(&p))) {
        if (line[0] == '#' || (line[0] == '\0' && !fail))
            continue;
        if (strcmp(line, "%%FAIL") == 0) {
            fail = true;
            continue;
        }
        char *want = next_line(&p);
        CHECK(want != NULL);
        if (!want)
            break;
        ncases++;
        sb_val h = sb_handle_parse(line, strlen(line));
        if (fail) {
            CHECK(h.kind == SB_ERROR);
            CHECK_STR(h.kind == SB_ERROR ? sb_str(h) : "(no error)", want);
        } else {
            char *json = h.kind == SB_MAP ? sb_val_to_json(h, 0) : NULL;
            CHECK_STR(json ? json : (h.kind == SB_ERROR ? sb_str(h) : "(not a map)"), want);
            sb_free(json);
            /* Its text form reads back as the same handle (without tools). */
            sb_val t = h.kind == SB_MAP ? sb_handle_text(h) : sb_null();
            sb_val back = t.kind == SB_STRING ? sb_handle_parse(sb_str(t), sb_str_len(t)) : sb_null();
            CHECK(back.kind == SB_MAP && sb_str_eq(*sb_map_get_str(back, "id"), sb_handle_field(h, "id", "?")) &&
                  sb_handle_kind_of(back) == sb_handle_kind_of(h));
            sb_val_free(back);
            sb_val_free(t);
        }
        sb_val_free(h);
        cur_input = line;
        cur_len = strlen(line);
        sb_failalloc_until_enough(parse_once);
        fail = false;
    }
    CHECK(ncases >= 20);
}

/* The workspace decides which servers exist: named in the message, with the
 * kind and id; a workspace without servers: checks nothing. */
static void test_check_server(void)
{
    static const char ws_yaml[] = "version: 1\nservers:\n  solver: {transport: embedded, service: solver}\n"
                                  "  conductor: {transport: http, url: 'http://127.0.0.1:1/mcp'}\n";
    sb_diags *d = sb_diags_new();
    sb_val ws = sb_null();
    CHECK(sb_yaml_load("ws.yaml", ws_yaml, sizeof ws_yaml - 1, d, &ws));
    sb_val good = sb_handle_parse("conductor:conductor_handle:h_1", 30);
    sb_val bad = sb_handle_parse("gpu:mcp_task:t9", 15);
    sb_buf why = SB_BUF_INIT;
    CHECK(sb_handle_check_server(good, ws, &why) && why.len == 0);
    CHECK(!sb_handle_check_server(bad, ws, &why));
    CHECK_STR(sb_buf_str(&why), "unknown server 'gpu' for mcp_task t9 (the workspace defines: solver, conductor)");
    sb_buf_reset(&why);
    CHECK(sb_handle_check_server(bad, sb_null(), &why) && why.len == 0);
    /* An input of type handle: text or object, checked by sb_config_check_input. */
    sb_val decl = sb_map_new(1);
    sb_map_set_str(&decl, "type", sb_string_cstr("handle"));
    sb_val num = sb_int(3), txt = sb_string_cstr("conductor:conductor_handle");
    CHECK(sb_config_check_input(decl, good, &why));
    CHECK(!sb_config_check_input(decl, num, &why));
    sb_buf_reset(&why);
    CHECK(!sb_config_check_input(decl, txt, &why));
    CHECK_STR(sb_buf_str(&why),
              "expected a handle (SERVER:KIND:ID or an ExternalHandle object): column 27: expected ':' "
              "and the id after the kind (SERVER:KIND:ID)");
    sb_buf_reset(&why);
    CHECK(!sb_config_check_handle(decl, bad, ws, &why));
    sb_buf_free(&why);
    sb_val_free(txt);
    sb_val_free(decl);
    sb_val_free(good);
    sb_val_free(bad);
    sb_val_free(ws);
    sb_diags_free(d);
}

SB_TEST_MAIN(TEST(test_cases) TEST(test_check_server))
