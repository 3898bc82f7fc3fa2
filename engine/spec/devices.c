/* SPDX-License-Identifier: Apache-2.0
 *
 * Devices: the device cgroup rules (deny everything, allow mknod of any node and the
 * devices every container gets: null, zero, full, random, urandom, tty, console, ptmx, the
 * pts and tun; deny fuse). Docker's own list is shorter because runc adds the rest itself;
 * ocirun does not, so the list here is the whole effective one. HostConfig.Devices ("PathOnHost",
 * "PathInContainer", "CgroupPermissions"), and for a privileged container every device node of the
 * host's /dev with an allow-all rule. The runtime creates null, zero, full, random, urandom and tty
 * itself.
 */
#include "engine/spec/spec-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/json.h"
#include "common/fs.h"

static void
rule(struct json_object *rules, bool allow, const char *type, int64_t major, int64_t minor,
     const char *access)
{
    struct json_object *r = json_object_new_object();

    json_object_object_add(r, "allow", json_object_new_boolean(allow));
    spec_add_string(r, "type", type);
    if (major >= 0)
        json_object_object_add(r, "major", json_object_new_int64(major));
    if (minor >= 0)
        json_object_object_add(r, "minor", json_object_new_int64(minor));
    spec_add_string(r, "access", access);
    json_object_array_add(rules, r);
}

static void
default_rules(struct json_object *rules)
{
    static const struct {
        int64_t major, minor;
    } allowed[] = {
        {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {136, -1}, {10, 200},
    };

    rule(rules, false, "a", -1, -1, "rwm");
    rule(rules, true, "c", -1, -1, "m");
    rule(rules, true, "b", -1, -1, "m");
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
        rule(rules, true, "c", allowed[i].major, allowed[i].minor, "rwm");
    /* /dev/fuse stays closed even to a rule of HostConfig.DeviceCgroupRules, as in Docker. */
    rule(rules, false, "c", 10, 229, "rwm");
}

static struct json_object *
device(const char *path, const struct stat *st)
{
    struct json_object *d = json_object_new_object();

    spec_add_string(d, "path", path);
    spec_add_string(d, "type", S_ISBLK(st->st_mode) ? "b" : "c");
    json_object_object_add(d, "major", json_object_new_int64(major(st->st_rdev)));
    json_object_object_add(d, "minor", json_object_new_int64(minor(st->st_rdev)));
    json_object_object_add(d, "fileMode", json_object_new_int64(st->st_mode & 07777));
    json_object_object_add(d, "uid", json_object_new_int64(st->st_uid));
    json_object_object_add(d, "gid", json_object_new_int64(st->st_gid));
    return d;
}

/* Every char and block device under dir (the host's /dev), recursing into subdirectories
 * except those the container gets its own of. */
static void
host_devices(const char *dir, struct json_object *devs, int level)
{
    static const char *const skip[] = {"pts", "shm", "fd", "mqueue", ".lxc", ".udev"};
    cleanup_dir DIR *d = opendir(dir);
    struct dirent *e;

    if (!d || level > 4)
        return;
    while ((e = readdir(d))) {
        struct stat st;
        bool skipped =
            e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]));
        for (size_t i = 0; i < ARRAY_SIZE(skip) && level == 0; i++)
            skipped = skipped || strcmp(e->d_name, skip[i]) == 0;
        if (skipped)
            continue;
        cleanup_free char *path = xasprintf("%s/%s", dir, e->d_name);
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            host_devices(path, devs, level + 1);
        else if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && strcmp(path, "/dev/console") != 0)
            json_object_array_add(devs, device(path, &st));
    }
}

static int
user_device(struct json_object *item, size_t idx, struct json_object *devs,
            struct json_object *rules, struct berth_err *err)
{
    cleanup_free char *field = xasprintf("HostConfig.Devices[%zu]", idx);
    const char *host = NULL, *in = NULL, *perms = NULL;
    struct stat st;

    if (!json_object_is_type(item, json_type_object))
        return berth_err_fail(err, EINVAL, "%s: expected an object, got %s", field,
                              spec_type_phrase(item));
    if (spec_get_string(item, field, "PathOnHost", &host, err) < 0 ||
        spec_get_string(item, field, "PathInContainer", &in, err) < 0 ||
        spec_get_string(item, field, "CgroupPermissions", &perms, err) < 0)
        return -1;
    if (!host || host[0] != '/')
        return berth_err_fail(err, EINVAL, "%s.PathOnHost: `%s` is not an absolute path", field,
                              host ? host : "");
    if (!in || !*in)
        in = host;
    if (in[0] != '/')
        return berth_err_fail(err, EINVAL, "%s.PathInContainer: `%s` is not an absolute path",
                              field, in);
    if (!perms || !*perms)
        perms = "rwm";
    if (strspn(perms, "rwm") != strlen(perms))
        return berth_err_fail(err, EINVAL,
                              "%s.CgroupPermissions: `%s` is not a combination of r, w and m",
                              field, perms);
    if (stat(host, &st) < 0)
        return berth_err_set(err, errno, "%s.PathOnHost: `%s`", field, host);
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
        return berth_err_fail(err, EINVAL, "%s.PathOnHost: `%s` is not a device", field, host);
    cleanup_free char *clean = berth_fs_clean(in);
    /* A privileged container already has the host's node at that path: this one wins. */
    for (size_t i = json_object_array_length(devs); i-- > 0;) {
        struct json_object *p;
        json_object_object_get_ex(json_object_array_get_idx(devs, i), "path", &p);
        if (strcmp(json_object_get_string(p), clean) == 0)
            json_object_array_del_idx(devs, i, 1);
    }
    json_object_array_add(devs, device(clean, &st));
    rule(rules, true, S_ISBLK(st.st_mode) ? "b" : "c", major(st.st_rdev), minor(st.st_rdev), perms);
    return 0;
}

int
spec_devices(struct spec_ctx *c, struct berth_err *err)
{
    struct json_object *res, *list = NULL;
    struct json_object *devs = json_object_new_array(), *rules = json_object_new_array();

    json_object_object_add(c->oci_linux, "devices", devs);
    json_object_object_get_ex(c->oci_linux, "resources", &res);
    json_object_object_add(res, "devices", rules);
    if (c->privileged) {
        host_devices("/dev", devs, 0);
        rule(rules, true, "a", -1, -1, "rwm");
    } else {
        default_rules(rules);
    }
    if (spec_get_array(c->host, "HostConfig", "Devices", &list, err) < 0)
        return -1;
    for (size_t i = 0; list && i < json_object_array_length(list); i++)
        if (user_device(json_object_array_get_idx(list, i), i, devs, rules, err) < 0)
            return -1;
    return 0;
}
