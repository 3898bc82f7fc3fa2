/* SPDX-License-Identifier: Apache-2.0
 *
 * The --format template engine and docker's table layout (see format.h). A template is
 * parsed once into a tree of nodes (text, action, if, range) and run once per row.
 */
#include "engine/cli/format.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

/* ---- the tree ------------------------------------------------------------------------ */

enum node_kind { N_TEXT, N_ACTION, N_IF, N_RANGE };

/* A command of a pipeline: its words as written (".A.B", "json", "\"x\"", "3"). */
struct cmd {
    char **words;
    size_t n_words;
};

struct pipeline {
    struct cmd *cmds;
    size_t n_cmds;
};

struct node {
    enum node_kind kind;
    char *text;             /* N_TEXT */
    struct pipeline pipe;   /* the others */
    struct node *body;      /* N_IF, N_RANGE */
    struct node *else_body; /* N_IF, N_RANGE */
    struct node *next;
};

struct cli_tmpl {
    struct node *root;
};

static void free_pipeline(struct pipeline *pipe);

static void
free_nodes(struct node *n)
{
    while (n) {
        struct node *next = n->next;
        free(n->text);
        free_pipeline(&n->pipe);
        free_nodes(n->body);
        free_nodes(n->else_body);
        free(n);
        n = next;
    }
}

void
cli_tmpl_free(struct cli_tmpl *t)
{
    if (!t)
        return;
    free_nodes(t->root);
    free(t);
}

/* ---- parsing --------------------------------------------------------------------------- */

struct parser {
    const char *p;    /* the rest of the template */
    char *pending_kw; /* the keyword ("end", "else") that stopped the last list */
};

/* The length of the parenthesized group s starts with, "(" to its matching ")" (quoted
 * strings inside skipped), or 0 when it is not closed within len. */
