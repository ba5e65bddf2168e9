/* {{ }} templates: see sb_template.h. A compiled template mirrors the shape
 * of the tree it came from; subtrees without expressions are kept as shared
 * constants, so evaluating a large config with a few templates copies only
 * the paths that lead to them. */
#include "sb_template.h"

#include <stdio.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "cel_int.h"

#define TMPL_MAX_DEPTH 256
#define SNIPPET_MAX 80

enum { TK_CONST, TK_EXPR, TK_STR, TK_LIST, TK_MAP };

typedef struct tseg {
    sb_val text;          /* literal text, when prog is NULL */
    sb_cel_program *prog; /* an expression */
    char *snippet;        /* "{{ expr }}" for messages */
} tseg;

typedef struct tnode {
    uint8_t kind;
    uint32_t line, col;
    sb_val val; /* TK_CONST */
    tseg *segs; /* TK_EXPR (one segment) and TK_STR */
    size_t nsegs;
    struct tnode *kids; /* TK_LIST, TK_MAP values */
    sb_val *keys;       /* TK_MAP */
    size_t n;
} tnode;

struct sb_tmpl {
    tnode root;
    char *file;
    bool dynamic;
};

bool sb_tmpl_has_expr(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == '{' && s[i + 1] == '{')
            return true;
    return false;
}

/* The offset of the "}}" closing the expression that starts at s[from], or
 * -1. CEL tokens are followed so that "}}" inside a string literal or
 * closing nested map literals ({'a': {'b': 1}}) does not end it. */
static long find_close(const char *s, size_t len, size_t from)
{
    cel_lexer lx;
    sb_cel__lex_init(&lx, s + from, len - from);
    int depth = 0;
    long r = -1;
    for (;;) {
        sb_cel__lex_next(&lx);
        if (lx.tok == T_EOF)
            break;
        if (lx.tok == T_ERR) {
            /* not CEL: fall back to the first "}}" after the error */
            for (size_t i = from + lx.errpos; i + 1 < len; i++)
                if (s[i] == '}' && s[i + 1] == '}') {
                    r = (long)i;
                    break;
                }
            break;
        }
        if (lx.tok == T_LBRACE) {
            depth++;
        } else if (lx.tok == T_RBRACE) {
            if (depth > 0) {
                depth--;
            } else if (lx.pos < lx.len && lx.src[lx.pos] == '}') {
                r = (long)(from + lx.start);
                break;
            }
        }
    }
    sb_cel__lex_free(&lx);
    return r;
}

static char *make_snippet(const char *expr, size_t len)
{
    while (len && (*expr == ' ' || *expr == '\t' || *expr == '\n' || *expr == '\r'))
        expr++, len--;
    while (len && (expr[len - 1] == ' ' || expr[len - 1] == '\t' || expr[len - 1] == '\n' || expr[len - 1] == '\r'))
        len--;
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "{{ ");
    size_t shown = len > SNIPPET_MAX ? sb_cel__utf8_offset(expr, len, SNIPPET_MAX) : len;
    for (size_t i = 0; i < shown; i++)
        sb_buf_putc(&b, expr[i] == '\n' || expr[i] == '\r' || expr[i] == '\0' ? ' ' : expr[i]);
    sb_buf_puts(&b, shown < len ? "... }}" : " }}");
    return sb_buf_take(&b);
}

static void free_node(tnode *n)
{
    sb_val_free(n->val);
    for (size_t i = 0; i < n->nsegs; i++) {
        sb_val_free(n->segs[i].text);
        sb_cel_program_free(n->segs[i].prog);
        sb_free(n->segs[i].snippet);
    }
    sb_free(n->segs);
    for (size_t i = 0; i < n->n; i++) {
        free_node(&n->kids[i]);
        if (n->keys)
            sb_val_free(n->keys[i]);
    }
    sb_free(n->kids);
    sb_free(n->keys);
    memset(n, 0, sizeof *n);
}

