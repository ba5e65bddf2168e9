#include "sb_value.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../util/sb_alloc.h"
#include "sb_time.h"

/* Small helpers are declared inline: sibyl.wasm is compiled with
 * -finline-hint-functions (cmake/SizeProfile.cmake), which inlines only those.
 *
 * Heap objects. `refs` counts sb_val references; the static OOM error has
 * refs == 0 and is never freed. */
typedef struct sb_obj {
    uint32_t refs;
    uint32_t kind;
} sb_obj;

typedef struct sb_strobj {
    sb_obj h;
    size_t len;
    char data[]; /* len bytes + NUL */
} sb_strobj;

typedef struct sb_listobj {
    sb_obj h;
    size_t len, cap;
    sb_val *items;
} sb_listobj;

/* Small maps are scanned linearly; from MAP_INDEX_MIN entries on, an
 * open-addressing index (slot = entry index + 1, 0 = empty) is kept. Keys are
 * mostly shared, so a scan compares pointers, and a sweep's records (about
 * ten fields) are cheaper scanned than indexed. Keys and values sit side by
 * side in one array (one allocation, one cache line per entry looked at). */
#define MAP_INDEX_MIN 17
#define MAP_MAX_ENTRIES 0x3fffffffu

typedef struct sb_entry {
    sb_val k, v;
} sb_entry;

typedef struct sb_mapobj {
    sb_obj h;
    uint32_t len, cap;
    uint32_t index_cap; /* power of two, or 0 */
    uint32_t *index;
    sb_entry *e;
} sb_mapobj;

typedef struct sb_tsobj {
    sb_obj h;
    int64_t sec;
    int32_t nsec;
} sb_tsobj;

typedef struct sb_optobj {
    sb_obj h;
    sb_val v;
} sb_optobj;

static sb_optobj none_obj = {{0, SB_OPTIONAL}, {SB_NULL, 0, 0, 0, {.i = 0}}};

sb_obj sb__oom_obj = {0, SB_ERROR};
static const char oom_msg[] = "out of memory";

sb_val sb_oom(void)
{
    sb_val v = {SB_ERROR, 0, 0, 0, {.o = &sb__oom_obj}};
    return v;
}

static inline sb_val mk(sb_kind k)
{
    sb_val v;
    memset(&v, 0, sizeof v);
    v.kind = (uint8_t)k;
    return v;
}

sb_val sb_int(int64_t i) { sb_val v = mk(SB_INT); v.as.i = i; return v; }
sb_val sb_uint(uint64_t u) { sb_val v = mk(SB_UINT); v.as.u = u; return v; }
sb_val sb_double(double d) { sb_val v = mk(SB_DOUBLE); v.as.d = d; return v; }
sb_val sb_duration(int64_t ns) { sb_val v = mk(SB_DURATION); v.as.i = ns; return v; }

sb_val sb_timestamp(int64_t sec, int32_t nsec)
{
    sb_tsobj *o = sb_malloc(sizeof *o);
    if (!o)
        return sb_oom();
    o->h.refs = 1;
    o->h.kind = SB_TIMESTAMP;
    o->sec = sec;
    o->nsec = nsec;
    sb_val v = mk(SB_TIMESTAMP);
    v.as.o = &o->h;
    return v;
}

sb_val sb_optional(sb_val inner)
{
    if (inner.kind == SB_ERROR)
        return inner;
    sb_optobj *o = sb_malloc(sizeof *o);
    if (!o) {
        sb_val_free(inner);
        return sb_oom();
    }
    o->h.refs = 1;
    o->h.kind = SB_OPTIONAL;
    o->v = inner;
    sb_val v = mk(SB_OPTIONAL);
    v.as.o = &o->h;
    return v;
}

sb_val sb_optional_none(void)
{
    sb_val v = mk(SB_OPTIONAL);
    v.as.o = &none_obj.h;
    return v;
}

const sb_val *sb_optional_value(sb_val v)
{
    return v.kind == SB_OPTIONAL && v.as.o != &none_obj.h ? &((sb_optobj *)v.as.o)->v : NULL;
}

int64_t sb_timestamp_sec(sb_val v) { return v.kind == SB_TIMESTAMP ? ((sb_tsobj *)v.as.o)->sec : 0; }
int32_t sb_timestamp_nsec(sb_val v) { return v.kind == SB_TIMESTAMP ? ((sb_tsobj *)v.as.o)->nsec : 0; }

/* A string or bytes object of len bytes, of which the first `copy` come
 * from s; the caller fills the rest. */
