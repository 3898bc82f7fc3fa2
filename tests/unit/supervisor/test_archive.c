/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/archive on a real content store in a temporary root: importing
 * the OCI layout and the docker-archive tests/fixtures/make-image builds (plain and gzipped),
 * names from annotations, RepoTags and base names; hostile tarballs built here with
 * libarchive (paths out of the tar, links out, devices, forged digests, missing blobs, huge
 * index files, duplicates, a layer that is not its diffID, no tar at all), each refused with
 * the problem named and no ingest left; export (chunks, the same bytes twice, both index
 * files, a round trip to the same digest, platform choice in an index, missing blobs,
 * cancellation).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/fs.h"
#include "supervisor/archive/archive.h"
#include "supervisor/content/content.h"
#include "supervisor/images/lease.h"
#include "supervisor/store/store.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MT_LAYER    "application/vnd.oci.image.layer.v1.tar"

struct fixture {
    char root[64];
    struct sup_store *st;
    struct sup_content *cs;
    struct sup_leases *leases;
    struct sup_lease *lease;
};

static void
expect_ok(int r, struct berth_err *err)
{
    if (r < 0)
        fail_msg("unexpected error: %s", err->msg);
}

/* r must be -1 with code and a message containing part. Clears err. */
static void
expect_err(int r, struct berth_err *err, int code, const char *part)
{
    assert_int_equal(r, -1);
    assert_non_null(err->msg);
    if (err->code != code)
        fail_msg("code %d, not %d: %s", err->code, code, err->msg);
    if (part && strstr(err->msg, part) == NULL)
        fail_msg("message\n got `%s`\nwant `%s` in it", err->msg, part);
    berth_err_clear(err);
}

static char *
digest_of(const void *buf, size_t len)
{
    char hex[BERTH_SHA256_HEX_LEN + 1];

    berth_sha256_buf(buf, len, hex);
    return xasprintf("sha256:%s", hex);
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));
    struct berth_err err = BERTH_ERR_INIT;

    strcpy(f->root, "/tmp/berth-test-archive-XXXXXX");
    if (mkdtemp(f->root) == NULL)
        return -1;
    expect_ok(sup_store_open(f->root, &f->st, &err), &err);
    expect_ok(sup_content_open(f->root, f->st, &f->cs, &err), &err);
    f->leases = sup_leases_new();
    f->lease = sup_lease_new(f->leases, "test import");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;

    sup_lease_release(f->lease);
    sup_leases_free(f->leases);
    sup_content_close(f->cs);
    sup_store_close(f->st);
    int r = berth_fs_rm_rf(f->root, &err);
    berth_err_clear(&err);
    free(f);
    return r;
}

/* No ingest is left in the store. */
static void
assert_no_ingests(struct fixture *f)
{
    struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__IngestStatus **list = NULL;
    size_t n = 0;

    expect_ok(sup_content_list_statuses(f->cs, NULL, 0, &list, &n, &err), &err);
    sup_content_status_list_free(list, n);
    assert_int_equal(n, 0);
}

static bool
is_leased(struct fixture *f, const char *digest)
{
    sup_leases_lock(f->leases);
    bool r = sup_leases_has(f->leases, SUP_LEASE_CONTENT, digest);
    sup_leases_unlock(f->leases);
    return r;
}

static char *
fixture_path(struct fixture *f, const char *name)
{
    return xasprintf("%s/%s", f->root, name);
}

/* Where make_image keeps what it built, for every test of the run (make-image takes
 * seconds); made by group_setup. */
static char image_cache[64];

/* tests/fixtures/make-image KIND [REF]: the path of the tarball (heap), which tests only
 * read. */
static char *
make_image(struct fixture *f, const char *kind, const char *ref)
{
    (void)f;
    cleanup_free char *key = xstrdup(ref ? ref : "default");
    for (char *c = key; *c; c++) {
        if (*c == '/' || *c == ':')
            *c = '_';
    }
    char *out = xasprintf("%s/%s-%s.tar", image_cache, kind, key);
    if (access(out, F_OK) == 0)
        return out;
    cleanup_free char *cmd = xasprintf("%s/tests/fixtures/make-image %s %s %s >/dev/null",
                                       BERTH_SOURCE_DIR, kind, out, ref ? ref : "");
    if (system(cmd) != 0)
        fail_msg("`%s` failed", cmd);
    return out;
}

static int
group_setup(void **state)
{
    (void)state;
    strcpy(image_cache, "/tmp/berth-test-archive-images-XXXXXX");
    return mkdtemp(image_cache) ? 0 : -1;
}

static int
group_teardown(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;

    (void)state;
    int r = berth_fs_rm_rf(image_cache, &err);
    berth_err_clear(&err);
    return r;
}

/* ---- Tars built here ------------------------------------------------------------------- */

