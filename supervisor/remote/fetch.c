/* SPDX-License-Identifier: Apache-2.0
 *
 * Downloads (remote.h): blobs and manifests by digest, streamed into the caller's sink through
 * a sha256, several at once over one curl multi handle.
 *
 * Each download is a job:
 *
 *   WAITING --job_start--> RUNNING --job_finish--> DONE       (verified, f->done set)
 *      ^                      |                --> failure    (stops every job)
 *      +----------------------+  transient error, 429, 5xx: after a backoff, with
 *                                Range from the bytes the sink already has; 401: new token
 *
 * The sink sees every byte once and in order, whatever the retries: a server that ignores the
 * Range and sends the whole body again has the part already delivered skipped. Bytes past the
 * descriptor's size never reach the sink. The digest is checked when the body ends, so a
 * mismatch is reported by the return value, before the caller commits what it wrote.
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

enum job_state {
    JOB_WAITING = 0,
    JOB_RUNNING,
    JOB_DONE,
};

struct job {
    struct sup_remote *r;
    struct remote_host *h;
    const struct sup_remote_ref *ref;
    const char *scope;
    struct sup_remote_fetch *f;
    const char *kind;              /* "blob" or "manifest", for messages */
    struct berth_sha256 *hash;     /* f->hash or own_hash */
    struct berth_sha256 *own_hash; /* when f->hash is NULL */
    int64_t have;                  /* bytes the sink holds, offset included */
    int64_t skip;                  /* body bytes of this answer the sink already holds */
    bool answer_checked;           /* the status and range of this answer were looked at */
    char *url;
    char *auth;
    struct remote_req req;
    struct remote_xfer x;
    bool active; /* x holds a handle */
    unsigned attempt;
    bool reauthed;
    uint64_t wake_ms;
    enum job_state state;
};

/* ---- The sink ---------------------------------------------------------------------------- */

/* "bytes START-END/TOTAL": START, or -1. */
static int64_t
range_start(const char *content_range)
{
    char *end = NULL;

    if (content_range == NULL || strncmp(content_range, "bytes ", 6) != 0)
        return -1;
    long long v = strtoll(content_range + 6, &end, 10);
    return end != content_range + 6 && *end == '-' && v >= 0 ? v : -1;
}

static int
job_sink(void *data, struct remote_xfer *x, const void *buf, size_t len, struct berth_err *err)
{
    struct job *j = data;
    const struct sup_remote_desc *d = j->f->desc;

    if (!j->answer_checked) {
        j->answer_checked = true;
        j->skip = 0;
        if (x->resp.status == 206) {
            int64_t start = range_start(x->resp.content_range);
            if (start != j->req.range_from)
                return berth_err_fail(
                    err, EIO, "%s %s from %s: asked for bytes from %" PRId64 ", got range `%s`",
                    j->kind, d->digest, j->ref->host, j->req.range_from,
                    x->resp.content_range ? x->resp.content_range : "");
        } else {
            /* The whole body again: skip what the sink has. */
            j->skip = j->have;
        }
    }
    if (j->skip > 0) {
        size_t drop = (int64_t)len < j->skip ? len : (size_t)j->skip;
        j->skip -= (int64_t)drop;
        buf = (const char *)buf + drop;
        len -= drop;
        if (len == 0)
            return 0;
    }
    if ((int64_t)len > d->size - j->have)
        return berth_err_fail(
            err, EINVAL, "%s %s from %s: size mismatch, more than the %" PRId64 " bytes expected",
            j->kind, d->digest, j->ref->host, d->size);
    berth_sha256_update(j->hash, buf, len);
    if (j->f->write(j->f->write_data, buf, len, err) < 0)
        return -1;
    j->have += (int64_t)len;
    if (j->f->progress)
        j->f->progress(j->f->progress_data, j->have, d->size);
    return 0;
}

/* ---- Jobs -------------------------------------------------------------------------------- */

