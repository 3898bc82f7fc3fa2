/* SPDX-License-Identifier: Apache-2.0
 *
 * Docker's view of the supervisor's images. The supervisor keeps records (a name and a
 * manifest or index); docker shows images, each known by its ID (the digest of its config)
 * with every name that leads to it. This file joins the two: it lists the records of
 * namespace "berth", reads each one's config (Images.Check) and groups them by ID, and
 * resolves what a docker client calls an image (a name, a full or short ID) to one of them.
 */
#ifndef BERTH_ENGINE_IMAGES_IMAGE_H
#define BERTH_ENGINE_IMAGES_IMAGE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct berth_err;
struct eng_daemon;
struct json_object;

struct eng_image {
    char *id;     /* "sha256:<hex>" of the config */
    char **names; /* normalized record names leading here, NULL-terminated, sorted */
    size_t n_names;
    char *target; /* the first record's manifest or index digest */
    int64_t target_size;
    int64_t size;               /* bytes of its blobs */
    int64_t record_created_ns;  /* the first record's creation */
    struct json_object *config; /* the image config document */
};

struct eng_image_list {
    struct eng_image **images;
    size_t n;
};

/* Every image of the namespace, grouped by ID (in the supervisor's name order). A record
 * whose config cannot be read (an incomplete pull) is left out. */
int eng_image_list(struct eng_daemon *d, struct eng_image_list *out, struct berth_err *err);
void eng_image_list_release(struct eng_image_list *l);

/* The image docker would mean by name: a reference ("busybox", "busybox:1.36",
 * "host:5000/x@sha256:..."), else an ID or a unique prefix of one ("sha256:3f57", "3f57").
 * *by_name says which matched (a name, or an ID). *out is a copy the caller frees with
 * eng_image_free. ENOENT "No such image: NAME" when nothing matches. */
int eng_image_resolve(struct eng_daemon *d, const char *name, struct eng_image **out, int *by_name,
                      struct berth_err *err);
void eng_image_free(struct eng_image *img);

/* The number of distinct images. */
int eng_image_count(struct eng_daemon *d, int64_t *out, struct berth_err *err);

/* The normalized reference for a docker name ("busybox" is
 * "docker.io/library/busybox:latest"): a heap string, or NULL with EINVAL. */
char *eng_image_normalize(const char *name, struct berth_err *err);

/* docker's short form of a normalized name ("busybox:latest"). A heap string. */
char *eng_image_familiar(const char *name);

/* Whether a record name is a tag (not name@digest). */
int eng_image_name_is_tag(const char *name);

/* An image without a name (docker commit without a repository) is recorded as
 * ENG_IMAGE_DANGLING_REPO@<manifest digest>, since every supervisor record has a name; listings
 * leave such names out, so the image shows as <none>:<none>, as docker's do. */
#define ENG_IMAGE_DANGLING_REPO "berth-dangling"
bool eng_image_name_is_dangling(const char *name);

/* The config's "created" as unix seconds (0 when absent or unreadable). */
int64_t eng_image_created(struct json_object *config);

/* The Go architecture name for a uname machine ("x86_64" -> "amd64"). */
const char *eng_image_goarch(const char *machine);

/* Whether a registry host is on the loopback (spoken to over plain http, as dockerd treats
 * 127.0.0.0/8 as insecure). */
int eng_image_host_is_loopback(const char *domain);

#endif
