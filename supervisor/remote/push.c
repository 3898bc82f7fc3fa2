/* SPDX-License-Identifier: Apache-2.0
 *
 * Pushing (remote.h), as the distribution spec lays it out: a HEAD on the blob first (the
 * repository may have it), a cross-repository mount (POST /blobs/uploads/?mount=&from=,
 * answered 201 when the registry linked it and 202 with an upload session when it did not),
 * or a monolithic upload (POST /blobs/uploads/ for a session, then one PUT of the whole body
 * to its Location with ?digest=); then manifests, children before the index that lists them.
 *
 * An upload that fails halfway is started over from a new session: a session's state after a
 * broken PUT is the registry's business, and a new one costs a single POST.
 */
#include "supervisor/remote/remote.h"
#include "supervisor/remote/remote-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/log.h"

int
sup_remote_blob_stat(struct sup_remote *r, const struct sup_remote_ref *ref, const char *digest,
                     struct sup_remote_desc *out, struct berth_err *err)
{
    struct remote_host *h = NULL;
    struct remote_xfer x;
    const char *hex = NULL;

    if (berth_digest_parse(digest, &hex, err) < 0)
        return -1;
    if (sup_remote_host_get(r, ref->host, &h, err) < 0)
        return -1;

    cleanup_free char *scope = sup_remote_scope(ref->repository, false);
    cleanup_free char *url = sup_remote_url(h, "%s/blobs/%s", ref->repository, digest);
    struct remote_req req = {.host = h, .method = "HEAD", .url = url, .follow_redirects = true};
    if (sup_remote_call(r, &req, scope, NULL, NULL, &x, err) < 0)
        return -1;

    int rc;
    if (x.resp.status == 200) {
        rc = 1;
        if (out) {
            memset(out, 0, sizeof(*out));
            out->media_type = xstrdup("application/octet-stream");
            out->digest = xstrdup(digest);
            out->size = x.resp.content_length;
        }
    } else if (x.resp.status == 404) {
        rc = 0;
    } else {
        rc = sup_remote_status_error(&x, err);
    }
    sup_remote_xfer_cleanup(&x);
    return rc;
}

/* Where to send the rest of an upload: the registry's Location, made absolute. Heap. */
static char *
upload_url(const struct remote_host *h, const char *location, const char *digest)
{
    char *esc = curl_easy_escape(NULL, digest, 0);
    char *base;

    if (strncmp(location, "http://", 7) == 0 || strncmp(location, "https://", 8) == 0)
        base = xstrdup(location);
    else
        base =
            xasprintf("%s://%s%s%s", h->scheme, h->api_host, *location == '/' ? "" : "/", location);
    char *url = xasprintf("%s%cdigest=%s", base, strchr(base, '?') ? '&' : '?', esc ? esc : "");
    curl_free(esc);
    free(base);
    return url;
}

/* The URL is on the registry itself (credentials may go there), not on another service. */
static bool
is_on_host(const struct remote_host *h, const char *url)
{
    cleanup_free char *prefix = xasprintf("%s://%s/", h->scheme, h->api_host);

    return strncmp(url, prefix, strlen(prefix)) == 0;
}

/* One try at getting p's blob into the repository: 0 done, -1 failed; *transient says whether
 * trying again may help. */
static int
push_once(struct sup_remote *r, struct remote_host *h, const struct sup_remote_ref *ref,
          const char *scope, struct sup_remote_push *p, bool *transient, struct berth_err *err)
{
    const struct sup_remote_desc *d = p->desc;
    struct remote_xfer x = {0};
    cleanup_free char *url = NULL;

    *transient = false;
    if (p->mount_from) {
        cleanup_free char *dig = curl_easy_escape(NULL, d->digest, 0);
        cleanup_free char *from = curl_easy_escape(NULL, p->mount_from, 0);
        url = sup_remote_url(h, "%s/blobs/uploads/?mount=%s&from=%s", ref->repository, dig, from);
    } else {
        url = sup_remote_url(h, "%s/blobs/uploads/", ref->repository);
    }
    struct remote_req post = {.host = h, .method = "POST", .url = url};
    if (sup_remote_call(r, &post, scope, NULL, NULL, &x, err) < 0) {
        *transient = sup_remote_is_transient(x.code, 0);
        return -1;
    }
    if (x.resp.status == 201 && p->mount_from) {
        sup_remote_xfer_cleanup(&x);
        p->result = SUP_REMOTE_PUSH_MOUNTED;
        return 0;
    }
    if (x.resp.status != 202 || x.resp.location == NULL) {
        *transient = sup_remote_is_transient(CURLE_OK, x.resp.status);
        if (x.resp.status == 202)
            berth_err_fail(err, EIO, "POST %s: 202 without a Location", url);
        else
            sup_remote_status_error(&x, err);
        sup_remote_xfer_cleanup(&x);
        return -1;
    }
    cleanup_free char *put_url = upload_url(h, x.resp.location, d->digest);
    sup_remote_xfer_cleanup(&x);

    struct remote_req put = {
        .host = h,
        .method = "PUT",
        .url = put_url,
        .content_type = "application/octet-stream",
        .read = p->read,
        .read_data = p->read_data,
        .read_size = d->size,
        .progress = p->progress,
        .progress_data = p->progress_data,
        .max_attempts = 1, /* a PUT that broke is retried from a new session, by the caller */
    };
    if (sup_remote_call(r, &put, is_on_host(h, put_url) ? scope : NULL, NULL, NULL, &x, err) < 0) {
        *transient = sup_remote_is_transient(x.code, 0);
        return -1;
    }
    if (x.resp.status != 201) {
        *transient = sup_remote_is_transient(CURLE_OK, x.resp.status);
        sup_remote_status_error(&x, err);
        sup_remote_xfer_cleanup(&x);
        return -1;
    }
    if (x.resp.digest && strcmp(x.resp.digest, d->digest) != 0) {
        berth_err_fail(err, EINVAL, "the registry stored %s as %s", d->digest, x.resp.digest);
        sup_remote_xfer_cleanup(&x);
        return -1;
    }
    sup_remote_xfer_cleanup(&x);
    p->result = SUP_REMOTE_PUSH_UPLOADED;
    return 0;
}