typedef struct compiler {
    const char *file;
    const sb_cel_options *opt;
    sb_diags *d;
    bool failed;
    bool dynamic;
} compiler;

static bool push_seg(tnode *n, tseg s)
{
    tseg *v = sb_realloc(n->segs, (n->nsegs + 1) * sizeof *v);
    if (!v)
        return false;
    n->segs = v;
    n->segs[n->nsegs++] = s;
    return true;
}

static bool only_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

static void oom(compiler *cc, const tnode *n)
{
    cc->failed = true;
    sb_diags_add(cc->d, cc->file, n->line, n->col, "out of memory while compiling templates");
}

/* A string with at least one {{ }}. */
static void compile_string(compiler *cc, tnode *n, sb_val v)
{
    const char *s = sb_str(v);
    size_t len = sb_str_len(v), i = 0, text0 = 0;
    while (i + 1 < len) {
        if (!(s[i] == '{' && s[i + 1] == '{')) {
            i++;
            continue;
        }
        long close = find_close(s, len, i + 2);
        if (close < 0) {
            char *snip = make_snippet(s + i + 2, len - i - 2);
            sb_diags_add(cc->d, cc->file, n->line, n->col, "in '%s': unterminated '{{' (no matching '}}')",
                         snip ? snip : "{{");
            sb_free(snip);
            cc->failed = true;
            return;
        }
        /* parse the trimmed text, so columns count from the snippet's first character */
        const char *expr = s + i + 2;
        size_t elen = (size_t)close - i - 2;
        while (elen && (*expr == ' ' || *expr == '\t' || *expr == '\n' || *expr == '\r'))
            expr++, elen--;
        while (elen &&
               (expr[elen - 1] == ' ' || expr[elen - 1] == '\t' || expr[elen - 1] == '\n' || expr[elen - 1] == '\r'))
            elen--;
        if (i > text0) {
            tseg t = {sb_string(s + text0, i - text0), NULL, NULL};
            if (t.text.kind == SB_ERROR || !push_seg(n, t)) {
                sb_val_free(t.text);
                oom(cc, n);
                return;
            }
        }
        tseg e = {sb_null(), NULL, make_snippet(expr, elen)};
        sb_val err = sb_null();
        if (e.snippet)
            e.prog = sb_cel_parse(expr, elen, cc->opt, &err);
        if (!e.snippet || (!e.prog && sb_is_oom(err))) {
            sb_free(e.snippet);
            oom(cc, n);
            return;
        }
        if (!e.prog) {
            sb_diags_add(cc->d, cc->file, n->line, n->col, "in '%s': %s", e.snippet,
                         only_space(expr, elen) ? "empty expression" : sb_str(err));
            sb_val_free(err);
            sb_free(e.snippet);
            cc->failed = true;
        } else if (!push_seg(n, e)) {
            sb_cel_program_free(e.prog);
            sb_free(e.snippet);
            oom(cc, n);
            return;
        }
        i = (size_t)close + 2;
        text0 = i;
    }
    if (text0 < len) {
        tseg t = {sb_string(s + text0, len - text0), NULL, NULL};
        if (t.text.kind == SB_ERROR || !push_seg(n, t)) {
            sb_val_free(t.text);
            oom(cc, n);
            return;
        }
    }
    /* exactly one expression and nothing but whitespace around it */
    size_t nexpr = 0;
    bool other_text = false;
    for (size_t k = 0; k < n->nsegs; k++) {
        if (n->segs[k].prog)
            nexpr++;
        else if (!only_space(sb_str(n->segs[k].text), sb_str_len(n->segs[k].text)))
            other_text = true;
    }
    if (nexpr == 1 && !other_text) {
        tseg keep = {sb_null(), NULL, NULL};
        for (size_t k = 0; k < n->nsegs; k++) {
            if (n->segs[k].prog)
                keep = n->segs[k];
            else
                sb_val_free(n->segs[k].text);
        }
        n->segs[0] = keep;
        n->nsegs = 1;
        n->kind = TK_EXPR;
    } else {
        n->kind = TK_STR;
    }
    cc->dynamic = true;
}

