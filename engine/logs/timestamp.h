/* SPDX-License-Identifier: Apache-2.0
 *
 * The times of docker's documents: RFC 3339 with nanoseconds, as the json-file log stores them
 * ("2026-11-23T16:00:00.123456789Z") and as the API prints them. Times are int64 nanoseconds
 * since the epoch, in UTC. (The since / until query parameters, in all their forms, are
 * engine/events/timestamp.h's.)
 */
#ifndef BERTH_ENGINE_LOGS_TIMESTAMP_H
#define BERTH_ENGINE_LOGS_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any formatted time, with its NUL. */
#define ENG_TIMESTAMP_MAX 40

/* Parse an RFC 3339 time of n bytes: "YYYY-MM-DDTHH:MM:SS", an optional fraction of 1 to 9
 * digits, then "Z" or "+HH:MM" / "-HH:MM". Returns 0 and sets *ns, or -1 when s is not such a
 * time (nothing else may follow it). */
int eng_timestamp_parse(const char *s, size_t n, int64_t *ns);

/* Format ns in UTC into out. fixed: all nine digits of nanoseconds, as docker prefixes log
 * lines (RFC3339NanoFixed); otherwise Go's RFC3339Nano, trailing zeros of the fraction and a
 * zero fraction dropped, as docker's JSON documents print times. Returns the length. */
size_t eng_timestamp_format(int64_t ns, bool fixed, char out[ENG_TIMESTAMP_MAX]);

#endif
