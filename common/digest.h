/* SPDX-License-Identifier: Apache-2.0
 *
 * Content digests: streaming sha256 on OpenSSL EVP, and the "sha256:<64 hex>" form of the OCI
 * image spec.
 */
#ifndef BERTH_COMMON_DIGEST_H
#define BERTH_COMMON_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

struct berth_err;
struct berth_sha256;

#define BERTH_SHA256_HEX_LEN 64

/* A streaming hash. new never fails (aborts on OOM); free accepts NULL. */
struct berth_sha256 *berth_sha256_new(void);
void berth_sha256_update(struct berth_sha256 *h, const void *buf, size_t len);
/* Finish into hex (65 bytes: 64 lowercase hex digits and NUL). The hash can't be updated after. */
void berth_sha256_final(struct berth_sha256 *h, char hex[BERTH_SHA256_HEX_LEN + 1]);
void berth_sha256_free(struct berth_sha256 *h);
/* A new hash in h's state: fed the same bytes so far, updated on its own from here. */
struct berth_sha256 *berth_sha256_copy(const struct berth_sha256 *h);

/* One-shot helpers. */
void berth_sha256_buf(const void *buf, size_t len, char hex[BERTH_SHA256_HEX_LEN + 1]);
int berth_sha256_fd(int fd, char hex[BERTH_SHA256_HEX_LEN + 1], struct berth_err *err);

/* Validate "sha256:<64 lowercase hex>"; on success returns 0 and points *hex at the hex part. */
int berth_digest_parse(const char *digest, const char **hex, struct berth_err *err);

static inline void
berth_sha256_freep(struct berth_sha256 **h)
{
    berth_sha256_free(*h);
}
#define cleanup_sha256 __attribute__((cleanup(berth_sha256_freep)))

#endif
