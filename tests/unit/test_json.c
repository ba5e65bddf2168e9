#include "sb_test.h"
#include "json/sb_json.h"
#include "util/sb_alloc.h"

static void roundtrip(const char *in, const char *want)
{
    sb_val v = sb_json_parse(in, strlen(in));
    char *out = v.kind == SB_ERROR ? sb_strdup(sb_str(v)) : sb_val_to_json(v, 0);
    CHECK_STR(out, want);
    sb_free(out);
    sb_val_free(v);
}

static void test_parse(void)
{
    roundtrip("{\"a\": [1, 2.5, -3e2, true, null, \"x\"]}", "{\"a\":[1,2.5,-300,true,null,\"x\"]}");
    roundtrip("0.001", "0.001");
    roundtrip("9007199254740993", "9007199254740992");
    roundtrip("1e300", "1e+300");
    roundtrip("{\"a\":1,\n \"b\": }", "line 2, column 7: invalid JSON");
    roundtrip("[1,2", "line 1, column 4: invalid JSON");
    roundtrip("", "line 1, column 1: unexpected end of JSON text");
    roundtrip("[1]x", "line 1, column 4: invalid JSON");
}

static void test_nul_and_depth(void)
{
    sb_val v = sb_json_parse("[1]\0[2]", 7);
    CHECK(v.kind == SB_ERROR);
    sb_val_free(v);
    char deep[600];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    v = sb_json_parse(deep, 600);
    CHECK(v.kind == SB_ERROR);
    CHECK(strstr(sb_str(v), "nesting") != NULL);
    sb_val_free(v);
}

SB_TEST_MAIN(TEST(test_parse) TEST(test_nul_and_depth))
