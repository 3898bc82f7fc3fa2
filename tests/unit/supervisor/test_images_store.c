/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the image records of supervisor/store (store/images.c) on a real temporary
 * meta.db: create (and its namespace), duplicates, get, list order with labels, updates by
 * mask, delete, bad input that changes nothing, and records going with their namespace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "supervisor/store/store.h"

typedef Berth__Supervisor__V1__Image Image;
typedef Berth__Supervisor__V1__Image__LabelsEntry LabelsEntry;
typedef Berth__Supervisor__V1__Descriptor Descriptor;

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MAN   "application/vnd.oci.image.manifest.v1+json"

struct fixture {
    char root[64];
    struct sup_store *st;
};

static void
expect_ok(int r, struct berth_err *err)
{
    if (r < 0)
        fail_msg("unexpected error: %s", err->msg);
}

static void
expect_err(int r, struct berth_err *err, int code, const char *msg)
{
    assert_int_equal(r, -1);
    assert_non_null(err->msg);
    if (err->code != code)
        fail_msg("code %d, not %d: %s", err->code, code, err->msg);
    if (msg && strcmp(err->msg, msg) != 0)
        fail_msg("message\n got `%s`\nwant `%s`", err->msg, msg);
    berth_err_clear(err);
}

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof(*f));
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    strcpy(f->root, "/tmp/test-images-store-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    expect_ok(sup_store_open(f->root, &f->st, &err), &err);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    sup_store_close(f->st);
    expect_ok(berth_fs_rm_rf(f->root, &err), &err);
    free(f);
    return 0;
}

/* An image on the stack: name, target and up to 4 labels ("k=v" strings). */
struct image_in {
    Image image;
    Descriptor target;
    LabelsEntry entries[4];
    LabelsEntry *labels[4];
    char buf[4][64];
};

static Image *
image_in(struct image_in *in, const char *name, const char *mt, const char *digest, int64_t size,
         const char *const *kv, size_t n)
{
    berth__supervisor__v1__image__init(&in->image);
    berth__supervisor__v1__descriptor__init(&in->target);
    in->image.name = (char *)name;
    in->target.media_type = (char *)mt;
    in->target.digest = (char *)digest;
    in->target.size = size;
    in->image.target = &in->target;
    for (size_t i = 0; i < n; i++) {
        berth__supervisor__v1__image__labels_entry__init(&in->entries[i]);
        snprintf(in->buf[i], sizeof(in->buf[i]), "%s", kv[i]);
        char *eq = strchr(in->buf[i], '=');
        *eq = '\0';
        in->entries[i].key = in->buf[i];
        in->entries[i].value = eq + 1;
        in->labels[i] = &in->entries[i];
    }
    in->image.labels = in->labels;
    in->image.n_labels = n;
    return &in->image;
}

static void
free_image(Image *image)
{
    protobuf_c_message_free_unpacked(&image->base, NULL);
}

static void
test_image_create_get(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct image_in in;
    Image *made = NULL, *got = NULL;
    const char *kv[] = {"b=2", "a=1", "empty="};

    expect_ok(sup_store_image_create(f->st, "work",
                                     image_in(&in, "docker.io/library/busybox:latest", MT_INDEX,
                                              DIGEST_A, 1234, kv, 3),
                                     &made, &err),
              &err);
    assert_string_equal(made->name, "docker.io/library/busybox:latest");
    assert_string_equal(made->target->media_type, MT_INDEX);
    assert_string_equal(made->target->digest, DIGEST_A);
    assert_int_equal(made->target->size, 1234);
    assert_true(made->created_at > 0);
    assert_int_equal(made->created_at, made->updated_at);
    /* Sorted, the empty one not stored. */
    assert_int_equal(made->n_labels, 2);
    assert_string_equal(made->labels[0]->key, "a");
    assert_string_equal(made->labels[1]->value, "2");
    /* The namespace was made with it. */
    assert_int_equal(sup_store_namespace_exists(f->st, "work", &err), 1);

    expect_ok(sup_store_image_get(f->st, "work", "docker.io/library/busybox:latest", &got, &err),
              &err);
    assert_int_equal(got->created_at, made->created_at);
    assert_int_equal(got->n_labels, 2);
    free_image(got);
    free_image(made);

    expect_err(sup_store_image_create(
                   f->st, "work",
                   image_in(&in, "docker.io/library/busybox:latest", MT_MAN, DIGEST_B, 1, NULL, 0),
                   NULL, &err),
               &err, EEXIST,
               "image `docker.io/library/busybox:latest` already exists in namespace `work`");
    expect_err(
        sup_store_image_get(f->st, "default", "docker.io/library/busybox:latest", &got, &err), &err,
        ENOENT, "image `docker.io/library/busybox:latest` not found in namespace `default`");
}