struct tent {
    const char *name;
    char type; /* 'f' file, 'd' directory, 'l' symbolic link, 'h' hard link, 'c' device */
    const char *data;
    size_t len; /* 0: strlen(data) */
    const char *link;
};

static void
write_tar(const char *path, const struct tent *v, size_t n, bool gzip)
{
    struct archive *a = archive_write_new();

    archive_write_set_format_pax_restricted(a);
    if (gzip)
        archive_write_add_filter_gzip(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        size_t len = v[i].data ? (v[i].len ? v[i].len : strlen(v[i].data)) : 0;
        archive_entry_set_pathname(e, v[i].name);
        archive_entry_set_perm(e, 0644);
        switch (v[i].type) {
        case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, v[i].link);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, v[i].link);
            break;
        case 'c':
            archive_entry_set_filetype(e, AE_IFCHR);
            archive_entry_set_rdev(e, makedev(1, 3));
            break;
        default:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)len);
        }
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (v[i].type == 'f' && len)
            assert_int_equal(archive_write_data(a, v[i].data, len), (la_ssize_t)len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* A small valid image (a "layer" that is no real tar: import does not unpack), as the
 * pieces of an OCI layout and a docker-archive. Every string is heap. */
struct mini {
    char *layer, *layer_digest, *layer_path;
    char *config, *config_digest, *config_path;
    char *manifest, *manifest_digest, *manifest_path;
    char *index;
};

static void
mini_make(struct mini *m, const char *annotations)
{
    m->layer = xstrdup("not really a tar, but bytes with a digest");
    m->layer_digest = digest_of(m->layer, strlen(m->layer));
    m->config = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
                          "{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                          m->layer_digest);
    m->config_digest = digest_of(m->config, strlen(m->config));
    m->manifest = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
                            "\"config\":{\"mediaType\":\"" MT_CONFIG "\",\"digest\":\"%s\","
                            "\"size\":%zu},\"layers\":[{\"mediaType\":\"" MT_LAYER "\","
                            "\"digest\":\"%s\",\"size\":%zu}]}",
                            m->config_digest, strlen(m->config), m->layer_digest, strlen(m->layer));
    m->manifest_digest = digest_of(m->manifest, strlen(m->manifest));
    m->index = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_MANIFEST
                         "\",\"digest\":\"%s\",\"size\":%zu%s}]}",
                         m->manifest_digest, strlen(m->manifest), annotations);
    m->layer_path = xasprintf("blobs/sha256/%s", m->layer_digest + 7);
    m->config_path = xasprintf("blobs/sha256/%s", m->config_digest + 7);
    m->manifest_path = xasprintf("blobs/sha256/%s", m->manifest_digest + 7);
}

static void
mini_free(struct mini *m)
{
    free(m->layer);
    free(m->layer_digest);
    free(m->layer_path);
    free(m->config);
    free(m->config_digest);
    free(m->config_path);
    free(m->manifest);
    free(m->manifest_digest);
    free(m->manifest_path);
    free(m->index);
}

#define LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"

/* The OCI layout of m as tar entries (5). */
static void
mini_layout(const struct mini *m, struct tent v[5])
{
    v[0] = (struct tent){"oci-layout", 'f', LAYOUT, 0, NULL};
    v[1] = (struct tent){"index.json", 'f', m->index, 0, NULL};
    v[2] = (struct tent){m->layer_path, 'f', m->layer, 0, NULL};
    v[3] = (struct tent){m->config_path, 'f', m->config, 0, NULL};
    v[4] = (struct tent){m->manifest_path, 'f', m->manifest, 0, NULL};
}

static int
do_import(struct fixture *f, const char *path, const char *base, struct sup_archive_images *out,
          struct berth_err *err)
{
    struct sup_archive_import_opts opts = {.base_name = base};
    return sup_archive_import(f->cs, f->lease, path, &opts, out, err);
}

/* Import the tar of v[0..n), expecting failure with code and part of the message. */
static void
expect_import_err(struct fixture *f, const struct tent *v, size_t n, int code, const char *part)
{
    cleanup_free char *path = fixture_path(f, "hostile.tar");
    struct sup_archive_images images = {0};
    struct berth_err err = BERTH_ERR_INIT;

    write_tar(path, v, n, false);
    expect_err(do_import(f, path, NULL, &images, &err), &err, code, part);
    assert_int_equal(images.n, 0);
    assert_no_ingests(f);
}

/* ---- Import ------------------------------------------------------------------------------ */

