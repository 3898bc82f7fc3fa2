// SPDX-License-Identifier: Apache-2.0
//
// Capabilities (see caps.h), with the raw capset syscall and prctl; the table maps the names
// of the runtime spec to numbers.

#include "ocirun/linux/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/capability.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"

static int
parse_set(struct json_object *obj, const char *key, int last, uint64_t *mask, struct berth_err *err)
{
    struct json_object *arr = NULL;
    int r = berth_json_get_array(obj, key, &arr, err);
    if (r <= 0)
        return r;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *v = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(v, json_type_string))
            return berth_err_fail(err, EINVAL, "`%s`[%zu]: expected string", key, i);
        const char *name = json_object_get_string(v);
        int cap = berth_cap_from_name(name);
        if (cap < 0)
            return berth_err_fail(err, EINVAL, "`%s`: unknown capability `%s`", key, name);
        if (cap > last) {
            berth_debug("capability %s is not known to this kernel, skipped", name);
            continue;
        }
        *mask |= 1ULL << cap;
    }
    return 0;
}

int
ocirun_caps_parse(struct json_object *obj, struct ocirun_caps *caps, struct berth_err *err)
{
    memset(caps, 0, sizeof(*caps));
    if (!obj)
        return 0;
    if (!json_object_is_type(obj, json_type_object))
        return berth_err_fail(err, EINVAL, "capabilities: expected object");
    int last = berth_cap_last_kernel();
    caps->present = true;
    if (parse_set(obj, "bounding", last, &caps->bounding, err) < 0 ||
        parse_set(obj, "effective", last, &caps->effective, err) < 0 ||
        parse_set(obj, "inheritable", last, &caps->inheritable, err) < 0 ||
        parse_set(obj, "permitted", last, &caps->permitted, err) < 0 ||
        parse_set(obj, "ambient", last, &caps->ambient, err) < 0)
        return berth_err_wrap(err, "capabilities");
    return 0;
}

int
ocirun_caps_prepare(const struct ocirun_caps *caps, struct berth_err *err)
{
    if (!caps->present)
        return 0;
    int last = berth_cap_last_kernel();
    for (int cap = 0; cap <= last; cap++) {
        if (caps->bounding & (1ULL << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return berth_err_set(err, errno, "drop %s from the bounding set",
                                 berth_cap_name(cap) ? berth_cap_name(cap) : "capability");
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return berth_err_set(err, errno, "keep capabilities across setuid");
    return 0;
}

int
ocirun_caps_apply(const struct ocirun_caps *caps, struct berth_err *err)
{
    if (!caps->present)
        return 0;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2] = {
        {(uint32_t)caps->effective, (uint32_t)caps->permitted, (uint32_t)caps->inheritable},
        {(uint32_t)(caps->effective >> 32), (uint32_t)(caps->permitted >> 32),
         (uint32_t)(caps->inheritable >> 32)},
    };
    if (syscall(SYS_capset, &hdr, data) < 0)
        return berth_err_set(err, errno, "set capabilities");
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return berth_err_set(err, errno, "clear ambient capabilities");
    for (int cap = 0; cap < 64; cap++) {
        if (!(caps->ambient & (1ULL << cap)))
            continue;
        /* The kernel only raises an ambient cap that is permitted and inheritable; runc
         * configs routinely list ambient caps without inheritable ones, so those are skipped
         * rather than failing the container. */
        if (!(caps->permitted & caps->inheritable & (1ULL << cap))) {
            berth_debug("ambient %s skipped: not permitted and inheritable",
                        berth_cap_name(cap) ? berth_cap_name(cap) : "?");
            continue;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return berth_err_set(err, errno, "raise ambient %s", berth_cap_name(cap));
    }
    return 0;
}
