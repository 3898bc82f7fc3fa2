/* SPDX-License-Identifier: Apache-2.0
 *
 * Applying a layer (unpack.h) in one pass over the blob. Two libarchive readers are chained:
 *
 *   blob fd --> outer reader: gzip/zstd filters, "raw" format --> decompressed bytes
 *                 |  read callback: sha256 + byte count (the diffID), then hand the block on
 *                 v
 *               inner reader: tar format, no filter --> entries --> entry.c, whiteout.c
 *
 * The inner reader pulls blocks through inner_read, which takes them from the outer reader
 * without copying (a block stays valid until the outer reader is asked for the next one,
 * which only inner_read does). Once the tar's end-of-archive marker is read, the rest of the
 * stream (padding a writer may add) is drained through the same function, so the hash covers
 * every uncompressed byte, as the diffID must.
 */
#include "supervisor/unpack/unpack.h"
#include "supervisor/unpack/unpack-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/log.h"

#define READ_BLOCK (128 * 1024)

/* ---- Media types ---------------------------------------------------------------------------- */

/* The compression a media type names: ARCHIVE_FILTER_NONE, _GZIP or _ZSTD; -1 when NULL
 * (detect); ENOTSUP for a media type that is not a tar layer. Both OCI ("+gzip") and Docker
 * (".gzip") spellings; the nondistributable and foreign variants are the same format. */
static int
media_filter(const char *media_type, int *filter, struct berth_err *err)
{
    static const struct {
        const char *suffix;
        int filter;
    } suffixes[] = {
        {".tar", ARCHIVE_FILTER_NONE},      {".tar+gzip", ARCHIVE_FILTER_GZIP},
        {".tar.gzip", ARCHIVE_FILTER_GZIP}, {".tar+zstd", ARCHIVE_FILTER_ZSTD},
        {".tar.zstd", ARCHIVE_FILTER_ZSTD},
    };
    size_t len = media_type ? strlen(media_type) : 0;

    *filter = -1;
    if (media_type == NULL)
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
        size_t slen = strlen(suffixes[i].suffix);
        if (len > slen && strcmp(media_type + len - slen, suffixes[i].suffix) == 0) {
            *filter = suffixes[i].filter;
            return 0;
        }
    }
    return berth_err_fail(err, ENOTSUP, "layer media type `%s` is not supported", media_type);
}

static const char *
filter_name(int filter)
{
    switch (filter) {
    case ARCHIVE_FILTER_NONE: return "uncompressed";
    case ARCHIVE_FILTER_GZIP: return "gzip";
    case ARCHIVE_FILTER_ZSTD: return "zstd";
    default: return "unknown";
    }
}

/* ---- The decompressed stream ---------------------------------------------------------------- */

struct source {
    struct archive *outer;
    struct berth_sha256 *hash;
    uint64_t size;
    bool failed; /* the outer reader failed: its error is the one to report */
};

static la_ssize_t
inner_read(struct archive *inner, void *data, const void **buf)
{
    struct source *src = data;
    size_t len;
    la_int64_t off;

    int r = archive_read_data_block(src->outer, buf, &len, &off);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r < ARCHIVE_OK) {
        src->failed = true;
        archive_set_error(inner, EIO, "%s", archive_error_string(src->outer));
        return -1;
    }
    berth_sha256_update(src->hash, *buf, len);
    src->size += len;
    return (la_ssize_t)len;
}

/* Read what the inner reader left (tar padding) into the hash. */
static int
drain(struct source *src, struct berth_err *err)
{
    const void *buf;
    struct archive *dummy = archive_read_new();
    la_ssize_t n;

    while ((n = inner_read(dummy, src, &buf)) > 0)
        ;
    archive_read_free(dummy);
    if (n < 0)
        return berth_err_fail(err, EIO, "read layer: %s", archive_error_string(src->outer));
    return 0;
}

/* The error of a failed read: the outer reader's when it failed (a truncated or corrupt
 * blob, a failed read(2)), else the tar reader's (not a tar, a broken header). libarchive
 * reports format and stream errors with codes of its own (EILSEQ, EINVAL, -1): those are
 * EINVAL, a bad layer; any other errno came from a system call reading the blob: EIO. */
static int
read_error(struct source *src, struct archive *inner, const char *what, struct berth_err *err)
{
    struct archive *a = src->failed || inner == NULL ? src->outer : inner;
    int e = archive_errno(a);
    int code = e > 0 && e != EILSEQ && e != EINVAL && e != ENOMEM ? EIO : EINVAL;
    const char *msg = archive_error_string(a);

    return berth_err_fail(err, code, "%s: %s", what, msg ? msg : "unknown error");
}

/* ---- Setup and teardown --------------------------------------------------------------------- */

struct apply {
    struct source src;
    struct archive *inner;
    struct unpack_ctx ctx;
};

static void
apply_free(struct apply *a)
{
    unpack_forget_parent(&a->ctx);
    for (size_t i = 0; i < a->ctx.n_dirs; i++)
        free(a->ctx.dirs[i].rel);
    free(a->ctx.dirs);
    for (size_t i = 0; i < a->ctx.n_parents; i++)
        close(a->ctx.parent_fds[i]);
    free(a->ctx.parent_fds);
    if (a->ctx.rootfd >= 0)
        close(a->ctx.rootfd);
    if (a->inner)
        archive_read_free(a->inner);
    if (a->src.outer)
        archive_read_free(a->src.outer);
    berth_sha256_free(a->src.hash);
}
#define cleanup_apply __attribute__((cleanup(apply_free)))