static void
test_sup_archive_import_oci_fixture(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *path = make_image(f, "oci", NULL);
    cleanup_archive_images struct sup_archive_images images = {0};
    struct berth_err err = BERTH_ERR_INIT;

    expect_ok(do_import(f, path, NULL, &images, &err), &err);
    assert_int_equal(images.n, 1);
    assert_string_equal(images.v[0].name, "berth.test/busybox:latest");
    assert_string_equal(images.v[0].target.media_type, MT_MANIFEST);
    assert_true(sup_content_exists(f->cs, images.v[0].target.digest));
    assert_true(is_leased(f, images.v[0].target.digest));
    assert_no_ingests(f);

    /* Again, with everything stored already: the same image. */
    cleanup_archive_images struct sup_archive_images again = {0};
    expect_ok(do_import(f, path, NULL, &again, &err), &err);
    assert_int_equal(again.n, 1);
    assert_string_equal(again.v[0].target.digest, images.v[0].target.digest);
    assert_no_ingests(f);
}

static void
test_sup_archive_import_gzip(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *path = make_image(f, "oci", "example.com/gz:1");
    cleanup_free char *gz = fixture_path(f, "oci.tar.gz");
    cleanup_free char *cmd = xasprintf("gzip -nc %s >%s", path, gz);
    cleanup_archive_images struct sup_archive_images images = {0};
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(system(cmd), 0);
    expect_ok(do_import(f, gz, NULL, &images, &err), &err);
    assert_int_equal(images.n, 1);
    assert_string_equal(images.v[0].name, "example.com/gz:1");
}

static void
test_sup_archive_import_docker_fixture(void **state)
{
    struct fixture *f = *state;
    cleanup_free char *path = make_image(f, "docker", "busybox:1.36");
    cleanup_archive_images struct sup_archive_images images = {0};
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *buf = NULL;
    size_t len = 0;
    cleanup_manifest struct sup_remote_manifest *m = NULL;

    expect_ok(do_import(f, path, NULL, &images, &err), &err);
    assert_int_equal(images.n, 1);
    /* RepoTags are normalized as docker reads them. */
    assert_string_equal(images.v[0].name, "docker.io/library/busybox:1.36");
    assert_string_equal(images.v[0].target.media_type, MT_MANIFEST);
    assert_true(is_leased(f, images.v[0].target.digest));
    expect_ok(sup_content_read_all(f->cs, images.v[0].target.digest, 1 << 20, &buf, &len, &err),
              &err);
    expect_ok(sup_remote_manifest_parse(buf, len, NULL, &m, &err), &err);
    assert_int_equal(m->kind, SUP_REMOTE_KIND_MANIFEST);
    assert_string_equal(m->config.media_type, MT_CONFIG);
    assert_int_equal(m->n_layers, 1);
    /* An uncompressed layer: its digest is its diffID, the one make-image's config lists. */
    assert_string_equal(m->layers[0].media_type, MT_LAYER);
    assert_true(sup_content_exists(f->cs, m->layers[0].digest));
    assert_true(sup_content_exists(f->cs, m->config.digest));
    assert_no_ingests(f);
}

static void
test_sup_archive_import_names(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = fixture_path(f, "names.tar");
    struct tent v[5];
    static const struct {
        const char *annotations, *base, *want; /* want NULL: unnamed; "@": base@digest */
    } cases[] = {
        {",\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}", "example.com/app",
         "example.com/app:v1"},
        {",\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}", NULL, NULL},
        {",\"annotations\":{\"org.opencontainers.image.ref.name\":\"busybox:1.36\"}", NULL,
         "docker.io/library/busybox:1.36"},
        {",\"annotations\":{\"io.containerd.image.name\":\"alpine\","
         "\"org.opencontainers.image.ref.name\":\"x\"}",
         "example.com/app", "docker.io/library/alpine:latest"},
        {"", "example.com/app", "@"},
        {"", "", NULL},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct mini m = {0};
        cleanup_archive_images struct sup_archive_images images = {0};
        mini_make(&m, cases[i].annotations);
        mini_layout(&m, v);
        write_tar(path, v, 5, false);
        expect_ok(do_import(f, path, cases[i].base, &images, &err), &err);
        assert_int_equal(images.n, 1);
        assert_string_equal(images.v[0].target.digest, m.manifest_digest);
        if (cases[i].want == NULL) {
            assert_null(images.v[0].name);
        } else if (strcmp(cases[i].want, "@") == 0) {
            cleanup_free char *want = xasprintf("%s@%s", cases[i].base, m.manifest_digest);
            assert_string_equal(images.v[0].name, want);
        } else {
            assert_string_equal(images.v[0].name, cases[i].want);
        }
        mini_free(&m);
    }

    /* A base name is a repository: no tag, no digest, a valid name. */
    struct mini m = {0};
    cleanup_archive_images struct sup_archive_images images = {0};
    mini_make(&m, "");
    mini_layout(&m, v);
    write_tar(path, v, 5, false);
    expect_err(do_import(f, path, "example.com/app:v2", &images, &err), &err, EINVAL,
               "base name `example.com/app:v2`");
    expect_err(do_import(f, path, "Bad/Name", &images, &err), &err, EINVAL, "base name");
    mini_free(&m);
}