static size_t
paren_len(const char *s, size_t len)
{
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '`') {
            char q = s[i];
            for (i++; i < len && s[i] != q; i++)
                if (s[i] == '\\' && q == '"')
                    i++;
            if (i >= len)
                return 0;
        } else if (s[i] == '(') {
            depth++;
        } else if (s[i] == ')' && --depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

static void
free_pipeline(struct pipeline *pipe)
{
    for (size_t i = 0; i < pipe->n_cmds; i++) {
        for (size_t j = 0; j < pipe->cmds[i].n_words; j++)
            free(pipe->cmds[i].words[j]);
        free(pipe->cmds[i].words);
    }
    free(pipe->cmds);
    pipe->cmds = NULL;
    pipe->n_cmds = 0;
}

/* Split an action's text into a pipeline. */
static int
parse_pipeline(const char *s, size_t len, struct pipeline *pipe, struct berth_err *err)
{
    const char *end = s + len;
    struct cmd cur = {0};
    for (;;) {
        while (s < end && isspace((unsigned char)*s))
            s++;
        if (s >= end || *s == '|') {
            if (cur.n_words == 0) {
                free(cur.words);
                return berth_err_fail(err, EINVAL, "template: missing command in pipeline");
            }
            pipe->cmds = xrealloc(pipe->cmds, (pipe->n_cmds + 1) * sizeof(*pipe->cmds));
            pipe->cmds[pipe->n_cmds++] = cur;
            memset(&cur, 0, sizeof(cur));
            if (s >= end)
                return 0;
            s++;
            continue;
        }
        const char *w = s;
        if (*s == '(') {
            size_t n = paren_len(s, (size_t)(end - s));
            if (n == 0) {
                for (size_t i = 0; i < cur.n_words; i++)
                    free(cur.words[i]);
                free(cur.words);
                return berth_err_fail(err, EINVAL, "template: unclosed left paren");
            }
            /* The group and what follows it at once: "(index .X 0).Field". */
            s += n;
            while (s < end && !isspace((unsigned char)*s) && *s != '|')
                s++;
        } else if (*s == '"' || *s == '`') {
            char q = *s++;
            while (s < end && *s != q) {
                if (*s == '\\' && q == '"' && s + 1 < end)
                    s++;
                s++;
            }
            if (s >= end) {
                for (size_t i = 0; i < cur.n_words; i++)
                    free(cur.words[i]);
                free(cur.words);
                return berth_err_fail(err, EINVAL, "template: unterminated quoted string");
            }
            s++;
        } else {
            while (s < end && !isspace((unsigned char)*s) && *s != '|')
                s++;
        }
        cur.words = xrealloc(cur.words, (cur.n_words + 1) * sizeof(*cur.words));
        cur.words[cur.n_words++] = xstrndup(w, (size_t)(s - w));
    }
}

static bool
word_is(const char *s, size_t len, const char *kw)
{
    size_t k = strlen(kw);
    return len >= k && strncmp(s, kw, k) == 0 && (len == k || isspace((unsigned char)s[k]));
}

static void
trim_right(struct node *last)
{
    if (last && last->kind == N_TEXT) {
        size_t n = strlen(last->text);
        while (n && isspace((unsigned char)last->text[n - 1]))
            last->text[--n] = '\0';
    }
}

/* Parse nodes until the end of the text (top level) or an {{end}} / {{else}}, whose name
 * is left in ps->pending_kw. */
static int
parse_list(struct parser *ps, struct node **out, struct berth_err *err)
{
    struct node *head = NULL, **tail = &head, *last = NULL;
    bool trim_next = false;
    for (;;) {
        const char *open = strstr(ps->p, "{{");
        size_t text_len = open ? (size_t)(open - ps->p) : strlen(ps->p);
        const char *text = ps->p;
        if (trim_next) {
            while (text_len && isspace((unsigned char)*text)) {
                text++;
                text_len--;
            }
            trim_next = false;
        }
        if (text_len) {
            struct node *n = xzalloc(sizeof(*n));
            n->kind = N_TEXT;
            n->text = xstrndup(text, text_len);
            *tail = last = n;
            tail = &n->next;
        }
        if (!open) {
            ps->p += strlen(ps->p);
            *out = head;
            return 0;
        }
        const char *a = open + 2;
        if (*a == '-' && isspace((unsigned char)a[1])) {
            trim_right(last);
            a += 2;
        }
        const char *close = strstr(a, "}}");
        if (!close) {
            free_nodes(head);
            return berth_err_fail(err, EINVAL, "template: unclosed action");
        }
        const char *a_end = close;
        if (a_end - a >= 2 && a_end[-1] == '-' && isspace((unsigned char)a_end[-2])) {
            a_end -= 2;
            trim_next = true;
        }
        ps->p = close + 2;
        while (a < a_end && isspace((unsigned char)*a))
            a++;
        while (a_end > a && isspace((unsigned char)a_end[-1]))
            a_end--;
        size_t len = (size_t)(a_end - a);
        if (len == 0) {
            free_nodes(head);
            return berth_err_fail(err, EINVAL, "template: missing value for command");
        }
        if (word_is(a, len, "end") || word_is(a, len, "else")) {
            ps->pending_kw = xstrndup(a, len);
            *out = head;
            return 0;
        }
        struct node *n = xzalloc(sizeof(*n));
        *tail = last = n;
        tail = &n->next;
        bool is_if = word_is(a, len, "if"), is_range = word_is(a, len, "range");
        if (is_if || is_range) {
            n->kind = is_if ? N_IF : N_RANGE;
            size_t kw = is_if ? 2 : 5;
            if (parse_pipeline(a + kw, len - kw, &n->pipe, err) < 0 ||
                parse_list(ps, &n->body, err) < 0)
                goto fail;
            if (ps->pending_kw && strcmp(ps->pending_kw, "else") == 0) {
                free(ps->pending_kw);
                ps->pending_kw = NULL;
                if (parse_list(ps, &n->else_body, err) < 0)
                    goto fail;
            }
            if (!ps->pending_kw || strcmp(ps->pending_kw, "end") != 0) {
                berth_err_fail(err, EINVAL, "template: unexpected EOF (missing {{end}})");
                goto fail;
            }
            free(ps->pending_kw);
            ps->pending_kw = NULL;
            continue;
        }
        n->kind = N_ACTION;
        if (parse_pipeline(a, len, &n->pipe, err) < 0)
            goto fail;
    }
fail:
    free_nodes(head);
    return -1;
}

struct cli_tmpl *
cli_tmpl_parse(const char *text, struct berth_err *err)
{
    /* docker turns the two-character sequences \t and \n into their characters first. */
    cleanup_free char *src = xmalloc(strlen(text) + 1);
    char *d = src;
    for (const char *s = text; *s; s++) {
        if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n')) {
            *d++ = s[1] == 't' ? '\t' : '\n';
            s++;
        } else {
            *d++ = *s;
        }
    }
    *d = '\0';
    struct parser ps = {.p = src};
    struct node *root = NULL;
    if (parse_list(&ps, &root, err) < 0)
        return NULL;
    if (ps.pending_kw) {
        berth_err_fail(err, EINVAL, "template: unexpected {{%s}}", ps.pending_kw);
        free(ps.pending_kw);
        free_nodes(root);
        return NULL;
    }
    struct cli_tmpl *t = xzalloc(sizeof(*t));
    t->root = root;
    return t;
}