static sb_val strobj_n(sb_kind k, const void *s, size_t copy, size_t len)
{
    if (len > ((size_t)-1 >> 2))
        return sb_oom();
    sb_strobj *o = sb_malloc(sizeof *o + len + 1);
    if (!o)
        return sb_oom();
    o->h.refs = 1;
    o->h.kind = k;
    o->len = len;
    if (copy)
        memcpy(o->data, s, copy);
    o->data[len] = '\0';
    sb_val v = mk(k);
    v.as.o = &o->h;
    return v;
}

static sb_val strobj(sb_kind k, const void *s, size_t len)
{
    return strobj_n(k, s, len, len);
}

/* --- shared map keys ---
 * The same few keys ("job_id", "hyperparameters", a parameter's name...)
 * recur in every record of a sweep, so keys made by sb_string_key are shared:
 * one string object per distinct short key, counted like any other
 * reference. The table holds no reference of its own: the last sb_val_free of
 * a key removes it, and the table itself is freed when it empties, so a host
 * that accounts memory through sb_alloc_set sees everything returned. Keys
 * longer than INTERN_MAX_LEN, keys past INTERN_MAX distinct ones, and keys
 * met when the table cannot grow are made as ordinary strings. Single-threaded,
 * as the whole core. */
#define OBJ_INTERNED 0x100u /* in sb_obj.kind: the object is in the table */
/* In a map's sb_obj.kind: whether some string key contains '.' is known
 * (MAP_DOTS_KNOWN), and the answer (MAP_DOTS); reset when a key is added or
 * removed. */
#define MAP_DOTS_KNOWN 0x200u
#define MAP_DOTS 0x400u
#define INTERN_MAX_LEN 48
#define INTERN_MAX 8192u

static struct {
    sb_strobj **slot; /* open addressing: NULL empty, &intern_tomb removed */
    uint32_t cap;     /* power of two, or 0 with slot NULL */
    uint32_t used;    /* live + removed slots */
    uint32_t live;
} interned;
static sb_strobj intern_tomb;

static inline uint64_t fnv(const void *p, size_t n, uint64_t h);

static inline uint64_t key_hash(const char *s, size_t n) { return fnv(s, n, 14695981039346656037ULL ^ SB_STRING); }

static bool intern_rehash(uint32_t cap)
{
    sb_strobj **slot = sb_calloc(cap, sizeof *slot);
    if (!slot)
        return false;
    for (uint32_t i = 0; i < interned.cap; i++) {
        sb_strobj *o = interned.slot[i];
        if (!o || o == &intern_tomb)
            continue;
        size_t j = (size_t)key_hash(o->data, o->len) & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = o;
    }
    sb_free(interned.slot);
    interned.slot = slot;
    interned.cap = cap;
    interned.used = interned.live;
    return true;
}

static void intern_drop(sb_strobj *o)
{
    size_t j = (size_t)key_hash(o->data, o->len) & (interned.cap - 1);
    while (interned.slot[j] != o)
        j = (j + 1) & (interned.cap - 1);
    interned.slot[j] = &intern_tomb;
    if (--interned.live == 0) {
        sb_free(interned.slot);
        memset(&interned, 0, sizeof interned);
    }
}

sb_val sb_string_key(const char *s, size_t len)
{
    if (len > INTERN_MAX_LEN)
        return strobj(SB_STRING, s, len);
    uint64_t h = key_hash(s, len);
    size_t put = (size_t)-1;
    if (interned.cap) {
        for (size_t j = (size_t)h & (interned.cap - 1);; j = (j + 1) & (interned.cap - 1)) {
            sb_strobj *o = interned.slot[j];
            if (!o) {
                if (put == (size_t)-1)
                    put = j;
                break;
            }
            if (o == &intern_tomb) {
                if (put == (size_t)-1)
                    put = j;
            } else if (o->len == len && memcmp(o->data, s, len) == 0) {
                o->h.refs++;
                sb_val v = mk(SB_STRING);
                v.as.o = &o->h;
                return v;
            }
        }
    }
    if (interned.live >= INTERN_MAX)
        return strobj(SB_STRING, s, len);
    if ((interned.used + 1) * 4 > interned.cap * 3) {
        uint32_t cap = interned.cap ? interned.cap : 64;
        while ((interned.live + 1) * 2 > cap)
            cap *= 2;
        if (!intern_rehash(cap))
            return strobj(SB_STRING, s, len);
        put = (size_t)h & (cap - 1);
        while (interned.slot[put])
            put = (put + 1) & (cap - 1);
    }
    sb_val v = strobj(SB_STRING, s, len);
    if (v.kind != SB_STRING)
        return v;
    v.as.o->kind |= OBJ_INTERNED;
    if (!interned.slot[put])
        interned.used++;
    interned.slot[put] = (sb_strobj *)v.as.o;
    interned.live++;
    return v;
}

