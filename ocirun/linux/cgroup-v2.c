// SPDX-License-Identifier: Apache-2.0
//
// cgroup v2 backend: the single unified hierarchy. Joining needs nothing beforehand;
// controllers are enabled in the parents' cgroup.subtree_control when resources ask for them.

#include "ocirun/linux/cgroup-internal.h"

static int
v2_prepare(const struct cgroup_hierarchy *h, const char *dir, struct berth_err *err)
{
    return 0;
}

const struct cgroup_ops ocirun_cgroup_v2_ops = {
    .name = "v2",
    .prepare = v2_prepare,
};