/* ---- values ------------------------------------------------------------------------------ */

/* A value while running: a JSON value (owned reference; NULL is JSON null) or "no value". */
struct val {
    struct json_object *o;
    bool missing;
};

static void
val_drop(struct val *v)
{
    json_object_put(v->o);
    v->o = NULL;
}

struct buf {
    char *s;
    size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static int
cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An object's keys, sorted (Go prints maps in key order). Caller frees the vector only. */
static const char **
sorted_keys(struct json_object *o, size_t *n)
{
    size_t cnt = (size_t)json_object_object_length(o), i = 0;
    const char **keys = xmalloc((cnt + 1) * sizeof(*keys));
    json_object_object_foreach(o, k, v)
    {
        (void)v;
        keys[i++] = k;
    }
    qsort(keys, i, sizeof(*keys), cmp_keys);
    *n = i;
    return keys;
}

/* Go's %v of a decoded JSON value. */
static void
print_value(struct buf *b, struct json_object *o)
{
    char num[64];
    switch (json_object_get_type(o)) {
    case json_type_null: buf_str(b, "<nil>"); break;
    case json_type_boolean: buf_str(b, json_object_get_boolean(o) ? "true" : "false"); break;
    case json_type_int:
        snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(o));
        buf_str(b, num);
        break;
    case json_type_double:
        snprintf(num, sizeof(num), "%.17g", json_object_get_double(o));
        /* The shortest text that reads back as the same double, as Go prints it. */
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(num, sizeof(num), "%.*g", prec, json_object_get_double(o));
            if (strtod(num, NULL) == json_object_get_double(o))
                break;
        }
        buf_str(b, num);
        break;
    case json_type_string:
        buf_add(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
        break;
    case json_type_array:
        buf_str(b, "[");
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            if (i)
                buf_str(b, " ");
            print_value(b, json_object_array_get_idx(o, i));
        }
        buf_str(b, "]");
        break;
    case json_type_object: {
        size_t n;
        cleanup_free const char **keys = sorted_keys(o, &n);
        buf_str(b, "map[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_str(b, " ");
            buf_str(b, keys[i]);
            buf_str(b, ":");
            print_value(b, json_object_object_get(o, keys[i]));
        }
        buf_str(b, "]");
        break;
    }
    }
}

static void
print_val(struct buf *b, const struct val *v)
{
    if (v->missing)
        buf_str(b, "<no value>");
    else
        print_value(b, v->o);
}

