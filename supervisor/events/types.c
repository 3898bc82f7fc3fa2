// SPDX-License-Identifier: Apache-2.0
//
// The table of event types (types.h). A new event message is added here and nowhere else.

#include "supervisor/events/types.h"

#include <string.h>

#include "berth/supervisor/v1/content.pb-c.h"
#include "berth/supervisor/v1/events.pb-c.h"
#include "berth/supervisor/v1/images.pb-c.h"
#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "common/cleanup.h"

static const ProtobufCMessageDescriptor *const event_types[] = {
    &berth__supervisor__v1__namespace_create__descriptor,
    &berth__supervisor__v1__namespace_update__descriptor,
    &berth__supervisor__v1__namespace_delete__descriptor,
    &berth__supervisor__v1__container_create__descriptor,
    &berth__supervisor__v1__container_update__descriptor,
    &berth__supervisor__v1__container_delete__descriptor,
    &berth__supervisor__v1__task_create__descriptor,
    &berth__supervisor__v1__task_start__descriptor,
    &berth__supervisor__v1__task_exit__descriptor,
    &berth__supervisor__v1__task_delete__descriptor,
    &berth__supervisor__v1__task_oom__descriptor,
    &berth__supervisor__v1__task_exec_added__descriptor,
    &berth__supervisor__v1__task_exec_started__descriptor,
    &berth__supervisor__v1__task_paused__descriptor,
    &berth__supervisor__v1__task_resumed__descriptor,
    &berth__supervisor__v1__snapshot_prepare__descriptor,
    &berth__supervisor__v1__snapshot_commit__descriptor,
    &berth__supervisor__v1__snapshot_remove__descriptor,
    &berth__supervisor__v1__content_delete__descriptor,
    &berth__supervisor__v1__image_create__descriptor,
    &berth__supervisor__v1__image_update__descriptor,
    &berth__supervisor__v1__image_delete__descriptor,
};

const ProtobufCMessageDescriptor *
sup_event_type(const char *type_name)
{
    if (!type_name)
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(event_types); i++)
        if (strcmp(event_types[i]->name, type_name) == 0)
            return event_types[i];
    return NULL;
}
