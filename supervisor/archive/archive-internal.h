/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of supervisor/archive share: the table of a tar's entries made by the one
 * pass over it (read.c), kept in memory for the format readers (import-oci.c,
 * import-docker.c) and the checks and names of import.c.
 */
#ifndef BERTH_SUPERVISOR_ARCHIVE_ARCHIVE_INTERNAL_H
#define BERTH_SUPERVISOR_ARCHIVE_ARCHIVE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supervisor/archive/archive.h"

struct berth_err;
struct sup_content;
struct sup_lease;

enum ar_compression {
    AR_PLAIN = 0, /* anything that is not one of the below: a tar, a JSON document */
    AR_GZIP,
    AR_ZSTD,
};

/* A regular file of the tar, stored as a blob, or a link to one. */
struct ar_entry {
    char *path;   /* cleaned */
    char *link;   /* cleaned target of a symbolic or hard link; NULL for a file */
    char *digest; /* "sha256:<hex>" of its bytes (a link's: its target's, once resolved) */
    int64_t size;
    enum ar_compression compression;
};

/* The files kept in memory rather than stored. */
enum ar_meta {
    AR_META_OCI_LAYOUT = 0,
    AR_META_INDEX,
    AR_META_MANIFEST,
    AR_META_REPOSITORIES,
    AR_META_COUNT,
};

struct ar_tar {
    struct ar_entry *entries;
    size_t n_entries;
    char *meta[AR_META_COUNT]; /* NUL-terminated, NULL when absent */
    size_t meta_len[AR_META_COUNT];
    /* Blobs made by the import itself (docker manifests), as "sha256:<hex>". */
    char **made;
    size_t n_made;
};

/* The context of one import. */
struct ar_import {
    struct sup_content *cs;
    struct sup_lease *lease;
    const char *path;
    const struct sup_archive_import_opts *opts;
    char *base_repo;      /* base_name normalized, a repository; NULL when not given */
    unsigned long serial; /* makes ingest refs unique within the import */
    char nonce[17];       /* and across imports */
    struct ar_tar tar;
};

/* read.c: the one pass over the tar at imp->path, filling imp->tar. */
int ar_read_tar(struct ar_import *imp, struct berth_err *err);
void ar_tar_clear(struct ar_tar *t);
bool ar_cancelled(const struct ar_import *imp);

/* The entry named path (links resolved), or NULL. */
const struct ar_entry *ar_tar_find(const struct ar_tar *t, const char *path);
/* Whether digest is in the tar (*size: its size) or was made by the import (*size: -1). */
bool ar_tar_has_digest(const struct ar_tar *t, const char *digest, int64_t *size);
/* A tar name cleaned of "." components and repeated or trailing '/' (heap); "" for the top.
 * EINVAL for an absolute name or one with "..". */
char *ar_clean_name(const char *raw, struct berth_err *err);

/* import.c: store len bytes as a blob (leased first); *digest_out (may be NULL) gets its
 * digest, a heap string. The blob counts as part of the tar from then on. */
int ar_store_bytes(struct ar_import *imp, const void *buf, size_t len, char **digest_out,
                   struct berth_err *err);
/* A new unique ingest ref for this import, heap. */
char *ar_ingest_ref(struct ar_import *imp);

/* import-oci.c, import-docker.c: the images of each format, named as archive.h says,
 * appended to out (unnamed ones with name NULL; import.c names them after base_name). */
int ar_import_oci(struct ar_import *imp, struct sup_archive_images *out, struct berth_err *err);
int ar_import_docker(struct ar_import *imp, struct sup_archive_images *out, struct berth_err *err);

/* import.c: the normalized form of a docker reference (heap), or NULL with EINVAL. */
char *ar_name_normalize(const char *ref, struct berth_err *err);
/* Append an image (name taken, may be NULL; target copied), replacing one of the same name. */
void ar_images_add(struct sup_archive_images *l, char *name, const struct sup_remote_desc *target);

#endif
