/* SPDX-License-Identifier: Apache-2.0
 *
 * The event messages the supervisor publishes, by full type name
 * ("berth.supervisor.v1.TaskExit"): the one table both the exchange (filters on event.FIELD)
 * and clients that print events (berth-ctr) decode envelopes with.
 */
#ifndef BERTH_SUPERVISOR_EVENTS_TYPES_H
#define BERTH_SUPERVISOR_EVENTS_TYPES_H

#include <protobuf-c/protobuf-c.h>

/* The descriptor of an event type name; NULL if unknown (or name is NULL). */
const ProtobufCMessageDescriptor *sup_event_type(const char *type_name);

#endif