static void
job_release(struct job *j, CURLM *multi)
{
    if (j->active) {
        if (multi)
            curl_multi_remove_handle(multi, j->x.curl);
        sup_remote_xfer_cleanup(&j->x);
        j->active = false;
    }
    free(j->auth);
    j->auth = NULL;
}

/* The body is complete: check size and digest. */
static int
job_verify(struct job *j, struct berth_err *err)
{
    const struct sup_remote_desc *d = j->f->desc;
    char hex[BERTH_SHA256_HEX_LEN + 1];
    const char *want = NULL;

    if (j->have != d->size)
        return berth_err_fail(err, EINVAL,
                              "%s %s from %s: size mismatch, got %" PRId64 " of %" PRId64 " bytes",
                              j->kind, d->digest, j->ref->host, j->have, d->size);
    berth_sha256_final(j->hash, hex);
    berth_digest_parse(d->digest, &want, NULL);
    if (strcmp(hex, want) != 0)
        return berth_err_fail(err, EINVAL, "%s %s from %s: digest mismatch, got sha256:%s", j->kind,
                              d->digest, j->ref->host, hex);
    j->state = JOB_DONE;
    j->f->done = true;
    return 0;
}

static int
job_start(struct job *j, CURLM *multi, struct berth_err *err)
{
    if (sup_remote_auth_header(j->r, j->h, j->scope, &j->auth, err) < 0)
        return -1;
    memset(&j->req, 0, sizeof(j->req));
    j->req.host = j->h;
    j->req.method = "GET";
    j->req.url = j->url;
    j->req.accept = strcmp(j->kind, "manifest") == 0 ? SUP_REMOTE_MANIFEST_ACCEPT : NULL;
    j->req.authorization = j->auth;
    j->req.range_from = j->have;
    j->req.sink = job_sink;
    j->req.sink_data = j;
    j->req.in_multi = true;
    j->req.follow_redirects = true;
    j->answer_checked = false;
    if (j->have > 0)
        berth_debug("remote: %s %s: resuming at %" PRId64 " of %" PRId64, j->kind,
                    j->f->desc->digest, j->have, j->f->desc->size);
    if (sup_remote_xfer_init(j->r, &j->x, &j->req, err) < 0)
        return -1;
    j->active = true;
    curl_easy_setopt(j->x.curl, CURLOPT_PRIVATE, j);
    if (curl_multi_add_handle(multi, j->x.curl) != CURLM_OK)
        return berth_err_fail(err, EIO, "add a transfer to curl multi");
    j->state = JOB_RUNNING;
    return 0;
}

/* A transfer of j ended with code: 0 when j is done, 1 when it goes again later, -1 on
 * failure. */
static int
job_finish(struct job *j, CURLM *multi, CURLcode code, struct berth_err *err)
{
    unsigned delay = 0;
    int rc = -1;

    j->x.code = code;
    j->attempt++;
    switch (sup_remote_xfer_outcome(j->r, &j->x, j->attempt, !j->reauthed, &delay, err)) {
    case REMOTE_DONE:
        if (j->x.resp.status == 200 || j->x.resp.status == 206) {
            rc = job_verify(j, err);
        } else if (j->x.resp.status == 404) {
            rc = berth_err_fail(err, ENOENT, "%s %s not found in %s/%s", j->kind,
                                j->f->desc->digest, j->ref->host, j->ref->repository);
        } else {
            rc = sup_remote_status_error(&j->x, err);
            if (j->x.resp.status == 401) {
                cleanup_free char *who = sup_remote_auth_describe(j->r, j->h);
                berth_err_wrap(err, "authentication to `%s` failed with %s", j->h->name, who);
            }
        }
        break;
    case REMOTE_RETRY:
        j->state = JOB_WAITING;
        j->wake_ms = sup_remote_now_ms() + delay;
        rc = 1;
        break;
    case REMOTE_REAUTH: {
        cleanup_err struct berth_err why = BERTH_ERR_INIT;
        j->reauthed = true;
        j->attempt--;
        if (sup_remote_auth_challenged(j->r, j->h, j->scope, j->x.resp.www_authenticate,
                                       j->auth != NULL, &why) < 0) {
            sup_remote_status_error(&j->x, err);
            rc = berth_err_fail(err, EACCES, "%s: %s", err->msg, why.msg);
            break;
        }
        j->state = JOB_WAITING;
        j->wake_ms = 0;
        rc = 1;
        break;
    }
    case REMOTE_FAILED: rc = -1; break;
    }
    job_release(j, multi);
    return rc;
}

