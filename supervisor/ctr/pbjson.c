/* SPDX-License-Identifier: Apache-2.0
 *
 * protobuf-c to JSON by reflection (pbjson.h). One walk over a message's field descriptors:
 * each field is read at its offset, its presence from its label (proto3 singular fields are
 * always there, optional and oneof fields say so in their quantifier), and its value turned
 * into a json-c object by type.
 */
#include "supervisor/ctr/pbjson.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "berth/supervisor/v1/events.pb-c.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "supervisor/ctr/output.h"
#include "supervisor/events/types.h"

const ProtobufCMessageDescriptor *
ctr_pbjson_event_type(const char *type_name)
{
    return sup_event_type(type_name);
}

static struct json_object *message(const ProtobufCMessage *m, unsigned flags);

static const void *
member(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return (const char *)m + f->offset;
}

static bool
is_timestamp(const ProtobufCFieldDescriptor *f)
{
    size_t len = strlen(f->name);
    if (f->type != PROTOBUF_C_TYPE_INT64 && f->type != PROTOBUF_C_TYPE_SINT64 &&
        f->type != PROTOBUF_C_TYPE_SFIXED64)
        return false;
    return strcmp(f->name, "timestamp") == 0 || (len > 3 && strcmp(f->name + len - 3, "_at") == 0);
}

/* protoc generates a map<K, V> field as a repeated XxxEntry message of key = 1, value = 2. */
static bool
is_map_entry(const ProtobufCMessageDescriptor *d)
{
    size_t len = strlen(d->short_name);
    if (d->n_fields != 2 || len < 5 || strcmp(d->short_name + len - 5, "Entry") != 0)
        return false;
    const ProtobufCFieldDescriptor *k = protobuf_c_message_descriptor_get_field(d, 1);
    const ProtobufCFieldDescriptor *v = protobuf_c_message_descriptor_get_field(d, 2);
    return k && v && strcmp(k->name, "key") == 0 && strcmp(v->name, "value") == 0;
}

static char *
base64(const uint8_t *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = xmalloc((len + 2) / 3 * 4 + 1), *w = out;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        *w++ = tab[(v >> 18) & 63];
        *w++ = tab[(v >> 12) & 63];
        *w++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        *w++ = i + 2 < len ? tab[v & 63] : '=';
    }
    *w = '\0';
    return out;
}

/* A JSON object or array as itself; anything else as base64. */
static struct json_object *
bytes(const ProtobufCBinaryData *b)
{
    size_t i = 0;
    while (i < b->len && strchr(" \t\r\n", b->data[i]))
        i++;
    if (i < b->len && (b->data[i] == '{' || b->data[i] == '[')) {
        struct berth_err err = BERTH_ERR_INIT;
        struct json_object *j = berth_json_parse((const char *)b->data, b->len, &err);
        if (j)
            return j;
        berth_err_clear(&err);
    }
    cleanup_free char *s = base64(b->data, b->len);
    return json_object_new_string(s);
}

static struct json_object *
timestamp(int64_t ns)
{
    if (ns == 0)
        return NULL;
    cleanup_free char *s = ctr_time_format(ns);
    return json_object_new_string(s);
}

