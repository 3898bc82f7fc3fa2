/* SPDX-License-Identifier: Apache-2.0
 *
 * Byte queues for non-blocking writers (a fifo, an attach client, a control client): what the
 * peer did not take yet. Storage is released whenever a queue empties, so an idle shim holds
 * none.
 */
#ifndef BERTH_SHIM_BUF_H
#define BERTH_SHIM_BUF_H

#include <stddef.h>

struct shim_buf {
    char *data;
    size_t off; /* live bytes are data[off, off + len) */
    size_t len;
    size_t cap;
};

/* Append n bytes. */
void shim_buf_add(struct shim_buf *b, const void *p, size_t n);

/* Write as much as fd takes now (fd non-blocking). Returns 1 when the queue is empty, 0 when
 * bytes remain (EAGAIN), -1 with errno on a write error (EPIPE: the reader is gone). */
int shim_buf_flush(struct shim_buf *b, int fd);

/* Drop everything. */
void shim_buf_release(struct shim_buf *b);

#endif
