/* SPDX-License-Identifier: Apache-2.0
 *
 * The times /events takes for `since` and `until`, in every form the docker CLI sends or
 * dockerd accepts: unix seconds with an optional fraction ("1700000000", "1700000000.5"),
 * RFC 3339 and its shorter forms ("2023-11-14T22:13:20Z", "2023-11-14T22:13:20.5+01:00",
 * "2023-11-14T22:13", "2023-11-14"; without a zone the host's local time), and Go durations
 * counted back from now ("10m", "1h30m", "1.5s", "-5m" for five minutes ahead).
 */
#ifndef BERTH_ENGINE_EVENTS_TIMESTAMP_H
#define BERTH_ENGINE_EVENTS_TIMESTAMP_H

#include <stdint.h>

struct berth_err;

/* Parse s into nanoseconds since the epoch; now_ns is "now" for durations. EINVAL naming s
 * when it is none of the forms. */
int eng_events_parse_time(const char *s, int64_t now_ns, int64_t *out_ns, struct berth_err *err);

#endif
