#include "sb_schema_common.h"

#include <math.h>
#include <string.h>

#include "../json/sb_json.h"

typedef struct checker {
    const char *file;
    sb_diags *d;
    bool ok;
} checker;

static void report(checker *c, sb_val at, const char *path, const char *msg)
{
    c->ok = false;
    if (path && *path)
        sb_diags_add(c->d, c->file, at.line, at.col, "%s: %s", path, msg);
    else
        sb_diags_add(c->d, c->file, at.line, at.col, "%s", msg);
}

void sb_schema__describe(sb_buf *out, sb_val v)
{
    switch (v.kind) {
    case SB_NULL: sb_buf_puts(out, "null"); break;
    case SB_BOOL: sb_buf_puts(out, v.as.b ? "boolean true" : "boolean false"); break;
    case SB_INT: sb_buf_printf(out, "integer %lld", (long long)v.as.i); break;
    case SB_UINT: sb_buf_printf(out, "integer %llu", (unsigned long long)v.as.u); break;
    case SB_DOUBLE:
        if (isnan(v.as.d))
            sb_buf_puts(out, "NaN (not a number)");
        else if (isinf(v.as.d))
            sb_buf_puts(out, v.as.d > 0 ? "infinity" : "minus infinity");
        else
            sb_buf_puts(out, "number "), sb_buf_double(out, v.as.d);
        break;
    case SB_STRING: {
        sb_buf_puts(out, "string ");
        size_t n = sb_str_len(v);
        sb_buf_json_string(out, sb_str(v), n > 40 ? 40 : n);
        if (n > 40)
            sb_buf_puts(out, "...");
        break;
    }
    case SB_LIST: sb_buf_puts(out, "a list"); break;
    case SB_MAP: sb_buf_puts(out, "a mapping"); break;
    default: sb_buf_puts(out, sb_kind_name((sb_kind)v.kind)); break;
    }
}

static const char *kind_noun(const sb_schema *s)
{
    switch (s->kind) {
    case SB_SK_ANY: return "any value";
    case SB_SK_STRING: return "a string";
    case SB_SK_INT: return "an integer";
    case SB_SK_NUMBER: return "a number";
    case SB_SK_BOOL: return "true or false";
    case SB_SK_OBJECT:
    case SB_SK_DICT: return "a mapping";
    case SB_SK_LIST: return "a list";
    case SB_SK_ONE_OF: return "one of several forms";
    }
    return "?";
}

static bool kind_matches(const sb_schema *s, sb_val v)
{
    switch (s->kind) {
    case SB_SK_ANY: return true;
    case SB_SK_STRING: return v.kind == SB_STRING;
    case SB_SK_INT: return v.kind == SB_INT || v.kind == SB_UINT;
    case SB_SK_NUMBER: return v.kind == SB_INT || v.kind == SB_UINT || v.kind == SB_DOUBLE;
    case SB_SK_BOOL: return v.kind == SB_BOOL;
    case SB_SK_OBJECT:
    case SB_SK_DICT: return v.kind == SB_MAP;
    case SB_SK_LIST: return v.kind == SB_LIST;
    case SB_SK_ONE_OF:
        for (const sb_schema *const *a = s->alts; *a; a++)
            if (kind_matches(*a, v))
                return true;
        return false;
    }
    return false;
}

static bool is_ident(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    }
    return true;
}

/* Levenshtein distance, bounded to short names (keys are short). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

/* Bounds read better as 100 than as 1e+02. */
static void put_num(sb_buf *out, double x)
{
    if (x == (double)(long long)x && x > -1e15 && x < 1e15)
        sb_buf_printf(out, "%lld", (long long)x);
    else
        sb_buf_double(out, x);
}

const char *sb_schema__suggest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3, wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(word, names[i]), nl = strlen(names[i]);
        if (dist >= best_d && wl >= 3 && nl >= 3 && strncmp(word, names[i], wl < nl ? wl : nl) == 0)
            dist = best_d - 1; /* a prefix: max_delay for max_delay_ms */
        if (dist < best_d) {
            best_d = dist;
            best = names[i];
        }
    }
    return best;
}

static void join_path(sb_buf *out, const char *path, const char *key)
{
    sb_buf_puts(out, path);
    if (*path)
        sb_buf_putc(out, '.');
    sb_buf_puts(out, key);
}

static void check(checker *c, const sb_schema *s, sb_val v, const char *path);