/* A docker-archive of mini: config and layer under docker's paths, with tags. */
static void
test_sup_archive_import_docker_mini(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = fixture_path(f, "docker-mini.tar");
    struct mini m = {0};
    cleanup_archive_images struct sup_archive_images images = {0};

    mini_make(&m, "");
    cleanup_free char *manifest =
        xasprintf("[{\"Config\":\"%s.json\",\"RepoTags\":[\"app:1\",\"example.com/x/app:2\"],"
                  "\"Layers\":[\"./abc/layer.tar\"]},"
                  "{\"Config\":\"%s.json\",\"RepoTags\":null,\"Layers\":[\"def/layer.tar\"]}]",
                  m.config_digest + 7, m.config_digest + 7);
    cleanup_free char *config_name = xasprintf("%s.json", m.config_digest + 7);
    const struct tent v[] = {
        {"manifest.json", 'f', manifest, 0, NULL},
        {config_name, 'f', m.config, 0, NULL},
        {"abc/", 'd', NULL, 0, NULL},
        {"abc/layer.tar", 'f', m.layer, 0, NULL},
        {"abc/json", 'f', "{}", 0, NULL},
        {"abc/VERSION", 'f', "1.0", 0, NULL},
        /* docker save links a layer it already wrote */
        {"def/layer.tar", 'l', NULL, 0, "../abc/layer.tar"},
        {"repositories", 'f', "{}", 0, NULL},
    };
    write_tar(path, v, ARRAY_SIZE(v), false);
    expect_ok(do_import(f, path, NULL, &images, &err), &err);
    assert_int_equal(images.n, 3);
    assert_string_equal(images.v[0].name, "docker.io/library/app:1");
    assert_string_equal(images.v[1].name, "example.com/x/app:2");
    assert_null(images.v[2].name);
    assert_string_equal(images.v[0].target.digest, images.v[2].target.digest);
    assert_true(sup_content_exists(f->cs, images.v[0].target.digest));
    assert_true(sup_content_exists(f->cs, m.layer_digest));
    assert_no_ingests(f);
    mini_free(&m);
}

static void
test_sup_archive_import_hostile_paths(void **state)
{
    struct fixture *f = *state;
    struct mini m = {0};
    struct tent v[6];

    mini_make(&m, "");
    mini_layout(&m, v);
    v[5] = (struct tent){"../evil", 'f', "x", 0, NULL};
    expect_import_err(f, v, 6, EINVAL, "entry `../evil`: has a `..` component");
    v[5] = (struct tent){"a/../../evil", 'f', "x", 0, NULL};
    expect_import_err(f, v, 6, EINVAL, "`..` component");
    v[5] = (struct tent){"/etc/evil", 'f', "x", 0, NULL};
    expect_import_err(f, v, 6, EINVAL, "entry `/etc/evil`: absolute path");
    v[5] = (struct tent){"x/layer.tar", 'l', NULL, 0, "/etc/passwd"};
    expect_import_err(f, v, 6, EINVAL, "symbolic link to `/etc/passwd` leads outside");
    v[5] = (struct tent){"x/layer.tar", 'l', NULL, 0, "../../etc/passwd"};
    expect_import_err(f, v, 6, EINVAL, "leads outside the archive");
    v[5] = (struct tent){"x/layer.tar", 'l', NULL, 0, "missing"};
    expect_import_err(f, v, 6, EINVAL, "link to `x/missing`, which is not a file");
    v[5] = (struct tent){"x/layer.tar", 'h', NULL, 0, "../etc/passwd"};
    expect_import_err(f, v, 6, EINVAL, "`..` component");
    v[5] = (struct tent){".", 'f', "x", 0, NULL};
    expect_import_err(f, v, 6, EINVAL, "entry `.`: a file named as the archive's top");
    v[5] = (struct tent){"dev/null", 'c', NULL, 0, NULL};
    expect_import_err(f, v, 6, EINVAL, "entry `dev/null`: not a file, directory or link");
    /* a link to itself, or in a circle */
    v[5] = (struct tent){"loop", 'l', NULL, 0, "loop"};
    expect_import_err(f, v, 6, EINVAL, "too many links");
    mini_free(&m);
}

