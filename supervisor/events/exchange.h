/* SPDX-License-Identifier: Apache-2.0
 *
 * The supervisor's event exchange: services publish an event after each mutation commits and
 * the task manager publishes what shims report; every subscriber (an Events.Subscribe stream)
 * gets the envelopes its filter matches, in publish order. A subscriber that falls more than
 * SUP_EVENTS_MAX_QUEUED envelopes behind is closed rather than let memory grow.
 */
#ifndef BERTH_SUPERVISOR_EVENTS_EXCHANGE_H
#define BERTH_SUPERVISOR_EVENTS_EXCHANGE_H

#include <protobuf-c/protobuf-c.h>

#include "berth/supervisor/v1/events.pb-c.h"

struct berth_filter;
struct sup_events;
struct sup_subscriber;

#define SUP_EVENTS_MAX_QUEUED 8192

struct sup_events *sup_events_new(void);
/* Closes every subscriber (their _next returns 0) and frees the exchange once the last one
 * is released. */
void sup_events_free(struct sup_events *ev);

/* Publish event (not taken) under namespace ns and topic ("/tasks/exit"). The envelope's
 * type is the event's full message name. Never fails. */
void sup_events_publish(struct sup_events *ev, const char *ns, const char *topic,
                        const ProtobufCMessage *event);

/* Publish an already-packed event (Events.Publish from a client). */
void sup_events_publish_raw(struct sup_events *ev, const char *ns, const char *topic,
                            const char *type, const uint8_t *data, size_t len);

/* A new subscriber; filter (may be NULL: everything) is taken. */
struct sup_subscriber *sup_events_subscribe(struct sup_events *ev, struct berth_filter *filter);

/* Wait for the next matching envelope: 1 and *out (free with
 * berth__supervisor__v1__envelope__free_unpacked(*out, NULL)), or 0 once the subscriber is
 * closed (by sup_subscriber_close, overflow or the exchange's end). */
int sup_subscriber_next(struct sup_subscriber *sub, Berth__Supervisor__V1__Envelope **out);

/* Wake and close (from any thread, e.g. a call's cancel callback). Idempotent. */
void sup_subscriber_close(struct sup_subscriber *sub);

/* Remove from the exchange and free. The caller's own thread, after _next returned 0 or
 * after deciding to stop. */
void sup_events_unsubscribe(struct sup_events *ev, struct sup_subscriber *sub);

/* The descriptor of an event type name, for filters on event.FIELD; NULL if unknown. */
const ProtobufCMessageDescriptor *sup_events_type(const char *type_name);

#endif
