/* SPDX-License-Identifier: Apache-2.0
 *
 * sha256 on OpenSSL's EVP interface (digest.h), in pieces or at once, and validation of the
 * "sha256:<hex>" digests that name content in the OCI image spec. Only sha256 is accepted: it
 * is what registries and berth's content store use, and one algorithm keeps every digest
 * comparable as a string.
 *
 * libcrypto is loaded on the first hash, not linked: mapped into a process it costs about
 * 3 MiB of resident memory, and berthd, which hashes only when it commits a container or
 * checks an image config, would carry it idle. OpenSSL's sha256 is kept (rather than one of
 * our own) for its speed: it uses the CPU's SHA instructions, and pulls hash every byte.
 */
#include "common/digest.h"

#include <dlfcn.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"

#define DIGEST_PREFIX "sha256:"

#define LIBCRYPTO_SONAME "libcrypto.so.3"

struct berth_sha256 {
    EVP_MD_CTX *ctx;
};

/* EVP fails only when out of memory or misconfigured (a FIPS provider without sha256), and
 * libcrypto is missing only from a broken install; none of it is something a caller could
 * handle, so, as with xmalloc, berth aborts. */
static _Noreturn void
die_evp(const char *what)
{
    fprintf(stderr, "openssl: %s failed\n", what);
    abort();
}

/* The EVP functions used here, from the loaded library. */
#define EVP_FUNCTIONS(X)                                                                           \
    X(EVP_MD_CTX *, EVP_MD_CTX_new, (void))                                                        \
    X(void, EVP_MD_CTX_free, (EVP_MD_CTX *))                                                       \
    X(int, EVP_MD_CTX_copy_ex, (EVP_MD_CTX *, const EVP_MD_CTX *))                                 \
    X(const EVP_MD *, EVP_sha256, (void))                                                          \
    X(int, EVP_DigestInit_ex, (EVP_MD_CTX *, const EVP_MD *, ENGINE *))                            \
    X(int, EVP_DigestUpdate, (EVP_MD_CTX *, const void *, size_t))                                 \
    X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *, unsigned char *, unsigned int *))

#define POINTER(ret, name, params) ret(*name) params;
static struct {
    EVP_FUNCTIONS(POINTER)
} evp;
static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

static void
evp_load(void)
{
    void *lib = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "openssl: load %s: %s\n", LIBCRYPTO_SONAME, dlerror());
        abort();
    }
#define LOOKUP(ret, name, params)                                                                  \
    if ((*(void **)&evp.name = dlsym(lib, #name)) == NULL)                                         \
        die_evp("dlsym " #name);
    EVP_FUNCTIONS(LOOKUP)
    /* Never unloaded: contexts live as long as the process may hash. */
}

static void
evp_ready(void)
{
    pthread_once(&evp_once, evp_load);
}

struct berth_sha256 *
berth_sha256_new(void)
{
    struct berth_sha256 *h = xzalloc(sizeof(*h));

    evp_ready();
    h->ctx = evp.EVP_MD_CTX_new();
    if (h->ctx == NULL)
        die_evp("EVP_MD_CTX_new");
    if (evp.EVP_DigestInit_ex(h->ctx, evp.EVP_sha256(), NULL) != 1)
        die_evp("EVP_DigestInit_ex");
    return h;
}

struct berth_sha256 *
berth_sha256_copy(const struct berth_sha256 *h)
{
    struct berth_sha256 *c = xzalloc(sizeof(*c));

    c->ctx = evp.EVP_MD_CTX_new();
    if (c->ctx == NULL)
        die_evp("EVP_MD_CTX_new");
    if (evp.EVP_MD_CTX_copy_ex(c->ctx, h->ctx) != 1)
        die_evp("EVP_MD_CTX_copy_ex");
    return c;
}

void
berth_sha256_update(struct berth_sha256 *h, const void *buf, size_t len)
{
    if (len > 0 && evp.EVP_DigestUpdate(h->ctx, buf, len) != 1)
        die_evp("EVP_DigestUpdate");
}

void
berth_sha256_final(struct berth_sha256 *h, char hex[BERTH_SHA256_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (evp.EVP_DigestFinal_ex(h->ctx, md, &md_len) != 1 || md_len * 2 != BERTH_SHA256_HEX_LEN)
        die_evp("EVP_DigestFinal_ex");
    for (unsigned int i = 0; i < md_len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0xf];
    }
    hex[BERTH_SHA256_HEX_LEN] = '\0';
}

void
berth_sha256_free(struct berth_sha256 *h)
{
    if (h == NULL)
        return;
    evp.EVP_MD_CTX_free(h->ctx);
    free(h);
}

void
berth_sha256_buf(const void *buf, size_t len, char hex[BERTH_SHA256_HEX_LEN + 1])
{
    cleanup_sha256 struct berth_sha256 *h = berth_sha256_new();

    berth_sha256_update(h, buf, len);
    berth_sha256_final(h, hex);
}

int
berth_sha256_fd(int fd, char hex[BERTH_SHA256_HEX_LEN + 1], struct berth_err *err)
{
    cleanup_sha256 struct berth_sha256 *h = berth_sha256_new();
    const size_t size = 128 * 1024;
    cleanup_free char *buf = xmalloc(size);

    for (;;) {
        ssize_t n = read(fd, buf, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berth_err_set(err, errno, "read fd %d", fd);
        if (n == 0)
            break;
        berth_sha256_update(h, buf, (size_t)n);
    }
    berth_sha256_final(h, hex);
    return 0;
}

int
berth_digest_parse(const char *digest, const char **hex, struct berth_err *err)
{
    const size_t prefix_len = strlen(DIGEST_PREFIX);

    if (digest == NULL)
        return berth_err_set(err, 0, "missing digest");
    if (strncmp(digest, DIGEST_PREFIX, prefix_len) != 0) {
        if (strchr(digest, ':') == NULL)
            return berth_err_set(err, 0, "invalid digest `%s`: expected sha256:<hex>", digest);
        return berth_err_set(err, 0, "unsupported digest algorithm in `%s`", digest);
    }

    const char *p = digest + prefix_len;
    size_t len = strspn(p, "0123456789abcdef");
    if (len != BERTH_SHA256_HEX_LEN || p[len] != '\0')
        return berth_err_set(err, 0, "invalid digest `%s`: expected %d lowercase hex digits",
                             digest, BERTH_SHA256_HEX_LEN);
    *hex = p;
    return 0;
}