static void
test_sup_archive_import_hostile_content(void **state)
{
    struct fixture *f = *state;
    struct mini m = {0};
    struct tent v[6];

    mini_make(&m, "");
    /* A blob whose bytes are not its name. */
    mini_layout(&m, v);
    v[2].data = "forged layer";
    cleanup_free char *forged = digest_of("forged layer", strlen("forged layer"));
    cleanup_free char *want = xasprintf("entry `%s`: its bytes hash to %s", m.layer_path, forged);
    expect_import_err(f, v, 5, EINVAL, want);
    assert_false(sup_content_exists(f->cs, m.layer_digest));

    /* A manifest naming a layer the tar lacks. */
    mini_layout(&m, v);
    cleanup_free char *missing = xasprintf("layer %s is not in the archive", m.layer_digest);
    expect_import_err(f, (struct tent[]){v[0], v[1], v[3], v[4]}, 4, EINVAL, missing);
    /* An index naming a manifest the tar lacks. */
    expect_import_err(f, v, 4, EINVAL, "is not in the archive");

    /* Duplicates. */
    mini_layout(&m, v);
    v[5] = v[2];
    expect_import_err(f, v, 6, EINVAL, "appears twice");
    v[5] = v[0];
    expect_import_err(f, v, 6, EINVAL, "entry `oci-layout` appears twice");
    v[5] = (struct tent){"./index.json", 'f', m.index, 0, NULL};
    expect_import_err(f, v, 6, EINVAL, "entry `index.json` appears twice");

    /* A name under blobs/sha256/ that is no digest. */
    mini_layout(&m, v);
    v[5] = (struct tent){"blobs/sha256/abc", 'f', "x", 0, NULL};
    expect_import_err(f, v, 6, EINVAL, "entry `blobs/sha256/abc`");

    /* Index files are capped. */
    size_t big_len = SUP_ARCHIVE_MAX_META + 1;
    cleanup_free char *big = xmalloc(big_len);
    memset(big, ' ', big_len);
    mini_layout(&m, v);
    v[1] = (struct tent){"index.json", 'f', big, big_len, NULL};
    expect_import_err(f, v, 5, EINVAL, "entry `index.json` is larger than");

    /* Broken or missing index files. */
    mini_layout(&m, v);
    v[1].data = "{\"schemaVersion\":2,\"manifests\":[";
    expect_import_err(f, v, 5, EINVAL, "index.json");
    mini_layout(&m, v);
    expect_import_err(f, v + 1, 4, EINVAL, "index.json without oci-layout");
    expect_import_err(f, v + 2, 3, EINVAL, "neither an OCI image layout");
    mini_layout(&m, v);
    v[0].data = "{\"imageLayoutVersion\":\"2.0.0\"}";
    expect_import_err(f, v, 5, EINVAL, "oci-layout: version `2.0.0` is not supported");
    mini_free(&m);
}

static void
test_sup_archive_import_hostile_docker(void **state)
{
    struct fixture *f = *state;
    struct mini m = {0};

    mini_make(&m, "");
    cleanup_free char *config_name = xasprintf("%s.json", m.config_digest + 7);
    cleanup_free char *manifest = xasprintf(
        "[{\"Config\":\"%s\",\"RepoTags\":[\"a:1\"],\"Layers\":[\"l/layer.tar\"]}]", config_name);
    /* A layer that is not the config's diffID. */
    struct tent v[] = {
        {"manifest.json", 'f', manifest, 0, NULL},
        {config_name, 'f', m.config, 0, NULL},
        {"l/layer.tar", 'f', "other bytes", 0, NULL},
    };
    expect_import_err(f, v, 3, EINVAL, "layer `l/layer.tar` is sha256:");
    /* A layer missing. */
    expect_import_err(f, v, 2, EINVAL, "layer `l/layer.tar` is not in the archive");
    /* A config missing. */
    v[1] = v[0];
    expect_import_err(f, v + 1, 1, EINVAL, "config `");
    /* A bad tag. */
    cleanup_free char *bad_tag = xasprintf(
        "[{\"Config\":\"%s\",\"RepoTags\":[\"UPPER:case:x\"],\"Layers\":[\"l/layer.tar\"]}]",
        config_name);
    const struct tent w[] = {
        {"manifest.json", 'f', bad_tag, 0, NULL},
        {config_name, 'f', m.config, 0, NULL},
        {"l/layer.tar", 'f', m.layer, 0, NULL},
    };
    expect_import_err(f, w, 3, EINVAL, "RepoTags[0]");
    const struct tent x[] = {{"manifest.json", 'f', "{\"a\":1}", 0, NULL}};
    expect_import_err(f, x, 1, EINVAL, "manifest.json: expected an array");
    mini_free(&m);
}

