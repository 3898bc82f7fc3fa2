/* SPDX-License-Identifier: Apache-2.0
 *
 * docker's stream framing (stdcopy.h), and the growth rule of the buffers it appends to.
 */
#include "engine/logs/stdcopy.h"

#include <malloc.h>
#include <string.h>

#include "common/cleanup.h"

/* The interface carries no capacity, so the allocator is asked for it: a buffer is only
 * reallocated when its block is full, and then to the next power of two, so that a run of
 * appends copies the data O(log n) times whichever allocator is linked (ASan's realloc, for
 * one, always moves) and a buffer the caller allocated to its exact length still grows right. */
static void
reserve(char **buf, size_t len, size_t n)
{
    size_t cap = 256;

    if (*buf && malloc_usable_size(*buf) >= len + n)
        return;
    while (cap < len + n)
        cap *= 2;
    *buf = xrealloc(*buf, cap);
}

void
eng_stdcopy_append(char **buf, size_t *len, const void *data, size_t n)
{
    if (n == 0)
        return;
    reserve(buf, *len, n);
    memcpy(*buf + *len, data, n);
    *len += n;
}

void
eng_stdcopy_header(char **buf, size_t *len, int stream, uint32_t n)
{
    unsigned char h[ENG_STDCOPY_HEADER_LEN] = {
        (unsigned char)stream,
        0,
        0,
        0,
        (unsigned char)(n >> 24),
        (unsigned char)(n >> 16),
        (unsigned char)(n >> 8),
        (unsigned char)n,
    };

    eng_stdcopy_append(buf, len, h, sizeof(h));
}

void
eng_stdcopy_frame(char **buf, size_t *len, int stream, const void *data, size_t n)
{
    const char *p = data;

    while (n > 0) {
        uint32_t part = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        reserve(buf, *len, ENG_STDCOPY_HEADER_LEN + (size_t)part);
        eng_stdcopy_header(buf, len, stream, part);
        eng_stdcopy_append(buf, len, p, part);
        p += part;
        n -= part;
    }
}
