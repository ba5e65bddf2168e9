#include "sb_test.h"
#include "sb_failalloc.h"
#include "value/sb_value.h"
#include "value/sb_time.h"
#include "util/sb_alloc.h"

static void test_scalars_and_json(void)
{
    sb_val m = sb_map_new(0);
    CHECK(sb_map_set_str(&m, "i", sb_int(-5)));
    CHECK(sb_map_set_str(&m, "min", sb_int(INT64_MIN)));
    CHECK(sb_map_set_str(&m, "z", sb_int(0)));
    CHECK(sb_map_set_str(&m, "u", sb_uint(18446744073709551615ULL)));
    CHECK(sb_map_set_str(&m, "d", sb_double(0.1)));
    CHECK(sb_map_set_str(&m, "w", sb_double(2.0)));
    CHECK(sb_map_set_str(&m, "h", sb_double(500.0)));
    CHECK(sb_map_set_str(&m, "s", sb_string("a\"b\n", 4)));
    CHECK(sb_map_set_str(&m, "b", sb_bytes("\x01\xff", 2)));
    CHECK(sb_map_set_str(&m, "n", sb_null()));
    CHECK(sb_map_set_str(&m, "e", sb_string("x\x01\\\t\r\b\f\x1f\x7f\xc3\xa9/", 12)));
    char *j = sb_val_to_json(m, 0);
    CHECK_STR(j, "{\"i\":-5,\"min\":-9223372036854775808,\"z\":0,\"u\":18446744073709551615,\"d\":0.1,\"w\":2.0,\"h\":500.0,\"s\":\"a\\\"b\\n\",\"b\":\"Af8=\",\"n\":null,\"e\":\"x\\u0001\\\\\\t\\r\\b\\f\\u001f\x7f\xc3\xa9/\"}");
    sb_free(j);
    sb_val_free(m);
}

static void test_numeric_equality(void)
{
    CHECK(sb_val_equal(sb_int(1), sb_uint(1)));
    CHECK(sb_val_equal(sb_int(1), sb_double(1.0)));
    CHECK(!sb_val_equal(sb_int(-1), sb_uint(18446744073709551615ULL)));
    CHECK(!sb_val_equal(sb_double(NAN), sb_double(NAN)));
    CHECK(!sb_val_equal(sb_int(9007199254740993LL), sb_double(9007199254740992.0)));
    CHECK(sb_val_hash(sb_int(3)) == sb_val_hash(sb_double(3.0)));
    CHECK(sb_val_hash(sb_int(3)) == sb_val_hash(sb_uint(3)));
}

static void test_map_index_and_remove(void)
{
    sb_val m = sb_map_new(0);
    char k[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "k%d", i);
        CHECK(sb_map_set_str(&m, k, sb_int(i)));
    }
    CHECK_INT(sb_map_len(m), 1000);
    CHECK_INT(sb_map_get_str(m, "k777")->as.i, 777);
    CHECK(sb_map_set_str(&m, "k5", sb_int(-1)));
    CHECK_INT(sb_map_len(m), 1000);
    CHECK_INT(sb_map_get_str(m, "k5")->as.i, -1);
    sb_val key = sb_string_cstr("k10");
    CHECK(sb_map_remove(&m, key));
    CHECK(sb_map_get(m, key) == NULL);
    CHECK_INT(sb_map_get_str(m, "k11")->as.i, 11);
    CHECK_STR(sb_str(*sb_map_key_at(m, 10)), "k11"); /* order kept */
    sb_val_free(key);
    /* int keys found by uint and double keys */
    sb_val n = sb_map_new(0);
    CHECK(sb_map_set(&n, sb_int(2), sb_string_cstr("two")));
    CHECK(sb_map_get(n, sb_uint(2)) != NULL);
    CHECK(sb_map_get(n, sb_double(2.0)) != NULL);
    sb_val_free(n);
    sb_val_free(m);
}

static void test_sharing_is_immutable(void)
{
    sb_val l = sb_list_new(0);
    CHECK(sb_list_push(&l, sb_int(1)));
    sb_val r = sb_val_ref(l);
    CHECK(!sb_list_push(&l, sb_int(2))); /* shared: refused */
    sb_val c = sb_val_clone(l);
    CHECK(sb_list_push(&c, sb_int(2)));
    CHECK_INT(sb_list_len(l), 1);
    CHECK_INT(sb_list_len(c), 2);
    sb_val_free(r);
    sb_val_free(l);
    sb_val_free(c);
}