static void
test_sup_archive_import_not_a_tar(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = fixture_path(f, "text");
    struct sup_archive_images images = {0};

    expect_ok(berth_fs_write_atomic(path, "hello\n", 6, 0644, &err), &err);
    expect_err(do_import(f, path, NULL, &images, &err), &err, EINVAL, "is not a tar archive");
    cleanup_free char *none = fixture_path(f, "none.tar");
    expect_err(do_import(f, none, NULL, &images, &err), &err, ENOENT, "none.tar");
    expect_err(do_import(f, f->root, NULL, &images, &err), &err, EINVAL, "is not a regular file");
    cleanup_free char *fifo = fixture_path(f, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_err(do_import(f, fifo, NULL, &images, &err), &err, EINVAL, "is not a regular file");
    assert_no_ingests(f);

    /* Cut short, in the middle of the layer, plain and gzipped. */
    cleanup_free char *oci = make_image(f, "oci", NULL);
    cleanup_free char *cut = fixture_path(f, "cut.tar");
    cleanup_free char *cmd = xasprintf("head -c 600000 %s >%s", oci, cut);
    assert_int_equal(system(cmd), 0);
    expect_err(do_import(f, cut, NULL, &images, &err), &err, EINVAL, "cut.tar");
    cleanup_free char *cutgz = fixture_path(f, "cut.tar.gz");
    cleanup_free char *cmdgz = xasprintf("gzip -nc %s | head -c 300000 >%s", oci, cutgz);
    assert_int_equal(system(cmdgz), 0);
    expect_err(do_import(f, cutgz, NULL, &images, &err), &err, EINVAL, "cut.tar.gz");
    assert_no_ingests(f);
}

static void
test_sup_archive_import_too_many_entries(void **state)
{
    struct fixture *f = *state;
    size_t n = 16385;
    struct tent *v = xzalloc(n * sizeof(*v));
    char **names = xzalloc(n * sizeof(*names));

    for (size_t i = 0; i < n; i++) {
        names[i] = xasprintf("d%zu/", i);
        v[i] = (struct tent){names[i], 'd', NULL, 0, NULL};
    }
    expect_import_err(f, v, n, EINVAL, "has more than 16384 entries");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(v);
}

static bool
cancel_now(void *data)
{
    (void)data;
    return true;
}

static void
test_sup_archive_import_cancel(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *path = make_image(f, "oci", NULL);
    struct sup_archive_images images = {0};
    struct sup_archive_import_opts opts = {.is_cancelled = cancel_now};

    expect_err(sup_archive_import(f->cs, f->lease, path, &opts, &images, &err), &err, ECANCELED,
               "import cancelled");
    assert_no_ingests(f);
}

/* ---- Export ------------------------------------------------------------------------------ */

struct sink {
    FILE *out;
    size_t n_chunks, max_chunk;
    size_t fail_at; /* the call that fails, from 1; 0: none */
};

static int
sink_write(void *data, const void *buf, size_t len, struct berth_err *err)
{
    struct sink *s = data;

    if (s->fail_at && s->n_chunks + 1 == s->fail_at)
        return berth_err_fail(err, ECANCELED, "export cancelled");
    s->n_chunks++;
    if (len > s->max_chunk)
        s->max_chunk = len;
    if (fwrite(buf, 1, len, s->out) != len)
        return berth_err_set(err, errno, "fwrite");
    return 0;
}

static int
do_export(struct fixture *f, const struct sup_archive_images *images, const char *path,
          const char *platform, bool all, struct sink *s, struct berth_err *err)
{
    struct sup_remote_platform p = {0};
    struct sink local = {0};
    if (s == NULL)
        s = &local;
    if (platform)
        expect_ok(sup_remote_platform_parse(platform, &p, err), err);
    s->out = fopen(path, "w");
    assert_non_null(s->out);
    struct sup_archive_export_opts opts = {
        .platform = platform ? &p : NULL,
        .all_platforms = all,
        .write = sink_write,
        .data = s,
    };
    int rc = sup_archive_export(f->cs, images->v, images->n, &opts, err);
    fclose(s->out);
    sup_remote_platform_clear(&p);
    return rc;
}

/* The bytes of entry name in the tar at path (heap), NULL when absent. */
static char *
tar_file(const char *path, const char *name)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    char *out = NULL;

    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
    while (out == NULL && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (strcmp(archive_entry_pathname(e), name) != 0)
            continue;
        size_t len = (size_t)archive_entry_size(e);
        out = xzalloc(len + 1);
        assert_int_equal(archive_read_data(a, out, len), (la_ssize_t)len);
    }
    archive_read_free(a);
    return out;
}