static bool
truthy(const struct val *v)
{
    if (v->missing || !v->o)
        return false;
    switch (json_object_get_type(v->o)) {
    case json_type_boolean: return json_object_get_boolean(v->o);
    case json_type_int: return json_object_get_int64(v->o) != 0;
    case json_type_double: return json_object_get_double(v->o) != 0;
    case json_type_string: return json_object_get_string_len(v->o) > 0;
    case json_type_array: return json_object_array_length(v->o) > 0;
    case json_type_object: return json_object_object_length(v->o) > 0;
    default: return false;
    }
}

static char *
val_text(const struct val *v)
{
    struct buf b = {0};
    buf_str(&b, "");
    print_val(&b, v);
    return b.s;
}

static void change_case(char *s, int how);

/* ---- running ------------------------------------------------------------------------------- */

struct run {
    struct json_object *dot;
    struct berth_err *err;
    bool header; /* a table's header line: an unknown field prints as its name in capitals */
};

/* A field path (".A.B") from dot. A field of a non-object is an error, as in Go; a missing
 * key is "no value". */
static int
eval_path(struct json_object *dot, const char *path, struct val *out, struct berth_err *err)
{
    struct json_object *cur = dot;
    const char *p = path + 1;
    out->missing = false;
    while (*p) {
        size_t len = strcspn(p, ".");
        cleanup_free char *key = xstrndup(p, len);
        if (!json_object_is_type(cur, json_type_object)) {
            if (!cur) {
                out->missing = true;
                out->o = NULL;
                return 0;
            }
            return berth_err_fail(err, EINVAL, "template: can't evaluate field %s in type %s", key,
                                  json_type_to_name(json_object_get_type(cur)));
        }
        struct json_object *next = NULL;
        if (!json_object_object_get_ex(cur, key, &next)) {
            out->missing = true;
            out->o = NULL;
            return 0;
        }
        cur = next;
        p += len;
        if (*p == '.')
            p++;
    }
    out->o = json_object_get(cur);
    return 0;
}

static int eval_pipeline(struct run *r, const struct pipeline *p, struct val *out);

/* "(pipeline)" or "(pipeline).A.B": the pipeline's value, or a field path from it. */
static int
eval_group(struct run *r, const char *w, struct val *out)
{
    size_t n = paren_len(w, strlen(w));
    if (n < 2)
        return berth_err_fail(r->err, EINVAL, "template: unclosed left paren");
    const char *rest = w + n;
    if (*rest && *rest != '.')
        return berth_err_fail(r->err, EINVAL, "template: unexpected \"%s\" after \"%.*s\"", rest,
                              (int)n, w);
    struct pipeline pipe = {0};
    struct val v = {0};
    int rc = parse_pipeline(w + 1, n - 2, &pipe, r->err);
    if (rc == 0)
        rc = eval_pipeline(r, &pipe, &v);
    free_pipeline(&pipe);
    if (rc < 0)
        return -1;
    if (!*rest) {
        *out = v;
        return 0;
    }
    rc = eval_path(v.o, rest, out, r->err);
    val_drop(&v);
    return rc;
}

static int
eval_word(struct run *r, const char *w, struct val *out)
{
    out->missing = false;
    out->o = NULL;
    if (w[0] == '(')
        return eval_group(r, w, out);
    if (w[0] == '.') {
        if (eval_path(r->dot, w, out, r->err) < 0)
            return -1;
        if (r->header && out->missing && w[1]) {
            /* A column without a known header: its field's name, as a header should read. */
            const char *last = strrchr(w, '.') + 1;
            cleanup_free char *h = xstrdup(last);
            change_case(h, 0);
            out->missing = false;
            out->o = json_object_new_string(h);
        }
        return 0;
    }
    if (w[0] == '"' || w[0] == '`') {
        size_t n = strlen(w);
        struct buf b = {0};
        buf_str(&b, "");
        for (size_t i = 1; i + 1 < n; i++) {
            if (w[0] == '"' && w[i] == '\\' && i + 2 < n) {
                i++;
                char c = w[i] == 'n' ? '\n' : w[i] == 't' ? '\t' : w[i];
                buf_add(&b, &c, 1);
            } else {
                buf_add(&b, &w[i], 1);
            }
        }
        out->o = json_object_new_string(b.s);
        free(b.s);
        return 0;
    }
    if (isdigit((unsigned char)w[0]) || (w[0] == '-' && isdigit((unsigned char)w[1]))) {
        char *end = NULL;
        long long v = strtoll(w, &end, 10);
        if (*end == '\0') {
            out->o = json_object_new_int64(v);
            return 0;
        }
    }
    if (strcmp(w, "true") == 0 || strcmp(w, "false") == 0) {
        out->o = json_object_new_boolean(w[0] == 't');
        return 0;
    }
    if (strcmp(w, "nil") == 0)
        return 0;
    return berth_err_fail(r->err, EINVAL, "template: function \"%s\" not defined", w);
}