/* Keys made by sb_map_set_str are shared between maps (one object per
 * distinct short key), and everything is returned when the last map goes:
 * counted here through the allocation hook. */
static long live_allocs;
static void *counting_alloc(void *ud, void *p, size_t n)
{
    (void)ud;
    if (n == 0) {
        live_allocs -= p != NULL;
        free(p);
        return NULL;
    }
    void *q = realloc(p, n);
    live_allocs += q && !p;
    return q;
}

static void test_shared_keys(void)
{
    live_allocs = 0;
    sb_alloc_set(counting_alloc, NULL);
    sb_val maps[50];
    char longkey[80];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    for (int i = 0; i < 50; i++) {
        maps[i] = sb_map_new(0);
        CHECK(sb_map_set_str(&maps[i], "job_id", sb_int(i)));
        CHECK(sb_map_set_str(&maps[i], "learning_rate", sb_double(0.001)));
        CHECK(sb_map_set_str(&maps[i], longkey, sb_null()));
    }
    CHECK(sb_str(*sb_map_key_at(maps[0], 0)) == sb_str(*sb_map_key_at(maps[49], 0)));
    CHECK(sb_str(*sb_map_key_at(maps[0], 1)) == sb_str(*sb_map_key_at(maps[49], 1)));
    CHECK(sb_str(*sb_map_key_at(maps[0], 2)) != sb_str(*sb_map_key_at(maps[49], 2))); /* too long to share */
    CHECK_INT(sb_map_get_str(maps[7], "job_id")->as.i, 7);
    /* a shared key is an ordinary string to everything else */
    sb_val k = sb_string_key("job_id", 6);
    CHECK(sb_val_equal(k, *sb_map_key_at(maps[3], 0)));
    CHECK(sb_map_get(maps[3], k) != NULL);
    /* equality: same text, shared or not, is equal; distinct shared keys differ */
    sb_val plain = sb_string_cstr("job_id"), other = sb_string_key("job_ie", 6);
    CHECK(sb_val_equal(k, plain) && sb_val_equal(plain, k));
    CHECK(!sb_val_equal(k, other) && !sb_val_equal(other, k));
    CHECK(sb_map_get(maps[3], plain) != NULL && sb_map_get(maps[3], other) == NULL);
    sb_val_free(plain);
    sb_val_free(other);
    sb_val_free(k);
    for (int i = 0; i < 50; i++)
        sb_val_free(maps[i]);
    CHECK_INT(live_allocs, 0);
    /* and made afresh after the last one went */
    sb_val m = sb_map_new(0);
    CHECK(sb_map_set_str(&m, "job_id", sb_int(1)));
    CHECK_STR(sb_str(*sb_map_key_at(m, 0)), "job_id");
    sb_val_free(m);
    CHECK_INT(live_allocs, 0);
    sb_alloc_set(NULL, NULL);
}

/* sb_buf_double writes the shortest %g text that reads back as the same
 * double (it checks most candidates without strtod): compared here with the
 * plain definition, strtod on every precision, over decimal-looking values,
 * powers of two, extremes and random bit patterns. */
static void check_shortest(double d)
{
    if (!isfinite(d))
        return;
    sb_buf b = SB_BUF_INIT;
    sb_buf_double(&b, d);
    char want[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(want, sizeof want, "%.*g", p, d);
        if (strtod(want, NULL) == d)
            break;
    }
    if (strpbrk(want, "eE") && d == floor(d) && fabs(d) < 1e16)
        snprintf(want, sizeof want, "%.1f", d);
    if (!strpbrk(want, ".eEn"))
        strcat(want, ".0");
    CHECK_STR(sb_buf_str(&b), want);
    sb_buf_free(&b);
}