static void
test_sup_archive_export_round_trip(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *src = make_image(f, "oci", NULL);
    cleanup_free char *out = fixture_path(f, "export.tar");
    cleanup_free char *out2 = fixture_path(f, "export2.tar");
    cleanup_archive_images struct sup_archive_images images = {0};
    cleanup_archive_images struct sup_archive_images back = {0};
    struct sink s = {0};

    expect_ok(do_import(f, src, NULL, &images, &err), &err);
    expect_ok(do_export(f, &images, out, NULL, false, &s, &err), &err);
    assert_int_equal(s.n_chunks, 1); /* about 1 MB in all, less than a chunk */

    /* Both index files, naming the same blobs. */
    cleanup_free char *index = tar_file(out, "index.json");
    cleanup_free char *manifest = tar_file(out, "manifest.json");
    cleanup_free char *layout = tar_file(out, "oci-layout");
    assert_non_null(index);
    assert_non_null(manifest);
    assert_string_equal(layout, "{\"imageLayoutVersion\":\"1.0.0\"}");
    assert_non_null(strstr(index, "\"io.containerd.image.name\":\"berth.test/busybox:latest\""));
    assert_non_null(strstr(index, "\"org.opencontainers.image.ref.name\":\"latest\""));
    assert_non_null(strstr(index, images.v[0].target.digest));
    assert_non_null(strstr(manifest, "\"RepoTags\":[\"berth.test/busybox:latest\"]"));
    assert_non_null(strstr(manifest, "\"Config\":\"blobs/sha256/"));
    assert_non_null(strstr(manifest, "\"Layers\":[\"blobs/sha256/"));

    /* The same bytes twice. */
    expect_ok(do_export(f, &images, out2, NULL, false, NULL, &err), &err);
    cleanup_free char *cmd = xasprintf("cmp -s %s %s", out, out2);
    assert_int_equal(system(cmd), 0);

    /* And back, to the same manifest. */
    expect_ok(do_import(f, out, NULL, &back, &err), &err);
    assert_int_equal(back.n, 1);
    assert_string_equal(back.v[0].name, "berth.test/busybox:latest");
    assert_string_equal(back.v[0].target.digest, images.v[0].target.digest);

    /* A name without a tag is in index.json only. */
    free(images.v[0].name);
    images.v[0].name = xasprintf("berth.test/busybox@%s", images.v[0].target.digest);
    expect_ok(do_export(f, &images, out2, NULL, false, NULL, &err), &err);
    cleanup_free char *manifest2 = tar_file(out2, "manifest.json");
    assert_non_null(strstr(manifest2, "\"RepoTags\":[]"));
    assert_no_ingests(f);
}

static void
test_sup_archive_export_docker_round_trip(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *src = make_image(f, "docker", NULL);
    cleanup_free char *out = fixture_path(f, "export.tar");
    cleanup_archive_images struct sup_archive_images images = {0};
    cleanup_archive_images struct sup_archive_images back = {0};

    struct sink s = {0};

    expect_ok(do_import(f, src, NULL, &images, &err), &err);
    expect_ok(do_export(f, &images, out, NULL, false, &s, &err), &err);
    /* The uncompressed layer is over 2 MiB: three chunks, none larger than allowed. */
    assert_int_equal(s.n_chunks, 3);
    assert_int_equal(s.max_chunk, SUP_ARCHIVE_CHUNK);
    expect_ok(do_import(f, out, NULL, &back, &err), &err);
    assert_int_equal(back.n, 1);
    assert_string_equal(back.v[0].name, "berth.test/busybox:latest");
    assert_string_equal(back.v[0].target.digest, images.v[0].target.digest);
}

/* Store len bytes; returns the digest (heap). */
static char *
put_blob(struct fixture *f, const char *buf)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_content_writer *w = NULL;
    static int n;
    cleanup_free char *ref = xasprintf("test-%d", n++);
    char *digest = NULL;

    expect_ok(sup_content_writer_open(f->cs, ref, NULL, -1, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, buf, strlen(buf), &err), &err);
    int rc = sup_content_writer_commit(w, -1, NULL, NULL, 0, &digest, &err);
    if (rc < 0 && err.code == EEXIST)
        berth_err_clear(&err);
    else
        expect_ok(rc, &err);
    sup_content_writer_close(w);
    return digest;
}