static inline bool key_eq(sb_val k, const char *s, size_t n)
{
    if (k.kind != SB_STRING)
        return false;
    const sb_strobj *o = (const sb_strobj *)k.as.o;
    /* The first byte settles most mismatches among a record's few keys
     * without a call to memcmp. */
    return o->len == n && (n == 0 || (o->data[0] == s[0] && memcmp(o->data, s, n) == 0));
}

sb_val sb_text_concat(sb_val a, sb_val b)
{
    size_t la = sb_str_len(a), lb = sb_str_len(b);
    if (la > ((size_t)-1 >> 2) || lb > ((size_t)-1 >> 2))
        return sb_oom();
    sb_val r = strobj_n(a.kind == SB_BYTES ? SB_BYTES : SB_STRING, sb_str(a), la, la + lb);
    if (r.kind != SB_ERROR && lb) {
        sb_strobj *o = (sb_strobj *)r.as.o;
        memcpy(o->data + la, sb_str(b), lb);
    }
    return r;
}

bool sb_text_append(sb_val *s, const char *p, size_t n)
{
    if ((s->kind != SB_STRING && s->kind != SB_BYTES) || s->as.o->refs != 1 || (s->as.o->kind & OBJ_INTERNED))
        return false;
    sb_strobj *o = (sb_strobj *)s->as.o;
    if (n > ((size_t)-1 >> 2) - o->len)
        return false;
    o = sb_realloc(o, sizeof *o + o->len + n + 1);
    if (!o)
        return false;
    memcpy(o->data + o->len, p, n);
    o->len += n;
    o->data[o->len] = '\0';
    s->as.o = &o->h;
    return true;
}

sb_val sb_string(const char *s, size_t len) { return strobj(SB_STRING, s, len); }
sb_val sb_string_cstr(const char *s) { return strobj(SB_STRING, s, strlen(s)); }
sb_val sb_bytes(const void *p, size_t len) { return strobj(SB_BYTES, p, len); }
sb_val sb_type(const char *name) { return strobj(SB_TYPE, name, strlen(name)); }
sb_val sb_error(const char *msg) { return strobj(SB_ERROR, msg, strlen(msg)); }

sb_val sb_errorf(const char *fmt, ...)
{
    sb_buf b = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (sb_buf_failed(&b)) {
        sb_buf_free(&b);
        return sb_oom();
    }
    sb_val v = sb_error(sb_buf_str(&b));
    sb_buf_free(&b);
    return v;
}

sb_val sb_list_new(size_t cap_hint)
{
    sb_listobj *o = sb_calloc(1, sizeof *o);
    if (!o)
        return sb_oom();
    o->h.refs = 1;
    o->h.kind = SB_LIST;
    if (cap_hint) {
        o->items = sb_malloc(cap_hint * sizeof *o->items);
        if (!o->items) {
            sb_free(o);
            return sb_oom();
        }
        o->cap = cap_hint;
    }
    sb_val v = mk(SB_LIST);
    v.as.o = &o->h;
    return v;
}

sb_val sb_map_new(size_t cap_hint)
{
    sb_mapobj *o = sb_calloc(1, sizeof *o);
    if (!o)
        return sb_oom();
    o->h.refs = 1;
    o->h.kind = SB_MAP;
    if (cap_hint) {
        o->e = cap_hint <= MAP_MAX_ENTRIES ? sb_malloc(cap_hint * sizeof *o->e) : NULL;
        if (!o->e) {
            sb_free(o);
            return sb_oom();
        }
        o->cap = (uint32_t)cap_hint;
    }
    sb_val v = mk(SB_MAP);
    v.as.o = &o->h;
    return v;
}

static inline bool has_obj(sb_val v) { return v.kind >= SB_STRING && v.kind != SB_DURATION; }
/* string, bytes, type and error values share sb_strobj */
static inline bool has_text(sb_val v)
{
    return v.kind == SB_STRING || v.kind == SB_BYTES || v.kind == SB_TYPE || v.kind == SB_ERROR;
}

sb_val sb_val_ref(sb_val v)
{
    if (has_obj(v) && v.as.o->refs)
        v.as.o->refs++;
    return v;
}

