#include "sb_test.h"
#include "config/sb_yaml.h"
#include "util/sb_alloc.h"

static char *load(const char *text)
{
    sb_diags *d = sb_diags_new();
    sb_val v;
    char *out;
    if (sb_yaml_load("t.yaml", text, strlen(text), d, &v)) {
        out = sb_val_to_json(v, 0);
    } else {
        sb_buf b = SB_BUF_INIT;
        sb_diags_sort(d);
        sb_diags_write(d, &b);
        out = sb_buf_take(&b);
    }
    sb_val_free(v);
    sb_diags_free(d);
    return out;
}

#define LOADS(text, want)                                                                                         \
    do {                                                                                                          \
        char *o_ = load(text);                                                                                    \
        CHECK_STR(o_, want);                                                                                      \
        sb_free(o_);                                                                                              \
    } while (0)

static void test_core_schema(void)
{
    LOADS("a: 1e-3\nb: yes\nc: ~\nd: 0x1F\ne: 0o17\nf: -.inf\ng: '12'\nh: 1_000\ni: True\nj: 2.\nk: .5\n",
          "{\"a\":0.001,\"b\":\"yes\",\"c\":null,\"d\":31,\"e\":15,\"f\":null,\"g\":\"12\",\"h\":\"1_000\","
          "\"i\":true,\"j\":2.0,\"k\":0.5}");
    LOADS("- !!str 12\n- !!float 3\n- \"true\"\n", "[\"12\",3.0,\"true\"]");
    LOADS("", "null");
}

static void test_positions(void)
{
    const char *text = "top:\n  key: [1, 2]\n  other: x\n";
    sb_diags *d = sb_diags_new();
    sb_val v;
    CHECK(sb_yaml_load("t.yaml", text, strlen(text), d, &v));
    const sb_val *top = sb_map_get_str(v, "top");
    CHECK_INT(top->line, 2);
    CHECK_INT(top->col, 3);
    const sb_val *key = sb_map_get_str(*top, "key");
    CHECK_INT(key->line, 2);
    CHECK_INT(key->col, 8);
    CHECK_INT(sb_list_at(*key, 1)->col, 12);
    CHECK_INT(sb_map_key_at(*top, 1)->line, 3);
    CHECK_INT(sb_map_key_at(*top, 1)->col, 3);
    sb_val_free(v);
    sb_diags_free(d);
}

static void test_errors(void)
{
    LOADS("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: error: duplicate key 'a' (first defined at line 1)\n");
    LOADS("a: &x 1\nb: *x\n", "t.yaml:1:4: error: anchor &x: anchors and aliases are not supported\n"
                              "t.yaml:2:4: error: alias *x: anchors and aliases are not supported\n");
    LOADS("a: !custom 1\n", "t.yaml:1:4: error: unsupported tag !custom (only the YAML core tags !!str !!int "
                            "!!float !!bool !!null)\n");
    LOADS("a: 99999999999999999999\n", "t.yaml:1:4: error: integer 99999999999999999999 is out of range (int64)\n");
    LOADS("a: [1, 2\n", "t.yaml:2:1: error: did not find expected ',' or ']' while parsing a flow sequence\n");
    LOADS("a: 1\n---\nb: 2\n", "t.yaml:2:1: error: more than one YAML document in the file (only one is read)\n");
    LOADS("? [a]\n: 1\n", "t.yaml:1:3: error: mapping keys must be plain strings, not collections or aliases\n");
    LOADS("a: !!int x\n", "t.yaml:1:4: error: value does not match its tag tag:yaml.org,2002:int\n");
}

static void test_limits(void)
{
    char deep[400];
    int n = 0;
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    char *o = load(deep);
    CHECK(strstr(o, "t.yaml:1:65: error: nesting deeper than 64 levels") == o);
    sb_free(o);
}

/* A limit error ends the load: 4 MiB of '[' is refused after the 65th event,
 * not after reading (in time quadratic in the depth) every bracket. Work is
 * counted in parser events and scanned bytes, so the test does not time
 * anything. SB_YAML_TEST_BRACKETS makes the input smaller, to show the old
 * behaviour without waiting for it. */
static void test_limit_stops_early(void)
{
    size_t n = 4u << 20;
    const char *env = getenv("SB_YAML_TEST_BRACKETS");
    if (env)
        n = (size_t)strtoul(env, NULL, 10);
    char *text = malloc(n);
    CHECK(text != NULL);
    if (!text)
        return;
    memset(text, '[', n);
    sb_diags *d = sb_diags_new();
    sb_val v;
    CHECK(!sb_yaml_load("t.yaml", text, n, d, &v));
    sb_buf b = SB_BUF_INIT;
    sb_diags_write(d, &b);
    CHECK_STR(sb_buf_str(&b), "t.yaml:1:65: error: nesting deeper than 64 levels\n");
    sb_yaml_stats st = sb_yaml__last_stats();
    CHECK(st.events <= 70);
    CHECK(st.bytes_scanned <= 4096); /* libyaml looks 1024 characters ahead for a key */
    sb_buf_free(&b);
    sb_diags_free(d);
    free(text);
}

/* The node limit also ends the load at once: the events read stop at the
 * first node over the limit, however long the document goes on. */
static void test_node_limit_stops_early(void)
{
    size_t items = SB_YAML_MAX_NODES + 50000;
    sb_buf t = SB_BUF_INIT;
    sb_buf_putc(&t, '[');
    for (size_t i = 0; i < items; i++)
        sb_buf_puts(&t, "0,");
    sb_buf_putc(&t, ']');
    CHECK(!sb_buf_failed(&t));
    sb_diags *d = sb_diags_new();
    sb_val v;
    CHECK(!sb_yaml_load("t.yaml", sb_buf_str(&t), t.len, d, &v));
    CHECK_INT(sb_diags_count(d), 1);
    sb_yaml_stats st = sb_yaml__last_stats();
    CHECK(st.events <= (size_t)SB_YAML_MAX_NODES + 5);
    sb_diags_free(d);
    sb_buf_free(&t);
}

/* Each duplicate key names the line of the first definition (found by a
 * lookup: N duplicates used to take N scans of N entries). */
static void test_duplicates_linear(void)
{
    size_t n = 5000;
    sb_buf t = SB_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        sb_buf_printf(&t, "k%zu: 1\n", i);
    for (size_t i = 0; i < n; i++)
        sb_buf_printf(&t, "k%zu: 2\n", n - 1 - i);
    sb_diags *d = sb_diags_new();
    sb_val v;
    CHECK(!sb_yaml_load("t.yaml", sb_buf_str(&t), t.len, d, &v));
    CHECK_INT(sb_diags_count(d), n);
    sb_diags_sort(d);
    const sb_diag *first = sb_diags_at(d, 0);
    CHECK(first && strcmp(first->msg, "duplicate key 'k4999' (first defined at line 5000)") == 0);
    sb_diags_free(d);
    sb_buf_free(&t);
}

SB_TEST_MAIN(TEST(test_duplicates_linear) TEST(test_core_schema) TEST(test_positions) TEST(test_errors) TEST(test_limits)
                 TEST(test_limit_stops_early) TEST(test_node_limit_stops_early))
