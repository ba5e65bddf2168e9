/* The Slurm driver's pure half (slurm_parse.h). */
#include "slurm_parse.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json/sb_json.h"

static const struct {
    const char *word;
    slurm_phase phase;
} states[] = {
    {"PENDING", SLURM_QUEUED},      {"REQUEUED", SLURM_QUEUED},     {"REQUEUE_HOLD", SLURM_QUEUED},
    {"REQUEUE_FED", SLURM_QUEUED},  {"CONFIGURING", SLURM_QUEUED},  {"RESV_DEL_HOLD", SLURM_QUEUED},
    {"RUNNING", SLURM_RUNNING},     {"COMPLETING", SLURM_RUNNING},  {"SUSPENDED", SLURM_RUNNING},
    {"STOPPED", SLURM_RUNNING},     {"SIGNALING", SLURM_RUNNING},   {"STAGE_OUT", SLURM_RUNNING},
    {"RESIZING", SLURM_RUNNING},    {"COMPLETED", SLURM_COMPLETED}, {"FAILED", SLURM_FAILED},
    {"TIMEOUT", SLURM_FAILED},      {"NODE_FAIL", SLURM_FAILED},    {"OUT_OF_MEMORY", SLURM_FAILED},
    {"PREEMPTED", SLURM_FAILED},    {"BOOT_FAIL", SLURM_FAILED},    {"DEADLINE", SLURM_FAILED},
    {"SPECIAL_EXIT", SLURM_FAILED}, {"CANCELLED", SLURM_CANCELLED}, {"REVOKED", SLURM_CANCELLED},
};