void sb_val_free(sb_val v)
{
    if (!has_obj(v) || !v.as.o || v.as.o->refs == 0)
        return;
    if (--v.as.o->refs)
        return;
    switch (v.kind) {
    case SB_LIST: {
        sb_listobj *l = (sb_listobj *)v.as.o;
        for (size_t i = 0; i < l->len; i++)
            sb_val_free(l->items[i]);
        sb_free(l->items);
        break;
    }
    case SB_MAP: {
        sb_mapobj *m = (sb_mapobj *)v.as.o;
        for (size_t i = 0; i < m->len; i++) {
            sb_val_free(m->e[i].k);
            sb_val_free(m->e[i].v);
        }
        sb_free(m->e);
        sb_free(m->index);
        break;
    }
    case SB_STRING:
        if (v.as.o->kind & OBJ_INTERNED)
            intern_drop((sb_strobj *)v.as.o);
        break;
    case SB_OPTIONAL:
        sb_val_free(((sb_optobj *)v.as.o)->v);
        break;
    default:
        break;
    }
    sb_free(v.as.o);
}

const char *sb_kind_name(sb_kind k)
{
    static const char *const names[] = {"null", "bool", "int",  "uint", "double", "string",  "bytes",
                                        "list", "map",  "type", "error", "duration", "timestamp", "optional"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

const char *sb_str(sb_val v)
{
    if (sb_is_oom(v))
        return oom_msg;
    if (!has_text(v))
        return "";
    return ((sb_strobj *)v.as.o)->data;
}

size_t sb_str_len(sb_val v)
{
    if (sb_is_oom(v))
        return sizeof oom_msg - 1;
    if (!has_text(v))
        return 0;
    return ((sb_strobj *)v.as.o)->len;
}

bool sb_str_eq(sb_val v, const char *s)
{
    if (v.kind != SB_STRING)
        return false;
    size_t n = strlen(s);
    return sb_str_len(v) == n && memcmp(sb_str(v), s, n) == 0;
}

/* --- lists --- */

size_t sb_list_len(sb_val list)
{
    return list.kind == SB_LIST ? ((sb_listobj *)list.as.o)->len : 0;
}

const sb_val *sb_list_at(sb_val list, size_t i)
{
    if (list.kind != SB_LIST)
        return NULL;
    sb_listobj *l = (sb_listobj *)list.as.o;
    return i < l->len ? &l->items[i] : NULL;
}

bool sb_list_push(sb_val *list, sb_val item)
{
    if (list->kind != SB_LIST || list->as.o->refs != 1) {
        sb_val_free(item);
        return false;
    }
    sb_listobj *l = (sb_listobj *)list->as.o;
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        sb_val *p = sb_realloc(l->items, cap * sizeof *p);
        if (!p) {
            sb_val_free(item);
            return false;
        }
        l->items = p;
        l->cap = cap;
    }
    l->items[l->len++] = item;
    return true;
}

bool sb_list_set(sb_val *list, size_t i, sb_val item)
{
    if (list->kind != SB_LIST || list->as.o->refs != 1 || i >= sb_list_len(*list)) {
        sb_val_free(item);
        return false;
    }
    sb_listobj *l = (sb_listobj *)list->as.o;
    sb_val_free(l->items[i]);
    l->items[i] = item;
    return true;
}

/* --- maps --- */

static inline uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}


size_t sb_map_len(sb_val map)
{
    return map.kind == SB_MAP ? ((sb_mapobj *)map.as.o)->len : 0;
}

const sb_val *sb_map_key_at(sb_val map, size_t i)
{
    if (map.kind != SB_MAP)
        return NULL;
    sb_mapobj *m = (sb_mapobj *)map.as.o;
    return i < m->len ? &m->e[i].k : NULL;
}

const sb_val *sb_map_val_at(sb_val map, size_t i)
{
    if (map.kind != SB_MAP)
        return NULL;
    sb_mapobj *m = (sb_mapobj *)map.as.o;
    return i < m->len ? &m->e[i].v : NULL;
}

static bool index_rebuild(sb_mapobj *m, size_t want)
{
    size_t cap = 16;
    while (cap < want * 2)
        cap *= 2;
    uint32_t *idx = sb_calloc(cap, sizeof *idx);
    if (!idx)
        return false;
    for (size_t i = 0; i < m->len; i++) {
        size_t s = (size_t)sb_val_hash(m->e[i].k) & (cap - 1);
        while (idx[s])
            s = (s + 1) & (cap - 1);
        idx[s] = (uint32_t)i + 1;
    }
    sb_free(m->index);
    m->index = idx;
    m->index_cap = (uint32_t)cap;
    return true;
}

