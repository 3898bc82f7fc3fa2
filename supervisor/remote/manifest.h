/* SPDX-License-Identifier: Apache-2.0
 *
 * Image manifests, indexes and configs as small C structs, and the choice of one platform's
 * manifest from an index. Everything here is a pure function over bytes and structs: no I/O,
 * no globals, no logging, so it can be fuzzed and unit-tested alone (manifest.c, platform.c).
 *
 * Four manifest media types are understood: the OCI image index and manifest (image-spec
 * v1.0/1.1) and their Docker equivalents, the manifest list and the image manifest schema 2.
 * Docker schema 1 is refused with ENOTSUP. Only sha256 digests are accepted (digest.h).
 */
#ifndef BERTH_SUPERVISOR_REMOTE_MANIFEST_H
#define BERTH_SUPERVISOR_REMOTE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;

/* ---- Media types ------------------------------------------------------------------------- */

#define SUP_REMOTE_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define SUP_REMOTE_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define SUP_REMOTE_MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define SUP_REMOTE_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define SUP_REMOTE_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define SUP_REMOTE_MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"

/* The Accept header of a manifest request: every type above that names a manifest or index. */
#define SUP_REMOTE_MANIFEST_ACCEPT                                                                 \
    SUP_REMOTE_MT_OCI_INDEX ", " SUP_REMOTE_MT_OCI_MANIFEST ", " SUP_REMOTE_MT_DOCKER_LIST         \
                            ", " SUP_REMOTE_MT_DOCKER_MANIFEST

/* Largest manifest or index read into memory (the distribution spec asks registries to take at
 * least 4 MiB, and clients to refuse more than they are prepared for), and largest config. */
#define SUP_REMOTE_MAX_MANIFEST_SIZE (4 * 1024 * 1024)
#define SUP_REMOTE_MAX_CONFIG_SIZE   (8 * 1024 * 1024)

/* Classify a media type. Parameters (";charset=utf-8") and case are ignored, as HTTP says. */
bool sup_remote_is_index_type(const char *media_type);
bool sup_remote_is_manifest_type(const char *media_type);
bool sup_remote_is_config_type(const char *media_type);
/* OCI tar layers (plain, gzip, zstd, non-distributable) and Docker rootfs diffs. */
bool sup_remote_is_layer_type(const char *media_type);

/* ---- Descriptors, manifests, indexes ----------------------------------------------------- */

/* os/architecture[/variant] of an index entry or an image config. os_version is Windows'. */
struct sup_remote_platform {
    char *os;
    char *architecture;
    char *variant;    /* NULL when absent */
    char *os_version; /* NULL when absent */
};

/* A content descriptor. Strings are heap, owned by the struct. */
struct sup_remote_desc {
    char *media_type;
    char *digest;                         /* "sha256:<64 hex>" */
    int64_t size;                         /* >= 0 */
    struct sup_remote_platform *platform; /* index entries only; NULL when absent */
};

enum sup_remote_kind {
    SUP_REMOTE_KIND_MANIFEST = 1, /* config + layers */
    SUP_REMOTE_KIND_INDEX = 2,    /* manifests, one per platform */
};

struct sup_remote_manifest {
    enum sup_remote_kind kind;
    char *media_type; /* always set: the document's, the transport's, or inferred (see parse) */
    /* SUP_REMOTE_KIND_MANIFEST */
    struct sup_remote_desc config;
    struct sup_remote_desc *layers;
    size_t n_layers;
    /* SUP_REMOTE_KIND_INDEX */
    struct sup_remote_desc *manifests;
    size_t n_manifests;
};

/* Parse a manifest or an index from len bytes at buf (not NUL-terminated; at most
 * SUP_REMOTE_MAX_MANIFEST_SIZE, EFBIG beyond). content_type is the media type the document
 * came with (an HTTP Content-Type, an index entry's mediaType), or NULL.
 *
 * The kind comes from the document's mediaType; without one, from content_type when that names
 * a manifest type; without either, from the shape ("manifests" makes an index, "config" a
 * manifest), as older OCI documents omit mediaType. When both the document and content_type
 * name a manifest type they must agree. schemaVersion must be 2. A document carrying the
 * fields of both kinds ("manifests" next to "config" or "layers") is refused: it could be read
 * as either. Every descriptor needs a valid media type (type/subtype), a sha256 digest and a
 * size >= 0; index entries may carry a platform with os and architecture. Fields not listed
 * in the structs (annotations, urls, subject ...) are ignored.
 *
 * On success *out is a new manifest (sup_remote_manifest_free). On failure err says what is
 * wrong and where ("layers[1]: `digest`: ..."): EINVAL for a bad document, ENOTSUP for schema 1
 * and other media types, EFBIG for a document too large. */
