/* SPDX-License-Identifier: Apache-2.0
 *
 * What docker prints for sizes, ages and ids (go-units' HumanSize and HumanDuration, the
 * 12-character short id), and the times its flags take (--since, --until).
 */
#ifndef BERTH_ENGINE_CLI_UNITS_H
#define BERTH_ENGINE_CLI_UNITS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct berth_err;

/* "1.23MB", "512B", "4.1kB" (decimal units, 4 significant digits), heap. */
char *cli_human_size(double bytes);
/* "Less than a second", "5 seconds", "About a minute", "3 hours", "2 weeks", heap. */
char *cli_human_duration(int64_t seconds);
/* "<duration> ago" for a unix time, heap. */
char *cli_human_since(int64_t unix_time);
/* An id without "sha256:" cut to 12 characters unless no_trunc, heap. */
char *cli_short_id(const char *id, bool no_trunc);
/* An RFC 3339 time ("2024-01-02T03:04:05.123456789Z") to unix seconds; -1 when unreadable. */
int64_t cli_parse_rfc3339(const char *s);
/* A --since/--until value as the API takes it (unix seconds, maybe with a fraction): a unix
 * time as is, an RFC 3339 time or date, or a duration back from now ("10m", "1h30m", "5s").
 * Heap string, or NULL with err naming the value. */
char *cli_api_time(const char *value, struct berth_err *err);

/* A Go duration ("1m30s", "500ms", "2h") in nanoseconds, or -1 with err naming the value and
 * the flag. */
int64_t cli_parse_duration_ns(const char *value, const char *flag, struct berth_err *err);

#endif