static void check_object(checker *c, const sb_schema *s, sb_val v, const char *path)
{
    size_t n = sb_map_len(v);
    for (size_t i = 0; i < n; i++) {
        sb_val k = *sb_map_key_at(v, i);
        const sb_schema_field *f = s->fields;
        while (f && f->name && !sb_str_eq(k, f->name))
            f++;
        sb_buf p = SB_BUF_INIT;
        join_path(&p, path, sb_str(k));
        if (!f || !f->name) {
            sb_buf m = SB_BUF_INIT;
            if (*path)
                sb_buf_printf(&m, "unknown key '%s'", sb_str(k));
            else
                sb_buf_printf(&m, "unknown key '%s' in %s", sb_str(k), s->title ? s->title : "this mapping");
            const char *names[64];
            size_t nn = 0;
            for (f = s->fields; f && f->name && nn < 64; f++)
                names[nn++] = f->name;
            const char *best = sb_schema__suggest(sb_str(k), names, nn);
            if (best) {
                sb_buf_printf(&m, " (did you mean '%s'?)", best);
            } else {
                sb_buf_puts(&m, "; expected one of: ");
                for (f = s->fields; f && f->name; f++)
                    sb_buf_printf(&m, "%s%s", f == s->fields ? "" : ", ", f->name);
            }
            report(c, k, path, sb_buf_str(&m));
            sb_buf_free(&m);
        } else {
            check(c, f->type, *sb_map_val_at(v, i), sb_buf_str(&p));
        }
        sb_buf_free(&p);
    }
    for (const sb_schema_field *f = s->fields; f && f->name; f++) {
        if (f->required && !sb_map_get_str(v, f->name)) {
            sb_buf m = SB_BUF_INIT;
            sb_buf_printf(&m, "missing required key '%s' in %s", f->name, s->title ? s->title : "this mapping");
            report(c, v, path, sb_buf_str(&m));
            sb_buf_free(&m);
        }
    }
    if (s->exactly_one) {
        sb_buf found = SB_BUF_INIT, all = SB_BUF_INIT;
        int count = 0;
        for (const char *const *k = s->exactly_one; *k; k++) {
            sb_buf_printf(&all, "%s%s", k == s->exactly_one ? "" : ", ", *k);
            if (sb_map_get_str(v, *k)) {
                sb_buf_printf(&found, "%s%s", count ? " and " : "", *k);
                count++;
            }
        }
        if (count != 1) {
            sb_buf m = SB_BUF_INIT;
            sb_buf_printf(&m, "%s needs exactly one of: %s; found %s", s->title ? s->title : "this mapping",
                          sb_buf_str(&all), count ? sb_buf_str(&found) : "none");
            report(c, v, path, sb_buf_str(&m));
            sb_buf_free(&m);
        }
        sb_buf_free(&found);
        sb_buf_free(&all);
    }
}

/* .inf and .nan: no field takes them, and JSON (what tools and outputs
 * receive) has no way to write them. */
static void report_nonfinite(checker *c, sb_val v, const char *path)
{
    sb_buf m = SB_BUF_INIT;
    sb_buf_puts(&m, "must be a finite number, found ");
    sb_schema__describe(&m, v);
    report(c, v, path, sb_buf_str(&m));
    sb_buf_free(&m);
}

/* Free-form values (defaults, tool arguments) may hold numbers anywhere. */
static void check_finite(checker *c, sb_val v, const char *path)
{
    if (v.kind == SB_DOUBLE && !isfinite(v.as.d)) {
        report_nonfinite(c, v, path);
    } else if (v.kind == SB_LIST) {
        for (size_t i = 0; i < sb_list_len(v); i++) {
            sb_buf p = SB_BUF_INIT;
            sb_buf_printf(&p, "%s[%zu]", path, i);
            check_finite(c, *sb_list_at(v, i), sb_buf_str(&p));
            sb_buf_free(&p);
        }
    } else if (v.kind == SB_MAP) {
        for (size_t i = 0; i < sb_map_len(v); i++) {
            sb_buf p = SB_BUF_INIT;
            const sb_val *k = sb_map_key_at(v, i);
            if (k->kind == SB_STRING)
                join_path(&p, path, sb_str(*k));
            else
                sb_buf_puts(&p, path);
            check_finite(c, *sb_map_val_at(v, i), sb_buf_str(&p));
            sb_buf_free(&p);
        }
    }
}

