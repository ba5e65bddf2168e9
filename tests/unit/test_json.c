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
    roundtrip("9007199254740993", "9007199254740993"); /* exact: integers are not read as doubles */
    roundtrip("18446744073709551615", "18446744073709551615");
    roundtrip("[\"a\\u0000b\"]", "[\"a\\u0000b\"]");
    roundtrip("1e300", "1e+300");
    roundtrip("{\"a\":1,\n \"b\": }", "line 2, column 7: expected a JSON value, found '}'");
    roundtrip("[1,2", "line 1, column 5: unexpected end of JSON text");
    roundtrip("", "line 1, column 1: unexpected end of JSON text");
    roundtrip("[1]x", "line 1, column 4: unexpected text after the JSON value, found 'x'");
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
    CHECK_STR(sb_str(v), "line 1, column 129: nesting deeper than 128 levels");
    sb_val_free(v);
}

/* The text need not end after the value: a number or literal at the end of
 * len bytes is read without looking past them (ASan checks). */
static void test_unterminated_buffer(void)
{
    const char *texts[] = {"12345", "1.5e3", "true", "\"ab\"", "[1,2]", "123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        size_t n = strlen(texts[i]);
        char *copy = malloc(n); /* no NUL after it */
        memcpy(copy, texts[i], n);
        sb_val v = sb_json_parse(copy, n);
        CHECK(v.kind != SB_ERROR);
        sb_val_free(v);
        free(copy);
    }
}

SB_TEST_MAIN(TEST(test_parse) TEST(test_nul_and_depth) TEST(test_unterminated_buffer))