static inline long map_find(sb_mapobj *m, sb_val key)
{
    if (!m->index && key.kind == SB_STRING && (key.as.o->kind & OBJ_INTERNED)) {
        /* A shared key against a small map: pointers, except for the rare
         * key that is not shared (too long, or the table was full). */
        const sb_strobj *ko = (const sb_strobj *)key.as.o;
        for (size_t i = 0; i < m->len; i++) {
            sb_val k = m->e[i].k;
            if (k.kind == SB_STRING &&
                (k.as.o == key.as.o || (!(k.as.o->kind & OBJ_INTERNED) && key_eq(k, ko->data, ko->len))))
                return (long)i;
        }
        return -1;
    }
    if (m->index) {
        size_t s = (size_t)sb_val_hash(key) & (m->index_cap - 1);
        while (m->index[s]) {
            size_t i = m->index[s] - 1;
            if (sb_val_equal(m->e[i].k, key))
                return (long)i;
            s = (s + 1) & (m->index_cap - 1);
        }
        return -1;
    }
    for (size_t i = 0; i < m->len; i++)
        if (sb_val_equal(m->e[i].k, key))
            return (long)i;
    return -1;
}

const sb_val *sb_map_get(sb_val map, sb_val key)
{
    if (map.kind != SB_MAP)
        return NULL;
    sb_mapobj *m = (sb_mapobj *)map.as.o;
    long i = map_find(m, key);
    return i < 0 ? NULL : &m->e[i].v;
}

const sb_val *sb_map_get_path(sb_val map, const sb_val *keys, size_t n)
{
    const sb_val *v = &map;
    for (size_t i = 0; i < n; i++) {
        if (v->kind != SB_MAP)
            return NULL;
        sb_mapobj *m = (sb_mapobj *)v->as.o;
        long at = map_find(m, keys[i]);
        if (at < 0)
            return NULL;
        v = &m->e[at].v;
    }
    return v == &map ? NULL : v;
}

size_t sb_map_find(sb_val map, sb_val key)
{
    if (map.kind != SB_MAP)
        return (size_t)-1;
    long i = map_find((sb_mapobj *)map.as.o, key);
    return i < 0 ? (size_t)-1 : (size_t)i;
}

const sb_val *sb_map_get_str(sb_val map, const char *key)
{
    if (map.kind != SB_MAP)
        return NULL;
    sb_mapobj *m = (sb_mapobj *)map.as.o;
    size_t n = strlen(key);
    if (m->index) {
        /* Same hash as sb_val_hash gives a string key, without building one. */
        uint64_t h = fnv(key, n, 14695981039346656037ULL ^ SB_STRING);
        size_t slot = (size_t)h & (m->index_cap - 1);
        while (m->index[slot]) {
            size_t i = m->index[slot] - 1;
            if (key_eq(m->e[i].k, key, n))
                return &m->e[i].v;
            slot = (slot + 1) & (m->index_cap - 1);
        }
        return NULL;
    }
    for (size_t i = 0; i < m->len; i++)
        if (key_eq(m->e[i].k, key, n))
            return &m->e[i].v;
    return NULL;
}

bool sb_map_has_dotted_key(sb_val map)
{
    if (map.kind != SB_MAP)
        return false;
    sb_mapobj *m = (sb_mapobj *)map.as.o;
    if (!(m->h.kind & MAP_DOTS_KNOWN)) {
        bool dots = false;
        for (size_t i = 0; i < m->len && !dots; i++)
            dots = m->e[i].k.kind == SB_STRING && memchr(sb_str(m->e[i].k), '.', sb_str_len(m->e[i].k));
        m->h.kind |= MAP_DOTS_KNOWN | (dots ? MAP_DOTS : 0); /* a cache: allowed on a shared map */
    }
    return m->h.kind & MAP_DOTS;
}

bool sb_map_set(sb_val *map, sb_val key, sb_val val)
{
    if (map->kind != SB_MAP || map->as.o->refs != 1 || key.kind >= SB_LIST) {
        sb_val_free(key);
        sb_val_free(val);
        return false;
    }
    sb_mapobj *m = (sb_mapobj *)map->as.o;
    long found = map_find(m, key);
    if (found >= 0) {
        sb_val_free(key);
        sb_val_free(m->e[found].v);
        m->e[found].v = val;
        return true;
    }
    m->h.kind &= ~(MAP_DOTS_KNOWN | MAP_DOTS);
    if (m->len == m->cap) {
        uint32_t cap = m->cap ? m->cap * 2 : 4;
        sb_entry *e = m->cap < MAP_MAX_ENTRIES / 2 ? sb_realloc(m->e, cap * sizeof *e) : NULL;
        if (!e)
            goto fail;
        m->e = e;
        m->cap = cap;
    }
    if (m->len + 1 >= MAP_INDEX_MIN && (m->len + 1) * 2 > m->index_cap) {
        m->e[m->len].k = key; /* index the new entry too */
        m->len++;
        bool ok = index_rebuild(m, m->len);
        m->len--;
        if (!ok)
            goto fail;
        m->e[m->len].k = key;
        m->e[m->len++].v = val;
        return true;
    }
    if (m->index) {
        size_t s = (size_t)sb_val_hash(key) & (m->index_cap - 1);
        while (m->index[s])
            s = (s + 1) & (m->index_cap - 1);
        m->index[s] = (uint32_t)m->len + 1;
    }
    m->e[m->len].k = key;
    m->e[m->len++].v = val;
    return true;
fail:
    sb_val_free(key);
    sb_val_free(val);
    return false;
}

