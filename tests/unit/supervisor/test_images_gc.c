/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the collector of supervisor/images (gc.c) on a real temporary root: a
 * content store, the overlay snapshotter and meta.db, filled by hand (an image of two layers,
 * its chain snapshots, stray blobs and snapshots). What images, containers and leases need is
 * kept, with the parents of what is kept; everything else the image code made goes, and
 * snapshots someone else made are never touched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "supervisor/content/content.h"
#include "supervisor/daemon.h"
#include "supervisor/events/exchange.h"
#include "supervisor/images/images.h"
#include "supervisor/images/lease.h"
#include "supervisor/snapshot/snapshot.h"
#include "supervisor/store/store.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DIFF0       "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define DIFF1       "sha256:1111111111111111111111111111111111111111111111111111111111111111"

struct fixture {
    char root[64];
    struct sup_daemon d;
    char *manifest, *config, *layer0, *layer1; /* digests */
    char chain0[SUP_IMAGES_DIGEST_MAX], chain1[SUP_IMAGES_DIGEST_MAX];
};

static void
expect_ok(int r, struct berth_err *err)
{
    if (r < 0)
        fail_msg("unexpected error: %s", err->msg);
}

/* Store s as a blob; its digest (heap). */
static char *
put_blob(struct fixture *f, const char *s)
{
    static unsigned n;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *ref = xasprintf("test-%u", n++);
    cleanup_content_writer struct sup_content_writer *w = NULL;
    char *digest = NULL;

    expect_ok(sup_content_writer_open(f->d.content, ref, NULL, -1, &w, &err), &err);
    expect_ok(sup_content_writer_write(w, s, strlen(s), &err), &err);
    expect_ok(sup_content_writer_commit(w, -1, NULL, NULL, 0, &digest, &err), &err);
    return digest;
}

/* A committed snapshot `name` on parent, with one file. */
static void
commit_snapshot(struct fixture *f, const char *name, const char *parent)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    cleanup_free char *tmp = xasprintf("%s-tmp", name);
    struct sup_mount *m = NULL;
    size_t n = 0;

    expect_ok(sup_snapshot_prepare(f->d.snapshots, tmp, parent, NULL, 0, &m, &n, &err), &err);
    sup_mounts_free(m, n);
    expect_ok(sup_snapshot_commit(f->d.snapshots, name, tmp, NULL, 0, &err), &err);
}

static bool
has_snapshot(struct fixture *f, const char *name)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    Berth__Supervisor__V1__SnapshotInfo *info = NULL;

    if (sup_snapshot_stat(f->d.snapshots, name, &info, &err) < 0)
        return false;
    protobuf_c_message_free_unpacked(&info->base, NULL);
    return true;
}

static void
make_image(struct fixture *f, const char *name)
{
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    SupImage image = BERTH__SUPERVISOR__V1__IMAGE__INIT;
    Berth__Supervisor__V1__Descriptor t = BERTH__SUPERVISOR__V1__DESCRIPTOR__INIT;

    image.name = (char *)name;
    t.media_type = MT_MANIFEST;
    t.digest = f->manifest;
    t.size = 1;
    image.target = &t;
    expect_ok(sup_store_image_create(f->d.store, "default", &image, NULL, &err), &err);
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    strcpy(f->root, "/tmp/test-images-gc-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    cleanup_free char *snaps = xasprintf("%s/snapshots", f->root);
    expect_ok(sup_store_open(f->root, &f->d.store, &err), &err);
    expect_ok(sup_content_open(f->root, f->d.store, &f->d.content, &err), &err);
    expect_ok(sup_snapshotter_open(snaps, &f->d.snapshots, &err), &err);
    f->d.leases = sup_leases_new();
    f->d.events = sup_events_new();

    f->layer0 = put_blob(f, "layer zero");
    f->layer1 = put_blob(f, "layer one");
    f->config = put_blob(f, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                            "\"layers\",\"diff_ids\":[\"" DIFF0 "\",\"" DIFF1 "\"]}}");
    cleanup_free char *manifest = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\",\"config\":{\"mediaType\":"
        "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":1},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
        "\"digest\":\"%s\",\"size\":1},{\"mediaType\":"
        "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":1}]}",
        f->config, f->layer0, f->layer1);
    f->manifest = put_blob(f, manifest);

    char *ids[] = {DIFF0, DIFF1};
    sup_images_chain_id(ids, 1, f->chain0);
    sup_images_chain_id(ids, 2, f->chain1);
    cleanup_free char *k0 = sup_images_snapshot_key("default", f->chain0);
    cleanup_free char *k1 = sup_images_snapshot_key("default", f->chain1);
    commit_snapshot(f, k0, NULL);
    commit_snapshot(f, k1, k0);
    make_image(f, "example.test/img:1");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    sup_snapshotter_close(f->d.snapshots);
    sup_content_close(f->d.content);
    sup_store_close(f->d.store);
    sup_leases_free(f->d.leases);
    sup_events_free(f->d.events);
    expect_ok(berth_fs_rm_rf(f->root, &err), &err);
    free(f->manifest);
    free(f->config);
    free(f->layer0);
    free(f->layer1);
    free(f);
    return 0;
}