slurm_phase slurm_state_phase(const char *state, size_t len)
{
    size_t n = 0;
    while (n < len && state[n] && state[n] != '+' && state[n] != ' ')
        n++;
    for (size_t i = 0; i < sizeof states / sizeof *states; i++)
        if (strlen(states[i].word) == n && memcmp(states[i].word, state, n) == 0)
            return states[i].phase;
    return SLURM_UNKNOWN;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool slurm_parse_sbatch(const char *text, size_t len, char id[24])
{
    size_t n = 0;
    while (n < len && is_digit(text[n]))
        n++;
    if (n == 0 || n > 19)
        return false;
    size_t end = n;
    if (end < len && text[end] == ';') /* ";cluster" on a multi-cluster setup */
        while (end < len && text[end] != '\n' && text[end] != '\r')
            end++;
    while (end < len && (text[end] == '\n' || text[end] == '\r' || text[end] == ' '))
        end++;
    if (end != len)
        return false;
    memcpy(id, text, n);
    id[n] = 0;
    return true;
}

/* Copies field [p, q) into dst (cap bytes with NUL); false when too long or
 * holding a control byte. */
static bool copy_field(char *dst, size_t cap, const char *p, const char *q)
{
    size_t n = (size_t)(q - p);
    if (n >= cap || memchr(p, 0, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20)
            return false;
    memcpy(dst, p, n);
    dst[n] = 0;
    return true;
}

static bool valid_id(const char *id)
{
    /* 123, or an array task 123_4 (squeue also prints 123_[5-9] for the
     * pending rest of an array: not a job this driver submits) */
    size_t i = 0;
    while (is_digit(id[i]))
        i++;
    if (i == 0)
        return false;
    if (id[i] == '_') {
        size_t k = ++i;
        while (is_digit(id[i]))
            i++;
        if (i == k)
            return false;
    }
    return id[i] == 0;
}

static bool parse_int(const char *s, long long max, long long *out)
{
    long long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!is_digit(*s) || v > (max - (*s - '0')) / 10)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

static bool parse_row(const char *line, size_t len, slurm_row *r, const char **what)
{
    const char *p = line, *end = line + len, *f[4];
    size_t nf = 0;
    for (const char *q = p; q < end && nf < 4; q++)
        if (*q == '|') {
            f[nf++] = q;
        }
    if (nf < 4) {
        *what = "expected 4 fields separated by '|'";
        return false;
    }
    /* after the 4th '|' only spaces may follow */
    for (const char *q = f[3] + 1; q < end; q++)
        if (*q != ' ') {
            *what = "text after the 4th field";
            return false;
        }
    char code[24];
    if (!copy_field(r->id, sizeof r->id, p, f[0]) || !valid_id(r->id)) {
        *what = "bad job id";
        return false;
    }
    if (!copy_field(r->state, sizeof r->state, f[0] + 1, f[1]) || !r->state[0]) {
        *what = "bad state";
        return false;
    }
    if (!copy_field(r->reason, sizeof r->reason, f[1] + 1, f[2])) {
        *what = "bad reason";
        return false;
    }
    if (!copy_field(code, sizeof code, f[2] + 1, f[3])) {
        *what = "bad exit_code";
        return false;
    }
    long long ws = 0;
    r->exit_code = -1;
    r->signal = 0;
    if (strcmp(code, "N/A") == 0 || strcmp(code, "") == 0)
        return true;
    if (!parse_int(code, 0xffffffffLL, &ws)) {
        *what = "exit_code is not a wait status";
        return false;
    }
    /* a raw wait status: low 7 bits the signal, bits 8-15 the exit status */
    if ((ws & 0x7f) != 0)
        r->signal = (int)(ws & 0x7f);
    else
        r->exit_code = (int)((ws >> 8) & 0xff);
    return true;
}

typedef bool (*row_fn)(const char *line, size_t len, slurm_row *r, const char **what);

/* One row per line of a command's output; lines that are empty (or, with
 * spaces_blank, only spaces) are skipped. -1 with err naming the tool and the
 * line on the first bad row. */
static long parse_rows(const char *tool, row_fn row, bool spaces_blank, const char *text, size_t len,
                       slurm_row *rows, size_t max, char *err, size_t errlen)
{
    size_t n = 0, lineno = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        lineno++;
        size_t k = j;
        if (k > i && text[k - 1] == '\r')
            k--;
        bool blank = true;
        for (size_t m = i; blank && m < k; m++)
            blank = spaces_blank && text[m] == ' ';
        if (!blank) {
            const char *what = NULL;
            if (n == max)
                what = "more rows than jobs asked for";
            else if (row(text + i, k - i, &rows[n], &what))
                n++;
            if (what) {
                snprintf(err, errlen, "%s output line %zu: %s", tool, lineno, what);
                return -1;
            }
        }
        i = j + 1;
    }
    return (long)n;
}

long slurm_parse_squeue(const char *text, size_t len, slurm_row *rows, size_t max, char *err, size_t errlen)
{
    return parse_rows("squeue", parse_row, true, text, len, rows, max, err, errlen);
}

/* "id|STATE|exit:signal" */
static bool parse_sacct_row(const char *line, size_t len, slurm_row *r, const char **what)
{
    const char *end = line + len, *a = memchr(line, '|', len),
               *b = a ? memchr(a + 1, '|', (size_t)(end - a - 1)) : NULL;
    if (!b || memchr(b + 1, '|', (size_t)(end - b - 1))) {
        *what = "expected 3 fields separated by '|'";
        return false;
    }
    if (!copy_field(r->id, sizeof r->id, line, a) || !valid_id(r->id)) {
        *what = "bad job id";
        return false;
    }
    if (!copy_field(r->state, sizeof r->state, a + 1, b) || !r->state[0]) {
        *what = "bad state";
        return false;
    }
    r->reason[0] = 0;
    char code[24], *colon;
    long long ex = 0, sig = 0;
    if (!copy_field(code, sizeof code, b + 1, end) || !(colon = strchr(code, ':'))) {
        *what = "bad ExitCode";
        return false;
    }
    *colon = 0;
    if (!parse_int(code, 255, &ex) || !parse_int(colon + 1, 127, &sig)) {
        *what = "bad ExitCode";
        return false;
    }
    r->signal = (int)sig;
    r->exit_code = sig ? -1 : (int)ex;
    return true;
}

long slurm_parse_sacct(const char *text, size_t len, slurm_row *rows, size_t max, char *err, size_t errlen)
{
    return parse_rows("sacct", parse_sacct_row, false, text, len, rows, max, err, errlen);
}

bool slurm_config_has_accounting(const char *text, size_t len)
{
    static const char key[] = "AccountingStorageType";
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        if (j - i > sizeof key && memcmp(text + i, key, sizeof key - 1) == 0 &&
            (text[i + sizeof key - 1] == ' ' || text[i + sizeof key - 1] == '=')) {
            const char *v = memchr(text + i, '=', j - i);
            if (!v)
                return false;
            v++;
            while (v < text + j && *v == ' ')
                v++;
            static const char none[] = "accounting_storage/none";
            size_t vn = (size_t)(text + j - v);
            while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\r'))
                vn--;
            return vn > 0 && !(vn == sizeof none - 1 && memcmp(v, none, vn) == 0);
        }
        i = j + 1;
    }
    return false;
}

