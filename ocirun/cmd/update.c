// SPDX-License-Identifier: Apache-2.0
//
// `ocirun update [options] <container-id>`: new resources from runc's flags or from a
// linux.resources JSON document (-r FILE, "-" for stdin). Both become one linux.resources
// object; an unknown field in it is refused rather than silently ignored.

#include "ocirun/ocirun.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "ocirun/container.h"

/* Flag -> linux.resources path, and how its value is read. */
enum value_kind { V_BYTES, V_INT, V_UINT, V_STRING };

static const struct flag {
    const char *name;
    const char *section, *field;
    enum value_kind kind;
} flags[] = {
    {"memory", "memory", "limit", V_BYTES},
    {"memory-reservation", "memory", "reservation", V_BYTES},
    {"memory-swap", "memory", "swap", V_BYTES},
    {"kernel-memory", "memory", "kernel", V_BYTES},
    {"kernel-memory-tcp", "memory", "kernelTCP", V_BYTES},
    {"cpu-share", "cpu", "shares", V_UINT},
    {"cpu-quota", "cpu", "quota", V_INT},
    {"cpu-burst", "cpu", "burst", V_UINT},
    {"cpu-period", "cpu", "period", V_UINT},
    {"cpu-rt-period", "cpu", "realtimePeriod", V_UINT},
    {"cpu-rt-runtime", "cpu", "realtimeRuntime", V_INT},
    {"cpu-idle", "cpu", "idle", V_INT},
    {"cpuset-cpus", "cpu", "cpus", V_STRING},
    {"cpuset-mems", "cpu", "mems", V_STRING},
    {"pids-limit", "pids", "limit", V_INT},
    {"blkio-weight", "blockIO", "weight", V_UINT},
};

/* The fields of linux.resources ocirun knows, section by section ("" = top level). */
static const struct {
    const char *section;
    const char *const fields[16];
} known[] = {
    {"",
     {"memory", "cpu", "pids", "blockIO", "hugepageLimits", "network", "devices", "unified", "rdma",
      NULL}},
    {"memory",
     {"limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller",
      "useHierarchy", "checkBeforeUpdate", NULL}},
    {"cpu",
     {"shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems",
      "idle", NULL}},
    {"pids", {"limit", NULL}},
    {"blockIO",
     {"weight", "leafWeight", "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
      "throttleReadIOPSDevice", "throttleWriteIOPSDevice", NULL}},
    {"network", {"classID", "priorities", NULL}},
};

static bool
is_known(const char *section, const char *field)
{
    for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
        if (strcmp(known[i].section, section) != 0)
            continue;
        for (const char *const *f = known[i].fields; *f; f++)
            if (strcmp(*f, field) == 0)
                return true;
        return false;
    }
    return true; /* a section whose inside is free-form (unified) or an array */
}

static int
check_fields(struct json_object *res, struct berth_err *err)
{
    if (!json_object_is_type(res, json_type_object))
        return berth_err_fail(err, EINVAL, "resources: expected object");
    json_object_object_foreach(res, key, val)
    {
        if (!is_known("", key))
            return berth_err_fail(err, EINVAL, "resources: unknown field `%s`", key);
        if (!json_object_is_type(val, json_type_object) || strcmp(key, "unified") == 0)
            continue;
        json_object_object_foreach(val, sub, v2)
        {
            (void)v2;
            if (!is_known(key, sub))
                return berth_err_fail(err, EINVAL, "resources: unknown field `%s.%s`", key, sub);
        }
    }
    return 0;
}

/* A size as runc takes it: "1024", "512k", "64m", "1g" (binary units, an optional "b"),
 * or "-1" for unlimited. */
static int
parse_bytes(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s)
        return -1;
    if (v == -1 && *end == '\0') {
        *out = -1;
        return 0;
    }
    if (v < 0)
        return -1;
    int shift = 0;
    switch (tolower((unsigned char)*end)) {
    case '\0': break;
    case 'k': shift = 10, end++; break;
    case 'm': shift = 20, end++; break;
    case 'g': shift = 30, end++; break;
    case 't': shift = 40, end++; break;
    default: return -1;
    }
    if (tolower((unsigned char)*end) == 'b')
        end++;
    if (*end || (shift && v > (INT64_MAX >> shift)))
        return -1;
    *out = (int64_t)v << shift;
    return 0;
}

