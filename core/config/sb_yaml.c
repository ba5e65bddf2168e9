#include "sb_yaml.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "../util/sb_alloc.h"

typedef struct loader {
    yaml_parser_t parser;
    const char *file;
    sb_diags *diags;
    size_t nodes;
    size_t events;
    bool failed;
    /* A limit (depth, node count) was hit: read no further event. Skipping
     * the rest would cost time superlinear in the input (libyaml's scanner
     * does work proportional to the flow depth for every token), and one
     * error already says the document is refused. */
    bool stop;
} loader;

static sb_yaml_stats g_last_stats;

sb_yaml_stats sb_yaml__last_stats(void) { return g_last_stats; }

static void fail(loader *L, const yaml_mark_t *m, const char *fmt, const char *arg)
{
    sb_diags_add(L->diags, L->file, m ? (uint32_t)m->line + 1 : 0, m ? (uint32_t)m->column + 1 : 0, fmt, arg);
    L->failed = true;
}

static bool in(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0)
            return true;
    return false;
}

static bool match_int(const char *s, size_t n, int *base, size_t *start)
{
    size_t i = 0;
    if (n >= 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        *base = s[1] == 'o' ? 8 : 16;
        *start = 2;
        if (n == 2)
            return false;
        for (i = 2; i < n; i++) {
            char c = s[i];
            bool ok = *base == 8 ? (c >= '0' && c <= '7')
                                 : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
            if (!ok)
                return false;
        }
        return true;
    }
    *base = 10;
    *start = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool match_float(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        size_t frac = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, frac++;
        if (!digits && !frac)
            return false;
    } else if (!digits) {
        return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t ed = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, ed++;
        if (!ed)
            return false;
    }
    return i == n;
}

sb_val sb_yaml_resolve_plain(const char *s, size_t n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const infs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninfs[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    if (in(s, n, nulls))
        return sb_null();
    if (in(s, n, trues))
        return sb_bool(true);
    if (in(s, n, falses))
        return sb_bool(false);
    if (in(s, n, infs))
        return sb_double(INFINITY);
    if (in(s, n, ninfs))
        return sb_double(-INFINITY);
    if (in(s, n, nans))
        return sb_double(NAN);
    char tmp[64];
    int base;
    size_t start;
    if (n < sizeof tmp && match_int(s, n, &base, &start)) {
        memcpy(tmp, s + start, n - start);
        tmp[n - start] = '\0';
        errno = 0;
        char *end;
        if (base == 10) {
            long long v = strtoll(tmp, &end, 10);
            if (errno == ERANGE)
                return sb_errorf("integer %s is out of range (int64)", tmp);
            return sb_int(v);
        }
        unsigned long long v = strtoull(tmp, &end, base);
        if (errno == ERANGE || v > (unsigned long long)INT64_MAX)
            return sb_errorf("integer %.*s is out of range (int64)", (int)n, s);
        return sb_int((int64_t)v);
    }
    if (n < sizeof tmp && match_float(s, n)) {
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        return sb_double(strtod(tmp, NULL));
    }
    return sb_string(s, n);
}

static bool next(loader *L, yaml_event_t *ev)
{
    if (L->stop)
        return false;
    L->events++;
    if (!yaml_parser_parse(&L->parser, ev)) {
        const yaml_parser_t *p = &L->parser;
        const char *what = p->problem ? p->problem : "invalid YAML";
        if (p->error == YAML_MEMORY_ERROR)
            what = "out of memory";
        sb_diags_add(L->diags, L->file, (uint32_t)p->problem_mark.line + 1, (uint32_t)p->problem_mark.column + 1,
                     "%s%s%s", what, p->context ? " " : "", p->context ? p->context : "");
        L->failed = true;
        return false;
    }
    return true;
}

static const char *core_tag(const yaml_char_t *tag)
{
    static const char *const ok[] = {YAML_STR_TAG, YAML_INT_TAG, YAML_FLOAT_TAG, YAML_BOOL_TAG,
                                     YAML_NULL_TAG, YAML_MAP_TAG, YAML_SEQ_TAG, NULL};
    for (int i = 0; ok[i]; i++)
        if (strcmp((const char *)tag, ok[i]) == 0)
            return ok[i];
    return NULL;
}

static sb_val scalar(loader *L, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const yaml_mark_t *m = &ev->start_mark;
    const char *tag = ev->data.scalar.tag ? core_tag(ev->data.scalar.tag) : NULL;
    sb_val v;
    if (ev->data.scalar.tag && !tag) {
        fail(L, m, "unsupported tag %s (only the YAML core tags !!str !!int !!float !!bool !!null)",
             (const char *)ev->data.scalar.tag);
        return sb_null();
    }
    if (tag && strcmp(tag, YAML_STR_TAG) == 0) {
        v = sb_string(s, n);
    } else if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE && !tag) {
        v = sb_string(s, n);
        v.flags |= SB_F_QUOTED;
    } else {
        v = sb_yaml_resolve_plain(s, n);
        if (v.kind == SB_ERROR) {
            fail(L, m, "%s", sb_str(v));
            sb_val_free(v);
            return sb_null();
        }
        if (tag) {
            bool ok = (strcmp(tag, YAML_INT_TAG) == 0 && v.kind == SB_INT) ||
                      (strcmp(tag, YAML_FLOAT_TAG) == 0 && (v.kind == SB_DOUBLE || v.kind == SB_INT)) ||
                      (strcmp(tag, YAML_BOOL_TAG) == 0 && v.kind == SB_BOOL) ||
                      (strcmp(tag, YAML_NULL_TAG) == 0 && v.kind == SB_NULL);
            if (!ok) {
                fail(L, m, "value does not match its tag %s", tag);
                sb_val_free(v);
                return sb_null();
            }
            if (strcmp(tag, YAML_FLOAT_TAG) == 0 && v.kind == SB_INT)
                v = sb_double((double)v.as.i);
        }
    }
    if (sb_is_oom(v)) {
        fail(L, m, "%s", "out of memory");
        return sb_null();
    }
    return sb_at_pos(v, (uint32_t)m->line + 1, (uint32_t)m->column + 1);
}

