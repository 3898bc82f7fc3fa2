/* SPDX-License-Identifier: Apache-2.0
 *
 * The shim socket protocol's framing (frame.h): a 4-byte big-endian length, then a packed
 * berth.shim.v1.Frame. Decoding is pure and checks the announced length against
 * BERTH_FRAME_MAX before anything is allocated, so a peer can make neither side hold more than
 * one maximal frame. The blocking calls serve clients (tests, the supervisor's dialer); the
 * incremental reader serves the shim's event loop, where a frame may arrive a byte at a time.
 */
#include "common/frame.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"

/* The reader's first buffer, and the size above which an emptied buffer is given back rather
 * than kept for the next frame (an Update or a Stats reply should not pin megabytes). */
#define READER_MIN  4096u
#define READER_KEEP (64u << 10)

static uint32_t
get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- Encoding and decoding --------------------------------------------------------------- */

int
berth_frame_decode(const uint8_t *buf, size_t len, berth_frame **out, size_t *consumed,
                   struct berth_err *err)
{
    if (len < 4)
        return 0;
    uint32_t n = get_be32(buf);
    if (n > BERTH_FRAME_MAX)
        return berth_err_fail(err, EMSGSIZE, "frame of %u bytes exceeds the limit of %u", n,
                              BERTH_FRAME_MAX);
    if (len - 4 < n)
        return 0;
    berth_frame *f = berth__shim__v1__frame__unpack(NULL, n, buf + 4);
    if (f == NULL)
        return berth_err_fail(err, EINVAL, "malformed frame (%u bytes)", n);
    *out = f;
    *consumed = 4 + (size_t)n;
    return 1;
}

int
berth_frame_encode(const berth_frame *f, uint8_t **buf, size_t *len, struct berth_err *err)
{
    size_t n = berth__shim__v1__frame__get_packed_size(f);
    if (n > BERTH_FRAME_MAX)
        return berth_err_fail(err, EMSGSIZE, "frame of %zu bytes exceeds the limit of %u", n,
                              BERTH_FRAME_MAX);
    uint8_t *b = xmalloc(4 + n);
    put_be32(b, (uint32_t)n);
    berth__shim__v1__frame__pack(f, b + 4);
    *buf = b;
    *len = 4 + n;
    return 0;
}

/* ---- Blocking I/O ------------------------------------------------------------------------ */

/* Write all of buf. send(MSG_NOSIGNAL) turns a gone peer into EPIPE instead of SIGPIPE; a
 * descriptor that is not a socket (a pipe in a test) falls back to write(2). */
static int
write_all(int fd, const uint8_t *p, size_t len)
{
    bool sock = true;

    while (len > 0) {
        ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
        if (n < 0 && errno == ENOTSOCK && sock) {
            sock = false;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read exactly len bytes. Returns 1 when done, 0 at EOF before the first byte, -1 with errno
 * (ECONNRESET for an EOF in the middle). */
static int
read_all(int fd, uint8_t *p, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            if (got == 0)
                return 0;
            errno = ECONNRESET;
            return -1;
        }
        got += (size_t)n;
    }
    return 1;
}

int
berth_frame_write(int fd, const berth_frame *f, struct berth_err *err)
{
    cleanup_free uint8_t *buf = NULL;
    size_t len;

    if (berth_frame_encode(f, &buf, &len, err) < 0)
        return -1;
    if (write_all(fd, buf, len) < 0)
        return berth_err_set(err, errno, "write frame");
    return 0;
}

int
berth_frame_read(int fd, berth_frame **out, struct berth_err *err)
{
    uint8_t head[4];
    int r = read_all(fd, head, sizeof(head));

    if (r == 0)
        return 0;
    if (r < 0)
        return berth_err_set(err, errno, "read frame header");
    uint32_t n = get_be32(head);
    if (n > BERTH_FRAME_MAX)
        return berth_err_fail(err, EMSGSIZE, "frame of %u bytes exceeds the limit of %u", n,
                              BERTH_FRAME_MAX);
    cleanup_free uint8_t *buf = xmalloc(n ? n : 1);
    if (n > 0) {
        int rr = read_all(fd, buf, n);
        if (rr <= 0)
            return berth_err_set(err, rr == 0 ? ECONNRESET : errno, "read frame of %u bytes", n);
    }
    berth_frame *f = berth__shim__v1__frame__unpack(NULL, n, buf);
    if (f == NULL)
        return berth_err_fail(err, EINVAL, "malformed frame (%u bytes)", n);
    *out = f;
    return 1;
}

/* ---- Incremental reader ------------------------------------------------------------------ */

int
berth_frame_reader_fill(struct berth_frame_reader *r, int fd, struct berth_err *err)
{
    /* Room for at least one more byte; once the header is in, room for the whole frame, so
     * that one read can finish it. */
    size_t need = r->len + 1;
    if (r->len >= 4) {
        uint32_t n = get_be32(r->buf);
        if (n > BERTH_FRAME_MAX)
            return berth_err_fail(err, EMSGSIZE, "frame of %u bytes exceeds the limit of %u", n,
                                  BERTH_FRAME_MAX);
        if (4 + (size_t)n > need)
            need = 4 + (size_t)n;
    }
    if (need > r->cap) {
        size_t cap = r->cap ? r->cap : READER_MIN;
        while (cap < need)
            cap *= 2;
        if (cap > 4 + (size_t)BERTH_FRAME_MAX && need <= 4 + (size_t)BERTH_FRAME_MAX)
            cap = 4 + (size_t)BERTH_FRAME_MAX;
        r->buf = xrealloc(r->buf, cap);
        r->cap = cap;
    }

    ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 1;
    if (n < 0)
        return berth_err_set(err, errno, "read frame");
    if (n == 0)
        return 0;
    r->len += (size_t)n;
    return 1;
}

int
berth_frame_reader_next(struct berth_frame_reader *r, berth_frame **out, struct berth_err *err)
{
    size_t used = 0;
    int rc = berth_frame_decode(r->buf, r->len, out, &used, err);

    if (rc <= 0)
        return rc;
    r->len -= used;
    if (r->len > 0) {
        memmove(r->buf, r->buf + used, r->len);
    } else if (r->cap > READER_KEEP) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
    return 1;
}

void
berth_frame_reader_release(struct berth_frame_reader *r)
{
    free(r->buf);
    r->buf = NULL;
    r->len = r->cap = 0;
}

/* ---- Building frames --------------------------------------------------------------------- */

berth_frame *
berth_frame_new(uint64_t id, const char *method, const ProtobufCMessage *msg)
{
    berth_frame *f = xmalloc(sizeof(*f));

    berth__shim__v1__frame__init(f);
    f->id = id;
    f->method = xstrdup(method ? method : "");
    f->error = xstrdup("");
    if (msg != NULL) {
        size_t n = protobuf_c_message_get_packed_size(msg);
        f->payload.data = xmalloc(n ? n : 1);
        f->payload.len = protobuf_c_message_pack(msg, f->payload.data);
    }
    return f;
}

berth_frame *
berth_frame_new_error(uint64_t id, int code, const char *error)
{
    berth_frame *f = berth_frame_new(id, "", NULL);

    free(f->error);
    f->error = xstrdup(error ? error : "");
    f->code = code;
    return f;
}

void
berth_frame_free(berth_frame *f)
{
    if (f == NULL)
        return;
    free(f->method);
    free(f->error);
    free(f->payload.data);
    free(f);
}
