/* SPDX-License-Identifier: Apache-2.0
 *
 * Resolving a reference to a descriptor (remote.h): HEAD /v2/NAME/manifests/REF with an
 * Accept header for the four manifest types gives the media type (Content-Type), digest
 * (Docker-Content-Digest) and size (Content-Length) without the body. When a registry leaves
 * one of them out, the manifest is fetched with GET instead and its digest computed; a
 * Docker-Content-Digest that disagrees with the body is then an error, and so is a body that
 * does not hash to the digest the reference asked for.
 */
#include "supervisor/remote/remote.h"
#include "supervisor/remote/remote-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/log.h"

struct membuf {
    char *buf;
    size_t len;
    size_t max;
};

static int
mem_sink(void *data, struct remote_xfer *x, const void *buf, size_t len, struct berth_err *err)
{
    struct membuf *m = data;

    if (m->len + len > m->max)
        return berth_err_fail(err, EFBIG, "manifest over the %zu byte limit", m->max);
    m->buf = xrealloc(m->buf, m->len + len + 1);
    memcpy(m->buf + m->len, buf, len);
    m->len += len;
    m->buf[m->len] = '\0';
    return 0;
}

/* Every attempt starts the body anew. */
static void
mem_reset(void *data, struct remote_req *req)
{
    struct membuf *m = data;

    m->len = 0;
}

/* GET the manifest and describe it from its bytes. */
static int
resolve_by_get(struct sup_remote *r, struct remote_host *h, const struct sup_remote_ref *ref,
               const char *scope, const char *url, struct sup_remote_desc *out,
               struct berth_err *err)
{
    struct membuf m = {.max = SUP_REMOTE_MAX_MANIFEST_SIZE};
    struct remote_xfer x;
    struct remote_req req = {
        .host = h,
        .method = "GET",
        .url = (char *)url,
        .accept = SUP_REMOTE_MANIFEST_ACCEPT,
        .sink = mem_sink,
        .sink_data = &m,
        .follow_redirects = true,
    };
    cleanup_free char *body = NULL;
    char hex[BERTH_SHA256_HEX_LEN + 1];

    if (sup_remote_call(r, &req, scope, mem_reset, &m, &x, err) < 0) {
        free(m.buf);
        return -1;
    }
    body = m.buf;
    if (x.resp.status != 200) {
        sup_remote_status_error(&x, err);
        sup_remote_xfer_cleanup(&x);
        return -1;
    }
    cleanup_free char *content_type = x.resp.content_type ? xstrdup(x.resp.content_type) : NULL;
    cleanup_free char *header_digest = x.resp.digest ? xstrdup(x.resp.digest) : NULL;
    sup_remote_xfer_cleanup(&x);

    berth_sha256_buf(body ? body : "", m.len, hex);
    cleanup_free char *digest = xasprintf("sha256:%s", hex);
    if (ref->digest && strcmp(ref->digest, digest) != 0)
        return berth_err_fail(err, EINVAL, "manifest %s from %s: digest mismatch, got %s",
                              ref->digest, ref->host, digest);
    if (header_digest && strncmp(header_digest, "sha256:", 7) == 0 &&
        strcmp(header_digest, digest) != 0)
        return berth_err_fail(err, EINVAL,
                              "manifest `%s` from %s: the registry says %s, the body is %s",
                              ref->tag ? ref->tag : ref->digest, ref->host, header_digest, digest);

    /* The parse checks the document and settles its media type when the header did not. */
    cleanup_manifest struct sup_remote_manifest *man = NULL;
    if (sup_remote_manifest_parse(body ? body : "", m.len, content_type, &man, err) < 0)
        return -1;
    out->media_type = xstrdup(man->media_type);
    out->digest = steal_ptr(&digest);
    out->size = (int64_t)m.len;
    return 0;
}

int
sup_remote_resolve(struct sup_remote *r, const struct sup_remote_ref *ref,
                   struct sup_remote_desc *out, struct berth_err *err)
{
    struct remote_host *h = NULL;
    const char *what = ref->digest ? ref->digest : ref->tag;
    cleanup_free char *name = sup_remote_ref_format(ref);
    struct remote_xfer x;

    memset(out, 0, sizeof(*out));
    if (what == NULL)
        return berth_err_fail(err, EINVAL, "resolve `%s`: no tag or digest", name);
    if (sup_remote_host_get(r, ref->host, &h, err) < 0)
        return berth_err_wrap(err, "resolve `%s`", name);

    cleanup_free char *scope = sup_remote_scope(ref->repository, false);
    cleanup_free char *url = sup_remote_url(h, "%s/manifests/%s", ref->repository, what);
    struct remote_req req = {
        .host = h,
        .method = "HEAD",
        .url = url,
        .accept = SUP_REMOTE_MANIFEST_ACCEPT,
        .follow_redirects = true,
    };
    if (sup_remote_call(r, &req, scope, NULL, NULL, &x, err) < 0)
        return berth_err_wrap(err, "resolve `%s`", name);

    if (x.resp.status == 404) {
        sup_remote_xfer_cleanup(&x);
        return berth_err_fail(err, ENOENT, "resolve `%s`: manifest `%s` not found in %s/%s", name,
                              what, ref->host, ref->repository);
    }
    if (x.resp.status != 200) {
        sup_remote_status_error(&x, err);
        sup_remote_xfer_cleanup(&x);
        return berth_err_wrap(err, "resolve `%s`", name);
    }

    const char *ct = x.resp.content_type;
    if (ct && (strncmp(ct, "application/vnd.docker.distribution.manifest.v1", 48) == 0)) {
        sup_remote_xfer_cleanup(&x);
        return berth_err_fail(
            err, ENOTSUP, "resolve `%s`: docker image manifest schema 1 is not supported", name);
    }
    bool complete = ct && (sup_remote_is_index_type(ct) || sup_remote_is_manifest_type(ct)) &&
                    x.resp.digest && strncmp(x.resp.digest, "sha256:", 7) == 0 &&
                    x.resp.content_length >= 0;
    if (!complete) {
        sup_remote_xfer_cleanup(&x);
        berth_debug("remote: resolve %s: HEAD lacks type, digest or length; using GET", name);
        if (resolve_by_get(r, h, ref, scope, url, out, err) < 0)
            return berth_err_wrap(err, "resolve `%s`", name);
        return 0;
    }

    const char *hex = NULL;
    if (berth_digest_parse(x.resp.digest, &hex, err) < 0) {
        sup_remote_xfer_cleanup(&x);
        return berth_err_wrap(err, "resolve `%s`: Docker-Content-Digest", name);
    }
    if (ref->digest && strcmp(ref->digest, x.resp.digest) != 0) {
        berth_err_fail(err, EINVAL, "resolve `%s`: the registry answered with %s", name,
                       x.resp.digest);
        sup_remote_xfer_cleanup(&x);
        return -1;
    }
    out->media_type = xstrndup(ct, strcspn(ct, "; \t"));
    out->digest = xstrdup(x.resp.digest);
    out->size = x.resp.content_length;
    sup_remote_xfer_cleanup(&x);
    return 0;
}
