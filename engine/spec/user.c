/* SPDX-License-Identifier: Apache-2.0
 *
 * Config.User and HostConfig.GroupAdd, resolved the way Docker does: "name", "uid",
 * "uid:gid", "name:group" (and the mixes) against the container's own /etc/passwd and
 * /etc/group, read inside the rootfs (berth_fs_open_in_root: a symlinked /etc/passwd in an
 * image cannot make the engine read a host file). Numeric ids need no files; a name that is
 * not found is an error naming it. Supplementary groups are those of /etc/group listing the
 * user by name or being its primary group, then GroupAdd.
 */
#include "engine/spec/spec-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"

struct entry {
    char *fields[7];
    size_t n_fields;
};

/* Open a file of the rootfs; NULL without error when it does not exist. */
static FILE *
open_in_rootfs(const char *rootfs, const char *rel, struct berth_err *err)
{
    cleanup_close int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct berth_err e = BERTH_ERR_INIT;
    int fd;

    if (rootfd < 0) {
        berth_err_set(err, errno, "open rootfs `%s`", rootfs);
        return NULL;
    }
    fd = berth_fs_open_in_root(rootfd, rel, O_RDONLY, 0, &e);
    if (fd < 0) {
        if (e.code == ENOENT || e.code == ENOTDIR) {
            berth_err_clear(&e);
            return NULL;
        }
        *err = e;
        return NULL;
    }
    FILE *f = fdopen(fd, "re");
    if (!f) {
        close(fd);
        berth_err_set(err, errno, "read `%s` of the rootfs", rel);
    }
    return f;
}

/* Split a colon-separated line in place. Comments and blank lines give 0 fields. */
static size_t
split(char *line, struct entry *e)
{
    line[strcspn(line, "\n")] = '\0';
    e->n_fields = 0;
    if (line[0] == '\0' || line[0] == '#')
        return 0;
    for (char *p = line; p && e->n_fields < ARRAY_SIZE(e->fields);) {
        e->fields[e->n_fields++] = p;
        p = strchr(p, ':');
        if (p)
            *p++ = '\0';
    }
    return e->n_fields;
}

static bool
parse_id(const char *s, uint32_t *out)
{
    char *end;
    unsigned long long v;

    if (!*s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v >= UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Find a passwd entry by name (numeric false) or by uid; fills uid, gid and the name. */
static int
find_passwd(const char *rootfs, const char *key, bool numeric, struct spec_user *u, char **name,
            struct berth_err *err)
{
    struct berth_err e = BERTH_ERR_INIT;
    cleanup_fclose FILE *f = open_in_rootfs(rootfs, "/etc/passwd", &e);
    char line[4096];
    struct entry ent;
    uint32_t id;

    if (e.msg) {
        *err = e;
        return -1;
    }
    while (f && fgets(line, sizeof(line), f)) {
        if (split(line, &ent) < 4 || !parse_id(ent.fields[2], &id))
            continue;
        if (numeric ? id != u->uid : strcmp(ent.fields[0], key) != 0)
            continue;
        u->uid = id;
        if (!parse_id(ent.fields[3], &u->gid))
            u->gid = 0;
        *name = xstrdup(ent.fields[0]);
        return 1;
    }
    return 0;
}

/* Find a group by name; 1 and *gid when found. */
static int
find_group(const char *rootfs, const char *name, uint32_t *gid, struct berth_err *err)
{
    struct berth_err e = BERTH_ERR_INIT;
    cleanup_fclose FILE *f = open_in_rootfs(rootfs, "/etc/group", &e);
    char line[4096];
    struct entry ent;

    if (e.msg) {
        *err = e;
        return -1;
    }
    while (f && fgets(line, sizeof(line), f))
        if (split(line, &ent) >= 3 && strcmp(ent.fields[0], name) == 0 &&
            parse_id(ent.fields[2], gid))
            return 1;
    return 0;
}

static void
add_gid(struct spec_user *u, uint32_t gid)
{
    for (size_t i = 0; i < u->n_gids; i++)
        if (u->gids[i] == gid)
            return;
    u->gids = xrealloc(u->gids, (u->n_gids + 1) * sizeof(*u->gids));
    u->gids[u->n_gids++] = gid;
}

/* The groups of /etc/group that list user (may be NULL) as a member, or are its primary
 * group, in file order. */
static int
member_groups(const char *rootfs, const char *user, struct spec_user *u, struct berth_err *err)
{
    struct berth_err e = BERTH_ERR_INIT;
    cleanup_fclose FILE *f = open_in_rootfs(rootfs, "/etc/group", &e);
    char line[4096];
    struct entry ent;
    uint32_t gid;

    if (e.msg) {
        *err = e;
        return -1;
    }
    while (f && fgets(line, sizeof(line), f)) {
        if (split(line, &ent) < 4 || !parse_id(ent.fields[2], &gid))
            continue;
        /* The primary group too when the file has it: dockerd (libcontainer's user
         * lookup) lists it among the additional gids. */
        if (gid == u->gid)
            add_gid(u, gid);
        for (char *save = NULL, *m = strtok_r(ent.fields[3], ",", &save); m && user;
             m = strtok_r(NULL, ",", &save))
            if (strcmp(m, user) == 0)
                add_gid(u, gid);
    }
    return 0;
}

void
spec_user_free(struct spec_user *u)
{
    free(u->gids);
    memset(u, 0, sizeof(*u));
}

int
spec_user_resolve(const char *rootfs, const char *user, struct json_object *group_add,
                  struct spec_user *out, struct berth_err *err)
{
    struct spec_user u = {0};
    cleanup_free char *copy = xstrdup(user && *user ? user : "0");
    cleanup_free char *name = NULL;
    char *group = strchr(copy, ':');
    int r;

    if (group)
        *group++ = '\0';
    if (!*copy || (group && !*group)) {
        berth_err_fail(err, EINVAL, "Config.User: invalid user `%s`", user);
        goto fail;
    }
    if (parse_id(copy, &u.uid)) {
        r = find_passwd(rootfs, NULL, true, &u, &name, err);
    } else {
        r = find_passwd(rootfs, copy, false, &u, &name, err);
        if (r == 0)
            berth_err_fail(err, EINVAL, "Config.User: unknown user `%s` (not in /etc/passwd)",
                           copy);
        if (r == 0)
            r = -1;
    }
    if (r < 0)
        goto fail;
    if (group && !parse_id(group, &u.gid)) {
        r = find_group(rootfs, group, &u.gid, err);
        if (r == 0)
            berth_err_fail(err, EINVAL, "Config.User: unknown group `%s` (not in /etc/group)",
                           group);
        if (r <= 0)
            goto fail;
    }
    if (member_groups(rootfs, name, &u, err) < 0)
        goto fail;

    for (size_t i = 0; group_add && i < json_object_array_length(group_add); i++) {
        const char *g = json_object_get_string(json_object_array_get_idx(group_add, i));
        uint32_t gid;
        if (!parse_id(g, &gid)) {
            r = find_group(rootfs, g, &gid, err);
            if (r == 0)
                berth_err_fail(err, EINVAL,
                               "HostConfig.GroupAdd: unknown group `%s` (not in /etc/group)", g);
            if (r <= 0)
                goto fail;
        }
        add_gid(&u, gid);
    }
    *out = u;
    return 0;

fail:
    spec_user_free(&u);
    return -1;
}