static void test_double_text(void)
{
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double bits;
        memcpy(&bits, &x, sizeof bits);
        check_shortest(bits);
        check_shortest((double)(int64_t)(x % 2000001) / 100.0 - 10000.0);
        check_shortest((double)(x % 100000) * 1e-7);
        check_shortest((double)(x % 1000) * 1e20);
        check_shortest(ldexp(1.0, (int)(x % 2000) - 1000));
        check_shortest((double)(x % 1000000) / pow(10.0, (double)(x % 40)));
        check_shortest(-(double)(x % 100000000000) * pow(10.0, (double)(x % 30) - 20));
        /* sums and quotients of decimals (costs, accuracies): mostly 15-17 digits */
        check_shortest(60.0 + (double)(x % 3000) / 100.0);
        check_shortest((6.30 + (double)((x >> 12) % 1260) / 100.0) / 4.0);
        check_shortest((double)(x % 1000) * 0.1 + (double)((x >> 20) % 1000) * 0.01);
        check_shortest(1.0 / (double)(x % 9999 + 1));
        check_shortest(sqrt((double)(x % 1000000)) * 1e-3);
    }
    const double edge[] = {0.0, -0.0, 0.1, 0.3, 1e22, 1e23, 9007199254740993.0, 5e-324, 1.7976931348623157e308,
                           2.2250738585072014e-308, 123456789012345.6, 0.000123456789012345};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
        check_shortest(edge[i]);
}

/* Durations are scalars, timestamps heap objects: both compare, hash and
 * print as JSON text (RFC 3339 in UTC, seconds), and free cleanly. */
static void test_time_values(void)
{
    sb_val t = sb_timestamp(1234567890, 500000000), u = sb_timestamp(1234567890, 500000000);
    sb_val d = sb_duration(-1500000000);
    CHECK(t.kind == SB_TIMESTAMP && sb_timestamp_sec(t) == 1234567890 && sb_timestamp_nsec(t) == 500000000);
    CHECK(sb_val_equal(t, u) && sb_val_hash(t) == sb_val_hash(u));
    CHECK(!sb_val_equal(sb_duration(1), sb_int(1)) && sb_val_equal(d, sb_duration(-1500000000)));
    CHECK(sb_timestamp_sec(d) == 0 && sb_str_len(t) == 0 && sb_str(d)[0] == '\0');
    sb_val l = sb_list_new(0);
    CHECK(sb_list_push(&l, sb_val_ref(t)) && sb_list_push(&l, d) && sb_list_push(&l, sb_timestamp(SB_TS_MIN_SEC, 1)));
    char *j = sb_val_to_json(l, 0);
    CHECK_STR(j, "[\"2009-02-13T23:31:30.5Z\",\"-1.5s\",\"0001-01-01T00:00:00.000000001Z\"]");
    sb_free(j);
    sb_val c = sb_val_clone(l);
    CHECK(sb_val_equal(c, l));
    sb_val_free(c);
    sb_val_free(l);
    sb_val_free(t);
    sb_val_free(u);
    CHECK_STR(sb_kind_name(SB_TIMESTAMP), "timestamp");
    sb_failalloc_arm(0);
    CHECK(sb_is_oom(sb_timestamp(0, 0)));
    sb_failalloc_disarm();
}

/* An optional owns its value; none is static; JSON shows the value or null. */
static void test_optional_values(void)
{
    sb_val o = sb_optional(sb_string_cstr("x")), n = sb_optional_none();
    CHECK(o.kind == SB_OPTIONAL && sb_str_eq(*sb_optional_value(o), "x") && !sb_optional_value(n));
    CHECK(!sb_optional_value(sb_int(1)) && !sb_val_equal(o, n) && sb_val_equal(n, sb_optional_none()));
    sb_val p = sb_optional(sb_string_cstr("x"));
    CHECK(sb_val_equal(o, p) && sb_val_hash(o) == sb_val_hash(p));
    sb_val l = sb_list_new(0);
    CHECK(sb_list_push(&l, o) && sb_list_push(&l, n));
    char *j = sb_val_to_json(l, 0);
    CHECK_STR(j, "[\"x\",null]");
    sb_free(j);
    sb_val_free(l);
    sb_val_free(p);
    sb_val_free(n); /* static: nothing happens */
    sb_val e = sb_optional(sb_error("e")); /* an error passes through */
    CHECK(e.kind == SB_ERROR && sb_str_eq(e, "e") == false && strcmp(sb_str(e), "e") == 0);
    sb_val_free(e);
    sb_failalloc_arm(0);
    CHECK(sb_is_oom(sb_optional(sb_int(3))));
    sb_failalloc_disarm();
}

