/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for supervisor/remote/manifest.c and platform.c: OCI and Docker manifests,
 * indexes and image configs parsed into structs; bad documents refused with the field named;
 * platform strings normalized; and the choice of one manifest from an index, variants
 * included, with the list of what there is when nothing fits.
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
#include "supervisor/remote/manifest.h"

#define D1 "sha256:eb77f6af7016adb1d04bb9fb782711e1600cfbf94e12c688e88aa527d1a837cc"
#define D2 "sha256:18fc21ef1a5a9dc1eff09b109fc0da751bbf101feaecf711cc93dcb720ddbe9c"
#define D3 "sha256:d02f6d9f8f766b51e2226f6cb040001a23ecf80e42170ca6ef303207d06ee177"
#define D4 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* What tests/fixtures/make-image writes, byte for byte. */
static const char oci_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1
    "\",\"size\":412},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
    "\"digest\":\"" D2 "\",\"size\":1031503}]}";

static const char docker_manifest[] =
    "{\"schemaVersion\": 2,"
    " \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\","
    " \"config\": {\"mediaType\": \"application/vnd.docker.container.image.v1+json\","
    "   \"size\": 1469, \"digest\": \"" D1 "\"},"
    " \"layers\": ["
    "  {\"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\", \"size\": 10,"
    "   \"digest\": \"" D2 "\"},"
    "  {\"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\", \"size\": 20,"
    "   \"digest\": \"" D3 "\", \"urls\": [\"https://example.com/x\"]}]}";

/* An index as buildx makes them: three platforms and an attestation manifest. */
static const char oci_index[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
    "\"manifests\":["
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D1 "\","
    "\"size\":100,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D2 "\","
    "\"size\":101,\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D3 "\","
    "\"size\":102,\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D4 "\","
    "\"size\":103,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D4 "\","
    "\"size\":104,\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"},"
    "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}]}";

static const char docker_list[] =
    "{\"schemaVersion\":2,"
    "\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
    "\"manifests\":["
    "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D1
    "\",\"size\":528,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D2
    "\",\"size\":528,\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\","
    "\"os.version\":\"10.0.17763.1\"}}]}";

static const char image_config[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D3
    "\"]},\"created\":\"1970-01-01T00:00:00Z\"}";

static struct sup_remote_manifest *
parse_ok(const char *doc, const char *content_type)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_manifest *m = NULL;

    if (sup_remote_manifest_parse(doc, strlen(doc), content_type, &m, &err) < 0)
        fail_msg("parse: %s", err.msg);
    return m;
}

/* Parsing doc fails with code and a message containing want. */
static void
assert_parse_fails(const char *doc, const char *content_type, int code, const char *want)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_manifest *m = NULL;

    assert_int_equal(sup_remote_manifest_parse(doc, strlen(doc), content_type, &m, &err), -1);
    assert_null(m);
    assert_non_null(err.msg);
    if (strstr(err.msg, want) == NULL)
        fail_msg("parse `%s`: got `%s`, want it to contain `%s`", doc, err.msg, want);
    assert_int_equal(err.code, code);
    assert_true(err.no_cause);
    berth_err_clear(&err);
}

/* ---- Manifests --------------------------------------------------------------------------- */