static int
fn_index(struct run *r, struct val *args, size_t n, struct val *out)
{
    if (n < 2)
        return berth_err_fail(r->err, EINVAL, "template: wrong number of args for index");
    struct json_object *cur = args[0].o;
    for (size_t i = 1; i < n; i++) {
        struct json_object *k = args[i].o;
        if (json_object_is_type(cur, json_type_array) && json_object_is_type(k, json_type_int)) {
            int64_t idx = json_object_get_int64(k);
            if (idx < 0 || (size_t)idx >= json_object_array_length(cur))
                return berth_err_fail(r->err, EINVAL,
                                      "template: error calling index: index out of range: %lld",
                                      (long long)idx);
            cur = json_object_array_get_idx(cur, (size_t)idx);
        } else if (json_object_is_type(cur, json_type_object) &&
                   json_object_is_type(k, json_type_string)) {
            struct json_object *v = NULL;
            if (!json_object_object_get_ex(cur, json_object_get_string(k), &v)) {
                out->missing = true;
                return 0;
            }
            cur = v;
        } else {
            return berth_err_fail(r->err, EINVAL, "template: error calling index: cannot index %s",
                                  json_type_to_name(json_object_get_type(cur)));
        }
    }
    out->o = json_object_get(cur);
    return 0;
}

static void
change_case(char *s, int how)
{
    bool start = true;
    for (; *s; s++) {
        if (how == 0)
            *s = (char)toupper((unsigned char)*s);
        else if (how == 1)
            *s = (char)tolower((unsigned char)*s);
        else if (start)
            *s = (char)toupper((unsigned char)*s);
        start = !isalnum((unsigned char)*s);
    }
}

/* printf with Go verbs %s %v %d %q (each takes the next argument) and %%. */
static char *
go_printf(const char *fmt, struct val *args, size_t n)
{
    struct buf b = {0};
    buf_str(&b, "");
    size_t ai = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%' || !p[1]) {
            buf_add(&b, p, 1);
            continue;
        }
        p++;
        if (*p == '%') {
            buf_add(&b, "%", 1);
            continue;
        }
        if (ai >= n) {
            buf_str(&b, "%!");
            buf_add(&b, p, 1);
            buf_str(&b, "(MISSING)");
            continue;
        }
        if (*p == 'q')
            buf_str(&b, "\"");
        print_val(&b, &args[ai++]);
        if (*p == 'q')
            buf_str(&b, "\"");
    }
    return b.s;
}

