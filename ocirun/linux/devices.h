/* SPDX-License-Identifier: Apache-2.0
 *
 * /dev inside the container: the default devices every container gets (null, zero, full,
 * random, urandom, tty), linux.devices, and the standard symlinks (fd, stdin, stdout, stderr,
 * ptmx, core). Device nodes are made with mknod, or bind-mounted from the host's when the
 * container runs in a user namespace (where mknod is not allowed).
 */
#ifndef BERTH_OCIRUN_LINUX_DEVICES_H
#define BERTH_OCIRUN_LINUX_DEVICES_H

#include <stdbool.h>

struct berth_err;
struct ocirun_spec;

/* Whether /dev is a bind mount from the host (then ocirun creates nothing in it). */
bool ocirun_devices_dev_is_bind(const struct ocirun_spec *spec);

/* Create the devices and symlinks in the rootfs open at rootfd. */
int ocirun_devices_setup(const struct ocirun_spec *spec, int rootfd, struct berth_err *err);

#endif