bool sb_map_set_str(sb_val *map, const char *key, sb_val val)
{
    sb_val k = sb_string_key(key, strlen(key));
    if (k.kind == SB_ERROR) {
        sb_val_free(val);
        return false;
    }
    return sb_map_set(map, k, val);
}

bool sb_map_remove(sb_val *map, sb_val key)
{
    if (map->kind != SB_MAP || map->as.o->refs != 1)
        return false;
    sb_mapobj *m = (sb_mapobj *)map->as.o;
    long i = map_find(m, key);
    if (i < 0)
        return false;
    m->h.kind &= ~(MAP_DOTS_KNOWN | MAP_DOTS);
    sb_val_free(m->e[i].k);
    sb_val_free(m->e[i].v);
    memmove(&m->e[i], &m->e[i + 1], (m->len - (size_t)i - 1) * sizeof *m->e);
    m->len--;
    if (m->index && !index_rebuild(m, m->len)) {
        /* Fall back to linear scans rather than keep a stale index. */
        sb_free(m->index);
        m->index = NULL;
        m->index_cap = 0;
    }
    return true;
}

sb_val sb_val_clone(sb_val v)
{
    sb_val out;
    switch (v.kind) {
    case SB_LIST: {
        size_t n = sb_list_len(v);
        out = sb_list_new(n);
        if (out.kind == SB_ERROR)
            return out;
        for (size_t i = 0; i < n; i++) {
            sb_val c = sb_val_clone(*sb_list_at(v, i));
            if (c.kind == SB_ERROR && sb_is_oom(c)) {
                sb_val_free(out);
                return c;
            }
            if (!sb_list_push(&out, c)) {
                sb_val_free(out);
                return sb_oom();
            }
        }
        break;
    }
    case SB_MAP: {
        size_t n = sb_map_len(v);
        out = sb_map_new(n);
        if (out.kind == SB_ERROR)
            return out;
        for (size_t i = 0; i < n; i++) {
            sb_val c = sb_val_clone(*sb_map_val_at(v, i));
            if (sb_is_oom(c) || !sb_map_set(&out, sb_val_ref(*sb_map_key_at(v, i)), c)) {
                sb_val_free(out);
                return sb_oom();
            }
        }
        break;
    }
    default:
        return sb_val_ref(v);
    }
    out.line = v.line;
    out.col = v.col;
    out.flags = v.flags;
    return out;
}

/* --- comparison --- */

bool sb_val_as_double(sb_val v, double *out)
{
    switch (v.kind) {
    case SB_INT: *out = (double)v.as.i; return true;
    case SB_UINT: *out = (double)v.as.u; return true;
    case SB_DOUBLE: *out = v.as.d; return true;
    default: return false;
    }
}

static inline bool is_num(sb_val v) { return v.kind == SB_INT || v.kind == SB_UINT || v.kind == SB_DOUBLE; }

/* Exact cross-kind numeric equality (no rounding through double for
 * int/uint pairs; int/double compared exactly as CEL requires). */
static bool num_equal(sb_val a, sb_val b)
{
    if (a.kind == b.kind) {
        switch (a.kind) {
        case SB_INT: return a.as.i == b.as.i;
        case SB_UINT: return a.as.u == b.as.u;
        default: return a.as.d == b.as.d;
        }
    }
    if (a.kind == SB_DOUBLE || b.kind == SB_DOUBLE) {
        sb_val d = a.kind == SB_DOUBLE ? a : b, o = a.kind == SB_DOUBLE ? b : a;
        double x = d.as.d;
        if (x != x)
            return false;
        if (o.kind == SB_INT) {
            if (x < -9223372036854775808.0 || x >= 9223372036854775808.0 || x != floor(x))
                return false;
            return (int64_t)x == o.as.i;
        }
        if (x < 0 || x >= 18446744073709551616.0 || x != floor(x))
            return false;
        return (uint64_t)x == o.as.u;
    }
    sb_val i = a.kind == SB_INT ? a : b, u = a.kind == SB_INT ? b : a;
    return i.as.i >= 0 && (uint64_t)i.as.i == u.as.u;
}

/* Strings and bytes are always string objects (unlike errors: the
 * out-of-memory error is not). */