/* Call a function by name on evaluated arguments. */
static int
call(struct run *r, const char *name, struct val *args, size_t n, struct val *out)
{
    out->o = NULL;
    out->missing = false;
    if (strcmp(name, "json") == 0) {
        if (n != 1)
            return berth_err_fail(r->err, EINVAL, "template: wrong number of args for json");
        const char *s =
            args[0].missing
                ? "null"
                : json_object_to_json_string_ext(args[0].o, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
        out->o = json_object_new_string(s);
        return 0;
    }
    if (strcmp(name, "index") == 0)
        return fn_index(r, args, n, out);
    if (strcmp(name, "len") == 0) {
        if (n != 1)
            return berth_err_fail(r->err, EINVAL, "template: wrong number of args for len");
        struct json_object *o = args[0].o;
        size_t len;
        if (json_object_is_type(o, json_type_array))
            len = json_object_array_length(o);
        else if (json_object_is_type(o, json_type_object))
            len = (size_t)json_object_object_length(o);
        else if (json_object_is_type(o, json_type_string))
            len = (size_t)json_object_get_string_len(o);
        else
            return berth_err_fail(r->err, EINVAL, "template: error calling len: len of %s",
                                  args[0].missing ? "nil"
                                                  : json_type_to_name(json_object_get_type(o)));
        out->o = json_object_new_int64((int64_t)len);
        return 0;
    }
    if (strcmp(name, "upper") == 0 || strcmp(name, "lower") == 0 || strcmp(name, "title") == 0) {
        if (n != 1)
            return berth_err_fail(r->err, EINVAL, "template: wrong number of args for %s", name);
        cleanup_free char *s = val_text(&args[0]);
        change_case(s, name[0] == 'u' ? 0 : name[0] == 'l' ? 1 : 2);
        out->o = json_object_new_string(s);
        return 0;
    }
    if (strcmp(name, "join") == 0) {
        if (n != 2 || !json_object_is_type(args[0].o, json_type_array))
            return berth_err_fail(r->err, EINVAL, "template: join takes a list and a separator");
        struct buf b = {0};
        buf_str(&b, "");
        cleanup_free char *sep = val_text(&args[1]);
        for (size_t i = 0; i < json_object_array_length(args[0].o); i++) {
            if (i)
                buf_str(&b, sep);
            print_value(&b, json_object_array_get_idx(args[0].o, i));
        }
        out->o = json_object_new_string(b.s);
        free(b.s);
        return 0;
    }
    if (strcmp(name, "split") == 0) {
        if (n != 2)
            return berth_err_fail(r->err, EINVAL, "template: wrong number of args for split");
        cleanup_free char *s = val_text(&args[0]);
        cleanup_free char *sep = val_text(&args[1]);
        out->o = json_object_new_array();
        char *p = s;
        size_t sl = strlen(sep);
        for (char *q; sl && (q = strstr(p, sep)); p = q + sl)
            json_object_array_add(out->o, json_object_new_string_len(p, (int)(q - p)));
        json_object_array_add(out->o, json_object_new_string(p));
        return 0;
    }
    if (strcmp(name, "println") == 0 || strcmp(name, "print") == 0) {
        struct buf b = {0};
        buf_str(&b, "");
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_str(&b, " ");
            print_val(&b, &args[i]);
        }
        if (name[5] == 'l')
            buf_str(&b, "\n");
        out->o = json_object_new_string(b.s);
        free(b.s);
        return 0;
    }
    if (strcmp(name, "printf") == 0) {
        if (n < 1)
            return berth_err_fail(r->err, EINVAL, "template: wrong number of args for printf");
        cleanup_free char *fmt = val_text(&args[0]);
        char *s = go_printf(fmt, args + 1, n - 1);
        out->o = json_object_new_string(s);
        free(s);
        return 0;
    }
    return berth_err_fail(r->err, EINVAL, "template: function \"%s\" not defined", name);
}

static bool
is_function(const char *w)
{
    return w[0] != '.' && w[0] != '"' && w[0] != '`' && w[0] != '(' &&
           !isdigit((unsigned char)w[0]) && w[0] != '-' && strcmp(w, "true") != 0 &&
           strcmp(w, "false") != 0 && strcmp(w, "nil") != 0;
}

/* One command of a pipeline; prev (when not NULL) is the previous command's result, which
 * becomes the last argument. */
