/* SPDX-License-Identifier: Apache-2.0
 *
 * The shim socket protocol's framing: a 4-byte big-endian length, then that many bytes of a
 * packed berth.shim.v1.Frame (proto/berth/shim/v1/shim.proto). Frames above
 * BERTH_FRAME_MAX are refused, so a hostile peer cannot make either side allocate more.
 */
#ifndef BERTH_COMMON_FRAME_H
#define BERTH_COMMON_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "berth/shim/v1/shim.pb-c.h"

struct berth_err;

#define BERTH_FRAME_MAX (4u << 20)

typedef Berth__Shim__V1__Frame berth_frame;

/* Decode one frame from the start of buf. Returns 1 with *out (free with
 * berth__shim__v1__frame__free_unpacked(*out, NULL)) and *consumed set; 0 when buf holds only
 * part of a frame; -1 with err (EINVAL / EMSGSIZE) when the bytes are not a valid frame.
 * Pure: no I/O, for the fuzzer. */
int berth_frame_decode(const uint8_t *buf, size_t len, berth_frame **out, size_t *consumed,
                       struct berth_err *err);

/* Encode f into a heap buffer (length prefix included); *len set. Never fails (aborts on OOM),
 * except -1 with EMSGSIZE when f packs above BERTH_FRAME_MAX. */
int berth_frame_encode(const berth_frame *f, uint8_t **buf, size_t *len, struct berth_err *err);

/* Blocking: write one frame whole (retrying EINTR and short writes; MSG_NOSIGNAL on sockets,
 * so a gone peer is EPIPE, not SIGPIPE). */
int berth_frame_write(int fd, const berth_frame *f, struct berth_err *err);

/* Blocking: read one frame. 1 with *out, 0 at EOF before any byte, -1 with err. */
int berth_frame_read(int fd, berth_frame **out, struct berth_err *err);

/* Incremental reader for event loops (non-blocking fds). */
struct berth_frame_reader {
    uint8_t *buf;
    size_t len, cap;
};
/* Read what is available from fd (one read(2), growing the buffer up to one maximal frame).
 * Returns 1 when bytes were added or none are available yet (EAGAIN/EINTR), 0 at EOF, -1 with
 * err on a read error or when the buffered frame announces more than BERTH_FRAME_MAX. */
int berth_frame_reader_fill(struct berth_frame_reader *r, int fd, struct berth_err *err);
/* Take the next whole frame: 1 with *out, 0 when more bytes are needed, -1 on a bad frame. */
int berth_frame_reader_next(struct berth_frame_reader *r, berth_frame **out, struct berth_err *err);
void berth_frame_reader_release(struct berth_frame_reader *r);

/* Build a frame around a message: payload = packed msg (msg may be NULL: empty payload). The
 * returned frame's strings and payload are heap copies; free with berth_frame_free. */
berth_frame *berth_frame_new(uint64_t id, const char *method, const ProtobufCMessage *msg);
/* An error reply: code (errno) and message. */
berth_frame *berth_frame_new_error(uint64_t id, int code, const char *error);
void berth_frame_free(berth_frame *f); /* for frames from berth_frame_new*, not decoded ones */

#endif
