/* Internals of the CEL evaluator, shared by the files of core/cel/ only.
 *
 * Layout: cel_lex.c (tokens), cel_parse.c (recursive descent -> AST, macro
 * expansion), cel_resolve.c (names -> locals / qualified variables, function
 * lookup), cel_eval.c (the tree walker), cel_ops.c (operators, conversions),
 * cel_funcs.c (the builtin table), cel_strings.c (strings extension),
 * cel_math.c (math extension), cel_time.c and cel_tz.c (timestamps,
 * durations, time zones), cel_opt.c (optionals), cel_format.c (string(), format(), %s
 * rendering), cel_regex.c (matches), cel_utf8.c, sb_cel.c (public API). */
#ifndef CEL_INT_H
#define CEL_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/sb_buf.h"
#include "sb_cel.h"

/* ---- UTF-8 (cel_utf8.c) ---- */
/* Decodes the code point at s[*i] (i < len) and advances *i; -1 if invalid. */
int32_t sb_cel__utf8_next(const char *s, size_t len, size_t *i);
bool sb_cel__utf8_valid(const char *s, size_t len);
size_t sb_cel__utf8_count(const char *s, size_t len);
/* Byte offset of code point index cp (clamped to len). */
size_t sb_cel__utf8_offset(const char *s, size_t len, size_t cp);
void sb_cel__utf8_put(sb_buf *b, uint32_t cp);

/* ---- tokens (cel_lex.c) ---- */
typedef enum cel_tok {
    T_EOF,
    T_ERR,
    T_INT,
    T_UINT,
    T_DOUBLE,
    T_STRING,
    T_BYTES,
    T_IDENT,
    T_ESC_IDENT, /* `quoted identifier` */
    T_TRUE,
    T_FALSE,
    T_NULL,
    T_IN,
    T_LPAREN,
    T_RPAREN,
    T_LBRACKET,
    T_RBRACKET,
    T_LBRACE,
    T_RBRACE,
    T_DOT,
    T_COMMA,
    T_COLON,
    T_QUESTION,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PERCENT,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT
} cel_tok;

typedef struct cel_lexer {
    const char *src;
    size_t len;
    size_t pos; /* next byte to read */
    /* the current token */
    cel_tok tok;
    size_t start; /* byte offset of the token */
    size_t end;
    sb_val val;      /* T_STRING/T_BYTES: owned value (moved out by the parser) */
    char errmsg[96]; /* T_ERR */
    size_t errpos;
} cel_lexer;

void sb_cel__lex_init(cel_lexer *lx, const char *src, size_t len);
/* Advances to the next token (frees an unclaimed string value). */
void sb_cel__lex_next(cel_lexer *lx);
void sb_cel__lex_free(cel_lexer *lx);
bool sb_cel__is_reserved(const char *s, size_t n);

/* ---- syntax tree ---- */
typedef enum cel_op {
    N_LIT,    /* val */
    N_IDENT,  /* before resolution: val = name. After: qname */
    N_LOCAL,  /* slot */
    N_SELECT, /* kids[0] . val(field name) */
    N_HAS,    /* has(kids[0] . val) */
    N_INDEX,  /* kids[0] [ kids[1] ] */
    N_CALL,   /* fn; kids = args (receiver first when member call) */
    N_LIST,   /* kids */
    N_MAP,    /* kids = k0, v0, k1, v1, ... */
    N_AND,
    N_OR,
    N_NOT,
    N_NEG,
    N_COND, /* kids[0] ? kids[1] : kids[2] */
    N_BIN,  /* sub = cel_binop_kind */
    N_COMP, /* sub = cel_comp; kids[0] = range, kids[1..] per kind */
    N_BIND, /* cel.bind: slot = kids[1] (init) in kids[2] */
    N_OPT   /* ?kids[0]: an optional element of an N_LIST, or value of an N_MAP */
} cel_op;

/* N_SELECT and N_INDEX flags in `sub` */
#define SEL_NOT_NAME 0x1 /* `quoted` or .? field: never part of a qualified name */
#define SEL_OPT 0x2      /* x.?f, x[?k]: an optional, none when absent */