static void compile_node(compiler *cc, tnode *n, sb_val v, int depth)
{
    memset(n, 0, sizeof *n);
    n->val = sb_null();
    n->line = v.line;
    n->col = v.col;
    n->kind = TK_CONST;
    if (depth > TMPL_MAX_DEPTH) {
        sb_diags_add(cc->d, cc->file, n->line, n->col, "value nested too deeply for templates");
        cc->failed = true;
        return;
    }
    if (v.kind == SB_STRING && sb_tmpl_has_expr(sb_str(v), sb_str_len(v))) {
        compile_string(cc, n, v);
        return;
    }
    if (v.kind == SB_LIST || v.kind == SB_MAP) {
        size_t cnt = v.kind == SB_LIST ? sb_list_len(v) : sb_map_len(v);
        bool any = false;
        if (cnt) {
            n->kids = sb_calloc(cnt, sizeof *n->kids);
            n->keys = v.kind == SB_MAP ? sb_calloc(cnt, sizeof *n->keys) : NULL;
            if (!n->kids || (v.kind == SB_MAP && !n->keys)) {
                sb_free(n->kids);
                sb_free(n->keys);
                n->kids = NULL;
                n->keys = NULL;
                oom(cc, n);
                return;
            }
            n->n = cnt;
            for (size_t i = 0; i < cnt; i++) {
                sb_val child = v.kind == SB_LIST ? *sb_list_at(v, i) : *sb_map_val_at(v, i);
                if (n->keys)
                    n->keys[i] = sb_val_ref(*sb_map_key_at(v, i));
                compile_node(cc, &n->kids[i], child, depth + 1);
                any = any || n->kids[i].kind != TK_CONST;
            }
        }
        if (any) {
            n->kind = v.kind == SB_LIST ? TK_LIST : TK_MAP;
            n->val = sb_val_ref(v); /* for the container's flags */
            return;
        }
        free_node(n);
        n->line = v.line;
        n->col = v.col;
    }
    n->kind = TK_CONST;
    n->val = sb_val_ref(v);
}

sb_tmpl *sb_tmpl_compile(sb_val v, const char *file, const sb_cel_options *opt, sb_diags *d)
{
    sb_tmpl *t = sb_calloc(1, sizeof *t);
    if (!t) {
        sb_diags_add(d, file, v.line, v.col, "out of memory while compiling templates");
        return NULL;
    }
    t->file = sb_strdup(file ? file : "<template>");
    compiler cc = {t->file, opt, d, t->file == NULL, false};
    if (!t->file)
        sb_diags_add(d, file, v.line, v.col, "out of memory while compiling templates");
    else
        compile_node(&cc, &t->root, v, 0);
    t->dynamic = cc.dynamic;
    if (cc.failed) {
        sb_tmpl_free(t);
        return NULL;
    }
    return t;
}

void sb_tmpl_free(sb_tmpl *t)
{
    if (!t)
        return;
    free_node(&t->root);
    sb_free(t->file);
    sb_free(t);
}

bool sb_tmpl_is_dynamic(const sb_tmpl *t)
{
    return t && t->dynamic;
}

/* "FILE:LINE:COL: in '{{ expr }}': message" (consumes err) */
static sb_val placed(const sb_tmpl *t, const tnode *n, const char *snippet, sb_val err)
{
    if (sb_is_oom(err))
        return err;
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, t->file);
    if (n->line)
        sb_buf_printf(&b, ":%u:%u", (unsigned)n->line, (unsigned)n->col);
    sb_buf_puts(&b, ": ");
    if (snippet)
        sb_buf_printf(&b, "in '%s': ", snippet);
    sb_buf_append(&b, sb_str(err), sb_str_len(err));
    sb_val_free(err);
    if (sb_buf_failed(&b)) {
        sb_buf_free(&b);
        return sb_oom();
    }
    sb_val e = sb_error(sb_buf_str(&b));
    sb_buf_free(&b);
    return sb_at_pos(e, n->line, n->col);
}

