/* SPDX-License-Identifier: Apache-2.0
 *
 * docker's /events filters: the `filters` query argument, a JSON map from a key to its
 * values ({"type": {"image": true}} or the older {"type": ["image"]}). Values of one key are
 * alternatives; keys all have to hold. Keys and how each matches an event, as dockerd does:
 *   type, event, scope   equal to the event's Type, Action, scope ("local"); event matches by
 *                        prefix when a value is "health_status", "exec_create" or "exec_start"
 *   container, volume,   the actor's ID or its `name` attribute, equal or by prefix, for any
 *   network, daemon      event (type=... narrows it)
 *   image                the actor's ID or its image name (attribute `name` of image events,
 *                        `image` of others), with or without the tag
 *   label                "key" or "key=value" among the actor's attributes; every value
 *                        given has to hold
 * plugin, node, service, secret and config are accepted and match like container (berthd
 * has none of those events).
 */
#ifndef BERTH_ENGINE_EVENTS_FILTER_H
#define BERTH_ENGINE_EVENTS_FILTER_H

#include <stdbool.h>

struct berth_err;
struct json_object;
struct eng_events_filter;

/* Parse the filters argument (NULL or "": a filter that lets everything through). EINVAL
 * naming the problem ("invalid filter 'foo'") on anything else than docker's shape. */
int eng_events_filter_parse(const char *query, struct eng_events_filter **out,
                            struct berth_err *err);
void eng_events_filter_free(struct eng_events_filter *f);

/* Whether an event passes. attrs: its attributes object (may be NULL). f NULL passes
 * everything. */
bool eng_events_filter_match(const struct eng_events_filter *f, const char *type,
                             const char *action, const char *id, struct json_object *attrs);

#endif