static bool parse_i64(const char *p, const char *end, int64_t *out)
{
    int64_t v = 0;
    if (p == end)
        return false;
    for (; p < end; p++) {
        if (!is_digit(*p) || v > (INT64_MAX - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

/* [p, end) without one trailing "\n" */
static const char *chomp(const char *p, const char *end)
{
    return end > p && end[-1] == '\n' ? end - 1 : end;
}

bool slurm_parse_result(const char *text, size_t len, int *exit_status, int64_t *end_ms)
{
    const char *end = text + len, *e = chomp(text, end);
    if (e == end) /* incomplete: the line break is written last */
        return false;
    const char *sp = memchr(text, ' ', (size_t)(e - text));
    int64_t rc, ms;
    if (!sp || !parse_i64(text, sp, &rc) || rc > 255 || !parse_i64(sp + 1, e, &ms))
        return false;
    *exit_status = (int)rc;
    *end_ms = ms;
    return true;
}

bool slurm_parse_stamp(const char *text, size_t len, int64_t *ms)
{
    const char *end = text + len, *e = chomp(text, end);
    return e != end && parse_i64(text, e, ms);
}

static bool numbers_only(sb_val v)
{
    if (v.kind != SB_MAP || sb_map_len(v) == 0)
        return false;
    for (size_t i = 0; i < sb_map_len(v); i++) {
        double d;
        if (!sb_val_as_double(*sb_map_val_at(v, i), &d) || !isfinite(d))
            return false;
    }
    return true;
}

sb_val slurm_metrics_from_output(const char *text, size_t len)
{
    size_t j = len;
    while (j > 0) {
        size_t i = j;
        while (i > 0 && text[i - 1] != '\n')
            i--;
        size_t a = i, b = j;
        while (a < b && (text[a] == ' ' || text[a] == '\t'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (b > a && text[a] == '{') {
            sb_val v = sb_json_parse(text + a, b - a);
            if (sb_is_oom(v))
                return v;
            if (numbers_only(v))
                return v;
            sb_val_free(v);
        }
        j = i > 0 ? i - 1 : 0;
    }
    return sb_null();
}

void slurm_tail(const char *text, size_t len, size_t max_lines, size_t max_bytes, sb_buf *out)
{
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    size_t start = len, lines = 0;
    if (max_lines == 0)
        return;
    for (; start > 0; start--)
        if (text[start - 1] == '\n' && ++lines == max_lines)
            break;
    if (len - start > max_bytes) {
        start = len - max_bytes;
        while (start < len && ((unsigned char)text[start] & 0xc0) == 0x80)
            start++; /* not in the middle of a UTF-8 character */
    }
    sb_buf_append(out, text + start, len - start);
}

bool slurm_sh_quote(const char *arg, size_t len, sb_buf *out)
{
    if (memchr(arg, 0, len))
        return false;
    sb_buf_putc(out, '\'');
    for (size_t i = 0; i < len; i++) {
        if (arg[i] == '\'')
            sb_buf_puts(out, "'\\''");
        else
            sb_buf_putc(out, arg[i]);
    }
    sb_buf_putc(out, '\'');
    return true;
}

static bool quote(const char *s, sb_buf *out)
{
    return slurm_sh_quote(s, strlen(s), out);
}

static bool env_name(const char *s, size_t n)
{
    if (n == 0 || is_digit(s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(is_digit(s[i]) || s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
            return false;
    return true;
}

bool slurm_batch_script(const char *dir, const char *const *argv, size_t argc, const char *const *env, size_t nenv,
                        const char *job_label, sb_buf *out)
{
    if (argc == 0)
        return false;
    for (size_t i = 0; i < nenv; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq || !env_name(env[i], (size_t)(eq - env[i])))
            return false;
    }
    sb_buf b = SB_BUF_INIT;
    sb_buf_puts(&b, "#!/bin/sh\n# sibyl-conductor job ");
    /* the label goes into a comment: keep it to one line */
    for (const char *p = job_label; *p; p++)
        sb_buf_putc(&b, (unsigned char)*p < 0x20 ? '?' : *p);
    sb_buf_puts(&b, "\n# Every word below is single-quoted: nothing in it is expanded by the shell.\ncd ");
    bool ok = quote(dir, &b);
    sb_buf_puts(&b, " || exit 125\n");
    for (size_t i = 0; ok && i < nenv; i++) {
        const char *eq = strchr(env[i], '=');
        sb_buf_append(&b, env[i], (size_t)(eq + 1 - env[i]));
        ok = quote(eq + 1, &b);
        sb_buf_puts(&b, "\nexport ");
        sb_buf_append(&b, env[i], (size_t)(eq - env[i]));
        sb_buf_putc(&b, '\n');
    }
    sb_buf_puts(&b, ""
                    "stamp() { date +%s%3N; }\n"
                    "stamp >" SLURM_FILE_START ".tmp && mv " SLURM_FILE_START ".tmp " SLURM_FILE_START "\n");
    for (size_t i = 0; ok && i < argc; i++) {
        ok = quote(argv[i], &b);
        sb_buf_putc(&b, ' ');
    }
    sb_buf_puts(&b, "</dev/null >" SLURM_FILE_STDOUT " 2>" SLURM_FILE_STDERR "\n"
                    "rc=$?\n"
                    "printf '%s %s\\n' \"$rc\" \"$(stamp)\" >" SLURM_FILE_RESULT ".tmp && mv " SLURM_FILE_RESULT
                    ".tmp " SLURM_FILE_RESULT "\n"
                    "exit $rc\n");
    ok = ok && !sb_buf_failed(&b);
    if (ok)
        sb_buf_append(out, b.data, b.len);
    sb_buf_free(&b);
    return ok;
}

int64_t slurm_time_minutes(int64_t cap_ms)
{
    if (cap_ms <= 0)
        return 0;
    int64_t m = cap_ms / 60000;
    return m < 1 ? 1 : m;
}