static int
open_dirs(struct apply *a, const char *target, const struct sup_unpack_opts *opts,
          struct berth_err *err)
{
    a->ctx.rootfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (a->ctx.rootfd < 0)
        return berth_err_set(err, errno, "open target `%s`", target);
    a->ctx.parent_fds = xzalloc((opts->n_parents + 1) * sizeof(int));
    for (size_t i = 0; i < opts->n_parents; i++) {
        int fd = open(opts->parents[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return berth_err_set(err, errno, "open lower layer `%s`", opts->parents[i]);
        a->ctx.parent_fds[a->ctx.n_parents++] = fd;
    }
    return 0;
}

/* Open both readers on fd; check the compression against the media type's. */
static int
open_readers(struct apply *a, int fd, int want_filter, struct berth_err *err)
{
    struct archive *outer = a->src.outer = archive_read_new();
    struct archive_entry *raw;

    archive_read_support_filter_gzip(outer);
    archive_read_support_filter_zstd(outer);
    archive_read_support_format_raw(outer);
    if (archive_read_open_fd(outer, fd, READ_BLOCK) != ARCHIVE_OK ||
        archive_read_next_header(outer, &raw) != ARCHIVE_OK) {
        a->src.failed = true;
        return read_error(&a->src, NULL, "open layer", err);
    }
    /* The filters libarchive stacked, outermost first, "none" last. */
    int n_filters = archive_filter_count(outer);
    int got = archive_filter_code(outer, 0);
    if (n_filters > 2)
        return berth_err_fail(err, EINVAL, "layer is compressed %d times over (%s, then %s)",
                              n_filters - 1, filter_name(got),
                              filter_name(archive_filter_code(outer, 1)));
    if (want_filter >= 0 && got != want_filter)
        return berth_err_fail(err, EINVAL, "layer media type says %s, but the blob is %s",
                              filter_name(want_filter), filter_name(got));

    a->inner = archive_read_new();
    archive_read_support_format_tar(a->inner);
    if (archive_read_open(a->inner, &a->src, NULL, inner_read, NULL) != ARCHIVE_OK)
        return read_error(&a->src, a->inner, "read layer as tar", err);
    a->ctx.ar = a->inner;
    return 0;
}

/* ---- The pass ---------------------------------------------------------------------------------
 */

static int
apply_entries(struct apply *a, uint64_t *n_entries, struct berth_err *err)
{
    struct archive_entry *e;

    for (;;) {
        int r = archive_read_next_header(a->inner, &e);
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN)
            return read_error(&a->src, a->inner, "read layer", err);
        (*n_entries)++;
        const char *raw = archive_entry_pathname(e);
        /* A warning is about names in a charset the locale cannot show: the bytes are kept. */
        if (r == ARCHIVE_WARN)
            berth_debug("unpack: %s: %s", a->ctx.target, archive_error_string(a->inner));
        cleanup_free char *rel = NULL;
        if (unpack_clean_name(raw, "name", &rel, err) < 0)
            return berth_err_wrap(err, "entry %llu", (unsigned long long)*n_entries);
        if (*rel == '\0')
            continue; /* the root itself ("./"): the snapshot's root is not the layer's */
        int w = unpack_whiteout(&a->ctx, rel, err);
        if (w == 0)
            w = unpack_entry(&a->ctx, e, rel, err);
        if (w < 0)
            return berth_err_wrap(err, "entry `%.*s%s`", UNPACK_SHOW(rel));
    }
}

int
sup_unpack_apply_fd(int fd, const char *target, const struct sup_unpack_opts *opts,
                    struct sup_unpack_stats *stats, struct berth_err *err)
{
    static const struct sup_unpack_opts no_opts = {0};
    cleanup_apply struct apply a = {.ctx = {.target = target, .rootfd = -1, .cached_fd = -1}};
    struct sup_unpack_stats st = {0};
    const char *expected_hex = NULL;
    char hex[BERTH_SHA256_HEX_LEN + 1];
    int want_filter;

    if (opts == NULL)
        opts = &no_opts;
    if (media_filter(opts->media_type, &want_filter, err) < 0)
        return berth_err_wrap(err, "apply layer to `%s`", target);
    cleanup_err struct berth_err derr = BERTH_ERR_INIT;
    if (opts->expected_diff_id &&
        berth_digest_parse(opts->expected_diff_id, &expected_hex, &derr) < 0)
        return berth_err_fail(err, EINVAL, "apply layer to `%s`: expected diff id: %s", target,
                              derr.msg);
    a.src.hash = berth_sha256_new();
    if (open_dirs(&a, target, opts, err) < 0 || open_readers(&a, fd, want_filter, err) < 0 ||
        apply_entries(&a, &st.entries, err) < 0 || unpack_finish_dirs(&a.ctx, err) < 0 ||
        drain(&a.src, err) < 0)
        return berth_err_wrap(err, "apply layer to `%s`", target);

    berth_sha256_final(a.src.hash, hex);
    st.size = a.src.size;
    snprintf(st.diff_id, sizeof(st.diff_id), "sha256:%s", hex);
    if (expected_hex && strcmp(expected_hex, hex) != 0)
        return berth_err_fail(err, EINVAL,
                              "apply layer to `%s`: diff id is %s, not the expected %s", target,
                              st.diff_id, opts->expected_diff_id);
    berth_debug("unpack: %s: %llu entries, %llu bytes, %s", target, (unsigned long long)st.entries,
                (unsigned long long)st.size, st.diff_id);
    if (stats)
        *stats = st;
    return 0;
}

int
sup_unpack_apply_file(const char *path, const char *target, const struct sup_unpack_opts *opts,
                      struct sup_unpack_stats *stats, struct berth_err *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return berth_err_set(err, errno, "open layer `%s`", path);
    return sup_unpack_apply_fd(fd, target, opts, stats, err);
}
