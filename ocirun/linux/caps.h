/* SPDX-License-Identifier: Apache-2.0
 *
 * process.capabilities: the five sets as 64-bit masks, parsed from names ("CAP_NET_ADMIN"),
 * and applied around the uid switch: the bounding set is reduced while still root, the other
 * sets are kept across setuid (PR_SET_KEEPCAPS) and installed after it, ambient last.
 */
#ifndef BERTH_OCIRUN_LINUX_CAPS_H
#define BERTH_OCIRUN_LINUX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

struct berth_err;
struct json_object;

struct ocirun_caps {
    bool present; /* process.capabilities given; when absent the process keeps what it has */
    uint64_t bounding, effective, inheritable, permitted, ambient;
};

/* Parse process.capabilities (obj may be NULL). Unknown names are an error; names the kernel
 * does not have (above /proc/sys/kernel/cap_last_cap) are skipped with a debug message. */
int ocirun_caps_parse(struct json_object *obj, struct ocirun_caps *caps, struct berth_err *err);

/* Before the uid switch: drop from the bounding set and ask to keep permitted caps across
 * setuid. */
int ocirun_caps_prepare(const struct ocirun_caps *caps, struct berth_err *err);
/* After the uid switch: install effective/permitted/inheritable, then raise ambient. */
int ocirun_caps_apply(const struct ocirun_caps *caps, struct berth_err *err);

#endif