static void
test_sup_remote_manifest_parse_oci(void **state)
{
    cleanup_manifest struct sup_remote_manifest *m = parse_ok(oci_manifest, NULL);

    assert_int_equal(m->kind, SUP_REMOTE_KIND_MANIFEST);
    assert_string_equal(m->media_type, SUP_REMOTE_MT_OCI_MANIFEST);
    assert_string_equal(m->config.media_type, SUP_REMOTE_MT_OCI_CONFIG);
    assert_string_equal(m->config.digest, D1);
    assert_int_equal(m->config.size, 412);
    assert_null(m->config.platform);
    assert_int_equal(m->n_layers, 1);
    assert_string_equal(m->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert_string_equal(m->layers[0].digest, D2);
    assert_int_equal(m->layers[0].size, 1031503);
    assert_int_equal(m->n_manifests, 0);

    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(sup_remote_manifest_check_image(m, &err), 0);
}

static void
test_sup_remote_manifest_parse_docker(void **state)
{
    cleanup_manifest struct sup_remote_manifest *m =
        parse_ok(docker_manifest, SUP_REMOTE_MT_DOCKER_MANIFEST);
    struct berth_err err = BERTH_ERR_INIT;

    assert_int_equal(m->kind, SUP_REMOTE_KIND_MANIFEST);
    assert_string_equal(m->media_type, SUP_REMOTE_MT_DOCKER_MANIFEST);
    assert_string_equal(m->config.media_type, SUP_REMOTE_MT_DOCKER_CONFIG);
    assert_int_equal(m->config.size, 1469);
    assert_int_equal(m->n_layers, 2);
    assert_string_equal(m->layers[1].digest, D3);
    assert_int_equal(m->layers[1].size, 20);
    assert_int_equal(sup_remote_manifest_check_image(m, &err), 0);
}

static void
test_sup_remote_manifest_parse_oci_index(void **state)
{
    cleanup_manifest struct sup_remote_manifest *m = parse_ok(oci_index, NULL);

    assert_int_equal(m->kind, SUP_REMOTE_KIND_INDEX);
    assert_string_equal(m->media_type, SUP_REMOTE_MT_OCI_INDEX);
    assert_int_equal(m->n_manifests, 5);
    assert_int_equal(m->n_layers, 0);
    assert_string_equal(m->manifests[0].platform->os, "linux");
    assert_string_equal(m->manifests[0].platform->architecture, "amd64");
    assert_null(m->manifests[0].platform->variant);
    assert_string_equal(m->manifests[2].platform->variant, "v7");
    assert_string_equal(m->manifests[3].digest, D4);
    assert_int_equal(m->manifests[4].size, 104);

    struct berth_err err = BERTH_ERR_INIT;
    assert_int_equal(sup_remote_manifest_check_image(m, &err), -1);
    assert_non_null(strstr(err.msg, "index"));
    berth_err_clear(&err);
}

static void
test_sup_remote_manifest_parse_docker_list(void **state)
{
    cleanup_manifest struct sup_remote_manifest *m =
        parse_ok(docker_list, "application/vnd.docker.distribution.manifest.list.v2+json");

    assert_int_equal(m->kind, SUP_REMOTE_KIND_INDEX);
    assert_string_equal(m->media_type, SUP_REMOTE_MT_DOCKER_LIST);
    assert_int_equal(m->n_manifests, 2);
    assert_string_equal(m->manifests[1].platform->os, "windows");
    assert_string_equal(m->manifests[1].platform->os_version, "10.0.17763.1");
}

/* OCI documents may leave mediaType out: the transport's type, else the shape, decides. */
static void
test_sup_remote_manifest_parse_kind_without_media_type(void **state)
{
    static const char bare_manifest[] = "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
                                        "\"application/vnd.oci.image.config.v1+json\","
                                        "\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}";
    static const char bare_index[] = "{\"schemaVersion\":2,\"manifests\":[]}";

    cleanup_manifest struct sup_remote_manifest *a = parse_ok(bare_manifest, NULL);
    assert_int_equal(a->kind, SUP_REMOTE_KIND_MANIFEST);
    assert_string_equal(a->media_type, SUP_REMOTE_MT_OCI_MANIFEST);
    assert_int_equal(a->n_layers, 0);

    cleanup_manifest struct sup_remote_manifest *b = parse_ok(bare_index, NULL);
    assert_int_equal(b->kind, SUP_REMOTE_KIND_INDEX);
    assert_string_equal(b->media_type, SUP_REMOTE_MT_OCI_INDEX);

    /* The Content-Type names it; parameters and case do not matter. */
    cleanup_manifest struct sup_remote_manifest *c =
        parse_ok(bare_manifest, "Application/VND.oci.image.manifest.v1+json; charset=utf-8");
    assert_string_equal(c->media_type, "Application/VND.oci.image.manifest.v1+json");
    assert_int_equal(c->kind, SUP_REMOTE_KIND_MANIFEST);

    /* A generic Content-Type says nothing. */
    cleanup_manifest struct sup_remote_manifest *d = parse_ok(bare_index, "application/json");
    assert_int_equal(d->kind, SUP_REMOTE_KIND_INDEX);
}

static void
test_sup_remote_manifest_parse_refuses_bad_documents(void **state)
{
    assert_parse_fails("", NULL, EINVAL, "parse manifest");
    assert_parse_fails("{\"schemaVersion\":2,", NULL, EINVAL, "parse manifest: line 1");
    assert_parse_fails("[]", NULL, EINVAL, "expected an object, got array");
    assert_parse_fails("{\"schemaVersion\":2}", NULL, EINVAL, "not a manifest or an index");
    assert_parse_fails("{\"manifests\":[]}", NULL, EINVAL, "`schemaVersion`: missing");
    assert_parse_fails("{\"schemaVersion\":3,\"manifests\":[]}", NULL, EINVAL,
                       "`schemaVersion`: 3, expected 2");
    assert_parse_fails("{\"schemaVersion\":\"2\",\"manifests\":[]}", NULL, EINVAL,
                       "`schemaVersion`: expected integer");
    assert_parse_fails("{\"schemaVersion\":2,\"mediaType\":\"" SUP_REMOTE_MT_OCI_MANIFEST "\","
                       "\"layers\":[]}",
                       NULL, EINVAL, "`config`: missing");
    assert_parse_fails("{\"schemaVersion\":2,\"mediaType\":\"" SUP_REMOTE_MT_OCI_MANIFEST "\","
                       "\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1}}",
                       NULL, EINVAL, "`layers`: missing");
    assert_parse_fails("{\"schemaVersion\":2,\"mediaType\":\"" SUP_REMOTE_MT_OCI_MANIFEST "\","
                       "\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1},"
                       "\"layers\":{}}",
                       NULL, EINVAL, "`layers`: expected array");
    assert_parse_fails("{\"schemaVersion\":2,\"mediaType\":\"" SUP_REMOTE_MT_OCI_INDEX "\"}", NULL,
                       EINVAL, "`manifests`: missing");
    assert_parse_fails("{\"schemaVersion\":2,\"mediaType\":\"text/plain\",\"manifests\":[]}", NULL,
                       ENOTSUP, "unsupported manifest type `text/plain`");
    assert_parse_fails("{\"schemaVersion\":2,\"mediaType\":5,\"manifests\":[]}", NULL, EINVAL,
                       "`mediaType`: expected string");
}

/* A descriptor is checked field by field, and the message says where. */
static void
test_sup_remote_manifest_parse_refuses_bad_descriptors(void **state)
{
#define WITH_LAYER(layer)                                                                          \
    "{\"schemaVersion\":2,\"mediaType\":\"" SUP_REMOTE_MT_OCI_MANIFEST "\","                       \
    "\"config\":{\"mediaType\":\"" SUP_REMOTE_MT_OCI_CONFIG "\",\"digest\":\"" D1 "\","            \
    "\"size\":1},\"layers\":[{\"mediaType\":\"a/b\",\"digest\":\"" D2 "\",\"size\":1}," layer "]}"

    assert_parse_fails(WITH_LAYER("{\"digest\":\"" D2 "\",\"size\":1}"), NULL, EINVAL,
                       "layers[1]: `mediaType`: missing");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"\",\"digest\":\"" D2 "\",\"size\":1}"), NULL,
                       EINVAL, "layers[1]: `mediaType`: empty");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"nonsense\",\"digest\":\"" D2 "\",\"size\":1}"),
                       NULL, EINVAL, "layers[1]: `mediaType`: `nonsense` is not a media type");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"a/b/c\",\"digest\":\"" D2 "\",\"size\":1}"),
                       NULL, EINVAL, "is not a media type");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"a/b\",\"size\":1}"), NULL, EINVAL,
                       "layers[1]: `digest`: missing");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"a/b\",\"digest\":\"sha256:abc\",\"size\":1}"),
                       NULL, EINVAL, "layers[1]: `digest`: invalid digest `sha256:abc`");
    assert_parse_fails(
        WITH_LAYER("{\"mediaType\":\"a/b\",\"digest\":\"sha256:EB77F6AF7016ADB1D04BB9FB782711E1600"
                   "CFBF94E12C688E88AA527D1A837CC\",\"size\":1}"),
        NULL, EINVAL, "layers[1]: `digest`");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"a/b\",\"digest\":\"md5:abc\",\"size\":1}"),
                       NULL, EINVAL, "unsupported digest algorithm");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"a/b\",\"digest\":\"" D2 "\"}"), NULL, EINVAL,
                       "layers[1]: `size`: missing");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"a/b\",\"digest\":\"" D2 "\",\"size\":-1}"),
                       NULL, EINVAL, "layers[1]: `size`: -1 is negative");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"a/b\",\"digest\":\"" D2 "\",\"size\":\"1\"}"),
                       NULL, EINVAL, "layers[1]: `size`: expected integer");
    assert_parse_fails(WITH_LAYER("{\"mediaType\":\"a/b\",\"digest\":\"" D2 "\",\"size\":1.5}"),
                       NULL, EINVAL, "layers[1]: `size`: expected integer");
    assert_parse_fails(WITH_LAYER("\"x\""), NULL, EINVAL, "layers[1]: expected object, got string");