static void
test_sup_archive_export_index(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *out = fixture_path(f, "index.tar");
    struct mini amd = {0}, arm = {0};
    struct sup_remote_platform host = {0};

    mini_make(&amd, "");
    mini_make(&arm, "");
    /* Another config makes another manifest. */
    free(arm.config);
    arm.config = xasprintf("{\"architecture\":\"s390x\",\"os\":\"linux\",\"rootfs\":"
                           "{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                           arm.layer_digest);
    free(arm.config_digest);
    arm.config_digest = digest_of(arm.config, strlen(arm.config));
    free(arm.manifest);
    arm.manifest = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
                             "\"config\":{\"mediaType\":\"" MT_CONFIG "\",\"digest\":\"%s\","
                             "\"size\":%zu},\"layers\":[]}",
                             arm.config_digest, strlen(arm.config));
    free(arm.manifest_digest);
    arm.manifest_digest = digest_of(arm.manifest, strlen(arm.manifest));
    sup_remote_platform_default(&host);
    cleanup_free char *index =
        xasprintf("{\"schemaVersion\":2,\"mediaType\":\"" MT_INDEX "\",\"manifests\":["
                  "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
                  "\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}},"
                  "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
                  "\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}}]}",
                  amd.manifest_digest, strlen(amd.manifest), host.architecture, arm.manifest_digest,
                  strlen(arm.manifest));
    sup_remote_platform_clear(&host);
    free(put_blob(f, amd.layer));
    free(put_blob(f, amd.config));
    free(put_blob(f, amd.manifest));
    free(put_blob(f, arm.config));
    cleanup_free char *index_digest = put_blob(f, index);

    struct sup_archive_image img = {
        .name = xstrdup("example.com/multi:1"),
        .target = {.media_type = xstrdup(MT_INDEX),
                   .digest = xstrdup(index_digest),
                   .size = (int64_t)strlen(index)},
    };
    struct sup_archive_images images = {&img, 1};

    /* The s390x manifest is not stored: every platform fails, the host's works. */
    expect_err(do_export(f, &images, out, NULL, true, NULL, &err), &err, ENOENT,
               arm.manifest_digest);
    expect_err(do_export(f, &images, out, "linux/s390x", false, NULL, &err), &err, ENOENT,
               arm.manifest_digest);
    expect_err(do_export(f, &images, out, "linux/riscv64", false, NULL, &err), &err, ENOENT,
               "no manifest for linux/riscv64");
    expect_ok(do_export(f, &images, out, NULL, false, NULL, &err), &err);
    cleanup_free char *ij = tar_file(out, "index.json");
    assert_non_null(strstr(ij, amd.manifest_digest));
    assert_null(strstr(ij, index_digest));

    /* With it stored: the index itself, with both manifests; docker's part has the host's. */
    free(put_blob(f, arm.manifest));
    expect_ok(do_export(f, &images, out, NULL, true, NULL, &err), &err);
    cleanup_free char *ij2 = tar_file(out, "index.json");
    cleanup_free char *mj2 = tar_file(out, "manifest.json");
    assert_non_null(strstr(ij2, index_digest));
    cleanup_free char *amd_config = xasprintf("blobs/sha256/%s", amd.config_digest + 7);
    cleanup_free char *arm_config = xasprintf("blobs/sha256/%s", arm.config_digest + 7);
    assert_non_null(strstr(mj2, amd_config));
    assert_null(strstr(mj2, arm_config));
    cleanup_free char *arm_blob = tar_file(out, arm_config);
    assert_non_null(arm_blob);

    /* Imported back: the index, complete. */
    cleanup_archive_images struct sup_archive_images back = {0};
    expect_ok(do_import(f, out, NULL, &back, &err), &err);
    assert_int_equal(back.n, 1);
    assert_string_equal(back.v[0].target.digest, index_digest);
    assert_string_equal(back.v[0].name, "example.com/multi:1");

    free(img.name);
    sup_remote_desc_clear(&img.target);
    mini_free(&amd);
    mini_free(&arm);
}

static void
test_sup_archive_export_errors(void **state)
{
    struct fixture *f = *state;
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *src = make_image(f, "oci", NULL);
    cleanup_free char *out = fixture_path(f, "export.tar");
    cleanup_archive_images struct sup_archive_images images = {0};
    cleanup_manifest struct sup_remote_manifest *m = NULL;
    cleanup_free char *buf = NULL;
    size_t len = 0;

    expect_ok(do_import(f, src, NULL, &images, &err), &err);
    /* The consumer goes away after the first chunk. */
    struct sink s = {.fail_at = 1};
    expect_err(do_export(f, &images, out, NULL, false, &s, &err), &err, ECANCELED,
               "export cancelled");
    /* A layer is gone from the store. */
    expect_ok(sup_content_read_all(f->cs, images.v[0].target.digest, 1 << 20, &buf, &len, &err),
              &err);
    expect_ok(sup_remote_manifest_parse(buf, len, NULL, &m, &err), &err);
    expect_ok(sup_content_delete(f->cs, m->layers[0].digest, &err), &err);
    expect_err(do_export(f, &images, out, NULL, false, NULL, &err), &err, ENOENT,
               m->layers[0].digest);
    /* A target that is no manifest. */
    free(images.v[0].target.digest);
    images.v[0].target.digest = xstrdup(m->config.digest);
    expect_err(do_export(f, &images, out, NULL, false, NULL, &err), &err, EINVAL,
               "export `berth.test/busybox:latest`");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sup_archive_import_oci_fixture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_docker_fixture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_docker_mini, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_hostile_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_hostile_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_hostile_docker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_not_a_tar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_too_many_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_import_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_export_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_export_docker_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_export_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sup_archive_export_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