static int
set_flag(struct json_object *res, const struct flag *f, const char *arg, struct berth_err *err)
{
    struct json_object *sec = NULL, *val = NULL;
    char *end;
    int64_t n;
    switch (f->kind) {
    case V_BYTES:
        if (parse_bytes(arg, &n) < 0)
            return berth_err_fail(err, EINVAL, "--%s: invalid size `%s`", f->name, arg);
        val = json_object_new_int64(n);
        break;
    case V_INT:
    case V_UINT:
        errno = 0;
        n = strtoll(arg, &end, 10);
        if (errno || end == arg || *end || (f->kind == V_UINT && n < 0))
            return berth_err_fail(err, EINVAL, "--%s: invalid number `%s`", f->name, arg);
        val = json_object_new_int64(n);
        break;
    case V_STRING: val = json_object_new_string(arg); break;
    }
    if (!json_object_object_get_ex(res, f->section, &sec)) {
        sec = json_object_new_object();
        json_object_object_add(res, f->section, sec);
    }
    json_object_object_add(sec, f->field, val);
    return 0;
}

int
ocirun_cmd_update(struct ocirun_global *g, int argc, char **argv, struct berth_err *err)
{
    enum { OPT_FIRST = 256, OPT_L3 = OPT_FIRST + 64, OPT_MEMBW };
    struct option opts[ARRAY_SIZE(flags) + 5];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
        opts[n++] = (struct option){flags[i].name, required_argument, NULL, OPT_FIRST + (int)i};
    opts[n++] = (struct option){"resources", required_argument, NULL, 'r'};
    opts[n++] = (struct option){"l3-cache-schema", required_argument, NULL, OPT_L3};
    opts[n++] = (struct option){"mem-bw-schema", required_argument, NULL, OPT_MEMBW};
    opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
    opts[n] = (struct option){NULL, 0, NULL, 0};

    cleanup_json struct json_object *res = json_object_new_object();
    const char *file = NULL;
    bool any_flag = false;
    int c;
    while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
        if (c == 'r') {
            file = optarg;
        } else if (c == OPT_L3 || c == OPT_MEMBW) {
            return berth_err_fail(err, ENOTSUP, "Intel RDT is not available on this host");
        } else if (c == 'h') {
            ocirun_cmd_usage("update", "[command options] <container-id>",
                             "   --resources value, -r value  path to a file with the resources "
                             "to update (\"-\" for stdin)\n"
                             "   --memory, --memory-reservation, --memory-swap, --kernel-memory,\n"
                             "   --kernel-memory-tcp, --cpu-share, --cpu-quota, --cpu-burst,\n"
                             "   --cpu-period, --cpu-rt-period, --cpu-rt-runtime, --cpu-idle,\n"
                             "   --cpuset-cpus, --cpuset-mems, --pids-limit, --blkio-weight\n");
            return 0;
        } else if (c >= OPT_FIRST && c < OPT_FIRST + (int)ARRAY_SIZE(flags)) {
            if (set_flag(res, &flags[c - OPT_FIRST], optarg, err) < 0)
                return -1;
            any_flag = true;
        } else {
            return berth_err_fail(err, EINVAL, "invalid option for `update`");
        }
    }
    const char *id = ocirun_cmd_one_id("update", argc, argv, err);
    if (!id)
        return -1;
    if (file) {
        if (any_flag)
            return berth_err_fail(err, EINVAL, "use either --resources or flags, not both");
        json_object_put(res);
        res = strcmp(file, "-") == 0 ? NULL : berth_json_parse_file(file, err);
        if (strcmp(file, "-") == 0) {
            cleanup_free char *buf = NULL;
            size_t len = 0;
            if (berth_fs_read_file("/dev/stdin", &buf, &len, err) < 0)
                return berth_err_wrap(err, "--resources");
            res = berth_json_parse(buf, len, err);
        }
        if (!res)
            return berth_err_wrap(err, "--resources `%s`", file);
    } else if (!any_flag) {
        return berth_err_fail(err, EINVAL, "`update` needs --resources or at least one flag");
    }
    if (check_fields(res, err) < 0)
        return -1;
    return ocirun_container_update(g, id, steal_ptr(&res), err) < 0 ? -1 : 0;
}