#undef WITH_LAYER

    assert_parse_fails("{\"schemaVersion\":2,\"mediaType\":\"" SUP_REMOTE_MT_OCI_MANIFEST "\","
                       "\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:x\",\"size\":1},"
                       "\"layers\":[]}",
                       NULL, EINVAL, "config: `digest`");
    assert_parse_fails("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1
                       "\",\"size\":1,\"platform\":{\"architecture\":\"amd64\"}}]}",
                       NULL, EINVAL, "manifests[0]: platform: `os`: missing");
    assert_parse_fails("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1
                       "\",\"size\":1,\"platform\":[]}]}",
                       NULL, EINVAL, "manifests[0]: `platform`: expected object");
}

/* A document with both kinds' fields could be read two ways: refused. */
static void
test_sup_remote_manifest_parse_refuses_ambiguous(void **state)
{
    assert_parse_fails("{\"schemaVersion\":2,\"mediaType\":\"" SUP_REMOTE_MT_OCI_INDEX "\","
                       "\"manifests\":[],\"layers\":[]}",
                       NULL, EINVAL, "an index must not have `config` or `layers`");
    assert_parse_fails("{\"schemaVersion\":2,\"manifests\":[],\"config\":{}}", NULL, EINVAL,
                       "an index must not have");
    assert_parse_fails(oci_manifest, SUP_REMOTE_MT_OCI_INDEX, EINVAL,
                       "does not match the content type `" SUP_REMOTE_MT_OCI_INDEX "`");

    static const char both[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" SUP_REMOTE_MT_OCI_MANIFEST "\","
        "\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[],"
        "\"manifests\":[]}";
    assert_parse_fails(both, NULL, EINVAL, "a manifest must not have `manifests`");
}

static void
test_sup_remote_manifest_parse_refuses_schema1(void **state)
{
    assert_parse_fails("{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"y\",\"fsLayers\":[]}", NULL,
                       ENOTSUP, "schema 1 is not supported");
    assert_parse_fails("{\"schemaVersion\":1}",
                       "application/vnd.docker.distribution.manifest.v1+prettyjws", ENOTSUP,
                       "schema 1");
}

static void
test_sup_remote_manifest_parse_refuses_too_large(void **state)
{
    size_t len = SUP_REMOTE_MAX_MANIFEST_SIZE + 1;
    cleanup_free char *big = xmalloc(len);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_manifest *m = NULL;

    memset(big, ' ', len);
    assert_int_equal(sup_remote_manifest_parse(big, len, NULL, &m, &err), -1);
    assert_int_equal(err.code, EFBIG);
    berth_err_clear(&err);
}

/* Bytes that are not text at all, and a document cut anywhere: an error, never a crash. */
static void
test_sup_remote_manifest_parse_truncations(void **state)
{
    size_t n = strlen(oci_index);

    for (size_t i = 0; i < n; i++) {
        struct berth_err err = BERTH_ERR_INIT;
        struct sup_remote_manifest *m = NULL;
        assert_int_equal(sup_remote_manifest_parse(oci_index, i, NULL, &m, &err), -1);
        assert_null(m);
        berth_err_clear(&err);
    }
    static const char binary[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\x00{}";
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_manifest *m = NULL;
    assert_int_equal(sup_remote_manifest_parse(binary, sizeof(binary) - 1, NULL, &m, &err), -1);
    berth_err_clear(&err);
}

static void
test_sup_remote_manifest_check_image_types(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_manifest struct sup_remote_manifest *m = parse_ok(
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\","
        "\"digest\":\"" D1 "\",\"size\":2},\"layers\":[]}",
        NULL);
    assert_int_equal(sup_remote_manifest_check_image(m, &err), -1);
    assert_non_null(strstr(err.msg, "config: media type `application/vnd.oci.empty.v1+json`"));
    berth_err_clear(&err);

    cleanup_manifest struct sup_remote_manifest *n = parse_ok(
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" SUP_REMOTE_MT_OCI_CONFIG "\","
        "\"digest\":\"" D1 "\",\"size\":2},\"layers\":[{\"mediaType\":"
        "\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D2 "\",\"size\":3},"
        "{\"mediaType\":\"application/x-sif\",\"digest\":\"" D2 "\",\"size\":3}]}",
        NULL);
    assert_int_equal(sup_remote_manifest_check_image(n, &err), -1);
    assert_non_null(strstr(err.msg, "layers[1]: media type `application/x-sif`"));
    berth_err_clear(&err);
}

static void
test_sup_remote_media_type_predicates(void **state)
{
    assert_true(sup_remote_is_index_type(SUP_REMOTE_MT_OCI_INDEX));
    assert_true(sup_remote_is_index_type(SUP_REMOTE_MT_DOCKER_LIST "; charset=utf-8"));
    assert_false(sup_remote_is_index_type(SUP_REMOTE_MT_OCI_MANIFEST));
    assert_false(sup_remote_is_index_type(NULL));
    assert_true(sup_remote_is_manifest_type(SUP_REMOTE_MT_DOCKER_MANIFEST));
    assert_false(sup_remote_is_manifest_type(SUP_REMOTE_MT_OCI_MANIFEST "x"));
    assert_true(sup_remote_is_config_type(SUP_REMOTE_MT_DOCKER_CONFIG));
    assert_true(sup_remote_is_layer_type("application/vnd.oci.image.layer.v1.tar"));
    assert_true(sup_remote_is_layer_type("application/vnd.docker.image.rootfs.diff.tar.gzip"));
    assert_false(sup_remote_is_layer_type(SUP_REMOTE_MT_OCI_CONFIG));
}

static void
test_sup_remote_desc_copy_deep(void **state)
{
    cleanup_manifest struct sup_remote_manifest *m = parse_ok(oci_index, NULL);
    struct sup_remote_desc d;

    sup_remote_desc_copy(&d, &m->manifests[2]);
    sup_remote_manifest_free(steal_ptr(&m));
    assert_string_equal(d.digest, D3);
    assert_string_equal(d.platform->variant, "v7");
    assert_int_equal(d.size, 102);
    sup_remote_desc_clear(&d);
    assert_null(d.digest);
}

/* ---- Configs ----------------------------------------------------------------------------- */

static void
assert_config_fails(const char *doc, const char *want)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_config *c = NULL;

    assert_int_equal(sup_remote_config_parse(doc, strlen(doc), &c, &err), -1);
    assert_null(c);
    if (strstr(err.msg, want) == NULL)
        fail_msg("config `%s`: got `%s`, want `%s`", doc, err.msg, want);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
}

static void
test_sup_remote_config_parse(void **state)
{
    struct berth_err err = BERTH_ERR_INIT;
    cleanup_config struct sup_remote_config *c = NULL;

    assert_int_equal(sup_remote_config_parse(image_config, strlen(image_config), &c, &err), 0);
    assert_string_equal(c->platform.os, "linux");
    assert_string_equal(c->platform.architecture, "amd64");
    assert_null(c->platform.variant);
    assert_int_equal(c->n_diff_ids, 1);
    assert_string_equal(c->diff_ids[0], D3);
    assert_null(c->diff_ids[1]);

    cleanup_manifest struct sup_remote_manifest *m = parse_ok(oci_manifest, NULL);
    assert_int_equal(sup_remote_config_check(m, c, &err), 0);
    cleanup_manifest struct sup_remote_manifest *two = parse_ok(docker_manifest, NULL);
    assert_int_equal(sup_remote_config_check(two, c, &err), -1);
    assert_non_null(strstr(err.msg, "1 layer diff ids for a manifest of 2 layers"));
    berth_err_clear(&err);
}

static void
test_sup_remote_config_parse_refuses_bad(void **state)
{
    assert_config_fails("{}", "`os`: missing");
    assert_config_fails("{\"os\":\"linux\"}", "`architecture`: missing");
    assert_config_fails("{\"os\":\"linux\",\"architecture\":\"amd64\"}", "`rootfs`: missing");
    assert_config_fails("{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"x\","
                        "\"diff_ids\":[]}}",
                        "rootfs: `type`: `x`, expected `layers`");
    assert_config_fails(
        "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\"}}",
        "rootfs: `diff_ids`: missing");
    assert_config_fails("{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":"
                        "\"layers\",\"diff_ids\":[\"sha256:00\"]}}",
                        "rootfs: `diff_ids`: item 0: invalid digest");
    assert_config_fails("{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":"
                        "\"layers\",\"diff_ids\":[1]}}",
                        "rootfs: `diff_ids`: item 0: expected string");
    assert_config_fails("[1]", "expected an object");
}

/* ---- Platforms --------------------------------------------------------------------------- */

static void
assert_platform(const char *s, const char *os, const char *arch, const char *variant)
{
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_platform p;

    if (sup_remote_platform_parse(s, &p, &err) < 0)
        fail_msg("platform `%s`: %s", s, err.msg);
    assert_string_equal(p.os, os);
    assert_string_equal(p.architecture, arch);
    if (variant)
        assert_string_equal(p.variant, variant);
    else
        assert_null(p.variant);
    sup_remote_platform_clear(&p);
}

static void
test_sup_remote_platform_parse(void **state)
{
    assert_platform("linux/amd64", "linux", "amd64", NULL);
    assert_platform("Linux/x86_64", "linux", "amd64", NULL);
    assert_platform("linux/amd64/v1", "linux", "amd64", NULL);
    assert_platform("linux/amd64/v3", "linux", "amd64", "v3");
    assert_platform("linux/aarch64", "linux", "arm64", NULL);
    assert_platform("linux/arm64/v8", "linux", "arm64", NULL);
    assert_platform("linux/armhf", "linux", "arm", "v7");
    assert_platform("linux/armel", "linux", "arm", "v6");
    assert_platform("linux/arm/v5", "linux", "arm", "v5");
    assert_platform("linux/i686", "linux", "386", NULL);
    assert_platform("windows/amd64", "windows", "amd64", NULL);

    static const char *const bad[] = {"", "linux", "linux/", "/amd64", "linux//v7", "a/b/c/d"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct berth_err err = BERTH_ERR_INIT;
        struct sup_remote_platform p;
        assert_int_equal(sup_remote_platform_parse(bad[i], &p, &err), -1);
        assert_int_equal(err.code, EINVAL);
        assert_non_null(strstr(err.msg, "os/arch[/variant]"));
        berth_err_clear(&err);
    }
}

static void
test_sup_remote_platform_default_and_format(void **state)
{
    struct sup_remote_platform p;

    sup_remote_platform_default(&p);
    assert_string_equal(p.os, "linux");
#if defined(__x86_64__)
    assert_string_equal(p.architecture, "amd64");
    assert_null(p.variant);
#endif
    cleanup_free char *s = sup_remote_platform_format(&p);
    assert_non_null(strstr(s, "linux/"));
    sup_remote_platform_clear(&p);

    struct sup_remote_platform arm = {.os = "linux", .architecture = "arm", .variant = "v7"};
    cleanup_free char *t = sup_remote_platform_format(&arm);
    assert_string_equal(t, "linux/arm/v7");
}

/* Select from oci_index for want; returns the position or -1 (err kept in *msg). */
static int
select_for(const char *want_s, char **msg)
{
    cleanup_manifest struct sup_remote_manifest *m = parse_ok(oci_index, NULL);
    struct berth_err err = BERTH_ERR_INIT;
    struct sup_remote_platform want;
    size_t i = 0;

    if (sup_remote_platform_parse(want_s, &want, &err) < 0)
        fail_msg("%s", err.msg);
    int rc = sup_remote_platform_select(m, &want, &i, &err);
    sup_remote_platform_clear(&want);
    if (rc < 0) {
        assert_int_equal(err.code, ENOENT);
        if (msg)
            *msg = xstrdup(err.msg);
        berth_err_clear(&err);
        return -1;
    }
    return (int)i;
}

static void
test_sup_remote_platform_select(void **state)
{
    assert_int_equal(select_for("linux/amd64", NULL), 0);
    assert_int_equal(select_for("linux/x86_64", NULL), 0);
    assert_int_equal(select_for("linux/arm/v7", NULL), 2);
    assert_int_equal(select_for("linux/arm", NULL), 2);      /* arm means v7 */
    assert_int_equal(select_for("linux/arm/v6", NULL), 1);   /* v7 does not run on v6 */
    assert_int_equal(select_for("linux/arm/v8", NULL), 2);   /* the highest that runs */
    assert_int_equal(select_for("linux/arm64", NULL), 3);    /* v8 is arm64's default */
    assert_int_equal(select_for("linux/amd64/v3", NULL), 0); /* v1 runs on v3 */

    cleanup_free char *msg = NULL;
    assert_int_equal(select_for("linux/s390x", &msg), -1);
    assert_string_equal(msg, "no manifest for linux/s390x in the index; it has linux/amd64, "
                             "linux/arm/v6, linux/arm/v7, linux/arm64/v8");
    cleanup_free char *msg5 = NULL;
    assert_int_equal(select_for("linux/arm/v5", &msg5), -1);
    assert_non_null(strstr(msg5, "no manifest for linux/arm/v5"));
    cleanup_free char *msgw = NULL;
    assert_int_equal(select_for("windows/amd64", &msgw), -1);
}

static void
test_sup_remote_platform_select_skips_non_manifests(void **state)
{
    static const char idx[] =
        "{\"schemaVersion\":2,\"manifests\":["
        "{\"mediaType\":\"" SUP_REMOTE_MT_OCI_INDEX "\",\"digest\":\"" D1 "\",\"size\":1,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"" SUP_REMOTE_MT_OCI_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":1},"
        "{\"mediaType\":\"" SUP_REMOTE_MT_DOCKER_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":1,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
    cleanup_manifest struct sup_remote_manifest *m = parse_ok(idx, NULL);
    struct sup_remote_platform want = {.os = "linux", .architecture = "amd64"};
    struct berth_err err = BERTH_ERR_INIT;
    size_t i = 99;

    assert_int_equal(sup_remote_platform_select(m, &want, &i, &err), 0);
    assert_int_equal(i, 2);

    cleanup_manifest struct sup_remote_manifest *empty =
        parse_ok("{\"schemaVersion\":2,\"manifests\":[]}", NULL);
    assert_int_equal(sup_remote_platform_select(empty, &want, &i, &err), -1);
    assert_non_null(strstr(err.msg, "it lists no platforms"));
    berth_err_clear(&err);

    cleanup_manifest struct sup_remote_manifest *man = parse_ok(oci_manifest, NULL);
    assert_int_equal(sup_remote_platform_select(man, &want, &i, &err), -1);
    assert_int_equal(err.code, EINVAL);
    berth_err_clear(&err);
}