static sb_val node(loader *L, yaml_event_t *ev, int depth);

/* The key as first written in map (it carries the first definition's
 * position). A lookup, not a scan: a file of N duplicate keys must not take
 * time quadratic in N. */
static const sb_val *first_key(sb_val map, sb_val key)
{
    size_t i = sb_map_find(map, key);
    return i == (size_t)-1 ? NULL : sb_map_key_at(map, i);
}

/* Reads the items after a SEQUENCE-START/MAPPING-START event until the
 * matching END, always consuming it so the parser stays in step. */
static sb_val collection(loader *L, yaml_event_t *start, int depth)
{
    bool is_map = start->type == YAML_MAPPING_START_EVENT;
    const yaml_mark_t m = start->start_mark;
    yaml_char_t *tag = is_map ? start->data.mapping_start.tag : start->data.sequence_start.tag;
    if (tag && (!core_tag(tag) || strcmp((const char *)tag, is_map ? YAML_MAP_TAG : YAML_SEQ_TAG) != 0))
        fail(L, &m, "unsupported tag %s", (const char *)tag);
    sb_val out = is_map ? sb_map_new(0) : sb_list_new(0);
    if (sb_is_oom(out)) {
        fail(L, &m, "%s", "out of memory");
        out = sb_null();
    }
    out = sb_at_pos(out, (uint32_t)m.line + 1, (uint32_t)m.column + 1);
    for (;;) {
        yaml_event_t ev;
        if (!next(L, &ev))
            return out;
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return out;
        }
        if (!is_map) {
            sb_val item = node(L, &ev, depth + 1);
            yaml_event_delete(&ev);
            if (!L->failed && !sb_list_push(&out, item))
                fail(L, &m, "%s", "out of memory");
            else if (L->failed)
                sb_val_free(item);
            if (L->failed && L->parser.error != YAML_NO_ERROR)
                return out;
            continue;
        }
        /* key */
        yaml_mark_t km = ev.start_mark;
        sb_val key;
        if (ev.type != YAML_SCALAR_EVENT) {
            fail(L, &km, "%s", "mapping keys must be plain strings, not collections or aliases");
            key = node(L, &ev, depth + 1);
            sb_val_free(key);
            key = sb_null();
        } else {
            key = sb_string((const char *)ev.data.scalar.value, ev.data.scalar.length);
            if (sb_is_oom(key))
                fail(L, &km, "%s", "out of memory"); /* else the entry would vanish silently */
            key = sb_at_pos(key, (uint32_t)km.line + 1, (uint32_t)km.column + 1);
            if (ev.data.scalar.anchor)
                fail(L, &km, "anchor &%s: anchors and aliases are not supported", (const char *)ev.data.scalar.anchor);
        }
        yaml_event_delete(&ev);
        /* value */
        yaml_event_t vev;
        if (!next(L, &vev)) {
            sb_val_free(key);
            return out;
        }
        sb_val val = node(L, &vev, depth + 1);
        yaml_event_delete(&vev);
        if (key.kind == SB_STRING && out.kind == SB_MAP) {
            const sb_val *pk = first_key(out, key);
            if (pk) {
                sb_diags_add(L->diags, L->file, km.line + 1, km.column + 1,
                             "duplicate key '%s' (first defined at line %u)", sb_str(key),
                             pk ? (unsigned)pk->line : 0u);
                L->failed = true;
                sb_val_free(key);
                sb_val_free(val);
            } else if (!sb_map_set(&out, key, val)) {
                fail(L, &km, "%s", "out of memory");
            }
        } else {
            sb_val_free(key);
            sb_val_free(val);
        }
        if (L->parser.error != YAML_NO_ERROR)
            return out;
    }
}