static int
job_init(struct job *j, struct sup_remote *r, struct remote_host *h,
         const struct sup_remote_ref *ref, const char *scope, struct sup_remote_fetch *f,
         struct berth_err *err)
{
    const struct sup_remote_desc *d = f->desc;
    const char *hex = NULL;

    memset(j, 0, sizeof(*j));
    j->r = r;
    j->h = h;
    j->ref = ref;
    j->scope = scope;
    j->f = f;
    f->done = false;
    if (d == NULL || berth_digest_parse(d->digest, &hex, err) < 0)
        return d ? -1 : berth_err_fail(err, EINVAL, "no descriptor");
    j->kind = sup_remote_is_manifest_type(d->media_type) || sup_remote_is_index_type(d->media_type)
                  ? "manifest"
                  : "blob";
    if (d->size < 0 || f->offset < 0 || f->offset > d->size)
        return berth_err_fail(err, EINVAL,
                              "%s %s: offset %" PRId64 " outside its %" PRId64 " bytes", j->kind,
                              d->digest, f->offset, d->size);
    if (f->offset > 0 && f->hash == NULL)
        return berth_err_fail(err, EINVAL,
                              "%s %s: resuming needs the hash of the first %" PRId64 " bytes",
                              j->kind, d->digest, f->offset);
    if (f->write == NULL)
        return berth_err_fail(err, EINVAL, "%s %s: no sink", j->kind, d->digest);
    j->own_hash = f->hash ? NULL : berth_sha256_new();
    j->hash = f->hash ? f->hash : j->own_hash;
    j->have = f->offset;
    j->url = sup_remote_url(h, "%s/%ss/%s", ref->repository, j->kind, d->digest);
    if (j->have == d->size) /* nothing left to get: the caller had it all */
        return job_verify(j, err);
    return 0;
}

/* ---- The loop ---------------------------------------------------------------------------- */

/* Start what may start; the number of jobs still to finish, or -1. */
static int
start_jobs(struct sup_remote *r, struct job *jobs, size_t n, CURLM *multi, size_t *failed,
           long *timeout_ms, struct berth_err *err)
{
    size_t running = 0, pending = 0;
    uint64_t now = sup_remote_now_ms();

    *timeout_ms = 1000;
    for (size_t i = 0; i < n; i++)
        running += jobs[i].state == JOB_RUNNING;
    for (size_t i = 0; i < n; i++) {
        struct job *j = &jobs[i];
        if (j->state == JOB_DONE)
            continue;
        pending++;
        if (j->state != JOB_WAITING)
            continue;
        if (j->wake_ms > now) {
            if ((long)(j->wake_ms - now) < *timeout_ms)
                *timeout_ms = (long)(j->wake_ms - now);
            continue;
        }
        if (running >= r->max_parallel)
            continue;
        if (job_start(j, multi, err) < 0) {
            *failed = i;
            return -1;
        }
        running++;
    }
    return (int)pending;
}