static int
eval_cmd(struct run *r, const struct cmd *c, struct val *prev, struct val *out)
{
    if (!is_function(c->words[0])) {
        if (c->n_words > 1 || prev)
            return berth_err_fail(r->err, EINVAL,
                                  "template: can't give argument to non-function %s", c->words[0]);
        return eval_word(r, c->words[0], out);
    }
    size_t n = c->n_words - 1 + (prev ? 1 : 0);
    struct val *args = xzalloc((n + 1) * sizeof(*args));
    int rc = 0;
    size_t i;
    for (i = 0; i + 1 < c->n_words; i++) {
        if (is_function(c->words[i + 1])) {
            rc = berth_err_fail(r->err, EINVAL,
                                "template: %s: a function as an argument needs parentheses",
                                c->words[i + 1]);
            break;
        }
        if ((rc = eval_word(r, c->words[i + 1], &args[i])) < 0)
            break;
    }
    if (rc == 0) {
        if (prev) {
            args[n - 1] = *prev;
            prev->o = NULL;
        }
        rc = call(r, c->words[0], args, n, out);
    }
    for (size_t j = 0; j < n; j++)
        val_drop(&args[j]);
    free(args);
    return rc;
}

static int
eval_pipeline(struct run *r, const struct pipeline *p, struct val *out)
{
    struct val cur = {0};
    for (size_t i = 0; i < p->n_cmds; i++) {
        struct val next = {0};
        int rc = eval_cmd(r, &p->cmds[i], i ? &cur : NULL, &next);
        val_drop(&cur);
        if (rc < 0)
            return -1;
        cur = next;
    }
    *out = cur;
    return 0;
}

static int run_nodes(struct run *r, const struct node *n, struct buf *b);

static int
run_range(struct run *r, const struct node *n, struct val *v, struct buf *b)
{
    struct json_object *saved = r->dot;
    int rc = 0;
    if (json_object_is_type(v->o, json_type_array) && json_object_array_length(v->o) > 0) {
        for (size_t i = 0; rc == 0 && i < json_object_array_length(v->o); i++) {
            r->dot = json_object_array_get_idx(v->o, i);
            rc = run_nodes(r, n->body, b);
        }
    } else if (json_object_is_type(v->o, json_type_object) && json_object_object_length(v->o) > 0) {
        size_t nk;
        cleanup_free const char **keys = sorted_keys(v->o, &nk);
        for (size_t i = 0; rc == 0 && i < nk; i++) {
            r->dot = json_object_object_get(v->o, keys[i]);
            rc = run_nodes(r, n->body, b);
        }
    } else if (truthy(v) && !json_object_is_type(v->o, json_type_array) &&
               !json_object_is_type(v->o, json_type_object)) {
        rc = berth_err_fail(r->err, EINVAL, "template: range can't iterate over %s",
                            json_object_get_string(v->o));
    } else {
        rc = run_nodes(r, n->else_body, b);
    }
    r->dot = saved;
    return rc;
}

