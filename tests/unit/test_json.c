#include "sb_test.h"
#include "json/sb_json.h"
#include "util/sb_alloc.h"
#include "sb_failalloc.h"

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

/* sb_json_round_trip(v) is what parsing v's JSON text gives: compared as
 * text, which tells 90 from 90.0. */
static void check_round_trip(sb_val v)
{
    char *text = sb_val_to_json(v, 0);
    sb_val parsed = text ? sb_json_parse(text, strlen(text)) : sb_oom();
    char *want = sb_val_to_json(parsed, 0);
    sb_val rt = sb_json_round_trip(v);
    char *got = sb_val_to_json(rt, 0);
    CHECK(rt.kind != SB_ERROR);
    CHECK_STR(got, want);
    sb_free(text);
    sb_free(want);
    sb_free(got);
    sb_val_free(parsed);
    sb_val_free(rt);
}

static void test_round_trip(void)
{
    static const double d[] = {90.0, -0.0, 0.5, 12.34, 1e20, 9007199254740992.0, 9007199254740994.0,
                                -3.0, 1.0 / 3.0, 6.30 + 1234 / 100.0, 1e300 * 1e10, 5e-324};
    for (size_t i = 0; i < sizeof d / sizeof *d; i++)
        check_round_trip(sb_double(d[i]));
    check_round_trip(sb_uint(7));
    check_round_trip(sb_uint(18446744073709551615ull));
    check_round_trip(sb_int(-5));
    check_round_trip(sb_string_cstr("a\"b\n"));
    check_round_trip(sb_bytes("\x01\xff", 2));
    check_round_trip(sb_error("boom"));
    /* nested: only what changes is rebuilt, the rest is shared */
    sb_val inner = sb_map_new(2), list = sb_list_new(3), m = sb_map_new(3);
    sb_map_set_str(&inner, "val_acc", sb_double(90.0));
    sb_map_set_str(&inner, "train_loss", sb_double(0.25));
    sb_list_push(&list, sb_double(2.0));
    sb_list_push(&list, sb_string_cstr("x"));
    sb_list_push(&list, sb_null());
    sb_map_set_str(&m, "metrics", inner);
    sb_map_set_str(&m, "list", list);
    sb_map_set_str(&m, "n", sb_int(3));
    check_round_trip(sb_val_ref(m));
    sb_val same = sb_map_new(1);
    sb_map_set_str(&same, "keep", sb_val_ref(*sb_map_get_str(m, "n")));
    sb_val rt = sb_json_round_trip(sb_val_ref(same));
    CHECK(rt.kind == SB_MAP && rt.as.o == same.as.o); /* nothing to change: the same object */
    sb_val_free(rt);
    sb_val_free(same);
    sb_val_free(m);
}

/* Out of memory anywhere in a round trip: sb_oom(), nothing leaked, the
 * input freed; with enough memory, the right value. */
static void test_round_trip_oom(void)
{
    bool done = false;
    for (long n = 0; n < 200 && !done; n++) {
        sb_val v = sb_map_new(3), jobs = sb_list_new(2), j1 = sb_map_new(2), m = sb_map_new(2), j2 = sb_map_new(1);
        sb_map_set_str(&m, "acc", sb_double(90.0));
        sb_map_set_str(&m, "loss", sb_double(0.25));
        sb_map_set_str(&j1, "id", sb_string_cstr("j1"));
        sb_map_set_str(&j1, "m", m);
        sb_map_set_str(&j2, "cost", sb_double(10.0));
        sb_list_push(&jobs, j1);
        sb_list_push(&jobs, j2);
        sb_map_set_str(&v, "jobs", jobs);
        sb_map_set_str(&v, "n", sb_int(2));
        sb_failalloc_arm(n);
        sb_val rt = sb_json_round_trip(v);
        sb_failalloc_disarm();
        if (rt.kind == SB_ERROR) {
            CHECK(sb_is_oom(rt));
        } else {
            char *got = sb_val_to_json(rt, 0);
            CHECK_STR(got, "{\"jobs\":[{\"id\":\"j1\",\"m\":{\"acc\":90,\"loss\":0.25}},{\"cost\":10}],\"n\":2}");
            sb_free(got);
            done = true;
        }
        sb_val_free(rt);
    }
    CHECK(done);
}

SB_TEST_MAIN(TEST(test_parse) TEST(test_nul_and_depth) TEST(test_unterminated_buffer) TEST(test_round_trip) TEST(test_round_trip_oom))