static void
test_image_create_bad_input(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct image_in in;
    Image **list = NULL;
    size_t n = 9;
    char long_key[5000];

    expect_err(sup_store_image_create(f->st, "default",
                                      image_in(&in, "", MT_MAN, DIGEST_A, 1, NULL, 0), NULL, &err),
               &err, EINVAL, "image name is empty");
    expect_err(sup_store_image_create(f->st, "default",
                                      image_in(&in, "a b", MT_MAN, DIGEST_A, 1, NULL, 0), NULL,
                                      &err),
               &err, EINVAL, NULL);
    expect_err(sup_store_image_create(f->st, "default", image_in(&in, "x", MT_MAN, "", 1, NULL, 0),
                                      NULL, &err),
               &err, EINVAL, "image `x`: target digest is empty");
    expect_err(sup_store_image_create(
                   f->st, "default", image_in(&in, "x", MT_MAN, DIGEST_A, -1, NULL, 0), NULL, &err),
               &err, EINVAL, "image `x`: target size -1 is negative");
    in.image.target = NULL;
    expect_err(sup_store_image_create(f->st, "default", &in.image, NULL, &err), &err, EINVAL,
               "image `x`: target is required");
    expect_err(sup_store_image_create(f->st, "bad/ns",
                                      image_in(&in, "x", MT_MAN, DIGEST_A, 1, NULL, 0), NULL, &err),
               &err, EINVAL, NULL);

    /* A label too long undoes the row. */
    memset(long_key, 'k', sizeof(long_key) - 3);
    strcpy(long_key + sizeof(long_key) - 3, "=v");
    const char *kv[] = {"ok=1", long_key};
    struct image_in *big = xzalloc(sizeof(*big));
    image_in(big, "x", MT_MAN, DIGEST_A, 1, kv, 1);
    big->entries[1] = big->entries[0];
    big->entries[1].key = long_key;
    big->entries[1].value = "v";
    big->labels[1] = &big->entries[1];
    big->image.n_labels = 2;
    expect_err(sup_store_image_create(f->st, "default", &big->image, NULL, &err), &err, EINVAL,
               NULL);
    free(big);
    expect_ok(sup_store_image_list(f->st, "default", &list, &n, &err), &err);
    assert_int_equal(n, 0);
    sup_store_image_list_free(list, n);
}

static void
test_image_list_sorted(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct image_in in;
    Image **list = NULL;
    size_t n = 0;
    const char *k1[] = {"z=1"};
    const char *k2[] = {"a=1", "b=2"};

    expect_ok(sup_store_image_create(f->st, "default",
                                     image_in(&in, "c", MT_MAN, DIGEST_A, 1, k1, 1), NULL, &err),
              &err);
    expect_ok(sup_store_image_create(f->st, "default",
                                     image_in(&in, "a", MT_MAN, DIGEST_B, 2, k2, 2), NULL, &err),
              &err);
    expect_ok(sup_store_image_create(f->st, "default",
                                     image_in(&in, "b", MT_MAN, DIGEST_B, 2, NULL, 0), NULL, &err),
              &err);
    expect_ok(sup_store_image_create(f->st, "other",
                                     image_in(&in, "a", MT_MAN, DIGEST_A, 1, NULL, 0), NULL, &err),
              &err);
    expect_ok(sup_store_image_list(f->st, "default", &list, &n, &err), &err);
    assert_int_equal(n, 3);
    assert_string_equal(list[0]->name, "a");
    assert_int_equal(list[0]->n_labels, 2);
    assert_string_equal(list[1]->name, "b");
    assert_int_equal(list[1]->n_labels, 0);
    assert_string_equal(list[2]->name, "c");
    assert_string_equal(list[2]->labels[0]->key, "z");
    sup_store_image_list_free(list, n);

    expect_ok(sup_store_image_list(f->st, "nowhere", &list, &n, &err), &err);
    assert_int_equal(n, 0);
    sup_store_image_list_free(list, n);

    /* Images go with their namespace. */
    expect_ok(sup_store_namespace_delete(f->st, "other", &err), &err);
    expect_ok(sup_store_image_list(f->st, "other", &list, &n, &err), &err);
    assert_int_equal(n, 0);
    sup_store_image_list_free(list, n);
}

