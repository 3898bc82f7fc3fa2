/* SPDX-License-Identifier: Apache-2.0
 *
 * Filters over protobuf-c messages (filter.h): a parser from the text form to a list of
 * alternatives of conjunctions of terms, and a matcher that walks a message by reflection on
 * its descriptor, so that no message type needs code of its own here.
 *
 * Grammar (whitespace is allowed around every token):
 *
 *     filter  := term ( ',' term )*
 *     term    := path [ op value ]
 *     path    := segment ( '.' segment )*
 *     segment := quoted | [A-Za-z0-9_/-]+
 *     op      := '==' | '!=' | '~='
 *     value   := quoted | [^,"whitespace]+
 *     quoted  := '"' ( '\"' | '\\' | any other character )* '"'
 *
 * Inside quotes only \" and \\ are escapes; any other backslash stays, so that a quoted
 * regular expression keeps its own escapes ("a\.b" is the regexp a\.b).
 *
 * Matching. The path selects values in the message; a term holds when:
 *   path          one of them is set: a non-empty string or bytes, a non-zero number or enum,
 *                 true, a message that is there, a non-empty repeated field or map, a map key
 *                 that is there (even with an empty value);
 *   path==value   one of them, as text, is value;
 *   path!=value   there is at least one and none is value;
 *   path~=re      one of them matches re (unanchored, as regexec).
 * Text is a string's characters, bytes as they are, numbers in decimal, bools as true/false
 * and enums by value name (status==RUNNING). A plain scalar field always has a value, its
 * default included (image=="" holds for a container without an image), but a map key that
 * is missing, a message that is not set, a field of an unset oneof or a proto2 optional field
 * that is not set gives none: labels.x!=y holds only for objects with a label x (as in
 * containerd). Messages are not text: only a bare path tests them.
 *
 * Repeated fields give one value per element (or walk into each element message); a map
 * field (a repeated XxxEntry message with `key` and `value`) takes the next segment as the
 * key, and when its values are scalars every remaining segment is part of the key, so
 * labels.io.berth.role looks up "io.berth.role" just as labels."io.berth.role" does.
 */
#include "common/filter.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"

enum op {
    OP_PRESENT,
    OP_EQUAL,
    OP_NOT_EQUAL,
    OP_MATCH,
};

struct term {
    char **path; /* segments, unquoted */
    size_t n_path;
    enum op op;
    char *value; /* NULL for OP_PRESENT */
    size_t value_len;
    regex_t re; /* compiled for OP_MATCH only */
};

struct conjunction {
    struct term *terms;
    size_t n_terms;
};

struct berth_filter {
    struct conjunction *alts;
    size_t n_alts;
};

/* ---- Parser ------------------------------------------------------------------------------- */

struct parser {
    const char *text; /* the whole filter, for messages */
    size_t pos;
    struct berth_err *err;
};

static int
syntax_error(struct parser *p, const char *what)
{
    return berth_err_fail(p->err, EINVAL, "filter `%s`: column %zu: %s", p->text, p->pos + 1, what);
}

static char
peek(const struct parser *p)
{
    return p->text[p->pos];
}

static void
skip_space(struct parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t' || peek(p) == '\n' || peek(p) == '\r')
        p->pos++;
}

static bool
is_segment_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '/';
}

static bool
is_value_char(char c)
{
    return c != '\0' && c != ',' && c != '"' && c != ' ' && c != '\t' && c != '\n' && c != '\r';
}

