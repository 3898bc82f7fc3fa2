/* SPDX-License-Identifier: Apache-2.0
 *
 * containerd-style filters over protobuf-c messages, by reflection on their descriptors, so
 * one matcher serves containers, tasks, namespaces and events.
 *
 * A filter list is a set of alternatives (OR); each alternative is a comma-separated
 * conjunction (AND) of terms: `path==value`, `path!=value`, `path~=regexp` (POSIX extended),
 * or a bare `path` (the field is present and non-empty). A path is field names joined by '.':
 * `id`, `runtime.name`, `labels.KEY` (map<string,...> fields look up KEY), and for a message
 * with `type` + `event` bytes fields (an events Envelope), `event.FIELD` decodes event with
 * the descriptor a resolver returns for type. Values may be double-quoted ("a,b"), and so may
 * path segments (labels."a.b"). Scalars compare by their text: enums by value name, bools as
 * true/false, numbers in decimal.
 */
#ifndef BERTH_COMMON_FILTER_H
#define BERTH_COMMON_FILTER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

struct berth_err;
struct berth_filter;

/* Maps an event type name ("berth.supervisor.v1.TaskExit") to its descriptor, or NULL. */
typedef const ProtobufCMessageDescriptor *(*berth_filter_type_fn)(const char *type_name);

/* Parse n filter strings. n == 0 gives a filter matching everything. Returns NULL and fills
 * err (EINVAL, naming the filter and the position) on a syntax error. */
struct berth_filter *berth_filter_parse(const char *const *filters, size_t n, struct berth_err *err);
void berth_filter_free(struct berth_filter *f);

/* Does msg match? resolve may be NULL (event.* paths then never match). */
bool berth_filter_match(const struct berth_filter *f, const ProtobufCMessage *msg,
                        berth_filter_type_fn resolve);

#endif