typedef enum cel_binop_kind {
    B_EQ,
    B_NE,
    B_LT,
    B_LE,
    B_GT,
    B_GE,
    B_IN,
    B_ADD,
    B_SUB,
    B_MUL,
    B_DIV,
    B_MOD
} cel_binop_kind;

typedef enum cel_comp {
    C_ALL,
    C_EXISTS,
    C_EXISTS_ONE,
    C_MAP,        /* kids[1] = transform */
    C_MAP_FILTER, /* kids[1] = filter, kids[2] = transform */
    C_FILTER,     /* kids[1] = predicate */
    C_TRANSFORM_LIST,
    C_TRANSFORM_LIST_FILTER,
    C_TRANSFORM_MAP,
    C_TRANSFORM_MAP_FILTER,
    C_TRANSFORM_MAP_ENTRY,
    C_TRANSFORM_MAP_ENTRY_FILTER, /* the transform gives a map to merge */
    C_OPT_MAP,     /* opt.optMap(x, t): kids[1] = t */
    C_OPT_FLAT_MAP /* opt.optFlatMap(x, t): t gives an optional */
} cel_comp;

/* A qualified name to resolve at evaluation time: a.b.c tries the variables
 * "a.b.c", then "a.b" (then .c), then "a" (then .b.c), each first under the
 * container's prefixes. */
typedef struct cel_qcand {
    char *name;    /* full variable name to look up */
    sb_val key;    /* the same as a shared map key (sb_string_key) */
    uint16_t used; /* how many segments of the chain it covers */
} cel_qcand;

typedef struct cel_qname {
    uint16_t nseg;
    char **seg;       /* segment names */
    sb_val *segkey;   /* the same as shared map keys */
    uint32_t *segpos; /* byte offset of each segment (for errors) */
    uint16_t ncand;
    cel_qcand *cand; /* in priority order */
    char *full;      /* "a.b.c" for messages */
} cel_qname;

/* A field chain on a local, x.a.b: the keys from the local outward. Kept
 * on the chain's top N_SELECT (aux), in the program's arena; the keys are
 * the select nodes' own field names, borrowed. */
typedef struct cel_fpath {
    int32_t slot; /* the local's */
    uint32_t nkeys;
    sb_val keys[];
} cel_fpath;

typedef struct cel_node cel_node;
struct cel_node {
    uint8_t op;   /* cel_op */
    uint8_t sub;  /* cel_binop_kind / cel_comp / call style flags */
    uint16_t fn;  /* builtin index for N_CALL */
    uint32_t pos; /* byte offset in the source */
    uint32_t nkids;
    uint32_t depth; /* height of this subtree */
    cel_node **kids;
    sb_val val;          /* N_LIT, field name, identifier, function name */
    int32_t slot, slot2; /* N_LOCAL, N_COMP (var, second var), N_BIND */
    void *aux;           /* N_IDENT: cel_qname; N_CALL matches: compiled regex; N_SELECT: cel_fpath */
    cel_node *all_next;  /* every node, for cleanup */
};

#define CALL_MEMBER 0x1 /* written receiver.f(args) */

struct sb_cel_program {
    char *src;
    size_t len;
    cel_node *root;
    cel_node *all; /* list of every node */
    void *arena;   /* chunks, see cel_parse.c */
    uint32_t nlocals;
    bool mixed;
    sb_cel_limits lim;
    char *container;
};

/* ---- parsing (cel_parse.c, cel_resolve.c) ---- */
cel_node *sb_cel__parse(sb_cel_program *p, sb_val *err);
/* Resolves names, locals and functions; false and *err on failure. */
bool sb_cel__resolve(sb_cel_program *p, sb_val *err);
void *sb_cel__arena_alloc(sb_cel_program *p, size_t n);
void sb_cel__arena_free(sb_cel_program *p);
void sb_cel__node_release(cel_node *n);

/* ---- evaluation (cel_eval.c) ---- */
typedef struct cel_ctx {
    const sb_cel_program *prog;
    sb_val vars;
    sb_val *locals;
    uint64_t steps, max_steps;
    size_t bytes, max_bytes;
    sb_val fatal;  /* a limit breach or OOM: sticky, cannot be absorbed */
    bool dotted;   /* vars has a dotted name: qualified names try each split */
} cel_ctx;