/* An optional leaves CEL as the JSON writer shows it: its value, or null
 * for none (`{{ metrics.?val_acc }}`, `'acc {{ m.?a }}'`). Consumes r. */
static sb_val unwrap_optional(sb_val r)
{
    if (r.kind != SB_OPTIONAL)
        return r;
    const sb_val *in = sb_optional_value(r);
    sb_val v = in ? sb_val_ref(*in) : sb_null();
    sb_val_free(r);
    return v;
}

static sb_val eval_node(const sb_tmpl *t, const tnode *n, sb_val vars)
{
    switch (n->kind) {
    case TK_CONST:
        return sb_val_ref(n->val);
    case TK_EXPR: {
        sb_val r = sb_cel_eval_raw(n->segs[0].prog, vars);
        if (r.kind == SB_ERROR)
            return placed(t, n, n->segs[0].snippet, r);
        return sb_at_pos(unwrap_optional(r), n->line, n->col);
    }
    case TK_STR: {
        sb_buf b = SB_BUF_INIT;
        for (size_t i = 0; i < n->nsegs; i++) {
            const tseg *s = &n->segs[i];
            if (!s->prog) {
                sb_buf_append(&b, sb_str(s->text), sb_str_len(s->text));
                continue;
            }
            sb_val r = sb_cel_eval_raw(s->prog, vars);
            if (r.kind == SB_ERROR) {
                sb_buf_free(&b);
                return placed(t, n, s->snippet, r);
            }
            r = unwrap_optional(r);
            sb_cel_render(&b, r);
            sb_val_free(r);
        }
        if (sb_buf_failed(&b)) {
            sb_buf_free(&b);
            return sb_oom();
        }
        sb_val r = sb_string(sb_buf_str(&b), b.len);
        sb_buf_free(&b);
        return r.kind == SB_ERROR ? r : sb_at_pos(r, n->line, n->col);
    }
    case TK_LIST:
    case TK_MAP: {
        sb_val out = n->kind == TK_LIST ? sb_list_new(n->n) : sb_map_new(n->n);
        if (out.kind == SB_ERROR)
            return out;
        for (size_t i = 0; i < n->n; i++) {
            sb_val v = eval_node(t, &n->kids[i], vars);
            if (v.kind == SB_ERROR) {
                sb_val_free(out);
                return v;
            }
            bool ok = n->kind == TK_LIST ? sb_list_push(&out, v) : sb_map_set(&out, sb_val_ref(n->keys[i]), v);
            if (!ok) {
                sb_val_free(out);
                return sb_oom();
            }
        }
        out.flags = n->val.flags;
        return sb_at_pos(out, n->line, n->col);
    }
    }
    return sb_oom();
}

sb_val sb_tmpl_eval(const sb_tmpl *t, sb_val vars)
{
    return eval_node(t, &t->root, vars);
}

sb_val sb_tmpl_eval_bool(const sb_tmpl *t, sb_val vars)
{
    sb_val r = sb_tmpl_eval(t, vars);
    if (r.kind == SB_BOOL || r.kind == SB_ERROR)
        return r;
    const tnode *n = &t->root;
    sb_val e;
    if (n->kind == TK_EXPR) {
        e = sb_errorf("must evaluate to a bool, got %s", sb_cel__type_name(r));
        sb_val_free(r);
        return placed(t, n, n->segs[0].snippet, e);
    }
    if (r.kind == SB_STRING && n->kind == TK_CONST)
        e = sb_errorf("expected a bool, got the string '%.60s' (write a condition as '{{ expr }}')", sb_str(r));
    else if (n->kind == TK_STR)
        e = sb_errorf("expected a bool, got a string template (only a value that is exactly one '{{ expr }}' keeps "
                      "its type)");
    else
        e = sb_errorf("expected a bool, got %s", sb_cel__type_name(r));
    sb_val_free(r);
    return placed(t, n, NULL, e);
}