static int
run_nodes(struct run *r, const struct node *n, struct buf *b)
{
    for (; n; n = n->next) {
        if (n->kind == N_TEXT) {
            buf_str(b, n->text);
            continue;
        }
        struct val v = {0};
        if (eval_pipeline(r, &n->pipe, &v) < 0)
            return -1;
        int rc = 0;
        if (n->kind == N_ACTION)
            print_val(b, &v);
        else if (n->kind == N_IF)
            rc = run_nodes(r, truthy(&v) ? n->body : n->else_body, b);
        else
            rc = run_range(r, n, &v, b);
        val_drop(&v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static char *
exec_template(const struct cli_tmpl *t, struct json_object *data, bool header,
              struct berth_err *err)
{
    struct run r = {.dot = data, .err = err, .header = header};
    struct buf b = {0};
    buf_str(&b, "");
    if (run_nodes(&r, t->root, &b) < 0) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *
cli_tmpl_exec(const struct cli_tmpl *t, struct json_object *data, struct berth_err *err)
{
    return exec_template(t, data, false, err);
}

/* ---- tables -------------------------------------------------------------------------------- */

/* The header row's data: every column's field set to its header, so that the template run
 * on it prints the headers where the fields go. */
static struct json_object *
header_data(const struct cli_fmt *f)
{
    struct json_object *o = json_object_new_object();
    for (size_t i = 0; i < f->n_columns; i++)
        json_object_object_add(o, f->columns[i].field,
                               json_object_new_string(f->columns[i].header));
    return o;
}

int
cli_fmt_init(struct cli_fmt *f, const char *format, const char *default_format,
             const struct cli_column *columns, size_t n_columns, struct berth_err *err)
{
    memset(f, 0, sizeof(*f));
    if (!format || !*format || strcmp(format, "table") == 0)
        format = default_format;
    else if (strcmp(format, "json") == 0)
        format = "{{json .}}";
    if (strncmp(format, "table ", 6) == 0) {
        f->table = true;
        format += 6;
    }
    f->columns = columns;
    f->n_columns = n_columns;
    f->tmpl = cli_tmpl_parse(format, err);
    return f->tmpl ? 0 : -1;
}

int
cli_fmt_row(struct cli_fmt *f, struct json_object *row, struct berth_err *err)
{
    char *s = cli_tmpl_exec(f->tmpl, row, err);
    if (!s)
        return -1;
    if (!f->table) {
        puts(s);
        free(s);
        return 0;
    }
    f->lines = xrealloc(f->lines, (f->n_lines + 1) * sizeof(*f->lines));
    f->lines[f->n_lines++] = s;
    return 0;
}

void
cli_fmt_flush(struct cli_fmt *f, FILE *out)
{
    if (!f->table)
        return;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct json_object *hd = header_data(f);
    char *header = exec_template(f->tmpl, hd, true, &err);
    json_object_put(hd);
    char **all = xmalloc((f->n_lines + 1) * sizeof(*all));
    size_t n = 0;
    if (header)
        all[n++] = header;
    for (size_t i = 0; i < f->n_lines; i++)
        all[n++] = f->lines[i];
    cli_table_print(out, all, n);
    free(header);
    free(all);
    for (size_t i = 0; i < f->n_lines; i++)
        free(f->lines[i]);
    free(f->lines);
    f->lines = NULL;
    f->n_lines = 0;
}

void
cli_fmt_free(struct cli_fmt *f)
{
    for (size_t i = 0; i < f->n_lines; i++)
        free(f->lines[i]);
    free(f->lines);
    cli_tmpl_free(f->tmpl);
    memset(f, 0, sizeof(*f));
}

/* Display width of a UTF-8 string: one column a code point (docker's tabwriter counts
 * runes). */
static size_t
width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    return w;
}

void
cli_table_print(FILE *out, char *const *lines, size_t n_lines)
{
    size_t n_cols = 0;
    size_t *widths = NULL;
    /* Every line may hold several text lines; each text line is a row of cells. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n_lines; i++) {
            const char *row = lines[i];
            while (*row || row == lines[i]) {
                size_t row_len = strcspn(row, "\n");
                const char *cell = row;
                size_t col = 0;
                for (;;) {
                    size_t cl = strcspn(cell, "\t\n");
                    bool last = cell[cl] != '\t';
                    if (pass == 0 && !last) {
                        if (col >= n_cols) {
                            widths = xrealloc(widths, (col + 1) * sizeof(*widths));
                            for (size_t k = n_cols; k <= col; k++)
                                widths[k] = 0;
                            n_cols = col + 1;
                        }
                        size_t w = width(cell, cl) + 3;
                        if (w < 10)
                            w = 10;
                        if (w > widths[col])
                            widths[col] = w;
                    } else if (pass == 1) {
                        fwrite(cell, 1, cl, out);
                        if (!last)
                            for (size_t k = width(cell, cl); k < widths[col]; k++)
                                fputc(' ', out);
                    }
                    if (last)
                        break;
                    cell += cl + 1;
                    col++;
                }
                if (pass == 1)
                    fputc('\n', out);
                row += row_len;
                if (*row == '\n')
                    row++;
                if (!*row)
                    break;
            }
        }
    }
    free(widths);
}
