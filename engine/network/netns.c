/* SPDX-License-Identifier: Apache-2.0
 *
 * Persistent network namespaces (netns.h). unshare(CLONE_NEWNET) moves only the calling
 * thread into the new namespace, so it is done in a short-lived thread of its own: berthd's
 * other threads never change namespace, and the thread's namespace, once bind-mounted from
 * /proc/self/task/<tid>/ns/net, stays when the thread ends.
 */
#include "engine/network/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"

int
eng_netns_prepare_dir(const char *dir, struct berth_err *err)
{
    return berth_fs_mkdir_p(dir, 0700, err);
}

struct make {
    const char *path;
    int code;
    const char *what;
};

static void *
make_thread(void *arg)
{
    struct make *m = arg;
    if (unshare(CLONE_NEWNET) < 0) {
        m->code = errno;
        m->what = "unshare the network namespace";
        return NULL;
    }
    char self[64];
    snprintf(self, sizeof(self), "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
    if (mount(self, m->path, NULL, MS_BIND, NULL) < 0) {
        m->code = errno;
        m->what = "bind-mount the network namespace";
    }
    return NULL;
}

int
eng_netns_create(const char *path, struct berth_err *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0)
        return berth_err_set(err, errno, "create `%s`", path);
    struct make m = {.path = path};
    pthread_t t;
    int rc = pthread_create(&t, NULL, make_thread, &m);
    if (rc != 0) {
        m.code = rc;
        m.what = "start a thread";
    } else {
        pthread_join(t, NULL);
    }
    if (m.code) {
        unlink(path);
        return berth_err_set(err, m.code, "%s at `%s`", m.what, path);
    }
    return 0;
}

/* nsfs's magic number (linux/magic.h's NSFS_MAGIC). */
#define NSFS_MAGIC_NUMBER 0x6e736673

bool
eng_netns_is_mounted(const char *path)
{
    struct statfs st;
    return statfs(path, &st) == 0 && (unsigned long)st.f_type == NSFS_MAGIC_NUMBER;
}

int
eng_netns_remove(const char *path, struct berth_err *err)
{
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return berth_err_set(err, errno, "unmount `%s`", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return berth_err_set(err, errno, "remove `%s`", path);
    return 0;
}