/* A double-quoted string starting at the current '"'; *len gets its length. */
static char *
parse_quoted(struct parser *p, size_t *len)
{
    size_t start = p->pos;
    char *out = xmalloc(strlen(p->text + start) + 1);
    size_t n = 0;

    p->pos++;
    for (;;) {
        char c = peek(p);
        if (c == '\0') {
            free(out);
            p->pos = start;
            syntax_error(p, "unterminated quoted string");
            return NULL;
        }
        p->pos++;
        if (c == '"')
            break;
        if (c == '\\' && (peek(p) == '"' || peek(p) == '\\'))
            c = p->text[p->pos++];
        out[n++] = c;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

static char *
parse_segment(struct parser *p)
{
    size_t start = p->pos, len;

    if (peek(p) == '"')
        return parse_quoted(p, &len);
    while (is_segment_char(peek(p)))
        p->pos++;
    if (p->pos == start) {
        syntax_error(p, "expected a field name");
        return NULL;
    }
    return xstrndup(p->text + start, p->pos - start);
}

static int
parse_path(struct parser *p, struct term *t)
{
    for (;;) {
        char *seg = parse_segment(p);
        if (seg == NULL)
            return -1;
        t->path = xrealloc(t->path, (t->n_path + 1) * sizeof(*t->path));
        t->path[t->n_path++] = seg;
        if (peek(p) != '.')
            return 0;
        p->pos++;
    }
}

static int
parse_op(struct parser *p, struct term *t)
{
    static const struct {
        const char *text;
        enum op op;
    } ops[] = {{"==", OP_EQUAL}, {"!=", OP_NOT_EQUAL}, {"~=", OP_MATCH}};

    for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
        if (strncmp(p->text + p->pos, ops[i].text, 2) == 0) {
            t->op = ops[i].op;
            p->pos += 2;
            return 0;
        }
    return syntax_error(p, "expected `==`, `!=`, `~=`, `,` or the end of the filter");
}

static int
parse_value(struct parser *p, struct term *t)
{
    size_t start = p->pos;

    if (peek(p) == '"') {
        t->value = parse_quoted(p, &t->value_len);
        if (t->value == NULL)
            return -1;
    } else {
        while (is_value_char(peek(p)))
            p->pos++;
        if (p->pos == start)
            return syntax_error(p, "expected a value");
        t->value = xstrndup(p->text + start, p->pos - start);
        t->value_len = p->pos - start;
    }
    if (t->op != OP_MATCH)
        return 0;

    int rc = regcomp(&t->re, t->value, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &t->re, msg, sizeof(msg));
        p->pos = start;
        free(t->value);
        t->value = NULL; /* no regex to free in term_free */
        return berth_err_fail(p->err, EINVAL, "filter `%s`: column %zu: regular expression: %s",
                              p->text, start + 1, msg);
    }
    return 0;
}

static void
term_free(struct term *t)
{
    for (size_t i = 0; i < t->n_path; i++)
        free(t->path[i]);
    free(t->path);
    if (t->op == OP_MATCH && t->value)
        regfree(&t->re);
    free(t->value);
}

static int
parse_term(struct parser *p, struct term *t)
{
    skip_space(p);
    if (parse_path(p, t) < 0)
        return -1;
    skip_space(p);
    if (peek(p) == ',' || peek(p) == '\0') {
        t->op = OP_PRESENT;
        return 0;
    }
    if (parse_op(p, t) < 0)
        return -1;
    skip_space(p);
    if (parse_value(p, t) < 0)
        return -1;
    skip_space(p);
    if (peek(p) != ',' && peek(p) != '\0')
        return syntax_error(p, "expected `,` or the end of the filter");
    return 0;
}

static void
conjunction_free(struct conjunction *c)
{
    for (size_t i = 0; i < c->n_terms; i++)
        term_free(&c->terms[i]);
    free(c->terms);
}

static int
parse_conjunction(const char *text, struct conjunction *c, struct berth_err *err)
{
    struct parser p = {text, 0, err};

    skip_space(&p);
    if (peek(&p) == '\0')
        return syntax_error(&p, "empty filter");
    for (;;) {
        c->terms = xrealloc(c->terms, (c->n_terms + 1) * sizeof(*c->terms));
        struct term *t = &c->terms[c->n_terms++];
        memset(t, 0, sizeof(*t));
        if (parse_term(&p, t) < 0)
            return -1;
        if (peek(&p) == '\0')
            return 0;
        p.pos++; /* ',' */
    }
}

struct berth_filter *
berth_filter_parse(const char *const *filters, size_t n, struct berth_err *err)
{
    struct berth_filter *f = xzalloc(sizeof(*f));

    f->alts = xzalloc((n ? n : 1) * sizeof(*f->alts));
    for (size_t i = 0; i < n; i++) {
        f->n_alts++;
        if (parse_conjunction(filters[i] ? filters[i] : "", &f->alts[i], err) < 0) {
            berth_filter_free(f);
            return NULL;
        }
    }
    return f;
}

void
berth_filter_free(struct berth_filter *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n_alts; i++)
        conjunction_free(&f->alts[i]);
    free(f->alts);
    free(f);
}

/* ---- Matcher ------------------------------------------------------------------------------ */

/* What the values at a term's path said about it, gathered one value at a time. */
struct hits {
    const struct term *term;
    berth_filter_type_fn resolve;
    bool set;      /* some value is set (non-empty, non-zero, there) */
    size_t n_text; /* values that have a text */
    bool equal;    /* some text equals term->value */
    bool matched;  /* some text matches term->re */
};

