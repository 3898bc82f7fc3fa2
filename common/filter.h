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
 *
 * In more detail (filter.c has the grammar): inside quotes only \" and \\ are escapes, so a
 * quoted regexp keeps its own backslashes. A map key that is missing, an unset message or an
 * unset oneof member gives no value: no term holds on it (labels.x!=y needs a label x, as in
 * containerd), while a plain proto3 scalar always has one (image=="" holds when image is
 * empty). A bare path holds for a non-empty string or bytes, a non-zero number, true, a set
 * message, a non-empty repeated field, or a map key that is there even with an empty value.
 * Unquoted map keys take the rest of the path, dots included (labels.io.berth.role). Repeated
 * fields hold when one element does (!= when none is equal). Paths are not checked against a
 * descriptor when parsing: a field that does not exist simply never matches.
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

/* Parse n filter strings. n == 0 gives a filter matching everything; an empty string is a
 * syntax error. Returns NULL and fills err (EINVAL, naming the filter and the position, as
 * "filter `id=x`: column 3: expected `==`, ...") on a syntax error or a bad regexp. */
struct berth_filter *berth_filter_parse(const char *const *filters, size_t n, struct berth_err *err);
void berth_filter_free(struct berth_filter *f);

/* Does msg match? resolve may be NULL (event.* paths then never match); so do events whose
 * type it does not know or whose bytes do not decode. Safe to call from several threads at
 * once on one filter. */
bool berth_filter_match(const struct berth_filter *f, const ProtobufCMessage *msg,
                        berth_filter_type_fn resolve);

#endif