int sup_remote_manifest_parse(const void *buf, size_t len, const char *content_type,
                              struct sup_remote_manifest **out, struct berth_err *err);
void sup_remote_manifest_free(struct sup_remote_manifest *m);

/* For a manifest about to be unpacked: its config is an image config (OCI or Docker) and every
 * layer a known layer type. EINVAL naming the first one that is not ("layers[0]: media type
 * `x` is not an image layer"). An index is EINVAL too. */
int sup_remote_manifest_check_image(const struct sup_remote_manifest *m, struct berth_err *err);

/* Deep copies, for callers that keep one descriptor beyond its manifest. */
void sup_remote_desc_copy(struct sup_remote_desc *dst, const struct sup_remote_desc *src);
void sup_remote_desc_clear(struct sup_remote_desc *d);

static inline void
sup_remote_manifest_freep(struct sup_remote_manifest **m)
{
    sup_remote_manifest_free(*m);
}
#define cleanup_manifest __attribute__((cleanup(sup_remote_manifest_freep)))

/* ---- Image configs ----------------------------------------------------------------------- */

/* The parts of an image config the puller checks: platform and layer diff ids. The rest of
 * the config (Env, Cmd ...) is for the engine, which reads the stored document itself. */
struct sup_remote_config {
    struct sup_remote_platform platform; /* os and architecture are always set */
    char **diff_ids;                     /* NULL-terminated, "sha256:..." each */
    size_t n_diff_ids;
};

/* Parse an image config (at most SUP_REMOTE_MAX_CONFIG_SIZE bytes): architecture and os are
 * required strings, rootfs.type must be "layers" and rootfs.diff_ids a list of digests. EINVAL
 * with the field named otherwise. *out is freed with sup_remote_config_free. */
int sup_remote_config_parse(const void *buf, size_t len, struct sup_remote_config **out,
                            struct berth_err *err);
void sup_remote_config_free(struct sup_remote_config *c);

/* The config belongs to the manifest: one diff id per layer. EINVAL otherwise. */
int sup_remote_config_check(const struct sup_remote_manifest *m, const struct sup_remote_config *c,
                            struct berth_err *err);

static inline void
sup_remote_config_freep(struct sup_remote_config **c)
{
    sup_remote_config_free(*c);
}
#define cleanup_config __attribute__((cleanup(sup_remote_config_freep)))

/* ---- Platforms (platform.c) -------------------------------------------------------------- */

/* Parse "os/arch[/variant]" into p (cleared first), normalizing the spellings people use:
 * x86_64 and x86-64 are amd64, aarch64 is arm64, armhf is arm/v7, armel arm/v6, i386 and
 * i686 are 386; arm64's variant v8 and amd64's v1 are dropped (they are the defaults). EINVAL
 * for an empty part or more than three. Free with sup_remote_platform_clear. */
int sup_remote_platform_parse(const char *s, struct sup_remote_platform *p, struct berth_err *err);

/* The platform this build runs on: linux and the architecture berth was compiled for (amd64
 * on x86_64, arm64, arm/v7 ...). */
void sup_remote_platform_default(struct sup_remote_platform *p);

/* "os/arch" or "os/arch/variant", heap. */
char *sup_remote_platform_format(const struct sup_remote_platform *p);

void sup_remote_platform_copy(struct sup_remote_platform *dst,
                              const struct sup_remote_platform *src);
void sup_remote_platform_clear(struct sup_remote_platform *p);

/* True when an image built for `have` runs on `want`: same os and architecture (after
 * normalization), and a compatible variant: arm vN runs v5..vN images, amd64 vN runs v1..vN,
 * arm64 v8 and "" are the same, and elsewhere an absent variant on either side matches. */
bool sup_remote_platform_matches(const struct sup_remote_platform *want,
                                 const struct sup_remote_platform *have);

/* Pick from an index the manifest for want and set *index_out to its position in
 * index->manifests. Only entries with a platform and a manifest media type take part (an
 * attestation or a nested index does not). Among matches the closest wins: the exact variant,
 * then the highest compatible one, then an entry without variant; ties go to the first. ENOENT
 * when none matches: "no manifest for linux/s390x in the index; it has linux/amd64,
 * linux/arm/v7". EINVAL when m is not an index. */
int sup_remote_platform_select(const struct sup_remote_manifest *index,
                               const struct sup_remote_platform *want, size_t *index_out,
                               struct berth_err *err);

#endif