static void
test_sup_remote_platform_matches(void **state)
{
    struct sup_remote_platform arm7 = {.os = "linux", .architecture = "arm", .variant = "v7"};
    struct sup_remote_platform arm6 = {.os = "linux", .architecture = "arm", .variant = "v6"};
    struct sup_remote_platform arm = {.os = "linux", .architecture = "arm"};
    struct sup_remote_platform a64 = {.os = "linux", .architecture = "aarch64"};
    struct sup_remote_platform a64v8 = {.os = "linux", .architecture = "arm64", .variant = "v8"};
    struct sup_remote_platform ppc = {.os = "linux", .architecture = "ppc64le"};
    struct sup_remote_platform ppcx = {.os = "linux", .architecture = "ppc64le", .variant = "x"};

    assert_true(sup_remote_platform_matches(&arm7, &arm6));
    assert_false(sup_remote_platform_matches(&arm6, &arm7));
    assert_true(sup_remote_platform_matches(&arm7, &arm)); /* unknown variant: last resort */
    assert_true(sup_remote_platform_matches(&a64, &a64v8));
    assert_true(sup_remote_platform_matches(&a64v8, &a64));
    assert_false(sup_remote_platform_matches(&a64, &arm7));
    assert_true(sup_remote_platform_matches(&ppc, &ppcx));
    assert_true(sup_remote_platform_matches(&ppcx, &ppc));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_remote_manifest_parse_oci),
        cmocka_unit_test(test_sup_remote_manifest_parse_docker),
        cmocka_unit_test(test_sup_remote_manifest_parse_oci_index),
        cmocka_unit_test(test_sup_remote_manifest_parse_docker_list),
        cmocka_unit_test(test_sup_remote_manifest_parse_kind_without_media_type),
        cmocka_unit_test(test_sup_remote_manifest_parse_refuses_bad_documents),
        cmocka_unit_test(test_sup_remote_manifest_parse_refuses_bad_descriptors),
        cmocka_unit_test(test_sup_remote_manifest_parse_refuses_ambiguous),
        cmocka_unit_test(test_sup_remote_manifest_parse_refuses_schema1),
        cmocka_unit_test(test_sup_remote_manifest_parse_refuses_too_large),
        cmocka_unit_test(test_sup_remote_manifest_parse_truncations),
        cmocka_unit_test(test_sup_remote_manifest_check_image_types),
        cmocka_unit_test(test_sup_remote_media_type_predicates),
        cmocka_unit_test(test_sup_remote_desc_copy_deep),
        cmocka_unit_test(test_sup_remote_config_parse),
        cmocka_unit_test(test_sup_remote_config_parse_refuses_bad),
        cmocka_unit_test(test_sup_remote_platform_parse),
        cmocka_unit_test(test_sup_remote_platform_default_and_format),
        cmocka_unit_test(test_sup_remote_platform_select),
        cmocka_unit_test(test_sup_remote_platform_select_skips_non_manifests),
        cmocka_unit_test(test_sup_remote_platform_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
