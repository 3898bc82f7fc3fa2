/* SPDX-License-Identifier: Apache-2.0
 *
 * Signal names as users write them (kill -s, StopSignal, ocirun kill): "TERM", "SIGTERM",
 * "sigterm", "15", "RTMIN+3".
 */
#ifndef BERTH_COMMON_SIGNAL_H
#define BERTH_COMMON_SIGNAL_H

struct berth_err;

/* The signal number, or -1 with err naming what is wrong (err may be NULL). */
int berth_signal_parse(const char *s, struct berth_err *err);

#endif