/* The evaluator's hot helpers are inlined even in the size-optimised wasm
 * build, where only functions forced inline are (cmake/SizeProfile.cmake). */
#if defined(__GNUC__)
#define CEL_HOT static inline __attribute__((always_inline))
#else
#define CEL_HOT static inline
#endif

sb_val sb_cel__eval_node(cel_ctx *c, const cel_node *n);
/* A new error located at node n (message without position). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
sb_val
sb_cel__err(cel_ctx *c, const cel_node *n, const char *fmt, ...);
sb_val sb_cel__err_at(cel_ctx *c, size_t pos, const char *msg);
/* Accounts n bytes of new allocation / n units of work; false (and sets the
 * sticky fatal error) when a limit is exceeded. */
bool sb_cel__charge_bytes(cel_ctx *c, size_t n);
bool sb_cel__charge_steps_slow(cel_ctx *c, uint64_t n);
CEL_HOT bool sb_cel__charge_steps(cel_ctx *c, uint64_t n)
{
    if (c->fatal.kind != SB_ERROR && n <= c->max_steps - c->steps) {
        c->steps += n;
        return true;
    }
    return sb_cel__charge_steps_slow(c, n);
}
/* The sticky error as a new reference. */
sb_val sb_cel__fatal(cel_ctx *c);
/* Marks an out-of-memory condition (sticky) and returns the error. */
sb_val sb_cel__oom(cel_ctx *c);
static inline bool sb_cel__is_err(sb_val v)
{
    return v.kind == SB_ERROR;
}

/* ---- operators (cel_ops.c) ---- */
sb_val sb_cel__binop(cel_ctx *c, const cel_node *n, int op, sb_val a, sb_val b);
sb_val sb_cel__negate(cel_ctx *c, const cel_node *n, sb_val a);
/* *a + b in place, for strings or bytes when *a is held only by the caller:
 * true when done (charged as the + would be); false to take the general
 * path, with nothing changed. */
bool sb_cel__append(cel_ctx *c, sb_val *a, sb_val b);
/* -1, 0, 1; or 2 when the pair cannot be ordered (no overload). NaN gives 3. */
int sb_cel__compare(sb_val a, sb_val b);
sb_val sb_cel__index(cel_ctx *c, const cel_node *n, sb_val obj, sb_val key);
/* obj.field; field is a string (a shared key makes the lookup cheap). */
sb_val sb_cel__select(cel_ctx *c, const cel_node *n, sb_val obj, sb_val field, size_t pos);
const char *sb_cel__type_name(sb_val v);
bool sb_cel__is_type_name(const char *s);
/* string to a value of each kind, as the conversion functions do */
sb_val sb_cel__convert(cel_ctx *c, const cel_node *n, const char *to, sb_val v);
/* a value that the evaluator allocated: checks the size limit */
sb_val sb_cel__new_string(cel_ctx *c, const cel_node *n, const char *s, size_t len);
sb_val sb_cel__new_bytes(cel_ctx *c, const cel_node *n, const char *s, size_t len);
sb_val sb_cel__buf_to_string(cel_ctx *c, const cel_node *n, sb_buf *b, bool bytes);

/* ---- builtins (cel_funcs.c) ---- */
typedef sb_val (*cel_fn)(cel_ctx *c, const cel_node *n, sb_val *args, uint32_t nargs);
typedef struct cel_builtin {
    const char *name;
    uint8_t styles; /* 1 = global f(x), 2 = member x.f() */
    cel_fn fn;
} cel_builtin;
#define STYLE_GLOBAL 1
#define STYLE_MEMBER 2
#define FN_UNKNOWN 0xFFFF
/* index of a builtin callable in `style`, or FN_UNKNOWN */
uint16_t sb_cel__builtin_find(const char *name, size_t len, int style);
const cel_builtin *sb_cel__builtin_at(uint16_t i);
sb_val sb_cel__no_overload(cel_ctx *c, const cel_node *n, sb_val *args, uint32_t nargs);