static sb_val node(loader *L, yaml_event_t *ev, int depth)
{
    if (++L->nodes > SB_YAML_MAX_NODES) {
        if (L->nodes == SB_YAML_MAX_NODES + 1)
            sb_diags_add(L->diags, L->file, (uint32_t)ev->start_mark.line + 1, (uint32_t)ev->start_mark.column + 1,
                         "document too large: more than %d nodes", SB_YAML_MAX_NODES);
        L->failed = true;
        L->stop = true;
        return sb_null();
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        fail(L, &ev->start_mark, "alias *%s: anchors and aliases are not supported", (const char *)ev->data.alias.anchor);
        return sb_null();
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.anchor)
            fail(L, &ev->start_mark, "anchor &%s: anchors and aliases are not supported",
                 (const char *)ev->data.scalar.anchor);
        return scalar(L, ev);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        yaml_char_t *anchor = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
                                                                    : ev->data.sequence_start.anchor;
        if (anchor)
            fail(L, &ev->start_mark, "anchor &%s: anchors and aliases are not supported", (const char *)anchor);
        /* depth counts the collections around this one: the root is level 1. */
        if (depth >= SB_YAML_MAX_DEPTH) {
            sb_diags_add(L->diags, L->file, (uint32_t)ev->start_mark.line + 1, (uint32_t)ev->start_mark.column + 1,
                         "nesting deeper than %d levels", SB_YAML_MAX_DEPTH);
            L->failed = true;
            L->stop = true;
            return sb_null();
        }
        return collection(L, ev, depth);
    }
    default:
        fail(L, &ev->start_mark, "%s", "unexpected YAML event");
        return sb_null();
    }
}

bool sb_yaml_load(const char *file, const char *text, size_t len, sb_diags *d, sb_val *out)
{
    *out = sb_null();
    memset(&g_last_stats, 0, sizeof g_last_stats);
    loader L;
    memset(&L, 0, sizeof L);
    L.file = file;
    L.diags = d;
    if (len > SB_YAML_MAX_BYTES) {
        sb_diags_add(d, file, 0, 0, "file too large: %zu bytes (limit %u)", len, (unsigned)SB_YAML_MAX_BYTES);
        return false;
    }
    if (!yaml_parser_initialize(&L.parser)) {
        sb_diags_add(d, file, 0, 0, "out of memory");
        return false;
    }
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)text, len);
    sb_val root = sb_null();
    int docs = 0;
    for (;;) {
        yaml_event_t ev;
        if (!next(&L, &ev))
            break;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            if (++docs > 1) {
                fail(&L, &ev.start_mark, "%s", "more than one YAML document in the file (only one is read)");
                yaml_event_delete(&ev);
                break;
            }
        } else if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT ||
                   t == YAML_ALIAS_EVENT) {
            sb_val_free(root);
            root = node(&L, &ev, 0);
        }
        yaml_event_delete(&ev);
        if (L.parser.error != YAML_NO_ERROR || L.stop)
            break;
    }
    g_last_stats.events = L.events;
    g_last_stats.bytes_scanned = L.parser.mark.index;
    yaml_parser_delete(&L.parser);
    if (L.failed) {
        sb_val_free(root);
        return false;
    }
    *out = root;
    return true;
}
