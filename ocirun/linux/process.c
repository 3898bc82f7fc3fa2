// SPDX-License-Identifier: Apache-2.0
//
// Per-process settings from config.json's `process`, applied in the container (process.h).

#include "ocirun/linux/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "ocirun/linux/caps.h"
#include "ocirun/spec.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int
set_oom_score(int value, struct berth_err *err)
{
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d", value);
    cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, buf, n) != n)
        return berth_err_set(err, errno, "set oom_score_adj to %d", value);
    return 0;
}

static const char *
rlimit_name(int resource)
{
    const char *name;
    for (size_t i = 0; (name = ocirun_rlimit_name(i)); i++)
        if (ocirun_rlimit_parse(name) == resource)
            return name;
    return "?";
}

int
ocirun_process_setup(const struct ocirun_process *p, ocirun_filter_fn load_filter, void *arg,
                     struct berth_err *err)
{
    for (size_t i = 0; i < p->n_rlimits; i++) {
        struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
        if (setrlimit(p->rlimits[i].resource, &rl) < 0)
            return berth_err_set(err, errno, "set rlimit %s to %llu/%llu",
                                 rlimit_name(p->rlimits[i].resource),
                                 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    }
    if (p->has_oom_score_adj && set_oom_score(p->oom_score_adj, err) < 0)
        return -1;
    if (load_filter && !p->no_new_privileges && load_filter(arg, err) < 0)
        return -1;
    if (ocirun_caps_prepare(&p->caps, err) < 0)
        return -1;
    /* EPERM is expected only where setgroups is denied (a rootless user namespace) and no
     * extra groups were asked for; anything else would leave groups the process must lose. */
    if (setgroups(p->n_additional_gids, (const gid_t *)p->additional_gids) < 0 &&
        (errno != EPERM || p->n_additional_gids > 0))
        return berth_err_set(err, errno, "setgroups");
    if (setresgid(p->gid, p->gid, p->gid) < 0)
        return berth_err_set(err, errno, "setgid %u", p->gid);
    /* Leaving uid 0 would clear every capability; ocirun_caps_prepare asked to keep the
     * permitted ones, and ocirun_caps_apply installs the spec's sets right after. */
    if (setresuid(p->uid, p->uid, p->uid) < 0)
        return berth_err_set(err, errno, "setuid %u", p->uid);
    if (ocirun_caps_apply(&p->caps, err) < 0)
        return -1;
    if (chdir(p->cwd) < 0)
        return berth_err_set(err, errno, "chdir to cwd `%s`", p->cwd);
    if (p->has_umask)
        umask(p->umask & 0777);
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return berth_err_set(err, errno, "set no_new_privs");
    if (load_filter && p->no_new_privileges && load_filter(arg, err) < 0)
        return -1;
    return 0;
}

void
ocirun_process_default_home(char ***env, uint32_t uid)
{
    size_t n = 0;
    for (; (*env)[n]; n++)
        if (strncmp((*env)[n], "HOME=", 5) == 0)
            return;
    const char *home = "/";
    cleanup_free char *line = NULL;
    size_t cap = 0;
    cleanup_fclose FILE *f = fopen("/etc/passwd", "re");
    /* name:x:uid:gid:gecos:home:shell */
    while (f && getline(&line, &cap, f) > 0) {
        char *fields[7] = {0}, *save = NULL, *p = line;
        int k = 0;
        line[strcspn(line, "\n")] = '\0';
        for (; k < 7 && (fields[k] = strsep(&p, ":")); k++)
            ;
        (void)save;
        if (k >= 6 && fields[2] && strtoul(fields[2], NULL, 10) == uid && fields[5][0]) {
            home = fields[5];
            break;
        }
    }
    *env = xrealloc(*env, (n + 2) * sizeof(char *));
    (*env)[n] = xasprintf("HOME=%s", home);
    (*env)[n + 1] = NULL;
}

int
ocirun_process_prepare_fds(int preserve, struct berth_err *err)
{
    for (int fd = 3; fd < 3 + preserve; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0)
            return berth_err_set(err, errno, "preserved fd %d", fd);
        if (fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
            return berth_err_set(err, errno, "preserve fd %d", fd);
    }
    if (syscall(SYS_close_range, 3 + preserve, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
    /* No close_range (old kernel, or a filter already in place): every possible fd. */
    struct rlimit rl;
    int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
    for (int fd = 3 + preserve; fd < max; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC))
            fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
    return 0;
}

static bool
is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *
ocirun_process_find_exe(const struct ocirun_process *p, struct berth_err *err)
{
    const char *name = p->args[0];
    if (strchr(name, '/')) {
        if (!is_executable(name)) {
            berth_err_set(err, errno ? errno : EACCES, "exec `%s`", name);
            return NULL;
        }
        return xstrdup(name);
    }
    const char *path = DEFAULT_PATH;
    for (char **e = p->env; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    cleanup_free char *dirs = xstrdup(path);
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        cleanup_free char *cand = xasprintf("%s/%s", *d ? d : ".", name);
        if (is_executable(cand))
            return steal_ptr(&cand);
    }
    berth_err_fail(err, ENOENT, "exec: `%s`: executable file not found in $PATH", name);
    return NULL;
}