static void check(checker *c, const sb_schema *s, sb_val v, const char *path)
{
    if ((s->flags & SB_SF_EXPR) && v.kind == SB_STRING && strstr(sb_str(v), "{{"))
        return; /* an expression: its type is known only when it runs */
    if (s->kind == SB_SK_ONE_OF) {
        for (const sb_schema *const *a = s->alts; *a; a++)
            if (kind_matches(*a, v)) {
                check(c, *a, v, path);
                return;
            }
    }
    if (!kind_matches(s, v)) {
        sb_buf m = SB_BUF_INIT;
        sb_buf_puts(&m, "expected ");
        if (s->kind == SB_SK_ONE_OF) {
            for (const sb_schema *const *a = s->alts; *a; a++)
                sb_buf_printf(&m, "%s%s", a == s->alts ? "" : (a[1] ? ", " : " or "), kind_noun(*a));
        } else {
            sb_buf_puts(&m, s->title && s->kind == SB_SK_OBJECT ? s->title : kind_noun(s));
            if (s->kind == SB_SK_OBJECT && s->title)
                sb_buf_puts(&m, " (a mapping)");
        }
        if (s->flags & SB_SF_EXPR)
            sb_buf_puts(&m, " or a {{ expression }}");
        sb_buf_puts(&m, ", found ");
        sb_schema__describe(&m, v);
        if (s->kind == SB_SK_BOOL && v.kind == SB_STRING) {
            static const char *const yamlish[] = {"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", NULL};
            for (const char *const *y = yamlish; *y; y++)
                if (sb_str_eq(v, *y))
                    sb_buf_puts(&m, " (sibyl reads YAML 1.2: write true or false)");
        }
        if ((s->kind == SB_SK_INT || s->kind == SB_SK_NUMBER) && v.kind == SB_STRING && (v.flags & SB_F_QUOTED))
            sb_buf_puts(&m, " (remove the quotes to make it a number)");
        report(c, v, path, sb_buf_str(&m));
        sb_buf_free(&m);
        return;
    }
    switch (s->kind) {
    case SB_SK_STRING:
        if ((s->flags & SB_SF_NONEMPTY) && sb_str_len(v) == 0)
            report(c, v, path, "must not be empty");
        if ((s->flags & SB_SF_IDENT) && !is_ident(sb_str(v), sb_str_len(v)))
            report(c, v, path, "must be a name of letters, digits and _ (not starting with a digit)");
        if (s->enums) {
            bool found = false;
            for (const char *const *e = s->enums; *e && !found; e++)
                found = sb_str_eq(v, *e);
            if (!found) {
                sb_buf m = SB_BUF_INIT;
                sb_buf_puts(&m, "expected one of ");
                for (const char *const *e = s->enums; *e; e++)
                    sb_buf_printf(&m, "%s%s", e == s->enums ? "" : ", ", *e);
                sb_buf_puts(&m, "; found ");
                sb_schema__describe(&m, v);
                report(c, v, path, sb_buf_str(&m));
                sb_buf_free(&m);
            }
        }
        break;
    case SB_SK_INT:
    case SB_SK_NUMBER: {
        double x;
        sb_val_as_double(v, &x);
        if (!isfinite(x)) {
            report_nonfinite(c, v, path);
            break;
        }
        if (((s->flags & SB_SF_POSITIVE) && !(x > 0)) || (s->has_min && x < s->min) || (s->has_max && x > s->max) || x != x) {
            sb_buf m = SB_BUF_INIT;
            if (s->flags & SB_SF_POSITIVE)
                sb_buf_puts(&m, "must be greater than 0");
            else if (s->has_min && s->has_max && s->min == s->max)
                sb_buf_puts(&m, "must be "), put_num(&m, s->min);
            else if (s->has_min && s->has_max)
                sb_buf_puts(&m, "must be between "), put_num(&m, s->min), sb_buf_puts(&m, " and "),
                    put_num(&m, s->max);
            else if (s->has_min)
                sb_buf_puts(&m, "must be at least "), put_num(&m, s->min);
            else if (s->has_max)
                sb_buf_puts(&m, "must be at most "), put_num(&m, s->max);
            else
                sb_buf_puts(&m, "must be a number");
            sb_buf_puts(&m, ", found ");
            sb_schema__describe(&m, v);
            report(c, v, path, sb_buf_str(&m));
            sb_buf_free(&m);
        }
        break;
    }
    case SB_SK_OBJECT:
        check_object(c, s, v, path);
        break;
    case SB_SK_DICT:
        if ((s->flags & SB_SF_NONEMPTY) && sb_map_len(v) == 0)
            report(c, v, path, "must not be empty");
        for (size_t i = 0; i < sb_map_len(v); i++) {
            sb_val k = *sb_map_key_at(v, i);
            if ((s->flags & SB_SF_IDENT) && !is_ident(sb_str(k), sb_str_len(k))) {
                sb_buf m = SB_BUF_INIT;
                sb_buf_printf(&m, "'%s' is not a valid name (letters, digits and _, not starting with a digit)",
                              sb_str(k));
                report(c, k, path, sb_buf_str(&m));
                sb_buf_free(&m);
            }
            sb_buf p = SB_BUF_INIT;
            join_path(&p, path, sb_str(k));
            if (s->item)
                check(c, s->item, *sb_map_val_at(v, i), sb_buf_str(&p));
            sb_buf_free(&p);
        }
        break;
    case SB_SK_LIST:
        if ((s->flags & SB_SF_NONEMPTY) && sb_list_len(v) == 0)
            report(c, v, path, "must not be empty");
        for (size_t i = 0; i < sb_list_len(v); i++) {
            sb_buf p = SB_BUF_INIT;
            sb_buf_printf(&p, "%s[%zu]", path, i);
            if (s->item)
                check(c, s->item, *sb_list_at(v, i), sb_buf_str(&p));
            sb_buf_free(&p);
        }
        break;
    case SB_SK_ANY:
        check_finite(c, v, path);
        break;
    default:
        break;
    }
}

