/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: the shim socket protocol (common/frame.c), as berth-shim reads requests and
 * the supervisor reads replies and events. The input is a byte stream: frames are decoded one
 * after another as the incremental reader does; each frame's payload is unpacked with every
 * message type the shim serves or sends, as server.c does for the method it names; a decoded
 * frame without unknown fields must encode to bytes that decode to the same frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/frame.h"

static const ProtobufCMessageDescriptor *const messages[] = {
    &berth__shim__v1__create_request__descriptor,  &berth__shim__v1__create_response__descriptor,
    &berth__shim__v1__start_request__descriptor,   &berth__shim__v1__start_response__descriptor,
    &berth__shim__v1__exec_request__descriptor,    &berth__shim__v1__exec_response__descriptor,
    &berth__shim__v1__kill_request__descriptor,    &berth__shim__v1__delete_request__descriptor,
    &berth__shim__v1__delete_response__descriptor, &berth__shim__v1__state_request__descriptor,
    &berth__shim__v1__process_state__descriptor,   &berth__shim__v1__list_response__descriptor,
    &berth__shim__v1__pids_response__descriptor,   &berth__shim__v1__update_request__descriptor,
    &berth__shim__v1__resize_request__descriptor,  &berth__shim__v1__close_iorequest__descriptor,
    &berth__shim__v1__stats_response__descriptor,  &berth__shim__v1__connect_response__descriptor,
    &berth__shim__v1__event__descriptor,           &berth__shim__v1__empty__descriptor,
};

static void
unpack_payload(const berth_frame *f)
{
    for (size_t i = 0; i < sizeof(messages) / sizeof(*messages); i++) {
        ProtobufCMessage *m =
            protobuf_c_message_unpack(messages[i], NULL, f->payload.len, f->payload.data);
        if (!m)
            continue;
        /* What unpacked packs again (the shim echoes parts of requests in replies). */
        size_t n = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(n ? n : 1);
        if (protobuf_c_message_pack(m, buf) != n)
            abort();
        free(buf);
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

static void
roundtrip(const berth_frame *f)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_free uint8_t *buf = NULL;
    size_t len, used;
    berth_frame *g = NULL;

    if (berth_frame_encode(f, &buf, &len, &err) < 0)
        abort(); /* it was decoded, so it is not above the maximum */
    /* Unknown fields are packed again as they were kept, and libprotobuf-c keeps one it
     * should refuse: field number 0 written as a two-byte varint (80 00) is taken as an
     * unknown field, packed back as the one-byte tag 00, which the same library refuses.
     * berth never sends a decoded frame on (replies and events are new frames), so only
     * frames without unknown fields must come back equal. */
    if (f->base.n_unknown_fields > 0)
        return;
    if (berth_frame_decode(buf, len, &g, &used, &err) != 1 || used != len)
        abort();
    if (g->id != f->id || g->code != f->code || strcmp(g->method, f->method) != 0 ||
        strcmp(g->error, f->error) != 0 || g->payload.len != f->payload.len ||
        (f->payload.len && memcmp(g->payload.data, f->payload.data, f->payload.len) != 0))
        abort();
    berth__shim__v1__frame__free_unpacked(g, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    while (size > 0) {
        cleanup_err struct berth_err err = BERTH_ERR_INIT;
        berth_frame *f = NULL;
        size_t used = 0;
        int r = berth_frame_decode(data, size, &f, &used, &err);
        if (r <= 0) {
            if (r < 0 && !err.msg)
                abort();
            return 0;
        }
        if (used == 0 || used > size)
            abort();
        unpack_payload(f);
        roundtrip(f);
        berth__shim__v1__frame__free_unpacked(f, NULL);
        data += used;
        size -= used;
    }
    return 0;
}
