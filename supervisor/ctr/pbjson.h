/* SPDX-License-Identifier: Apache-2.0
 *
 * protobuf-c messages as JSON, by reflection on their descriptors, for `--format json`,
 * `containers info` and `events`. The shape follows the proto3 JSON mapping with the field
 * names of the .proto files, and changes that make the supervisor's messages readable:
 *
 *  - a bytes field holding a JSON object or array (Container.spec, Metric.data, the
 *    resources of Tasks.Update) is shown as that JSON; other bytes as base64;
 *  - a message with a string `type` and a bytes `event` (an events Envelope) shows event
 *    decoded as the message type names (ctr_pbjson_event_type), when it is known;
 *  - 64-bit integers are JSON numbers (not strings), so times (unix nanoseconds in this API)
 *    stay numbers scripts can compare, unless CTR_PBJSON_TIMES asks for text.
 *
 * Enums show as their value names, maps as objects.
 */
#ifndef BERTH_SUPERVISOR_CTR_PBJSON_H
#define BERTH_SUPERVISOR_CTR_PBJSON_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Leave out fields holding their default value (0, "", false, empty lists, absent messages),
 * as proto3 JSON does; without it every field is shown. */
#define CTR_PBJSON_OMIT_EMPTY 0x1u

/* Show int64 fields named `timestamp` or `*_at` (unix nanoseconds) as RFC 3339 times in UTC,
 * null when 0: for people rather than scripts. */
#define CTR_PBJSON_TIMES 0x2u

/* msg as a new JSON object (caller puts it). */
struct json_object *ctr_pbjson(const ProtobufCMessage *msg, unsigned flags);

/* The descriptor of a supervisor event by its full type name ("berth.supervisor.v1.TaskExit"),
 * or NULL. */
const ProtobufCMessageDescriptor *ctr_pbjson_event_type(const char *type_name);

/* An event payload (the packed message named by type) as a new JSON object, or NULL when the
 * type is unknown or the payload does not unpack. */
struct json_object *ctr_pbjson_event(const char *type, const uint8_t *data, size_t len,
                                     unsigned flags);

#endif
