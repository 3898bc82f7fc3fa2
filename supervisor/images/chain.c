/* SPDX-License-Identifier: Apache-2.0
 *
 * Chain IDs (images.h): the names of the snapshots of unpacked layers. The OCI image spec
 * ("Layer ChainID") defines them so that a stack of layers gets one identifier however it
 * was reached: ChainID(L0) = DiffID(L0), ChainID(Ln) = sha256(ChainID(Ln-1) " " DiffID(Ln)).
 * Two images sharing their first layers share those snapshots.
 */
#include "supervisor/images/images.h"

#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"

void
sup_images_chain_id(char *const *diff_ids, size_t n, char out[SUP_IMAGES_DIGEST_MAX])
{
    snprintf(out, SUP_IMAGES_DIGEST_MAX, "%s", diff_ids[0]);
    for (size_t i = 1; i < n; i++) {
        cleanup_free char *s = xasprintf("%s %s", out, diff_ids[i]);
        char hex[BERTH_SHA256_HEX_LEN + 1];
        berth_sha256_buf(s, strlen(s), hex);
        snprintf(out, SUP_IMAGES_DIGEST_MAX, "sha256:%s", hex);
    }
}

char *
sup_images_snapshot_key(const char *ns, const char *chain_id)
{
    return xasprintf("%s/%s", ns, chain_id);
}
