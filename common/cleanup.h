/* SPDX-License-Identifier: Apache-2.0
 *
 * Scope-bound cleanup helpers. Pointers start NULL and fds start -1; ownership leaves a
 * variable explicitly with steal_ptr()/steal_fd() so the cleanup at scope exit becomes a no-op.
 */
#ifndef BERTH_COMMON_CLEANUP_H
#define BERTH_COMMON_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LIKELY(x)     __builtin_expect(!!(x), 1)
#define UNLIKELY(x)   __builtin_expect(!!(x), 0)

static inline void
berth_cleanup_freep(void *p)
{
    free(*(void **)p);
}

static inline void
berth_cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

static inline void
berth_cleanup_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

static inline void
berth_cleanup_closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

/* Free a NULL-terminated vector of strings and the vector. */
static inline void
berth_cleanup_strvp(char ***v)
{
    if (*v) {
        for (char **s = *v; *s; s++)
            free(*s);
        free(*v);
    }
}

#define cleanup_free   __attribute__((cleanup(berth_cleanup_freep)))
#define cleanup_close  __attribute__((cleanup(berth_cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(berth_cleanup_fclosep)))
#define cleanup_dir    __attribute__((cleanup(berth_cleanup_closedirp)))
#define cleanup_strv   __attribute__((cleanup(berth_cleanup_strvp)))

static inline int
steal_fd(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

static inline void *
berth_steal_ptr(void *pp)
{
    void **p = (void **)pp;
    void *r = *p;
    *p = NULL;
    return r;
}
#define steal_ptr(pp) berth_steal_ptr(pp)

/* Allocation never fails in berth: on OOM these print and abort (no untested ENOMEM paths). */
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
