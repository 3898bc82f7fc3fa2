/* SPDX-License-Identifier: Apache-2.0
 *
 * Allocation that never fails. berth does not try to survive running out of memory: a failed
 * allocation prints one line and aborts, so that no caller carries an ENOMEM branch that no
 * test ever takes (see cleanup.h).
 */
#include "common/cleanup.h"

#include <stdarg.h>
#include <string.h>

static _Noreturn void
die_oom(void)
{
    static const char msg[] = "out of memory\n";
    ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)r;
    abort();
}

void *
xmalloc(size_t n)
{
    /* malloc(0) may return NULL; ask for one byte so NULL always means failure. */
    void *p = malloc(n ? n : 1);
    if (UNLIKELY(p == NULL))
        die_oom();
    return p;
}

void *
xzalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (UNLIKELY(p == NULL))
        die_oom();
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    /* realloc(p, 0) frees p; keep a live block so the result is always usable. */
    void *q = realloc(p, n ? n : 1);
    if (UNLIKELY(q == NULL))
        die_oom();
    return q;
}

char *
xstrdup(const char *s)
{
    char *r = strdup(s);
    if (UNLIKELY(r == NULL))
        die_oom();
    return r;
}

char *
xstrndup(const char *s, size_t n)
{
    char *r = strndup(s, n);
    if (UNLIKELY(r == NULL))
        die_oom();
    return r;
}

char *
xasprintf(const char *fmt, ...)
{
    char *r = NULL;
    va_list ap;

    va_start(ap, fmt);
    int n = vasprintf(&r, fmt, ap);
    va_end(ap);
    if (UNLIKELY(n < 0))
        die_oom();
    return r;
}