/* Eight bytes a step: wasi-libc's memcmp goes byte by byte, and CEL
 * compares short strings all the time. */
static inline bool same_bytes(const char *x, const char *y, size_t n)
{
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        uint64_t u, v;
        memcpy(&u, x, 8);
        memcpy(&v, y, 8);
        if (u != v)
            return false;
    }
    while (n--)
        if (*x++ != *y++)
            return false;
    return true;
}

static inline bool same_text(sb_val a, sb_val b)
{
    const sb_strobj *x = (const sb_strobj *)a.as.o, *y = (const sb_strobj *)b.as.o;
    return x->len == y->len && same_bytes(x->data, y->data, x->len);
}

bool sb_val_equal(sb_val a, sb_val b)
{
    if (is_num(a) && is_num(b))
        return num_equal(a, b);
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case SB_NULL: return true;
    case SB_BOOL: return a.as.b == b.as.b;
    case SB_DURATION: return a.as.i == b.as.i;
    case SB_TIMESTAMP: return sb_timestamp_sec(a) == sb_timestamp_sec(b) && sb_timestamp_nsec(a) == sb_timestamp_nsec(b);
    case SB_OPTIONAL: {
        const sb_val *x = sb_optional_value(a), *y = sb_optional_value(b);
        return x && y ? sb_val_equal(*x, *y) : x == y;
    }
    case SB_STRING:
        /* Map lookups compare keys, mostly shared ones: the same object is
         * equal, and two distinct shared keys differ (the table never holds
         * two objects with the same text). */
        if (a.as.o == b.as.o)
            return true;
        if (a.as.o->kind & b.as.o->kind & OBJ_INTERNED)
            return false;
        return same_text(a, b);
    case SB_BYTES: return same_text(a, b);
    case SB_TYPE:
    case SB_ERROR:
        return sb_str_len(a) == sb_str_len(b) && memcmp(sb_str(a), sb_str(b), sb_str_len(a)) == 0;
    case SB_LIST: {
        size_t n = sb_list_len(a);
        if (n != sb_list_len(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!sb_val_equal(*sb_list_at(a, i), *sb_list_at(b, i)))
                return false;
        return true;
    }
    case SB_MAP: {
        size_t n = sb_map_len(a);
        if (n != sb_map_len(b))
            return false;
        for (size_t i = 0; i < n; i++) {
            const sb_val *o = sb_map_get(b, *sb_map_key_at(a, i));
            if (!o || !sb_val_equal(*sb_map_val_at(a, i), *o))
                return false;
        }
        return true;
    }
    default: return false;
    }
}

uint64_t sb_val_hash(sb_val v)
{
    uint64_t h = 14695981039346656037ULL;
    switch (v.kind) {
    case SB_INT:
    case SB_UINT:
    case SB_DOUBLE: {
        /* Equal numbers must hash alike: hash integral values as int64/uint64. */
        double d;
        sb_val_as_double(v, &d);
        if (v.kind == SB_UINT && v.as.u > INT64_MAX)
            return fnv(&v.as.u, sizeof v.as.u, h ^ 2);
        if (v.kind == SB_INT)
            return fnv(&v.as.i, sizeof v.as.i, h ^ 2);
        if (v.kind == SB_UINT) {
            int64_t i = (int64_t)v.as.u;
            return fnv(&i, sizeof i, h ^ 2);
        }
        if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
            int64_t i = (int64_t)d;
            return fnv(&i, sizeof i, h ^ 2);
        }
        if (d >= 0 && d < 18446744073709551616.0 && d == floor(d)) {
            uint64_t u = (uint64_t)d;
            return fnv(&u, sizeof u, h ^ 2);
        }
        return fnv(&d, sizeof d, h ^ 3);
    }
    case SB_BOOL: return h ^ (v.as.b ? 7 : 5);
    case SB_DURATION: return fnv(&v.as.i, sizeof v.as.i, h ^ SB_DURATION);
    case SB_TIMESTAMP: {
        int64_t t[2] = {sb_timestamp_sec(v), sb_timestamp_nsec(v)};
        return fnv(t, sizeof t, h ^ SB_TIMESTAMP);
    }
    case SB_OPTIONAL: {
        const sb_val *x = sb_optional_value(v);
        return x ? sb_val_hash(*x) ^ SB_OPTIONAL : h;
    }
    case SB_NULL: return h;
    case SB_STRING:
    case SB_BYTES:
    case SB_TYPE:
    case SB_ERROR:
        return fnv(sb_str(v), sb_str_len(v), h ^ v.kind);
    default:
        return h ^ v.kind;
    }
}

/* --- JSON output --- */