static int
run_jobs(struct sup_remote *r, struct job *jobs, size_t n, CURLM *multi, size_t *failed,
         struct berth_err *err)
{
    for (;;) {
        long timeout_ms = 0;
        int still = 0, left = 0;
        CURLMsg *msg;

        int pending = start_jobs(r, jobs, n, multi, failed, &timeout_ms, err);
        if (pending <= 0)
            return pending;
        if (curl_multi_perform(multi, &still) != CURLM_OK)
            return berth_err_fail(err, EIO, "curl multi failed");
        bool finished = false;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            struct job *j = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            if (job_finish(j, multi, msg->data.result, err) < 0) {
                *failed = (size_t)(j - jobs);
                return -1;
            }
            finished = true;
        }
        /* A job ended: start the next ones (or return) now rather than after a poll, which
         * with nothing in flight would sleep its whole timeout. */
        if (finished)
            continue;
        if (curl_multi_poll(multi, NULL, 0, (int)timeout_ms, NULL) != CURLM_OK)
            return berth_err_fail(err, EIO, "curl multi poll failed");
    }
}

int
sup_remote_fetch_all(struct sup_remote *r, const struct sup_remote_ref *ref,
                     struct sup_remote_fetch *f, size_t n, struct berth_err *err)
{
    struct remote_host *h = NULL;
    size_t failed = n;
    int rc = 0;

    for (size_t i = 0; i < n; i++)
        f[i].done = false;
    if (n == 0)
        return 0;
    if (sup_remote_host_get(r, ref->host, &h, err) < 0)
        return -1;

    cleanup_free char *scope = sup_remote_scope(ref->repository, false);
    cleanup_free struct job *jobs = xzalloc(n * sizeof(*jobs));
    if (sup_remote_curl_ready(r, err) < 0)
        return -1;
    CURLM *multi = curl_multi_init();
    if (multi == NULL)
        return berth_err_fail(err, ENOMEM, "create curl multi");
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);

    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = job_init(&jobs[i], r, h, ref, scope, &f[i], err);
        if (rc < 0)
            failed = i;
    }
    if (rc == 0)
        rc = run_jobs(r, jobs, n, multi, &failed, err);

    for (size_t i = 0; i < n; i++) {
        job_release(&jobs[i], multi);
        free(jobs[i].url);
        berth_sha256_free(jobs[i].own_hash);
    }
    curl_multi_cleanup(multi);
    if (rc < 0 && failed < n && f[failed].desc &&
        (err->msg == NULL || strstr(err->msg, f[failed].desc->digest) == NULL))
        berth_err_wrap(err, "fetch %s", f[failed].desc->digest);
    return rc < 0 ? -1 : 0;
}

int
sup_remote_fetch(struct sup_remote *r, const struct sup_remote_ref *ref, struct sup_remote_fetch *f,
                 struct berth_err *err)
{
    return sup_remote_fetch_all(r, ref, f, 1, err);
}

/* ---- Into memory ------------------------------------------------------------------------- */

struct membuf {
    char *buf;
    size_t len;
};

static int
mem_write(void *data, const void *buf, size_t len, struct berth_err *err)
{
    struct membuf *m = data;

    memcpy(m->buf + m->len, buf, len); /* the sink never passes the descriptor's size */
    m->len += len;
    return 0;
}

int
sup_remote_fetch_buf(struct sup_remote *r, const struct sup_remote_ref *ref,
                     const struct sup_remote_desc *desc, size_t max, char **buf, size_t *len,
                     struct berth_err *err)
{
    if (desc->size < 0 || (uint64_t)desc->size > max)
        return berth_err_fail(err, EFBIG, "%s of %" PRId64 " bytes is over the %zu byte limit",
                              desc->digest, desc->size, max);

    struct membuf m = {.buf = xmalloc((size_t)desc->size + 1)};
    struct sup_remote_fetch f = {.desc = desc, .write = mem_write, .write_data = &m};
    if (sup_remote_fetch(r, ref, &f, err) < 0) {
        free(m.buf);
        return -1;
    }
    m.buf[m.len] = '\0';
    *buf = m.buf;
    *len = m.len;
    return 0;
}