/* the extension function groups register their tables through these */
extern const cel_builtin sb_cel__strings_table[];
extern const size_t sb_cel__strings_count;
extern const cel_builtin sb_cel__math_table[];
extern const size_t sb_cel__math_count;
extern const cel_builtin sb_cel__time_table[];
extern const size_t sb_cel__time_count;

extern const cel_builtin sb_cel__opt_table[];
extern const size_t sb_cel__opt_count;

/* ---- optional values (cel_opt.c) ---- */
/* Selection (N_SELECT, N_HAS) on an optional receiver, or x.?f: an optional. */
sb_val sb_cel__opt_select(cel_ctx *c, const cel_node *n, sb_val o);
/* Indexing into an optional, or x[?k]: an optional (none when absent). */
sb_val sb_cel__opt_index(cel_ctx *c, const cel_node *n, sb_val o, sb_val k);
/* An optional entry ?x of a list or map literal (consumes v): its value, or
 * *skip when it is none; an error if v is not an optional. */
sb_val sb_cel__opt_elem(cel_ctx *c, const cel_node *n, sb_val v, bool *skip);
/* optMap / optFlatMap (N_COMP with C_OPT_MAP, C_OPT_FLAT_MAP). */
sb_val sb_cel__opt_comp(cel_ctx *c, const cel_node *n);
/* x.hasValue(), x.value(), x.orValue(y): evaluated by sb_cel__opt_peek_call
 * without building the optional x. */
bool sb_cel__opt_is_peek_call(const cel_node *n);
sb_val sb_cel__opt_peek_call(cel_ctx *c, const cel_node *n);
/* x.or(y), x.orValue(y) with x holding a value: the result without
 * evaluating y (true and *out set), else false. */
bool sb_cel__opt_shortcut(const cel_node *n, sb_val recv, sb_val *out);

/* ---- timestamps and durations (cel_time.c, cel_tz.c) ---- */
/* A timestamp value, or a range error when sec is outside 0001..9999. */
sb_val sb_cel__timestamp(cel_ctx *c, const cel_node *n, int64_t sec, int32_t nsec);
/* + and - among timestamps and durations: the result (maybe a range error)
 * in *out, or false when no overload applies. */
bool sb_cel__time_arith(cel_ctx *c, const cel_node *n, int op, sb_val a, sb_val b, sb_val *out);
/* Offset east of UTC in seconds of zone `name` (a table name or "+HH:MM")
 * at instant utc; false for an unknown zone. */
bool sb_cel__tz_offset(const char *name, size_t len, int64_t utc, int64_t *off);

/* ---- formatting (cel_format.c) ---- */
/* CEL string(double): Go's strconv 'g' shortest form ("1e+06", "0.0045"). */
void sb_cel__fmt_double(sb_buf *b, double d);
/* The same into out (SB_CEL_DOUBLE_CHARS bytes, NUL-terminated); the length. */
#define SB_CEL_DOUBLE_CHARS 32
size_t sb_cel__double_chars(char *out, double d);
/* string.format's "%s" of any value; false if v cannot be rendered. */
bool sb_cel__fmt_s(sb_buf *b, sb_val v, int depth);
sb_val sb_cel__format(cel_ctx *c, const cel_node *n, sb_val fmt, sb_val args);
sb_val sb_cel__quote(cel_ctx *c, const cel_node *n, sb_val s);

/* ---- Unicode simple case folding (cel_fold.c) ---- */
/* The representative of c's case orbit (c itself when it folds to nothing). */
int32_t sb_cel__fold(int32_t c);
/* Each character that folds to another one, in turn: start with *it = 0;
 * -1 after the last. */
int32_t sb_cel__fold_next(uint32_t *it);

/* ---- regular expressions (cel_regex.c) ---- */
typedef struct cel_regex cel_regex;
/* Compiles pat; NULL and a message in err (size errlen) if invalid or too big. */
cel_regex *sb_cel__regex_compile(const char *pat, size_t len, char *err, size_t errlen);
void sb_cel__regex_free(cel_regex *re);
/* 1 match, 0 no match, -1 work budget exhausted (*steps counts work). */
int sb_cel__regex_search(const cel_regex *re, const char *s, size_t len, uint64_t *steps, uint64_t max_steps);

#endif
