/* SPDX-License-Identifier: Apache-2.0
 *
 * Byte queues (buf.h). A queue grows by doubling and compacts before growing; it is freed as
 * soon as it empties, since most of the time every peer keeps up and nothing is queued.
 */
#include "shim/buf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"

void
shim_buf_add(struct shim_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->off + b->len + n > b->cap) {
        if (b->off > 0) {
            memmove(b->data, b->data + b->off, b->len);
            b->off = 0;
        }
        if (b->len + n > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < b->len + n)
                cap *= 2;
            b->data = xrealloc(b->data, cap);
            b->cap = cap;
        }
    }
    memcpy(b->data + b->off + b->len, p, n);
    b->len += n;
}

void
shim_buf_release(struct shim_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

int
shim_buf_flush(struct shim_buf *b, int fd)
{
    while (b->len > 0) {
        ssize_t n = write(fd, b->data + b->off, b->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n < 0)
            return -1;
        b->off += (size_t)n;
        b->len -= (size_t)n;
    }
    shim_buf_release(b);
    return 1;
}
