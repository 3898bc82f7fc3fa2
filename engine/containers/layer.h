/* SPDX-License-Identifier: Apache-2.0
 *
 * A container's writable layer as an image layer: the overlay upper directory written as a
 * gzip-compressed tar in the OCI layer format (docker commit). Overlay's own marks become
 * OCI whiteouts on the way: a 0/0 character device `name` is `.wh.name`, a directory with
 * the xattr trusted.overlay.opaque=y is that directory and `.wh..wh..opq` inside it.
 */
#ifndef BERTH_ENGINE_CONTAINERS_LAYER_H
#define BERTH_ENGINE_CONTAINERS_LAYER_H

#include <stdint.h>

#include "common/digest.h"

struct berth_err;

/* What eng_layer_write made: both digests "sha256:<hex>". */
struct eng_layer_info {
    char diff_id[BERTH_SHA256_HEX_LEN + 8]; /* of the uncompressed tar: the config's diff_id */
    char digest[BERTH_SHA256_HEX_LEN + 8];  /* of the compressed blob: the manifest's digest */
    int64_t size;                           /* bytes of the compressed blob */
};

/* Write the layer below upper (a host directory, walked without following any link) to
 * out_fd, gzip-compressed. Entries come in byte order of their names, directories before
 * what they hold, with their owners, modes, times and xattrs (not overlay's trusted.*);
 * files hard-linked to each other inside the layer are one file and hard links to it. The
 * gzip stream carries no name or time, so the same layer gives the same bytes. */
int eng_layer_write(const char *upper, int out_fd, struct eng_layer_info *info,
                    struct berth_err *err);

#endif