static void
test_sup_images_gc_keeps_image_sweeps_strays(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct sup_images_gc_stats st;
    cleanup_free char *stray = put_blob(f, "nobody needs me");
    cleanup_free char *leased = put_blob(f, "a pull holds me");
    cleanup_free char *k1 = sup_images_snapshot_key("default", f->chain1);
    struct sup_mount *m = NULL;
    size_t n = 0;

    /* A stray chain on top of the image's, a leased one, a temporary one left by a crash,
     * and a key of someone's own on nothing. */
    commit_snapshot(f, "default/sha256:2222", k1);
    commit_snapshot(f, "default/sha256:3333", NULL);
    expect_ok(
        sup_snapshot_prepare(f->d.snapshots, "default/extract-1-0-x", k1, NULL, 0, &m, &n, &err),
        &err);
    sup_mounts_free(m, n);
    expect_ok(sup_snapshot_prepare(f->d.snapshots, "default/mine", NULL, NULL, 0, &m, &n, &err),
              &err);
    sup_mounts_free(m, n);
    struct sup_lease *l = sup_lease_new(f->d.leases, "test");
    sup_lease_add(l, SUP_LEASE_CONTENT, leased);
    sup_lease_add(l, SUP_LEASE_SNAPSHOT, "default/sha256:3333");

    expect_ok(sup_images_gc(&f->d, &st, &err), &err);
    assert_int_equal(st.blobs_removed, 1);
    assert_int_equal(st.snapshots_removed, 2);
    assert_false(sup_content_exists(f->d.content, stray));
    assert_true(sup_content_exists(f->d.content, leased));
    assert_true(sup_content_exists(f->d.content, f->manifest));
    assert_true(sup_content_exists(f->d.content, f->config));
    assert_true(sup_content_exists(f->d.content, f->layer0));
    assert_true(sup_content_exists(f->d.content, f->layer1));
    assert_true(has_snapshot(f, k1));
    assert_false(has_snapshot(f, "default/sha256:2222"));
    assert_false(has_snapshot(f, "default/extract-1-0-x"));
    assert_true(has_snapshot(f, "default/sha256:3333"));
    assert_true(has_snapshot(f, "default/mine"));

    /* Released: the leased items go too. */
    sup_lease_release(l);
    expect_ok(sup_images_gc(&f->d, &st, &err), &err);
    assert_int_equal(st.blobs_removed, 1);
    assert_int_equal(st.snapshots_removed, 1);
    assert_true(st.bytes_freed > 0);
    assert_true(has_snapshot(f, "default/mine"));
}

static void
test_sup_images_gc_container_keeps_parents(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct sup_images_gc_stats st;
    cleanup_free char *k0 = sup_images_snapshot_key("default", f->chain0);
    cleanup_free char *k1 = sup_images_snapshot_key("default", f->chain1);
    Berth__Supervisor__V1__Container c = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    struct sup_mount *m = NULL;
    size_t n = 0;

    /* A container whose snapshot key looks like the image code's own. */
    expect_ok(
        sup_snapshot_prepare(f->d.snapshots, "default/sha256:c0ffee", k1, NULL, 0, &m, &n, &err),
        &err);
    sup_mounts_free(m, n);
    c.id = "web";
    c.image = "example.test/img:1";
    c.snapshotter = SUP_SNAPSHOTTER_OVERLAY;
    c.snapshot_key = "sha256:c0ffee";
    Berth__Supervisor__V1__Container *made = NULL;
    expect_ok(sup_store_container_create(f->d.store, "default", false, &c, &made, &err), &err);
    protobuf_c_message_free_unpacked(&made->base, NULL);

    expect_ok(sup_images_delete(&f->d, "default", "example.test/img:1", true, &err), &err);
    /* The blobs went with the image; the container's snapshot and its parents stay. */
    assert_false(sup_content_exists(f->d.content, f->manifest));
    assert_false(sup_content_exists(f->d.content, f->layer0));
    assert_true(has_snapshot(f, "default/sha256:c0ffee"));
    assert_true(has_snapshot(f, k1));
    assert_true(has_snapshot(f, k0));

    expect_ok(sup_store_container_delete(f->d.store, "default", "web", &err), &err);
    expect_ok(sup_images_gc(&f->d, &st, &err), &err);
    assert_int_equal(st.snapshots_removed, 3);
    assert_false(has_snapshot(f, k0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sup_images_gc_keeps_image_sweeps_strays, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sup_images_gc_container_keeps_parents, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