void sb_base64_encode(sb_buf *out, const unsigned char *p, size_t len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < len; i += 3) {
        unsigned n = (unsigned)p[i] << 16;
        if (i + 1 < len)
            n |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            n |= p[i + 2];
        char q[4] = {tbl[(n >> 18) & 63], tbl[(n >> 12) & 63], i + 1 < len ? tbl[(n >> 6) & 63] : '=',
                     i + 2 < len ? tbl[n & 63] : '='};
        sb_buf_append(out, q, 4);
    }
}

static void indent(sb_buf *out, int flags, int depth)
{
    if (!(flags & SB_JSON_PRETTY))
        return;
    sb_buf_putc(out, '\n');
    for (int i = 0; i < depth; i++)
        sb_buf_puts(out, "  ");
}

/* Integers are most of the numbers a sweep writes; printf's %lld costs a
 * few times more than this (and much more in the wasm build). */
static inline void put_u64(sb_buf *out, uint64_t u, bool neg)
{
    char tmp[24], *p = tmp + sizeof tmp;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (neg)
        *--p = '-';
    sb_buf_append(out, p, (size_t)(tmp + sizeof tmp - p));
}

static void write_json(sb_buf *out, sb_val v, int flags, int depth)
{
    switch (v.kind) {
    case SB_NULL: sb_buf_puts(out, "null"); break;
    case SB_BOOL: sb_buf_puts(out, v.as.b ? "true" : "false"); break;
    case SB_INT: put_u64(out, v.as.i < 0 ? 0 - (uint64_t)v.as.i : (uint64_t)v.as.i, v.as.i < 0); break;
    case SB_UINT: put_u64(out, v.as.u, false); break;
    case SB_DOUBLE:
        if (isfinite(v.as.d))
            sb_buf_double(out, v.as.d);
        else
            sb_buf_puts(out, "null");
        break;
    case SB_STRING:
    case SB_TYPE: sb_buf_json_string(out, sb_str(v), sb_str_len(v)); break;
    case SB_BYTES:
        sb_buf_putc(out, '"');
        sb_base64_encode(out, (const unsigned char *)sb_str(v), sb_str_len(v));
        sb_buf_putc(out, '"');
        break;
    case SB_ERROR:
        sb_buf_puts(out, "{\"error\":");
        if (flags & SB_JSON_PRETTY)
            sb_buf_putc(out, ' ');
        sb_buf_json_string(out, sb_str(v), sb_str_len(v));
        sb_buf_putc(out, '}');
        break;
    case SB_OPTIONAL: {
        const sb_val *x = sb_optional_value(v);
        write_json(out, x ? *x : sb_null(), flags, depth);
        break;
    }
    case SB_DURATION:
    case SB_TIMESTAMP:
        sb_buf_putc(out, '"');
        if (v.kind == SB_DURATION)
            sb_time_write_dur(out, v.as.i);
        else
            sb_time_write_ts(out, sb_timestamp_sec(v), sb_timestamp_nsec(v));
        sb_buf_putc(out, '"');
        break;
    case SB_LIST: {
        size_t n = sb_list_len(v);
        sb_buf_putc(out, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_buf_putc(out, ',');
            indent(out, flags, depth + 1);
            write_json(out, *sb_list_at(v, i), flags, depth + 1);
        }
        if (n)
            indent(out, flags, depth);
        sb_buf_putc(out, ']');
        break;
    }
    case SB_MAP: {
        size_t n = sb_map_len(v);
        sb_buf_putc(out, '{');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_buf_putc(out, ',');
            indent(out, flags, depth + 1);
            sb_val k = *sb_map_key_at(v, i);
            if (k.kind == SB_STRING) {
                write_json(out, k, flags, depth + 1);
            } else {
                sb_buf kb = SB_BUF_INIT;
                write_json(&kb, k, 0, 0);
                sb_buf_json_string(out, sb_buf_str(&kb), kb.len);
                if (sb_buf_failed(&kb))
                    out->failed = true;
                sb_buf_free(&kb);
            }
            sb_buf_puts(out, (flags & SB_JSON_PRETTY) ? ": " : ":");
            write_json(out, *sb_map_val_at(v, i), flags, depth + 1);
        }
        if (n)
            indent(out, flags, depth);
        sb_buf_putc(out, '}');
        break;
    }
    default: sb_buf_puts(out, "null"); break;
    }
}

void sb_val_write_json(sb_buf *out, sb_val v, int flags) { write_json(out, v, flags, 0); }

char *sb_val_to_json(sb_val v, int flags)
{
    sb_buf b = SB_BUF_INIT;
    sb_val_write_json(&b, v, flags);
    return sb_buf_take(&b);
}