/* The dotted-key answer is kept in the map and follows changes of its keys. */
static void test_dotted_keys(void)
{
    sb_val m = sb_map_new(0);
    CHECK(!sb_map_has_dotted_key(m) && !sb_map_has_dotted_key(sb_int(1)));
    CHECK(sb_map_set_str(&m, "a", sb_int(1)) && !sb_map_has_dotted_key(m));
    CHECK(sb_map_set_str(&m, "a.b", sb_int(2)) && sb_map_has_dotted_key(m));
    CHECK(sb_map_set_str(&m, "a.b", sb_int(3)) && sb_map_has_dotted_key(m));
    sb_val k = sb_string_cstr("a.b");
    CHECK(sb_map_remove(&m, k) && !sb_map_has_dotted_key(m));
    sb_val_free(k);
    CHECK(sb_map_set(&m, sb_int(5), sb_string_cstr("x.y")) && !sb_map_has_dotted_key(m));
    sb_val_free(m);
}

/* Calendar conversion round-trips over the whole range, and the text forms
 * read back. */
static void test_time_text(void)
{
    for (int64_t days = sb_time_floor_div(SB_TS_MIN_SEC, 86400); days <= SB_TS_MAX_SEC / 86400; days += 997) {
        int64_t y;
        int m, d;
        sb_time_civil(days, &y, &m, &d);
        CHECK(sb_time_days(y, m, d) == days && y >= 1 && y <= 9999);
    }
    int64_t sec;
    int32_t ns;
    CHECK(sb_time_parse_ts("9999-12-31T23:59:59.999999999Z", 30, &sec, &ns) && sec == SB_TS_MAX_SEC && ns == 999999999);
    CHECK(!sb_time_parse_ts("9999-12-31T23:59:59-00:01", 25, &sec, &ns));
    CHECK(sb_time_parse_ts("2000-02-29T01:00:00+01:00", 25, &sec, &ns) && sec == 951782400);
    CHECK(!sb_time_parse_ts("1900-02-29T00:00:00Z", 20, &sec, &ns));
    sb_buf b = SB_BUF_INIT;
    sb_time_write_ts(&b, -1, 0);
    sb_time_write_dur(&b, INT64_MIN);
    CHECK_STR(sb_buf_str(&b), "1969-12-31T23:59:59Z-9223372036.854775808s");
    sb_buf_free(&b);
    int64_t d;
    CHECK(sb_time_parse_dur("-9223372036.854775808s", 22, &d) == 0 && d == INT64_MIN);
    CHECK(sb_time_parse_dur("9223372036.854775808s", 21, &d) == -2);
    CHECK(sb_time_parse_dur("1h1m1s1ms1us1ns", 15, &d) == 0 && d == 3661001001001LL);
    CHECK(sb_time_parse_dur("+.5m", 4, &d) == 0 && d == 30000000000LL);
    CHECK(sb_time_parse_dur("1", 1, &d) == -1 && sb_time_parse_dur("-", 1, &d) == -1);
    CHECK(sb_time_parse_dur("99999999999999999999h", 21, &d) == -2);
    /* the fraction must not wrap an almost full total around */
    CHECK(sb_time_parse_dur("18446744073.9999999999s", 23, &d) == -2);
}

static void test_oom_is_clean(void)
{
    for (long n = 0; n < 60; n++) {
        sb_failalloc_left = n;
        sb_alloc_set(sb_failalloc_fn, NULL);
        sb_val m = sb_map_new(0);
        for (int i = 0; i < 20 && m.kind == SB_MAP; i++) {
            char k[8];
            snprintf(k, sizeof k, "%d", i);
            sb_map_set_str(&m, k, sb_string_cstr("value"));
        }
        char *j = sb_val_to_json(m, SB_JSON_PRETTY);
        sb_free(j);
        sb_val_free(m);
        sb_alloc_set(NULL, NULL);
    }
    CHECK(sb_is_oom(sb_oom()));
    CHECK_STR(sb_str(sb_oom()), "out of memory");
}

SB_TEST_MAIN(TEST(test_scalars_and_json) TEST(test_numeric_equality) TEST(test_map_index_and_remove)
                 TEST(test_sharing_is_immutable) TEST(test_double_text) TEST(test_shared_keys) TEST(test_time_values) TEST(test_optional_values) TEST(test_dotted_keys)
                 TEST(test_time_text) TEST(test_oom_is_clean))
