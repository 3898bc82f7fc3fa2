/* SPDX-License-Identifier: Apache-2.0
 *
 * The registry client: resolve, fetch and push images over the OCI distribution API
 * (Docker Registry HTTP API v2), on libcurl with OpenSSL.
 *
 *   sup_remote_new ─┬─ sup_remote_resolve         tag or digest → descriptor (HEAD, GET)
 *                   ├─ sup_remote_fetch_buf       a manifest or config into memory, verified
 *                   ├─ sup_remote_fetch[_all]     blobs into sinks, verified, resumable,
 *                   │                             several at once over one curl multi
 *                   ├─ sup_remote_blob_stat, sup_remote_push_blob, sup_remote_push_manifest
 *                   └─ sup_remote_free
 *
 * Transport (http.c): HTTP/2 over TLS where the registry offers it, HTTP/1.1 otherwise;
 * proxies from the environment (http_proxy, https_proxy, no_proxy), except for loopback
 * hosts, which are always reached directly. Plain http is only ever used for loopback hosts
 * (127.0.0.0/8, ::1, localhost) and hosts named in insecure_registries: those are tried over
 * https first and fall back to http when the server does not speak TLS; with plain_http they
 * get http straight away, and any other host is then refused before a connection is made.
 * Hosts listed as insecure also get https without certificate checks, as dockerd does.
 * Transient failures (connection errors, 429, 5xx) are retried with exponential backoff;
 * downloads resume where they stopped with a Range request.
 *
 * Authentication (auth.c): anonymous, basic, or a bearer token fetched from the realm the
 * registry names in its WWW-Authenticate challenge, for scope repository:NAME:pull (and push
 * when pushing), cached per host and scope until it expires. Credentials come from a docker
 * config.json ("auths": {"HOST": {"auth": base64(user:pass)}} or username/password fields).
 *
 * A client is thread-safe: one per daemon, shared by concurrent pulls. Every call takes the
 * image reference it works on (host and repository; tag or digest where it matters).
 */
#ifndef BERTH_SUPERVISOR_REMOTE_REMOTE_H
#define BERTH_SUPERVISOR_REMOTE_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "supervisor/remote/manifest.h"

struct berth_err;
struct berth_sha256;
struct sup_remote;

/* ---- References -------------------------------------------------------------------------- */

/* An image reference split for the registry API (ref.c, over common/reference.h). */
struct sup_remote_ref {
    char *host;       /* "registry.example.com:5000"; "docker.io" for Docker Hub */
    char *repository; /* "library/busybox" */
    char *tag;        /* NULL when only a digest was given */
    char *digest;     /* "sha256:..." or NULL */
};

/* Parse "[HOST[:PORT]/]PATH[:TAG][@DIGEST]" the way docker does (berth_ref_parse): the first
 * component is a host when it looks like one; otherwise the host is docker.io, where a
 * one-component path gets "library/". No tag and no digest means tag "latest". EINVAL naming
 * the bad part otherwise; ENOTSUP for a digest that is not sha256. Clear with
 * sup_remote_ref_clear. */
int sup_remote_ref_parse(const char *s, struct sup_remote_ref *ref, struct berth_err *err);
void sup_remote_ref_clear(struct sup_remote_ref *ref);
/* HOST/REPOSITORY[:TAG][@DIGEST], heap. */
char *sup_remote_ref_format(const struct sup_remote_ref *ref);

/* ---- The client -------------------------------------------------------------------------- */

struct sup_remote_options {
    /* docker config.json with credentials; NULL for $DOCKER_CONFIG/config.json, else
     * ~/.docker/config.json (a missing default file means anonymous; a missing named file is
     * an error). */
    const char *auth_file;
    /* Credentials given with one call (a request's RegistryAuth): used for auth_host instead
     * of any file (auth_file is then not read). NULL username: none. */
    const char *auth_host;
    const char *username;
    const char *password;
    /* CA certificates (PEM) to check registries with, instead of the system's; NULL: system. */
    const char *ca_file;
    /* Hosts that may use plain http and unchecked TLS: "host", "host:port" or an address range
     * "10.0.0.0/8". */
    const char *const *insecure_registries;
    size_t n_insecure_registries;
    /* Use http rather than https (only for loopback and insecure hosts, see above). */
    bool plain_http;
    /* Attempts per request before giving up on transient errors (0: 5) and the first backoff
     * delay, which doubles each time (0: 200 ms; at most 10 s a wait). */
    unsigned max_attempts;
    unsigned retry_delay_ms;
    /* Blobs downloaded at once by sup_remote_fetch_all (0: 4). */
    unsigned max_parallel;
    /* User-Agent; NULL: "berth/VERSION". */
    const char *user_agent;
};

/* Create a client. Reads the credentials file now: a file that exists but does not parse is
 * EINVAL naming it. opts is copied. */
int sup_remote_new(const struct sup_remote_options *opts, struct sup_remote **out,
                   struct berth_err *err);
void sup_remote_free(struct sup_remote *r);

static inline void
sup_remote_freep(struct sup_remote **r)
{
    sup_remote_free(*r);
}
#define cleanup_remote __attribute__((cleanup(sup_remote_freep)))

/* ---- Resolving --------------------------------------------------------------------------- */

/* What ref's tag (or digest) names on its registry: media type, digest and size of the
 * manifest or index, from a HEAD request, or a GET when the registry's answer lacks the digest,
 * type or length (then the digest is computed from the body). When ref has a digest the
 * result has that digest, and a registry that reports another one is an error. A schema 1
 * manifest is ENOTSUP. ENOENT: "manifest `tag` not found in HOST/REPO". out->platform is NULL;
 * clear out with sup_remote_desc_clear. */