bool sb_schema__check(const sb_schema *s, sb_val v, const char *file, const char *what, sb_diags *d)
{
    checker c = {file, d, true};
    check(&c, s, v, what ? what : "");
    return c.ok;
}

/* --- JSON Schema output --- */

static void js_str(sb_buf *o, const char *s) { sb_buf_json_string(o, s, strlen(s)); }

static void js_schema(sb_buf *o, const sb_schema *s, int depth);

static void js_body(sb_buf *o, const sb_schema *s, int depth)
{
    switch (s->kind) {
    case SB_SK_ANY: break;
    case SB_SK_STRING:
        sb_buf_puts(o, ",\"type\":\"string\"");
        if (s->enums) {
            sb_buf_puts(o, ",\"enum\":[");
            for (const char *const *e = s->enums; *e; e++) {
                if (e != s->enums)
                    sb_buf_putc(o, ',');
                js_str(o, *e);
            }
            sb_buf_putc(o, ']');
        }
        if (s->flags & SB_SF_NONEMPTY)
            sb_buf_puts(o, ",\"minLength\":1");
        if (s->flags & SB_SF_IDENT)
            sb_buf_puts(o, ",\"pattern\":\"^[A-Za-z_][A-Za-z0-9_]*$\"");
        break;
    case SB_SK_INT:
    case SB_SK_NUMBER:
        sb_buf_puts(o, s->kind == SB_SK_INT ? ",\"type\":\"integer\"" : ",\"type\":\"number\"");
        if (s->has_min)
            sb_buf_puts(o, ",\"minimum\":"), sb_buf_double(o, s->min);
        if (s->has_max)
            sb_buf_puts(o, ",\"maximum\":"), sb_buf_double(o, s->max);
        break;
    case SB_SK_BOOL: sb_buf_puts(o, ",\"type\":\"boolean\""); break;
    case SB_SK_OBJECT: {
        sb_buf_puts(o, ",\"type\":\"object\",\"additionalProperties\":false,\"properties\":{");
        int req = 0;
        for (const sb_schema_field *f = s->fields; f && f->name; f++) {
            if (f != s->fields)
                sb_buf_putc(o, ',');
            js_str(o, f->name);
            sb_buf_putc(o, ':');
            if ((f->doc && !f->type->doc) || f->dflt) {
                /* Field docs override the type's own description. */
                sb_buf_putc(o, '{');
                if (f->doc && !f->type->doc) {
                    sb_buf_puts(o, "\"description\":");
                    js_str(o, f->doc);
                    sb_buf_putc(o, ',');
                }
                if (f->dflt) {
                    sb_buf_puts(o, "\"default\":");
                    sb_buf_puts(o, f->dflt);
                    sb_buf_putc(o, ',');
                }
                sb_buf_puts(o, "\"allOf\":[");
                js_schema(o, f->type, depth + 1);
                sb_buf_puts(o, "]}");
            } else {
                js_schema(o, f->type, depth + 1);
            }
            req += f->required;
        }
        sb_buf_putc(o, '}');
        if (req) {
            sb_buf_puts(o, ",\"required\":[");
            int n = 0;
            for (const sb_schema_field *f = s->fields; f && f->name; f++)
                if (f->required) {
                    if (n++)
                        sb_buf_putc(o, ',');
                    js_str(o, f->name);
                }
            sb_buf_putc(o, ']');
        }
        if (s->exactly_one) {
            sb_buf_puts(o, ",\"oneOf\":[");
            for (const char *const *k = s->exactly_one; *k; k++) {
                if (k != s->exactly_one)
                    sb_buf_putc(o, ',');
                sb_buf_puts(o, "{\"required\":[");
                js_str(o, *k);
                sb_buf_puts(o, "]}");
            }
            sb_buf_putc(o, ']');
        }
        break;
    }
    case SB_SK_DICT:
        sb_buf_puts(o, ",\"type\":\"object\"");
        if (s->item) {
            sb_buf_puts(o, ",\"additionalProperties\":");
            js_schema(o, s->item, depth + 1);
        }
        if (s->flags & SB_SF_IDENT)
            sb_buf_puts(o, ",\"propertyNames\":{\"pattern\":\"^[A-Za-z_][A-Za-z0-9_]*$\"}");
        if (s->flags & SB_SF_NONEMPTY)
            sb_buf_puts(o, ",\"minProperties\":1");
        break;
    case SB_SK_LIST:
        sb_buf_puts(o, ",\"type\":\"array\"");
        if (s->item) {
            sb_buf_puts(o, ",\"items\":");
            js_schema(o, s->item, depth + 1);
        }
        if (s->flags & SB_SF_NONEMPTY)
            sb_buf_puts(o, ",\"minItems\":1");
        break;
    case SB_SK_ONE_OF:
        sb_buf_puts(o, ",\"anyOf\":[");
        for (const sb_schema *const *a = s->alts; *a; a++) {
            if (a != s->alts)
                sb_buf_putc(o, ',');
            js_schema(o, *a, depth + 1);
        }
        sb_buf_putc(o, ']');
        break;
    }
}

