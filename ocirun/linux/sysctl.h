/* SPDX-License-Identifier: Apache-2.0
 *
 * linux.sysctl: kernel parameters set for the container by writing /proc/sys. Only
 * parameters that belong to a namespace the container has of its own are allowed (ipc: the
 * kernel.msg*, kernel.sem, kernel.shm* and fs.mqueue.* family; net.* with a new network
 * namespace; kernel.hostname/domainname with a new uts namespace), since anything else would
 * change the host.
 */
#ifndef BERTH_OCIRUN_LINUX_SYSCTL_H
#define BERTH_OCIRUN_LINUX_SYSCTL_H

struct berth_err;
struct json_object;
struct ocirun_spec;

/* Check linux.sysctl (obj may be NULL) against the spec's namespaces. */
int ocirun_sysctl_check(const struct ocirun_spec *spec, struct json_object *obj,
                        struct berth_err *err);

/* Write them; in the container after pivot_root, before readonlyPaths makes /proc/sys
 * read-only. */
int ocirun_sysctl_apply(struct json_object *obj, struct berth_err *err);

#endif