/* One value: text NULL for a message, which only counts for presence. */
static void
leaf(struct hits *h, const char *text, size_t len, bool is_nul_terminated, bool is_set)
{
    const struct term *t = h->term;

    h->set = h->set || is_set;
    if (text == NULL)
        return;
    h->n_text++;
    if (t->op == OP_EQUAL || t->op == OP_NOT_EQUAL) {
        if (len == t->value_len && memcmp(text, t->value, len) == 0)
            h->equal = true;
    } else if (t->op == OP_MATCH && !h->matched) {
        if (is_nul_terminated) {
            h->matched = regexec(&t->re, text, 0, NULL, 0) == 0;
        } else {
            cleanup_free char *copy = xstrndup(text, len);
            h->matched = regexec(&t->re, copy, 0, NULL, 0) == 0;
        }
    }
}

static size_t
element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    default: return sizeof(uint32_t); /* the 32-bit integers and enums */
    }
}

/* A scalar value at p as text. */
static void
scalar_leaf(struct hits *h, const ProtobufCFieldDescriptor *fd, const void *p)
{
    char buf[64];
    int n = -1;
    bool is_set = false;

    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        s = s ? s : "";
        leaf(h, s, strlen(s), true, *s != '\0');
        return;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        leaf(h, b->len ? (const char *)b->data : "", b->len, b->len == 0, b->len > 0);
        return;
    }
    case PROTOBUF_C_TYPE_BOOL:
        is_set = *(const protobuf_c_boolean *)p != 0;
        leaf(h, is_set ? "true" : "false", is_set ? 4 : 5, true, is_set);
        return;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, v);
        if (ev) {
            leaf(h, ev->name, strlen(ev->name), true, v != 0);
            return;
        }
        n = snprintf(buf, sizeof(buf), "%d", v);
        is_set = v != 0;
        break;
    }
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        n = snprintf(buf, sizeof(buf), "%" PRId32, *(const int32_t *)p);
        is_set = *(const int32_t *)p != 0;
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        n = snprintf(buf, sizeof(buf), "%" PRIu32, *(const uint32_t *)p);
        is_set = *(const uint32_t *)p != 0;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        n = snprintf(buf, sizeof(buf), "%" PRId64, *(const int64_t *)p);
        is_set = *(const int64_t *)p != 0;
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        n = snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *)p);
        is_set = *(const uint64_t *)p != 0;
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        n = snprintf(buf, sizeof(buf), "%g", (double)*(const float *)p);
        is_set = *(const float *)p != 0;
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        n = snprintf(buf, sizeof(buf), "%g", *(const double *)p);
        is_set = *(const double *)p != 0;
        break;
    case PROTOBUF_C_TYPE_MESSAGE: return; /* not a scalar */
    }
    if (n >= 0)
        leaf(h, buf, (size_t)n, true, is_set);
}

static void walk(struct hits *h, const ProtobufCMessage *msg, char *const *path, size_t n);

/* The value of field fd at p (a scalar, or a message pointer), with what is left of the
 * path after the field. */
static void
value_at(struct hits *h, const ProtobufCFieldDescriptor *fd, const void *p, char *const *rest,
         size_t n_rest)
{
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        if (n_rest == 0)
            leaf(h, NULL, 0, false, sub != NULL);
        else if (sub)
            walk(h, sub, rest, n_rest);
        return;
    }
    if (n_rest == 0)
        scalar_leaf(h, fd, p);
}

/* Is `key` the segments joined by '.'? */
static bool
key_is_joined(const char *key, char *const *segs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(segs[i]);
        if (strncmp(key, segs[i], len) != 0)
            return false;
        key += len;
        if (i + 1 < n) {
            if (*key != '.')
                return false;
            key++;
        }
    }
    return *key == '\0';
}

static bool
is_map_entry(const ProtobufCMessageDescriptor *d)
{
    return d->n_fields == 2 && strcmp(d->fields[0].name, "key") == 0 &&
           d->fields[0].type == PROTOBUF_C_TYPE_STRING && strcmp(d->fields[1].name, "value") == 0;
}