/* One value of field f stored at p (an element, for repeated fields). */
static struct json_object *
value(const ProtobufCFieldDescriptor *f, const void *p, unsigned flags)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: return json_object_new_int(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return json_object_new_int64(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if ((flags & CTR_PBJSON_TIMES) && is_timestamp(f))
            return timestamp(*(const int64_t *)p);
        return json_object_new_int64(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return json_object_new_uint64(*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT: return json_object_new_double(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE: return json_object_new_double(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL: return json_object_new_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        return ev ? json_object_new_string(ev->name) : json_object_new_int(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return json_object_new_string(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: return bytes((const ProtobufCBinaryData *)p);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        return sub ? message(sub, flags) : NULL;
    }
    }
    return NULL;
}

/* The zero value of a proto3 singular field, which proto3 JSON leaves out. */
static bool
is_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return *(const uint32_t *)p == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return *(const uint64_t *)p == 0;
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p == 0;
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p == 0;
    case PROTOBUF_C_TYPE_BOOL: return !*(const protobuf_c_boolean *)p;
    case PROTOBUF_C_TYPE_ENUM: return *(const int *)p == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)p == NULL;
    }
    return true;
}

/* Is a singular field set? proto3 fields (label NONE) always are; optional and oneof ones say
 * so in their quantifier (a has_ flag, the oneof case) or by a NULL pointer. */
static bool
is_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const void *q = (const char *)m + f->quantifier_offset;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)q == f->id;
    if (f->label != PROTOBUF_C_LABEL_OPTIONAL)
        return true;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(void *const *)member(m, f) != NULL;
    return *(const protobuf_c_boolean *)q;
}

static size_t
element_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM: return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* A map field: an object keyed by each entry's key as text. */
static struct json_object *
map(const ProtobufCFieldDescriptor *f, ProtobufCMessage *const *entries, size_t n, unsigned flags)
{
    const ProtobufCMessageDescriptor *d = f->descriptor;
    const ProtobufCFieldDescriptor *kf = protobuf_c_message_descriptor_get_field(d, 1);
    const ProtobufCFieldDescriptor *vf = protobuf_c_message_descriptor_get_field(d, 2);
    struct json_object *o = json_object_new_object();
    for (size_t i = 0; i < n; i++) {
        struct json_object *k = value(kf, member(entries[i], kf), flags);
        const char *key = k ? json_object_get_string(k) : "";
        json_object_object_add(o, key, value(vf, member(entries[i], vf), flags));
        json_object_put(k);
    }
    return o;
}

static struct json_object *
repeated(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned flags)
{
    size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
    const char *items = *(char *const *)member(m, f);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor))
        return map(f, (ProtobufCMessage *const *)items, n, flags);
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, value(f, items + i * element_size(f), flags));
    return a;
}

/* A message with `string type` and `bytes event` (an events Envelope): the event decoded. */
static struct json_object *
envelope_event(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned flags)
{
    const ProtobufCFieldDescriptor *tf;
    if (f->type != PROTOBUF_C_TYPE_BYTES || strcmp(f->name, "event") != 0)
        return NULL;
    tf = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "type");
    if (!tf || tf->type != PROTOBUF_C_TYPE_STRING || tf->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    const ProtobufCBinaryData *b = member(m, f);
    return ctr_pbjson_event(*(char *const *)member(m, tf), b->data, b->len, flags);
}

static struct json_object *
message(const ProtobufCMessage *m, unsigned flags)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    bool omit = flags & CTR_PBJSON_OMIT_EMPTY;
    struct json_object *o = json_object_new_object();
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        struct json_object *v;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (omit && *(const size_t *)((const char *)m + f->quantifier_offset) == 0)
                continue;
            v = repeated(m, f, flags);
        } else if (!is_present(m, f)) {
            if (omit)
                continue;
            v = NULL;
        } else {
            if (omit && f->label == PROTOBUF_C_LABEL_NONE && is_zero(f, member(m, f)))
                continue;
            v = envelope_event(m, f, flags);
            if (!v)
                v = value(f, member(m, f), flags);
        }
        json_object_object_add(o, f->name, v);
    }
    return o;
}

struct json_object *
ctr_pbjson(const ProtobufCMessage *msg, unsigned flags)
{
    return message(msg, flags);
}

struct json_object *
ctr_pbjson_event(const char *type, const uint8_t *data, size_t len, unsigned flags)
{
    const ProtobufCMessageDescriptor *d = ctr_pbjson_event_type(type);
    if (!d)
        return NULL;
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, data);
    if (!m)
        return NULL;
    struct json_object *j = message(m, flags);
    protobuf_c_message_free_unpacked(m, NULL);
    return j;
}