int
sup_remote_push_blob(struct sup_remote *r, const struct sup_remote_ref *ref,
                     struct sup_remote_push *p, struct berth_err *err)
{
    struct remote_host *h = NULL;
    const struct sup_remote_desc *d = p->desc;
    const char *hex = NULL;
    cleanup_free char *name = xasprintf("%s/%s", ref->host, ref->repository);

    if (berth_digest_parse(d->digest, &hex, err) < 0 || d->size < 0)
        return d->size < 0 ? berth_err_fail(err, EINVAL, "blob %s: negative size", d->digest)
                           : berth_err_wrap(err, "push blob");
    if (sup_remote_host_get(r, ref->host, &h, err) < 0)
        return berth_err_wrap(err, "push blob %s to %s", d->digest, name);

    /* Every request of a push uses one scope, so one token serves them all. */
    cleanup_free char *push_scope = sup_remote_scope(ref->repository, true);
    cleanup_free char *scope = p->mount_from
                                   ? xasprintf("%s repository:%s:pull", push_scope, p->mount_from)
                                   : xstrdup(push_scope);
    cleanup_free char *url = sup_remote_url(h, "%s/blobs/%s", ref->repository, d->digest);
    struct remote_req head = {.host = h, .method = "HEAD", .url = url, .follow_redirects = true};
    struct remote_xfer x;
    if (sup_remote_call(r, &head, scope, NULL, NULL, &x, err) < 0)
        return berth_err_wrap(err, "push blob %s to %s", d->digest, name);
    long status = x.resp.status;
    if (status != 200 && status != 404)
        sup_remote_status_error(&x, err);
    sup_remote_xfer_cleanup(&x);
    if (status == 200) {
        p->result = SUP_REMOTE_PUSH_EXISTS;
        return 0;
    }
    if (status != 404)
        return berth_err_wrap(err, "push blob %s to %s", d->digest, name);

    for (unsigned attempt = 1;; attempt++) {
        bool transient = false;
        if (push_once(r, h, ref, scope, p, &transient, err) == 0) {
            berth_debug("remote: blob %s to %s: %s", d->digest, name,
                        p->result == SUP_REMOTE_PUSH_MOUNTED ? "mounted" : "uploaded");
            return 0;
        }
        if (!transient || attempt >= r->max_attempts)
            return berth_err_wrap(err, "push blob %s to %s", d->digest, name);
        unsigned delay = sup_remote_backoff_ms(r, attempt, 0);
        berth_warn("remote: push blob %s to %s: %s; attempt %u of %u in %u ms", d->digest, name,
                   err->msg, attempt + 1, r->max_attempts, delay);
        berth_err_clear(err);
        sup_remote_sleep_ms(delay);
    }
}

int
sup_remote_push_manifest(struct sup_remote *r, const struct sup_remote_ref *ref,
                         const char *media_type, const void *buf, size_t len, char **digest_out,
                         struct berth_err *err)
{
    struct remote_host *h = NULL;
    char hex[BERTH_SHA256_HEX_LEN + 1];
    struct remote_xfer x;

    berth_sha256_buf(buf, len, hex);
    cleanup_free char *digest = xasprintf("sha256:%s", hex);
    const char *what = ref->tag ? ref->tag : digest;
    cleanup_free char *name = xasprintf("%s/%s:%s", ref->host, ref->repository, what);

    if (ref->digest && strcmp(ref->digest, digest) != 0)
        return berth_err_fail(err, EINVAL, "push manifest to %s: its digest is %s, not %s", name,
                              digest, ref->digest);
    if (len > SUP_REMOTE_MAX_MANIFEST_SIZE)
        return berth_err_fail(err, EFBIG, "push manifest to %s: %zu bytes is over the %d limit",
                              name, len, SUP_REMOTE_MAX_MANIFEST_SIZE);
    if (sup_remote_host_get(r, ref->host, &h, err) < 0)
        return berth_err_wrap(err, "push manifest to %s", name);

    cleanup_free char *scope = sup_remote_scope(ref->repository, true);
    cleanup_free char *url = sup_remote_url(h, "%s/manifests/%s", ref->repository, what);
    struct remote_req req = {
        .host = h,
        .method = "PUT",
        .url = url,
        .content_type = media_type,
        .body = buf,
        .body_len = len,
    };
    if (sup_remote_call(r, &req, scope, NULL, NULL, &x, err) < 0)
        return berth_err_wrap(err, "push manifest to %s", name);
    if (x.resp.status != 201) {
        sup_remote_status_error(&x, err);
        sup_remote_xfer_cleanup(&x);
        return berth_err_wrap(err, "push manifest to %s", name);
    }
    if (x.resp.digest && strcmp(x.resp.digest, digest) != 0) {
        berth_err_fail(err, EINVAL, "push manifest to %s: the registry stored it as %s, not %s",
                       name, x.resp.digest, digest);
        sup_remote_xfer_cleanup(&x);
        return -1;
    }
    sup_remote_xfer_cleanup(&x);
    if (digest_out)
        *digest_out = steal_ptr(&digest);
    return 0;
}