/* path[0] names a map field whose entries are in `entries`: look up the key in the rest. */
static void
map_lookup(struct hits *h, const ProtobufCMessageDescriptor *entry_desc,
           ProtobufCMessage *const *entries, size_t n_entries, char *const *path, size_t n)
{
    const ProtobufCFieldDescriptor *kf = &entry_desc->fields[0];
    const ProtobufCFieldDescriptor *vf = &entry_desc->fields[1];
    bool scalar = vf->type != PROTOBUF_C_TYPE_MESSAGE;
    /* Scalar values take every remaining segment as the key; message values take one. */
    size_t n_key = scalar ? n - 1 : 1;
    const ProtobufCMessage *found = NULL;

    for (size_t i = 0; i < n_entries; i++) {
        const char *key = *(char *const *)((const char *)entries[i] + kf->offset);
        if (key_is_joined(key ? key : "", path + 1, n_key))
            found = entries[i]; /* the last one wins, as when decoding */
    }
    if (found == NULL)
        return;
    if (scalar) {
        leaf(h, NULL, 0, false, true); /* the key is there, whatever its value */
        scalar_leaf(h, vf, (const char *)found + vf->offset);
    } else {
        value_at(h, vf, (const char *)found + vf->offset, path + 2, n - 2);
    }
}

/* For a message with string `type` and bytes `event` (an events Envelope), decode event
 * with the resolver's descriptor for type and go on inside it. */
static bool
walk_event(struct hits *h, const ProtobufCMessage *msg, char *const *path, size_t n)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const ProtobufCFieldDescriptor *tf = protobuf_c_message_descriptor_get_field_by_name(d, "type");
    const ProtobufCFieldDescriptor *ef =
        protobuf_c_message_descriptor_get_field_by_name(d, "event");

    if (n < 2 || strcmp(path[0], "event") != 0 || tf == NULL || ef == NULL ||
        tf->type != PROTOBUF_C_TYPE_STRING || tf->label == PROTOBUF_C_LABEL_REPEATED ||
        ef->type != PROTOBUF_C_TYPE_BYTES || ef->label == PROTOBUF_C_LABEL_REPEATED)
        return false;
    if (h->resolve == NULL)
        return true; /* handled: nothing matches */

    const char *type = *(char *const *)((const char *)msg + tf->offset);
    const ProtobufCBinaryData *ev = (const void *)((const char *)msg + ef->offset);
    const ProtobufCMessageDescriptor *ed = h->resolve(type ? type : "");
    if (ed == NULL)
        return true;
    ProtobufCMessage *inner = protobuf_c_message_unpack(ed, NULL, ev->len, ev->data);
    if (inner == NULL)
        return true;
    walk(h, inner, path + 1, n - 1);
    protobuf_c_message_free_unpacked(inner, NULL);
    return true;
}

/* Does the message hold field fd? Only oneof members and proto2-style optional fields with a
 * has_ flag can be missing; proto3 fields always hold their value. */
static bool
has_field(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
    const char *base = (const char *)msg;

    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
    if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset != 0)
        return *(const protobuf_c_boolean *)(base + fd->quantifier_offset) != 0;
    return true;
}

static void
walk(struct hits *h, const ProtobufCMessage *msg, char *const *path, size_t n)
{
    const ProtobufCFieldDescriptor *fd;
    const char *base = (const char *)msg;

    if (walk_event(h, msg, path, n))
        return;
    fd = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, path[0]);
    if (fd == NULL || !has_field(msg, fd))
        return;
    if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
        value_at(h, fd, base + fd->offset, path + 1, n - 1);
        return;
    }

    size_t count = *(const size_t *)(base + fd->quantifier_offset);
    const char *items = *(const char *const *)(base + fd->offset);
    bool is_map = fd->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(fd->descriptor);

    if (n == 1) {
        /* The field itself: set when it has elements; scalars also give their texts. */
        leaf(h, NULL, 0, false, count > 0);
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
            return;
    }
    if (is_map) {
        map_lookup(h, fd->descriptor, (ProtobufCMessage *const *)items, count, path, n);
        return;
    }
    for (size_t i = 0; i < count; i++)
        value_at(h, fd, items + i * element_size(fd->type), path + 1, n - 1);
}

static bool
term_matches(const struct term *t, const ProtobufCMessage *msg, berth_filter_type_fn resolve)
{
    struct hits h = {.term = t, .resolve = resolve};

    walk(&h, msg, t->path, t->n_path);
    switch (t->op) {
    case OP_PRESENT: return h.set;
    case OP_EQUAL: return h.equal;
    case OP_NOT_EQUAL: return h.n_text > 0 && !h.equal;
    case OP_MATCH: return h.matched;
    }
    return false;
}

bool
berth_filter_match(const struct berth_filter *f, const ProtobufCMessage *msg,
                   berth_filter_type_fn resolve)
{
    if (f->n_alts == 0)
        return true;
    for (size_t i = 0; i < f->n_alts; i++) {
        const struct conjunction *c = &f->alts[i];
        bool all = true;
        for (size_t j = 0; j < c->n_terms && all; j++)
            all = term_matches(&c->terms[j], msg, resolve);
        if (all)
            return true;
    }
    return false;
}