int sup_remote_resolve(struct sup_remote *r, const struct sup_remote_ref *ref,
                       struct sup_remote_desc *out, struct berth_err *err);

/* ---- Fetching ---------------------------------------------------------------------------- */

/* Where fetched bytes go: called with the body in order, piece by piece. A negative return
 * (with err set) stops the download and is what sup_remote_fetch* returns. */
typedef int (*sup_remote_write_fn)(void *data, const void *buf, size_t len, struct berth_err *err);
/* Progress of one download: bytes held (with a resume offset) out of the descriptor's size. */
typedef void (*sup_remote_progress_fn)(void *data, int64_t done, int64_t total);

struct sup_remote_fetch {
    /* What to get (borrowed). Manifest and index types are fetched from /manifests/, anything
     * else from /blobs/. */
    const struct sup_remote_desc *desc;
    /* Resume: the caller already holds the first `offset` bytes, and `hash` (borrowed) has been
     * fed with exactly those; the rest is requested with Range. offset 0 needs no hash. The
     * fetch feeds and finishes hash; the caller frees it. */
    int64_t offset;
    struct berth_sha256 *hash;
    sup_remote_write_fn write;
    void *write_data;
    sup_remote_progress_fn progress; /* may be NULL */
    void *progress_data;
    /* Set on return: the whole content arrived and matched desc's size and digest. */
    bool done;
};

/* Download f->desc from ref's repository into f->write. Every byte is hashed on its way to the
 * sink; a body longer than desc->size is cut off before the excess reaches the sink, and a
 * body whose size or digest differs is EINVAL ("blob sha256:... from HOST: digest mismatch,
 * got sha256:..."), reported by the return value. The sink has then seen bytes that must not
 * be used: the caller commits only when this returns 0 (f->done). Transient failures are
 * retried, resuming after the bytes already delivered. ENOENT when the registry lacks it. */
int sup_remote_fetch(struct sup_remote *r, const struct sup_remote_ref *ref,
                     struct sup_remote_fetch *f, struct berth_err *err);

/* Several downloads at once (at most max_parallel in flight, multiplexed over HTTP/2 where
 * the registry offers it), each as sup_remote_fetch. The first failure stops the others and is
 * returned, wrapped with the failed blob's digest; f[i].done tells which completed and were
 * verified. */
int sup_remote_fetch_all(struct sup_remote *r, const struct sup_remote_ref *ref,
                         struct sup_remote_fetch *f, size_t n, struct berth_err *err);

/* Download desc into a new buffer (*buf, NUL-terminated for convenience, *len bytes; caller
 * frees), verified as sup_remote_fetch. EFBIG when desc->size exceeds max. */
int sup_remote_fetch_buf(struct sup_remote *r, const struct sup_remote_ref *ref,
                         const struct sup_remote_desc *desc, size_t max, char **buf, size_t *len,
                         struct berth_err *err);

/* ---- Pushing ----------------------------------------------------------------------------- */

/* Whether ref's repository has blob `digest`: 1 (and out filled: size, media type
 * "application/octet-stream" unless the registry says otherwise), 0 when it has not, -1 on
 * error. out may be NULL. */
int sup_remote_blob_stat(struct sup_remote *r, const struct sup_remote_ref *ref, const char *digest,
                         struct sup_remote_desc *out, struct berth_err *err);

/* Reads len bytes at off of the content being pushed into buf; returns the count (0 only at the
 * end) or -1 with err set. Called again from the start when an upload is retried. */
typedef ssize_t (*sup_remote_read_fn)(void *data, void *buf, size_t len, int64_t off,
                                      struct berth_err *err);

enum sup_remote_push_result {
    SUP_REMOTE_PUSH_UPLOADED = 1,
    SUP_REMOTE_PUSH_EXISTS,  /* the repository had it */
    SUP_REMOTE_PUSH_MOUNTED, /* linked from mount_from on the same registry */
};

struct sup_remote_push {
    const struct sup_remote_desc *desc; /* borrowed: digest and size of the content */
    /* Another repository of the same registry that has the blob (cross-repository mount), or
     * NULL. */
    const char *mount_from;
    sup_remote_read_fn read;
    void *read_data;
    sup_remote_progress_fn progress; /* may be NULL */
    void *progress_data;
    enum sup_remote_push_result result; /* set on success */
};

/* Put a blob into ref's repository unless it is there: a HEAD first, then a mount from
 * p->mount_from when given, else an upload (POST, then one PUT with the whole body and
 * ?digest=). The registry checks the digest; a refusal is EINVAL. Retried as a whole on
 * transient failures. */
int sup_remote_push_blob(struct sup_remote *r, const struct sup_remote_ref *ref,
                         struct sup_remote_push *p, struct berth_err *err);

/* PUT a manifest or index (len bytes at buf, of media_type) under ref's tag, or under its own
 * digest when ref has no tag. The blobs and manifests it refers to must be pushed first.
 * *digest_out (may be NULL) gets "sha256:..." of buf (heap); a registry that reports another
 * digest is EINVAL. */
int sup_remote_push_manifest(struct sup_remote *r, const struct sup_remote_ref *ref,
                             const char *media_type, const void *buf, size_t len, char **digest_out,
                             struct berth_err *err);

#endif
