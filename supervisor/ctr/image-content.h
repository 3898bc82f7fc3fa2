/* SPDX-License-Identifier: Apache-2.0
 *
 * What `images ls` and `images check` read of an image in the content store (image-content.c):
 * its index or manifest and its config, fetched whole over Content.Read, for the platforms an
 * image has and the blobs it needs. Missing content is no error here: the callers print "-"
 * or what Images.Check says.
 */
#ifndef BERTH_SUPERVISOR_CTR_IMAGE_CONTENT_H
#define BERTH_SUPERVISOR_CTR_IMAGE_CONTENT_H

#include <stddef.h>

#include "berth/supervisor/v1/images.pb-c.h"

struct berth_err;
struct ctr_global;
struct json_object;

/* A blob of the content store, whole (at most 4 MiB: indexes, manifests and configs are
 * small), parsed as JSON. NULL with err when it is missing, too big or not JSON. */
struct json_object *ctr_content_read_json(struct ctr_global *g, const char *digest,
                                          struct berth_err *err);

/* The platforms of an image, comma-separated ("linux/amd64,linux/arm64/v8"): every entry of
 * its index, or its config's os/arch[/variant]. "-" when they cannot be read. Heap. */
char *ctr_image_platforms(struct ctr_global *g, const Berth__Supervisor__V1__Image *img);

/* How many blobs the image needs for platform (NULL or "": the host's): its index (if any),
 * the platform's manifest, its config and its layers. 0 when the manifest cannot be read. */
size_t ctr_image_count_blobs(struct ctr_global *g, const Berth__Supervisor__V1__Image *img,
                             const char *platform);

#endif