static void
test_image_update_masks(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct image_in in;
    Image *out = NULL;
    const char *k[] = {"a=1", "b=2"};
    const char *k2[] = {"b=3", "c=4"};

    expect_ok(sup_store_image_create(f->st, "default",
                                     image_in(&in, "img", MT_MAN, DIGEST_A, 1, k, 2), NULL, &err),
              &err);
    /* labels.b only: a stays, c is not taken. */
    char *mask1[] = {"labels.b"};
    expect_ok(sup_store_image_update(f->st, "default",
                                     image_in(&in, "img", MT_INDEX, DIGEST_B, 9, k2, 2), mask1, 1,
                                     &out, &err),
              &err);
    assert_string_equal(out->target->digest, DIGEST_A);
    assert_int_equal(out->n_labels, 2);
    assert_string_equal(out->labels[1]->value, "3");
    assert_true(out->updated_at >= out->created_at);
    free_image(out);

    /* No mask: target and labels. */
    expect_ok(sup_store_image_update(f->st, "default",
                                     image_in(&in, "img", MT_INDEX, DIGEST_B, 9, k2, 2), NULL, 0,
                                     &out, &err),
              &err);
    assert_string_equal(out->target->digest, DIGEST_B);
    assert_string_equal(out->target->media_type, MT_INDEX);
    assert_int_equal(out->target->size, 9);
    assert_int_equal(out->n_labels, 2);
    assert_string_equal(out->labels[0]->key, "b");
    assert_string_equal(out->labels[1]->key, "c");
    free_image(out);

    /* labels.c absent from the image: removed. */
    char *mask2[] = {"labels.c"};
    expect_ok(sup_store_image_update(f->st, "default",
                                     image_in(&in, "img", MT_INDEX, DIGEST_B, 9, NULL, 0), mask2, 1,
                                     &out, &err),
              &err);
    assert_int_equal(out->n_labels, 1);
    free_image(out);

    char *bad[] = {"name"};
    expect_err(sup_store_image_update(f->st, "default",
                                      image_in(&in, "img", MT_MAN, DIGEST_A, 1, NULL, 0), bad, 1,
                                      NULL, &err),
               &err, EINVAL,
               "update image `img`: cannot update `name` (only target, labels and labels.KEY)");
    char *target[] = {"target"};
    expect_err(sup_store_image_update(f->st, "default",
                                      image_in(&in, "img", MT_MAN, "", 1, NULL, 0), target, 1, NULL,
                                      &err),
               &err, EINVAL, "image `img`: target digest is empty");
    expect_err(sup_store_image_update(f->st, "default",
                                      image_in(&in, "nope", MT_MAN, DIGEST_A, 1, NULL, 0), NULL, 0,
                                      NULL, &err),
               &err, ENOENT, "image `nope` not found in namespace `default`");
}

static void
test_image_delete(void **state)
{
    struct fixture *f = *state;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;
    struct image_in in;
    Image *got = NULL;
    const char *k[] = {"a=1"};

    expect_ok(sup_store_image_create(f->st, "default",
                                     image_in(&in, "img", MT_MAN, DIGEST_A, 1, k, 1), NULL, &err),
              &err);
    expect_ok(sup_store_image_delete(f->st, "default", "img", &err), &err);
    expect_err(sup_store_image_get(f->st, "default", "img", &got, &err), &err, ENOENT, NULL);
    expect_err(sup_store_image_delete(f->st, "default", "img", &err), &err, ENOENT,
               "image `img` not found in namespace `default`");
    /* The labels went with it: a new record starts without them. */
    expect_ok(sup_store_image_create(
                  f->st, "default", image_in(&in, "img", MT_MAN, DIGEST_A, 1, NULL, 0), &got, &err),
              &err);
    assert_int_equal(got->n_labels, 0);
    free_image(got);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_image_create_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_image_create_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_image_list_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_image_update_masks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_image_delete, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
