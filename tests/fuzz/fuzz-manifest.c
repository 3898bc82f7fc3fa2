/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: image manifests, indexes and image configs (supervisor/remote/manifest.c and
 * platform.c), as a pull reads them from a registry or an image archive. The first byte
 * picks the Content-Type the document is said to come with (none, or one of the manifest
 * types); the rest is the document, parsed as a manifest or index and as an image config.
 * What parses goes on as a pull would: the image checks, platform selection from an index,
 * the config matched against a manifest.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/error.h"
#include "supervisor/remote/manifest.h"

static const char *const content_types[] = {
    NULL,
    SUP_REMOTE_MT_OCI_INDEX,
    SUP_REMOTE_MT_OCI_MANIFEST,
    SUP_REMOTE_MT_DOCKER_LIST,
    SUP_REMOTE_MT_DOCKER_MANIFEST,
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json; charset=utf-8",
    "text/plain",
};

static const char *const platforms[] = {"linux/amd64", "linux/arm64/v8", "linux/arm/v7",
                                        "linux/386"};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *ctype = content_types[data[0] % (sizeof(content_types) / sizeof(*content_types))];
    const uint8_t *doc = data + 1;
    size_t len = size - 1;
    cleanup_err struct berth_err err = BERTH_ERR_INIT;

    cleanup_config struct sup_remote_config *cfg = NULL;
    if (sup_remote_config_parse(doc, len, &cfg, &err) < 0)
        berth_err_clear(&err);

    cleanup_manifest struct sup_remote_manifest *m = NULL;
    if (sup_remote_manifest_parse(doc, len, ctype, &m, &err) < 0) {
        if (m || !err.msg)
            abort();
        return 0;
    }
    if (!m->media_type)
        abort();
    if (sup_remote_manifest_check_image(m, &err) < 0)
        berth_err_clear(&err);
    if (m->kind == SUP_REMOTE_KIND_INDEX) {
        for (size_t i = 0; i < sizeof(platforms) / sizeof(*platforms); i++) {
            struct sup_remote_platform want = {0};
            size_t at;
            if (sup_remote_platform_parse(platforms[i], &want, &err) < 0)
                abort();
            if (sup_remote_platform_select(m, &want, &at, &err) < 0)
                berth_err_clear(&err);
            else if (at >= m->n_manifests)
                abort();
            sup_remote_platform_clear(&want);
        }
        for (size_t i = 0; i < m->n_manifests; i++) {
            struct sup_remote_desc copy = {0};
            sup_remote_desc_copy(&copy, &m->manifests[i]);
            if (copy.platform) {
                char *p = sup_remote_platform_format(copy.platform);
                free(p);
            }
            sup_remote_desc_clear(&copy);
        }
    } else if (cfg && sup_remote_config_check(m, cfg, &err) < 0) {
        berth_err_clear(&err);
    }
    return 0;
}