/* --- type checking --- */

/* What a template gives where CEL gave r: an optional is unwrapped at
 * evaluation (its value's type, or null), which only dyn describes. */
static const sb_cel_type *unwrapped_type(sb_cel_env *env, const sb_cel_type *r)
{
    return r && sb_cel_type_kind(r) == SB_CT_OPTIONAL ? sb_cel_type_basic(env, SB_CT_DYN) : r;
}

static const sb_cel_type *check_node(const sb_tmpl *t, const tnode *n, sb_cel_env *env, sb_diags *d, bool *bad)
{
    switch (n->kind) {
    case TK_CONST: return sb_cel_type_of(env, n->val);
    case TK_EXPR:
    case TK_STR: {
        const sb_cel_type *r = NULL;
        for (size_t i = 0; i < n->nsegs; i++) {
            if (!n->segs[i].prog)
                continue;
            sb_val err = sb_null();
            r = sb_cel_check(env, n->segs[i].prog, &err);
            if (!r) {
                *bad = true;
                sb_diags_add(d, t->file, n->line, n->col, "in '%s': %s", n->segs[i].snippet, sb_str(err));
                sb_val_free(err);
            }
        }
        return n->kind == TK_STR ? sb_cel_type_basic(env, SB_CT_STRING) : r;
    }
    case TK_LIST: {
        const sb_cel_type *el = NULL;
        bool mixed = false;
        for (size_t i = 0; i < n->n; i++) {
            const sb_cel_type *k = unwrapped_type(env, check_node(t, &n->kids[i], env, d, bad));
            if (k && el && k != el)
                mixed = true;
            el = el ? el : k;
        }
        return sb_cel_type_list(env, !el || mixed ? sb_cel_type_basic(env, SB_CT_DYN) : el);
    }
    case TK_MAP: {
        sb_cel_type *o = sb_cel_type_object(env);
        for (size_t i = 0; i < n->n; i++) {
            const sb_cel_type *k = unwrapped_type(env, check_node(t, &n->kids[i], env, d, bad));
            if (o && n->keys[i].kind == SB_STRING)
                sb_cel_type_add_field(env, o, sb_str(n->keys[i]), k ? k : sb_cel_type_basic(env, SB_CT_DYN));
        }
        return o;
    }
    }
    return NULL;
}

const sb_cel_type *sb_tmpl_check(const sb_tmpl *t, sb_cel_env *env, bool want_bool, sb_diags *d)
{
    bool bad = false;
    const tnode *n = &t->root;
    const sb_cel_type *r = check_node(t, n, env, d, &bad);
    if (bad)
        return NULL;
    if (want_bool && r && sb_cel_type_kind(r) != SB_CT_BOOL && sb_cel_type_kind(r) != SB_CT_DYN) {
        sb_buf b = SB_BUF_INIT;
        sb_cel_type_render(&b, r);
        if (n->kind == TK_EXPR)
            sb_diags_add(d, t->file, n->line, n->col, "in '%s': must evaluate to a bool, got %s", n->segs[0].snippet,
                         sb_buf_str(&b));
        else if (n->kind == TK_STR)
            sb_diags_add(d, t->file, n->line, n->col,
                         "expected a bool, got a string template (only a value that is exactly one '{{ expr }}' "
                         "keeps its type)");
        else
            sb_diags_add(d, t->file, n->line, n->col, "expected a bool, got %s", sb_buf_str(&b));
        sb_buf_free(&b);
        return NULL;
    }
    return unwrapped_type(env, r); /* a condition's optional(bool) stays an error above: none is no bool */
}