static void js_schema(sb_buf *o, const sb_schema *s, int depth)
{
    if (depth > 32) { /* the tables are acyclic; this only guards a mistake */
        sb_buf_puts(o, "{}");
        return;
    }
    bool expr = (s->flags & SB_SF_EXPR) != 0;
    sb_buf_putc(o, '{');
    if (expr) {
        if (s->doc) {
            sb_buf_puts(o, "\"description\":");
            js_str(o, s->doc);
            sb_buf_putc(o, ',');
        }
        sb_buf_puts(o, "\"anyOf\":[{\"$ref\":\"#/$defs/expression\"},{\"title\":\"\"");
        js_body(o, s, depth);
        sb_buf_puts(o, "}]}");
        return;
    }
    sb_buf_puts(o, "\"title\":");
    js_str(o, s->title ? s->title : "");
    if (s->doc) {
        sb_buf_puts(o, ",\"description\":");
        js_str(o, s->doc);
    }
    js_body(o, s, depth);
    sb_buf_putc(o, '}');
}

void sb_schema_write_json_schema(const sb_schema *s, const char *id, sb_buf *out)
{
    sb_buf_puts(out, "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":");
    js_str(out, id);
    /* [\s\S] rather than `.`, which stops at a newline: an expression may span
     * lines in a block scalar. */
    sb_buf_puts(out, ",\"$defs\":{\"expression\":{\"type\":\"string\",\"pattern\":\"\\\\{\\\\{[\\\\s\\\\S]*\\\\}\\\\}\","
                     "\"description\":\"A CEL expression in {{ }}; its value is checked when the step runs.\"}},"
                     "\"allOf\":[");
    js_schema(out, s, 0);
    sb_buf_puts(out, "]}");
}

/* --- defaults --- */

sb_val sb_schema_default(const sb_schema *root, const char *path)
{
    const sb_schema *s = root;
    const sb_schema_field *found = NULL;
    while (s && *path) {
        size_t n = strcspn(path, ".");
        found = NULL;
        if (n == 1 && path[0] == '*' && (s->kind == SB_SK_DICT || s->kind == SB_SK_LIST)) {
            s = s->item;
        } else {
            for (const sb_schema_field *f = s->fields; s->kind == SB_SK_OBJECT && f && f->name; f++)
                if (strlen(f->name) == n && strncmp(f->name, path, n) == 0)
                    found = f;
            s = found ? found->type : NULL;
        }
        path += n + (path[n] == '.');
    }
    if (!found || *path || !found->dflt)
        return sb_null();
    sb_val v = sb_json_parse(found->dflt, strlen(found->dflt));
    /* The tables are constants: a default that does not parse is a bug, seen
     * in every test that reads it. */
    return v.kind == SB_ERROR && !sb_is_oom(v) ? (sb_val_free(v), sb_null()) : v;
}
